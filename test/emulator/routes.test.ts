import {
  isSeamHttpApiError,
  isSeamHttpInvalidInputError,
  type SeamHttp,
} from '@seamapi/http/connect'
import { openapi, schemas } from '@seamapi/types/connect'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { SeamEmulator } from '../../local/seam-emulator/index.js'
import { routes } from '../../local/seam-emulator/routes/index.js'
import { errorOf, expectOpenApiSchema, parseWith, sdkFor, start } from './helpers.js'

let emulator: SeamEmulator
let seam: SeamHttp

beforeAll(async () => {
  emulator = await start()
  seam = sdkFor(emulator)
})
afterAll(() => emulator.close())
beforeEach(() => emulator.reset())

const raw = (path: string, init: RequestInit & { query?: Record<string, string> } = {}) => {
  const url = new URL(path, emulator.url)
  for (const [k, v] of Object.entries(init.query ?? {})) url.searchParams.append(k, v)
  return fetch(url, {
    ...init,
    headers: {
      authorization: `Bearer ${emulator.apiKey}`,
      'content-type': 'application/json',
      ...init.headers,
    },
  })
}

describe('user_identities', () => {
  it('creates an identity and returns it in get (by id and by key) and list', async () => {
    const created = await seam.userIdentities.create({
      user_identity_key: 'user-1',
      email_address: 'jane@example.com',
      phone_number: '+15555550100',
      full_name: 'Jane Doe',
    })
    parseWith(schemas.user_identity, created)
    expect(created).toMatchObject({
      user_identity_key: 'user-1',
      email_address: 'jane@example.com',
      phone_number: '+15555550100',
      full_name: 'Jane Doe',
      display_name: 'Jane Doe',
      warnings: [],
      acs_user_ids: [],
    })
    expect(await seam.userIdentities.get({ user_identity_id: created.user_identity_id })).toEqual(
      created,
    )
    expect(await seam.userIdentities.get({ user_identity_key: 'user-1' })).toEqual(created)
    const listed = await seam.userIdentities.list()
    expect(listed).toEqual([created])
  })

  it('creates the ACS users of acs_system_ids and links them', async () => {
    const system = emulator.seed.acsSystem()
    const created = await seam.userIdentities.create({
      full_name: 'Sam',
      acs_system_ids: [system.acs_system_id],
    })
    expect(created.acs_user_ids).toHaveLength(1)
    const [acsUser] = await seam.acs.users.list({ user_identity_id: created.user_identity_id })
    expect(acsUser).toMatchObject({
      acs_user_id: created.acs_user_ids[0],
      acs_system_id: system.acs_system_id,
      user_identity_id: created.user_identity_id,
      user_identity_full_name: 'Sam',
    })
  })

  it('lists by user_identity_ids and search', async () => {
    const a = emulator.seed.userIdentity({ fullName: 'Alice Smith' })
    const b = emulator.seed.userIdentity({ fullName: 'Bob Jones' })
    emulator.seed.userIdentity({ fullName: 'Carol' })
    const byIds = await seam.userIdentities.list({
      user_identity_ids: [a.user_identity_id, b.user_identity_id],
    })
    expect(byIds.map((u) => u.user_identity_id)).toEqual([a.user_identity_id, b.user_identity_id])
    const bySearch = await seam.userIdentities.list({ search: 'jones' })
    expect(bySearch.map((u) => u.user_identity_id)).toEqual([b.user_identity_id])
  })

  it('enforces unique user_identity_key, email_address and phone_number', async () => {
    await seam.userIdentities.create({
      user_identity_key: 'k1',
      email_address: 'one@example.com',
      phone_number: '+15555550101',
    })
    for (const duplicate of [
      { user_identity_key: 'k1' },
      { email_address: 'ONE@example.com' },
      { phone_number: '+15555550101' },
    ]) {
      const error = await errorOf(seam.userIdentities.create(duplicate))
      expect(isSeamHttpApiError(error)).toBe(true)
      expect(error).toMatchObject({ statusCode: 400, code: 'user_identity_already_exists' })
      expect(String(error.message)).toContain(Object.keys(duplicate)[0])
    }
    // Different values are fine.
    await seam.userIdentities.create({ user_identity_key: 'k2', email_address: 'two@example.com' })
    expect(await seam.userIdentities.list()).toHaveLength(2)
  })

  it('rejects malformed email addresses and phone numbers with invalid_input', async () => {
    const email = await errorOf(seam.userIdentities.create({ email_address: 'not-an-email' }))
    expect(isSeamHttpInvalidInputError(email)).toBe(true)
    const phone = await errorOf(seam.userIdentities.create({ phone_number: '5555550100' }))
    expect(isSeamHttpInvalidInputError(phone)).toBe(true)
    if (isSeamHttpInvalidInputError(phone)) {
      expect(phone.getValidationErrorMessages('phone_number')[0]).toContain('E.164')
    }
  })

  it('add_acs_user links an ACS user (PUT), 404s for either missing, creates an identity by key', async () => {
    const identity = emulator.seed.userIdentity()
    const system = emulator.seed.acsSystem()
    const acsUser = await seam.acs.users.create({
      acs_system_id: system.acs_system_id,
      full_name: 'Linked User',
    })
    await seam.userIdentities.addAcsUser({
      user_identity_id: identity.user_identity_id,
      acs_user_id: acsUser.acs_user_id,
    })
    expect(emulator.requests.at(-1)).toMatchObject({
      method: 'PUT',
      path: '/user_identities/add_acs_user',
      status: 200,
    })
    const updated = await seam.userIdentities.get({ user_identity_id: identity.user_identity_id })
    expect(updated.acs_user_ids).toEqual([acsUser.acs_user_id])
    const linked = await seam.acs.users.get({ acs_user_id: acsUser.acs_user_id })
    expect(linked.user_identity_id).toBe(identity.user_identity_id)

    const missingUser = await errorOf(
      seam.userIdentities.addAcsUser({
        user_identity_id: identity.user_identity_id,
        acs_user_id: crypto.randomUUID(),
      }),
    )
    expect(missingUser).toMatchObject({ statusCode: 404, code: 'acs_user_not_found' })
    const missingIdentity = await errorOf(
      seam.userIdentities.addAcsUser({
        user_identity_id: crypto.randomUUID(),
        acs_user_id: acsUser.acs_user_id,
      }),
    )
    expect(missingIdentity).toMatchObject({ statusCode: 404, code: 'user_identity_not_found' })

    await seam.userIdentities.addAcsUser({
      user_identity_key: 'brand-new',
      acs_user_id: acsUser.acs_user_id,
    })
    const byKey = await seam.userIdentities.get({ user_identity_key: 'brand-new' })
    expect(byKey.acs_user_ids).toEqual([acsUser.acs_user_id])
  })

  it('get 404s with user_identity_not_found, by id and by key', async () => {
    for (const request of [
      seam.userIdentities.get({ user_identity_id: crypto.randomUUID() }),
      seam.userIdentities.get({ user_identity_key: 'nobody' }),
    ]) {
      expect(await errorOf(request)).toMatchObject({
        statusCode: 404,
        code: 'user_identity_not_found',
      })
    }
  })
})

