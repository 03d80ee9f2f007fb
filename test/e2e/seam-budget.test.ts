/**
 * The Seam budget (seamRequestsPerSecond) against an emulator that answers at most that many requests per
 * second (429 + Retry-After beyond): simultaneous DELETEs all succeed, and the simulated instances' paces
 * keep Seam's 429s rare rather than leaving them to the retries. And a flood of 429s on a stage's list,
 * longer than the Seam client's and the state machine's retries together, does not end the deletion.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_POLL_POLICY, TASK_RETRIES } from '../../functions/core/poll.js'
import { DEFAULT_RETRY_POLICY } from '../../functions/seam/retry-policy.js'
import { type LocalRuntime, startLocalRuntime } from '../../local/runtime.js'
import type { SeamEmulator } from '../../local/seam-emulator/index.js'
import { call, taskAttempts, waitForDeletion } from './helpers.js'

const SHAPE = { clientSessions: 1, acsSystems: 1, credentialsPerUser: 2, phones: 1 }

/** DELETE, coming back after Retry-After while the service says it is busy (503). */
async function deletePatiently(base: string, userIdentityId: string): Promise<string> {
  for (;;) {
    const res = await call(base, 'DELETE', `/user-identities/${userIdentityId}`)
    if (res.status === 202) return (res.json.deletion as { deletion_id: string }).deletion_id
    expect(res.status, JSON.stringify(res.json)).toBe(503)
    expect(res.json.error).toMatchObject({ type: 'seam_unavailable' })
    const seconds = Number(res.headers.get('retry-after'))
    expect(seconds).toBeGreaterThan(0)
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000))
  }
}

describe('seamRequestsPerSecond', () => {
  const LIMIT = 30
  let runtime: LocalRuntime
  let seam: SeamEmulator

  beforeAll(async () => {
    runtime = await startLocalRuntime({
      emulator: { deleteDelayMs: 100, faults: { rateLimitPerSecond: LIMIT } },
      // Step Functions' retries of a throttled task, scaled like every wait, must still outlast the
      // handlers, which run in real time: at 0.5 they do.
      waitScale: 0.5,
      pollPolicy: { ...DEFAULT_POLL_POLICY, stageTimeoutSeconds: 600, maxChecks: 60 },
      seamConcurrency: 3,
      seamRequestsPerSecond: LIMIT,
    })
    seam = runtime.emulator as SeamEmulator
  })
  afterAll(() => runtime?.close())

  it('deletes every identity of simultaneous DELETEs, with 429s at most 10 % of Seam requests', async () => {
    const graphs = Array.from({ length: 10 }, () => seam.seed.identityGraph(SHAPE))
    const bystander = seam.seed.identityGraph(SHAPE)
    const before = seam.inspect.remainingFor(bystander.userIdentityId)
    const from = seam.requests.length
    const ids = await Promise.all(graphs.map((g) => deletePatiently(runtime.url, g.userIdentityId)))
    const done = await Promise.all(ids.map((id) => waitForDeletion(runtime.url, id, 120_000)))
    expect(done.map((d) => `${d.status} ${JSON.stringify(d.error ?? '')}`)).toEqual(
      done.map(() => 'SUCCEEDED ""'),
    )
    for (const g of graphs) expect(seam.inspect.remainingFor(g.userIdentityId).isEmpty).toBe(true)
    expect(seam.inspect.remainingFor(bystander.userIdentityId)).toEqual(before)
    const requests = seam.requests.slice(from)
    const throttled = requests.filter((r) => r.status === 429).length
    expect(requests.length).toBeGreaterThan(10 * 10)
    expect(throttled / requests.length).toBeLessThanOrEqual(0.1)
  }, 150_000)
})

describe('a flood of 429s on a stage list, longer than every retrier', () => {
  let runtime: LocalRuntime
  let seam: SeamEmulator

  beforeAll(async () => {
    runtime = await startLocalRuntime({
      emulator: { deleteDelayMs: 50 },
      // Quick client retries, so that the flood outlasts the retriers in a few seconds.
      seamClient: { retry: { baseDelayMs: 5, maxDelayMs: 20, maxRetryAfterMs: 20 } },
      waitScale: 0.02,
      pollPolicy: { ...DEFAULT_POLL_POLICY, stageTimeoutSeconds: 1200, maxChecks: 500 },
    })
    seam = runtime.emulator as SeamEmulator
  })
  afterAll(() => runtime?.close())

  it('keeps the stage going on its own budget, and the deletion SUCCEEDS', async () => {
    const target = seam.seed.identityGraph(SHAPE)
    // What the Seam client (its attempts per call) and the task's Retry on SeamThrottledError together
    // would have absorbed, had the task failed on a refused list.
    const retriersAbsorb = DEFAULT_RETRY_POLICY.maxAttempts * (TASK_RETRIES.seamTransient + 1)
    seam.setFaults({ throttleRate: 1, retryAfterSeconds: 0, paths: ['/acs/credentials/list'] })
    const id = await deletePatiently(runtime.url, target.userIdentityId)
    await expect
      .poll(() => seam.requests.filter((r) => r.fault === 'throttled').length, {
        timeout: 60_000,
        interval: 100,
      })
      .toBeGreaterThan(2 * retriersAbsorb)
    seam.setFaults({})
    const done = await waitForDeletion(runtime.url, id, 60_000)
    expect(done.status, JSON.stringify(done.error)).toBe('SUCCEEDED')
    expect(done.summary?.acs_credentials_deleted).toBe(2)
    expect(seam.inspect.remainingFor(target.userIdentityId).isEmpty).toBe(true)
    const attempts = await taskAttempts(runtime, id)
    expect(attempts.filter((a) => a.error)).toEqual([])
  }, 120_000)
})
