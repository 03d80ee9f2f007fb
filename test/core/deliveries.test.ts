// The delivery rules on their own, with a clock the test moves: when a missing delivery becomes a lost
// one, what is reported, and what a table that fails or hangs leaves behind.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { parseStageTaskEvent } from '../../functions/contract/workflow.js'
import type { DeliveryHealth } from '../../functions/core/coordination.js'
import {
  confirmedBeforeDelivery,
  DELIVERY_LOG_TIMEOUT_MS,
  DELIVERY_LOST_SECONDS,
  type DeliveryLog,
  lookUpDeliveries,
  MISSING_DELIVERIES_KEPT,
  recordDeliveries,
  SEAM_CLOCK_TOLERANCE_SECONDS,
  trustDeliveries,
  type WorkflowClock,
} from '../../functions/core/deliveries.js'
import { DEFAULT_POLL_POLICY } from '../../functions/core/poll.js'
import { logger } from '../../functions/telemetry/powertools.js'

afterEach(() => vi.restoreAllMocks())

const T0 = Date.parse('2026-12-01T10:00:00Z')
function clockAt(ms: { now: number }, scale = 1): WorkflowClock {
  return { now: () => new Date(ms.now), seconds: (from, to) => (to - from) / 1000 / scale }
}
const ID = '4d5a1c3e-58b0-4c1c-9a1e-6f1f3f0a9b21'
const context = { user_identity_id: ID, stage: 'acs_credentials' }

/** A table holding `delivered` and `health`; notes move health forward and are counted. */
function table(delivered: Set<string>, health: DeliveryHealth = {}) {
  const notes: [keyof DeliveryHealth, number][] = []
  const log: DeliveryLog = {
    deliveries: async (ids) => ({
      events: ids
        .filter((id) => delivered.has(id))
        .map((resourceId) => ({ resourceId, occurredAt: new Date(T0).toISOString() })),
      health: { ...health },
    }),
    noteDelivery: async (kind, atMs) => {
      notes.push([kind, atMs])
      if ((health[kind] ?? 0) < atMs) health[kind] = atMs
    },
  }
  return { log, notes, health }
}

describe('a missing delivery becomes a lost one', () => {
  it('by our own clock: 10 s after the check that confirmed it, whether events or the list did', async () => {
    const time = { now: T0 }
    const clock = clockAt(time)
    const { log, notes } = table(new Set(), { arrivedAt: T0 })
    const state = { user_identity_id: ID }
    const view = await lookUpDeliveries(state, log, ['a', 'b'], clock)
    // 'a' confirmed by the list (no Seam time), 'b' by an event Seam dated just now.
    time.now += 500
    const seen = confirmedBeforeDelivery(view, ['a', 'b'], new Map([['b', T0]]), clock)
    expect(seen.lost).toEqual([])
    expect(seen.deliveries).toEqual({
      missing: ['a', 'b'],
      confirmed_at: { a: T0 + 500, b: T0 + 500 },
    })
    const after = { user_identity_id: ID, deliveries: seen.deliveries }
    // Just under the threshold: missing, not lost.
    time.now = T0 + 500 + DELIVERY_LOST_SECONDS * 1000
    expect((await lookUpDeliveries(after, log, [], clock)).lost).toEqual([])
    // Past it: both lost, reported once — the record drops their times and keeps them missing.
    time.now += 1
    const later = await lookUpDeliveries(after, log, [], clock)
    expect(later.lost.map((l) => l.id)).toEqual(['a', 'b'])
    expect(later.deliveries).toEqual({ missing: ['a', 'b'] })
    await recordDeliveries(log, later, later.lost, clock, context)
    expect(notes).toEqual([['lostAt', time.now]])
    const again = await lookUpDeliveries(
      { user_identity_id: ID, deliveries: later.deliveries },
      log,
      [],
      clock,
    )
    expect(again.lost).toEqual([])
  })

  it("at once when Seam's own time of it is older than the threshold plus the clock tolerance", async () => {
    const time = { now: T0 }
    const clock = clockAt(time)
    const { log } = table(new Set())
    const view = await lookUpDeliveries({ user_identity_id: ID }, log, ['old', 'skewed'], clock)
    const limit = (DELIVERY_LOST_SECONDS + SEAM_CLOCK_TOLERANCE_SECONDS) * 1000
    const seamTimes = new Map([
      ['old', T0 - limit - 1],
      // Seam's clock ahead of ours, or just a late delivery: not lost yet.
      ['skewed', T0 - limit + 1],
    ])
    // The Seam calls after the lookup took 5 s: ages count from the lookup, not from now.
    time.now += 5_000
    const seen = confirmedBeforeDelivery(view, ['old', 'skewed'], seamTimes, clock)
    expect(seen.lost.map((l) => l.id)).toEqual(['old'])
    expect(seen.deliveries.confirmed_at).toEqual({ skewed: T0 + 5_000 })
  })

  it('counts in workflow seconds: 1 s of real time is 50 s at a time scale of 0.02', async () => {
    const time = { now: T0 }
    const clock = clockAt(time, 0.02)
    const { log } = table(new Set())
    const state = { user_identity_id: ID, deliveries: { missing: ['a'], confirmed_at: { a: T0 } } }
    time.now += 1_000
    expect((await lookUpDeliveries(state, log, [], clock)).lost.map((l) => l.id)).toEqual(['a'])
  })

  it('keeps what it knew through a table that does not answer, and finds the loss when it does', async () => {
    const time = { now: T0 }
    const clock = clockAt(time)
    const warn = vi.spyOn(logger, 'warn')
    const broken: DeliveryLog = {
      deliveries: async () => {
        throw new Error('ProvisionedThroughputExceededException')
      },
      noteDelivery: async () => undefined,
    }
    const view = await lookUpDeliveries({ user_identity_id: ID }, broken, ['a'], clock)
    expect(view.came).toBeUndefined()
    // A check's confirmations are missing all the same: the next task looks for them.
    const seen = confirmedBeforeDelivery(view, ['a'], new Map(), clock)
    expect(seen.deliveries).toEqual({ missing: ['a'], confirmed_at: { a: T0 } })
    expect(await recordDeliveries(broken, view, seen.lost, clock, context)).toBeUndefined()
    time.now += 20_000
    const state = { user_identity_id: ID, deliveries: seen.deliveries }
    const stillBroken = await lookUpDeliveries(state, broken, [], clock)
    expect(stillBroken.deliveries).toEqual(seen.deliveries)
    const { log } = table(new Set())
    expect((await lookUpDeliveries(state, log, [], clock)).lost.map((l) => l.id)).toEqual(['a'])
    expect(warn).toHaveBeenCalledWith(
      'The delivery log did not answer: the stage polls Seam instead',
      expect.anything(),
    )
  })

  it(`keeps at most ${MISSING_DELIVERIES_KEPT} missing ids, each with its time`, async () => {
    const clock = clockAt({ now: T0 })
    const { log } = table(new Set())
    const ids = Array.from({ length: MISSING_DELIVERIES_KEPT + 20 }, (_, i) => `id-${i}`)
    const view = await lookUpDeliveries({ user_identity_id: ID }, log, ids, clock)
    const seen = confirmedBeforeDelivery(view, ids, new Map(), clock)
    expect(seen.deliveries.missing).toHaveLength(MISSING_DELIVERIES_KEPT)
    expect(Object.keys(seen.deliveries.confirmed_at ?? {})).toEqual(seen.deliveries.missing)
  })
})

