/**
 * The facade against a scripted stub on 127.0.0.1: retries really repeat the HTTP request (a fresh SDK
 * request per attempt), the SDK does not retry on its own, POST is retried only when safe, every page
 * is read, and a misbehaving cursor is an error rather than a loop or a silent truncation.
 */
import type { ServerResponse } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import {
  createSeamClient,
  SeamInvalidResponseError,
  type SeamRetryInfo,
  SeamUnavailableError,
  withSeamDeadline,
} from '../../functions/seam/index.js'
import { realSleep } from '../../functions/seam/retry-policy.js'
import {
  fakeSleep,
  freePort,
  json,
  type RecordedRequest,
  type StubHandler,
  type StubServer,
  seamError,
  startStubServer,
  TEST_API_KEY,
} from './stub-server.js'

const servers: StubServer[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()))
})

async function stub(handler: StubHandler, port?: number): Promise<StubServer> {
  const server = await startStubServer(handler, port)
  servers.push(server)
  return server
}

function client(endpoint: string, extra: Parameters<typeof createSeamClient>[1] = {}) {
  const time = fakeSleep()
  const retries: SeamRetryInfo[] = []
  const seam = createSeamClient(
    { apiKey: TEST_API_KEY, endpoint },
    { sleep: time.sleep, random: () => 0.5, onRetry: (i) => retries.push(i), ...extra },
  )
  return { seam, waits: time.waits, retries }
}

const unavailable = (res: ServerResponse) => {
  res.writeHead(503, { 'content-type': 'text/html' })
  res.end('<html>503</html>')
}

const identity = (id: string) => ({ user_identity_id: id, user_identity_key: null })

