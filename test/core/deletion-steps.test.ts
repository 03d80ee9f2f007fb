import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import type { DeliveryHealth } from '../../functions/core/coordination.js'
import {
  checkStage,
  type DeletionState,
  type DeliveryLog,
  deleteStage,
} from '../../functions/core/deletion-steps.js'
import { DELIVERY_LOG_TIMEOUT_MS } from '../../functions/core/deliveries.js'
import {
  awaitSeconds,
  DEFAULT_POLL_POLICY,
  DELIVERY_GRACE_SECONDS,
} from '../../functions/core/poll.js'
import { stageByName, USER_IDENTITY } from '../../functions/core/stages.js'
import {
  createSeamClient,
  type SeamClient,
  SeamError,
  SeamNotFoundError,
} from '../../functions/seam/index.js'
import { logger } from '../../functions/telemetry/powertools.js'
import { type SeamEmulator, startSeamEmulator } from '../../local/seam-emulator/index.js'

let emulator: SeamEmulator
let seam: SeamClient
const credentials = stageByName('acs_credentials')
const policy = { ...DEFAULT_POLL_POLICY, stageTimeoutSeconds: 60 }

beforeAll(async () => {
  emulator = await startSeamEmulator({ pageSize: 2, deleteDelayMs: 30 })
  seam = createSeamClient({ apiKey: emulator.apiKey, endpoint: emulator.url })
})
afterAll(() => emulator?.close())
beforeEach(() => emulator.reset())
afterEach(() => vi.restoreAllMocks())

const seamCalls = (path: string) => emulator.requests.filter((r) => r.path === path).length
const settle = () => new Promise((resolve) => setTimeout(resolve, 120))

/** Seam's 429, as the Seam module throws it once its retries are spent. */
const throttled = () =>
  new SeamError({
    name: 'SeamThrottledError',
    type: 'seam_throttled',
    message: 'busy',
    status: 429,
    retryable: true,
  })

describe('deleteStage', () => {
  it('lists every page, deletes each item and returns them as pending with the first wait', async () => {
    const graph = emulator.seed.identityGraph({ acsSystems: 2, credentialsPerUser: 3 })
    const state = await deleteStage(
      seam,
      credentials,
      { user_identity_id: graph.userIdentityId },
      policy,
    )
    const progress = state.stages?.acs_credentials
    expect(progress?.deleted).toBe(6)
    expect(progress?.pending.map((p) => p.id).sort()).toEqual([...graph.acsCredentialIds].sort())
    expect(progress).toMatchObject({
      pending_count: 6,
      checks: 0,
      wait_seconds: 2,
      checks_left: true,
    })
    expect(seamCalls('/acs/credentials/list')).toBe(3) // 6 items, pages of 2
    expect(seamCalls('/acs/credentials/delete')).toBe(6)
  })

  it('counts an item that vanished before its delete as deleted (a 404 is harmless)', async () => {
    const graph = emulator.seed.identityGraph({ acsSystems: 1, credentialsPerUser: 2 })
    const gone = graph.acsCredentialIds[0] as string
    const flaky: SeamClient = {
      ...seam,
      acsCredentials: {
        ...seam.acsCredentials,
        delete: async (id: string) => {
          if (id === gone) {
            throw new SeamError({
              name: SeamNotFoundError,
              type: 'acs_credential_not_found',
              message: 'gone',
              status: 404,
              retryable: false,
            })
          }
          return seam.acsCredentials.delete(id)
        },
      },
    }
    const state = await deleteStage(
      flaky,
      credentials,
      { user_identity_id: graph.userIdentityId },
      policy,
    )
    expect(state.stages?.acs_credentials?.deleted).toBe(2)
  })
})

