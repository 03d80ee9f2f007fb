/**
 * The create's undo against the Seam emulator through the real Seam client (retries, deadline): what
 * Seam holds decides what is unlinked, never what the request thinks it linked, and no ACS user of the
 * caller is ever deleted with an identity.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { ApiError } from '../../functions/contract/errors.js'
import { createUserIdentity, type Log } from '../../functions/core/create-user-identity.js'
import { createSeamClient, type SeamClient } from '../../functions/seam/index.js'
import { type SeamEmulator, startSeamEmulator } from '../../local/seam-emulator/index.js'

const log: Log = { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() } as unknown as Log

let emulator: SeamEmulator
beforeAll(async () => {
  emulator = await startSeamEmulator({ deleteDelayMs: 0 })
})
afterAll(() => emulator.close())
beforeEach(() => emulator.reset())

/**
 * A real client whose clock jumps `jumpMs` at every retry wait: a retry scheduled before the deadline
 * then finds it passed and is not sent.
 */
function clientWithSlowRetries(jumpMs: number): { seam: SeamClient; now: () => number } {
  let offset = 0
  const now = () => Date.now() + offset
  const seam = createSeamClient(
    { apiKey: emulator.apiKey, endpoint: emulator.url },
    {
      now,
      random: () => 0.5,
      sleep: async () => {
        offset += jumpMs
      },
    },
  )
  return { seam, now }
}

