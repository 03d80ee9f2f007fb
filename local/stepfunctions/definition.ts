// Turns the state machine in a synthesized CloudFormation template back into the plain ASL JSON that
// Step Functions would receive, so the local runner executes exactly what CDK deploys.
//
// CDK writes DefinitionString as `Fn::Join` of JSON fragments and tokens (`Fn::GetAtt [Fn, Arn]`,
// `Ref: AWS::Partition`, …). Each token is resolved here to a deterministic local value: a Lambda
// function becomes `arn:aws:lambda:us-east-1:123456789012:function:<LogicalId>`, and the ARN → logical
// id map is returned so the caller can bind each task to the handler module that Lambda deploys.
// Anything that cannot be resolved faithfully is refused with the token in the message.

import {
  type AslDefinition,
  asAslDefinition,
  assertRunnableJsonPath,
  isObject,
  UnsupportedDefinitionError,
} from './asl.js'
import { withoutDistributedMaps } from './distributed-map.js'

export interface ExtractOptions {
  /** Logical id of the AWS::StepFunctions::StateMachine; required when the template has several. */
  logicalId?: string
  /** Values for the pseudo parameters; defaults us-east-1 / 123456789012 / aws. */
  region?: string
  accountId?: string
  partition?: string
  /** Value of `Ref: AWS::StackName`; defaults to the stack's name when given an assembly, else 'local'. */
  stackName?: string
}

export interface LambdaFunctionInfo {
  logicalId: string
  /** The fake function name (the logical id) the ARN ends with. */
  functionName: string
  /** `Timeout` of the AWS::Lambda::Function when it is a literal (CloudFormation's default is 3). */
  timeoutSeconds?: number
  memorySize?: number
  /** `ReservedConcurrentExecutions` when literal. */
  reservedConcurrency?: number
  /** `Handler` when literal (e.g. `index.handler`). */
  handler?: string
  /** Environment variables that resolve locally (a Ref to a secret, say, is left out). */
  environment?: Record<string, string>
}

export interface ExtractedStateMachine {
  logicalId: string
  stateMachineName: string
  /** `arn:aws:states:<region>:<account>:stateMachine:<StateMachineName or logical id>` */
  stateMachineArn: string
  /** The ASL definition, every token resolved. */
  definition: AslDefinition
  /** Fake Lambda ARN → logical id of the AWS::Lambda::Function, for every function the definition uses. */
  lambdaArns: Record<string, string>
  /** Same keys as lambdaArns, with what the template says about each function. */
  lambdaFunctions: Record<string, LambdaFunctionInfo>
}

interface CfnResource {
  Type: string
  Properties?: Record<string, unknown>
}

interface Context {
  resources: Record<string, CfnResource>
  parameters: Record<string, unknown>
  region: string
  accountId: string
  partition: string
  stackName: string
  /** Lambda functions met while resolving, by logical id. */
  lambdas: Set<string>
}

export const DEFAULT_REGION = 'us-east-1'
export const DEFAULT_ACCOUNT_ID = '123456789012'

/** The deterministic ARN the local runner uses for a Lambda function of the template. */
export function fakeLambdaArn(
  logicalId: string,
  { region = DEFAULT_REGION, accountId = DEFAULT_ACCOUNT_ID, partition = 'aws' } = {},
): string {
  return `arn:${partition}:lambda:${region}:${accountId}:function:${logicalId}`
}

/**
 * Finds the AWS::StepFunctions::StateMachine in `template` and returns its definition as plain ASL.
 *
 * `template` is a CloudFormation template object (`Template.fromStack(stack).toJSON()`, or a parsed
 * `cdk.out/<Stack>.template.json`) or a cloud assembly (`app.synth()`), whose stacks are searched.
 * Throws UnsupportedDefinitionError on JSONata, on an unresolvable token, or when the state machine
 * cannot be chosen unambiguously.
 */