describe('client_sessions', () => {
  it('create (PUT), get, list by user_identity_id, delete synchronously with an event', async () => {
    const identity = emulator.seed.userIdentity()
    const since = new Date(Date.now() - 1000).toISOString()
    const session = await seam.clientSessions.create({
      user_identity_id: identity.user_identity_id,
    })
    parseWith(schemas.client_session, session)
    expect(session.token.startsWith('seam_cst')).toBe(true)
    expect(session.user_identity_id).toBe(identity.user_identity_id)
    emulator.seed.clientSession() // someone else's
    expect(await seam.clientSessions.get({ client_session_id: session.client_session_id })).toEqual(
      session,
    )
    const listed = await seam.clientSessions.list({ user_identity_id: identity.user_identity_id })
    expect(listed).toEqual([session])
    expect(await seam.clientSessions.list()).toHaveLength(2)

    await seam.clientSessions.delete({ client_session_id: session.client_session_id })
    expect(emulator.requests.at(-1)).toMatchObject({ method: 'DELETE', status: 200 })
    expect(await seam.clientSessions.list({ user_identity_id: identity.user_identity_id })).toEqual(
      [],
    )
    const events = await seam.events.list({ since, event_type: 'client_session.deleted' })
    expect(events).toHaveLength(1)
    const event = parseWith(schemas.seam_event, events[0])
    expect(event).toMatchObject({
      event_type: 'client_session.deleted',
      client_session_id: session.client_session_id,
    })
    const again = await errorOf(
      seam.clientSessions.delete({ client_session_id: session.client_session_id }),
    )
    expect(again).toMatchObject({ statusCode: 404, code: 'client_session_not_found' })
  })
})

