/**
 * The create core against a stub SeamClient: the paths the emulator cannot produce on demand.
 */
import { describe, expect, it, vi } from 'vitest'
import { ApiError } from '../../functions/contract/errors.js'
import type { CreateUserIdentityInput } from '../../functions/contract/http.js'
import {
  createUserIdentity,
  isSameIdentity,
  type Log,
} from '../../functions/core/create-user-identity.js'
import {
  type SeamClient,
  SeamError,
  SeamNotFoundError,
  SeamRequestError,
  SeamThrottledError,
  SeamUnauthorizedError,
  SeamUnavailableError,
  type UserIdentity,
} from '../../functions/seam/index.js'

const log: Log = { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() } as unknown as Log

function identity(fields: Partial<UserIdentity> = {}): UserIdentity {
  return {
    user_identity_id: '11111111-1111-4111-8111-111111111111',
    user_identity_key: null,
    email_address: null,
    phone_number: null,
    display_name: 'x',
    full_name: null,
    created_at: '2026-01-01T00:00:00.000Z',
    workspace_id: '22222222-2222-4222-8222-222222222222',
    errors: [],
    warnings: [],
    acs_user_ids: [],
    ...fields,
  } as UserIdentity
}

type SeamErrorInit = ConstructorParameters<typeof SeamError>[0]

function seamError(init: Partial<SeamErrorInit> & Pick<SeamErrorInit, 'name'>): SeamError {
  return new SeamError({ type: 'x', message: 'm', retryable: false, ...init })
}

const rejected = () =>
  seamError({ name: SeamRequestError, type: 'invalid_input', status: 400, message: 'Seam: bad' })
const notFound = (type: string) => seamError({ name: SeamNotFoundError, type, status: 404 })
const unavailable = () =>
  seamError({
    name: SeamUnavailableError,
    type: 'seam_unavailable',
    status: 503,
    failure: 'server_error',
  })

/** A stub client: every method a vi.fn, unconfigured ones fail the test. */
function stub() {
  type Fn = (...args: unknown[]) => Promise<unknown>
  const fail = (what: string) => vi.fn<Fn>(async () => expect.fail(`unexpected Seam call ${what}`))
  return {
    userIdentities: {
      create: fail('create'),
      get: fail('get'),
      list: fail('list'),
      delete: fail('delete'),
      addAcsUser: fail('addAcsUser'),
      removeAcsUser: fail('removeAcsUser'),
    },
    acsUsers: { get: fail('acsUsers.get'), list: fail('acsUsers.list') },
  }
}
const asClient = (s: ReturnType<typeof stub>) => s as unknown as SeamClient

/** The create against stub `s`, expected to fail: its error. */
const failure = async (
  s: ReturnType<typeof stub>,
  body: Parameters<typeof createUserIdentity>[1],
  options?: Parameters<typeof createUserIdentity>[3],
) =>
  (await createUserIdentity(asClient(s), body, log, options).catch((e: unknown) => e)) as ApiError

const input = (fields: Partial<CreateUserIdentityInput>): CreateUserIdentityInput => fields

