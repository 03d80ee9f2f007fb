import { describe, expect, it } from 'vitest'
import { DEFAULT_POLL_POLICY, nextPoll, validatePollPolicy } from '../../functions/core/poll.js'

const policy = { ...DEFAULT_POLL_POLICY, firstWaitSeconds: 2, backoffRate: 2, maxWaitSeconds: 10 }
const start = new Date('2026-01-01T00:00:00Z')
const at = (seconds: number) => new Date(start.getTime() + seconds * 1000)

describe('nextPoll', () => {
  it('starts at the first wait and grows by the backoff rate up to the cap', () => {
    const waits = [0, 1, 2, 3, 4].map((n) => nextPoll(policy, n, start, start).waitSeconds)
    expect(waits).toEqual([2, 4, 8, 10, 10])
  })

  it('cuts the last wait short so the last check lands on the deadline', () => {
    const tight = { ...policy, stageTimeoutSeconds: 60 }
    expect(nextPoll(tight, 5, start, at(55))).toEqual({ waitSeconds: 5, checksLeft: true })
    expect(nextPoll(tight, 5, start, at(60))).toEqual({ waitSeconds: 0, checksLeft: false })
    expect(nextPoll(tight, 5, start, at(61)).checksLeft).toBe(false)
  })

  it('stops after maxChecks whatever the time left', () => {
    const few = { ...policy, maxChecks: 3 }
    expect(nextPoll(few, 2, start, start).checksLeft).toBe(true)
    expect(nextPoll(few, 3, start, start).checksLeft).toBe(false)
  })

  it('waits whole seconds, at least one', () => {
    const odd = { ...policy, firstWaitSeconds: 1, backoffRate: 1.5 }
    for (let n = 0; n < 8; n++) {
      const { waitSeconds } = nextPoll(odd, n, start, start)
      expect(Number.isInteger(waitSeconds)).toBe(true)
      expect(waitSeconds).toBeGreaterThanOrEqual(1)
    }
  })

  it('bounds the checks of a stage so no execution nears the 25,000-event history limit', () => {
    // Each check costs at most ~10 history events (Wait, Task with retries, Choice).
    const worst = validatePollPolicy({ ...DEFAULT_POLL_POLICY })
    let checks = 0
    let elapsed = 0
    for (;;) {
      const decision = nextPoll(worst, checks, start, at(elapsed))
      if (!decision.checksLeft) break
      elapsed += decision.waitSeconds
      checks++
    }
    expect(checks).toBeLessThanOrEqual(worst.maxChecks)
    expect(checks * 10 * 5).toBeLessThan(25_000)
  })
})

describe('validatePollPolicy', () => {
  it('names every invalid field', () => {
    expect(() =>
      validatePollPolicy({
        firstWaitSeconds: 0,
        backoffRate: 0.5,
        maxWaitSeconds: -1,
        stageTimeoutSeconds: 0,
        maxChecks: 0,
      }),
    ).toThrow(/firstWaitSeconds.*backoffRate.*maxWaitSeconds.*stageTimeoutSeconds.*maxChecks/)
  })
})
