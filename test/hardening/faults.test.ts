/**
 * The fault suite: deletions through the local server and the locally-run state machine while the Seam
 * emulator throttles, fails and lags, and while a stage task crashes half-way. Time is scaled (emulator
 * delays and state machine waits alike); no assertion is loosened for it.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { Deletion } from '../../functions/core/deletions.js'
import { seamClientFromEnvironment } from '../../functions/seam/index.js'
import { type LocalRuntime, startLocalRuntime } from '../../local/runtime.js'
import {
  type IdentityGraphShape,
  type SeamEmulator,
  seededRandom,
} from '../../local/seam-emulator/index.js'
import { call, waitForDeletion } from '../e2e/helpers.js'

const FULL_SHAPE: IdentityGraphShape = {
  clientSessions: 2,
  acsSystems: 2,
  credentialsPerUser: 3,
  enrollmentAutomations: 1,
  phones: 2,
}

let runtime: LocalRuntime
let seam: SeamEmulator

beforeAll(async () => {
  runtime = await startLocalRuntime({
    emulator: { pageSize: 5, deleteDelayMs: 100, random: seededRandom(42) },
    waitScale: 0.02,
    // In the state machine's seconds: 1500 s at waitScale 0.02 is 30 s of real time.
    pollPolicy: { stageTimeoutSeconds: 1500, maxChecks: 500 },
  })
  seam = runtime.emulator as SeamEmulator
})
afterAll(() => runtime?.close())
beforeEach(() => seam.reset())

/**
 * DELETE as a well-behaved client does: a 503 (Seam throttling or down, after the service's own retries)
 * means "retry later", so it retries a few times with a pause.
 */
async function deleteWithRetry(userIdentityId: string): Promise<Deletion> {
  for (let attempt = 1; ; attempt++) {
    const res = await call(runtime.url, 'DELETE', `/user-identities/${userIdentityId}`)
    if (res.status === 202) return res.json.deletion as Deletion
    expect(res.status, JSON.stringify(res.json)).toBe(503)
    expect(attempt).toBeLessThan(6)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

describe('fault suite', () => {
  it('deletes 20 identities concurrently through 15% 429s, 5% 503s and latency, touching no bystander', async () => {
    const targets = Array.from({ length: 20 }, () => seam.seed.identityGraph(FULL_SHAPE))
    const bystanders = Array.from({ length: 5 }, () => seam.seed.identityGraph(FULL_SHAPE))
    const before = bystanders.map((b) => seam.inspect.remainingFor(b.userIdentityId))
    seam.setFaults({
      throttleRate: 0.15,
      unavailableRate: 0.05,
      retryAfterSeconds: 1,
      latencyMs: 5,
    })

    const deletions = await Promise.all(targets.map((t) => deleteWithRetry(t.userIdentityId)))
    const finished = await Promise.all(
      deletions.map((d) => waitForDeletion(runtime.url, d.deletion_id, 100_000)),
    )
    seam.setFaults({})

    for (const deletion of finished) {
      expect(deletion.status, JSON.stringify(deletion.error)).toBe('SUCCEEDED')
      expect(deletion.summary).toEqual({
        client_sessions_deleted: 2,
        acs_credentials_deleted: 6,
        acs_users_deleted: 2,
        enrollment_automations_deleted: 1,
        phones_deactivated: 2,
      })
    }
    // SUCCEEDED means gone, the identities themselves included: nothing to wait for.
    for (const target of targets) {
      expect(seam.inspect.remainingFor(target.userIdentityId).isEmpty).toBe(true)
    }
    const after = bystanders.map((b) => seam.inspect.remainingFor(b.userIdentityId))
    expect(after).toEqual(before)

    const faults = seam.requests.filter((r) => r.faultInjected)
    const figures = {
      requests: seam.requests.length,
      throttled: faults.filter((r) => r.fault === 'throttled').length,
      unavailable: faults.filter((r) => r.fault !== 'throttled').length,
      deletions_succeeded: finished.filter((d) => d.status === 'SUCCEEDED').length,
      resources_left: targets.filter((t) => !seam.inspect.remainingFor(t.userIdentityId).isEmpty)
        .length,
      bystanders_touched: after.filter((a, i) => JSON.stringify(a) !== JSON.stringify(before[i]))
        .length,
    }
    console.log('fault suite figures', JSON.stringify(figures))
    expect(figures.throttled).toBeGreaterThan(0.1 * figures.requests)
    expect(figures.unavailable).toBeGreaterThan(0.02 * figures.requests)
  }, 180_000)

  it('retries a stage task that crashes after deleting part of its list, and completes', async () => {
    const target = seam.seed.identityGraph(FULL_SHAPE)
    // The handler modules share this process's Seam client: make its credential delete crash the
    // task (a plain Error, as a bug or an out-of-memory would) after two credentials are deleted.
    const client = await seamClientFromEnvironment()
    const realDelete = client.acsCredentials.delete
    const realList = client.acsCredentials.list
    // Seam holds every credential's deletion until the retry has listed them again: the deletes of
    // the crashed attempt (the other workers finish theirs after the crash) are then still under way
    // when the retry lists, however late the retry comes. Without this the count would depend on
    // whether the retry beats the emulator's delete delay.
    for (const id of target.acsCredentialIds) seam.stickDeletion(id)
    let lists = 0
    let deletes = 0
    let crashed = false
    client.acsCredentials.list = async (params) => {
      const listed = await realList.call(client.acsCredentials, params)
      lists++
      // Listed again by the retry (as being deleted, so not deleted again): let Seam finish.
      if (lists >= 2) for (const id of target.acsCredentialIds) seam.releaseDeletion(id)
      return listed
    }
    client.acsCredentials.delete = async (id: string) => {
      if (!crashed && deletes === 2) {
        crashed = true
        throw new Error('Simulated crash in the middle of the credential deletes')
      }
      deletes++
      await realDelete.call(client.acsCredentials, id)
    }
    try {
      const deletion = await deleteWithRetry(target.userIdentityId)
      const done = await waitForDeletion(runtime.url, deletion.deletion_id)
      expect(crashed).toBe(true)
      expect(done.status, JSON.stringify(done.error)).toBe('SUCCEEDED')
      // The retry found all six (the ones the crashed attempt deleted still being deleted), deleted
      // the others, waited for all and counted them: exactly 6.
      expect(lists).toBeGreaterThanOrEqual(2)
      expect(done.summary?.acs_credentials_deleted).toBe(6)
      expect(seam.inspect.remainingFor(target.userIdentityId).isEmpty).toBe(true)
      // The history shows the retry: the task failed once with the crash, then succeeded.
      const history = await runtime.stepFunctions.getExecutionHistory({
        executionArn: `${runtime.stepFunctions.stateMachineArn.replace(':stateMachine:', ':execution:')}:${deletion.deletion_id}`,
        maxResults: 1000,
      })
      const events = history.events ?? []
      const entered = events.findIndex(
        (e) => e.stateEnteredEventDetails?.name === 'Delete ACS credentials',
      )
      expect(entered).toBeGreaterThanOrEqual(0)
      const outcomes = events
        .slice(entered)
        .filter((e) => e.type === 'TaskFailed' || e.type === 'TaskSucceeded')
        .slice(0, 2)
      expect(outcomes.map((e) => e.type)).toEqual(['TaskFailed', 'TaskSucceeded'])
      expect(outcomes[0]?.taskFailedEventDetails?.error).toBe('Error')
      expect(events.filter((e) => e.type === 'TaskFailed')).toHaveLength(1)
    } finally {
      client.acsCredentials.delete = realDelete
      client.acsCredentials.list = realList
    }
  })
})
