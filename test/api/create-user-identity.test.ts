/**
 * POST /user-identities: the Lambda handler against the Seam emulator on 127.0.0.1, through the real
 * Seam module (seamClientFromEnvironment with SEAM_API_KEY / SEAM_ENDPOINT).
 */
import { randomUUID } from 'node:crypto'
import { createServer } from 'node:net'
import type { APIGatewayProxyResult, Context } from 'aws-lambda'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { createUserIdentityHandler } from '../../functions/api/create-user-identity.js'
import { LIMITS } from '../../functions/contract/http.js'
import { Coordination } from '../../functions/core/coordination.js'
import {
  resetSeamClientCache,
  type SeamClient,
  seamClientFromEnvironment,
  type UserIdentity,
} from '../../functions/seam/index.js'
import { logger } from '../../functions/telemetry/powertools.js'
import { type LocalDynamoDb, startLocalDynamoDb } from '../../local/dynamodb.js'
import {
  type SeamEmulator,
  seededRandom,
  startSeamEmulator,
} from '../../local/seam-emulator/index.js'
import { apiEvent, errorOf, jsonEvent, lambdaContext } from './events.js'

/**
 * The emulator's fault draws, cycling through throttled, fine, unavailable, fine, fine, fine (with
 * throttleRate = unavailableRate = 0.1): one request in three faulted, never four in a row for any
 * one call, so every flow must survive both kinds of fault without depending on luck.
 */
function scriptedFaults(): () => number {
  const cycle = [0.05, 0.5, 0.15, 0.5, 0.5, 0.5]
  let i = 0
  return () => cycle[i++ % cycle.length] as number
}

let draw: () => number = seededRandom(20260821)
let emulator: SeamEmulator
const savedEnv = { key: process.env.SEAM_API_KEY, endpoint: process.env.SEAM_ENDPOINT }
let dynamo: LocalDynamoDb
/** The coordination table on dynalite, for the create's per-ACS-user leases. */
const coordination = () =>
  new Coordination({ client: dynamo.documentClient, tableName: dynamo.tableName })
const handler = createUserIdentityHandler({ coordination, timeoutEarlyInMillis: 0 })

function pointAt(url: string, apiKey: string) {
  process.env.SEAM_API_KEY = apiKey
  process.env.SEAM_ENDPOINT = url
  resetSeamClientCache()
}

beforeAll(async () => {
  emulator = await startSeamEmulator({ random: () => draw(), deleteDelayMs: 60_000 })
  dynamo = await startLocalDynamoDb()
})

afterAll(async () => {
  await emulator.close()
  await dynamo.close()
  process.env.SEAM_API_KEY = savedEnv.key
  process.env.SEAM_ENDPOINT = savedEnv.endpoint
  resetSeamClientCache()
})

beforeEach(() => {
  emulator.reset()
  pointAt(emulator.url, emulator.apiKey)
})

afterEach(() => {
  vi.restoreAllMocks()
})

let n = 0
/** A fresh identity's fields; distinct per call. */
function person() {
  n++
  const tag = `${Date.now().toString(36)}${n}`
  return {
    user_identity_key: `app-account-${tag}`,
    email_address: `person.${tag}@example.com`,
    phone_number: `+1555${String(1_000_000 + n).slice(-7)}`,
    full_name: `Person ${tag}`,
  }
}

async function post(body: unknown, h = handler): Promise<APIGatewayProxyResult> {
  return h(jsonEvent(body), lambdaContext())
}

function identityOf(res: APIGatewayProxyResult): UserIdentity {
  expect(res.statusCode, res.body).toBe(201)
  return (JSON.parse(res.body) as { user_identity: UserIdentity }).user_identity
}

const seamCalls = () =>
  emulator.requests.filter((r) => !r.faultInjected).map((r) => `${r.method} ${r.path}`)

function acsUsers(count: number) {
  return Array.from({ length: count }, () => {
    const system = emulator.seed.acsSystem()
    return emulator.seed.acsUser({ acsSystemId: system.acs_system_id }).acs_user_id
  })
}

