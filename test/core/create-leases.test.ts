/**
 * The create's per-ACS-user leases in the coordination table (dynalite), with the Seam emulator and the
 * real Seam client, on a clock the test moves (no real minutes slept): a holder that crashed before
 * releasing blocks other creates for that ACS user only until its lease expires, which is after the
 * create's deadline; leases are taken all or none; a finished create leaves none behind.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import type { ApiError } from '../../functions/contract/errors.js'
import { Coordination } from '../../functions/core/coordination.js'
import {
  ACS_USER_LEASE,
  createUserIdentity,
  LEASE_MARGIN_SECONDS,
  type LeaseStore,
  type Log,
} from '../../functions/core/create-user-identity.js'
import { createSeamClient, type SeamClient } from '../../functions/seam/index.js'
import { type LocalDynamoDb, startLocalDynamoDb } from '../../local/dynamodb.js'
import { type SeamEmulator, startSeamEmulator } from '../../local/seam-emulator/index.js'

const log: Log = { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() } as unknown as Log

let emulator: SeamEmulator
let dynamo: LocalDynamoDb
let seam: SeamClient
/** The coordination table's clock runs `offsetMs` ahead of real time. */
let offsetMs = 0
let coordination: Coordination

beforeAll(async () => {
  emulator = await startSeamEmulator({ deleteDelayMs: 0 })
  dynamo = await startLocalDynamoDb()
  seam = createSeamClient(
    { apiKey: emulator.apiKey, endpoint: emulator.url },
    { retry: { maxAttempts: 1 } },
  )
  coordination = new Coordination({
    client: dynamo.documentClient,
    tableName: dynamo.tableName,
    now: () => new Date(Date.now() + offsetMs),
  })
})
afterAll(async () => {
  await emulator.close()
  await dynamo.close()
})
beforeEach(() => {
  emulator.reset()
  offsetMs = 0
})

const DEADLINE_MS = 20_000
/** What a create with DEADLINE_MS left takes its leases for. */
const LEASE_SECONDS = DEADLINE_MS / 1000 + LEASE_MARGIN_SECONDS

function acsUser(): string {
  const system = emulator.seed.acsSystem()
  return emulator.seed.acsUser({ acsSystemId: system.acs_system_id }).acs_user_id
}

let n = 0
const create = (acsUserIds: string[], leases: LeaseStore = coordination) =>
  createUserIdentity(seam, { user_identity_key: `lease-${++n}`, acs_user_ids: acsUserIds }, log, {
    deadline: Date.now() + DEADLINE_MS,
    leases,
    leaseWaitMs: 300,
  })
const failed = (promise: Promise<unknown>) =>
  promise.then(
    () => expect.fail('expected the create to fail'),
    (err: unknown) => err as ApiError,
  )
const identities = () => emulator.inspect.counts().userIdentities

describe('a holder that crashed before releasing its lease', () => {
  it('blocks other creates for that ACS user until the lease expires (after its deadline), then no more', async () => {
    const acs = acsUser()
    // The holder: takes the lease, Seam fails its create (503, nothing created), and it dies before
    // giving the lease back.
    emulator.setFaults({ unavailableRate: 1, paths: ['/user_identities/create'] })
    const crashed: LeaseStore = {
      acquireLease: (...args) => coordination.acquireLease(...args),
      releaseLease: async () => false,
    }
    expect(await failed(create([acs], crashed))).toMatchObject({ status: 503 })
    emulator.setFaults({})
    expect(identities()).toBe(0)

    // Another create for that ACS user: 409 acs_user_busy, nothing created, nothing sent to create.
    const busy = await failed(create([acs]))
    expect(busy).toMatchObject({
      status: 409,
      type: 'acs_user_busy',
      extras: { acs_user_id: acs },
      headers: { 'Retry-After': expect.stringMatching(/^\d+$/) },
    })
    expect(busy.message).toMatch(/no user identity was created/)
    expect(identities()).toBe(0)

    // Still held a few seconds before it expires (whole seconds, and this test's own time): the lease
    // outlives the holder's deadline.
    offsetMs = (LEASE_SECONDS - 3) * 1000
    expect(await failed(create([acs]))).toMatchObject({ type: 'acs_user_busy' })
    expect(LEASE_SECONDS * 1000).toBeGreaterThan(DEADLINE_MS)

    // Past its expiry: the next create takes it over and links the ACS user.
    offsetMs = (LEASE_SECONDS + 1) * 1000
    const result = await create([acs])
    expect(result.userIdentity.acs_user_ids).toEqual([acs])
    expect(emulator.inspect.resource(acs)).toMatchObject({
      user_identity_id: result.userIdentity.user_identity_id,
    })
  })
})

describe('leases are taken all or none, and given back', () => {
  it('a create whose second ACS user is held takes neither, and waits for nobody', async () => {
    const [a, b] = [acsUser(), acsUser()].sort() as [string, string]
    expect(await coordination.acquireLease(ACS_USER_LEASE, b, 'other-request', 60)).toBe(true)
    expect(await failed(create([a, b]))).toMatchObject({
      type: 'acs_user_busy',
      extras: { acs_user_id: b },
    })
    // `a` was given back: another request takes it at once.
    expect(await coordination.acquireLease(ACS_USER_LEASE, a, 'probe', 60)).toBe(true)
    expect(identities()).toBe(0)
  })

  it('a create that answered 201, or 409, holds no lease afterwards', async () => {
    const acs = acsUser()
    const first = await create([acs])
    expect(await failed(create([acs]))).toMatchObject({
      type: 'acs_user_already_linked',
      extras: { user_identity_id: first.userIdentity.user_identity_id },
    })
    expect(await coordination.acquireLease(ACS_USER_LEASE, acs, 'probe', 60)).toBe(true)
  })
})