describe('deletes Seam keeps refusing (429/5xx after the Seam module retried)', () => {
  /** A client whose credential delete is refused for the ids in `refuse`. */
  const refusing = (refuse: Set<string>): SeamClient => ({
    ...seam,
    acsCredentials: {
      ...seam.acsCredentials,
      delete: async (id: string) => {
        if (refuse.has(id)) throw throttled()
        return seam.acsCredentials.delete(id)
      },
    },
  })

  it('keeps the stage progress and count, and deletes the refused ones at the next check', async () => {
    const graph = emulator.seed.identityGraph({ acsSystems: 1, credentialsPerUser: 3 })
    const refused = graph.acsCredentialIds[1] as string
    const refuse = new Set([refused])
    const state = await deleteStage(
      refusing(refuse),
      credentials,
      { user_identity_id: graph.userIdentityId },
      policy,
    )
    const progress = state.stages?.acs_credentials
    expect(progress?.deleted).toBe(3)
    expect(progress?.to_delete?.map((i) => i.id)).toEqual([refused])
    expect(progress?.pending).toHaveLength(2)
    expect(progress?.pending_count).toBe(3)

    refuse.clear()
    await settle()
    const next = await checkStage(refusing(refuse), credentials, state, policy)
    expect(next.stages?.acs_credentials?.to_delete).toBeUndefined()
    await settle()
    const last = await checkStage(seam, credentials, next, policy)
    expect(last.stages?.acs_credentials).toMatchObject({ pending_count: 0, deleted: 3 })
    expect(emulator.inspect.remainingFor(graph.userIdentityId).acsCredentialIds).toEqual([])
  })

  it('keeps every delete for the next check when Seam refused them all, instead of failing the task', async () => {
    const graph = emulator.seed.identityGraph({ acsSystems: 1, credentialsPerUser: 2 })
    const all = new Set(graph.acsCredentialIds)
    const state = await deleteStage(
      refusing(all),
      credentials,
      { user_identity_id: graph.userIdentityId },
      policy,
    )
    const progress = state.stages?.acs_credentials
    expect(progress?.to_delete?.map((i) => i.id).sort()).toEqual([...all].sort())
    expect(progress).toMatchObject({ pending_count: 2, deleted: 2, checks_left: true })
    expect(emulator.inspect.remainingFor(graph.userIdentityId).acsCredentialIds).toHaveLength(2)
  })

  it('names the refused items when the stage runs out of time', async () => {
    const graph = emulator.seed.identityGraph({ acsSystems: 1, credentialsPerUser: 2 })
    const refused = graph.acsCredentialIds[0] as string
    const client = refusing(new Set([refused]))
    const state = await deleteStage(
      client,
      credentials,
      { user_identity_id: graph.userIdentityId },
      policy,
    )
    await settle()
    const later = () => new Date(Date.now() + 61_000)
    const next = await checkStage(client, credentials, state, policy, { now: later })
    expect(next.stages?.acs_credentials?.checks_left).toBe(false)
    expect(next.stages?.acs_credentials?.stuck).toMatch(
      new RegExp(`kept refusing \\(429/5xx\\) to delete 1 of the ACS credentials: ${refused}`),
    )
  })
})

describe('a stage whose deletes outlast its time budget', () => {
  it('still gets one check, which words what is stuck', async () => {
    const graph = emulator.seed.identityGraph({ acsSystems: 1, credentialsPerUser: 1 })
    const stuck = graph.acsCredentialIds[0] as string
    emulator.stickDeletion(stuck)
    // The stage starts now; by the time its deletes are done, 61 s (past the 60 s budget) have gone.
    let calls = 0
    const slowDeletes = { now: () => new Date(Date.now() + (calls++ === 0 ? 0 : 61_000)) }
    const state = await deleteStage(
      seam,
      credentials,
      { user_identity_id: graph.userIdentityId },
      policy,
      slowDeletes,
    )
    expect(state.stages?.acs_credentials).toMatchObject({ checks_left: true, wait_seconds: 1 })
    const next = await checkStage(seam, credentials, state, policy, {
      now: () => new Date(Date.now() + 122_000),
    })
    expect(next.stages?.acs_credentials?.checks_left).toBe(false)
    expect(next.stages?.acs_credentials?.stuck).toContain(stuck)
  })
})