describe('acs', () => {
  it('systems list and get', async () => {
    const system = emulator.seed.acsSystem({ name: 'HQ' })
    const manager = emulator.seed.acsSystem({ name: 'Mobile', isCredentialManager: true })
    const systems = await seam.acs.systems.list()
    expect(systems.map((s) => s.acs_system_id)).toEqual([
      system.acs_system_id,
      manager.acs_system_id,
    ])
    for (const s of systems) parseWith(schemas.acs_system, s)
    expect(await seam.acs.systems.list({ search: 'mobile' })).toHaveLength(1)
    expect(await seam.acs.systems.get({ acs_system_id: system.acs_system_id })).toEqual(systems[0])
    expect(
      await errorOf(seam.acs.systems.get({ acs_system_id: crypto.randomUUID() })),
    ).toMatchObject({ statusCode: 404, code: 'acs_system_not_found' })
  })

  it('users create, get (by id or identity + system), list with filters', async () => {
    const identity = emulator.seed.userIdentity({ fullName: 'Jo', emailAddress: 'jo@example.com' })
    const [s1, s2] = [emulator.seed.acsSystem(), emulator.seed.acsSystem()]
    if (!s1 || !s2) throw new Error('unreachable')
    const u1 = await seam.acs.users.create({
      acs_system_id: s1.acs_system_id,
      full_name: 'Jo',
      email_address: 'jo@example.com',
      user_identity_id: identity.user_identity_id,
    })
    parseWith(schemas.acs_user, u1)
    expect(u1).toMatchObject({
      full_name: 'Jo',
      user_identity_id: identity.user_identity_id,
      user_identity_email_address: 'jo@example.com',
      is_managed: true,
      warnings: [],
    })
    const u2 = emulator.seed.acsUser({ acsSystemId: s2.acs_system_id })
    expect(await seam.acs.users.get({ acs_user_id: u1.acs_user_id })).toEqual(u1)
    expect(
      await seam.acs.users.get({
        user_identity_id: identity.user_identity_id,
        acs_system_id: s1.acs_system_id,
      }),
    ).toEqual(u1)
    expect(await seam.acs.users.list({ user_identity_id: identity.user_identity_id })).toEqual([u1])
    expect(
      (await seam.acs.users.list({ acs_system_id: s2.acs_system_id })).map((u) => u.acs_user_id),
    ).toEqual([u2.acs_user_id])
    expect(
      await seam.acs.users.list({ user_identity_email_address: 'jo@example.com' }),
    ).toHaveLength(1)
    expect(await seam.acs.users.list()).toHaveLength(2)

    const missingSystem = await errorOf(
      seam.acs.users.create({ acs_system_id: crypto.randomUUID(), full_name: 'x' }),
    )
    expect(missingSystem).toMatchObject({ statusCode: 404, code: 'acs_system_not_found' })
    expect(await errorOf(seam.acs.users.get({ acs_user_id: crypto.randomUUID() }))).toMatchObject({
      statusCode: 404,
      code: 'acs_user_not_found',
    })
  })

  it('credentials get and list by user identity, ACS user and system', async () => {
    const graph = emulator.seed.identityGraph({ acsSystems: 2, credentialsPerUser: 2 })
    const other = emulator.seed.identityGraph({ acsSystems: 1, credentialsPerUser: 1 })
    const mine = await seam.acs.credentials.list({ user_identity_id: graph.userIdentityId })
    expect(mine.map((c) => c.acs_credential_id).sort()).toEqual([...graph.acsCredentialIds].sort())
    for (const c of mine) {
      parseWith(schemas.acs_credential, c)
      expect(c.user_identity_id).toBe(graph.userIdentityId)
    }
    const byUser = await seam.acs.credentials.list({ acs_user_id: graph.acsUserIds[0] ?? '' })
    expect(byUser).toHaveLength(2)
    const bySystem = await seam.acs.credentials.list({ acs_system_id: other.acsSystemIds[0] ?? '' })
    expect(bySystem.map((c) => c.acs_credential_id)).toEqual(other.acsCredentialIds)
    expect(await seam.acs.credentials.list()).toHaveLength(5)
    const first = mine[0]
    if (!first) throw new Error('unreachable')
    expect(await seam.acs.credentials.get({ acs_credential_id: first.acs_credential_id })).toEqual(
      first,
    )
    expect(
      await errorOf(seam.acs.credentials.get({ acs_credential_id: crypto.randomUUID() })),
    ).toMatchObject({ statusCode: 404, code: 'acs_credential_not_found' })
  })
})

