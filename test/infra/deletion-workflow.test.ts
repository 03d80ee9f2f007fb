import aslValidator from 'asl-validator'
import { App, Stack } from 'aws-cdk-lib'
import { Match, Template } from 'aws-cdk-lib/assertions'
import { Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda'
import { Secret } from 'aws-cdk-lib/aws-secretsmanager'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type DeletionState,
  STATE_KINDS,
  type StageName,
  type StageTaskEvent,
  type StateKind,
  stageOfState,
  stateName,
} from '../../functions/contract/workflow.js'
import { DELIVERY_HEALTH_KEY } from '../../functions/core/coordination.js'
import {
  DEFAULT_POLL_POLICY,
  HISTORY_EVENTS,
  stageTimeBound,
  worstCaseHistoryEvents,
} from '../../functions/core/poll.js'
import { DELETION_STAGES, STAGES, stageByName } from '../../functions/core/stages.js'
import { CoordinationTable } from '../../infra/constructs/coordination-table.js'
import { DeletionWorkflow } from '../../infra/constructs/deletion-workflow.js'
import type { AslDefinition, AslState } from '../../local/stepfunctions/asl.js'
import {
  type ExtractedStateMachine,
  extractStateMachine,
} from '../../local/stepfunctions/definition.js'
import { LocalStepFunctions } from '../../local/stepfunctions/runner.js'
import { NamedError } from '../stepfunctions/helpers.js'

let template: Template
let extracted: ExtractedStateMachine
let definition: AslDefinition

beforeAll(() => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } })
  const stack = new Stack(app, 'Test', { env: { account: '123456789012', region: 'us-east-1' } })
  new DeletionWorkflow(stack, 'Deletion', {
    seamSecret: Secret.fromSecretNameV2(stack, 'Key', 'seam/test'),
    pollPolicy: { stageTimeoutSeconds: 120 },
  })
  template = Template.fromStack(stack)
  extracted = extractStateMachine(template.toJSON())
  definition = extracted.definition
})

/** Every state name of a stage, by kind. */
const stateNames = (stage: { name: StageName }) =>
  Object.fromEntries(STATE_KINDS.map((kind) => [kind, stateName(stage.name, kind)])) as Record<
    (typeof STATE_KINDS)[number],
    string
  >

const AWAIT_KINDS: readonly string[] = ['await', 'confirmed']

const fail = (what: string): never => {
  throw new Error(`not a state of a stage: ${what}`)
}

const state = (name: string): AslState => {
  const found = definition.States[name]
  if (!found) throw new Error(`no state ${name}`)
  return found
}