describe('checkStage', () => {
  async function deleted(graphShape = { acsSystems: 2, credentialsPerUser: 2 }) {
    const graph = emulator.seed.identityGraph(graphShape)
    const state = await deleteStage(
      seam,
      credentials,
      { user_identity_id: graph.userIdentityId },
      policy,
    )
    return { graph, state }
  }

  it('confirms every pending item from one events/list call when the events are there', async () => {
    const { state } = await deleted()
    await settle()
    const before = emulator.requests.length
    const next = await checkStage(seam, credentials, state, policy)
    expect(next.stages?.acs_credentials).toMatchObject({ pending_count: 0, checks: 1 })
    const calls = emulator.requests.slice(before).map((r) => r.path)
    expect(calls).toEqual(['/events/list'])
  })

  it('from the third check on, treats an item no longer listed as gone when its event was missed', async () => {
    const { state } = await deleted()
    await settle()
    // Read events from an hour after the stage began: every event is "missed".
    const progress = state.stages?.acs_credentials as NonNullable<
      NonNullable<DeletionState['stages']>['acs_credentials']
    >
    const late = new Date(Date.now() + 3_600_000).toISOString()
    const missed = (checks: number): DeletionState => ({
      ...state,
      stages: { acs_credentials: { ...progress, started_at: late, checks } },
    })
    const lists = seamCalls('/acs/credentials/list')
    // Checks 1 and 2 trust events alone: an unconfirmed item is most likely not done yet.
    const early = await checkStage(seam, credentials, missed(0), policy)
    expect(early.stages?.acs_credentials?.pending_count).toBe(4)
    expect(seamCalls('/acs/credentials/list')).toBe(lists)
    const third = await checkStage(seam, credentials, missed(2), policy)
    expect(third.stages?.acs_credentials?.pending_count).toBe(0)
    expect(seamCalls('/acs/credentials/list')).toBeGreaterThan(lists)
  })

  it('records how long Seam took, and sizes the next stage first wait to it', async () => {
    const { graph, state } = await deleted()
    await settle()
    const next = await checkStage(seam, credentials, state, policy)
    const latency = next.seam_latency_seconds as number
    expect(latency).toBeGreaterThan(0.02)
    expect(latency).toBeLessThan(1)
    const users = await deleteStage(seam, stageByName('acs_users'), next, policy)
    expect(users.stages?.acs_users?.wait_seconds).toBe(1)
    const slow = await deleteStage(
      seam,
      stageByName('phones'),
      { user_identity_id: graph.userIdentityId, seam_latency_seconds: 9.5 },
      policy,
    )
    expect(slow.stages?.phones?.wait_seconds).toBe(10)
  })

  it('keeps what Seam has not finished pending, with a longer wait', async () => {
    const graph = emulator.seed.identityGraph({ acsSystems: 1, credentialsPerUser: 2 })
    const stuck = graph.acsCredentialIds[1] as string
    emulator.stickDeletion(stuck)
    const state = await deleteStage(
      seam,
      credentials,
      { user_identity_id: graph.userIdentityId },
      policy,
    )
    await settle()
    const next = await checkStage(seam, credentials, state, policy)
    expect(next.stages?.acs_credentials).toMatchObject({
      pending: [expect.objectContaining({ id: stuck })],
      pending_count: 1,
      checks: 1,
      wait_seconds: 3,
      checks_left: true,
    })
    expect(next.stages?.acs_credentials?.stuck).toBeUndefined()
  })

  it('gives up at the deadline with a message naming the stuck item and what to do', async () => {
    const graph = emulator.seed.identityGraph({ acsSystems: 1, credentialsPerUser: 1 })
    const stuck = graph.acsCredentialIds[0] as string
    emulator.stickDeletion(stuck)
    const state = await deleteStage(
      seam,
      credentials,
      { user_identity_id: graph.userIdentityId },
      policy,
    )
    const later = () => new Date(Date.now() + 61_000)
    const next = await checkStage(seam, credentials, state, policy, { now: later })
    const progress = next.stages?.acs_credentials
    expect(progress?.checks_left).toBe(false)
    expect(progress?.stuck).toContain(stuck)
    expect(progress?.stuck).toContain('acs_credential.deleted')
    expect(progress?.stuck).toContain(`DELETE /user-identities/${graph.userIdentityId}`)
  })
})