describe('create', () => {
  it('201 with the Seam user identity, one Seam call and nothing else', async () => {
    const p = person()
    const identity = identityOf(await post(p))
    expect(identity).toMatchObject(p)
    expect(identity.user_identity_id).toMatch(/^[0-9a-f-]{36}$/)
    expect(emulator.inspect.exists(identity.user_identity_id)).toBe(true)
    expect(seamCalls()).toEqual(['POST /user_identities/create'])
  })

  it.each([
    ['a key', { user_identity_key: 'only-key' }],
    ['an email address', { email_address: 'only@example.com' }],
    ['a phone number', { phone_number: '+447700900123' }],
  ])('with only %s', async (_what, body) => {
    const identity = identityOf(await post(body))
    expect(identity).toMatchObject(body)
  })

  it('treats null fields as absent', async () => {
    const identity = identityOf(
      await post({ user_identity_key: 'k-null', email_address: null, acs_user_ids: null }),
    )
    expect(identity.email_address).toBeNull()
  })
})

describe('invalid input through the handler: 400, nothing sent to Seam', () => {
  it.each([
    ['no key, email or phone', { full_name: 'Nobody' }, /at least one of user_identity_key/],
    ['an empty object', {}, /at least one of/],
    ['a bad email', { email_address: 'not-an-email' }, /email_address: Invalid email/],
    ['a phone not in E.164', { phone_number: '555-0100' }, /phone_number: must be in E.164/],
    ['a phone with 16 digits', { phone_number: '+1234567890123456' }, /phone_number/],
    ['an unknown field', { email_address: 'a@example.com', role: 'x' }, /unknown field: role/],
    ['a number for the key', { user_identity_key: 7 }, /user_identity_key: expected string/],
    ['an empty key', { user_identity_key: '' }, /user_identity_key/],
    [
      'a key over the limit',
      { user_identity_key: 'k'.repeat(LIMITS.userIdentityKey + 1) },
      /user_identity_key/,
    ],
    [
      'a full name over the limit',
      { user_identity_key: 'k', full_name: 'n'.repeat(LIMITS.fullName + 1) },
      /full_name/,
    ],
    [
      'acs_user_ids not a list',
      { user_identity_key: 'k', acs_user_ids: 'abc' },
      /acs_user_ids: expected array/,
    ],
    [
      'an acs_user_id that is no UUID',
      { user_identity_key: 'k', acs_user_ids: ['nope'] },
      /acs_user_ids\.0: must be an ACS user id/,
    ],
    [
      'too many acs_user_ids',
      {
        user_identity_key: 'k',
        acs_user_ids: Array.from({ length: LIMITS.acsUserIds + 1 }, () => randomUUID()),
      },
      /at most 25 ACS users/,
    ],
  ])('%s', async (_what, body, message) => {
    const res = await post(body)
    expect(res.statusCode).toBe(400)
    const error = errorOf(res.body)
    expect(error.type).toBe('invalid_input')
    expect(error.message).toMatch(message)
    expect(emulator.requests).toHaveLength(0)
  })

  it('415 and 413 in the contract shape', async () => {
    const wrongType = await handler(
      apiEvent({ body: '{}', headers: { 'content-type': 'text/plain' } }),
      lambdaContext(),
    )
    expect(wrongType.statusCode).toBe(415)
    expect(errorOf(wrongType.body).type).toBe('unsupported_media_type')
    const big = await post({ user_identity_key: 'k', full_name: 'x'.repeat(17_000) })
    expect(big.statusCode).toBe(413)
    expect(errorOf(big.body).type).toBe('payload_too_large')
    expect(emulator.requests).toHaveLength(0)
  })
})

