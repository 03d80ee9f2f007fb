// The coordination table on dynalite, through the same DynamoDB client code as deployed: events
// before or after their waiter, exactly one settle under concurrent races, TTL honoured by readers,
// leases with expiry.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Coordination } from '../../functions/core/coordination.js'
import { type LocalDynamoDb, startLocalDynamoDb } from '../../local/dynamodb.js'
import { seededRandom } from '../../local/seam-emulator/index.js'

let db: LocalDynamoDb
beforeAll(async () => {
  db = await startLocalDynamoDb()
})
afterAll(async () => {
  await db?.close()
})

function store(now?: () => Date) {
  return new Coordination({
    client: db.documentClient,
    tableName: db.tableName,
    ...(now ? { now } : {}),
  })
}

let counter = 0
const ids = (n: number) => Array.from({ length: n }, () => `res-${++counter}-${Math.random()}`)
const event = (resourceId: string) => ({
  resourceId,
  eventType: 'acs_credential.deleted',
  occurredAt: new Date().toISOString(),
})

describe('waiters and received events', () => {
  it('keeps an event that arrives before its waiter registers: the waiter is complete at once', async () => {
    const coordination = store()
    const [a, b] = ids(2) as [string, string]
    expect(await coordination.recordEvent(event(a))).toBeUndefined()
    expect(await coordination.recordEvent(event(b))).toBeUndefined()
    const { setId, complete } = await coordination.registerWaiter({
      taskToken: 'token-early',
      deletionId: 'd1',
      stage: 'acs_credentials',
      pendingIds: [a, b],
    })
    expect(complete).toBe(true)
    expect(await coordination.settle(setId)).toBe(true)
    expect(await coordination.settle(setId)).toBe(false)
  })

  it('completes a registered waiter with the event of its last pending id, and only then', async () => {
    const coordination = store()
    const [a, b, c] = ids(3) as [string, string, string]
    const { setId, complete } = await coordination.registerWaiter({
      taskToken: 'token-late',
      deletionId: 'd2',
      stage: 'acs_users',
      pendingIds: [a, b, c],
    })
    expect(complete).toBe(false)
    expect(await coordination.recordEvent(event(b))).toBeUndefined()
    expect(await coordination.recordEvent(event(a))).toBeUndefined()
    expect(await coordination.missingEvents([a, b, c])).toEqual([c])
    const set = await coordination.recordEvent(event(c))
    expect(set).toMatchObject({
      setId,
      taskToken: 'token-late',
      deletionId: 'd2',
      stage: 'acs_users',
      settled: false,
    })
    expect(await coordination.settle(setId)).toBe(true)
    // The same event again (a repeated delivery) finds the set settled: nothing more to do.
    expect(await coordination.recordEvent(event(c))).toBeUndefined()
  })

  it('settles every wait set exactly once under concurrent registers and events, in both orders', async () => {
    const coordination = store()
    const sets = Array.from({ length: 30 }, (_, i) => ({
      taskToken: `token-race-${i}-${Math.random()}`,
      deletionId: `race-${i}`,
      stage: 'acs_credentials',
      pendingIds: ids(1 + (i % 4)),
    }))
    const winners = new Map<string, number>()
    const trySettle = async (setId: string) => {
      if (await coordination.settle(setId)) winners.set(setId, (winners.get(setId) ?? 0) + 1)
    }
    // Every register and every event (each delivered twice) at once, shuffled.
    const work: (() => Promise<void>)[] = []
    for (const set of sets) {
      work.push(async () => {
        const { setId, complete } = await coordination.registerWaiter(set)
        if (complete) await trySettle(setId)
      })
      for (const id of set.pendingIds) {
        for (let copy = 0; copy < 2; copy += 1) {
          work.push(async () => {
            const ready = await coordination.recordEvent(event(id))
            if (ready) await trySettle(ready.setId)
          })
        }
      }
    }
    work.sort(() => Math.random() - 0.5)
    await Promise.all(work.map((run) => run()))
    expect(winners.size).toBe(sets.length)
    expect([...winners.values()].every((n) => n === 1)).toBe(true)
  })

  it('ignores an event past its expires_at, as DynamoDB TTL deletes only eventually', async () => {
    let now = new Date('2026-01-01T00:00:00Z')
    const coordination = store(() => now)
    const [a] = ids(1) as [string]
    await coordination.recordEvent(event(a))
    expect(await coordination.missingEvents([a])).toEqual([])
    now = new Date('2026-03-01T00:00:00Z')
    expect(await coordination.missingEvents([a])).toEqual([a])
  })

  it('remembers processed deliveries', async () => {
    const coordination = store()
    const svixId = `msg_${Math.random()}`
    expect(await coordination.deliverySeen(svixId)).toBe(false)
    await coordination.markDelivery(svixId)
    expect(await coordination.deliverySeen(svixId)).toBe(true)
  })
})

