/**
 * POST /user-identities racing for one ACS user, over HTTP against the local runtime (its coordination
 * table on dynalite, the Seam emulator): 50 creates at once with Seam slow on the link, or on the check,
 * under both readings of what Seam's add_acs_user does with an ACS user linked elsewhere (moves it, or
 * refuses). Exactly one create gets it; every other one is told 409 acs_user_already_linked and leaves
 * nothing behind. And a link by someone outside this service between the check and the link, or right
 * after it: 409, the new identity undone, never a 201 that is false.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { UserIdentity } from '../../functions/seam/index.js'
import { type LocalRuntime, startLocalRuntime } from '../../local/runtime.js'
import type { SeamEmulator } from '../../local/seam-emulator/index.js'
import { call } from './helpers.js'

let runtime: LocalRuntime
let seam: SeamEmulator

beforeAll(async () => {
  runtime = await startLocalRuntime({ port: 0, emulator: { deleteDelayMs: 0 } })
  seam = runtime.emulator as SeamEmulator
})
afterAll(() => runtime?.close())
beforeEach(() => seam.reset())

const CREATES = 50
const LATENCY_MS = 400

let n = 0
/** A fresh person: distinct key, email and phone per call. */
function person() {
  n++
  const tag = `${Date.now().toString(36)}-${n}`
  return {
    user_identity_key: `race-${tag}`,
    email_address: `racer.${tag}@example.com`,
    phone_number: `+1555${String(2_000_000 + n).slice(-7)}`,
  }
}

function freeAcsUser(): string {
  const system = seam.seed.acsSystem()
  return seam.seed.acsUser({ acsSystemId: system.acs_system_id }).acs_user_id
}

/** Where the emulator has the ACS user now (null: on no identity). */
const holderOf = (acsUserId: string) =>
  (seam.inspect.resource(acsUserId) as { user_identity_id?: string | null }).user_identity_id ??
  null

/** Every user identity Seam lists (all pages), through its API. */
async function listedIdentities(): Promise<UserIdentity[]> {
  const found: UserIdentity[] = []
  let cursor: string | undefined
  do {
    const response = await fetch(`${seam.url}/user_identities/list`, {
      method: 'POST',
      headers: { authorization: `Bearer ${seam.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(cursor ? { page_cursor: cursor } : {}),
    })
    const page = (await response.json()) as {
      user_identities: UserIdentity[]
      pagination?: { next_page_cursor?: string | null }
    }
    found.push(...page.user_identities)
    cursor = page.pagination?.next_page_cursor ?? undefined
  } while (cursor)
  return found
}

describe.each([
  { reading: 'moves', path: '/user_identities/add_acs_user', what: 'the link' },
  { reading: 'refused', path: '/user_identities/add_acs_user', what: 'the link' },
  { reading: 'moves', path: '/acs/users/get', what: 'the check' },
  { reading: 'refused', path: '/acs/users/get', what: 'the check' },
] as const)('$reading reading, $what slow ($path)', ({ reading, path }) => {
  it(`${CREATES} concurrent creates for one free ACS user: one 201 holds it, every other answer is 409 acs_user_already_linked, no orphan`, async () => {
    seam.setBehaviours({ linkLinkedAcsUser: reading })
    const acsUserId = freeAcsUser()
    seam.setFaults({ latencyMs: LATENCY_MS, paths: [path] })

    const answers = await Promise.all(
      Array.from({ length: CREATES }, () =>
        call(runtime.url, 'POST', '/user-identities', { ...person(), acs_user_ids: [acsUserId] }),
      ),
    )
    seam.setFaults({})

    const created = answers.filter((a) => a.status === 201)
    const others = answers.filter((a) => a.status !== 201)
    expect(created, JSON.stringify(others.slice(0, 3).map((a) => a.json))).toHaveLength(1)
    const winner = (created[0]?.json.user_identity ?? {}) as UserIdentity
    expect(winner.acs_user_ids).toEqual([acsUserId])
    expect(others).toHaveLength(CREATES - 1)
    for (const answer of others) {
      expect(answer.status, JSON.stringify(answer.json)).toBe(409)
      expect(answer.json.error).toMatchObject({
        type: 'acs_user_already_linked',
        acs_user_id: acsUserId,
        user_identity_id: winner.user_identity_id,
      })
    }

    // Seam agrees: the ACS user is on the one identity that answered 201, and that identity is the
    // only one there is (the losers created none, so none is left behind, none is being deleted).
    expect(holderOf(acsUserId)).toBe(winner.user_identity_id)
    const identities = await listedIdentities()
    expect(identities.map((i) => i.user_identity_id)).toEqual([winner.user_identity_id])
    expect(seam.requests.filter((r) => r.path === '/user_identities/create')).toHaveLength(1)
    expect(seam.requests.filter((r) => r.path === '/user_identities/add_acs_user')).toHaveLength(1)
  })
})

describe('a link by someone outside this service (no lease of ours stops it)', () => {
  /** Links `acsUserId` to `userIdentityId` through Seam's API, as another integration would. */
  async function linkFromOutside(userIdentityId: string, acsUserId: string) {
    const response = await fetch(`${seam.url}/user_identities/add_acs_user`, {
      method: 'POST',
      headers: { authorization: `Bearer ${seam.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ user_identity_id: userIdentityId, acs_user_id: acsUserId }),
    })
    expect(response.status).toBe(200)
  }

  /**
   * A create for `acsUserId`, which `outsider` gets meanwhile: 409 acs_user_already_linked naming it,
   * the ACS user stays there, and the outsider's is the only identity left (ours was deleted again).
   */
  async function expectLostTo(acsUserId: string, outsider: string) {
    const answer = await call(runtime.url, 'POST', '/user-identities', {
      ...person(),
      acs_user_ids: [acsUserId],
    })
    expect(answer.status, JSON.stringify(answer.json)).toBe(409)
    expect(answer.json.error).toMatchObject({
      type: 'acs_user_already_linked',
      acs_user_id: acsUserId,
      user_identity_id: outsider,
      linked_acs_users: [{ acs_user_id: acsUserId, user_identity_id: outsider }],
    })
    expect(answer.json.error).not.toHaveProperty('kept_user_identity_id')
    expect((answer.json.error as { message: string }).message).toMatch(
      /created was deleted again, with no ACS user linked/,
    )
    expect(holderOf(acsUserId)).toBe(outsider)
    expect((await listedIdentities()).map((i) => i.user_identity_id)).toEqual([outsider])
  }

  it('refused reading: linked elsewhere between the check and the link → 409 acs_user_already_linked (not Seam’s 400), the new identity deleted again', async () => {
    seam.setBehaviours({ linkLinkedAcsUser: 'refused' })
    const acsUserId = freeAcsUser()
    const outsider = seam.seed.userIdentity().user_identity_id
    seam.beforeNextRequest('/user_identities/add_acs_user', () =>
      linkFromOutside(outsider, acsUserId),
    )
    await expectLostTo(acsUserId, outsider)
  })

  it('moves reading: moved elsewhere right after our link → the verification answers 409, the new identity deleted again, the ACS user stays with the other', async () => {
    seam.setBehaviours({ linkLinkedAcsUser: 'moves' })
    const acsUserId = freeAcsUser()
    const outsider = seam.seed.userIdentity().user_identity_id
    // Our add_acs_user goes through; before the verification reads the ACS user, it is moved away.
    seam.beforeNextRequest('/user_identities/add_acs_user', () => {
      seam.beforeNextRequest('/acs/users/get', () => linkFromOutside(outsider, acsUserId))
    })
    await expectLostTo(acsUserId, outsider)
  })
})
