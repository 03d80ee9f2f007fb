import type { SeamHttp } from '@seamapi/http/connect'
import { schemas } from '@seamapi/types/connect'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { SeamEmulator } from '../../local/seam-emulator/index.js'
import { errorOf, parseWith, sdkFor, sleep, start, waitFor } from './helpers.js'

const DELAY = 30
/**
 * Tests that look at the pending state hold deletions with a long delay, then lower it
 * (setDeleteDelayMs applies to deletions under way): no race with a slow machine.
 */
const HOLD = 60_000
const finishDeletions = () => emulator.setDeleteDelayMs(DELAY)

let emulator: SeamEmulator
let seam: SeamHttp

beforeAll(async () => {
  emulator = await start({ deleteDelayMs: DELAY })
  seam = sdkFor(emulator)
  // Warm up the HTTP client so the first test's timing is not a cold start.
  await seam.events.list({ since: new Date().toISOString() })
})
afterAll(() => emulator.close())
beforeEach(() => {
  emulator.reset()
  emulator.setDeleteDelayMs(HOLD)
})

const anHourAgo = () => new Date(Date.now() - 3600_000).toISOString()

describe('asynchronous deletes', () => {
  it('acs credential: being_deleted while pending, then gone with acs_credential.deleted', async () => {
    const graph = emulator.seed.identityGraph({ acsSystems: 1, credentialsPerUser: 2 })
    const [id, other] = graph.acsCredentialIds
    if (!id || !other) throw new Error('unreachable')
    const since = anHourAgo()
    await seam.acs.credentials.delete({ acs_credential_id: id })

    const pending = parseWith(
      schemas.acs_credential,
      await seam.acs.credentials.get({ acs_credential_id: id }),
    )
    expect(pending.warnings).toEqual([
      {
        warning_code: 'being_deleted',
        message: expect.any(String),
        created_at: expect.any(String),
      },
    ])
    const listed = await seam.acs.credentials.list({ user_identity_id: graph.userIdentityId })
    expect(listed.map((c) => c.acs_credential_id)).toContain(id)
    expect(await seam.events.list({ since })).toEqual([])

    // Deleting something already being deleted is harmless.
    await seam.acs.credentials.delete({ acs_credential_id: id })

    finishDeletions()
    await waitFor(() => !emulator.inspect.exists(id))
    expect(await errorOf(seam.acs.credentials.get({ acs_credential_id: id }))).toMatchObject({
      statusCode: 404,
      code: 'acs_credential_not_found',
    })
    const events = await seam.events.list({ since })
    expect(events).toHaveLength(1)
    expect(parseWith(schemas.seam_event, events[0])).toMatchObject({
      event_type: 'acs_credential.deleted',
      acs_credential_id: id,
      acs_system_id: graph.acsSystemIds[0],
    })
    // The other credential was not touched.
    expect((await seam.acs.credentials.get({ acs_credential_id: other })).warnings).toEqual([])
  })

  it('acs user: being_deleted, then gone with acs_user.deleted; its credentials go with it', async () => {
    const graph = emulator.seed.identityGraph({ acsSystems: 1, credentialsPerUser: 1 })
    const acsUserId = graph.acsUserIds[0] ?? ''
    const since = anHourAgo()
    await seam.acs.users.delete({ acs_user_id: acsUserId })
    const pending = parseWith(
      schemas.acs_user,
      await seam.acs.users.get({ acs_user_id: acsUserId }),
    )
    expect(pending.warnings.map((w) => w.warning_code)).toEqual(['being_deleted'])
    expect(await seam.acs.users.list({ user_identity_id: graph.userIdentityId })).toHaveLength(1)

    finishDeletions()
    await waitFor(() => !emulator.inspect.exists(acsUserId))
    const events = await seam.events.list({ since })
    for (const event of events) parseWith(schemas.seam_event, event)
    expect(events.map((e) => e.event_type).sort()).toEqual([
      'acs_credential.deleted',
      'acs_user.deleted',
    ])
    expect(events.find((e) => e.event_type === 'acs_user.deleted')).toMatchObject({
      acs_user_id: acsUserId,
      acs_system_id: graph.acsSystemIds[0],
    })
    expect(await seam.acs.credentials.list({ user_identity_id: graph.userIdentityId })).toEqual([])
    expect(
      (await seam.userIdentities.get({ user_identity_id: graph.userIdentityId })).acs_user_ids,
    ).toEqual([])
  })

  it('acs user by user_identity_id + acs_system_id', async () => {
    finishDeletions()
    const graph = emulator.seed.identityGraph({ acsSystems: 2, credentialsPerUser: 0 })
    await seam.acs.users.delete({
      user_identity_id: graph.userIdentityId,
      acs_system_id: graph.acsSystemIds[1] ?? '',
    })
    await waitFor(() => !emulator.inspect.exists(graph.acsUserIds[1] ?? ''))
    expect(emulator.inspect.exists(graph.acsUserIds[0] ?? '')).toBe(true)
  })

  it('enrollment automation: still listed while pending, then gone with enrollment_automation.deleted', async () => {
    const graph = emulator.seed.identityGraph({ enrollmentAutomations: 1 })
    const id = graph.enrollmentAutomationIds[0] ?? ''
    const since = anHourAgo()
    const response = await seam.client.delete('/user_identities/enrollment_automations/delete', {
      params: { enrollment_automation_id: id },
    })
    expect(response.data).toEqual({ ok: true })
    const list = () =>
      seam.client.get('/user_identities/enrollment_automations/list', {
        params: { user_identity_id: graph.userIdentityId },
      })
    expect((await list()).data.enrollment_automations).toHaveLength(1)
    finishDeletions()
    await waitFor(async () => (await list()).data.enrollment_automations.length === 0)
    const [event] = await seam.events.list({ since, event_type: 'enrollment_automation.deleted' })
    expect(parseWith(schemas.seam_event, event)).toMatchObject({ enrollment_automation_id: id })
    const gone = await errorOf(
      seam.client.get('/user_identities/enrollment_automations/get', {
        params: { enrollment_automation_id: id },
      }),
    )
    expect(gone).toMatchObject({ statusCode: 404, code: 'enrollment_automation_not_found' })
  })

  it('phone deactivation: still listed while pending, then gone with phone.deactivated', async () => {
    const graph = emulator.seed.identityGraph({ phones: 1 })
    const deviceId = graph.phoneIds[0] ?? ''
    const since = anHourAgo()
    await seam.phones.deactivate({ device_id: deviceId })
    expect(emulator.requests.at(-1)).toMatchObject({ method: 'DELETE', path: '/phones/deactivate' })
    const pending = parseWith(schemas.device, await seam.phones.get({ device_id: deviceId }))
    expect(pending.device_id).toBe(deviceId)
    await seam.phones.deactivate({ device_id: deviceId })
    finishDeletions()
    await waitFor(() => !emulator.inspect.exists(deviceId))
    expect(await seam.phones.list({ owner_user_identity_id: graph.userIdentityId })).toEqual([])
    const events = await seam.events.list({ since })
    expect(events).toHaveLength(1)
    expect(parseWith(schemas.seam_event, events[0])).toMatchObject({
      event_type: 'phone.deactivated',
      device_id: deviceId,
    })
  })

  it('honours per-kind delays set at runtime', async () => {
    const graph = emulator.seed.identityGraph({ credentialsPerUser: 1, phones: 1 })
    emulator.setDeleteDelayMs({ phone: 0 })
    await seam.phones.deactivate({ device_id: graph.phoneIds[0] ?? '' })
    await seam.acs.credentials.delete({ acs_credential_id: graph.acsCredentialIds[0] ?? '' })
    await waitFor(() => !emulator.inspect.exists(graph.phoneIds[0] ?? ''))
    expect(emulator.inspect.exists(graph.acsCredentialIds[0] ?? '')).toBe(true)
    expect(emulator.inspect.pendingDeletions()).toEqual([
      { id: graph.acsCredentialIds[0], kind: 'acs_credential', stuck: false, due: false },
    ])
  })
})