describe('DeletionWorkflow', () => {
  it('is a Standard, JSONPath state machine with tracing, full logging and a whole-execution timeout', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: true }),
    })
    expect(definition.QueryLanguage ?? 'JSONPath').toBe('JSONPath')
    // Every stage loops (the synchronous client_sessions and the identity too): six wait budgets.
    expect(DELETION_STAGES).toHaveLength(6)
    expect(definition.TimeoutSeconds).toBe(
      6 *
        Math.ceil(
          stageTimeBound({ ...DEFAULT_POLL_POLICY, stageTimeoutSeconds: 120 }).totalSeconds,
        ) +
        5 * 60,
    )
    expect(definition.StartAt).toBe('Delete client sessions')
  })

  it('is valid ASL for asl-validator, paths and ARNs included', () => {
    // The validator annotates what it is given: hand it a copy.
    const result = aslValidator(structuredClone(definition), { checkPaths: true, checkArn: true })
    expect(result.errorsText('\n')).toBe('')
    expect(result.isValid).toBe(true)
  })

  it('has Delete, done?, Wait, Check and stuck states for every stage, the identity last, in table order', () => {
    for (const stage of DELETION_STAGES) {
      const names = stateNames(stage)
      expect(state(names.delete).Type).toBe('Task')
      expect(state(names.done).Type).toBe('Choice')
      expect(state(names.wait)).toMatchObject({
        Type: 'Wait',
        SecondsPath: `$.stages.${stage.name}.wait_seconds`,
        Next: names.check,
      })
      expect(state(names.check)).toMatchObject({ Type: 'Task', Next: names.done })
      expect(state(names.stuck)).toMatchObject({
        Type: 'Fail',
        Error: 'StageStuck',
        CausePath: `$.stages.${stage.name}.stuck`,
      })
    }
    // The "done" branch of each stage leads to the next stage, and the identity's to Deleted.
    const order = DELETION_STAGES.map((s) => stateNames(s))
    expect(order.at(-1)?.delete).toBe('Delete user identity')
    for (const [i, names] of order.entries()) {
      const choices = state(names.done).Choices as { Next: string; NumericEquals?: number }[]
      expect(choices[0]).toMatchObject({
        NumericEquals: 0,
        Next: order[i + 1]?.delete ?? 'Deleted',
      })
    }
    // Stages of what the identity holds go from Delete to done? (nothing found: straight on); the
    // identity's delete only marks it, so its Delete goes straight to its first wait.
    for (const stage of STAGES)
      expect(state(stateNames(stage).delete).Next).toBe(stateNames(stage).done)
    expect(state('Delete user identity').Next).toBe('Wait for user identity')
    expect(state('Check user identity').Next).toBe('User identity done?')
  })

  it('runs the stages in this order (a literal list: swapping two rows of the table fails it)', () => {
    // Follow the definition: StartAt, then each stage's `done?` → the next stage's Delete.
    const deletes: string[] = []
    for (let name: string | undefined = definition.StartAt; name && name !== 'Deleted'; ) {
      deletes.push(name)
      const stage = stageOfState(name)
      const choices = state(stateName(stage ?? fail(name), 'done')).Choices as { Next: string }[]
      name = choices[0]?.Next
    }
    expect(deletes).toEqual([
      'Delete client sessions',
      'Delete ACS credentials',
      'Delete ACS users',
      'Delete enrollment automations',
      'Delete phones',
      'Delete user identity',
    ])
  })

  it('names every state so that the status route maps it back to its stage', () => {
    for (const name of Object.keys(definition.States)) {
      expect(stageOfState(name), name).toBeDefined()
    }
    for (const stage of DELETION_STAGES) {
      // The Await states are there only with webhooks (below).
      for (const kind of STATE_KINDS.filter((k) => !AWAIT_KINDS.includes(k))) {
        expect(
          definition.States[stateName(stage.name, kind)],
          `${stage.name} ${kind}`,
        ).toBeDefined()
        expect(stageOfState(stateName(stage.name, kind))).toBe(stage.name)
      }
    }
  })

  it('refuses a poll policy that validatePollPolicy refuses, at synth', () => {
    const stack = new Stack(new App(), 'Refused')
    const seamSecret = Secret.fromSecretNameV2(stack, 'Key', 'seam/test')
    expect(
      () =>
        new DeletionWorkflow(stack, 'ZeroWait', {
          seamSecret,
          pollPolicy: { firstWaitSeconds: 0 },
        }),
    ).toThrow(/Invalid poll policy: firstWaitSeconds must be at least 1/)
    expect(
      () => new DeletionWorkflow(stack, 'Endless', { seamSecret, pollPolicy: { maxChecks: 5000 } }),
    ).toThrow(/maxChecks/)
  })

  it('ends in Deleted, which outputs the summary of every stage of the table', () => {
    expect(state('Deleted')).toEqual({
      Type: 'Pass',
      Parameters: {
        'user_identity_id.$': '$.user_identity_id',
        summary: Object.fromEntries(
          STAGES.map((stage) => [`${stage.summaryKey}.$`, `$.stages.${stage.name}.deleted`]),
        ),
      },
      End: true,
    })
  })

  it('passes the poll policy from props to every task', () => {
    const payload = (state('Check ACS credentials').Parameters as { Payload: object }).Payload
    expect(payload).toEqual({
      action: 'check',
      stage: 'acs_credentials',
      policy: { ...DEFAULT_POLL_POLICY, stageTimeoutSeconds: 120 },
      'state.$': '$',
      'task_entered_at.$': '$$.State.EnteredTime',
    })
  })

  it('retries transient errors with backoff and jitter, fails fast on permanent ones, and catches all', () => {
    const tasks = Object.entries(definition.States).filter(([, s]) => s.Type === 'Task')
    expect(tasks.length).toBe(2 * DELETION_STAGES.length)
    for (const [name, task] of tasks) {
      const retry = task.Retry as {
        ErrorEquals: string[]
        MaxAttempts?: number
        JitterStrategy?: string
      }[]
      const retrierFor = (error: string) => retry.find((r) => r.ErrorEquals.includes(error))
      expect(retrierFor('SeamUnauthorizedError')?.MaxAttempts, name).toBe(0)
      expect(retrierFor('InvalidStageTaskInput')?.MaxAttempts, name).toBe(0)
      expect(retrierFor('SeamThrottledError'), name).toMatchObject({ JitterStrategy: 'FULL' })
      expect(retrierFor('SeamUnavailableError'), name).toMatchObject({ JitterStrategy: 'FULL' })
      expect(retrierFor('Lambda.ServiceException'), name).toMatchObject({ JitterStrategy: 'FULL' })
      expect(retry.at(-1)?.ErrorEquals, name).toEqual(['States.ALL'])
      const catchers = task.Catch as { ErrorEquals: string[]; Next: string }[]
      expect(catchers[0]?.ErrorEquals).toEqual(['States.ALL'])
      const explain = state(catchers[0]?.Next ?? '')
      expect(explain.Type).toBe('Pass')
      expect(state(explain.Next as string)).toMatchObject({ Type: 'Fail', CausePath: '$.cause' })
      expect(task.TimeoutSeconds, name).toBeGreaterThan(0)
    }
  })

  it('deploys one Lambda per stage, the identity included, each reading the Seam secret', () => {
    template.resourceCountIs('AWS::Lambda::Function', DELETION_STAGES.length)
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      Environment: { Variables: Match.objectLike({ DELETION_STAGE: 'acs_credentials' }) },
    })
    // Each function reads the Seam key from the secret named in its environment, and may.
    const functions = template.findResources('AWS::Lambda::Function')
    for (const fn of Object.values(functions)) {
      expect(fn.Properties.Environment.Variables.SEAM_API_KEY_SECRET_NAME).toBe('seam/test')
    }
    const grants = Object.values(template.findResources('AWS::IAM::Policy')).filter((policy) =>
      JSON.stringify(policy).includes('secretsmanager:GetSecretValue'),
    )
    expect(grants).toHaveLength(DELETION_STAGES.length)
  })
})

