/**
 * Bulk deletions and the deletion plan, end to end: the synthesized bulk workflow (a distributed Map whose
 * items start the deletion workflow with startExecution.sync:2) run by the local runner against the Seam
 * emulator, driven over HTTP. Time is scaled as in deletion.test.ts.
 */
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { BulkDeletion } from '../../functions/contract/http.js'
import { DEFAULT_POLL_POLICY } from '../../functions/core/poll.js'
import { type LocalRuntime, startLocalRuntime } from '../../local/runtime.js'
import type { IdentityGraphShape, SeamEmulator } from '../../local/seam-emulator/index.js'
import { call, send, startDeletion, waitForDeletion } from './helpers.js'

const SHAPE: IdentityGraphShape = {
  clientSessions: 2,
  acsSystems: 2,
  credentialsPerUser: 3,
  enrollmentAutomations: 1,
  phones: 2,
}
const CONCURRENCY = 3
const POLL_POLICY = { ...DEFAULT_POLL_POLICY, stageTimeoutSeconds: 150, maxChecks: 500 }

let runtime: LocalRuntime
let seam: SeamEmulator

beforeAll(async () => {
  runtime = await startLocalRuntime({
    emulator: { pageSize: 2, deleteDelayMs: 150 },
    waitScale: 0.02,
    pollPolicy: POLL_POLICY,
    bulkDeletionConcurrency: CONCURRENCY,
  })
  seam = runtime.emulator as SeamEmulator
})
afterAll(() => runtime?.close())
beforeEach(() => seam.reset())

async function startBulk(ids: string[]): Promise<BulkDeletion> {
  const res = await call(runtime.url, 'POST', '/bulk-deletions', { user_identity_ids: ids })
  expect(res.status, JSON.stringify(res.json)).toBe(202)
  const bulk = res.json.bulk_deletion as BulkDeletion
  expect(res.headers.get('location')).toBe(`/bulk-deletions/${bulk.bulk_deletion_id}`)
  expect(bulk).toMatchObject({ status: 'RUNNING', total: ids.length })
  return bulk
}