describe('stuck deletions', () => {
  it('never complete until released; release completes after the normal delay', async () => {
    emulator.setDeleteDelayMs(DELAY)
    const graph = emulator.seed.identityGraph({ credentialsPerUser: 2 })
    const [stuck, normal] = graph.acsCredentialIds
    if (!stuck || !normal) throw new Error('unreachable')
    emulator.stickDeletion(stuck)
    const since = anHourAgo()
    await seam.acs.credentials.delete({ acs_credential_id: stuck })
    await seam.acs.credentials.delete({ acs_credential_id: normal })
    await waitFor(() => !emulator.inspect.exists(normal))
    await sleep(DELAY * 3)
    const held = await seam.acs.credentials.get({ acs_credential_id: stuck })
    expect(held.warnings.map((w) => w.warning_code)).toEqual(['being_deleted'])
    expect(emulator.inspect.pendingDeletions()).toEqual([
      { id: stuck, kind: 'acs_credential', stuck: true, due: false },
    ])
    expect(await seam.events.list({ since, acs_credential_id: stuck })).toEqual([])

    emulator.releaseDeletion(stuck)
    expect(emulator.inspect.exists(stuck)).toBe(true)
    await waitFor(() => !emulator.inspect.exists(stuck))
    expect(await seam.events.list({ since, acs_credential_id: stuck })).toHaveLength(1)
  })

  it('can be stuck after the delete call, before it completes', async () => {
    const graph = emulator.seed.identityGraph({ enrollmentAutomations: 1 })
    const id = graph.enrollmentAutomationIds[0] ?? ''
    await seam.client.delete('/user_identities/enrollment_automations/delete', {
      params: { enrollment_automation_id: id },
    })
    emulator.stickDeletion(id)
    finishDeletions()
    await sleep(DELAY * 3)
    expect(emulator.inspect.exists(id)).toBe(true)
    emulator.releaseDeletion(id)
    await waitFor(() => !emulator.inspect.exists(id))
  })
})