describe('what a stage task tells the deployment', () => {
  it('goes on when the writes hang: each gives up after the timeout, logged, and the task trusts nothing it did not see', async () => {
    const warn = vi.spyOn(logger, 'warn')
    const clock = clockAt({ now: T0 })
    const signals: AbortSignal[] = []
    const hanging: DeliveryLog = {
      deliveries: async (ids) => ({
        events: ids.map((resourceId) => ({ resourceId, occurredAt: new Date(T0).toISOString() })),
        health: {},
      }),
      noteDelivery: (_kind, _at, signal) => {
        if (signal) signals.push(signal)
        return new Promise(() => {})
      },
    }
    const view = await lookUpDeliveries({ user_identity_id: ID }, hanging, ['a'], clock)
    const started = Date.now()
    const health = await recordDeliveries(
      hanging,
      view,
      [{ id: 'b', doneSince: T0 }],
      clock,
      context,
    )
    expect(Date.now() - started).toBeLessThan(2 * DELIVERY_LOG_TIMEOUT_MS + 1_000)
    expect(health).toEqual({ arrivedAt: T0, lostAt: T0 })
    // Each hung write was cancelled, not left running.
    expect(signals.map((signal) => signal.aborted)).toEqual([true, true])
    expect(
      warn.mock.calls.filter((call) => call[0] === 'The delivery health was not written'),
    ).toHaveLength(2)
  })

  it('trusts nothing while any of its own is missing, or without a recent arrival', () => {
    const clock = clockAt({ now: T0 })
    expect(trustDeliveries({ missing: [] }, { arrivedAt: T0 }, clock)).toBe(true)
    expect(trustDeliveries({ missing: ['a'] }, { arrivedAt: T0 }, clock)).toBe(false)
    expect(trustDeliveries({ missing: [] }, undefined, clock)).toBe(false)
    expect(trustDeliveries(undefined, { arrivedAt: T0 }, clock)).toBe(false)
  })
})

describe('states written before the delivery rules changed', () => {
  it('still parse: their `arrived` is dropped, their missing ids kept', () => {
    const event = parseStageTaskEvent({
      stage: 'acs_users',
      action: 'delete',
      policy: DEFAULT_POLL_POLICY,
      task_entered_at: new Date(T0).toISOString(),
      webhooks: true,
      state: { user_identity_id: ID, deliveries: { arrived: true, missing: ['cred-1'] } },
    })
    expect(event.state.deliveries).toEqual({ missing: ['cred-1'] })
  })
})
