/**
 * The real synthesized state machine, run locally against the Seam emulator, driven over HTTP:
 * asynchronous deletes with delays, two ACS systems, more credentials than one page, enrollment
 * automations and phones. Time is scaled: the emulator's delete delay and the state machine's waits are
 * both shortened; no assertion is loosened for it.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { executionArnFor } from '../../functions/core/deletions.js'
import { DEFAULT_POLL_POLICY, maxChecksPerStage } from '../../functions/core/poll.js'
import {
  SeamError,
  SeamUnauthorizedError,
  seamClientFromEnvironment,
} from '../../functions/seam/index.js'
import { type LocalRuntime, startLocalRuntime } from '../../local/runtime.js'
import {
  type IdentityGraphShape,
  type SeamEmulator,
  seededRandom,
} from '../../local/seam-emulator/index.js'
import {
  BOTH_READINGS,
  call,
  READING_MATRIX,
  STAGE_SEAM_PATHS,
  startDeletion,
  taskAttempts,
  waitForDeletion,
} from './helpers.js'

const SHAPE: IdentityGraphShape = {
  clientSessions: 2,
  acsSystems: 2,
  credentialsPerUser: 3, // 6 credentials: three pages at page size 2
  enrollmentAutomations: 1,
  phones: 2,
}

/** A stage gives up after 150 s of the state machine's time: 3 s of real time at waitScale 0.02. */
const POLL_POLICY = { ...DEFAULT_POLL_POLICY, stageTimeoutSeconds: 150, maxChecks: 500 }

let runtime: LocalRuntime
let seam: SeamEmulator
/** The emulator's fault draws; a test that injects faults seeds it, so its faults are the same every run. */
let draw: () => number = Math.random
const progress: string[] = []

beforeAll(async () => {
  runtime = await startLocalRuntime({
    emulator: { pageSize: 2, deleteDelayMs: 150, random: () => draw() },
    // Waits of 2 s, 3 s, … run 50 times faster; a stage gives up after 150 of those seconds (3 s).
    waitScale: 0.02,
    pollPolicy: POLL_POLICY,
    onProgress: (line) => progress.push(line),
  })
  seam = runtime.emulator as SeamEmulator
})
afterAll(() => runtime?.close())
beforeEach(() => {
  seam.reset()
  progress.length = 0
})

/**
 * The whole suite runs under the readings the emulator assumes of what Seam leaves undocumented, and
 * again with every one of them at its other reading (repeat deletes refused, a linked ACS user refused
 * instead of moved, deactivated phones still listed, the enrollment-automation routes gone, ...).
 */
