import aslValidator from 'asl-validator'
import { App, Stack } from 'aws-cdk-lib'
import { Match, Template } from 'aws-cdk-lib/assertions'
import { Secret } from 'aws-cdk-lib/aws-secretsmanager'
import { beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_POLL_POLICY } from '../../functions/core/poll.js'
import { STAGES, stateNames } from '../../functions/core/stages.js'
import { DeletionWorkflow } from '../../infra/constructs/deletion-workflow.js'
import type { AslDefinition, AslState } from '../../local/stepfunctions/asl.js'
import { extractStateMachine } from '../../local/stepfunctions/definition.js'

let template: Template
let definition: AslDefinition

beforeAll(() => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } })
  const stack = new Stack(app, 'Test', { env: { account: '123456789012', region: 'us-east-1' } })
  new DeletionWorkflow(stack, 'Deletion', {
    seamSecret: Secret.fromSecretNameV2(stack, 'Key', 'seam/test'),
    pollPolicy: { stageTimeoutSeconds: 120 },
  })
  template = Template.fromStack(stack)
  definition = extractStateMachine(template.toJSON()).definition
})

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
    const asyncStages = STAGES.filter((s) => s.confirmation).length
    expect(definition.TimeoutSeconds).toBe(asyncStages * 120 + 30 * 60)
    expect(definition.StartAt).toBe('Delete client sessions')
  })

  it('is valid ASL for asl-validator, paths and ARNs included', () => {
    // The validator annotates what it is given: hand it a copy.
    const result = aslValidator(structuredClone(definition), { checkPaths: true, checkArn: true })
    expect(result.errorsText('\n')).toBe('')
    expect(result.isValid).toBe(true)
  })

  it('has Delete, done?, Wait, Check and stuck states for every stage, in table order', () => {
    for (const stage of STAGES) {
      const names = stateNames(stage)
      expect(state(names.delete).Type).toBe('Task')
      expect(state(names.delete).Next).toBe(names.done)
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
    // The "done" branch of each stage leads to the next stage, and the last to the identity.
    const order = STAGES.map((s) => stateNames(s))
    for (const [i, names] of order.entries()) {
      const next = order[i + 1]?.delete ?? 'Delete user identity'
      const nextOf = (s: AslState) =>
        s.Type === 'Choice'
          ? (s.Choices as { Next: string; NumericEquals?: number }[])[0]?.Next
          : s.Next
      expect(nextOf(state(names.done))).toBe(next)
    }
    expect(state('Delete user identity').Next).toBe('Deleted')
  })

  it('passes the poll policy from props to every task', () => {
    const payload = (state('Check ACS credentials').Parameters as { Payload: object }).Payload
    expect(payload).toEqual({
      action: 'check',
      stage: 'acs_credentials',
      policy: { ...DEFAULT_POLL_POLICY, stageTimeoutSeconds: 120 },
      'state.$': '$',
    })
  })

  it('retries transient errors with backoff and jitter, fails fast on permanent ones, and catches all', () => {
    const tasks = Object.entries(definition.States).filter(([, s]) => s.Type === 'Task')
    expect(tasks.length).toBe(2 * STAGES.length + 1)
    for (const [name, task] of tasks) {
      const retry = task.Retry as {
        ErrorEquals: string[]
        MaxAttempts?: number
        JitterStrategy?: string
      }[]
      const retrierFor = (error: string) => retry.find((r) => r.ErrorEquals.includes(error))
      expect(retrierFor('SeamUnauthorizedError')?.MaxAttempts, name).toBe(0)
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

  it('deploys one Lambda per stage plus one for the identity, each reading the Seam secret', () => {
    template.resourceCountIs('AWS::Lambda::Function', STAGES.length + 1)
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
    expect(grants).toHaveLength(STAGES.length + 1)
  })
})