export function extractStateMachine(
  template: unknown,
  options: ExtractOptions = {},
): ExtractedStateMachine {
  const candidates = templatesOf(template, options.stackName)
  const found: { stackName: string; template: Record<string, unknown>; logicalId: string }[] = []
  for (const candidate of candidates) {
    const resources = candidate.template.Resources
    if (!isObject(resources)) continue
    for (const [logicalId, resource] of Object.entries(resources)) {
      if (isObject(resource) && resource.Type === 'AWS::StepFunctions::StateMachine') {
        found.push({ ...candidate, logicalId })
      }
    }
  }
  const wanted = options.logicalId
  const matches = wanted === undefined ? found : found.filter((f) => f.logicalId === wanted)
  const ids = found.map((f) => f.logicalId).join(', ') || 'none'
  if (matches.length === 0) {
    throw new UnsupportedDefinitionError(
      wanted === undefined
        ? 'The template has no AWS::StepFunctions::StateMachine'
        : `No AWS::StepFunctions::StateMachine with logical id "${wanted}" (found: ${ids})`,
    )
  }
  if (matches.length > 1) {
    throw new UnsupportedDefinitionError(
      `The template has several state machines (${ids}); pass the logical id of the one to run`,
    )
  }
  const match = matches[0] as (typeof matches)[number]

  const ctx: Context = {
    resources: match.template.Resources as Record<string, CfnResource>,
    parameters: isObject(match.template.Parameters) ? match.template.Parameters : {},
    region: options.region ?? DEFAULT_REGION,
    accountId: options.accountId ?? DEFAULT_ACCOUNT_ID,
    partition: options.partition ?? 'aws',
    stackName: match.stackName,
    lambdas: new Set(),
  }
  const resource = ctx.resources[match.logicalId] as CfnResource
  const props = resource.Properties ?? {}
  const where = `state machine ${match.logicalId}`

  let definitionText: string
  if (props.DefinitionString !== undefined) {
    definitionText = asString(
      resolve(props.DefinitionString, ctx, where),
      `${where} DefinitionString`,
    )
  } else if (props.Definition !== undefined) {
    definitionText = JSON.stringify(resolveDeep(props.Definition, ctx, where))
  } else {
    throw new UnsupportedDefinitionError(
      `${where} has neither DefinitionString nor Definition (DefinitionS3Location is not supported locally)`,
    )
  }
  if (isObject(props.DefinitionSubstitutions)) {
    for (const [key, value] of Object.entries(props.DefinitionSubstitutions)) {
      const resolved = resolve(value, ctx, `${where} DefinitionSubstitutions.${key}`)
      const text = typeof resolved === 'string' ? resolved : JSON.stringify(resolved)
      definitionText = definitionText.split(`\${${key}}`).join(text)
    }
  }

  let parsed: unknown
  try {
    parsed = JSON.parse(definitionText)
  } catch (error) {
    throw new UnsupportedDefinitionError(
      `${where}: the resolved definition is not JSON (${(error as Error).message})`,
    )
  }
  const definition = asAslDefinition(parsed, where)
  assertRunnableJsonPath(withoutDistributedMaps(definition))

  const stateMachineName =
    props.StateMachineName === undefined
      ? match.logicalId
      : asString(resolve(props.StateMachineName, ctx, where), `${where} StateMachineName`)
  const lambdaArns: Record<string, string> = {}
  const lambdaFunctions: Record<string, LambdaFunctionInfo> = {}
  for (const logicalId of [...ctx.lambdas].sort()) {
    const arn = fakeLambdaArn(logicalId, ctx)
    lambdaArns[arn] = logicalId
    const fnProps = ctx.resources[logicalId]?.Properties ?? {}
    lambdaFunctions[arn] = {
      logicalId,
      functionName: logicalId,
      ...(typeof fnProps.Timeout === 'number' ? { timeoutSeconds: fnProps.Timeout } : {}),
      ...(typeof fnProps.MemorySize === 'number' ? { memorySize: fnProps.MemorySize } : {}),
      ...(typeof fnProps.ReservedConcurrentExecutions === 'number'
        ? { reservedConcurrency: fnProps.ReservedConcurrentExecutions }
        : {}),
      ...(typeof fnProps.Handler === 'string' ? { handler: fnProps.Handler } : {}),
      ...environmentOf(fnProps, ctx),
    }
  }
  return {
    logicalId: match.logicalId,
    stateMachineName,
    stateMachineArn: `arn:${ctx.partition}:states:${ctx.region}:${ctx.accountId}:stateMachine:${stateMachineName}`,
    definition,
    lambdaArns,
    lambdaFunctions,
  }
}

/** The function's environment variables that resolve locally; the others are left out. */
function environmentOf(
  props: Record<string, unknown>,
  ctx: Context,
): { environment?: Record<string, string> } {
  const variables = isObject(props.Environment) ? props.Environment.Variables : undefined
  if (!isObject(variables)) return {}
  const environment: Record<string, string> = {}
  for (const [name, value] of Object.entries(variables)) {
    try {
      // Resolving must not mark functions as used by the definition.
      const resolved = resolve(value, { ...ctx, lambdas: new Set() }, `environment ${name}`)
      if (typeof resolved === 'string' || typeof resolved === 'number') {
        environment[name] = String(resolved)
      }
    } catch {
      // e.g. a Ref to a table or secret: no local value to give
    }
  }
  return { environment }
}