describe('enrollment automations (raw routes, not in the SDK)', () => {
  it('list by user identity, get, 404, and require user_identity_id', async () => {
    const graph = emulator.seed.identityGraph({ enrollmentAutomations: 2 })
    emulator.seed.identityGraph({ enrollmentAutomations: 1 })
    const { data } = await seam.client.get('/user_identities/enrollment_automations/list', {
      params: { user_identity_id: graph.userIdentityId },
    })
    expect(data.ok).toBe(true)
    expect(data.enrollment_automations).toHaveLength(2)
    for (const automation of data.enrollment_automations) {
      expectOpenApiSchema('enrollment_automation', automation)
      expect(automation.user_identity_id).toBe(graph.userIdentityId)
    }
    const id = graph.enrollmentAutomationIds[0]
    const got = await seam.client.get('/user_identities/enrollment_automations/get', {
      params: { enrollment_automation_id: id },
    })
    expect(got.data.enrollment_automation).toEqual(data.enrollment_automations[0])
    const missing = await errorOf(
      seam.client.get('/user_identities/enrollment_automations/get', {
        params: { enrollment_automation_id: crypto.randomUUID() },
      }),
    )
    expect(missing).toMatchObject({ statusCode: 404, code: 'enrollment_automation_not_found' })
    const noFilter = await errorOf(seam.client.get('/user_identities/enrollment_automations/list'))
    expect(isSeamHttpInvalidInputError(noFilter)).toBe(true)
  })
})

describe('phones', () => {
  it('list by owner and by credential, get, 404 device_not_found', async () => {
    const graph = emulator.seed.identityGraph({ phones: 2, credentialsPerUser: 1 })
    emulator.seed.phone()
    const phones = await seam.phones.list({ owner_user_identity_id: graph.userIdentityId })
    expect(phones.map((p) => p.device_id)).toEqual(graph.phoneIds)
    for (const phone of phones) {
      parseWith(schemas.device, phone)
      expectOpenApiSchema('phone', { ...pick(phone, phoneFields) })
      expect(['ios_phone', 'android_phone']).toContain(phone.device_type)
    }
    expect(
      await seam.phones.list({ acs_credential_id: graph.acsCredentialIds[0] ?? '' }),
    ).toHaveLength(2)
    expect(await seam.phones.list()).toHaveLength(3)
    const first = phones[0]
    if (!first) throw new Error('unreachable')
    expect(await seam.phones.get({ device_id: first.device_id })).toEqual(first)
    expect(await errorOf(seam.phones.get({ device_id: crypto.randomUUID() }))).toMatchObject({
      statusCode: 404,
      code: 'device_not_found',
    })
  })
})

const phoneFields = Object.keys(
  (openapi as unknown as { components: { schemas: { phone: { properties: object } } } }).components
    .schemas.phone.properties,
)
const pick = (value: object, keys: string[]) =>
  Object.fromEntries(Object.entries(value).filter(([key]) => keys.includes(key)))

describe('unknown user_identity_id filters', () => {
  it('return empty lists (not everything)', async () => {
    emulator.seed.identityGraph({ enrollmentAutomations: 1, phones: 1 })
    const nobody = crypto.randomUUID()
    expect(await seam.acs.users.list({ user_identity_id: nobody })).toEqual([])
    expect(await seam.acs.credentials.list({ user_identity_id: nobody })).toEqual([])
    expect(await seam.clientSessions.list({ user_identity_id: nobody })).toEqual([])
    expect(await seam.phones.list({ owner_user_identity_id: nobody })).toEqual([])
    const { data } = await seam.client.get('/user_identities/enrollment_automations/list', {
      params: { user_identity_id: nobody },
    })
    expect(data.enrollment_automations).toEqual([])
  })
})