describe('createUserIdentity', () => {
  it('happy path without ACS users: exactly one Seam call', async () => {
    const s = stub()
    s.userIdentities.create = vi.fn(async () => identity({ user_identity_key: 'k' }))
    const result = await createUserIdentity(asClient(s), input({ user_identity_key: 'k' }), log)
    expect(result.created).toBe(true)
    expect(s.userIdentities.create).toHaveBeenCalledWith({ user_identity_key: 'k' })
  })

  it("passes Seam's invalid_input on as 400 when no identity explains the rejection", async () => {
    const s = stub()
    s.userIdentities.create = vi.fn(async () => Promise.reject(rejected()))
    s.userIdentities.get = vi.fn(async () => Promise.reject(notFound('user_identity_not_found')))
    s.userIdentities.list = vi.fn(async () => [identity({ email_address: 'aa@example.com' })])
    const err = await failure(s, input({ user_identity_key: 'k', email_address: 'a@example.com' }))
    expect(err).toBeInstanceOf(ApiError)
    expect(err).toMatchObject({ status: 400, type: 'invalid_input' })
    expect((err as ApiError).message).toMatch(/Seam: bad/)
  })

  it('keeps another Seam 4xx type and status (e.g. 422)', async () => {
    const s = stub()
    s.userIdentities.create = vi.fn(async () =>
      Promise.reject(seamError({ name: SeamRequestError, type: 'weird_rule', status: 422 })),
    )
    s.userIdentities.list = vi.fn(async () => [])
    const err = await failure(s, input({ phone_number: '+15550000000' }))
    expect(err).toMatchObject({ status: 422, type: 'weird_rule' })
  })

  it('a duplicate lookup during an outage answers 503, not a wrong 400 or 409, naming what may exist', async () => {
    const s = stub()
    s.userIdentities.create = vi.fn(async () => Promise.reject(rejected()))
    s.userIdentities.get = vi.fn(async () => Promise.reject(unavailable()))
    const err = await failure(s, input({ user_identity_key: 'k' }))
    expect(err).toMatchObject({
      status: 503,
      type: 'seam_unavailable',
      extras: { may_have_taken_effect: true, user_identity_key: 'k' },
    })
    expect(err.message).toMatch(/Repeating the same request settles it/)
  })

  it('repeats nothing itself: a create that failed with a 5xx after the Seam client retried goes out', async () => {
    // Which calls may be repeated, and how, is functions/seam/retry-policy.ts's business alone.
    const s = stub()
    s.userIdentities.create = vi.fn(async () => Promise.reject(unavailable()))
    const err = await failure(s, input({ user_identity_key: 'k' }))
    expect(s.userIdentities.create).toHaveBeenCalledTimes(1)
    // Seam may have created it: the answer never says nothing changed, and names the key.
    expect(err).toMatchObject({
      status: 503,
      type: 'seam_unavailable',
      extras: { may_have_taken_effect: true, user_identity_key: 'k' },
    })
    expect(err.message).toBe(
      'Seam is unavailable right now, while this request created the user identity. Seam may have created the user identity without answering (with this request’s fields; error.user_identity_key names its key), and may still do so. Repeating the same request settles it: it answers 201 with that identity (X-Replayed: true), or creates it.',
    )
    expect(err.message).not.toMatch(/nothing/)
  })

  it('a create Seam certainly did not act on (429 throughout): 503 without may_have_taken_effect', async () => {
    const s = stub()
    s.userIdentities.create = vi.fn(async () =>
      Promise.reject(
        seamError({ name: SeamThrottledError, status: 429, failure: 'throttled', retryable: true }),
      ),
    )
    const err = await failure(s, input({ user_identity_key: 'k' }))
    expect(err).toBeInstanceOf(SeamError)
    expect((err as unknown as SeamError).mayHaveTakenEffect).toBe(false)
  })

  it('a link rejected by Seam (not 404): the new identity is deleted, the rejection passed on', async () => {
    const s = stub()
    const acs = '33333333-3333-4333-8333-333333333333'
    s.acsUsers.get = vi.fn(async () => ({ acs_user_id: acs }))
    s.userIdentities.create = vi.fn(async () => identity({ user_identity_key: 'k' }))
    s.userIdentities.addAcsUser = vi.fn(async () =>
      Promise.reject(seamError({ name: SeamRequestError, type: 'acs_user_in_use', status: 400 })),
    )
    s.acsUsers.list = vi.fn(async () => [])
    s.userIdentities.delete = vi.fn(async () => undefined)
    const err = await failure(s, input({ user_identity_key: 'k', acs_user_ids: [acs] }))
    expect(err).toMatchObject({ status: 400, type: 'acs_user_in_use', extras: {} })
    expect((err as ApiError).message).toMatch(/created was deleted again, with no ACS user linked/)
    expect(s.acsUsers.list).toHaveBeenCalledWith({ user_identity_id: identity().user_identity_id })
    expect(s.userIdentities.delete).toHaveBeenCalledWith(identity().user_identity_id)
  })

  it('a link failing in an outage keeps the identity for a retry to finish, and names it', async () => {
    const s = stub()
    const acs = '33333333-3333-4333-8333-333333333333'
    s.acsUsers.get = vi.fn(async () => ({ acs_user_id: acs }))
    s.userIdentities.create = vi.fn(async () => identity({ user_identity_key: 'k' }))
    s.userIdentities.addAcsUser = vi.fn(async () =>
      Promise.reject(
        seamError({ name: SeamUnavailableError, status: 503, retryable: true, requestId: 'r1' }),
      ),
    )
    const err = await failure(s, input({ user_identity_key: 'k', acs_user_ids: [acs] }))
    const id = identity().user_identity_id
    expect(err).toBeInstanceOf(ApiError)
    expect(err).toMatchObject({
      status: 503,
      type: 'seam_unavailable',
      extras: { user_identity_id: id, seam_request_id: 'r1' },
    })
    expect((err as ApiError).message).toBe(
      `Seam is unavailable right now, while this request linked ACS users. User identity ${id}, which this request created, exists, but not every ACS user is linked to it yet. Repeating the same request is safe: it answers with that identity and finishes the linking.`,
    )
    expect(s.userIdentities.delete).not.toHaveBeenCalled()
  })

  it('throttled while linking: 503 with Retry-After, naming the identity', async () => {
    const s = stub()
    s.acsUsers.get = vi.fn(async (id) => ({ acs_user_id: id }))
    s.userIdentities.create = vi.fn(async () => identity({ user_identity_key: 'k' }))
    s.userIdentities.addAcsUser = vi.fn(async () =>
      Promise.reject(
        seamError({
          name: SeamThrottledError,
          status: 429,
          failure: 'throttled',
          retryAfterMs: 2_000,
        }),
      ),
    )
    const err = await failure(s, input({ user_identity_key: 'k', acs_user_ids: [ACS] }))
    expect(err).toMatchObject({
      status: 503,
      type: 'seam_unavailable',
      extras: { user_identity_id: identity().user_identity_id },
      headers: { 'Retry-After': '2' },
    })
    expect(err.message).toMatch(/^Seam is rate-limiting this service right now/)
  })

  it('a rejected API key while linking: 502 seam_misconfigured, naming the identity', async () => {
    const s = stub()
    s.acsUsers.get = vi.fn(async (id) => ({ acs_user_id: id }))
    s.userIdentities.create = vi.fn(async () => identity({ user_identity_key: 'k' }))
    s.userIdentities.addAcsUser = vi.fn(async () =>
      Promise.reject(seamError({ name: SeamUnauthorizedError, status: 401 })),
    )
    const err = await failure(s, input({ user_identity_key: 'k', acs_user_ids: [ACS] }))
    expect(err).toMatchObject({
      status: 502,
      type: 'seam_misconfigured',
      extras: { user_identity_id: identity().user_identity_id },
    })
    expect(err.message).toMatch(/Once that is resolved, repeating the same request/)
  })
})