describe('retries through the facade', () => {
  it('repeats a GET through a 503 burst, one HTTP request per attempt', async () => {
    const server = await stub((_req, res, i) =>
      i < 2 ? unavailable(res) : json(res, 200, { user_identity: identity('ui_1') }),
    )
    const { seam, waits, retries } = client(server.url)
    await expect(seam.userIdentities.get({ user_identity_id: 'ui_1' })).resolves.toMatchObject({
      user_identity_id: 'ui_1',
    })
    expect(server.requests).toHaveLength(3)
    expect(seam.stats).toEqual({ requests: 3, retries: 2 })
    expect(waits).toHaveLength(2)
    expect(retries.map((r) => [r.route, r.attempt, r.status])).toEqual([
      ['GET /user_identities/get', 1, 503],
      ['GET /user_identities/get', 2, 503],
    ])
  })

  it('turns SDK retries off: with maxAttempts 1 a 503 is exactly one request', async () => {
    const server = await stub((_req, res) => unavailable(res))
    const { seam } = client(server.url, { retry: { maxAttempts: 1 } })
    await expect(seam.acsUsers.get('au_1')).rejects.toMatchObject({ name: SeamUnavailableError })
    expect(server.requests).toHaveLength(1)
  })

  it('gives up after maxAttempts, saying how many attempts were made', async () => {
    const server = await stub((_req, res) => unavailable(res))
    const { seam } = client(server.url, { retry: { maxAttempts: 3 } })
    const err = await seam.acsCredentials.delete('ac_1').catch((e: unknown) => e)
    expect(err).toMatchObject({ name: SeamUnavailableError, attempts: 3, status: 503 })
    expect((err as Error).message).toContain('gave up after 3 attempts')
    expect(server.requests.map((r) => r.method)).toEqual(['DELETE', 'DELETE', 'DELETE'])
  })

  it('honours Retry-After on 429, capped by maxRetryAfterMs', async () => {
    const server = await stub((_req, res, i) =>
      i === 0
        ? seamError(res, 429, 'rate_limited', 'slow down', { 'retry-after': '2' })
        : i === 1
          ? seamError(res, 429, 'rate_limited', 'slow down', { 'retry-after': '86400' })
          : json(res, 200, { phones: [] }),
    )
    const { seam, waits } = client(server.url, { retry: { maxRetryAfterMs: 4_000 } })
    await expect(seam.phones.list({ owner_user_identity_id: 'ui_1' })).resolves.toEqual([])
    expect(waits).toEqual([2_000, 4_000])
  })

  it('repeats user_identities/create with a key on 503: Seam would reject a repeat as a duplicate', async () => {
    const server = await stub((_req, res, i) =>
      i === 0 ? unavailable(res) : json(res, 200, { user_identity: identity('ui_new') }),
    )
    const { seam } = client(server.url)
    await expect(seam.userIdentities.create({ email_address: 'a@example.com' })).resolves.toEqual(
      identity('ui_new'),
    )
    expect(server.requests.map((r) => r.body)).toEqual([
      { email_address: 'a@example.com' },
      { email_address: 'a@example.com' },
    ])
  })

  it('does not repeat a create without key, email or phone on 503: it may have been created', async () => {
    const server = await stub((_req, res) => unavailable(res))
    const { seam } = client(server.url)
    const err = await seam.userIdentities.create({ full_name: 'A' }).catch((e: unknown) => e)
    expect(err).toMatchObject({ name: SeamUnavailableError, status: 503, retryable: false })
    expect(server.requests).toHaveLength(1)
    expect(seam.stats).toEqual({ requests: 1, retries: 0 })
  })

  it('does not repeat such a POST that timed out', async () => {
    const server = await stub(() => undefined) // never answers
    const { seam } = client(server.url, { timeoutMs: 200 })
    const err = await seam.userIdentities.create({ full_name: 'A' }).catch((e) => e)
    expect(err).toMatchObject({ type: 'seam_timeout', retryable: false })
    expect(server.requests).toHaveLength(1)
  })

  it('retries user_identities/create on 429, sending the same body again', async () => {
    const server = await stub((_req, res, i) =>
      i === 0
        ? seamError(res, 429, 'rate_limited', 'slow down')
        : json(res, 200, { user_identity: identity('ui_new') }),
    )
    const { seam } = client(server.url)
    await expect(
      seam.userIdentities.create({ user_identity_key: 'k1', full_name: 'A' }),
    ).resolves.toMatchObject({ user_identity_id: 'ui_new' })
    expect(server.requests.map((r) => [r.method, r.pathname, r.body])).toEqual([
      ['POST', '/user_identities/create', { user_identity_key: 'k1', full_name: 'A' }],
      ['POST', '/user_identities/create', { user_identity_key: 'k1', full_name: 'A' }],
    ])
  })

  it('retries user_identities/create when the connection was refused (never reached Seam)', async () => {
    const port = await freePort()
    let server: StubServer | undefined
    const { seam, waits } = client(`http://127.0.0.1:${port}`, {
      // Seam "comes up" during the first backoff.
      sleep: async (ms) => {
        waits.push(ms)
        server ??= await stub(
          (_req, res) => json(res, 200, { user_identity: identity('ui_late') }),
          port,
        )
      },
    })
    await expect(seam.userIdentities.create({ user_identity_key: 'k2' })).resolves.toMatchObject({
      user_identity_id: 'ui_late',
    })
    expect(waits).toHaveLength(1)
    expect(server?.requests).toHaveLength(1)
    expect(seam.stats).toEqual({ requests: 2, retries: 1 })
  })

  it('retries a PUT (add_acs_user) on 503, and a DELETE on a reset connection', async () => {
    const server = await stub((_req, res, i) => {
      if (i === 0) return unavailable(res)
      if (i === 2) return res.socket?.resetAndDestroy()
      return json(res, 200, { ok: true })
    })
    const { seam } = client(server.url)
    await seam.userIdentities.addAcsUser({ user_identity_id: 'ui_1', acs_user_id: 'au_1' })
    await seam.userIdentities.delete('ui_1')
    expect(server.requests.map((r) => `${r.method} ${r.pathname}`)).toEqual([
      'PUT /user_identities/add_acs_user',
      'PUT /user_identities/add_acs_user',
      'DELETE /user_identities/delete',
      'DELETE /user_identities/delete',
    ])
    expect(server.requests[3]?.query).toEqual({ user_identity_id: 'ui_1' })
  })
})

