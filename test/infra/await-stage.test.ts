// The Await state as the workflow will use it (built by awaitStage, synthesized by CDK, run on the
// local runner with the real await task, webhook handler and dynalite): resumed → next stage
// without a Check; timed out → Check; resumed with deletes still to retry → Check.
import * as sfn from 'aws-cdk-lib/aws-stepfunctions'
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks'
import { describe, expect, it, vi } from 'vitest'
import { awaitStage } from '../../infra/constructs/await-stage.js'
import { newWebhookSecret, signWebhook } from '../../local/seam-emulator/webhooks.js'
import type { LocalStepFunctions } from '../../local/stepfunctions/runner.js'
import { useCoordinationTable } from '../api/webhook-harness.js'
import { synth } from '../stepfunctions/helpers.js'

const SECRET = newWebhookSecret()
const { start: startHarness } = useCoordinationTable()

const PROGRESS = '$.stages.acs_credentials'
const built = synth((stack, fn) => {
  const next = new sfn.Succeed(stack, 'Next stage')
  const done = new sfn.Choice(stack, 'ACS credentials done?')
  const check = new tasks.LambdaInvoke(stack, 'Check ACS credentials', {
    lambdaFunction: fn('CheckFn'),
    outputPath: '$.Payload',
  })
  const wait = awaitStage(stack, {
    stage: 'acs_credentials',
    awaitFunction: fn('AwaitFn'),
    progressPath: PROGRESS,
    names: { await: 'Await ACS credentials', confirmed: 'ACS credentials confirmed?' },
    next,
    check,
  })
  check.next(done)
  done
    .when(sfn.Condition.numberEquals(`${PROGRESS}.pending_count`, 0), next)
    .when(sfn.Condition.booleanEquals(`${PROGRESS}.checks_left`, true), wait)
    .otherwise(new sfn.Fail(stack, 'Stuck'))
  return { definition: done }
})

function setup(waitScale: number) {
  const checks: unknown[] = []
  const { runner, webhook, registered } = startHarness(built, {
    waitScale,
    secret: async () => SECRET,
    handlers: {
      CheckFn: (async (state: { stages: Record<string, object> }) => {
        checks.push(state)
        return { ...state, stages: { acs_credentials: { pending: [], pending_count: 0 } } }
      }) as never,
    },
  })
  const deliver = (acs_credential_id: string) => {
    const body = JSON.stringify({
      event_id: crypto.randomUUID(),
      event_type: 'acs_credential.deleted',
      acs_credential_id,
      created_at: new Date().toISOString(),
      occurred_at: new Date().toISOString(),
    })
    return webhook({
      body,
      headers: signWebhook(SECRET, body),
      isBase64Encoded: false,
      requestContext: { requestId: 'r' },
    } as never)
  }
  const start = async (ids: string[], extra: Record<string, unknown> = {}) => {
    const input = {
      stages: {
        acs_credentials: {
          pending: ids.map((id) => ({ id })),
          pending_count: ids.length,
          wait_seconds: 30,
          await_seconds: 30,
          checks_left: true,
          ...extra,
        },
      },
    }
    const { executionArn } = await runner.startExecution({
      stateMachineArn: built.extracted.stateMachineArn,
      input: JSON.stringify(input),
    })
    return executionArn as string
  }
  return { runner, checks, registered, deliver, start }
}

async function statesEntered(runner: LocalStepFunctions, executionArn: string) {
  const { events = [] } = await runner.getExecutionHistory({ executionArn, maxResults: 1000 })
  return events.flatMap((e) =>
    e.stateEnteredEventDetails ? [e.stateEnteredEventDetails.name] : [],
  )
}

describe('awaitStage in a workflow', () => {
  it('goes on to the next stage without a Check once the events of all pending ids are in', async () => {
    const { runner, checks, registered, deliver, start } = setup(1)
    const ids = [crypto.randomUUID(), crypto.randomUUID()]
    const arn = await start(ids)
    await vi.waitFor(() => expect(registered).toHaveLength(1))
    for (const id of ids) expect((await deliver(id)).statusCode).toBe(204)
    expect((await runner.waitForExecution(arn)).status).toBe('SUCCEEDED')
    expect(checks).toEqual([])
    expect(await statesEntered(runner, arn)).toEqual([
      'ACS credentials done?',
      'Await ACS credentials',
      'ACS credentials confirmed?',
      'Next stage',
    ])
  })

  it('leads into the Check when no event comes before the wait would have ended', async () => {
    const { runner, checks, start } = setup(0.001)
    const arn = await start([crypto.randomUUID()])
    expect((await runner.waitForExecution(arn)).status).toBe('SUCCEEDED')
    expect(checks).toHaveLength(1)
  })

  it('still checks when deletes Seam refused are left to retry, even though all events came', async () => {
    const { runner, checks, start, deliver } = setup(1)
    const id = crypto.randomUUID()
    await deliver(id)
    const arn = await start([id], { to_delete: [{ id: crypto.randomUUID() }] })
    expect((await runner.waitForExecution(arn)).status).toBe('SUCCEEDED')
    expect(checks).toHaveLength(1)
  })
})
