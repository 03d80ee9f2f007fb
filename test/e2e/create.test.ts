/**
 * POST /user-identities over HTTP against the local runtime (`npm start`'s server, in-process on a free
 * port) and the Seam emulator: create, conflicts, linking, an unknown ACS user, every malformed request,
 * and the same flows again with the emulator injecting 429s and 503s.
 */
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { MAX_BODY_BYTES } from '../../functions/api/http.js'
import type { UserIdentity } from '../../functions/seam/index.js'
import { type LocalRuntime, startLocalRuntime } from '../../local/runtime.js'
import type { SeamEmulator } from '../../local/seam-emulator/index.js'
import { startLocalServer } from '../../local/server.js'
import { type Answer, READING_MATRIX, send as sendTo } from './helpers.js'

/**
 * The emulator's fault draws, cycling through throttled, fine, unavailable, fine, fine, fine (with
 * throttleRate = unavailableRate = 0.1): one Seam request in three faulted, never four in a row, so every
 * flow meets both kinds of fault on every run without depending on luck.
 */
function scriptedFaults(): () => number {
  const cycle = [0.05, 0.5, 0.15, 0.5, 0.5, 0.5]
  let i = 0
  return () => cycle[i++ % cycle.length] as number
}

let draw: () => number = Math.random
let runtime: LocalRuntime
let seam: SeamEmulator

beforeAll(async () => {
  runtime = await startLocalRuntime({ port: 0, emulator: { random: () => draw() } })
  seam = runtime.emulator as SeamEmulator
})
afterAll(() => runtime?.close())
beforeEach(() => {
  seam.reset()
  draw = Math.random
})

const send = (
  method: string,
  path: string,
  init: { body?: string | Uint8Array; contentType?: string } = {},
): Promise<Answer> => sendTo(runtime.url, method, path, init)

const post = (body: unknown) =>
  send('POST', '/user-identities', { body: JSON.stringify(body), contentType: 'application/json' })

/** The contract's error shape: {"error": {type, message, request_id, ...}}, JSON, no stack trace. */
function expectContractError(answer: Answer, status: number, type: string) {
  expect(answer.status, answer.text).toBe(status)
  expect(answer.headers.get('content-type')).toMatch(/^application\/json/)
  expect(Object.keys(answer.body ?? {})).toEqual(['error'])
  expect(answer.body.error).toMatchObject({
    type,
    message: expect.stringMatching(/\w/),
    request_id: expect.stringMatching(/^\S+$/),
  })
  expect(answer.text).not.toMatch(/\n\s+at |node_modules|\.ts:\d+/)
  return answer.body.error as Record<string, unknown> & { message: string; request_id: string }
}

function identityOf(answer: Answer): UserIdentity {
  expect(answer.status, answer.text).toBe(201)
  return answer.body.user_identity as UserIdentity
}

let n = 0
/** A fresh person's identifying fields, distinct per call. */
function person() {
  n++
  const tag = `${Date.now().toString(36)}-${n}`
  return {
    user_identity_key: `app-account-${tag}`,
    email_address: `person.${tag}@example.com`,
    phone_number: `+1555${String(1_000_000 + n).slice(-7)}`,
    full_name: `Person ${tag}`,
  }
}

/** One ACS user in a fresh ACS system each (Seam allows one ACS user per system per identity). */
function acsUsers(count: number): string[] {
  return Array.from({ length: count }, () => {
    const system = seam.seed.acsSystem()
    return seam.seed.acsUser({ acsSystemId: system.acs_system_id }).acs_user_id
  })
}

const MODES = [
  { mode: 'Seam answering normally', faults: false },
  { mode: 'the emulator injecting 429s and 503s', faults: true },
] as const

