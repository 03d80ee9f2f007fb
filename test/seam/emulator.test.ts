/**
 * The Seam client against the local Seam emulator (local/seam-emulator): every list across pages of 2,
 * retries through injected 429/503 bursts (fake sleep: no real waiting), the raw enrollment-automation
 * routes, and Seam's error shapes end to end.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  createSeamClient,
  isNotFound,
  type SeamClient,
  type SeamClientOptions,
  SeamError,
  SeamThrottledError,
  SeamUnavailableError,
} from '../../functions/seam/index.js'
import { type SeamEmulator, startSeamEmulator } from '../../local/seam-emulator/index.js'

/** A random source the test scripts: queued draws first, then "no fault". */
const draws: number[] = []
const scriptedRandom = () => draws.shift() ?? 0.999

let emulator: SeamEmulator
const waits: number[] = []

beforeAll(async () => {
  emulator = await startSeamEmulator({ pageSize: 2, deleteDelayMs: 20, random: scriptedRandom })
})
afterAll(() => emulator.close())
beforeEach(() => {
  emulator.reset()
  draws.length = 0
  waits.length = 0
})

function client(options: SeamClientOptions = {}): SeamClient {
  return createSeamClient(
    { apiKey: emulator.apiKey, endpoint: emulator.url },
    {
      sleep: async (ms) => {
        waits.push(ms)
      },
      random: () => 0.5,
      ...options,
    },
  )
}

const requestsTo = (path: string) => emulator.requests.filter((r) => r.path === path)
const sorted = (ids: readonly string[]) => [...ids].sort()

describe('every list, across pages of 2', () => {
  it('reads user identities, ACS users and ACS credentials to the last page', async () => {
    const graph = emulator.seed.identityGraph({ acsSystems: 3, credentialsPerUser: 2 })
    for (let n = 0; n < 4; n++) emulator.seed.userIdentity()
    const seam = client()

    const identities = await seam.userIdentities.list()
    expect(identities).toHaveLength(5)
    expect(identities.map((i) => i.user_identity_id)).toContain(graph.userIdentityId)
    expect(requestsTo('/user_identities/list')).toHaveLength(3)

    const users = await seam.acsUsers.list({ user_identity_id: graph.userIdentityId })
    expect(sorted(users.map((u) => u.acs_user_id))).toEqual(sorted(graph.acsUserIds))
    expect(requestsTo('/acs/users/list')).toHaveLength(2)

    const credentials = await seam.acsCredentials.list({ user_identity_id: graph.userIdentityId })
    expect(credentials).toHaveLength(6)
    expect(sorted(credentials.map((c) => c.acs_credential_id))).toEqual(
      sorted(graph.acsCredentialIds),
    )
    expect(requestsTo('/acs/credentials/list')).toHaveLength(3)
    expect(requestsTo('/acs/credentials/list')[1]?.params).toHaveProperty('page_cursor')

    const firstUser = graph.acsUserIds[0] ?? ''
    expect(await seam.acsCredentials.list({ acs_user_id: firstUser })).toHaveLength(2)
  })

  it('lists client sessions, phones, enrollment automations and ACS systems of an identity', async () => {
    const graph = emulator.seed.identityGraph({
      clientSessions: 3,
      acsSystems: 1,
      enrollmentAutomations: 3,
      phones: 3,
    })
    const seam = client()
    const id = graph.userIdentityId
    const sessions = await seam.clientSessions.list({ user_identity_id: id })
    expect(sorted(sessions.map((s) => s.client_session_id))).toEqual(sorted(graph.clientSessionIds))
    const phones = await seam.phones.list({ owner_user_identity_id: id })
    expect(sorted(phones.map((p) => p.device_id))).toEqual(sorted(graph.phoneIds))
    const automations = await seam.enrollmentAutomations.list({ user_identity_id: id })
    expect(sorted(automations.map((a) => a.enrollment_automation_id))).toEqual(
      sorted(graph.enrollmentAutomationIds),
    )
    const systems = await seam.acsSystems.list()
    expect(systems.length).toBeGreaterThanOrEqual(1)
  })
})