describe.each(BOTH_READINGS)('deletion workflow, end to end, under $name', ({ behaviours }) => {
  beforeEach(() => seam.setBehaviours(behaviours))
  /** With the enrollment-automation routes gone, no identity has any (the emulator seeds none). */
  const automations = behaviours.enrollmentAutomationRoutes === 'gone' ? 0 : 1

  it('deletes everything of the identity with exact counts and touches no other identity', async () => {
    const target = seam.seed.identityGraph(SHAPE)
    const bystander = seam.seed.identityGraph(SHAPE)
    const before = seam.inspect.remainingFor(bystander.userIdentityId)

    const started = await startDeletion(runtime.url, target.userIdentityId)
    expect(started).toMatchObject({
      deletion_id: `${target.userIdentityId}--1`,
      user_identity_id: target.userIdentityId,
      status: 'RUNNING',
    })
    // A second DELETE while it runs is the same deletion.
    const again = await startDeletion(runtime.url, target.userIdentityId)
    expect(again.deletion_id).toBe(started.deletion_id)

    const done = await waitForDeletion(runtime.url, started.deletion_id)
    expect(done).toMatchObject({
      status: 'SUCCEEDED',
      stage: 'user_identity',
      summary: {
        client_sessions_deleted: 2,
        acs_credentials_deleted: 6,
        acs_users_deleted: 2,
        enrollment_automations_deleted: automations,
        phones_deactivated: 2,
      },
    })
    expect(done.stopped_at).toBeDefined()
    // SUCCEEDED means gone: the identity (Seam deletes it after the call) and all it held, no waiting.
    expect(seam.inspect.remainingFor(target.userIdentityId).isEmpty).toBe(true)
    expect(seam.inspect.remainingFor(bystander.userIdentityId)).toEqual(before)
    // One progress line per stage, in order, then the outcome.
    expect(progress.map((line) => line.replace(/^deletion \S+: /, ''))).toEqual([
      'stage client_sessions (Delete client sessions)',
      'stage acs_credentials (Delete ACS credentials)',
      'stage acs_users (Delete ACS users)',
      'stage enrollment_automations (Delete enrollment automations)',
      'stage phones (Delete phones)',
      'stage user_identity (Delete user identity)',
      'SUCCEEDED',
    ])
  })

  it('works when user_identities/delete refuses while dependants remain (the documented mode)', async () => {
    seam.setUserIdentityDeleteMode('documented')
    const target = seam.seed.identityGraph(SHAPE)
    const deletion = await startDeletion(runtime.url, target.userIdentityId)
    expect((await waitForDeletion(runtime.url, deletion.deletion_id)).status).toBe('SUCCEEDED')
    expect(seam.inspect.remainingFor(target.userIdentityId).isEmpty).toBe(true)
  })

  it('retries through a burst of 429s and 503s', async () => {
    const target = seam.seed.identityGraph(SHAPE)
    // The burst hits every Seam route the state machine's tasks call, from their first call on (the
    // DELETE route's user_identities/get is spared: meeting the burst it would answer 503, retry later).
    // Seeded draws, so the same requests fault on every run.
    draw = seededRandom(20261127)
    seam.setFaults({
      throttleRate: 0.3,
      unavailableRate: 0.1,
      retryAfterSeconds: 0,
      paths: STAGE_SEAM_PATHS,
    })
    const deletion = await startDeletion(runtime.url, target.userIdentityId)
    const done = await waitForDeletion(runtime.url, deletion.deletion_id)
    seam.setFaults({})
    expect(done.status, JSON.stringify(done.error)).toBe('SUCCEEDED')
    const faulted = seam.requests.filter((r) => r.fault !== null)
    // The seed's first ten draws give five 429s and a 503; the deletion makes more than 25 calls.
    expect(faulted.filter((r) => r.fault === 'throttled').length).toBeGreaterThanOrEqual(5)
    expect(faulted.filter((r) => r.fault === 'unavailable').length).toBeGreaterThanOrEqual(1)
    expect(seam.inspect.remainingFor(target.userIdentityId).isEmpty).toBe(true)
  })

  it('fails within the bound naming a credential that never finishes, and a new DELETE finishes the job', async () => {
    const target = seam.seed.identityGraph(SHAPE)
    const stuckId = target.acsCredentialIds[4] as string
    seam.stickDeletion(stuckId)
    const startedAt = Date.now()
    const first = await startDeletion(runtime.url, target.userIdentityId)
    const failed = await waitForDeletion(runtime.url, first.deletion_id)
    expect(failed.status).toBe('FAILED')
    expect(failed.stage).toBe('acs_credentials')
    expect(failed.error?.type).toBe('deletion_stuck')
    const cause = failed.error?.message ?? ''
    expect(cause).toContain(stuckId)
    expect(cause).toContain('DELETE /user-identities/')
    // The Cause says how long the stage waited and how often it checked, in the state machine's
    // seconds: its whole budget and no less (it gave up at the deadline, not before), then at most the
    // last check's own time; and no more checks than the policy allows.
    const said = /^Stage acs_credentials, after (\d+) s and (\d+) checks: /.exec(cause)
    expect(said, cause).not.toBeNull()
    const [seconds, checks] = [Number(said?.[1]), Number(said?.[2])]
    expect(seconds).toBeGreaterThanOrEqual(POLL_POLICY.stageTimeoutSeconds)
    expect(seconds).toBeLessThan(POLL_POLICY.stageTimeoutSeconds + 100) // + 2 s of real time
    expect(checks).toBeGreaterThanOrEqual(3)
    expect(checks).toBeLessThanOrEqual(maxChecksPerStage(POLL_POLICY))
    // A generous ceiling on real time only: the bound is 3 s of it per stage, at most 6 stages.
    expect(Date.now() - startedAt).toBeLessThan(20_000)
    // The other credentials went; the stuck one and everything after its stage remain.
    const left = seam.inspect.remainingFor(target.userIdentityId)
    expect(left.acsCredentialIds).toEqual([stuckId])
    expect(left.phoneIds).toHaveLength(2)

    seam.releaseDeletion(stuckId)
    const second = await startDeletion(runtime.url, target.userIdentityId)
    expect(second.deletion_id).toBe(`${target.userIdentityId}--2`)
    const done = await waitForDeletion(runtime.url, second.deletion_id)
    expect(done.status).toBe('SUCCEEDED')
    expect(seam.inspect.remainingFor(target.userIdentityId).isEmpty).toBe(true)
  })

  it('fails naming the identity when Seam never finishes deleting it', async () => {
    const target = seam.seed.identityGraph(SHAPE)
    seam.stickDeletion(target.userIdentityId)
    const deletion = await startDeletion(runtime.url, target.userIdentityId)
    const failed = await waitForDeletion(runtime.url, deletion.deletion_id)
    expect(failed).toMatchObject({ status: 'FAILED', stage: 'user_identity' })
    expect(failed.error?.type).toBe('deletion_stuck')
    expect(failed.error?.message).toMatch(
      new RegExp(
        `^Stage user_identity, after \\d+ s and \\d+ checks: Seam has not finished deleting the user identity ${target.userIdentityId} `,
      ),
    )
    // Everything it held is gone; the identity is still there (being deleted) for a new DELETE.
    const left = seam.inspect.remainingFor(target.userIdentityId)
    expect(left.userIdentity?.user_identity_id).toBe(target.userIdentityId)
    expect(left).toMatchObject({
      clientSessionIds: [],
      acsUserIds: [],
      acsCredentialIds: [],
      enrollmentAutomationIds: [],
      phoneIds: [],
    })
    seam.releaseDeletion(target.userIdentityId)
    const second = await startDeletion(runtime.url, target.userIdentityId)
    expect((await waitForDeletion(runtime.url, second.deletion_id)).status).toBe('SUCCEEDED')
    expect(seam.inspect.remainingFor(target.userIdentityId).isEmpty).toBe(true)
  })

  it('ends FAILED with a Cause naming the stage, the error and what to do when a task fails for good', async () => {
    const target = seam.seed.identityGraph(SHAPE)
    // Seam rejects the key while the phones are listed (a revoked key): no retry can fix that.
    const client = await seamClientFromEnvironment()
    const realList = client.phones.list
    client.phones.list = async () => {
      throw new SeamError({
        name: SeamUnauthorizedError,
        type: 'unauthorized',
        message: 'GET /phones/list: Seam rejected the API key',
        status: 401,
        retryable: false,
      })
    }
    try {
      const deletion = await startDeletion(runtime.url, target.userIdentityId)
      const failed = await waitForDeletion(runtime.url, deletion.deletion_id)
      expect(failed).toMatchObject({ status: 'FAILED', stage: 'phones' })
      expect(failed.error?.type).toBe('deletion_failed')
      expect(failed.error?.message).toContain('Stage phones failed')
      expect(failed.error?.message).toContain('SeamUnauthorizedError')
      expect(failed.error?.message).toContain('Seam rejected the API key')
      expect(failed.error?.message).toContain('DELETE the user identity again')
      // The API's message carries no stack trace; the operator's console has the Lambda error whole.
      expect(failed.error?.message).not.toMatch(/"trace"|errorType|\bat .+:\d+:\d+/)
      const executionArn = executionArnFor(
        runtime.stepFunctions.stateMachineArn,
        deletion.deletion_id,
      )
      const described = await runtime.stepFunctions.describeExecution({ executionArn })
      expect(described.cause).toContain('"trace"')
      // Permanent: the task ran once, no retry.
      expect(progress.at(-1)).toContain('FAILED SeamUnauthorizedError')
      const phones = (await taskAttempts(runtime, deletion.deletion_id)).filter(
        (a) => a.state === 'Delete phones',
      )
      expect(phones).toEqual([
        { state: 'Delete phones', outcome: 'failed', error: 'SeamUnauthorizedError' },
      ])
    } finally {
      client.phones.list = realList
    }
    // With the key good again, a new DELETE finishes the job.
    const second = await startDeletion(runtime.url, target.userIdentityId)
    expect((await waitForDeletion(runtime.url, second.deletion_id)).status).toBe('SUCCEEDED')
    expect(seam.inspect.remainingFor(target.userIdentityId).isEmpty).toBe(true)
  })

  it('answers 404 for an identity Seam does not know and for an unknown deletion', async () => {
    const missing = await call(
      runtime.url,
      'DELETE',
      '/user-identities/00000000-0000-4000-8000-000000000000',
    )
    expect(missing.status).toBe(404)
    expect(missing.json.error).toMatchObject({ type: 'user_identity_not_found' })
    const unknown = await call(
      runtime.url,
      'GET',
      '/deletions/00000000-0000-4000-8000-000000000000--1',
    )
    expect(unknown.status).toBe(404)
    expect(unknown.json.error).toMatchObject({ type: 'deletion_not_found' })
  })
})