describe('user_identities/delete, cascade mode (default)', () => {
  it('marks the identity being_deleted, then removes it with credentials, ACS users and client sessions', async () => {
    const graph = emulator.seed.identityGraph({
      clientSessions: 2,
      acsSystems: 2,
      credentialsPerUser: 3,
      enrollmentAutomations: 1,
      phones: 2,
    })
    const since = anHourAgo()
    await seam.userIdentities.delete({ user_identity_id: graph.userIdentityId })
    expect(emulator.requests.at(-1)).toMatchObject({ method: 'DELETE', status: 200 })

    const pending = parseWith(
      schemas.user_identity,
      await seam.userIdentities.get({ user_identity_id: graph.userIdentityId }),
    )
    expect(pending.warnings).toEqual([
      {
        warning_code: 'being_deleted',
        message: expect.any(String),
        created_at: expect.any(String),
      },
    ])
    const credentials = await seam.acs.credentials.list({ user_identity_id: graph.userIdentityId })
    expect(credentials).toHaveLength(6)
    for (const c of credentials)
      expect(c.warnings.map((w) => w.warning_code)).toEqual(['being_deleted'])
    // Deleting again while it is being deleted is harmless.
    await seam.userIdentities.delete({ user_identity_id: graph.userIdentityId })
    finishDeletions()

    await waitFor(() => emulator.inspect.remainingFor(graph.userIdentityId).userIdentity === null)
    expect(
      await errorOf(seam.userIdentities.get({ user_identity_id: graph.userIdentityId })),
    ).toMatchObject({ statusCode: 404, code: 'user_identity_not_found' })
    const remaining = emulator.inspect.remainingFor(graph.userIdentityId)
    expect(remaining).toMatchObject({
      clientSessionIds: [],
      acsUserIds: [],
      acsCredentialIds: [],
      // Not cascaded: Seam does not say it removes these.
      enrollmentAutomationIds: graph.enrollmentAutomationIds,
      phoneIds: graph.phoneIds,
      isEmpty: false,
    })
    const events = await seam.events.list({ since })
    for (const event of events) parseWith(schemas.seam_event, event)
    const count = (type: string) => events.filter((e) => e.event_type === type).length
    expect(count('acs_credential.deleted')).toBe(6)
    expect(count('acs_user.deleted')).toBe(2)
    expect(count('client_session.deleted')).toBe(2)
    expect(events).toHaveLength(10)
    expect(await seam.events.list({ since, user_identity_id: graph.userIdentityId })).toHaveLength(
      10,
    )
  })

  it('waits for a stuck credential before the identity disappears', async () => {
    emulator.setDeleteDelayMs(DELAY)
    const graph = emulator.seed.identityGraph({
      clientSessions: 1,
      acsSystems: 1,
      credentialsPerUser: 2,
      enrollmentAutomations: 0,
      phones: 0,
    })
    const stuck = graph.acsCredentialIds[0] ?? ''
    emulator.stickDeletion(stuck)
    await seam.userIdentities.delete({ user_identity_id: graph.userIdentityId })
    // Everything else is done and the identity's own delay has passed: only the stuck one blocks.
    await waitFor(() => emulator.inspect.pendingDeletions().every((p) => p.due || p.stuck))
    await sleep(DELAY)
    const remaining = emulator.inspect.remainingFor(graph.userIdentityId)
    expect(remaining.userIdentity?.warnings.map((w) => w.warning_code)).toEqual(['being_deleted'])
    expect(remaining.acsCredentialIds).toEqual([stuck])
    expect(remaining.acsUserIds).toEqual(graph.acsUserIds)
    emulator.releaseDeletion(stuck)
    await waitFor(() => emulator.inspect.remainingFor(graph.userIdentityId).userIdentity === null)
    expect(emulator.inspect.remainingFor(graph.userIdentityId)).toMatchObject({
      acsCredentialIds: [],
      acsUserIds: [],
    })
  })
})