const ACS = '33333333-3333-4333-8333-333333333333'
const ACS2 = '44444444-4444-4444-8444-444444444444'
const OTHER = '55555555-5555-4555-8555-555555555555'

describe('ACS users already linked to a user identity', () => {
  /** A stub whose ACS users are linked as `holders` says (ACS user id → identity id). */
  function linkedStub(holders: Record<string, string>, identities: Record<string, UserIdentity>) {
    const s = stub()
    s.acsUsers.get = vi.fn(async (id) => ({
      acs_user_id: id,
      ...(holders[id as string] ? { user_identity_id: holders[id as string] } : {}),
    }))
    s.userIdentities.get = vi.fn(async (params) => {
      const { user_identity_id: id, user_identity_key: key } = params as Record<string, string>
      const found = Object.values(identities).find((i) =>
        id ? i.user_identity_id === id : i.user_identity_key === key,
      )
      if (!found) throw notFound('user_identity_not_found')
      return found
    })
    // A link moves the ACS user, as Seam's add_acs_user does: acs/users/get then reports it.
    s.userIdentities.addAcsUser = vi.fn(async (params) => {
      const { user_identity_id: id, acs_user_id: acs } = params as {
        user_identity_id: string
        acs_user_id: string
      }
      holders[acs] = id
    })
    return s
  }

  it("linked to another account's identity: 409 acs_user_already_linked, nothing created", async () => {
    const s = linkedStub({ [ACS2]: OTHER }, { [OTHER]: identity({ user_identity_id: OTHER }) })
    const err = await failure(s, input({ user_identity_key: 'k', acs_user_ids: [ACS, ACS2] }))
    expect(err).toBeInstanceOf(ApiError)
    expect(err).toMatchObject({
      status: 409,
      type: 'acs_user_already_linked',
      extras: {
        acs_user_id: ACS2,
        user_identity_id: OTHER,
        linked_acs_users: [{ acs_user_id: ACS2, user_identity_id: OTHER }],
      },
    })
    expect((err as ApiError).message).toContain(ACS2)
    expect((err as ApiError).message).toContain(OTHER)
    expect((err as ApiError).message).toMatch(/No user identity was created/)
    expect(s.userIdentities.create).not.toHaveBeenCalled()
    expect(s.userIdentities.addAcsUser).not.toHaveBeenCalled()
  })

  it('names every ACS user taken, the first in the message, and says when its holder is being deleted', async () => {
    const deleting = identity({
      user_identity_id: OTHER,
      warnings: [{ warning_code: 'being_deleted' }] as never,
    })
    const s = linkedStub({ [ACS]: OTHER, [ACS2]: OTHER }, { [OTHER]: deleting })
    const err = await failure(s, input({ user_identity_key: 'k', acs_user_ids: [ACS, ACS2] }))
    expect(err.type).toBe('acs_user_already_linked')
    expect(err.message).toMatch(/being deleted/)
    expect(err.message).toMatch(/and 1 more/)
    expect(err.extras.linked_acs_users).toEqual([
      { acs_user_id: ACS, user_identity_id: OTHER },
      { acs_user_id: ACS2, user_identity_id: OTHER },
    ])
    // One lookup per holder, not per ACS user.
    expect(s.userIdentities.get).toHaveBeenCalledTimes(1)
  })

  it('a retry whose ACS users are linked to its own identity: 201 (replayed), they are not linked again', async () => {
    const own = identity({ user_identity_key: 'k', acs_user_ids: [ACS] })
    const s = linkedStub({ [ACS]: own.user_identity_id }, { [own.user_identity_id]: own })
    s.userIdentities.create = vi.fn(async () => Promise.reject(rejected()))
    const result = await createUserIdentity(
      asClient(s),
      input({ user_identity_key: 'k', acs_user_ids: [ACS, ACS2] }),
      log,
    )
    expect(result.created).toBe(false)
    expect(result.userIdentity.user_identity_id).toBe(own.user_identity_id)
    expect([...result.userIdentity.acs_user_ids].sort()).toEqual([ACS, ACS2].sort())
    expect(s.userIdentities.addAcsUser).toHaveBeenCalledTimes(1)
    expect(s.userIdentities.addAcsUser).toHaveBeenCalledWith({
      user_identity_id: own.user_identity_id,
      acs_user_id: ACS2,
    })
  })

  it('an identity with the same key but another name is not this request’s own: 409', async () => {
    const other = identity({ user_identity_id: OTHER, user_identity_key: 'k', full_name: 'X' })
    const s = linkedStub({ [ACS]: OTHER }, { [OTHER]: other })
    const err = await failure(s, input({ user_identity_key: 'k', acs_user_ids: [ACS] }))
    expect(err).toMatchObject({ status: 409, type: 'acs_user_already_linked' })
  })

  it('linked to an identity that no longer exists: taken from nobody, so linked', async () => {
    const s = linkedStub({ [ACS]: OTHER }, {})
    s.userIdentities.create = vi.fn(async () => identity({ user_identity_key: 'k' }))
    const result = await createUserIdentity(
      asClient(s),
      input({ user_identity_key: 'k', acs_user_ids: [ACS] }),
      log,
    )
    expect(result.userIdentity.acs_user_ids).toEqual([ACS])
    expect(s.userIdentities.addAcsUser).toHaveBeenCalledTimes(1)
  })

  it('an unknown ACS user is reported before one linked elsewhere (404 first)', async () => {
    const s = linkedStub({ [ACS]: OTHER }, { [OTHER]: identity({ user_identity_id: OTHER }) })
    s.acsUsers.get = vi.fn(async (id) => {
      if (id === ACS2) throw notFound('acs_user_not_found')
      return { acs_user_id: id, user_identity_id: OTHER }
    })
    const err = await failure(s, input({ user_identity_key: 'k', acs_user_ids: [ACS, ACS2] }))
    expect(err).toMatchObject({ status: 404, type: 'acs_user_not_found' })
  })
})

