import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type LocalRuntime, startLocalRuntime } from '../../local/runtime.js'
import type { SeamEmulator } from '../../local/seam-emulator/index.js'
import { call, startDeletion, taskAttempts, waitForDeletion } from './helpers.js'

let runtime: LocalRuntime
let seam: SeamEmulator

beforeAll(async () => {
  runtime = await startLocalRuntime({
    emulator: { pageSize: 2, deleteDelayMs: 100 },
    waitScale: 0.02,
    pollPolicy: { stageTimeoutSeconds: 500, maxChecks: 500 }, // 10 s of real time
  })
  seam = runtime.emulator as SeamEmulator
})
afterAll(() => runtime?.close())
beforeEach(() => seam.reset())

describe('an identity from POST to its deletion', () => {
  it('creates it with its ACS users, deletes all of it, and reports the counts', async () => {
    const systems = [seam.seed.acsSystem(), seam.seed.acsSystem()]
    const acsUsers = systems.map((s) => seam.seed.acsUser({ acsSystemId: s.acs_system_id }))
    for (const user of acsUsers) seam.seed.acsCredential({ acsUserId: user.acs_user_id })
    const bystander = seam.seed.identityGraph({ acsSystems: 1, credentialsPerUser: 2 })
    const before = seam.inspect.remainingFor(bystander.userIdentityId)

    const created = await call(runtime.url, 'POST', '/user-identities', {
      user_identity_key: 'lifecycle-1',
      email_address: 'lifecycle-1@example.com',
      acs_user_ids: acsUsers.map((u) => u.acs_user_id),
    })
    expect(created.status, JSON.stringify(created.json)).toBe(201)
    const id = (created.json.user_identity as { user_identity_id: string }).user_identity_id
    expect(seam.inspect.remainingFor(id).acsUserIds.sort()).toEqual(
      acsUsers.map((u) => u.acs_user_id).sort(),
    )

    const deletion = await startDeletion(runtime.url, id)
    expect(deletion).toMatchObject({ user_identity_id: id, status: 'RUNNING' })
    const done = await waitForDeletion(runtime.url, deletion.deletion_id)
    expect(done).toMatchObject({
      status: 'SUCCEEDED',
      stage: 'user_identity',
      summary: {
        client_sessions_deleted: 0,
        acs_credentials_deleted: 2,
        acs_users_deleted: 2,
        enrollment_automations_deleted: 0,
        phones_deactivated: 0,
      },
    })
    await expect.poll(() => seam.inspect.remainingFor(id).isEmpty).toBe(true)
    expect(seam.inspect.remainingFor(bystander.userIdentityId)).toEqual(before)
    // The identity is gone from Seam: a new DELETE finds nothing to delete.
    await expect
      .poll(async () => (await call(runtime.url, 'DELETE', `/user-identities/${id}`)).status)
      .toBe(404)
  })
})

describe('a list Seam refuses', () => {
  it('does not fail the task: the stage keeps it for its next check, lists then, and completes', async () => {
    const target = seam.seed.identityGraph({ acsSystems: 1, credentialsPerUser: 1, phones: 2 })
    // Every phones/list answers 429 until the Seam module has given up on one call.
    seam.setFaults({ throttleRate: 1, retryAfterSeconds: 0, paths: ['/phones/list'] })
    const deletion = await startDeletion(runtime.url, target.userIdentityId)
    await expect
      .poll(() => seam.requests.filter((r) => r.fault === 'throttled').length, {
        timeout: 20_000,
        interval: 100,
      })
      .toBeGreaterThanOrEqual(4)
    seam.setFaults({})
    const done = await waitForDeletion(runtime.url, deletion.deletion_id)
    expect(done.status, JSON.stringify(done.error)).toBe('SUCCEEDED')
    expect(done.summary?.phones_deactivated).toBe(2)
    const attempts = await taskAttempts(runtime, deletion.deletion_id)
    expect(attempts.filter((a) => a.error)).toEqual([])
    expect(attempts.some((a) => a.state === 'Check phones')).toBe(true)
  })
})