async function waitForBulk(id: string, timeoutMs = 60_000): Promise<BulkDeletion> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const res = await call(runtime.url, 'GET', `/bulk-deletions/${id}`)
    expect(res.status).toBe(200)
    const bulk = res.json.bulk_deletion as BulkDeletion
    const { pending, running, succeeded, failed, not_found } = bulk.counts
    expect(pending + running + succeeded + failed + not_found).toBe(bulk.total)
    if (bulk.status !== 'RUNNING') return bulk
    if (Date.now() > deadline) throw new Error(`bulk deletion ${id} still RUNNING`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** The most identities with a Seam request in flight or between requests of one deletion, from the log. */
function maxIdentitiesInProgress(ids: readonly string[]): number {
  const spans = ids.flatMap((id) => {
    const times = seam.requests
      .filter((r) => JSON.stringify(r.params).includes(id))
      .map((r) => Date.parse(r.time))
    return times.length ? [{ from: Math.min(...times), to: Math.max(...times) }] : []
  })
  let most = 0
  for (const span of spans) {
    const at = spans.filter((s) => s.from <= span.from && span.from <= s.to).length
    most = Math.max(most, at)
  }
  return most
}

describe('POST /bulk-deletions', () => {
  it('deletes every identity, counts the unknown ones as not_found, joins a running deletion, touches no bystander, and keeps MaxConcurrency', async () => {
    const targets = Array.from({ length: 7 }, () => seam.seed.identityGraph(SHAPE))
    const bystander = seam.seed.identityGraph(SHAPE)
    const before = seam.inspect.remainingFor(bystander.userIdentityId)
    const unknown = [randomUUID(), randomUUID()]
    // One identity is already being deleted: the bulk deletion joins that execution.
    const joined = targets[0]?.userIdentityId as string
    const running = await startDeletion(runtime.url, joined)

    const ids = [...targets.map((t) => t.userIdentityId), ...unknown]
    const bulk = await waitForBulk((await startBulk(ids)).bulk_deletion_id)

    expect(bulk).toMatchObject({
      status: 'SUCCEEDED',
      total: 9,
      counts: { pending: 0, running: 0, succeeded: 7, failed: 0, not_found: 2 },
      failures: [],
    })
    for (const t of targets) {
      expect(seam.inspect.remainingFor(t.userIdentityId).userIdentity).toBeNull()
    }
    expect(seam.inspect.remainingFor(bystander.userIdentityId)).toEqual(before)
    // Joined, never doubled: one execution for that identity, the one DELETE started.
    const done = await waitForDeletion(runtime.url, running.deletion_id)
    expect(done.status).toBe('SUCCEEDED')
    const second = await call(runtime.url, 'GET', `/deletions/${joined}--2`)
    expect(second.status).toBe(404)
    // Each other identity ran exactly one deletion, under the name DELETE uses.
    for (const t of targets.slice(1)) {
      const d = await call(runtime.url, 'GET', `/deletions/${t.userIdentityId}--1`)
      expect(d.json.deletion).toMatchObject({ status: 'SUCCEEDED' })
    }
    // At most MaxConcurrency identities in progress at once, from the emulator's log and the Map Run.
    expect(maxIdentitiesInProgress(ids.slice(1))).toBeLessThanOrEqual(CONCURRENCY)
    const runs = await runtime.bulkDeletions.mapRuns.listMapRuns({
      executionArn: `${runtime.bulkDeletions.stateMachineArn.replace(':stateMachine:', ':execution:')}:${bulk.bulk_deletion_id}`,
    })
    const mapRunArn = runs.mapRuns?.[0]?.mapRunArn as string
    expect(runtime.bulkDeletions.mapRuns.peakRunning(mapRunArn)).toBe(CONCURRENCY)
    const described = await runtime.bulkDeletions.mapRuns.describeMapRun({ mapRunArn })
    expect(described).toMatchObject({
      status: 'SUCCEEDED',
      maxConcurrency: CONCURRENCY,
      toleratedFailurePercentage: 100,
    })
  }, 90_000)

  it('a stuck identity: every other one runs to its end and SUCCEEDS, the bulk deletion FAILS naming it', async () => {
    const targets = Array.from({ length: 4 }, () => seam.seed.identityGraph(SHAPE))
    const stuck = targets[1] as (typeof targets)[number]
    seam.stickDeletion(stuck.acsCredentialIds[0] as string)
    const bulk = await waitForBulk(
      (await startBulk(targets.map((t) => t.userIdentityId))).bulk_deletion_id,
    )
    expect(bulk).toMatchObject({
      status: 'FAILED',
      counts: { pending: 0, running: 0, succeeded: 3, failed: 1, not_found: 0 },
    })
    expect(bulk.failures).toEqual([
      {
        user_identity_id: stuck.userIdentityId,
        deletion_id: `${stuck.userIdentityId}--1`,
        error: {
          type: 'deletion_stuck',
          message: expect.stringContaining(stuck.acsCredentialIds[0] as string),
        },
      },
    ])
    for (const t of targets) {
      expect(seam.inspect.remainingFor(t.userIdentityId).userIdentity === null).toBe(t !== stuck)
    }
    // The failed item's entry in the Map's output is small (caught in the item), not the child's ~1 KB
    // {Error, Cause}: 1,000 of them stay within 256 KiB.
    const history = await runtime.bulkDeletions.getExecutionHistory({
      executionArn: `${runtime.bulkDeletions.stateMachineArn.replace(':stateMachine:', ':execution:')}:${bulk.bulk_deletion_id}`,
    })
    const exited = history.events?.find(
      (e) => e.stateExitedEventDetails?.name === 'Delete each identity',
    )
    const results = JSON.parse(exited?.stateExitedEventDetails?.output ?? '{}').results
    expect(results[1]).toEqual({
      user_identity_id: stuck.userIdentityId,
      deletion_id: `${stuck.userIdentityId}--1`,
      outcome: 'failed',
    })
    expect(Buffer.byteLength(JSON.stringify(results[1]))).toBeLessThan(150)
  }, 90_000)

  it('refuses a repeated id, an empty list, a malformed id, an unknown field, more than 1,000 ids (400) and a body over 64 KiB (413)', async () => {
    const id = randomUUID()
    for (const body of [
      { user_identity_ids: [id, id] },
      { user_identity_ids: [id, id.toUpperCase()] },
      { user_identity_ids: [] },
      { user_identity_ids: ['not-a-uuid'] },
      { user_identity_ids: [id], extra: true },
      { user_identity_ids: Array.from({ length: 1001 }, () => randomUUID()) },
    ]) {
      const res = await call(runtime.url, 'POST', '/bulk-deletions', body)
      expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(400)
      expect((res.json.error as { type: string }).type).toBe('invalid_input')
    }
    const tooLarge = await call(runtime.url, 'POST', '/bulk-deletions', {
      user_identity_ids: Array.from({ length: 1700 }, () => randomUUID()),
    })
    expect(tooLarge.status).toBe(413)
    const notFound = await call(runtime.url, 'GET', `/bulk-deletions/${randomUUID()}`)
    expect(notFound.status).toBe(404)
    expect((notFound.json.error as { type: string }).type).toBe('bulk_deletion_not_found')
  })
})

describe('GET /user-identities/{id}/deletion-plan', () => {
  it('lists every page of every stage, changes nothing, and equals what the deletion then removes', async () => {
    const target = seam.seed.identityGraph(SHAPE)
    const remaining = seam.inspect.remainingFor(target.userIdentityId)
    const requestsBefore = seam.requests.length
    const res = await call(
      runtime.url,
      'GET',
      `/user-identities/${target.userIdentityId}/deletion-plan`,
    )
    expect(res.status, JSON.stringify(res.json)).toBe(200)
    const plan = res.json.deletion_plan as {
      stages: Record<string, { id: string }[]>
      counts: Record<string, number>
    }
    expect(seam.inspect.remainingFor(target.userIdentityId)).toEqual(remaining)
    const writes = seam.requests.slice(requestsBefore).filter((r) => !/\/(list|get)$/.test(r.path))
    expect(writes).toEqual([])
    const ids = (stage: string) => (plan.stages[stage] ?? []).map((i) => i.id).sort()
    expect(ids('client_sessions')).toEqual([...target.clientSessionIds].sort())
    expect(ids('acs_credentials')).toEqual([...target.acsCredentialIds].sort())
    expect(ids('acs_users')).toEqual([...target.acsUserIds].sort())
    expect(ids('enrollment_automations')).toEqual([...target.enrollmentAutomationIds].sort())
    expect(ids('phones')).toEqual([...target.phoneIds].sort())

    const deletion = await startDeletion(runtime.url, target.userIdentityId)
    const done = await waitForDeletion(runtime.url, deletion.deletion_id)
    expect(done.status).toBe('SUCCEEDED')
    expect(done.summary).toEqual(plan.counts)
    // What the deletion sent Seam to delete is exactly the plan's ids.
    const deleted = (path: string, field: string) =>
      seam.requests
        .filter((r) => r.path === path && r.status === 200)
        .map((r) => String(r.params[field]))
        .sort()
    expect(deleted('/client_sessions/delete', 'client_session_id')).toEqual(ids('client_sessions'))
    expect(deleted('/acs/credentials/delete', 'acs_credential_id')).toEqual(ids('acs_credentials'))
    expect(deleted('/acs/users/delete', 'acs_user_id')).toEqual(ids('acs_users'))
    expect(
      deleted('/user_identities/enrollment_automations/delete', 'enrollment_automation_id'),
    ).toEqual(ids('enrollment_automations'))
    expect(deleted('/phones/deactivate', 'device_id')).toEqual(ids('phones'))
  })

  it('404 for an identity Seam does not have, 400 for a malformed id', async () => {
    const missing = await call(runtime.url, 'GET', `/user-identities/${randomUUID()}/deletion-plan`)
    expect(missing.status).toBe(404)
    expect((missing.json.error as { type: string }).type).toBe('user_identity_not_found')
    const malformed = await send(runtime.url, 'GET', '/user-identities/nope/deletion-plan')
    expect(malformed.status).toBe(400)
  })
})