describe('the deadline', () => {
  const timedOut = () =>
    seamError({ name: SeamUnavailableError, type: 'seam_timeout', failure: 'timeout' })
  /** A clock the stubs move: `at(ms)` sets it. */
  function clock() {
    let t = 0
    return {
      now: () => t,
      at: (ms: number) => {
        t = ms
      },
    }
  }
  // Seam calls stop at 800 (1 000 less the 200 kept for undoing); the create answers by 1 000.
  const options = (c: ReturnType<typeof clock>) => ({
    deadline: 1_000,
    undoReserveMs: 200,
    now: c.now,
  })

  it('runs out while checking the ACS users: 504 request_timeout, nothing created', async () => {
    const c = clock()
    const s = stub()
    s.acsUsers.get = vi.fn(async () => {
      c.at(800)
      throw timedOut()
    })
    const err = await failure(s, input({ user_identity_key: 'k', acs_user_ids: [ACS] }), options(c))
    expect(err).toBeInstanceOf(ApiError)
    expect(err).toMatchObject({ status: 504, type: 'request_timeout' })
    expect((err as ApiError).message).toMatch(/no user identity was created/)
    expect(s.userIdentities.create).not.toHaveBeenCalled()
  })

  it('runs out while creating: 504 saying it may exist and a repeat is safe', async () => {
    const c = clock()
    const s = stub()
    s.userIdentities.create = vi.fn(async () => {
      c.at(900)
      throw timedOut()
    })
    const err = await failure(s, input({ user_identity_key: 'k' }), options(c))
    expect(err).toMatchObject({
      status: 504,
      type: 'request_timeout',
      extras: { may_have_taken_effect: true, user_identity_key: 'k' },
    })
    expect(err.message).toMatch(
      /may have created the user identity .*Repeating the same request settles it/,
    )
    expect(err.extras.user_identity_id).toBeUndefined()
  })

  /**
   * A stub that creates the identity and links ACS, then fails the link of ACS2 with `failure`. What
   * Seam holds is `held` (ACS user id → identity id): acs/users/list reads it, add and remove change it.
   */
  function linkingStub(
    c: ReturnType<typeof clock>,
    failure: () => SeamError,
    held = new Map<string, string>(),
  ) {
    const s = stub()
    type Link = { acs_user_id: string; user_identity_id: string }
    s.acsUsers.get = vi.fn(async (id) => ({ acs_user_id: id }))
    s.acsUsers.list = vi.fn(async (p) =>
      [...held]
        .filter(([, holder]) => holder === (p as Link).user_identity_id)
        .map(([acs_user_id, user_identity_id]) => ({ acs_user_id, user_identity_id })),
    )
    s.userIdentities.create = vi.fn(async () => identity({ user_identity_key: 'k' }))
    s.userIdentities.addAcsUser = vi.fn(async (p) => {
      const link = p as Link
      if (link.acs_user_id === ACS) {
        held.set(ACS, link.user_identity_id)
        return
      }
      c.at(800)
      throw failure()
    })
    s.userIdentities.removeAcsUser = vi.fn(async (p) => {
      held.delete((p as Link).acs_user_id)
    })
    s.userIdentities.delete = vi.fn(async () => undefined)
    return s
  }
  const notSent = (init: Partial<SeamErrorInit> = {}) =>
    seamError({
      name: SeamUnavailableError,
      type: 'seam_timeout',
      failure: 'deadline_passed',
      ...init,
    })
  const both = input({ user_identity_key: 'k', acs_user_ids: [ACS, ACS2] })
  const id = identity().user_identity_id

  it('runs out before the next link: what Seam shows linked is unlinked, then the identity deleted', async () => {
    const c = clock()
    const held = new Map<string, string>()
    const s = linkingStub(c, () => notSent(), held)
    const err = await failure(s, both, options(c))
    expect(err).toMatchObject({ status: 504, type: 'request_timeout', extras: {} })
    expect(err.message).toMatch(/deleted again, with no ACS user linked/)
    expect(s.acsUsers.list).toHaveBeenCalledWith({ user_identity_id: id })
    expect(s.userIdentities.removeAcsUser.mock.calls).toEqual([
      [{ user_identity_id: id, acs_user_id: ACS }],
    ])
    expect(s.userIdentities.delete).toHaveBeenCalledWith(id)
    // The list is read again after unlinking, and the delete comes last.
    const order = (fn: { mock: { invocationCallOrder: number[] } }) => fn.mock.invocationCallOrder
    expect(order(s.acsUsers.list)).toHaveLength(2)
    expect(
      Math.max(...order(s.acsUsers.list), ...order(s.userIdentities.removeAcsUser)),
    ).toBeLessThan(order(s.userIdentities.delete)[0] as number)
    expect(held.size).toBe(0)
  })

  it('a retry not sent after an attempt that got a 503: in doubt, so the identity is kept', async () => {
    // The reviewer's case: Seam applied the link, answered 503, and the retry found the deadline
    // passed. The Seam client marks such an error mayHaveTakenEffect.
    const c = clock()
    const held = new Map<string, string>()
    const s = linkingStub(c, () => notSent({ mayHaveTakenEffect: true }), held)
    s.userIdentities.addAcsUser.mockImplementation(async (p) => {
      const link = p as { acs_user_id: string; user_identity_id: string }
      held.set(link.acs_user_id, link.user_identity_id)
      if (link.acs_user_id === ACS) return
      c.at(800)
      throw notSent({ mayHaveTakenEffect: true })
    })
    const err = await failure(s, both, options(c))
    expect(err).toMatchObject({ status: 504, extras: { user_identity_id: id } })
    expect(err.message).toContain(`may still link ACS user ${ACS2}`)
    expect(s.userIdentities.delete).not.toHaveBeenCalled()
    expect(held.get(ACS2)).toBe(id)
  })

  it('Seam shows an ACS user linked that this request did not link: kept, nothing unlinked', async () => {
    // An identical request running at the same time took the identity for its own and linked ACS2.
    const c = clock()
    const held = new Map<string, string>([[ACS2, id]])
    const s = linkingStub(c, () => notSent(), held)
    const err = await failure(s, both, options(c))
    expect(err).toMatchObject({ status: 504, extras: { user_identity_id: id } })
    expect(err.message).toBe(
      `Seam answered too slowly for this request to finish in time: user identity ${id}, which this request created, is kept: another request with the same fields is linking ACS users to it. It may have only some of the ACS users linked. Repeating the same request is safe: it answers with that identity and finishes the linking.`,
    )
    expect(s.userIdentities.removeAcsUser).not.toHaveBeenCalled()
    expect(s.userIdentities.delete).not.toHaveBeenCalled()
    expect([...held.keys()].sort()).toEqual([ACS, ACS2].sort())
  })

  it('an ACS user linked again while the undo unlinked: kept, never deleted', async () => {
    const c = clock()
    const held = new Map<string, string>()
    const s = linkingStub(c, () => notSent(), held)
    s.userIdentities.removeAcsUser.mockImplementation(async () => {
      held.set(ACS2, id) // the other request's link lands meanwhile
    })
    const err = await failure(s, both, options(c))
    expect(err).toMatchObject({ status: 504, extras: { user_identity_id: id } })
    expect(err.message).toMatch(/another request with the same fields is linking ACS users to it/)
    expect(s.userIdentities.delete).not.toHaveBeenCalled()
  })

  it('the ACS users cannot be listed: the identity is not deleted, and the answer names it', async () => {
    const c = clock()
    const s = linkingStub(c, () => notSent())
    s.acsUsers.list = vi.fn(async () => Promise.reject(unavailable()))
    const err = await failure(s, both, options(c))
    expect(err).toMatchObject({ status: 504, extras: { user_identity_id: id } })
    expect(err.message).toBe(
      `Seam answered too slowly for this request to finish in time: user identity ${id}, which this request created, could not be deleted again. It may have only some of the ACS users linked. Repeating the same request is safe: it answers with that identity and finishes the linking.`,
    )
    expect(s.userIdentities.removeAcsUser).not.toHaveBeenCalled()
    expect(s.userIdentities.delete).not.toHaveBeenCalled()
  })

  it('runs out during a link Seam may still carry out: the identity is kept, never deleted', async () => {
    // Deleting it would cascade to the ACS user should that link land after all.
    const c = clock()
    const s = linkingStub(c, timedOut)
    const err = await failure(s, both, options(c))
    expect(err).toMatchObject({
      status: 504,
      type: 'request_timeout',
      extras: { user_identity_id: id },
    })
    expect(err.message).toContain(`user identity ${id}`)
    expect(err.message).toContain(`may still link ACS user ${ACS2}`)
    expect(err.message).toMatch(/Repeating the same request is safe/)
    expect(s.userIdentities.removeAcsUser).not.toHaveBeenCalled()
    expect(s.userIdentities.delete).not.toHaveBeenCalled()
  })

  it('an undo that cannot finish in time: 504 naming the identity left, a repeat finishes it', async () => {
    const c = clock()
    const s = linkingStub(c, () => notSent())
    s.userIdentities.removeAcsUser = vi.fn(async () => {
      c.at(1_000)
      throw timedOut()
    })
    const err = await failure(s, both, options(c))
    expect(err).toMatchObject({
      status: 504,
      type: 'request_timeout',
      extras: { user_identity_id: id },
    })
    expect(err.message).toMatch(/could not be deleted again/)
    expect(err.message).toMatch(/Repeating the same request is safe/)
    // Never deleted while an ACS user might still be linked (Seam would cascade to it).
    expect(s.userIdentities.delete).not.toHaveBeenCalled()
  })

  it('runs out while linking to an identity an earlier attempt created: kept, named', async () => {
    const c = clock()
    const s = stub()
    const own = identity({ user_identity_key: 'k' })
    s.acsUsers.get = vi.fn(async (id) => ({ acs_user_id: id }))
    s.userIdentities.create = vi.fn(async () => Promise.reject(rejected()))
    s.userIdentities.get = vi.fn(async () => own)
    s.userIdentities.addAcsUser = vi.fn(async () => {
      c.at(800)
      throw timedOut()
    })
    const err = await failure(s, input({ user_identity_key: 'k', acs_user_ids: [ACS] }), options(c))
    expect(err).toMatchObject({
      status: 504,
      extras: { user_identity_id: own.user_identity_id },
    })
    expect(err.message).toMatch(/earlier attempt of this request, is kept/)
    expect(err.message).toMatch(/Repeating the same request is safe/)
    expect(s.userIdentities.delete).not.toHaveBeenCalled()
  })

  it('an outage before the deadline is an outage: 503 naming the identity, which stays', async () => {
    const c = clock()
    const s = stub()
    s.acsUsers.get = vi.fn(async (id) => ({ acs_user_id: id }))
    s.userIdentities.create = vi.fn(async () => identity({ user_identity_key: 'k' }))
    s.userIdentities.addAcsUser = vi.fn(async () => {
      c.at(500)
      throw unavailable()
    })
    const err = await failure(s, input({ user_identity_key: 'k', acs_user_ids: [ACS] }), options(c))
    expect(err).toMatchObject({
      status: 503,
      type: 'seam_unavailable',
      extras: { user_identity_id: identity().user_identity_id },
    })
    expect(s.userIdentities.delete).not.toHaveBeenCalled()
  })
})

