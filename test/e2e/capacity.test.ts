/**
 * Seam's capacity, deployment-wide: with `seamConcurrency` every Seam-calling workflow function has that
 * reserved concurrency, the local runtime throttles past it as Lambda does, and the state machine's Retry
 * on Lambda.TooManyRequestsException makes deletions wait their turn instead of failing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_POLL_POLICY } from '../../functions/core/poll.js'
import { type LocalRuntime, startLocalRuntime } from '../../local/runtime.js'
import type { SeamEmulator } from '../../local/seam-emulator/index.js'
import { startDeletion, waitForDeletion } from './helpers.js'

const SEAM_CONCURRENCY = 1
let runtime: LocalRuntime
let seam: SeamEmulator
const throttled: string[] = []

beforeAll(async () => {
  runtime = await startLocalRuntime({
    emulator: { deleteDelayMs: 100 },
    waitScale: 0.02,
    pollPolicy: { ...DEFAULT_POLL_POLICY, stageTimeoutSeconds: 150, maxChecks: 500 },
    seamConcurrency: SEAM_CONCURRENCY,
  })
  seam = runtime.emulator as SeamEmulator
})
afterAll(() => runtime?.close())

describe('seamConcurrency', () => {
  it('throttles a stage function past its reserved concurrency, and every deletion still SUCCEEDS', async () => {
    const graphs = Array.from({ length: 6 }, () =>
      seam.seed.identityGraph({
        clientSessions: 2,
        acsSystems: 1,
        credentialsPerUser: 2,
        phones: 1,
      }),
    )
    const started = await Promise.all(
      graphs.map((g) => startDeletion(runtime.url, g.userIdentityId)),
    )
    const done = await Promise.all(
      started.map((d) => waitForDeletion(runtime.url, d.deletion_id, 60_000)),
    )
    expect(done.map((d) => d.status)).toEqual(done.map(() => 'SUCCEEDED'))
    for (const g of graphs)
      expect(seam.inspect.remainingFor(g.userIdentityId).userIdentity).toBeNull()
    for (const d of started) {
      const history = await runtime.stepFunctions.getExecutionHistory({
        executionArn: `${runtime.stepFunctions.stateMachineArn.replace(':stateMachine:', ':execution:')}:${d.deletion_id}`,
        maxResults: 1000,
      })
      for (const event of history.events ?? []) {
        if (event.taskFailedEventDetails?.error === 'Lambda.TooManyRequestsException')
          throttled.push(d.deletion_id)
      }
    }
    // Six deletions at once against one invocation per stage function: Lambda said no, and it was retried.
    expect(throttled.length).toBeGreaterThan(0)
  }, 90_000)
})
