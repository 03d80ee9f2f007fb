/**
 * POST /user-identities when Seam hangs: the emulator holds user_identities/create (or add_acs_user)
 * far longer than the Seam client waits, then carries it out anyway, as Seam does with a request it
 * received. The answer must not claim that nothing changed: it says Seam may have acted, names what
 * may exist (the key, and the identity's id once known) and that repeating the same request settles
 * it; the repeat, once Seam answers again, gives 201 with that identity.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { UserIdentity } from '../../functions/seam/index.js'
import { type LocalRuntime, startLocalRuntime } from '../../local/runtime.js'
import type { SeamEmulator } from '../../local/seam-emulator/index.js'
import { call } from './helpers.js'

/** How long the emulator holds the request: far beyond the client's patience below. */
const HANG_MS = 2_000

let runtime: LocalRuntime
let seam: SeamEmulator
/** Attempts the Seam client sent, per path ("/user_identities/create"). */
const sent = new Map<string, number>()

beforeAll(async () => {
  runtime = await startLocalRuntime({
    port: 0,
    // A client that gives up on Seam quickly (each attempt 250 ms, no retry started past 600 ms).
    seamClient: {
      timeoutMs: 250,
      retry: { totalBudgetMs: 600 },
      onRequest: ({ route }) => sent.set(route, (sent.get(route) ?? 0) + 1),
    },
  })
  seam = runtime.emulator as SeamEmulator
})
afterAll(() => runtime?.close())
beforeEach(() => {
  seam.reset()
  sent.clear()
})

/** Waits until the emulator has carried out every attempt sent to `path` (none spills over). */
async function settled(path: string) {
  expect(sent.get(path)).toBeGreaterThan(1)
  await until(() => seam.requests.filter((r) => r.path === path).length >= (sent.get(path) ?? 0))
}

const until = async (done: () => boolean) => {
  while (!done()) await new Promise((resolve) => setTimeout(resolve, 20))
}

let n = 0
function person() {
  n++
  return {
    user_identity_key: `hang-${Date.now().toString(36)}-${n}`,
    full_name: `Patient Person ${n}`,
  }
}

describe.each(['moves', 'refused'] as const)('Seam hanging (%s reading)', (reading) => {
  beforeEach(() => seam.setBehaviours({ linkLinkedAcsUser: reading }))

  it('on the create: 503 saying the identity may have been created, naming its key and how to settle it; the repeat after recovery gives 201 with that identity', async () => {
    const body = person()
    seam.setFaults({ latencyMs: HANG_MS, paths: ['/user_identities/create'] })
    const answer = await call(runtime.url, 'POST', '/user-identities', body)
    expect(answer.status, JSON.stringify(answer.json)).toBe(503)
    const error = answer.json.error as Record<string, unknown> & { message: string }
    expect(error).toMatchObject({
      type: 'seam_unavailable',
      may_have_taken_effect: true,
      user_identity_key: body.user_identity_key,
    })
    expect(error).not.toHaveProperty('user_identity_id')
    expect(error.message).toMatch(/may have created the user identity/)
    expect(error.message).toMatch(/Repeating the same request settles it/)
    expect(error.message).not.toMatch(/nothing was changed|no user identity was created/)

    // Seam recovers, and carries out the create it held: the identity appears after the answer.
    seam.setFaults({})
    await until(() => seam.inspect.counts().userIdentities === 1)

    const again = await call(runtime.url, 'POST', '/user-identities', body)
    expect(again.status, JSON.stringify(again.json)).toBe(201)
    expect(again.headers.get('x-replayed')).toBe('true')
    const identity = again.json.user_identity as UserIdentity
    expect(identity.user_identity_key).toBe(body.user_identity_key)
    expect(seam.inspect.resource(identity.user_identity_id)).toMatchObject({
      user_identity_key: body.user_identity_key,
    })
    expect(seam.inspect.counts().userIdentities).toBe(1)
    await settled('/user_identities/create')
  })

  it('on the link: 503 naming the identity and the ACS user Seam may still link; the repeat after recovery gives 201 with both', async () => {
    const system = seam.seed.acsSystem()
    const acsUserId = seam.seed.acsUser({ acsSystemId: system.acs_system_id }).acs_user_id
    const body = { ...person(), acs_user_ids: [acsUserId] }
    seam.setFaults({ latencyMs: HANG_MS, paths: ['/user_identities/add_acs_user'] })
    const answer = await call(runtime.url, 'POST', '/user-identities', body)
    expect(answer.status, JSON.stringify(answer.json)).toBe(503)
    const error = answer.json.error as Record<string, unknown> & { message: string }
    const kept = error.user_identity_id as string
    expect(kept).toMatch(/^[0-9a-f-]{36}$/)
    expect(error).toMatchObject({
      type: 'seam_unavailable',
      may_have_taken_effect: true,
      user_identity_key: body.user_identity_key,
    })
    expect(error.message).toContain(`Seam may still link ACS user ${acsUserId} to it`)
    expect(error.message).toMatch(/Repeating the same request is safe/)
    // Kept, not deleted: deleting it would take the ACS user Seam may link with it.
    expect(seam.inspect.exists(kept)).toBe(true)

    seam.setFaults({})
    await until(
      () =>
        (seam.inspect.resource(acsUserId) as { user_identity_id?: string | null })
          .user_identity_id === kept,
    )
    const again = await call(runtime.url, 'POST', '/user-identities', body)
    expect(again.status, JSON.stringify(again.json)).toBe(201)
    expect(again.headers.get('x-replayed')).toBe('true')
    expect(again.json.user_identity).toMatchObject({
      user_identity_id: kept,
      acs_user_ids: [acsUserId],
    })
    expect(seam.inspect.counts().userIdentities).toBe(1)
    await settled('/user_identities/add_acs_user')
  })
})