describe.each(MODES)('POST /user-identities with $mode', ({ faults }) => {
  beforeEach(() => {
    if (!faults) return
    draw = scriptedFaults()
    seam.setFaults({ throttleRate: 0.1, unavailableRate: 0.1, retryAfterSeconds: 0 })
  })

  /** With faults on, the flow did meet both a 429 and a 503 (else it proved nothing). */
  function expectFaultsMet() {
    if (!faults) return
    const kinds = new Set(seam.requests.filter((r) => r.faultInjected).map((r) => r.fault))
    expect([...kinds].sort()).toEqual(['throttled', 'unavailable'])
  }

  it('201 with the Seam user identity, which the emulator holds', async () => {
    // Two creates: with faults on, the first meets a 429 and the second a 503 on user_identities/create.
    for (const p of [person(), person()]) {
      const answer = await post(p)
      const identity = identityOf(answer)
      expect(answer.headers.get('content-type')).toMatch(/^application\/json/)
      expect(answer.headers.get('x-replayed')).toBeNull()
      expect(identity).toMatchObject({ ...p, acs_user_ids: [] })
      expect(identity.user_identity_id).toMatch(/^[0-9a-f-]{36}$/)
      expect(identity.created_at).toEqual(expect.any(String))
      expect(seam.inspect.resource(identity.user_identity_id)).toEqual(identity)
    }
    expect(seam.inspect.counts().userIdentities).toBe(2)
    expectFaultsMet()
  })

  it.each(['user_identity_key', 'email_address', 'phone_number'] as const)(
    'a duplicate %s: 409 naming the field and the existing identity, nothing created',
    async (field) => {
      const first = person()
      const existing = identityOf(await post(first))
      const answer = await post({ ...person(), [field]: first[field] })
      const error = expectContractError(answer, 409, 'user_identity_conflict')
      expect(error).toMatchObject({
        field,
        user_identity_id: existing.user_identity_id,
        conflicts: [{ field, user_identity_id: existing.user_identity_id }],
      })
      expect(error.message).toContain(field)
      expect(error.message).toContain(existing.user_identity_id)
      expect(seam.inspect.counts().userIdentities).toBe(1)
      expectFaultsMet()
    },
  )

  it('the same request again (a retry after a lost response): 201 with the same identity, not 409', async () => {
    const p = person()
    const first = identityOf(await post(p))
    const again = await post(p)
    expect(identityOf(again).user_identity_id).toBe(first.user_identity_id)
    expect(again.headers.get('x-replayed')).toBe('true')
    expect(seam.inspect.counts().userIdentities).toBe(1)
  })

  it('links every acs_user_ids entry: the emulator shows the ACS users linked to the new identity', async () => {
    const ids = acsUsers(3)
    const identity = identityOf(await post({ ...person(), acs_user_ids: ids }))
    expect([...identity.acs_user_ids].sort()).toEqual([...ids].sort())
    for (const id of ids) {
      expect(seam.inspect.resource(id)).toMatchObject({
        user_identity_id: identity.user_identity_id,
      })
    }
    expect(seam.inspect.remainingFor(identity.user_identity_id).acsUserIds.sort()).toEqual(
      [...ids].sort(),
    )
    expectFaultsMet()
  })

  it('an unknown ACS user: 404 acs_user_not_found naming it; no new identity, nothing linked', async () => {
    const [known] = acsUsers(1)
    const ghost = randomUUID()
    const before = seam.inspect.counts().userIdentities
    const answer = await post({ ...person(), acs_user_ids: [known, ghost] })
    const error = expectContractError(answer, 404, 'acs_user_not_found')
    expect(error.acs_user_id).toBe(ghost)
    expect(error.message).toContain(ghost)
    expect(seam.inspect.counts().userIdentities).toBe(before)
    const knownUser = seam.inspect.resource(known as string) as { user_identity_id?: string | null }
    expect(knownUser.user_identity_id ?? null).toBeNull()
    expectFaultsMet()
  })

  it("an ACS user linked to another account's identity: 409 acs_user_already_linked; it stays there, nothing created", async () => {
    const holder = seam.seed.userIdentity()
    const system = seam.seed.acsSystem()
    const taken = seam.seed.acsUser({
      acsSystemId: system.acs_system_id,
      userIdentityId: holder.user_identity_id,
    }).acs_user_id
    const [free] = acsUsers(1)
    const answer = await post({ ...person(), acs_user_ids: [free, taken] })
    const error = expectContractError(answer, 409, 'acs_user_already_linked')
    expect(error).toMatchObject({ acs_user_id: taken, user_identity_id: holder.user_identity_id })
    expect(error.message).toContain(taken)
    expect(error.message).toContain(holder.user_identity_id)
    expect(seam.inspect.counts().userIdentities).toBe(1)
    expect(seam.inspect.resource(taken)).toMatchObject({
      user_identity_id: holder.user_identity_id,
    })
    const freeUser = seam.inspect.resource(free as string) as { user_identity_id?: string | null }
    expect(freeUser.user_identity_id ?? null).toBeNull()
    expect(seam.requests.map((r) => r.path)).not.toContain('/user_identities/create')
    expect(seam.requests.map((r) => r.path)).not.toContain('/user_identities/add_acs_user')
    expectFaultsMet()
  })

  it('the same request again, its ACS users linked by the first: 201 replayed, nothing moved', async () => {
    const ids = acsUsers(2)
    const body = { ...person(), acs_user_ids: ids }
    const first = identityOf(await post(body))
    const links = seam.requests.filter((r) => r.path === '/user_identities/add_acs_user').length
    const again = await post(body)
    expect(identityOf(again).user_identity_id).toBe(first.user_identity_id)
    expect([...identityOf(again).acs_user_ids].sort()).toEqual([...ids].sort())
    expect(again.headers.get('x-replayed')).toBe('true')
    expect(seam.requests.filter((r) => r.path === '/user_identities/add_acs_user')).toHaveLength(
      links,
    )
    expect(seam.inspect.counts().userIdentities).toBe(1)
  })
})