/** A template, or every stack template of a cloud assembly (anything with `stacks[].template`). */
function templatesOf(
  input: unknown,
  stackName: string | undefined,
): { stackName: string; template: Record<string, unknown> }[] {
  if (isObject(input) && isObject(input.Resources)) {
    return [{ stackName: stackName ?? 'local', template: input }]
  }
  if (isObject(input) && Array.isArray(input.stacks)) {
    return input.stacks.flatMap((stack: unknown) => {
      if (!isObject(stack) || !isObject(stack.template)) return []
      const name = typeof stack.stackName === 'string' ? stack.stackName : 'local'
      return [{ stackName: stackName ?? name, template: stack.template }]
    })
  }
  throw new UnsupportedDefinitionError(
    'Expected a CloudFormation template (with Resources) or a cloud assembly (with stacks)',
  )
}

function asString(value: unknown, what: string): string {
  if (typeof value === 'string') return value
  throw new UnsupportedDefinitionError(`${what} resolved to ${JSON.stringify(value)}, not a string`)
}

function unresolvable(token: unknown, where: string, why: string): never {
  throw new UnsupportedDefinitionError(
    `Cannot resolve ${JSON.stringify(token)} in ${where}: ${why}`,
  )
}

/** Resolves every intrinsic inside a JSON value (for the `Definition` object form). */
function resolveDeep(value: unknown, ctx: Context, where: string): unknown {
  if (Array.isArray(value)) return value.map((item) => resolveDeep(item, ctx, where))
  if (!isObject(value)) return value
  if (isIntrinsic(value)) return resolve(value, ctx, where)
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [key, resolveDeep(item, ctx, where)]),
  )
}

function isIntrinsic(value: Record<string, unknown>): boolean {
  const keys = Object.keys(value)
  return keys.length === 1 && (keys[0] === 'Ref' || (keys[0] ?? '').startsWith('Fn::'))
}

const PSEUDO: Record<string, (ctx: Context) => string> = {
  'AWS::Region': (ctx) => ctx.region,
  'AWS::AccountId': (ctx) => ctx.accountId,
  'AWS::Partition': (ctx) => ctx.partition,
  'AWS::URLSuffix': (ctx) => (ctx.partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com'),
  'AWS::StackName': (ctx) => ctx.stackName,
  'AWS::StackId': (ctx) =>
    `arn:${ctx.partition}:cloudformation:${ctx.region}:${ctx.accountId}:stack/${ctx.stackName}/00000000-0000-0000-0000-000000000000`,
}

/** Resolves one value: a literal, or a CloudFormation intrinsic function. */
function resolve(value: unknown, ctx: Context, where: string): unknown {
  if (!isObject(value)) {
    if (Array.isArray(value)) return value.map((item) => resolve(item, ctx, where))
    return value
  }
  if (!isIntrinsic(value)) return value
  const [fn, arg] = Object.entries(value)[0] as [string, unknown]
  switch (fn) {
    case 'Ref':
      if (typeof arg !== 'string') return unresolvable(value, where, 'Ref takes a name')
      return ref(arg, ctx, where)
    case 'Fn::GetAtt': {
      const [id, attr] =
        typeof arg === 'string' ? splitOnce(arg, '.') : Array.isArray(arg) ? arg : []
      if (typeof id !== 'string' || typeof attr !== 'string') {
        return unresolvable(value, where, 'Fn::GetAtt takes [LogicalId, Attribute]')
      }
      return getAtt(id, attr, value, ctx, where)
    }
    case 'Fn::Join': {
      if (!Array.isArray(arg) || typeof arg[0] !== 'string' || !Array.isArray(arg[1])) {
        return unresolvable(value, where, 'Fn::Join takes [delimiter, [parts]]')
      }
      const delimiter = arg[0]
      return resolveList(arg[1], ctx, where, value)
        .map((part) => scalar(part, value, where))
        .join(delimiter)
    }
    case 'Fn::Sub':
      return sub(arg, value, ctx, where)
    case 'Fn::Select': {
      if (!Array.isArray(arg) || arg.length !== 2)
        return unresolvable(value, where, 'Fn::Select takes [index, list]')
      const index = Number(resolve(arg[0], ctx, where))
      const list = resolveList(arg[1], ctx, where, value)
      if (!Number.isInteger(index) || index < 0 || index >= list.length) {
        return unresolvable(value, where, 'index out of range')
      }
      return list[index]
    }
    case 'Fn::Split': {
      if (!Array.isArray(arg) || typeof arg[0] !== 'string')
        return unresolvable(value, where, 'Fn::Split takes [delimiter, string]')
      return asString(resolve(arg[1], ctx, where), where).split(arg[0])
    }
    default:
      return unresolvable(value, where, `${fn} cannot be evaluated locally`)
  }
}

function resolveList(list: unknown, ctx: Context, where: string, token: unknown): unknown[] {
  const resolved = resolve(list, ctx, where)
  if (!Array.isArray(resolved)) return unresolvable(token, where, 'expected a list')
  return resolved
}

function scalar(value: unknown, token: unknown, where: string): string {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    return String(value)
  }
  return unresolvable(token, where, `a part resolved to ${JSON.stringify(value)}`)
}