describe('leases', () => {
  it('gives a lease to exactly one of many concurrent owners, again after it expires', async () => {
    let now = new Date('2026-01-01T00:00:00Z')
    const coordination = store(() => now)
    const owners = Array.from({ length: 25 }, (_, i) => `request-${i}`)
    const acquired = await Promise.all(
      owners.map((owner) => coordination.acquireLease('acs_user', 'u1', owner, 60)),
    )
    expect(acquired.filter(Boolean)).toHaveLength(1)
    const holder = owners[acquired.indexOf(true)] as string
    const other = owners.find((owner) => owner !== holder) as string
    expect(await coordination.acquireLease('acs_user', 'u1', holder, 60)).toBe(true)
    expect(await coordination.releaseLease('acs_user', 'u1', other)).toBe(false)

    now = new Date('2026-01-01T00:01:01Z')
    const afterExpiry = await Promise.all(
      owners.map((owner) => coordination.acquireLease('acs_user', 'u1', owner, 60)),
    )
    expect(afterExpiry.filter(Boolean)).toHaveLength(1)
  })

  it('frees a released lease for the next owner', async () => {
    const coordination = store()
    expect(await coordination.acquireLease('acs_user', 'u2', 'a', 60)).toBe(true)
    expect(await coordination.acquireLease('acs_user', 'u2', 'b', 60)).toBe(false)
    expect(await coordination.releaseLease('acs_user', 'u2', 'a')).toBe(true)
    expect(await coordination.acquireLease('acs_user', 'u2', 'b', 60)).toBe(true)
  })
})

describe('a deployment-wide rate (takeRateSlot)', () => {
  it('lets exactly perSecond of many racing callers through in one window, and tells the rest when the next begins', async () => {
    const at = new Date('2026-12-01T10:00:00.250Z')
    // Every caller its own Coordination, as every Lambda instance has its own.
    const callers = Array.from({ length: 40 }, () => store(() => at))
    const key = `race-${Math.random()}`
    const waits = await Promise.all(callers.map((c) => c.takeRateSlot(key, 5)))
    expect(waits.filter((w) => w === 0)).toHaveLength(5)
    expect(waits.filter((w) => w > 0)).toEqual(Array(35).fill(750))
    // The next window counts afresh.
    const next = store(() => new Date('2026-12-01T10:00:01.000Z'))
    expect(await next.takeRateSlot(key, 5)).toBe(0)
  })

  it('below one request per second, counts one request per window of 1 ÷ perSecond seconds', async () => {
    const key = `slow-${Math.random()}`
    const first = store(() => new Date('2026-12-01T10:00:00.000Z'))
    expect(await first.takeRateSlot(key, 0.5)).toBe(0)
    const soon = store(() => new Date('2026-12-01T10:00:01.500Z'))
    expect(await soon.takeRateSlot(key, 0.5)).toBe(500)
    const later = store(() => new Date('2026-12-01T10:00:02.000Z'))
    expect(await later.takeRateSlot(key, 0.5)).toBe(0)
  })
})