describe('an ACS user that vanishes between its check and its link (a race)', () => {
  it('404 acs_user_not_found naming it, and the identity this request created is gone again', async () => {
    const [vanishing] = acsUsers(1) as [string]
    const before = seam.inspect.counts().userIdentities
    seam.setDeleteDelayMs(0)
    // After the create (and the acs/users/get before it), just before the add_acs_user: the ACS user is
    // deleted in Seam.
    seam.beforeNextRequest('/user_identities/add_acs_user', async () => {
      const deleted = await fetch(`${seam.url}/acs/users/delete`, {
        method: 'POST',
        headers: { authorization: `Bearer ${seam.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ acs_user_id: vanishing }),
      })
      expect(deleted.status).toBe(200)
      while (seam.inspect.exists(vanishing)) await new Promise((r) => setTimeout(r, 1))
    })
    const answer = await post({ ...person(), acs_user_ids: [vanishing] })
    const error = expectContractError(answer, 404, 'acs_user_not_found')
    expect(error.acs_user_id).toBe(vanishing)
    expect(error.message).toContain(vanishing)
    expect(error.message).toMatch(/had created was deleted again, with no ACS user linked/)
    expect(error.user_identity_id).toBeUndefined()
    const calls = seam.requests.map((r) => `${r.path} ${r.status}`)
    // Before deleting it, the undo asks Seam what is linked to the identity (nothing, here).
    expect(calls).toEqual([
      '/acs/users/get 200',
      '/user_identities/create 200',
      '/acs/users/delete 200',
      '/user_identities/add_acs_user 404',
      '/acs/users/list 200',
      '/user_identities/delete 200',
    ])
    // Seam deletes the identity asynchronously (here at once): nothing of this request remains.
    for (let i = 0; i < 200 && seam.inspect.counts().userIdentities > before; i++) {
      await new Promise((r) => setTimeout(r, 10))
    }
    expect(seam.inspect.counts().userIdentities).toBe(before)
  })
})

describe('Seam unavailable while linking (a 503 before the deadline)', () => {
  it('503 naming the identity, partly linked; the same request again finishes the linking', async () => {
    const ids = acsUsers(2) as [string, string]
    const body = { ...person(), acs_user_ids: ids }
    // The first add_acs_user goes through; the second, and every retry of it, is answered 503.
    seam.beforeNextRequest('/user_identities/add_acs_user', () => {
      seam.beforeNextRequest('/user_identities/add_acs_user', () => {
        seam.setFaults({
          unavailableRate: 1,
          retryAfterSeconds: 0,
          paths: ['/user_identities/add_acs_user'],
        })
      })
    })
    const answer = await post(body)
    seam.setFaults({})
    const error = expectContractError(answer, 503, 'seam_unavailable')
    const kept = error.user_identity_id as string
    expect(kept).toMatch(/^[0-9a-f-]{36}$/)
    expect(error.seam_request_id).toEqual(expect.any(String))
    expect(error.message).toBe(
      `Seam is unavailable right now, while this request linked ACS users. User identity ${kept}, which this request created, exists, but not every ACS user is linked to it yet. Seam may still link ACS user ${ids[1]} to it without having answered. Repeating the same request is safe: it answers with that identity and finishes the linking.`,
    )
    // Seam answered the link 503: it may have linked it, so the answer says what may exist.
    expect(error).toMatchObject({
      may_have_taken_effect: true,
      user_identity_key: body.user_identity_key,
    })
    expect(seam.inspect.exists(kept)).toBe(true)
    expect(seam.inspect.remainingFor(kept).acsUserIds).toEqual([ids[0]])
    expect(
      seam.requests.filter((r) => r.path === '/user_identities/add_acs_user').map((r) => r.status),
    ).toEqual([200, 503, 503, 503, 503])

    const again = await post(body)
    const identity = identityOf(again)
    expect(again.headers.get('x-replayed')).toBe('true')
    expect(identity.user_identity_id).toBe(kept)
    expect([...identity.acs_user_ids].sort()).toEqual([...ids].sort())
    expect(seam.inspect.remainingFor(kept).acsUserIds.sort()).toEqual([...ids].sort())
    expect(seam.inspect.counts().userIdentities).toBe(1)
  })
})

describe('POST /user-identities when Seam stays down', () => {
  it('503 seam_unavailable in the contract shape, nothing created', async () => {
    seam.setFaults({ unavailableRate: 1, nonJsonErrorRate: 0.5, retryAfterSeconds: 0 })
    const answer = await post(person())
    expectContractError(answer, 503, 'seam_unavailable')
    expect(seam.inspect.counts().userIdentities).toBe(0)
  })

  it('throttled throughout: 503 with Retry-After', async () => {
    seam.setFaults({ throttleRate: 1, retryAfterSeconds: 1 })
    const answer = await post(person())
    expectContractError(answer, 503, 'seam_unavailable')
    expect(answer.headers.get('retry-after')).toBe('1')
  })
})

describe('malformed requests: their 4xx in the contract shape, never a 5xx, nothing sent to Seam', () => {
  const json = 'application/json'

  async function expectRejected(
    init: { body?: string | Uint8Array; contentType?: string },
    status: number,
    type: string,
    message: RegExp,
  ) {
    const answer = await send('POST', '/user-identities', init)
    expect(answer.status).toBeLessThan(500)
    const error = expectContractError(answer, status, type)
    expect(error.message).toMatch(message)
    expect(seam.requests).toHaveLength(0)
  }

  it.each<[string, string, RegExp]>([
    ['malformed JSON', '{"user_identity_key": ', /not valid JSON/],
    ['JSON with a trailing comma', '{"user_identity_key": "k",}', /not valid JSON/],
    ['a number for the key', '{"user_identity_key": 7}', /user_identity_key: expected string/],
    [
      'a string for acs_user_ids',
      '{"user_identity_key": "k", "acs_user_ids": "x"}',
      /acs_user_ids: expected array/,
    ],
    ['an array body', '[{"user_identity_key": "k"}]', /expected object/],
    ['a JSON null body', 'null', /expected object/],
    ['an unknown field', '{"user_identity_key": "k", "role": "admin"}', /unknown field: role/],
    ['a bad email', '{"email_address": "not-an-email"}', /email_address: Invalid email/],
    ['a bad phone', '{"phone_number": "555-0100"}', /phone_number: must be in E\.164/],
    ['a bad ACS user id', '{"user_identity_key": "k", "acs_user_ids": ["x"]}', /acs_user_ids\.0/],
    ['an empty object', '{}', /at least one of user_identity_key, email_address, phone_number/],
    ['an empty body', '', /empty/],
    ['a body of blanks', '  \n', /empty/],
  ])('%s → 400 invalid_input', (_what, body, message) =>
    expectRejected({ body, contentType: json }, 400, 'invalid_input', message),
  )

  const valid = '{"user_identity_key": "k"}'
  it.each<[string, { body?: string | Uint8Array; contentType?: string }, RegExp]>([
    ['no body and no content type', {}, /Content-Type header is missing/],
    [
      'no content type',
      { body: new TextEncoder().encode(valid) },
      /Content-Type header is missing/,
    ],
    ['text/plain', { body: valid, contentType: 'text/plain' }, /"text\/plain" is not supported/],
    [
      'a form',
      { body: 'user_identity_key=k', contentType: 'application/x-www-form-urlencoded' },
      /not supported/,
    ],
    [
      'JSON in Latin-1',
      { body: valid, contentType: 'application/json; charset=iso-8859-1' },
      /UTF-8/,
    ],
  ])('%s → 415 unsupported_media_type', (_what, init, message) =>
    expectRejected(init, 415, 'unsupported_media_type', message),
  )

  it('a body over 16 KiB → 413 payload_too_large', () =>
    expectRejected(
      {
        body: JSON.stringify({ user_identity_key: 'k', full_name: 'x'.repeat(MAX_BODY_BYTES) }),
        contentType: json,
      },
      413,
      'payload_too_large',
      /limit is 16384 bytes \(16 KiB\)/,
    ))

  it('names the offending fields in error.fields', async () => {
    const answer = await post({ email_address: 'nope', phone_number: '123', color: 'red' })
    const error = expectContractError(answer, 400, 'invalid_input')
    expect([...(error.fields as string[])].sort()).toEqual([
      'color',
      'email_address',
      'phone_number',
    ])
  })

  it('a body of exactly 16 KiB is accepted', async () => {
    const base = JSON.stringify({ ...person(), full_name: '' })
    const padded = `${base.slice(0, -1)}${' '.repeat(MAX_BODY_BYTES - base.length)}}`
    expect(Buffer.byteLength(padded)).toBe(MAX_BODY_BYTES)
    const answer = await send('POST', '/user-identities', { body: padded, contentType: json })
    expect(answer.status, answer.text).toBe(400) // full_name '' is too short, but it was read
    expect(answer.body.error.fields).toEqual(['full_name'])
  })

  it('every error carries its own request id', async () => {
    const a = expectContractError(await post({}), 400, 'invalid_input')
    const b = expectContractError(await post({}), 400, 'invalid_input')
    expect(a.request_id).not.toBe(b.request_id)
  })
})

describe('routing', () => {
  it.each([
    ['GET', '/nowhere'],
    ['POST', '/user-identities/extra/segments'],
    ['POST', '/user-identities/'],
    ['POST', '/'], // GET / is the local index (test/local/startup.test.ts)
  ])('unknown route %s %s → 404 route_not_found', async (method, path) => {
    const answer = await send(method, path)
    expectContractError(answer, 404, 'route_not_found')
  })

  it.each([
    ['GET', '/user-identities', 'POST'],
    ['PUT', '/user-identities', 'POST'],
    ['DELETE', '/user-identities', 'POST'],
    ['POST', '/user-identities/abc', 'DELETE'],
    ['DELETE', '/deletions/abc--1', 'GET'],
  ])('wrong method %s %s → 405 method_not_allowed, Allow: %s', async (method, path, allow) => {
    const answer = await send(method, path)
    expectContractError(answer, 405, 'method_not_allowed')
    expect(answer.headers.get('allow')).toBe(allow)
    expect(seam.requests).toHaveLength(0)
  })
})

describe("the local server's own failure", () => {
  it('a handler module that cannot be loaded: 500 internal_error, with a request id', async () => {
    const server = await startLocalServer({
      routes: [
        {
          method: 'GET',
          path: '/broken',
          entry: 'functions/api/no-such-handler.ts',
          id: 'Broken',
          description: 'a route whose module does not exist',
          callsSeam: false,
        },
      ],
    })
    const quiet = vi.spyOn(console, 'error').mockImplementation(() => undefined)
    try {
      const first = expectContractError(
        await sendTo(server.url, 'GET', '/broken'),
        500,
        'internal_error',
      )
      const second = expectContractError(
        await sendTo(server.url, 'GET', '/broken'),
        500,
        'internal_error',
      )
      expect(first.request_id).not.toBe(second.request_id)
      expect(String(quiet.mock.calls[0]?.[0])).toContain(first.request_id)
    } finally {
      quiet.mockRestore()
      await server.close()
    }
  })
})

/**
 * The full matrix of readings of what Seam leaves undocumented (each alone at its other reading, all of
 * them, none), on one representative flow: create and link, a repeat, a duplicate key, an email in
 * another case, an ACS user linked elsewhere, an unknown ACS user. Each answer agrees with what Seam did.
 */
describe.each(READING_MATRIX)('POST /user-identities under $name', ({ behaviours }) => {
  beforeEach(() => seam.setBehaviours(behaviours))

  it('creates and links; replays a repeat; 409 for a duplicate and for an ACS user linked elsewhere', async () => {
    const p = person()
    const ids = acsUsers(2) as [string, string]
    const first = identityOf(await post({ ...p, acs_user_ids: ids }))
    expect([...first.acs_user_ids].sort()).toEqual([...ids].sort())
    const again = await post({ ...p, acs_user_ids: ids })
    expect(identityOf(again).user_identity_id).toBe(first.user_identity_id)
    expect(again.headers.get('x-replayed')).toBe('true')

    const duplicate = await post({ ...person(), user_identity_key: p.user_identity_key })
    expect(expectContractError(duplicate, 409, 'user_identity_conflict')).toMatchObject({
      field: 'user_identity_key',
      user_identity_id: first.user_identity_id,
    })

    // Another case of the same email: a conflict where Seam compares emails case-blind, else a new
    // identity (and its repeat a replay).
    const shouted = { ...person(), email_address: p.email_address.toUpperCase() }
    const other = await post(shouted)
    if (behaviours.emailUniqueness === 'case_insensitive') {
      expect(expectContractError(other, 409, 'user_identity_conflict')).toMatchObject({
        field: 'email_address',
        user_identity_id: first.user_identity_id,
      })
    } else {
      const created = identityOf(other)
      expect(created.user_identity_id).not.toBe(first.user_identity_id)
      expect(identityOf(await post(shouted)).user_identity_id).toBe(created.user_identity_id)
    }

    const taken = await post({ ...person(), acs_user_ids: [ids[0]] })
    expect(expectContractError(taken, 409, 'acs_user_already_linked')).toMatchObject({
      acs_user_id: ids[0],
      user_identity_id: first.user_identity_id,
    })
    expect(seam.inspect.resource(ids[0])).toMatchObject({
      user_identity_id: first.user_identity_id,
    })

    const ghost = randomUUID()
    const unknown = await post({ ...person(), acs_user_ids: [ghost] })
    expect(expectContractError(unknown, 404, 'acs_user_not_found').acs_user_id).toBe(ghost)
    expect(seam.inspect.counts().userIdentities).toBe(
      behaviours.emailUniqueness === 'case_insensitive' ? 1 : 2,
    )
  })
})