describe('user_identities/delete, documented mode', () => {
  it('refuses while credentials, enrollment automations or phones remain, naming them', async () => {
    emulator.setUserIdentityDeleteMode('documented')
    const graph = emulator.seed.identityGraph({
      clientSessions: 1,
      acsSystems: 1,
      credentialsPerUser: 2,
      enrollmentAutomations: 1,
      phones: 1,
    })
    const error = await errorOf(
      seam.userIdentities.delete({ user_identity_id: graph.userIdentityId }),
    )
    expect(error).toMatchObject({ statusCode: 400, code: 'user_identity_has_associated_resources' })
    expect(String(error.message)).toContain(
      '2 ACS credentials, 1 enrollment automation, 1 active phone',
    )
    expect(error.data).toEqual({
      acs_credential_ids: graph.acsCredentialIds,
      enrollment_automation_ids: graph.enrollmentAutomationIds,
      device_ids: graph.phoneIds,
    })

    // The guide's order: credentials, enrollment automations, phones, then the identity.
    for (const id of graph.acsCredentialIds)
      await seam.acs.credentials.delete({ acs_credential_id: id })
    for (const id of graph.enrollmentAutomationIds) {
      await seam.client.delete('/user_identities/enrollment_automations/delete', {
        params: { enrollment_automation_id: id },
      })
    }
    for (const id of graph.phoneIds) await seam.phones.deactivate({ device_id: id })
    // Still refused while those deletions are pending.
    const pending = await errorOf(
      seam.userIdentities.delete({ user_identity_id: graph.userIdentityId }),
    )
    expect(pending).toMatchObject({ code: 'user_identity_has_associated_resources' })
    finishDeletions()

    await waitFor(() => {
      const r = emulator.inspect.remainingFor(graph.userIdentityId)
      return r.acsCredentialIds.length + r.enrollmentAutomationIds.length + r.phoneIds.length === 0
    })
    await seam.userIdentities.delete({ user_identity_id: graph.userIdentityId })
    // Synchronous in this mode: gone at once.
    expect(
      await errorOf(seam.userIdentities.get({ user_identity_id: graph.userIdentityId })),
    ).toMatchObject({ statusCode: 404, code: 'user_identity_not_found' })
  })

  it('is the mode given at start, and cascade can be switched back at runtime', async () => {
    const documented = await start({ userIdentityDeleteMode: 'documented' })
    try {
      const client = sdkFor(documented)
      const graph = documented.seed.identityGraph({ credentialsPerUser: 1 })
      expect(
        await errorOf(client.userIdentities.delete({ user_identity_id: graph.userIdentityId })),
      ).toMatchObject({ statusCode: 400 })
      documented.setUserIdentityDeleteMode('cascade')
      await client.userIdentities.delete({ user_identity_id: graph.userIdentityId })
      await waitFor(
        () => documented.inspect.remainingFor(graph.userIdentityId).userIdentity === null,
      )
    } finally {
      await documented.close()
    }
  })
})

describe('a delete delay drawn per item', () => {
  it('draws each deletion its own delay from the range, with the seeded source, and finishes each then', async () => {
    emulator.setDeleteDelayRangeMs({ minMs: 20, maxMs: 200 })
    try {
      const graph = emulator.seed.identityGraph({ acsSystems: 1, credentialsPerUser: 4 })
      for (const id of graph.acsCredentialIds)
        await seam.acs.credentials.delete({ acs_credential_id: id })
      const drawn = emulator.drawnDelays.map((d) => ({ id: d.id, kind: d.kind }))
      expect(drawn).toEqual(graph.acsCredentialIds.map((id) => ({ id, kind: 'acs_credential' })))
      for (const d of emulator.drawnDelays) {
        expect(d.delayMs).toBeGreaterThanOrEqual(20)
        expect(d.delayMs).toBeLessThanOrEqual(200)
      }
      expect(new Set(emulator.drawnDelays.map((d) => d.delayMs)).size).toBeGreaterThan(1)
      await waitFor(() => graph.acsCredentialIds.every((id) => !emulator.inspect.exists(id)))
    } finally {
      emulator.setDeleteDelayRangeMs(undefined)
    }
  })

  it('refuses a range that is not one', async () => {
    expect(() => emulator.setDeleteDelayRangeMs({ minMs: 10, maxMs: 5 })).toThrow(RangeError)
    emulator.reset()
    expect(emulator.drawnDelays).toEqual([])
  })
})
