/**
 * The per-instance pace (fake clock): requests leave at most every 1000 / perSecond ms in the order they
 * asked, nothing is refused, and a 429's Retry-After holds every request of the instance, including
 * those already waiting their turn. Through the client: the pace is asked before every attempt and a 429
 * pauses it.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createSeamClient, createSeamPacer, withSeamPacer } from '../../functions/seam/index.js'
import { pacerFromEnvironment } from '../../functions/seam/pacer.js'
import { json, type StubServer, seamError, startStubServer, TEST_API_KEY } from './stub-server.js'

/** A clock that moves only when a sleeper is woken, earliest first. */
function fakeClock() {
  let t = 0
  const sleepers: { until: number; wake: () => void }[] = []
  const clock = {
    now: () => t,
    sleep: (ms: number) =>
      new Promise<void>((resolve) => {
        sleepers.push({ until: t + ms, wake: resolve })
      }),
    /** Wakes sleepers in time order until none is left. */
    async run() {
      for (;;) {
        await new Promise((r) => setImmediate(r))
        sleepers.sort((a, b) => a.until - b.until)
        const next = sleepers.shift()
        if (!next) return
        t = Math.max(t, next.until)
        next.wake()
      }
    },
  }
  return clock
}

describe('createSeamPacer', () => {
  it('lets requests through at its pace, in order, refusing none', async () => {
    const clock = fakeClock()
    const pacer = createSeamPacer(4, clock)
    const sent: [number, number][] = []
    const all = Promise.all(
      Array.from({ length: 6 }, (_, i) => pacer.take().then(() => sent.push([i, clock.now()]))),
    )
    await clock.run()
    await all
    expect(sent).toEqual([
      [0, 0],
      [1, 250],
      [2, 500],
      [3, 750],
      [4, 1000],
      [5, 1250],
    ])
  })

  it('does not bank an idle period: after a pause in traffic the pace is the same', async () => {
    const clock = fakeClock()
    const pacer = createSeamPacer(2, clock)
    await pacer.take()
    const idle = clock.sleep(10_000)
    await clock.run()
    await idle
    const sent: number[] = []
    const both = Promise.all(
      [pacer.take(), pacer.take()].map((p) => p.then(() => sent.push(clock.now()))),
    )
    await clock.run()
    await both
    expect(sent).toEqual([10_000, 10_500])
  })

  it("holds every request, those already waiting included, for a 429's Retry-After", async () => {
    const clock = fakeClock()
    const pacer = createSeamPacer(10, clock)
    const sent: number[] = []
    await pacer.take()
    const waiting = Promise.all(
      [pacer.take(), pacer.take()].map((p) => p.then(() => sent.push(clock.now()))),
    )
    pacer.pause(2_000)
    await clock.run()
    await waiting
    expect(sent).toEqual([2_000, 2_100])
  })

  it('refuses a pace that is not a positive number, and reads the instance pace from the environment', () => {
    expect(() => createSeamPacer(0)).toThrow(RangeError)
    expect(pacerFromEnvironment({})).toBeUndefined()
    expect(pacerFromEnvironment({ SEAM_INSTANCE_REQUESTS_PER_SECOND: '2.5' })?.perSecond).toBe(2.5)
    expect(() => pacerFromEnvironment({ SEAM_INSTANCE_REQUESTS_PER_SECOND: 'fast' })).toThrow(
      /SEAM_INSTANCE_REQUESTS_PER_SECOND must be a positive number/,
    )
  })
})

describe('the client under a pacer', () => {
  let server: StubServer | undefined
  afterEach(async () => {
    await server?.close()
  })

  it('asks the pacer before every attempt and pauses it for the Retry-After of a 429', async () => {
    server = await startStubServer((_req, res, i) =>
      i === 0
        ? seamError(res, 429, 'rate_limited', 'slow down', { 'retry-after': '3' })
        : json(res, 200, { phones: [] }),
    )
    const takes: number[] = []
    const pauses: number[] = []
    const pacer = {
      perSecond: 1,
      take: async () => {
        takes.push(takes.length)
      },
      pause: (ms: number) => {
        pauses.push(ms)
      },
    }
    const seam = createSeamClient(
      { apiKey: TEST_API_KEY, endpoint: server.url },
      { sleep: async () => {}, random: () => 0.5 },
    )
    // The simulated instance's pacer (withSeamPacer) is the client's default.
    await withSeamPacer(pacer, () => seam.phones.list({ owner_user_identity_id: 'ui_1' }))
    expect(takes).toHaveLength(2)
    expect(pauses).toEqual([3_000])
    expect(server.requests).toHaveLength(2)
  })
})
