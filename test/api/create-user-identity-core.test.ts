/**
 * The create core against a stub SeamClient: the paths the emulator cannot produce on demand.
 */
import { describe, expect, it, vi } from 'vitest'
import {
  type CreateUserIdentityInput,
  createUserIdentity,
  isSameIdentity,
  type Log,
} from '../../functions/api/create-user-identity-core.js'
import { ApiError } from '../../functions/api/http.js'
import {
  type SeamClient,
  SeamError,
  SeamNotFoundError,
  SeamRequestError,
  SeamUnavailableError,
  type UserIdentity,
} from '../../functions/seam/index.js'

const log: Log = { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() } as unknown as Log
const noSleep = async () => undefined

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
    },
    acsUsers: { get: fail('acsUsers.get') },
  }
}
const asClient = (s: ReturnType<typeof stub>) => s as unknown as SeamClient

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
    const err = await createUserIdentity(
      asClient(s),
      input({ user_identity_key: 'k', email_address: 'a@example.com' }),
      log,
    ).catch((e: unknown) => e)
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
    const err = await createUserIdentity(
      asClient(s),
      input({ phone_number: '+15550000000' }),
      log,
    ).catch((e: unknown) => e)
    expect(err).toMatchObject({ status: 422, type: 'weird_rule' })
  })

  it('a duplicate lookup during an outage answers 503, not a wrong 400 or 409', async () => {
    const s = stub()
    s.userIdentities.create = vi.fn(async () => Promise.reject(rejected()))
    s.userIdentities.get = vi.fn(async () => Promise.reject(unavailable()))
    const err = await createUserIdentity(asClient(s), input({ user_identity_key: 'k' }), log).catch(
      (e: unknown) => e,
    )
    expect(err).toBeInstanceOf(SeamError)
    expect((err as SeamError).name).toBe(SeamUnavailableError)
  })

  it('repeats a create that failed with a 5xx, at most postAttempts times', async () => {
    const s = stub()
    s.userIdentities.create = vi.fn(async () => Promise.reject(unavailable()))
    const err = await createUserIdentity(asClient(s), input({ user_identity_key: 'k' }), log, {
      sleep: noSleep,
      postAttempts: 3,
    }).catch((e: unknown) => e)
    expect((err as SeamError).name).toBe(SeamUnavailableError)
    expect(s.userIdentities.create).toHaveBeenCalledTimes(3)
  })

  it('does not repeat what the Seam client already retried', async () => {
    const s = stub()
    s.userIdentities.create = vi.fn(async () =>
      Promise.reject(seamError({ name: SeamUnavailableError, status: 503, retryable: true })),
    )
    await createUserIdentity(asClient(s), input({ user_identity_key: 'k' }), log, {
      sleep: noSleep,
    }).catch(() => undefined)
    expect(s.userIdentities.create).toHaveBeenCalledTimes(1)
  })

  it('a link rejected by Seam (not 404): the new identity is deleted, the rejection passed on', async () => {
    const s = stub()
    const acs = '33333333-3333-4333-8333-333333333333'
    s.acsUsers.get = vi.fn(async () => ({ acs_user_id: acs }))
    s.userIdentities.create = vi.fn(async () => identity({ user_identity_key: 'k' }))
    s.userIdentities.addAcsUser = vi.fn(async () =>
      Promise.reject(seamError({ name: SeamRequestError, type: 'acs_user_in_use', status: 400 })),
    )
    s.userIdentities.delete = vi.fn(async () => undefined)
    const err = await createUserIdentity(
      asClient(s),
      input({ user_identity_key: 'k', acs_user_ids: [acs] }),
      log,
    ).catch((e: unknown) => e)
    expect(err).toMatchObject({ status: 400, type: 'acs_user_in_use' })
    expect(s.userIdentities.delete).toHaveBeenCalledWith(identity().user_identity_id)
  })

  it('a link failing in an outage keeps the identity for a retry to finish', async () => {
    const s = stub()
    const acs = '33333333-3333-4333-8333-333333333333'
    s.acsUsers.get = vi.fn(async () => ({ acs_user_id: acs }))
    s.userIdentities.create = vi.fn(async () => identity({ user_identity_key: 'k' }))
    s.userIdentities.addAcsUser = vi.fn(async () =>
      Promise.reject(seamError({ name: SeamUnavailableError, status: 503, retryable: true })),
    )
    const err = await createUserIdentity(
      asClient(s),
      input({ user_identity_key: 'k', acs_user_ids: [acs] }),
      log,
    ).catch((e: unknown) => e)
    expect((err as SeamError).name).toBe(SeamUnavailableError)
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