function splitOnce(text: string, separator: string): [string, string] {
  const at = text.indexOf(separator)
  return at < 0 ? [text, ''] : [text.slice(0, at), text.slice(at + separator.length)]
}

function ref(name: string, ctx: Context, where: string): unknown {
  const pseudo = PSEUDO[name]
  if (pseudo) return pseudo(ctx)
  const parameter = ctx.parameters[name]
  if (isObject(parameter)) {
    if ('Default' in parameter) return parameter.Default
    return unresolvable({ Ref: name }, where, 'the parameter has no Default')
  }
  const resource = ctx.resources[name]
  if (!resource) return unresolvable({ Ref: name }, where, 'no such resource or parameter')
  switch (resource.Type) {
    case 'AWS::Lambda::Function':
      // Ref of a function is its name; the runner matches handlers by function name as AWS does.
      ctx.lambdas.add(name)
      return name
    case 'AWS::Lambda::Alias':
    case 'AWS::Lambda::Version':
      return qualifiedFunctionArn(name, resource, ctx, where)
    case 'AWS::StepFunctions::StateMachine': {
      // Its ARN ends in its StateMachineName when it has one (as the extracted machine's does).
      const named = (resource.Properties as { StateMachineName?: unknown } | undefined)
        ?.StateMachineName
      const machineName =
        named === undefined
          ? name
          : asString(resolve(named, ctx, where), `${name} StateMachineName`)
      return `arn:${ctx.partition}:states:${ctx.region}:${ctx.accountId}:stateMachine:${machineName}`
    }
    default:
      return unresolvable({ Ref: name }, where, `a ${resource.Type} has no local stand-in`)
  }
}

function getAtt(id: string, attr: string, token: unknown, ctx: Context, where: string): string {
  const resource = ctx.resources[id]
  if (!resource) return unresolvable(token, where, 'no such resource')
  if (resource.Type === 'AWS::Lambda::Function' && attr === 'Arn') {
    ctx.lambdas.add(id)
    return fakeLambdaArn(id, ctx)
  }
  if (resource.Type === 'AWS::Lambda::Alias' && attr === 'AliasArn') {
    return qualifiedFunctionArn(id, resource, ctx, where)
  }
  if (resource.Type === 'AWS::Lambda::Version' && attr === 'Version') return '1'
  return unresolvable(token, where, `${resource.Type}.${attr} has no local stand-in`)
}

/** ARN of an alias (`…:function:Fn:live`) or version (`…:function:Fn:1`) of a template function. */
function qualifiedFunctionArn(
  id: string,
  resource: CfnResource,
  ctx: Context,
  where: string,
): string {
  const fnName = asString(
    resolve(resource.Properties?.FunctionName, ctx, where),
    `${id} FunctionName`,
  )
  const fnId = fnName.includes(':function:') ? (fnName.split(':function:')[1] ?? '') : fnName
  if (!ctx.resources[fnId]) {
    return unresolvable({ Ref: id }, where, `its function ${fnName} is not in this template`)
  }
  ctx.lambdas.add(fnId)
  const qualifier =
    resource.Type === 'AWS::Lambda::Alias'
      ? asString(resolve(resource.Properties?.Name, ctx, where), `${id} Name`)
      : '1'
  return `${fakeLambdaArn(fnId, ctx)}:${qualifier}`
}

/** `Fn::Sub`: `${Param}`, `${Resource}`, `${Resource.Attr}`, `${AWS::Region}`, `${!Literal}`. */
function sub(arg: unknown, token: unknown, ctx: Context, where: string): string {
  const [text, variables] = typeof arg === 'string' ? [arg, {}] : Array.isArray(arg) ? arg : []
  if (typeof text !== 'string' || !isObject(variables)) {
    return unresolvable(token, where, 'Fn::Sub takes a string or [string, { variables }]')
  }
  return text.replace(/\$\{([^}]*)\}/g, (whole, name: string) => {
    if (name.startsWith('!')) return `\${${name.slice(1)}}`
    if (name in variables) return scalar(resolve(variables[name], ctx, where), token, where)
    if (PSEUDO[name] || !name.includes('.')) return scalar(ref(name, ctx, where), token, where)
    const [id, attr] = splitOnce(name, '.')
    return getAtt(id, attr, { 'Fn::Sub': whole }, ctx, where)
  })
}