describe('conflicts: 409 user_identity_conflict naming the field and the existing identity', () => {
  it('duplicate key', async () => {
    const existing = emulator.seed.userIdentity({ userIdentityKey: 'taken-key' })
    const res = await post({ ...person(), user_identity_key: 'taken-key' })
    expect(res.statusCode).toBe(409)
    const error = errorOf(res.body)
    expect(error).toMatchObject({
      type: 'user_identity_conflict',
      user_identity_id: existing.user_identity_id,
      field: 'user_identity_key',
    })
    expect(error.message).toMatch(/user_identity_key is already used by user identity/)
    expect(error.message).toContain(existing.user_identity_id)
    expect(error.message).not.toContain('taken-key')
  })

  it('duplicate email address, whatever its case', async () => {
    const existing = emulator.seed.userIdentity({ emailAddress: 'Dup@Example.com' })
    const res = await post({ ...person(), email_address: 'dup@example.com' })
    expect(res.statusCode).toBe(409)
    expect(errorOf(res.body)).toMatchObject({
      type: 'user_identity_conflict',
      user_identity_id: existing.user_identity_id,
      field: 'email_address',
    })
  })

  it('duplicate phone number', async () => {
    const existing = emulator.seed.userIdentity({ phoneNumber: '+15550009999' })
    const res = await post({ ...person(), phone_number: '+15550009999' })
    expect(res.statusCode).toBe(409)
    const error = errorOf(res.body)
    expect(error).toMatchObject({
      type: 'user_identity_conflict',
      user_identity_id: existing.user_identity_id,
      field: 'phone_number',
    })
    expect(error.message).toMatch(/phone_number is already used/)
  })

  it('search hits that are not exact matches are no conflict', async () => {
    // "search" matches substrings: +15550001 finds +155500012; only an exact match conflicts.
    emulator.seed.userIdentity({ phoneNumber: '+155500012', userIdentityKey: 'other' })
    const identity = identityOf(await post({ phone_number: '+15550001' }))
    expect(identity.phone_number).toBe('+15550001')
  })

  it('names every field and identity when several are taken', async () => {
    const a = emulator.seed.userIdentity({ userIdentityKey: 'key-a' })
    const b = emulator.seed.userIdentity({ emailAddress: 'b@example.com' })
    const res = await post({ user_identity_key: 'key-a', email_address: 'b@example.com' })
    expect(res.statusCode).toBe(409)
    const error = errorOf(res.body)
    expect(error.user_identity_id).toBe(a.user_identity_id)
    expect(error.conflicts).toEqual([
      { field: 'user_identity_key', user_identity_id: a.user_identity_id },
      { field: 'email_address', user_identity_id: b.user_identity_id },
    ])
    expect(error.message).toMatch(/user_identity_key and email_address are already used/)
  })

  it('same key but another name is a conflict, not a retry', async () => {
    const p = person()
    identityOf(await post(p))
    const res = await post({ ...p, full_name: 'Someone Else' })
    expect(res.statusCode).toBe(409)
    expect(errorOf(res.body).field).toBe('user_identity_key')
  })

  it('an identity being deleted is never taken for this request’s own', async () => {
    const p = person()
    const first = identityOf(await post(p))
    const seam = await seamClientFromEnvironment()
    await seam.userIdentities.delete(first.user_identity_id)
    const res = await post(p)
    expect(res.statusCode).toBe(409)
    const error = errorOf(res.body)
    expect(error.user_identity_id).toBe(first.user_identity_id)
    expect(error.message).toMatch(/being deleted/)
  })
})

describe('a create retried after a lost response', () => {
  it('answers 201 with the identity the first attempt created, not 409', async () => {
    const p = person()
    const first = identityOf(await post(p))
    const again = await post(p)
    expect(identityOf(again).user_identity_id).toBe(first.user_identity_id)
    expect(again.headers?.['X-Replayed']).toBe('true')
    expect(emulator.inspect.counts().userIdentities).toBe(1)
  })

  it('finishes the linking the first attempt did not get to', async () => {
    const p = person()
    const [acs1, acs2] = acsUsers(2)
    const first = identityOf(await post(p)) // as if the first attempt died before linking
    const again = identityOf(await post({ ...p, acs_user_ids: [acs1, acs2] }))
    expect(again.user_identity_id).toBe(first.user_identity_id)
    expect(emulator.inspect.remainingFor(first.user_identity_id).acsUserIds.sort()).toEqual(
      [acs1, acs2].sort(),
    )
  })

  it('recognizes its own identity when Seam created it but the answer was lost (503)', async () => {
    // Seam carries the create out and its answer is lost: the Seam client repeats the create (a create
    // carrying a key is safe to repeat, retry-policy.ts), Seam rejects the repeat as a duplicate, and
    // the lookup finds the identity this request created.
    const p = person()
    emulator.beforeNextRequest('/user_identities/create', () => {
      emulator.seed.userIdentity({
        userIdentityKey: p.user_identity_key,
        emailAddress: p.email_address,
        phoneNumber: p.phone_number,
        fullName: p.full_name,
      })
      emulator.setFaults({ unavailableRate: 1, paths: ['/user_identities/create'] })
      emulator.beforeNextRequest('/user_identities/create', () => emulator.setFaults({}))
    })
    const res = await post(p)
    expect(identityOf(res)).toMatchObject(p)
    expect(res.headers?.['X-Replayed']).toBe('true')
    expect(
      emulator.requests.filter((r) => r.path === '/user_identities/create').map((r) => r.status),
    ).toEqual([503, 400])
    expect(emulator.inspect.counts().userIdentities).toBe(1)
  })
})