describe('an ACS user gone between its check and its link (add_acs_user answers 404)', () => {
  const id = identity().user_identity_id
  const aboutAcs = () => notFound('acs_user_not_found')
  /** Creates (or, `replay`, finds its own) identity; links ACS; the link of ACS2 fails with `failure`. */
  function goneStub(failure: () => SeamError, replay = false) {
    const s = stub()
    s.acsUsers.get = vi.fn(async (acs) => ({ acs_user_id: acs }))
    if (replay) {
      s.userIdentities.create = vi.fn(async () => Promise.reject(rejected()))
      s.userIdentities.get = vi.fn(async () => identity({ user_identity_key: 'k' }))
    } else {
      s.userIdentities.create = vi.fn(async () => identity({ user_identity_key: 'k' }))
    }
    s.userIdentities.addAcsUser = vi.fn(async (p) => {
      if ((p as { acs_user_id: string }).acs_user_id === ACS2) throw failure()
    })
    let linked = [ACS]
    s.acsUsers.list = vi.fn(async () =>
      linked.map((acs) => ({ acs_user_id: acs, user_identity_id: id })),
    )
    s.userIdentities.removeAcsUser = vi.fn(async (p) => {
      linked = linked.filter((acs) => acs !== (p as { acs_user_id: string }).acs_user_id)
    })
    s.userIdentities.delete = vi.fn(async () => undefined)
    return s
  }
  const both = input({ user_identity_key: 'k', acs_user_ids: [ACS, ACS2] })

  it('the identity it created is unlinked and deleted again: 404, and the message says so', async () => {
    const s = goneStub(aboutAcs)
    const err = (await createUserIdentity(asClient(s), both, log).catch(
      (e: unknown) => e,
    )) as ApiError
    expect(err).toMatchObject({ status: 404, type: 'acs_user_not_found', extras: {} })
    expect(err.extras).toEqual({ acs_user_id: ACS2 })
    expect(err.message).toBe(
      `ACS user ${ACS2} does not exist (it was deleted while this request ran); the user identity this request had created was deleted again, with no ACS user linked.`,
    )
    expect(s.userIdentities.removeAcsUser).toHaveBeenCalledWith({
      user_identity_id: id,
      acs_user_id: ACS,
    })
    expect(s.userIdentities.delete).toHaveBeenCalledWith(id)
  })

  it('the undo fails: 404 naming the identity that remains, and what to do', async () => {
    const s = goneStub(aboutAcs)
    s.userIdentities.removeAcsUser = vi.fn(async () => Promise.reject(unavailable()))
    const err = (await createUserIdentity(asClient(s), both, log).catch(
      (e: unknown) => e,
    )) as ApiError
    expect(err).toMatchObject({
      status: 404,
      type: 'acs_user_not_found',
      extras: { acs_user_id: ACS2, user_identity_id: id },
    })
    expect(err.message).toBe(
      `ACS user ${ACS2} does not exist (it was deleted while this request ran); user identity ${id}, which this request created, could not be deleted again. It may have some of the other ACS users linked. Repeating the request without that ACS user is safe: it answers with that identity and links the others.`,
    )
    expect(s.userIdentities.delete).not.toHaveBeenCalled()
  })

  it('an identity an earlier attempt created is kept: 404 naming it', async () => {
    const s = goneStub(aboutAcs, true)
    const err = (await createUserIdentity(asClient(s), both, log).catch(
      (e: unknown) => e,
    )) as ApiError
    expect(err).toMatchObject({
      status: 404,
      type: 'acs_user_not_found',
      extras: { acs_user_id: ACS2, user_identity_id: id },
    })
    expect(err.message).toContain(
      `user identity ${id}, created by an earlier attempt of this request, is kept`,
    )
    expect(s.acsUsers.list).not.toHaveBeenCalled()
    expect(s.userIdentities.delete).not.toHaveBeenCalled()
  })

  it('a 404 about the identity itself (deleted meanwhile) is no acs_user_not_found: 409', async () => {
    const s = goneStub(() => notFound('user_identity_not_found'))
    const err = (await createUserIdentity(asClient(s), both, log).catch(
      (e: unknown) => e,
    )) as ApiError
    expect(err).toMatchObject({
      status: 409,
      type: 'user_identity_conflict',
      extras: { user_identity_id: id },
    })
    expect(err.message).toBe(
      `User identity ${id}, which this request created, was deleted while this request linked ACS users to it. Repeat the same request once it is gone: it then creates a new one.`,
    )
    expect(s.userIdentities.delete).not.toHaveBeenCalled()
  })

  it('a link Seam rejects on an identity an earlier attempt created: the answer names it', async () => {
    const s = goneStub(
      () => seamError({ name: SeamRequestError, type: 'acs_user_in_use', status: 400 }),
      true,
    )
    const err = (await createUserIdentity(asClient(s), both, log).catch(
      (e: unknown) => e,
    )) as ApiError
    expect(err).toMatchObject({
      status: 400,
      type: 'acs_user_in_use',
      extras: { user_identity_id: id },
    })
    expect(err.message).toContain(
      `User identity ${id}, created by an earlier attempt of this request, is kept. It may have some of the other ACS users linked. Repeating the request with the same fields and acs_user_ids Seam accepts is safe`,
    )
    expect(s.userIdentities.delete).not.toHaveBeenCalled()
  })
})

describe('isSameIdentity', () => {
  it('compares all four fields, absent = null, email case-insensitively', () => {
    const existing = identity({ user_identity_key: 'k', email_address: 'A@example.com' })
    expect(
      isSameIdentity(existing, { user_identity_key: 'k', email_address: 'a@example.com' }),
    ).toBe(true)
    expect(isSameIdentity(existing, { user_identity_key: 'k' })).toBe(false)
    expect(
      isSameIdentity(existing, {
        user_identity_key: 'k',
        email_address: 'a@example.com',
        full_name: 'N',
      }),
    ).toBe(false)
  })
})