describe('the identity lifecycle calls', () => {
  it('creates, gets (by id and key), links an ACS user, and deletes', async () => {
    const system = emulator.seed.acsSystem()
    const acsUser = emulator.seed.acsUser({ acsSystemId: system.acs_system_id })
    const seam = client()

    const created = await seam.userIdentities.create({
      user_identity_key: 'emp-42',
      full_name: 'Ada Example',
    })
    expect(created.user_identity_key).toBe('emp-42')
    const byId = await seam.userIdentities.get({ user_identity_id: created.user_identity_id })
    const byKey = await seam.userIdentities.get({ user_identity_key: 'emp-42' })
    expect(byId.user_identity_id).toBe(created.user_identity_id)
    expect(byKey.user_identity_id).toBe(created.user_identity_id)

    await seam.userIdentities.addAcsUser({
      user_identity_id: created.user_identity_id,
      acs_user_id: acsUser.acs_user_id,
    })
    const linked = await seam.acsUsers.list({ user_identity_id: created.user_identity_id })
    expect(linked.map((u) => u.acs_user_id)).toEqual([acsUser.acs_user_id])
    expect((await seam.acsUsers.get(acsUser.acs_user_id)).user_identity_id).toBe(
      created.user_identity_id,
    )

    await seam.userIdentities.delete(created.user_identity_id)
    expect(seam.stats).toMatchObject({ retries: 0 })
  })

  it('maps an unknown id to SeamNotFoundError with Seam type and request id', async () => {
    const err = await client()
      .userIdentities.get({ user_identity_id: '00000000-0000-4000-8000-000000000000' })
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(SeamError)
    expect(err).toMatchObject({
      name: 'SeamNotFoundError',
      type: 'user_identity_not_found',
      status: 404,
    })
    expect((err as SeamError).requestId).toBeTruthy()
    expect(isNotFound(err)).toBe(true)
  })

  it('rejects a wrong API key with SeamUnauthorizedError', async () => {
    const seam = createSeamClient({ apiKey: 'seam_wrong_key', endpoint: emulator.url })
    await expect(seam.acsSystems.list()).rejects.toMatchObject({
      name: 'SeamUnauthorizedError',
      status: 401,
      retryable: false,
    })
  })

  it('deletes and deactivates, and the confirming events can be listed', async () => {
    const since = new Date(Date.now() - 1_000).toISOString()
    const graph = emulator.seed.identityGraph({ acsSystems: 1, credentialsPerUser: 1, phones: 1 })
    const seam = client()
    const credentialId = graph.acsCredentialIds[0] ?? ''
    const phoneId = graph.phoneIds[0] ?? ''
    await seam.acsCredentials.delete(credentialId)
    await seam.phones.deactivate(phoneId)

    let events: Awaited<ReturnType<SeamClient['events']['list']>> = []
    for (let i = 0; i < 100 && events.length < 1; i++) {
      events = await seam.events.list({ since, event_type: 'acs_credential.deleted' })
      if (events.length < 1) await new Promise((resolve) => setTimeout(resolve, 20))
    }
    expect(events.map((e) => (e as { acs_credential_id?: string }).acs_credential_id)).toEqual([
      credentialId,
    ])
    const filtered = await seam.events.list({ since, acs_credential_id: credentialId })
    expect(filtered.length).toBeGreaterThanOrEqual(1)
  })
})

describe('enrollment automations (raw routes)', () => {
  it('list, get and delete through the SDK client', async () => {
    const graph = emulator.seed.identityGraph({ acsSystems: 0, enrollmentAutomations: 3 })
    const seam = client()
    const [first] = graph.enrollmentAutomationIds
    if (!first) throw new Error('seed gave no enrollment automation')
    const one = await seam.enrollmentAutomations.get(first)
    expect(one).toMatchObject({
      enrollment_automation_id: first,
      user_identity_id: graph.userIdentityId,
    })
    expect(typeof one.credential_manager_acs_system_id).toBe('string')
    await seam.enrollmentAutomations.delete(first)
    expect(requestsTo('/user_identities/enrollment_automations/delete')).toHaveLength(1)
    await expect(
      seam.enrollmentAutomations.get('00000000-0000-4000-8000-000000000000'),
    ).rejects.toMatchObject({ name: 'SeamNotFoundError', type: 'enrollment_automation_not_found' })
  })
})