describe('linking ACS users', () => {
  it('links every acs_user_ids entry and answers with them', async () => {
    const ids = acsUsers(3)
    const identity = identityOf(await post({ ...person(), acs_user_ids: ids }))
    expect([...identity.acs_user_ids].sort()).toEqual([...ids].sort())
    const remaining = emulator.inspect.remainingFor(identity.user_identity_id)
    expect([...remaining.acsUserIds].sort()).toEqual([...ids].sort())
  })

  it('links a repeated id once', async () => {
    const [id] = acsUsers(1)
    const identity = identityOf(await post({ ...person(), acs_user_ids: [id, id] }))
    expect(identity.acs_user_ids).toEqual([id])
    expect(seamCalls().filter((c) => c.endsWith('/add_acs_user'))).toHaveLength(1)
  })

  it('an unknown ACS user: 404 naming it, and no identity created', async () => {
    const known = acsUsers(2)
    const unknown = randomUUID()
    const before = emulator.inspect.counts().userIdentities
    const res = await post({ ...person(), acs_user_ids: [known[0], unknown, known[1]] })
    expect(res.statusCode).toBe(404)
    const error = errorOf(res.body)
    expect(error).toMatchObject({ type: 'acs_user_not_found', acs_user_id: unknown })
    expect(error.message).toContain(unknown)
    expect(emulator.inspect.counts().userIdentities).toBe(before)
    expect(seamCalls()).not.toContain('POST /user_identities/create')
  })

  it('an ACS user gone between the check and the link: the new identity is deleted again', async () => {
    const ghost = randomUUID()
    const blind = async (): Promise<SeamClient> => {
      const real = await seamClientFromEnvironment()
      // The existence check passes (as if the ACS user was deleted right after it).
      const get = async (id: string) =>
        id === ghost ? ({ acs_user_id: id } as never) : real.acsUsers.get(id)
      return { ...real, acsUsers: { ...real.acsUsers, get } }
    }
    const h = createUserIdentityHandler({ seam: blind, coordination, timeoutEarlyInMillis: 0 })
    const res = await post({ ...person(), acs_user_ids: [ghost] }, h)
    expect(res.statusCode).toBe(404)
    expect(errorOf(res.body)).toMatchObject({ type: 'acs_user_not_found', acs_user_id: ghost })
    expect(seamCalls()).toContain('DELETE /user_identities/delete')
    // Seam deletes asynchronously: the identity is marked being_deleted (deleteDelayMs = 60 s here).
    const [identity] = emulator.inspect.pendingDeletions().filter((d) => d.kind === 'user_identity')
    expect(identity).toBeDefined()
  })

  it('unlinks the ACS users already linked before deleting the identity (Seam would cascade to them)', async () => {
    const ghost = randomUUID()
    const [real1] = acsUsers(1)
    const blind = async (): Promise<SeamClient> => {
      const real = await seamClientFromEnvironment()
      const get = async (id: string) =>
        id === ghost ? ({ acs_user_id: id } as never) : real.acsUsers.get(id)
      return { ...real, acsUsers: { ...real.acsUsers, get } }
    }
    const h = createUserIdentityHandler({ seam: blind, coordination, timeoutEarlyInMillis: 0 })
    const res = await post({ ...person(), acs_user_ids: [real1, ghost] }, h)
    expect(res.statusCode).toBe(404)
    const calls = seamCalls()
    expect(calls).toContain('DELETE /user_identities/remove_acs_user')
    expect(calls.indexOf('DELETE /user_identities/remove_acs_user')).toBeLessThan(
      calls.indexOf('DELETE /user_identities/delete'),
    )
    expect(emulator.inspect.exists(real1 as string)).toBe(true)
    const acsUser = emulator.inspect.resource(real1 as string) as {
      user_identity_id?: string | null
    }
    expect(acsUser.user_identity_id ?? null).toBeNull()
  })
})