/**
 * The full matrix, on one representative deletion: each behaviour alone at its other reading (and all
 * of them, and none). The identity meets what makes the readings differ: a credential Seam is already
 * deleting when the workflow lists it (deleting it again may be refused), and a phone deactivated before
 * the deletion began (Seam may still list it).
 */
describe.each(READING_MATRIX)('a deletion under $name', ({ behaviours }) => {
  beforeEach(() => seam.setBehaviours(behaviours))

  it('SUCCEEDED with nothing left, exact counts, no bystander touched, nothing deleted twice', async () => {
    const target = seam.seed.identityGraph(SHAPE)
    const bystander = seam.seed.identityGraph(SHAPE)
    const before = seam.inspect.remainingFor(bystander.userIdentityId)
    const [deleting] = target.acsCredentialIds as [string]
    const [deactivated] = target.phoneIds as [string]
    const emulatorCall = (path: string, body: object) =>
      fetch(`${seam.url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${seam.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
    // A credential Seam is deleting until the workflow's first check; a phone already deactivated.
    seam.stickDeletion(deleting)
    expect(
      (await emulatorCall('/acs/credentials/delete', { acs_credential_id: deleting })).status,
    ).toBe(200)
    expect((await emulatorCall('/phones/deactivate', { device_id: deactivated })).status).toBe(200)
    while (seam.inspect.events({ eventType: 'phone.deactivated' }).length === 0) {
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    seam.beforeNextRequest('/events/list', () => seam.releaseDeletion(deleting))

    const deletion = await startDeletion(runtime.url, target.userIdentityId)
    const done = await waitForDeletion(runtime.url, deletion.deletion_id)
    expect(done.status, JSON.stringify(done.error)).toBe('SUCCEEDED')
    expect(done.summary).toEqual({
      client_sessions_deleted: 2,
      acs_credentials_deleted: 6,
      acs_users_deleted: 2,
      enrollment_automations_deleted: behaviours.enrollmentAutomationRoutes === 'gone' ? 0 : 1,
      phones_deactivated: 1,
    })
    expect(seam.inspect.remainingFor(target.userIdentityId).isEmpty).toBe(true)
    expect(seam.inspect.remainingFor(bystander.userIdentityId)).toEqual(before)
    const deletesOf = (path: string, field: string, id: string) =>
      seam.requests.filter((r) => r.path === path && r.params[field] === id)
    expect(deletesOf('/acs/credentials/delete', 'acs_credential_id', deleting)).toHaveLength(1)
    expect(deletesOf('/phones/deactivate', 'device_id', deactivated)).toHaveLength(1)
  })
})