describe('history events of a run of the definition', () => {
  const runners: LocalStepFunctions[] = []
  afterAll(() => Promise.all(runners.map((runner) => runner.close())))

  /**
   * Runs the synthesized definition with stub stage tasks: every asynchronous stage deletes one item
   * that Seam confirms at check number `checks`; `throttleOnce` fails one task once with a transient
   * Seam error.
   */
  async function historyLength(
    checks: number,
    throttleOnce?: string,
    onStateEntered?: (name: string) => void,
  ) {
    let throttled = false
    const stub = async (event: unknown) => {
      const { action, stage, state } = event as StageTaskEvent
      if (`${action} ${stage}` === throttleOnce && !throttled) {
        throttled = true
        throw new NamedError('SeamThrottledError', 'busy')
      }
      const done = action === 'check' ? (state.stages?.[stage as StageName]?.checks ?? 0) + 1 : 0
      const progress = {
        started_at: new Date().toISOString(),
        deleted: 1,
        pending: [],
        // A synchronous stage (client sessions) has nothing to wait for once its deletes are done.
        pending_count: done >= checks || !stageByName(stage).confirmation ? 0 : 1,
        checks: done,
        wait_seconds: 1,
        checks_left: true,
      }
      return { ...state, stages: { ...state.stages, [stage]: progress } } satisfies DeletionState
    }
    const runner = new LocalStepFunctions({
      definition,
      stateMachineArn: extracted.stateMachineArn,
      taskHandlers: Object.fromEntries(Object.keys(extracted.lambdaArns).map((arn) => [arn, stub])),
      waitScale: 0.001,
      onEvent: (_arn, event) => {
        const name = event.stateEnteredEventDetails?.name
        if (name && event.type?.endsWith('StateEntered')) onStateEntered?.(name)
      },
    })
    runners.push(runner)
    const { executionArn } = await runner.startExecution({
      stateMachineArn: extracted.stateMachineArn,
      input: JSON.stringify({ user_identity_id: 'ui-1' }),
    })
    const final = await runner.waitForExecution(executionArn as string)
    expect(final.status).toBe('SUCCEEDED')
    expect(JSON.parse(final.output as string)).toEqual({
      user_identity_id: 'ui-1',
      summary: Object.fromEntries(STAGES.map((stage) => [stage.summaryKey, 1])),
    })
    const { events = [] } = await runner.getExecutionHistory({ executionArn, maxResults: 1000 })
    return events.length
  }

  it('costs 27 state transitions when Seam confirms every stage at its first check', async () => {
    // The states entered, as Standard workflows bill them: 2 for client sessions (Delete, done?), 5 for
    // each asynchronous stage (Delete, done?, Wait, Check, done?), 4 for the identity (Delete, Wait,
    // Check, done?: its delete only marks it, so no done? before the wait), and Deleted.
    const entered: string[] = []
    await historyLength(1, undefined, (name) => entered.push(name))
    expect(entered.slice(-5)).toEqual([
      'Delete user identity',
      'Wait for user identity',
      'Check user identity',
      'User identity done?',
      'Deleted',
    ])
    expect(entered).toHaveLength(2 + 4 * 5 + 4 + 1)
  })

  it('makes the events per check, per retry and in all that the poll policy validation counts', async () => {
    const one = await historyLength(1)
    const two = await historyLength(2)
    const perCheck = HISTORY_EVENTS.wait + HISTORY_EVENTS.task + HISTORY_EVENTS.choice
    const looping = DELETION_STAGES.filter((stage) => stage.confirmation).length
    expect(two - one).toBe(looping * perCheck)
    expect(await historyLength(1, 'check acs_users')).toBe(one + HISTORY_EVENTS.retry)
    // The worst case counted for a policy allowing exactly that many checks bounds the real runs.
    for (const [checks, events] of [
      [1, one],
      [2, two],
    ] as const) {
      const bound = worstCaseHistoryEvents({ ...DEFAULT_POLL_POLICY, maxChecks: checks }, 0)
      expect(events).toBeLessThanOrEqual(bound)
    }
  })
})