describe('a Seam too slow for the deadline: 504 in the contract shape, not a hang', () => {
  /** A Lambda context with `ms` left. */
  const contextWith = (ms: number): Context => {
    const end = Date.now() + ms
    return { ...lambdaContext(), getRemainingTimeInMillis: () => Math.max(0, end - Date.now()) }
  }
  // With 900 ms left: Seam calls stop after 600 ms, the last 300 ms are kept for undoing.
  const hurried = createUserIdentityHandler({
    coordination,
    timeoutEarlyInMillis: 0,
    deadlineMarginMs: 0,
    undoReserveMs: 300,
  })
  const LATENCY_MS = 1_500
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
  /** Lets the emulator answer the requests the handler gave up on, so none spills into a later test. */
  async function settle(path: string) {
    while (!emulator.requests.some((r) => r.path === path)) await sleep(20)
  }

  it('slow ACS user checks: 504 request_timeout when the deadline comes, nothing created', async () => {
    const [acs] = acsUsers(1)
    emulator.setFaults({ latencyMs: LATENCY_MS, paths: ['/acs/users/get'] })
    const started = Date.now()
    const res = await hurried(jsonEvent({ ...person(), acs_user_ids: [acs] }), contextWith(900))
    const took = Date.now() - started
    expect(res.statusCode).toBe(504)
    expect(res.headers?.['Content-Type']).toBe('application/json')
    const error = errorOf(res.body)
    expect(error.type).toBe('request_timeout')
    expect(error.message).toMatch(/too slowly.*no user identity was created/)
    expect(error.request_id).toMatch(/^test-request-/)
    expect(res.body).not.toMatch(/\n\s+at /)
    expect(took).toBeGreaterThanOrEqual(550)
    expect(took).toBeLessThan(LATENCY_MS)
    await settle('/acs/users/get')
    expect(emulator.inspect.counts().userIdentities).toBe(0)
  })

  it('a slow link: 504 naming the identity kept, and repeating the request finishes it', async () => {
    const [acs] = acsUsers(1)
    emulator.setFaults({ latencyMs: LATENCY_MS, paths: ['/user_identities/add_acs_user'] })
    const body = { ...person(), acs_user_ids: [acs] }
    const started = Date.now()
    const res = await hurried(jsonEvent(body), contextWith(900))
    expect(Date.now() - started).toBeLessThan(LATENCY_MS)
    expect(res.statusCode).toBe(504)
    const error = errorOf(res.body)
    expect(error.type).toBe('request_timeout')
    const kept = error.user_identity_id as string
    expect(emulator.inspect.exists(kept)).toBe(true)
    // The link was sent: Seam may still carry it out, so deleting the identity could take the ACS
    // user with it (Seam's delete cascades). It is kept, and a repeat is safe.
    expect(error.message).toContain(`may still link ACS user ${acs}`)
    expect(error.message).toMatch(/Repeating the same request is safe/)
    await settle('/user_identities/add_acs_user')
    emulator.setFaults({})
    const again = await post(body)
    expect(identityOf(again).user_identity_id).toBe(kept)
    expect(again.headers?.['X-Replayed']).toBe('true')
    expect(emulator.inspect.remainingFor(kept).acsUserIds).toEqual([acs])
    expect(emulator.inspect.counts().userIdentities).toBe(1)
  })
})