interface CredentialBody {
  acs_credential: { acs_credential_id: string }
}

describe('HTTP surface', () => {
  it('serves exactly the methods Seam’s OpenAPI spec lists for each path', () => {
    const paths = (openapi as unknown as { paths: Record<string, Record<string, unknown>> }).paths
    for (const route of routes.values()) {
      const spec = paths[route.path]
      expect(spec, route.path).toBeDefined()
      expect([...route.methods].sort(), route.path).toEqual(
        Object.keys(spec ?? {})
          .map((m) => m.toUpperCase())
          .sort(),
      )
    }
  })

  it('answers 405 for another method and 404 for an unknown path, in Seam’s error shape', async () => {
    const put = await raw('/acs/credentials/list', { method: 'PUT' })
    expect(put.status).toBe(405)
    expect(await put.json()).toMatchObject({ ok: false, error: { type: 'method_not_allowed' } })
    const unknown = await raw('/devices/list')
    expect(unknown.status).toBe(404)
    const body = (await unknown.json()) as { error: { request_id: string } }
    expect(body).toMatchObject({ ok: false, error: { type: 'not_found' } })
    expect(body.error.request_id).toBe(unknown.headers.get('seam-request-id'))
  })

  it('accepts parameters from the query string and from a JSON body, whatever the method', async () => {
    const graph = emulator.seed.identityGraph({ acsSystems: 1, credentialsPerUser: 1 })
    const credentialId = graph.acsCredentialIds[0] ?? ''
    const viaBody = await raw('/acs/credentials/get', {
      method: 'POST',
      body: JSON.stringify({ acs_credential_id: credentialId }),
    })
    expect(((await viaBody.json()) as CredentialBody).acs_credential.acs_credential_id).toBe(
      credentialId,
    )
    const viaQuery = await raw('/acs/credentials/get', {
      method: 'POST',
      query: { acs_credential_id: credentialId },
    })
    expect(((await viaQuery.json()) as CredentialBody).acs_credential.acs_credential_id).toBe(
      credentialId,
    )
    const deleteWithBody = await raw('/acs/credentials/delete', {
      method: 'DELETE',
      body: JSON.stringify({ acs_credential_id: credentialId }),
    })
    expect(await deleteWithBody.json()).toEqual({ ok: true })
    const putWithQuery = await raw('/user_identities/add_acs_user', {
      method: 'PUT',
      query: { user_identity_id: graph.userIdentityId, acs_user_id: graph.acsUserIds[0] ?? '' },
    })
    expect(putWithQuery.status).toBe(200)
  })

  it('answers 400 invalid_input for missing, malformed and non-JSON parameters', async () => {
    const missing = await errorOf(seam.client.get('/acs/credentials/get'))
    expect(isSeamHttpInvalidInputError(missing)).toBe(true)
    if (isSeamHttpInvalidInputError(missing)) {
      expect(missing.getValidationErrorMessages('acs_credential_id')).toEqual([
        'acs_credential_id is required',
      ])
    }
    const malformed = await errorOf(seam.acs.users.get({ acs_user_id: 'not-a-uuid' }))
    expect(malformed).toMatchObject({ statusCode: 400, code: 'invalid_input' })
    const badJson = await raw('/user_identities/create', { method: 'POST', body: '{oops' })
    expect(badJson.status).toBe(400)
    expect(await badJson.json()).toMatchObject({ error: { type: 'invalid_input' } })
    const badLimit = await errorOf(seam.acs.users.list({ limit: -1 }))
    expect(badLimit).toMatchObject({ statusCode: 400, code: 'invalid_input' })
  })

  it('sends a seam-request-id header on success and error responses', async () => {
    const ok = await raw('/acs/systems/list')
    const failed = await raw('/acs/systems/get', { query: { acs_system_id: crypto.randomUUID() } })
    const okId = ok.headers.get('seam-request-id')
    expect(okId).toMatch(/^[0-9a-f-]{36}$/)
    expect(failed.headers.get('seam-request-id')).toMatch(/^[0-9a-f-]{36}$/)
    expect(failed.headers.get('seam-request-id')).not.toBe(okId)
    const error = await errorOf(seam.acs.systems.get({ acs_system_id: crypto.randomUUID() }))
    expect(error.requestId).toBe(emulator.requests.at(-1)?.requestId)
  })
})