describe('under the deadline of a whole request (withSeamDeadline)', () => {
  it('cuts an attempt short at the deadline and retries no further', async () => {
    const server = await stub(() => undefined) // never answers
    const { seam } = client(server.url, { timeoutMs: 5_000, sleep: realSleep })
    const started = Date.now()
    const err = await withSeamDeadline(started + 300, () =>
      seam.acsUsers.get('au_1').catch((e: unknown) => e),
    )
    const took = Date.now() - started
    expect(took).toBeGreaterThanOrEqual(250)
    expect(took).toBeLessThan(1_500)
    expect(err).toMatchObject({ name: SeamUnavailableError, type: 'seam_timeout' })
    expect((err as Error).message).toMatch(/before this request's deadline/)
    expect(server.requests).toHaveLength(1)
  })

  it('sends nothing once the deadline has passed', async () => {
    const server = await stub((_req, res) => json(res, 200, { acs_user: { acs_user_id: 'au_1' } }))
    const { seam } = client(server.url)
    const err = await withSeamDeadline(Date.now() - 1, () =>
      seam.acsUsers.get('au_1').catch((e: unknown) => e),
    )
    expect(err).toMatchObject({
      name: SeamUnavailableError,
      type: 'seam_timeout',
      failure: 'deadline_passed',
    })
    expect((err as Error).message).toMatch(/deadline of this request had passed/)
    expect(server.requests).toHaveLength(0)
    expect(seam.stats.requests).toBe(0)
  })

  it('leaves calls outside the scope alone', async () => {
    const server = await stub((_req, res, i) =>
      i === 0 ? unavailable(res) : json(res, 200, { acs_user: { acs_user_id: 'au_1' } }),
    )
    const { seam } = client(server.url)
    await withSeamDeadline(Date.now() - 1, async () => undefined)
    await expect(seam.acsUsers.get('au_1')).resolves.toEqual({ acs_user_id: 'au_1' })
  })
})

/** Pages of `items` of size `size`, cursors "c<offset>"; `faults` scripts odd answers by request. */
function pagedHandler(
  key: string,
  items: object[],
  size: number,
  fault?: (req: RecordedRequest, res: ServerResponse, i: number) => boolean,
): StubHandler {
  return (req, res, i) => {
    if (fault?.(req, res, i)) return
    const offset = Number((req.query.page_cursor ?? 'c0').slice(1))
    const page = items.slice(offset, offset + size)
    const next = offset + size < items.length ? `c${offset + size}` : null
    json(res, 200, {
      [key]: page,
      pagination: { has_next_page: next !== null, next_page_cursor: next, next_page_url: null },
    })
  }
}

describe('pagination', () => {
  const users = Array.from({ length: 7 }, (_, n) => ({ acs_user_id: `au_${n}` }))

  it('reads acs/users/list to the last page, keeping the filters on every page', async () => {
    const server = await stub(pagedHandler('acs_users', users, 3))
    const { seam } = client(server.url)
    const all = await seam.acsUsers.list({ user_identity_id: 'ui_1' })
    expect(all.map((u) => u.acs_user_id)).toEqual(users.map((u) => u.acs_user_id))
    expect(server.requests.map((r) => r.query)).toEqual([
      { user_identity_id: 'ui_1' },
      { user_identity_id: 'ui_1', page_cursor: 'c3' },
      { user_identity_id: 'ui_1', page_cursor: 'c6' },
    ])
  })

  it('retries one failed page without starting over', async () => {
    const server = await stub(
      pagedHandler('acs_credentials', users, 3, (_req, res, i) => {
        if (i !== 1) return false
        unavailable(res)
        return true
      }),
    )
    const { seam } = client(server.url)
    expect(await seam.acsCredentials.list({ acs_user_id: 'au_1' })).toHaveLength(7)
    expect(server.requests.map((r) => r.query.page_cursor)).toEqual([undefined, 'c3', 'c3', 'c6'])
    expect(seam.stats).toEqual({ requests: 4, retries: 1 })
  })

  it('throws on a cursor that repeats instead of looping forever', async () => {
    const server = await stub((_req, res) =>
      json(res, 200, {
        user_identities: [identity('ui_1')],
        pagination: { has_next_page: true, next_page_cursor: 'same' },
      }),
    )
    const { seam } = client(server.url)
    const err = await seam.userIdentities.list().catch((e: unknown) => e)
    expect(err).toMatchObject({
      name: SeamInvalidResponseError,
      type: 'seam_pagination_cursor_repeated',
      route: 'GET /user_identities/list',
    })
    expect(server.requests).toHaveLength(2)
  })

  it('throws past maxPages', async () => {
    const server = await stub(pagedHandler('user_identities', users, 1))
    const { seam } = client(server.url, { maxPages: 4 })
    await expect(seam.userIdentities.list()).rejects.toMatchObject({
      name: SeamInvalidResponseError,
      type: 'seam_pagination_limit_exceeded',
    })
    expect(server.requests).toHaveLength(4)
  })

  it('throws when a next page is announced without a cursor, or pagination is missing', async () => {
    const noCursor = await stub((_req, res) =>
      json(res, 200, {
        acs_users: [],
        pagination: { has_next_page: true, next_page_cursor: null },
      }),
    )
    await expect(client(noCursor.url).seam.acsUsers.list({})).rejects.toMatchObject({
      type: 'seam_invalid_response',
    })
    const noPagination = await stub((_req, res) => json(res, 200, { acs_users: [] }))
    await expect(client(noPagination.url).seam.acsUsers.list({})).rejects.toMatchObject({
      type: 'seam_invalid_response',
    })
  })
})

describe('raw enrollment automation routes', () => {
  const automation = {
    enrollment_automation_id: 'ea_1',
    credential_manager_acs_system_id: 'as_1',
    user_identity_id: 'ui_1',
    created_at: '2026-01-01T00:00:00.000Z',
    workspace_id: 'ws_1',
  }

  it('list, get and delete go to /user_identities/enrollment_automations/* with auth', async () => {
    const server = await stub((req, res, i) => {
      if (i === 0) return unavailable(res) // retried like any GET
      if (req.pathname.endsWith('/list'))
        return json(res, 200, { enrollment_automations: [automation] })
      if (req.pathname.endsWith('/get'))
        return json(res, 200, { enrollment_automation: automation })
      return json(res, 200, { ok: true })
    })
    const { seam } = client(server.url)
    expect(await seam.enrollmentAutomations.list({ user_identity_id: 'ui_1' })).toEqual([
      automation,
    ])
    expect(await seam.enrollmentAutomations.get('ea_1')).toEqual(automation)
    await expect(seam.enrollmentAutomations.delete('ea_1')).resolves.toBeUndefined()
    expect(server.requests.map((r) => [r.method, r.pathname, r.query])).toEqual([
      ['GET', '/user_identities/enrollment_automations/list', { user_identity_id: 'ui_1' }],
      ['GET', '/user_identities/enrollment_automations/list', { user_identity_id: 'ui_1' }],
      ['GET', '/user_identities/enrollment_automations/get', { enrollment_automation_id: 'ea_1' }],
      [
        'DELETE',
        '/user_identities/enrollment_automations/delete',
        { enrollment_automation_id: 'ea_1' },
      ],
    ])
    expect(server.requests.every((r) => r.authorization === `Bearer ${TEST_API_KEY}`)).toBe(true)
  })

  it('maps a 404 on a raw route like any other', async () => {
    const server = await stub((_req, res) =>
      seamError(res, 404, 'enrollment_automation_not_found', 'Enrollment automation not found'),
    )
    await expect(client(server.url).seam.enrollmentAutomations.get('ea_x')).rejects.toMatchObject({
      name: 'SeamNotFoundError',
      type: 'enrollment_automation_not_found',
      route: 'GET /user_identities/enrollment_automations/get',
    })
  })

  it('rejects a list answer that is not a list', async () => {
    const server = await stub((_req, res) => json(res, 200, { enrollment_automations: {} }))
    await expect(
      client(server.url).seam.enrollmentAutomations.list({ user_identity_id: 'ui_1' }),
    ).rejects.toMatchObject({ name: SeamInvalidResponseError })
  })
})

describe('the other routes', () => {
  it('sends events/list filters as query parameters', async () => {
    const server = await stub((_req, res) => json(res, 200, { events: [{ event_id: 'ev_1' }] }))
    const { seam } = client(server.url)
    const events = await seam.events.list({
      since: '2026-01-01T00:00:00.000Z',
      event_type: 'acs_user.deleted',
      acs_user_id: 'au_1',
      limit: 50,
    })
    expect(events).toEqual([{ event_id: 'ev_1' }])
    expect(server.requests[0]).toMatchObject({
      method: 'GET',
      pathname: '/events/list',
      query: {
        since: '2026-01-01T00:00:00.000Z',
        event_type: 'acs_user.deleted',
        acs_user_id: 'au_1',
        limit: '50',
      },
    })
  })

  it('reaches client_sessions, phones and acs systems through the SDK routes', async () => {
    const server = await stub((req, res) => {
      const bodies: Record<string, object> = {
        '/client_sessions/list': { client_sessions: [{ client_session_id: 'cs_1' }] },
        '/client_sessions/delete': { ok: true },
        '/phones/get': { phone: { device_id: 'ph_1' } },
        '/phones/deactivate': { ok: true },
        '/acs/systems/list': { acs_systems: [{ acs_system_id: 'as_1' }] },
      }
      json(res, 200, bodies[req.pathname] ?? {})
    })
    const { seam } = client(server.url)
    expect(await seam.clientSessions.list({ user_identity_id: 'ui_1' })).toHaveLength(1)
    await seam.clientSessions.delete('cs_1')
    expect(await seam.phones.get('ph_1')).toMatchObject({ device_id: 'ph_1' })
    await seam.phones.deactivate('ph_1')
    expect(await seam.acsSystems.list()).toHaveLength(1)
    expect(server.requests.map((r) => `${r.method} ${r.pathname}`)).toEqual([
      'GET /client_sessions/list',
      'DELETE /client_sessions/delete',
      'GET /phones/get',
      'DELETE /phones/deactivate',
      'GET /acs/systems/list',
    ])
  })

  it('refuses an empty or malformed API key with a configuration error', () => {
    expect(() => createSeamClient({ apiKey: '' })).toThrow(/SEAM_API_KEY/)
    expect(() => createSeamClient({ apiKey: 'not-a-seam-key' })).toThrow(
      expect.objectContaining({ name: 'SeamConfigurationError', type: 'seam_invalid_api_key' }),
    )
  })
})