describe('with the emulator injecting 429s and 503s', () => {
  beforeEach(() => {
    draw = scriptedFaults()
    emulator.setFaults({ throttleRate: 0.1, unavailableRate: 0.1, retryAfterSeconds: 0 })
  })

  afterEach(() => {
    draw = seededRandom(20260821)
  })

  it('the same flows still pass', async () => {
    // create
    const p = person()
    const identity = identityOf(await post(p))
    expect(identity).toMatchObject(p)
    // duplicate key, email, phone
    for (const field of ['user_identity_key', 'email_address', 'phone_number'] as const) {
      const res = await post({ ...person(), [field]: p[field] })
      expect(res.statusCode, res.body).toBe(409)
      expect(errorOf(res.body)).toMatchObject({
        field,
        user_identity_id: identity.user_identity_id,
      })
    }
    // retry
    expect(identityOf(await post(p)).user_identity_id).toBe(identity.user_identity_id)
    // linking
    const ids = acsUsers(3)
    const linked = identityOf(await post({ ...person(), acs_user_ids: ids }))
    expect([...linked.acs_user_ids].sort()).toEqual([...ids].sort())
    // unknown ACS user
    const before = emulator.inspect.counts().userIdentities
    const res = await post({ ...person(), acs_user_ids: [ids[0], randomUUID()] })
    expect(res.statusCode).toBe(404)
    expect(emulator.inspect.counts().userIdentities).toBe(before)

    const faults = emulator.requests.filter((r) => r.faultInjected)
    expect(faults.some((r) => r.fault === 'throttled')).toBe(true)
    expect(faults.some((r) => r.fault === 'unavailable')).toBe(true)
    expect(faults.some((r) => r.path === '/user_identities/create')).toBe(true)
  })

  it('a Seam that keeps failing: 503 seam_unavailable in the contract shape, nothing created', async () => {
    emulator.setFaults({ unavailableRate: 1, nonJsonErrorRate: 0.5 })
    const res = await post(person())
    expect(res.statusCode).toBe(503)
    expect(errorOf(res.body).type).toBe('seam_unavailable')
    expect(res.body).not.toMatch(/\n\s+at /)
    expect(emulator.inspect.counts().userIdentities).toBe(0)
  })

  it('throttled throughout: 503 with Retry-After', async () => {
    emulator.setFaults({ throttleRate: 1, retryAfterSeconds: 1 })
    const res = await post(person())
    expect(res.statusCode).toBe(503)
    expect(errorOf(res.body).type).toBe('seam_unavailable')
    expect(res.headers?.['Retry-After']).toBe('1')
  })
})

describe('Seam unreachable or misconfigured', () => {
  it('a closed port: 503 seam_unavailable, nothing created', async () => {
    const port = await closedPort()
    pointAt(`http://127.0.0.1:${port}`, emulator.apiKey)
    const res = await post({ ...person(), acs_user_ids: [] })
    expect(res.statusCode).toBe(503)
    const error = errorOf(res.body)
    expect(error.type).toBe('seam_unavailable')
    expect(error.request_id).toMatch(/^test-request-/)
    expect(emulator.inspect.counts().userIdentities).toBe(0)
  })

  it('a rejected API key: 502 seam_misconfigured', async () => {
    pointAt(emulator.url, 'seam_wrong_key_123')
    const res = await post(person())
    expect(res.statusCode).toBe(502)
    expect(errorOf(res.body).type).toBe('seam_misconfigured')
    expect(res.body).not.toContain('seam_wrong_key_123')
  })

  it('no API key at all: 502 seam_misconfigured', async () => {
    process.env.SEAM_API_KEY = ''
    resetSeamClientCache()
    const res = await post(person())
    expect(res.statusCode).toBe(502)
    expect(errorOf(res.body).type).toBe('seam_misconfigured')
  })
})

describe('logs', () => {
  it('carry ids, never an email address, phone number or key', async () => {
    const lines: string[] = []
    const capture = (chunk: unknown) => {
      lines.push(String(chunk))
      return true
    }
    // Whatever level the test run sets (POWERTOOLS_LOG_LEVEL), scan every line the handler can log.
    const level = logger.getLevelName()
    logger.setLogLevel('DEBUG')
    vi.spyOn(process.stdout, 'write').mockImplementation(capture)
    vi.spyOn(process.stderr, 'write').mockImplementation(capture)
    const p = person()
    const [acs] = acsUsers(1)
    const created = identityOf(await post({ ...p, acs_user_ids: [acs] }))
    await post(p) // retry
    await post({ ...p, full_name: 'Other' }) // conflict
    await post({ ...person(), acs_user_ids: [randomUUID()] }) // unknown ACS user
    emulator.setFaults({ unavailableRate: 1 })
    await post(person()) // outage
    vi.restoreAllMocks()
    logger.setLogLevel(level)

    const output = lines.join('')
    expect(output).toContain(created.user_identity_id)
    for (const secret of [p.email_address, p.phone_number, p.user_identity_key, p.full_name]) {
      expect(output).not.toContain(secret)
    }
    expect(output).not.toMatch(/@example\.com|\+1555\d{7}/)
    expect(output).not.toContain(emulator.apiKey)
  })
})

async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}