/** Calls Seam's API on the emulator directly (outside the client under test). */
async function seamApi(path: string, body: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(`${emulator.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${emulator.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  expect(response.status, path).toBe(200)
  return (await response.json()) as Record<string, unknown>
}

function acsUser(): string {
  const system = emulator.seed.acsSystem()
  return emulator.seed.acsUser({ acsSystemId: system.acs_system_id }).acs_user_id
}

const calls = () => emulator.requests.map((r) => `${r.path} ${r.status}`)

describe('a link Seam applied but answered 503, its retry not sent because the deadline passed', () => {
  it("never deletes the caller's ACS user: the identity is kept and named, the ACS user survives", async () => {
    const acs = acsUser()
    // Seam links the ACS user, then its answer is lost: this add_acs_user is answered 503.
    emulator.beforeNextRequest('/user_identities/add_acs_user', async () => {
      const { user_identities } = (await seamApi('/user_identities/list', {})) as {
        user_identities: { user_identity_id: string }[]
      }
      const identityId = user_identities[0]?.user_identity_id
      await seamApi('/user_identities/add_acs_user', {
        user_identity_id: identityId,
        acs_user_id: acs,
      })
      emulator.setFaults({ unavailableRate: 1, paths: ['/user_identities/add_acs_user'] })
    })
    const { seam, now } = clientWithSlowRetries(4_100)
    const err = await createUserIdentity(
      seam,
      { user_identity_key: 'k1', acs_user_ids: [acs] },
      log,
      { deadline: Date.now() + 5_000, undoReserveMs: 1_000, now },
    ).catch((e: unknown) => e)
    emulator.setFaults({})

    expect(calls()).toEqual([
      '/acs/users/get 200',
      '/user_identities/create 200',
      '/user_identities/list 200',
      '/user_identities/add_acs_user 200',
      '/user_identities/add_acs_user 503',
    ])
    expect(err).toBeInstanceOf(ApiError)
    const identityId = (emulator.inspect.resource(acs) as { user_identity_id: string })
      .user_identity_id
    expect(err).toMatchObject({
      status: 504,
      type: 'request_timeout',
      extras: { user_identity_id: identityId },
    })
    expect((err as ApiError).message).toContain(`may still link ACS user ${acs}`)
    expect((err as ApiError).message).toMatch(/Repeating the same request is safe/)
    // The point: the caller's ACS user still exists (Seam's delete would have cascaded to it).
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(emulator.inspect.exists(acs)).toBe(true)
    expect(emulator.inspect.exists(identityId)).toBe(true)

    // And the same request again finishes it.
    const again = await createUserIdentity(
      createSeamClient({ apiKey: emulator.apiKey, endpoint: emulator.url }),
      { user_identity_key: 'k1', acs_user_ids: [acs] },
      log,
    )
    expect(again).toMatchObject({ created: false })
    expect(again.userIdentity).toMatchObject({ user_identity_id: identityId, acs_user_ids: [acs] })
  })
})

describe('two identical creates at the same time: B takes the identity A created for its own', () => {
  const body = (ids: string[]) => ({
    user_identity_key: 'k2',
    full_name: 'Twin',
    acs_user_ids: ids,
  })
  const realClient = () => createSeamClient({ apiKey: emulator.apiKey, endpoint: emulator.url })
  const holderOf = (acs: string) =>
    (emulator.inspect.resource(acs) as { user_identity_id?: string | null }).user_identity_id ??
    null

  it('A runs out of time after B linked: A leaves the identity to B, whose 201 stays true', async () => {
    const [acs1, acs2] = [acsUser(), acsUser()]
    let b: Awaited<ReturnType<typeof createUserIdentity>> | undefined
    // Just before A's second link: B runs from start to end (it finds acs1 on A's identity, takes the
    // identity for its own and links acs2), then Seam throttles A's link until A's deadline passes.
    emulator.beforeNextRequest('/user_identities/add_acs_user', () => {
      emulator.beforeNextRequest('/user_identities/add_acs_user', async () => {
        b = await createUserIdentity(realClient(), body([acs1, acs2]), log)
        emulator.setFaults({
          throttleRate: 1,
          retryAfterSeconds: 0,
          paths: ['/user_identities/add_acs_user'],
        })
      })
    })
    const { seam, now } = clientWithSlowRetries(4_100)
    const a = await createUserIdentity(seam, body([acs1, acs2]), log, {
      deadline: Date.now() + 5_000,
      undoReserveMs: 1_000,
      now,
    }).catch((e: unknown) => e)
    emulator.setFaults({})

    expect(b).toMatchObject({ created: false })
    const id = b?.userIdentity.user_identity_id as string
    expect(a).toMatchObject({ status: 504, extras: { user_identity_id: id } })
    expect((a as ApiError).message).toMatch(/another request with the same fields is linking/)
    expect(emulator.inspect.exists(id)).toBe(true)
    expect([holderOf(acs1), holderOf(acs2)]).toEqual([id, id])
    expect(calls()).not.toContain('/user_identities/remove_acs_user 200')
    expect(calls()).not.toContain('/user_identities/delete 200')
  })

  it('A undoes after B linked the same ACS users: they are unlinked, never deleted', async () => {
    const [acs1, acs2, vanishing] = [acsUser(), acsUser(), acsUser()]
    let b: Awaited<ReturnType<typeof createUserIdentity>> | undefined
    // Just before A's second link: B runs from start to end (201), then the third ACS user is deleted,
    // so A's link of it answers 404 and A undoes the identity it created, which B answered with.
    emulator.beforeNextRequest('/user_identities/add_acs_user', () => {
      emulator.beforeNextRequest('/user_identities/add_acs_user', async () => {
        b = await createUserIdentity(realClient(), body([acs1, acs2, vanishing]), log)
        await seamApi('/acs/users/delete', { acs_user_id: vanishing })
        while (emulator.inspect.exists(vanishing)) await new Promise((r) => setTimeout(r, 1))
      })
    })
    const a = await createUserIdentity(realClient(), body([acs1, acs2, vanishing]), log).catch(
      (e: unknown) => e,
    )

    expect(b).toMatchObject({ created: false })
    const id = b?.userIdentity.user_identity_id as string
    expect(a).toMatchObject({ status: 404, type: 'acs_user_not_found' })
    expect((a as ApiError).message).toMatch(/had created was deleted again/)
    // The remaining gap (see undoCreate): B's 201 named an identity that is now being deleted. But
    // no ACS user went with it: both were unlinked before the delete.
    for (let i = 0; i < 100 && emulator.inspect.exists(id); i++) {
      await new Promise((r) => setTimeout(r, 10))
    }
    expect(emulator.inspect.exists(id)).toBe(false)
    expect([emulator.inspect.exists(acs1), emulator.inspect.exists(acs2)]).toEqual([true, true])
    expect([holderOf(acs1), holderOf(acs2)]).toEqual([null, null])
  })
})