describe("the deployment's delivery health", () => {
  it('keeps the latest time of each kind whatever order many racing writers come in, and reads it with the events in one lookup', async () => {
    const coordination = store()
    const base = Date.now()
    const random = seededRandom(7)
    const notes = Array.from({ length: 40 }, (_, i) => ({
      kind: i % 2 === 0 ? ('arrivedAt' as const) : ('lostAt' as const),
      at: base - Math.floor(random() * 600_000),
    }))
    notes.sort(() => random() - 0.5)
    // Every writer its own Coordination, as every Lambda instance has its own.
    await Promise.all(notes.map((n) => store().noteDelivery(n.kind, n.at)))
    const latest = (kind: string) =>
      Math.max(...notes.filter((n) => n.kind === kind).map((n) => n.at))
    const [a, b] = ids(2) as [string, string]
    await coordination.recordEvent(event(a))
    const looked = await coordination.deliveries([a, b])
    expect(looked.health).toEqual({ arrivedAt: latest('arrivedAt'), lostAt: latest('lostAt') })
    expect(looked.events.map((e) => e.resourceId)).toEqual([a])
    // Past DynamoDB's 100 keys per BatchGet, the health key lands in a later batch: read all the same.
    const many = ids(150)
    await Promise.all(many.slice(140).map((id) => coordination.recordEvent(event(id))))
    const batched = await coordination.deliveries(many)
    expect(batched.health).toEqual(looked.health)
    expect(batched.events.map((e) => e.resourceId).sort()).toEqual(many.slice(140).sort())
    // An earlier time never moves it back.
    await coordination.noteDelivery('lostAt', base - 3_600_000)
    expect((await coordination.deliveries([])).health.lostAt).toBe(latest('lostAt'))
    // A cancelled lookup or write sends nothing and fails (the stage task's timeout cancels them).
    const cancelled = AbortSignal.abort(new Error('took too long'))
    await expect(coordination.deliveries([a], cancelled)).rejects.toThrow()
    await expect(coordination.noteDelivery('lostAt', base + 60_000, cancelled)).rejects.toThrow()
    expect((await coordination.deliveries([])).health.lostAt).toBe(latest('lostAt'))
    // Past its expires_at (TTL deletes only eventually), the record reads as nothing seen.
    const later = store(() => new Date(Date.now() + 8 * 24 * 3600 * 1000))
    expect((await later.deliveries([])).health).toEqual({})
  })
})

describe('keys DynamoDB leaves unprocessed', () => {
  /** A client that leaves every key unprocessed `times` times, then answers; it records when it was asked. */
  function unprocessing(times: number) {
    const asked: number[] = []
    let left = times
    const client = {
      send: async (command: { input: { RequestItems: Record<string, { Keys: object[] }> } }) => {
        asked.push(performance.now())
        const [table, request] = Object.entries(command.input.RequestItems)[0] ?? []
        if (!table || !request) throw new Error('no request')
        if (left-- > 0) return { Responses: {}, UnprocessedKeys: { [table]: request } }
        return { Responses: { [table]: [] }, UnprocessedKeys: {} }
      },
    }
    const coordination = new Coordination({
      client: client as unknown as ConstructorParameters<typeof Coordination>[0]['client'],
      tableName: 'coordination',
    })
    return { coordination, asked }
  }

  it('asks again after a pause that grows, until they are processed', async () => {
    const { coordination, asked } = unprocessing(3)
    expect(await coordination.deliveries(['a'])).toEqual({ events: [], health: {} })
    expect(asked).toHaveLength(4)
    const pauses = asked.slice(1).map((at, i) => at - (asked[i] ?? at))
    // 50, 100, 200 ms (25 × 2^attempt): each pause at least the one planned, longer than the one before.
    expect(pauses.map((p) => p >= 45)).toEqual([true, true, true])
    expect(pauses[2]).toBeGreaterThan(pauses[0] ?? 0)
  })

  it('stops asking when its signal aborts, even during a pause', async () => {
    const { coordination, asked } = unprocessing(1_000)
    const controller = new AbortController()
    setTimeout(() => controller.abort(new Error('took too long')), 300)
    await expect(coordination.deliveries(['a'], controller.signal)).rejects.toThrow()
    const count = asked.length
    await new Promise((resolve) => setTimeout(resolve, 1_200))
    expect(asked).toHaveLength(count)
  })
})