describe('the user identity stage', () => {
  /** An identity with nothing left to hold it back, as the earlier stages leave it. */
  const bare = () => emulator.seed.userIdentity().user_identity_id

  it('in cascade mode: the delete only marks the identity, a check confirms it once Seam is done', async () => {
    const id = bare()
    const state = await deleteStage(seam, USER_IDENTITY, { user_identity_id: id }, policy)
    expect(state.stages?.user_identity).toMatchObject({
      deleted: 1,
      pending: [{ id }],
      pending_count: 1,
      checks: 0,
      checks_left: true,
    })
    // Seam has not finished: still found (being_deleted), still pending.
    expect(emulator.inspect.remainingFor(id).userIdentity).not.toBeNull()
    const early = await checkStage(seam, USER_IDENTITY, state, policy)
    expect(early.stages?.user_identity).toMatchObject({ pending_count: 1, checks: 1 })
    await settle()
    const gets = seamCalls('/user_identities/get')
    const done = await checkStage(seam, USER_IDENTITY, early, policy)
    expect(done.stages?.user_identity).toMatchObject({ pending_count: 0, checks: 2 })
    expect(emulator.inspect.remainingFor(id).isEmpty).toBe(true)
    // No event exists for it: each check is one user_identities/get, never events/list.
    expect(seamCalls('/user_identities/get')).toBe(gets + 1)
    expect(seamCalls('/events/list')).toBe(0)
  })

  it('in documented mode (deleted at once): the first check confirms it', async () => {
    emulator.setUserIdentityDeleteMode('documented')
    const id = bare()
    const state = await deleteStage(seam, USER_IDENTITY, { user_identity_id: id }, policy)
    const next = await checkStage(seam, USER_IDENTITY, state, policy)
    expect(next.stages?.user_identity).toMatchObject({ pending_count: 0, checks: 1 })
  })

  it('confirms with one lookup when the identity is already gone (a re-run or a redrive)', async () => {
    const state = await deleteStage(
      seam,
      USER_IDENTITY,
      { user_identity_id: '00000000-0000-4000-8000-000000000000' },
      policy,
    )
    // The delete answers not found (no lookup first: the route just did one). Seam might answer so
    // while it is still deleting the identity, so the first check looks once more.
    expect(state.stages?.user_identity).toMatchObject({ deleted: 0, pending_count: 1 })
    expect(seamCalls('/user_identities/delete')).toBe(1)
    expect(seamCalls('/user_identities/get')).toBe(0)
    const checked = await checkStage(seam, USER_IDENTITY, state, policy)
    expect(checked.stages?.user_identity).toMatchObject({ pending_count: 0 })
    expect(seamCalls('/user_identities/get')).toBe(1)
  })

  it('fails at the deadline with a Cause naming the identity when Seam never finishes', async () => {
    const id = bare()
    emulator.stickDeletion(id)
    const state = await deleteStage(seam, USER_IDENTITY, { user_identity_id: id }, policy)
    await settle()
    const next = await checkStage(seam, USER_IDENTITY, state, policy, {
      now: () => new Date(Date.now() + 61_000),
    })
    const progress = next.stages?.user_identity
    expect(progress).toMatchObject({ pending_count: 1, checks_left: false })
    expect(progress?.stuck).toMatch(
      new RegExp(
        `^Stage user_identity, after 61 s and 1 checks: Seam has not finished deleting the user identity ${id} \\(Seam sends no event for it, and it is still found\\)\\.`,
      ),
    )
    expect(progress?.stuck).toContain(`DELETE /user-identities/${id}`)
  })
})

describe('with webhooks: the identity looked up once, and the pace of a resumed stage', () => {
  /** The identity's delete with its look right after (StageTaskEvent.look_after_delete). */
  const deleteLooking = (client: SeamClient, userIdentityId: string) =>
    deleteStage(client, USER_IDENTITY, { user_identity_id: userIdentityId }, policy, {
      lookAfterDelete: true,
    })

  it('ends the identity stage at its delete when the identity is already gone (documented mode)', async () => {
    emulator.setUserIdentityDeleteMode('documented')
    const identity = emulator.seed.userIdentity()
    const state = await deleteLooking(seam, identity.user_identity_id)
    expect(state.stages?.user_identity).toMatchObject({ deleted: 1, pending: [], pending_count: 0 })
    expect(seamCalls('/user_identities/get')).toBe(1)
  })

  it('keeps the identity pending when Seam refuses the look (429 after the retries), instead of failing the task', async () => {
    emulator.setUserIdentityDeleteMode('documented')
    const identity = emulator.seed.userIdentity()
    const refusingLook: SeamClient = {
      ...seam,
      userIdentities: {
        ...seam.userIdentities,
        get: async () => {
          throw throttled()
        },
      },
    }
    const state = await deleteLooking(refusingLook, identity.user_identity_id)
    expect(state.stages?.user_identity).toMatchObject({
      deleted: 1,
      pending: [{ id: identity.user_identity_id }],
      pending_count: 1,
      checks_left: true,
    })
    // The next check looks, and finds it gone.
    const checked = await checkStage(seam, USER_IDENTITY, state, policy)
    expect(checked.stages?.user_identity?.pending_count).toBe(0)
  })

  it('keeps the identity pending while Seam is still deleting it (cascade mode)', async () => {
    const identity = emulator.seed.userIdentity()
    const state = await deleteLooking(seam, identity.user_identity_id)
    expect(state.stages?.user_identity).toMatchObject({
      pending: [{ id: identity.user_identity_id }],
      pending_count: 1,
    })
    // Without the look, no lookup at the delete.
    const other = emulator.seed.userIdentity()
    const before = seamCalls('/user_identities/get')
    await deleteStage(seam, USER_IDENTITY, { user_identity_id: other.user_identity_id }, policy)
    expect(seamCalls('/user_identities/get')).toBe(before)
  })

  it('sizes the next first wait to the stage a webhook resumed (it left with items pending)', async () => {
    const graph = emulator.seed.identityGraph({ acsSystems: 1, credentialsPerUser: 1 })
    const doneAt = new Date(Date.now() - 4_200).toISOString()
    const resumed: DeletionState = {
      user_identity_id: graph.userIdentityId,
      stages: {
        acs_credentials: {
          started_at: doneAt,
          deletes_done_at: doneAt,
          deleted: 1,
          pending: [{ id: 'cred-1' }],
          pending_count: 1,
          checks: 0,
          wait_seconds: 2,
          checks_left: true,
        },
      },
    }
    const state = await deleteStage(seam, stageByName('acs_users'), resumed, policy)
    expect(state.seam_latency_seconds).toBeGreaterThanOrEqual(4.2)
    expect(state.stages?.acs_users?.wait_seconds).toBe(5)
    // A stage its check confirmed (nothing pending) says nothing new about the pace.
    const checked = structuredClone(resumed)
    if (checked.stages?.acs_credentials) {
      checked.stages.acs_credentials.pending = []
      checked.stages.acs_credentials.pending_count = 0
    }
    const after = await deleteStage(seam, stageByName('acs_users'), checked, policy)
    expect(after.seam_latency_seconds).toBeUndefined()
    expect(after.stages?.acs_users?.wait_seconds).toBe(2)
  })
})