describe('retries through injected faults', () => {
  it('rides out a 429/503 burst (JSON and HTML) and counts the retries', async () => {
    const graph = emulator.seed.identityGraph({ acsSystems: 3 })
    emulator.setFaults({
      throttleRate: 0.25,
      unavailableRate: 0.25,
      nonJsonErrorRate: 0.5,
      retryAfterSeconds: 1,
    })
    // 429, then 503 HTML (second draw < 0.5), then 503 JSON, then success.
    draws.push(0.1, 0.3, 0.1, 0.3, 0.9)
    const seam = client()
    const users = await seam.acsUsers.list({ user_identity_id: graph.userIdentityId })
    expect(users).toHaveLength(3)
    expect(seam.stats.retries).toBe(3)
    expect(seam.stats.requests).toBe(5) // 3 faults + 2 pages
    const faults = emulator.requests.filter((r) => r.faultInjected).map((r) => r.fault)
    expect(faults).toEqual(['throttled', 'unavailable_non_json', 'unavailable'])
    expect(waits[0]).toBe(1_000) // Retry-After: 1 honoured on the 429
  })

  it('retries a page in the middle of a list without starting over', async () => {
    const graph = emulator.seed.identityGraph({ acsSystems: 1, credentialsPerUser: 5 })
    emulator.setFaults({ unavailableRate: 0.5, paths: ['/acs/credentials/list'] })
    draws.push(0.9, 0.1, 0.1, 0.9, 0.9) // page 1 ok, page 2 fails twice, then ok
    const seam = client()
    const credentials = await seam.acsCredentials.list({ user_identity_id: graph.userIdentityId })
    expect(credentials).toHaveLength(5)
    const cursors = requestsTo('/acs/credentials/list').map((r) => r.params.page_cursor)
    expect(cursors[0]).toBeUndefined()
    expect(cursors[1]).toBeDefined()
    expect(cursors[2]).toBe(cursors[1])
    expect(cursors[3]).toBe(cursors[1])
    expect(seam.stats).toEqual({ requests: 5, retries: 2 })
  })

  it('gives up after maxAttempts with a categorical name', async () => {
    emulator.setFaults({ throttleRate: 1, retryAfterSeconds: 0 })
    const seam = client({ retry: { maxAttempts: 3 } })
    const err = await seam.acsSystems.list().catch((e: unknown) => e)
    expect(err).toMatchObject({ name: SeamThrottledError, status: 429, attempts: 3 })
    expect(seam.stats).toEqual({ requests: 3, retries: 2 })
  })

  it('retries create on 429 and creates exactly one identity', async () => {
    emulator.setFaults({ throttleRate: 0.5 })
    draws.push(0.1, 0.1, 0.9)
    const seam = client()
    const created = await seam.userIdentities.create({ user_identity_key: 'once' })
    expect(created.user_identity_key).toBe('once')
    expect(seam.stats.retries).toBe(2)
    expect(emulator.inspect.counts().userIdentities).toBe(1)
  })

  it('retries a create carrying a key on 503 (a repeat is rejected as a duplicate), one identity', async () => {
    emulator.setFaults({ unavailableRate: 0.5 })
    draws.push(0.1, 0.9)
    const seam = client()
    const created = await seam.userIdentities.create({ user_identity_key: 'after-a-503' })
    expect(created.user_identity_key).toBe('after-a-503')
    expect(requestsTo('/user_identities/create').map((r) => r.status)).toEqual([503, 200])
    expect(emulator.inspect.counts().userIdentities).toBe(1)
  })

  it('never retries a create without key, email or phone on 503: a repeat could make a twin', async () => {
    emulator.setFaults({ unavailableRate: 1 })
    const seam = client()
    const err = await seam.userIdentities
      .create({ full_name: 'Only A Name' })
      .catch((e: unknown) => e)
    expect(err).toMatchObject({ name: SeamUnavailableError, status: 503, retryable: false })
    expect(requestsTo('/user_identities/create')).toHaveLength(1)
    expect(seam.stats).toEqual({ requests: 1, retries: 0 })
  })
})
