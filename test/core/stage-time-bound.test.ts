/**
 * A stage's time is bounded, a hanging Seam included: the Seam call timeout, the client's retries and
 * Step Functions' retries together fit the stage's budget plus the margin stageTimeBound states.
 */
import { randomUUID } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  DEFAULT_POLL_POLICY,
  LONGEST_SEAM_CALL_MS,
  stageTimeBound,
  validatePollPolicy,
} from '../../functions/core/poll.js'
// The runtime imports the stage task on its first invocation: loaded here, its import is not timed.
import '../../functions/deletion/stage-task.js'
import { type LocalRuntime, startLocalRuntime } from '../../local/runtime.js'

describe('stageTimeBound', () => {
  it('states the bound of a stage with the deployed Seam client: the budget plus two task states', () => {
    expect(LONGEST_SEAM_CALL_MS).toBe(8_000 + 12_000)
    expect(stageTimeBound(DEFAULT_POLL_POLICY)).toEqual({
      seamCallSeconds: 20,
      taskSeconds: 150, // a quarter of 600 s
      taskStateSeconds: 160, // + one 10 s retry delay
      marginSeconds: 321,
      totalSeconds: 921,
    })
    // A short stage: a task may still make one whole Seam call.
    expect(stageTimeBound({ ...DEFAULT_POLL_POLICY, stageTimeoutSeconds: 20 })).toMatchObject({
      taskSeconds: 20,
      totalSeconds: 20 + 2 * 30 + 1,
    })
    // A long one: a task's Seam calls stay well inside the Lambda's timeout.
    expect(stageTimeBound({ ...DEFAULT_POLL_POLICY, stageTimeoutSeconds: 1800 }).taskSeconds).toBe(
      240,
    )
  })

  it('refuses at synth a stage budget shorter than one Seam call may take', () => {
    expect(() => validatePollPolicy({ ...DEFAULT_POLL_POLICY, stageTimeoutSeconds: 19 })).toThrow(
      /stageTimeoutSeconds must be at least 20 s, the longest one Seam call may take/,
    )
    expect(() =>
      validatePollPolicy({ ...DEFAULT_POLL_POLICY, stageTimeoutSeconds: 20 }),
    ).not.toThrow()
    expect(() =>
      validatePollPolicy({ ...DEFAULT_POLL_POLICY, stageTimeoutSeconds: 600 }, 400),
    ).toThrow(/more than a stage task's 300 s Lambda timeout/)
  })
})

describe('a deletion while Seam never answers', () => {
  /** A server that accepts every request and never answers it. */
  let hanging: Server
  let runtime: LocalRuntime
  const WAIT_SCALE = 0.02
  // The client's timing scaled like the state machine's waits: 0.4 s of real time is 20 s of its time.
  const SEAM_CLIENT = {
    timeoutMs: 200,
    retry: { totalBudgetMs: 200, baseDelayMs: 10, maxDelayMs: 50, maxRetryAfterMs: 50 },
  }
  const POLICY = { ...DEFAULT_POLL_POLICY, stageTimeoutSeconds: 20 }

  beforeAll(async () => {
    hanging = createServer(() => undefined)
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve))
    runtime = await startLocalRuntime({
      seam: {
        apiKey: 'seam_test_hanging_1',
        endpoint: `http://127.0.0.1:${(hanging.address() as AddressInfo).port}`,
      },
      seamClient: SEAM_CLIENT,
      waitScale: WAIT_SCALE,
      pollPolicy: POLICY,
    })
  })
  afterAll(async () => {
    await runtime?.close()
    hanging?.closeAllConnections()
    await new Promise((resolve) => hanging?.close(resolve))
  })

  it('ends within the stated bound, with a message that names the route and not the endpoint', async () => {
    const { stepFunctions } = runtime
    const { executionArn } = await stepFunctions.startExecution({
      stateMachineArn: stepFunctions.stateMachineArn,
      name: `${randomUUID()}--1`,
      input: JSON.stringify({ user_identity_id: randomUUID() }),
    })
    const ended = await stepFunctions.waitForExecution(executionArn ?? '')
    expect(ended.status).toBe('FAILED')
    expect(ended.error).toBe('StageOutOfTime')
    const cause = ended.cause ?? ''
    expect(cause).toContain('Stage client_sessions')
    expect(cause).toContain('/client_sessions/list')
    expect(cause).not.toContain('127.0.0.1')
    expect(cause).not.toContain('http')
    // In the state machine's seconds: the first stage's bound, its Seam calls in the same seconds.
    const seamCallSeconds =
      (SEAM_CLIENT.timeoutMs + SEAM_CLIENT.retry.totalBudgetMs) / 1000 / WAIT_SCALE
    const bound = stageTimeBound(POLICY, seamCallSeconds)
    expect(bound.totalSeconds).toBe(20 + 2 * (20 + 10) + 1)
    const seconds =
      ((ended.stopDate?.getTime() ?? Number.NaN) - (ended.startDate?.getTime() ?? 0)) /
      1000 /
      WAIT_SCALE
    expect(seconds).toBeLessThanOrEqual(bound.totalSeconds)
  })
})
