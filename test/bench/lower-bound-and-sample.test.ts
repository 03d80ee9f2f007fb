/**
 * The two yardsticks of the benchmark: the lower bound, computed from the shape (not a constant of the
 * fixed one), and the port of Seam's sample algorithm, which must make the guide's calls in the
 * guide's order and poll events/list back to back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FIXED_SHAPE, lowerBound } from '../../bench/lower-bound.js'
import { deleteUserIdentityLikeTheGuide } from '../../bench/seam-sample.js'
import { type SeamEmulator, startSeamEmulator } from '../../local/seam-emulator/index.js'

describe('lowerBound', () => {
  it('counts one list per collection and page, one call per resource, the identity, the events checks and the identity lookup', () => {
    expect(lowerBound(FIXED_SHAPE, 5)).toMatchObject({
      lists: 6,
      deletes: 13,
      identityDelete: 1,
      eventChecks: 4,
      identityLookup: 1,
      asyncWaits: 5,
      total: 25,
    })
  })

  it('still lists an empty collection once, and checks no events for it', () => {
    const empty = {
      clientSessions: 0,
      acsSystems: 0,
      credentialsPerUser: 0,
      enrollmentAutomations: 0,
      phones: 0,
    }
    // Nothing to confirm but the identity: no events check, one wait.
    expect(lowerBound(empty, 5)).toMatchObject({
      lists: 5,
      deletes: 0,
      eventChecks: 0,
      asyncWaits: 1,
      total: 7,
    })
  })

  it.each([
    // credentials = acsSystems × credentialsPerUser; pages of that list = ceil(n / pageSize)
    { credentialsPerUser: 5, acsSystems: 1, pageSize: 5, credentialPages: 1 },
    { credentialsPerUser: 5, acsSystems: 2, pageSize: 5, credentialPages: 2 },
    { credentialsPerUser: 11, acsSystems: 1, pageSize: 5, credentialPages: 3 },
    { credentialsPerUser: 3, acsSystems: 2, pageSize: 500, credentialPages: 1 },
  ])(
    'pages: $acsSystems × $credentialsPerUser credentials at page size $pageSize → $credentialPages pages',
    ({ credentialsPerUser, acsSystems, pageSize, credentialPages }) => {
      const shape = { ...FIXED_SHAPE, credentialsPerUser, acsSystems }
      const bound = lowerBound(shape, pageSize)
      const otherPages = [2, acsSystems, 1, 2].reduce(
        (a, n) => a + Math.max(1, Math.ceil(n / pageSize)),
        0,
      )
      expect(bound.lists).toBe(credentialPages + otherPages)
      expect(bound.deletes).toBe(2 + acsSystems * credentialsPerUser + acsSystems + 1 + 2)
      expect(bound.total).toBe(bound.lists + bound.deletes + 1 + 4 + 1)
      expect(bound.formula).toContain(`= ${bound.total}`)
    },
  )
})

describe("the port of Seam's sample algorithm", () => {
  let emulator: SeamEmulator
  beforeAll(async () => {
    emulator = await startSeamEmulator({ pageSize: 5, deleteDelayMs: 30 })
  })
  afterAll(() => emulator?.close())

  it("makes the guide's calls in the guide's order, polling events/list back to back", async () => {
    const graph = emulator.seed.identityGraph(FIXED_SHAPE)
    const run = await deleteUserIdentityLikeTheGuide(
      { apiKey: emulator.apiKey, endpoint: emulator.url },
      graph.userIdentityId,
      { maxPolls: 100_000, maxWaitMs: 5_000 },
    )
    expect(run.boundHits).toBe(0)
    // Its own count agrees with the emulator's log.
    expect(emulator.requests).toHaveLength(run.requests)
    const calls = emulator.requests.map((r) => r.path).filter((p) => p !== '/events/list')
    const perUser = [
      '/acs/credentials/list',
      ...Array(3).fill('/acs/credentials/delete'),
      '/acs/users/delete',
    ]
    expect(calls).toEqual([
      '/client_sessions/list',
      '/client_sessions/delete',
      '/client_sessions/delete',
      '/acs/users/list',
      ...perUser,
      ...perUser,
      '/user_identities/enrollment_automations/list',
      '/user_identities/enrollment_automations/delete',
      '/phones/list',
      '/phones/deactivate',
      '/phones/deactivate',
      '/user_identities/delete',
    ])
    // A 30 ms delay waited for by polling without a pause: far more polls than waits.
    const waits = 6 + 2 + 1 + 2
    expect(run.eventPolls).toBeGreaterThan(waits)
    expect(emulator.requests.filter((r) => r.path === '/events/list')).toHaveLength(run.eventPolls)
    expect(emulator.inspect.remainingFor(graph.userIdentityId).acsCredentialIds).toEqual([])
  })
})
