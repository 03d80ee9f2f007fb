// Amazon States Language shapes and checks shared by the template extractor and the local runner.
//
// aws-local-stepfunctions interprets JSONPath definitions only. Given a JSONata state it does not
// fail: it ignores `Arguments`, `Output`, `Condition`, `Assign`… and runs something else than AWS
// would. Every feature it would silently skip is refused here, loudly, before anything runs.

export type JsonValue =
  | null
  | boolean
  | number
  | string
  | JsonValue[]
  | { [key: string]: JsonValue }

/** One state, loosely typed: the runner reads the fields it needs and passes the rest through. */
export interface AslState {
  Type: string
  [field: string]: unknown
}

export interface AslDefinition {
  StartAt: string
  States: Record<string, AslState>
  TimeoutSeconds?: number
  QueryLanguage?: string
  Comment?: string
  Version?: string
  [field: string]: unknown
}

/** Thrown for a definition the local runner cannot run faithfully. */
export class UnsupportedDefinitionError extends Error {
  readonly type = 'unsupported_state_machine_definition'
  constructor(message: string) {
    super(message)
    this.name = 'UnsupportedDefinitionError'
  }
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Checks the outer shape (StartAt + States of typed states) and returns it typed. */
export function asAslDefinition(value: unknown, what = 'state machine definition'): AslDefinition {
  if (!isObject(value) || typeof value.StartAt !== 'string' || !isObject(value.States)) {
    throw new UnsupportedDefinitionError(`${what} is not an ASL object with StartAt and States`)
  }
  for (const [name, state] of Object.entries(value.States)) {
    if (!isObject(state) || typeof state.Type !== 'string') {
      throw new UnsupportedDefinitionError(`${what}: state "${name}" has no Type`)
    }
  }
  return value as AslDefinition
}

/** The nested state machines of a Parallel (Branches) or Map (ItemProcessor / Iterator) state. */
export function childDefinitions(state: AslState): AslDefinition[] {
  const children: unknown[] = []
  if (state.Type === 'Parallel' && Array.isArray(state.Branches)) children.push(...state.Branches)
  if (state.Type === 'Map') {
    if (state.ItemProcessor !== undefined) children.push(state.ItemProcessor)
    if (state.Iterator !== undefined) children.push(state.Iterator)
  }
  return children.map((child) => asAslDefinition(child, 'nested state machine'))
}

/** Calls `visit` for every state, nested ones included; `path` reads like `States.A.Branches[0].States.B`. */
export function forEachState(
  definition: AslDefinition,
  visit: (name: string, state: AslState, path: string) => void,
  prefix = '',
): void {
  for (const [name, state] of Object.entries(definition.States)) {
    const path = `${prefix}States.${name}`
    visit(name, state, path)
    if (state.Type === 'Parallel' && Array.isArray(state.Branches)) {
      state.Branches.forEach((branch, i) => {
        forEachState(asAslDefinition(branch), visit, `${path}.Branches[${i}].`)
      })
    }
    if (state.Type === 'Map') {
      for (const key of ['ItemProcessor', 'Iterator'] as const) {
        if (state[key] !== undefined)
          forEachState(asAslDefinition(state[key]), visit, `${path}.${key}.`)
      }
    }
  }
}

/** Fields aws-local-stepfunctions 3.0.0 would ignore without a word; each changes what AWS does. */
const IGNORED_STATE_FIELDS: Record<string, string> = {
  Arguments: 'a JSONata field',
  Output: 'a JSONata field',
  Items: 'a JSONata Map field',
  Assign: 'workflow variables are not implemented by aws-local-stepfunctions',
  Credentials: 'cross-account task credentials',
  ItemReader: 'Distributed Map',
  ItemBatcher: 'Distributed Map',
  ResultWriter: 'Distributed Map',
  ToleratedFailurePercentage: 'Distributed Map',
  ToleratedFailurePercentagePath: 'Distributed Map',
  ToleratedFailureCount: 'Distributed Map',
  ToleratedFailureCountPath: 'Distributed Map',
}

/**
 * Throws UnsupportedDefinitionError when the definition (or any nested one) uses JSONata or a
 * feature the local interpreter would silently skip. All findings are reported at once.
 */
export function assertRunnableJsonPath(definition: AslDefinition): void {
  const problems: string[] = []
  const jsonata = (where: string) => `${where} is JSONata`

  const checkMachine = (machine: AslDefinition, prefix: string) => {
    if (machine.QueryLanguage !== undefined && machine.QueryLanguage !== 'JSONPath') {
      problems.push(
        jsonata(`${prefix || 'the state machine'} (QueryLanguage: "${machine.QueryLanguage}")`),
      )
    }
  }
  checkMachine(definition, '')

  forEachState(definition, (_name, state, path) => {
    if (state.QueryLanguage !== undefined && state.QueryLanguage !== 'JSONPath') {
      problems.push(jsonata(`${path} (QueryLanguage: "${String(state.QueryLanguage)}")`))
    }
    for (const [field, why] of Object.entries(IGNORED_STATE_FIELDS)) {
      if (field in state) problems.push(`${path}.${field}: ${why}`)
    }
    if (state.Type === 'Choice' && Array.isArray(state.Choices)) {
      state.Choices.forEach((rule, i) => {
        if (isObject(rule) && ('Condition' in rule || 'Assign' in rule || 'Output' in rule)) {
          problems.push(`${path}.Choices[${i}] uses Condition/Assign/Output (JSONata or variables)`)
        }
      })
    }
    if (isObject(state.ItemProcessor) && isObject(state.ItemProcessor.ProcessorConfig)) {
      if (state.ItemProcessor.ProcessorConfig.Mode === 'DISTRIBUTED') {
        problems.push(`${path}.ItemProcessor: Distributed Map`)
      }
    }
    for (const child of childDefinitions(state)) checkMachine(child, `${path} (nested machine)`)
  })

  findJsonataExpressions(definition, '$', problems)

  if (problems.length > 0) {
    throw new UnsupportedDefinitionError(
      'The local Step Functions runner (aws-local-stepfunctions) interprets JSONPath only and would ' +
        `silently ignore what follows, so it refuses this definition:\n  - ${problems.join('\n  - ')}`,
    )
  }
}

/** A `{% … %}` string is a JSONata expression whatever QueryLanguage says. */
function findJsonataExpressions(value: unknown, path: string, problems: string[]): void {
  if (typeof value === 'string') {
    const trimmed = value.trim()
    if (trimmed.startsWith('{%') && trimmed.endsWith('%}')) {
      problems.push(`${path} holds a JSONata expression ${JSON.stringify(value)}`)
    }
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => {
      findJsonataExpressions(item, `${path}[${i}]`, problems)
    })
  } else if (isObject(value)) {
    for (const [key, item] of Object.entries(value)) {
      findJsonataExpressions(item, `${path}.${key}`, problems)
    }
  }
}