describe('with an await function (Seam webhooks)', () => {
  let awaited: AslDefinition
  let awaitedArns: ExtractedStateMachine
  let awaitedTemplate: Template
  beforeAll(() => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } })
    const stack = new Stack(app, 'Awaits', {
      env: { account: '123456789012', region: 'us-east-1' },
    })
    const awaitFunction = new LambdaFunction(stack, 'AwaitFn', {
      runtime: Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: Code.fromInline('exports.handler = async () => ({})'),
    })
    new DeletionWorkflow(stack, 'Deletion', {
      seamSecret: Secret.fromSecretNameV2(stack, 'Key', 'seam/test'),
      pollPolicy: { stageTimeoutSeconds: 120 },
      awaitFunction,
      coordination: new CoordinationTable(stack, 'Coordination'),
    })
    awaitedTemplate = Template.fromStack(stack)
    awaitedArns = extractStateMachine(awaitedTemplate.toJSON())
    awaited = awaitedArns.definition
  })

  it('lets every stage function read which deliveries came, and nothing else of the table', () => {
    const stageFunctions = awaitedTemplate.findResources('AWS::Lambda::Function', {
      Properties: { Environment: { Variables: { DELETION_STAGE: Match.anyValue() } } },
    })
    expect(Object.keys(stageFunctions)).toHaveLength(DELETION_STAGES.length)
    for (const fn of Object.values(stageFunctions)) {
      expect(fn.Properties.Environment.Variables.COORDINATION_TABLE_NAME).toEqual({
        Ref: expect.stringMatching(/^CoordinationTable/),
      })
    }
    const dynamo = Object.values(awaitedTemplate.findResources('AWS::IAM::Policy'))
      .flatMap(
        (p) => p.Properties.PolicyDocument.Statement as { Action: unknown; Condition?: unknown }[],
      )
      .filter((statement) => JSON.stringify(statement.Action).includes('dynamodb:'))
    // Per stage function: reading deliveries, and writing the delivery health item alone.
    expect(dynamo).toHaveLength(2 * DELETION_STAGES.length)
    // Events and the delivery health only: never the wait sets, which hold task tokens.
    const reads = dynamo.filter((s) => s.Action === 'dynamodb:BatchGetItem')
    const writes = dynamo.filter((s) => s.Action === 'dynamodb:UpdateItem')
    expect(reads).toHaveLength(DELETION_STAGES.length)
    for (const statement of reads) {
      expect(statement.Condition).toEqual({
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['event#*', DELIVERY_HEALTH_KEY] },
      })
    }
    expect(writes).toHaveLength(DELETION_STAGES.length)
    for (const statement of writes) {
      expect(statement.Condition).toEqual({
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [DELIVERY_HEALTH_KEY] },
      })
    }
    // Every stage task is told that deliveries are there to read.
    for (const stage of DELETION_STAGES) {
      for (const kind of ['delete', 'check'] as const) {
        const task = at(stateName(stage.name, kind))
        expect((task.Parameters as { Payload: object }).Payload, stage.name).toMatchObject({
          webhooks: true,
        })
      }
    }
  })

  it('refuses an await function without the table its stages read deliveries from', () => {
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'NoTable')
    const awaitFunction = new LambdaFunction(stack, 'AwaitFn', {
      runtime: Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: Code.fromInline('exports.handler = async () => ({})'),
    })
    expect(
      () =>
        new DeletionWorkflow(stack, 'Deletion', {
          seamSecret: Secret.fromSecretNameV2(stack, 'Key', 'seam/test'),
          awaitFunction,
        }),
    ).toThrow(/awaitFunction needs coordination/)
  })
  const at = (name: string): AslState => awaited.States[name] ?? fail(name)

  it("waits in an Await (callback task, the Wait's timeout) on every stage Seam confirms with events", () => {
    for (const stage of STAGES.filter((s) => typeof s.confirmation === 'object')) {
      const names = stateNames(stage)
      expect(awaited.States[names.wait], names.wait).toBeUndefined()
      expect(at(names.await)).toMatchObject({
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
        TimeoutSecondsPath: `$.stages.${stage.name}.await_seconds`,
        ResultPath: null,
        Next: names.confirmed,
      })
      const catchers = at(names.await).Catch as { ErrorEquals: string[]; Next: string }[]
      expect(catchers).toEqual([
        expect.objectContaining({ ErrorEquals: ['States.ALL'], Next: names.check }),
      ])
      const choices = at(names.done).Choices as { Next: string }[]
      expect(choices.map((c) => c.Next)).toContain(names.await)
      expect(at(names.check).Next).toBe(names.done)
      const confirmed = at(names.confirmed) as unknown as {
        Choices: { Next: string }[]
        Default: string
      }
      expect(confirmed.Choices[0]?.Next).toBe(names.check)
      const next = (at(names.done).Choices as { Next: string }[])[0]?.Next
      expect(confirmed.Default).toBe(next)
    }
  })

  it('looks the identity up once in its Delete, then polls it as before; client sessions as before', () => {
    const del = at('Delete user identity')
    expect(del.Next).toBe('User identity done?')
    expect((del.Parameters as { Payload: object }).Payload).toMatchObject({
      look_after_delete: true,
      webhooks: true,
    })
    expect(at('Wait for user identity').Next).toBe('Check user identity')
    expect(awaited.States['Await user identity']).toBeUndefined()
    expect(awaited.States['Await client sessions']).toBeUndefined()
  })

  it('names every state so that the status route maps it back to its stage', () => {
    for (const name of Object.keys(awaited.States)) expect(stageOfState(name), name).toBeDefined()
    for (const stage of STAGES) {
      for (const kind of AWAIT_KINDS as StateKind[]) {
        expect(stageOfState(stateName(stage.name, kind))).toBe(stage.name)
      }
    }
  })

  it('takes at most 27 state transitions when every delivery arrives, and falls back to checks when none does', async () => {
    const runners: LocalStepFunctions[] = []
    const run = async (resume: boolean) => {
      let runner: LocalStepFunctions | undefined
      const stub = async (event: unknown) => {
        const { action, stage, state } = event as StageTaskEvent
        const checks = action === 'check' ? 1 : 0
        const identityGone = stage === 'user_identity' && action === 'check'
        const progress = {
          started_at: new Date().toISOString(),
          deleted: 1,
          pending: checks || !stageByName(stage).confirmation ? [] : [{ id: `${stage}-1` }],
          pending_count: checks || !stageByName(stage).confirmation || identityGone ? 0 : 1,
          checks,
          wait_seconds: 1,
          await_seconds: 1,
          checks_left: true,
        }
        return { ...state, stages: { ...state.stages, [stage]: progress } } satisfies DeletionState
      }
      const awaitArn = Object.keys(awaitedArns.lambdaArns).find((arn) => arn.includes('AwaitFn'))
      const entered: string[] = []
      runner = new LocalStepFunctions({
        definition: awaited,
        stateMachineArn: awaitedArns.stateMachineArn,
        taskHandlers: Object.fromEntries(
          Object.keys(awaitedArns.lambdaArns).map((arn) => [
            arn,
            arn === awaitArn
              ? async (event: unknown) => {
                  const token = (event as { task_token: string }).task_token
                  // Resumed right after registering, as the webhook Lambda would be.
                  if (resume) {
                    setTimeout(() => {
                      runner?.sendTaskSuccess({ taskToken: token, output: '{}' }).catch(() => {})
                    }, 1)
                  }
                  return {}
                }
              : stub,
          ]),
        ),
        // Resumed: real seconds, so that no Await times out before its resume; else fast.
        waitScale: resume ? 1 : 0.001,
        onEvent: (_arn, event) => {
          const name = event.stateEnteredEventDetails?.name
          if (name && event.type?.endsWith('StateEntered')) entered.push(name)
        },
      })
      runners.push(runner)
      const { executionArn } = await runner.startExecution({
        stateMachineArn: awaitedArns.stateMachineArn,
        input: JSON.stringify({ user_identity_id: 'ui-1' }),
      })
      expect((await runner.waitForExecution(executionArn as string)).status).toBe('SUCCEEDED')
      return entered
    }
    try {
      const resumed = await run(true)
      // 2 for client sessions, 4 per stage with events (Delete, done?, Await, confirmed?), 5 for the
      // identity still there at its look (Delete, done?, Wait, Check, done?), and Deleted.
      expect(resumed).toHaveLength(2 + 4 * 4 + 5 + 1)
      expect(
        resumed.filter((name) => name.startsWith('Check ') && name !== 'Check user identity'),
      ).toEqual([])
      const timedOut = await run(false)
      for (const stage of STAGES.filter((s) => typeof s.confirmation === 'object')) {
        expect(timedOut).toContain(stateName(stage.name, 'check'))
      }
    } finally {
      await Promise.all(runners.map((r) => r.close()))
    }
  })

  it('counts the Await events in the history bound', () => {
    const policy = { ...DEFAULT_POLL_POLICY, stageTimeoutSeconds: 120 }
    expect(worstCaseHistoryEvents(policy, undefined, { awaits: true })).toBeGreaterThan(
      worstCaseHistoryEvents(policy),
    )
  })
})