describe('with webhooks: what the deletion and the deployment have seen of deliveries', () => {
  /** The safety net of a trusted Await with this policy: the poll's longest wait, plus the grace. */
  const safetyNet = policy.maxWaitSeconds + DELIVERY_GRACE_SECONDS
  /**
   * A delivery log holding the ids in `delivered` and the deployment's delivery `health` (moved by its
   * notes, never back); `faults.read` makes its lookups fail like an unreachable table, `faults.write`
   * its notes.
   */
  function log(
    delivered: Set<string>,
    health: DeliveryHealth = {},
    faults: { read?: boolean; write?: boolean } = {},
  ) {
    const lookups: string[][] = []
    const notes: (keyof DeliveryHealth)[] = []
    const deliveries: DeliveryLog = {
      deliveries: async (ids) => {
        lookups.push(ids)
        if (faults.read) throw new Error('DynamoDB unreachable')
        const occurredAt = new Date(Date.now() + 1_500).toISOString()
        const events = ids
          .filter((id) => delivered.has(id))
          .map((resourceId) => ({ resourceId, occurredAt }))
        return { events, health: { ...health } }
      },
      noteDelivery: async (kind, atMs) => {
        notes.push(kind)
        if (faults.write) throw new Error('AccessDeniedException')
        if ((health[kind] ?? 0) < atMs) health[kind] = atMs
      },
    }
    return { deliveries, lookups, notes, health }
  }
  async function deleted(
    deliveries: DeliveryLog,
    state: Partial<DeletionState> = {},
    options: { timeScale?: number } = {},
  ) {
    const graph = emulator.seed.identityGraph({ acsSystems: 1, credentialsPerUser: 3 })
    const next = await deleteStage(
      seam,
      credentials,
      { ...state, user_identity_id: graph.userIdentityId },
      policy,
      { deliveries, ...options },
    )
    return { graph, state: next }
  }
  const minutesAgo = (minutes: number) => Date.now() - minutes * 60_000
  const lostWarnings = (warn: { mock: { calls: unknown[][] } }) =>
    warn.mock.calls.filter((call) => String(call[0]).startsWith('Delivery found lost'))

  it('confirms delivered items without a Seam call, tells the deployment, and trusts deliveries from then on', async () => {
    const delivered = new Set<string>()
    const { deliveries, notes, health } = log(delivered)
    const { graph, state } = await deleted(deliveries)
    // Nothing seen yet, here or in the deployment: the Await keeps the poll's wait.
    expect(state.stages?.acs_credentials).toMatchObject({ wait_seconds: 2, await_seconds: 2 })
    expect(state.deliveries).toEqual({ missing: [] })
    for (const id of graph.acsCredentialIds) delivered.add(id)
    const before = emulator.requests.length
    const next = await checkStage(seam, credentials, state, policy, { deliveries })
    expect(next.stages?.acs_credentials).toMatchObject({ pending_count: 0, checks: 1 })
    expect(emulator.requests.slice(before)).toEqual([])
    expect(next.deliveries).toEqual({ missing: [] })
    expect(notes).toEqual(['arrivedAt'])
    expect(health.arrivedAt).toBeGreaterThan(minutesAgo(1))
    // Seam's pace, from the delivered events' times as from events/list.
    expect(next.seam_latency_seconds).toBeGreaterThan(1)
    // The next stage trusts deliveries: its Await is a safety net, which a delivery ends early.
    const users = await deleteStage(seam, stageByName('acs_users'), next, policy, { deliveries })
    expect(users.stages?.acs_users?.await_seconds).toBe(safetyNet)
  })

  it("trusts the deployment's deliveries of the last 15 minutes from a deletion's first stage, and none within the hour after a loss", async () => {
    const cases: {
      label: string
      health: DeliveryHealth
      own?: DeletionState['deliveries']
      timeScale?: number
      trusted: boolean
    }[] = [
      {
        label: 'came a minute ago, none lost',
        health: { arrivedAt: minutesAgo(1) },
        trusted: true,
      },
      { label: 'last came 16 minutes ago', health: { arrivedAt: minutesAgo(16) }, trusted: false },
      {
        label: 'one lost 5 minutes ago',
        health: { arrivedAt: minutesAgo(0), lostAt: minutesAgo(5) },
        trusted: false,
      },
      {
        label: 'the loss 30 minutes ago, deliveries since',
        health: { arrivedAt: minutesAgo(1), lostAt: minutesAgo(30) },
        trusted: false,
      },
      {
        label: 'the loss 61 minutes ago, deliveries since',
        health: { arrivedAt: minutesAgo(1), lostAt: minutesAgo(61) },
        trusted: true,
      },
      { label: 'a new table: nothing seen', health: {}, trusted: false },
      {
        label: 'one of its own missing',
        health: { arrivedAt: minutesAgo(0) },
        own: { missing: ['cred-x'] },
        trusted: false,
      },
      // 20 s of real time at a time scale of 0.02 is 1,000 s of the workflow: past the 15 minutes.
      {
        label: 'came 20 s ago, workflow time scaled by 0.02',
        health: { arrivedAt: Date.now() - 20_000 },
        timeScale: 0.02,
        trusted: false,
      },
    ]
    for (const { label, health, own, timeScale, trusted } of cases) {
      const { deliveries } = log(new Set(), { ...health })
      const { state } = await deleted(
        deliveries,
        own ? { deliveries: own } : {},
        timeScale ? { timeScale } : {},
      )
      const progress = state.stages?.acs_credentials
      expect(progress?.await_seconds, label).toBe(trusted ? safetyNet : progress?.wait_seconds)
    }
  })

  it('tells a late delivery from a lost one, reports a loss once, and then polls deployment-wide', async () => {
    const warn = vi.spyOn(logger, 'warn')
    const delivered = new Set<string>()
    const { deliveries, lookups, notes } = log(delivered, { arrivedAt: minutesAgo(1) })
    const { graph, state } = await deleted(deliveries)
    expect(state.stages?.acs_credentials?.await_seconds).toBe(safetyNet)
    await settle()
    // Seam finished them moments ago, their deliveries have not come: late, not lost (yet).
    const checked = await checkStage(seam, credentials, state, policy, { deliveries })
    const ids = [...graph.acsCredentialIds].sort()
    expect(checked.stages?.acs_credentials?.pending_count).toBe(0)
    expect([...(checked.deliveries?.missing ?? [])].sort()).toEqual(ids)
    expect(Object.keys(checked.deliveries?.confirmed_at ?? {}).sort()).toEqual(ids)
    expect(notes).toEqual([])
    // Two come, one does not: the deletion still misses one, and does not trust.
    delivered.add(ids[0] as string)
    delivered.add(ids[1] as string)
    const users = await deleteStage(seam, stageByName('acs_users'), checked, policy, {
      deliveries,
    })
    expect(lookups.at(-1)?.sort()).toEqual(ids)
    expect(users.deliveries?.missing).toEqual([ids[2]])
    expect(users.stages?.acs_users?.await_seconds).toBe(users.stages?.acs_users?.wait_seconds)
    expect(lostWarnings(warn)).toEqual([])
    // Over 10 s of the workflow later (a time scale of 0.005 makes the moments since 20 s and more),
    // still not come: lost. The deployment is told once, and the id stays missing.
    await settle()
    const later = { deliveries, timeScale: 0.005 }
    const phones = await deleteStage(seam, stageByName('phones'), users, policy, later)
    expect(phones.deliveries).toEqual({ missing: [ids[2]] })
    expect(notes.filter((n) => n === 'lostAt')).toHaveLength(1)
    expect(lostWarnings(warn)).toHaveLength(1)
    expect(lostWarnings(warn)[0]?.[1]).toMatchObject({ resource_ids: [ids[2]], lost: 1 })
    await deleteStage(seam, stageByName('phones'), phones, policy, later)
    expect(notes.filter((n) => n === 'lostAt')).toHaveLength(1)
    // It comes after all: nothing is missing, yet no deletion trusts within the hour after the loss.
    delivered.add(ids[2] as string)
    const after = await deleteStage(seam, stageByName('phones'), phones, policy, { deliveries })
    expect(after.deliveries).toEqual({ missing: [] })
    expect(after.stages?.phones?.await_seconds).toBe(after.stages?.phones?.wait_seconds)
  })

  it("a check stops trusting when Seam confirms items before their deliveries, and calls them lost when Seam's own time is over 20 s old", async () => {
    const warn = vi.spyOn(logger, 'warn')
    const { deliveries, notes, health } = log(new Set(), { arrivedAt: minutesAgo(1) })
    const { state } = await deleted(deliveries)
    expect(state.stages?.acs_credentials?.await_seconds).toBe(safetyNet)
    await settle()
    // About 0.1 s ago, or 2 s of the workflow at a time scale of 0.05: missing, maybe on their way.
    // This deletion stops trusting until they come; the deployment is told nothing.
    for (const timeScale of [1, 0.05]) {
      const checked = await checkStage(seam, credentials, state, policy, { deliveries, timeScale })
      expect(checked.deliveries?.missing).toHaveLength(3)
      expect(Object.keys(checked.deliveries?.confirmed_at ?? {})).toHaveLength(3)
      const next = await deleteStage(seam, stageByName('acs_users'), checked, policy, {
        deliveries,
        timeScale,
      })
      const progress = next.stages?.acs_users
      expect(progress?.await_seconds).toBe(progress?.wait_seconds)
    }
    expect(notes).toEqual([])
    // At 0.002 it is over 40 s: lost at once (a trusted Await that ran out finds them so). Every
    // other deletion of the deployment now polls.
    const lost = await checkStage(seam, credentials, state, policy, {
      deliveries,
      timeScale: 0.002,
    })
    expect(lost.deliveries?.missing).toHaveLength(3)
    expect(lost.deliveries?.confirmed_at).toBeUndefined()
    expect(notes).toEqual(['lostAt'])
    expect(health.lostAt).toBeGreaterThan(minutesAgo(1))
    expect(lostWarnings(warn)[0]?.[1]).toMatchObject({
      stage: 'acs_credentials',
      lost: 3,
      poll_for_seconds: 3600,
    })
    const other = await deleted(deliveries)
    const progress = other.state.stages?.acs_credentials
    expect(progress?.await_seconds).toBe(progress?.wait_seconds)
  })

  it('tells the deployment that deliveries come at most once a minute', async () => {
    const delivered = new Set<string>()
    const { deliveries, notes } = log(delivered, { arrivedAt: Date.now() - 10_000 })
    const { graph, state } = await deleted(deliveries)
    for (const id of graph.acsCredentialIds) delivered.add(id)
    await checkStage(seam, credentials, state, policy, { deliveries })
    expect(notes).toEqual([])
    const stale = log(delivered, { arrivedAt: minutesAgo(2) })
    await checkStage(seam, credentials, state, policy, { deliveries: stale.deliveries })
    expect(stale.notes).toEqual(['arrivedAt'])
  })

  it('goes on when the delivery health cannot be written: logged, and trusted no longer than the task', async () => {
    const warn = vi.spyOn(logger, 'warn')
    const delivered = new Set<string>()
    const { deliveries, notes } = log(delivered, {}, { write: true })
    const { graph, state } = await deleted(deliveries)
    for (const id of graph.acsCredentialIds) delivered.add(id)
    const next = await checkStage(seam, credentials, state, policy, { deliveries })
    expect(next.stages?.acs_credentials?.pending_count).toBe(0)
    expect(notes).toEqual(['arrivedAt'])
    expect(warn).toHaveBeenCalledWith(
      'The delivery health was not written',
      expect.objectContaining({ kind: 'arrivedAt', error: 'AccessDeniedException' }),
    )
    // The next stage reads no arrival: it polls.
    const users = await deleteStage(seam, stageByName('acs_users'), next, policy, { deliveries })
    expect(users.stages?.acs_users?.await_seconds).toBe(users.stages?.acs_users?.wait_seconds)
  })

  it("takes a resumed stage's pace from its events' times, and its resume as deliveries arriving", async () => {
    const graph = emulator.seed.identityGraph({ acsSystems: 1, credentialsPerUser: 1 })
    const doneAt = new Date(Date.now() - 20_000)
    // Seam confirmed the resumed stage's credential 1.2 s after its delete; the resume came much later.
    const { deliveries, notes } = log(new Set())
    const timed: DeliveryLog = {
      ...deliveries,
      deliveries: async (ids) => ({
        events: ids.map((resourceId) => ({
          resourceId,
          occurredAt: new Date(doneAt.getTime() + 1_200).toISOString(),
        })),
        health: {},
      }),
    }
    const resumed: DeletionState = {
      user_identity_id: graph.userIdentityId,
      stages: {
        acs_credentials: {
          started_at: doneAt.toISOString(),
          deletes_done_at: doneAt.toISOString(),
          deleted: 1,
          pending: [{ id: 'cred-1' }],
          pending_count: 1,
          checks: 0,
          wait_seconds: 2,
          checks_left: true,
        },
      },
    }
    const users = await deleteStage(seam, stageByName('acs_users'), resumed, policy, {
      deliveries: timed,
    })
    expect(users.seam_latency_seconds).toBeCloseTo(1.2, 1)
    expect(users.stages?.acs_users?.wait_seconds).toBe(2)
    expect(users.stages?.acs_users?.await_seconds).toBe(safetyNet)
    expect(notes).toEqual(['arrivedAt'])
    // Without the events' times, the pace runs to this stage's start (20 s here).
    const untimed = await deleteStage(seam, stageByName('acs_users'), resumed, policy, {
      deliveries,
    })
    expect(untimed.seam_latency_seconds).toBeGreaterThanOrEqual(20)
  })

  it('goes on by polling when the delivery log does not answer, or hangs', async () => {
    const { deliveries } = log(new Set(), { arrivedAt: Date.now() }, { read: true })
    const { state } = await deleted(deliveries)
    expect(state.stages?.acs_credentials?.await_seconds).toBe(
      state.stages?.acs_credentials?.wait_seconds,
    )
    await settle()
    const next = await checkStage(seam, credentials, state, policy, { deliveries })
    expect(next.stages?.acs_credentials?.pending_count).toBe(0)
    expect(seamCalls('/events/list')).toBe(1)
    // A table that never answers is one that did not: the task goes on after DELIVERY_LOG_TIMEOUT_MS.
    const hanging: DeliveryLog = {
      deliveries: () => new Promise(() => {}),
      noteDelivery: () => new Promise(() => {}),
    }
    const started = Date.now()
    const { state: hung } = await deleted(hanging)
    expect(Date.now() - started).toBeLessThan(DELIVERY_LOG_TIMEOUT_MS + 2_000)
    expect(hung.stages?.acs_credentials?.await_seconds).toBe(
      hung.stages?.acs_credentials?.wait_seconds,
    )
  })

  it('never lets the safety net reach past the stage time', () => {
    const start = new Date('2026-01-01T00:00:00Z')
    const late = new Date(start.getTime() + (policy.stageTimeoutSeconds - 3) * 1000)
    expect(awaitSeconds(policy, 3, start, late, true)).toBe(3)
    expect(awaitSeconds(policy, 2, start, late, true)).toBe(3)
    expect(awaitSeconds(policy, 2, start, start, false)).toBe(2)
  })

  it('once deliveries are trusted, waits the longest poll wait plus the grace, whatever the wait', () => {
    const start = new Date('2026-01-01T00:00:00Z')
    expect(awaitSeconds(policy, 2, start, start, true)).toBe(policy.maxWaitSeconds + 1)
    expect(awaitSeconds(policy, 30, start, start, true)).toBe(policy.maxWaitSeconds + 1)
    // Not trusted: the poll's wait.
    expect(awaitSeconds(policy, 2, start, start, false)).toBe(2)
  })
})
