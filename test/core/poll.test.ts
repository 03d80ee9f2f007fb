import { describe, expect, it } from 'vitest'
import {
  DEFAULT_POLL_POLICY,
  EXECUTION_TIMEOUT_MARGIN_SECONDS,
  executionTimeoutSeconds,
  HISTORY_EVENT_LIMIT,
  historyEventsPerCheck,
  MAX_STAGE_TIMEOUT_SECONDS,
  MIN_THROTTLE_RETRIES,
  maxChecksPerStage,
  nextPoll,
  stageTimeBound,
  THROTTLE_RETRY_BACKOFF,
  throttleRetries,
  validatePollPolicy,
  worstCaseHistoryEvents,
} from '../../functions/core/poll.js'
import { DELETION_STAGES } from '../../functions/core/stages.js'

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

  it('makes at most maxChecksPerStage checks in a stage, however short the first wait', () => {
    for (const tried of [
      DEFAULT_POLL_POLICY,
      { ...DEFAULT_POLL_POLICY, maxChecks: 500, stageTimeoutSeconds: 150 },
      { ...DEFAULT_POLL_POLICY, maxChecks: 7 },
    ]) {
      // The first wait at its shortest (Seam's measured pace can make it 1 s), then the policy's.
      let checks = 0
      let elapsed = 1
      for (;;) {
        checks++
        const decision = nextPoll(tried, checks, start, at(elapsed))
        if (!decision.checksLeft) break
        elapsed += decision.waitSeconds
      }
      expect(checks).toBe(maxChecksPerStage(tried))
      expect(checks).toBeLessThanOrEqual(tried.maxChecks)
    }
    expect(maxChecksPerStage(DEFAULT_POLL_POLICY)).toBe(25) // 10 min: 1 + 3 + 5 + 7 + 11 + 16 + 23 s, then 30 s
    expect(maxChecksPerStage({ ...DEFAULT_POLL_POLICY, maxChecks: 7 })).toBe(7)
  })

  it('keeps every execution below the 25,000-event history limit with the defaults', () => {
    // 6 stages, each up to 25 checks of 105 events (Wait 2, Check task 5 + 32 retries × 3, Choice 2):
    // 28 of the retries are Lambda throttling's.
    expect(historyEventsPerCheck(DEFAULT_POLL_POLICY)).toBe(105)
    expect(worstCaseHistoryEvents(DEFAULT_POLL_POLICY)).toBe(2 + 6 * (101 + 2 + 25 * 105) + 3)
    expect(worstCaseHistoryEvents(DEFAULT_POLL_POLICY)).toBeLessThan(HISTORY_EVENT_LIMIT * 0.75)
    // The figures the README states: 16,373 events, 17,885 with webhooks (each wait an Await).
    expect(worstCaseHistoryEvents(DEFAULT_POLL_POLICY)).toBe(16_373)
    expect(worstCaseHistoryEvents(DEFAULT_POLL_POLICY, undefined, { awaits: true })).toBe(17_885)
  })
})

describe('throttleRetries', () => {
  const delays = (retries: number) =>
    Array.from({ length: retries }, (_, i) =>
      Math.min(
        THROTTLE_RETRY_BACKOFF.maxDelaySeconds,
        THROTTLE_RETRY_BACKOFF.intervalSeconds * THROTTLE_RETRY_BACKOFF.backoffRate ** i,
      ),
    ).reduce((a, b) => a + b, 0)

  it('retries a throttled task as long as the task may call Seam, leaving time for one call', () => {
    const { taskSeconds, seamCallSeconds } = stageTimeBound(DEFAULT_POLL_POLICY)
    expect(taskSeconds).toBe(150)
    const retries = throttleRetries(DEFAULT_POLL_POLICY)
    expect(retries).toBe(28)
    expect(delays(retries)).toBeLessThanOrEqual(taskSeconds - seamCallSeconds)
    expect(delays(retries + 1)).toBeGreaterThan(taskSeconds - seamCallSeconds)
  })

  it('gives fewer where the history limit needs it, never fewer than MIN_THROTTLE_RETRIES', () => {
    const long = { ...DEFAULT_POLL_POLICY, maxChecks: 500, stageTimeoutSeconds: 1800 }
    expect(throttleRetries(long)).toBe(14)
    expect(worstCaseHistoryEvents(long)).toBeLessThan(HISTORY_EVENT_LIMIT)
    expect(worstCaseHistoryEvents(long, throttleRetries(long) + 5)).toBeGreaterThanOrEqual(
      HISTORY_EVENT_LIMIT,
    )
    const short = { ...DEFAULT_POLL_POLICY, stageTimeoutSeconds: 60 }
    expect(throttleRetries(short)).toBe(MIN_THROTTLE_RETRIES)
  })
})

describe('executionTimeoutSeconds', () => {
  it('gives every stage its whole bound (all of them loop), plus the margin', () => {
    expect(DELETION_STAGES.map((s) => s.name)).toEqual([
      'client_sessions',
      'acs_credentials',
      'acs_users',
      'enrollment_automations',
      'phones',
      'user_identity',
    ])
    // Each stage: 600 s of waits + 2 task states × (150 s of Seam calls + a 10 s retry delay) + 1 s.
    expect(executionTimeoutSeconds(DEFAULT_POLL_POLICY)).toBe(
      6 * (600 + 2 * (150 + 10) + 1) + 5 * 60,
    )
    expect(EXECUTION_TIMEOUT_MARGIN_SECONDS).toBe(5 * 60)
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

describe('validatePollPolicy against the history limit', () => {
  /** One check a second: the most checks a stage's time allows. */
  const everySecond = {
    ...DEFAULT_POLL_POLICY,
    firstWaitSeconds: 1,
    backoffRate: 1,
    maxWaitSeconds: 1,
  }

  it('accepts a policy whose worst case stays below 25,000 events and refuses one more check', () => {
    // 2 + 6 × (49 + 80 × 51) + 3 = 24,779 < 25,000; with 81 checks 25,085.
    const most = { ...everySecond, stageTimeoutSeconds: MAX_STAGE_TIMEOUT_SECONDS, maxChecks: 80 }
    expect(worstCaseHistoryEvents(most)).toBe(24_779)
    expect(validatePollPolicy(most)).toBe(most)
    expect(() => validatePollPolicy({ ...most, maxChecks: 81 })).toThrow(
      /one execution could reach 25,085 history events \(6 stages × up to 81 checks × 51 events per check, every task retried to its limit\), not below Step Functions' limit of 25,000 events per execution: lower maxChecks or stageTimeoutSeconds/,
    )
  })

  it('counts the checks the stage time allows when that is fewer than maxChecks', () => {
    // maxChecks 500 is fine when the waits fill the stage's time first.
    expect(() =>
      validatePollPolicy({ ...everySecond, maxChecks: 500, stageTimeoutSeconds: 80 }),
    ).not.toThrow()
    expect(() =>
      validatePollPolicy({ ...everySecond, maxChecks: 500, stageTimeoutSeconds: 81 }),
    ).toThrow(/25,000/)
    const longWaits = { ...DEFAULT_POLL_POLICY, maxChecks: 500, stageTimeoutSeconds: 1800 }
    expect(maxChecksPerStage(longWaits)).toBe(65)
    expect(() => validatePollPolicy(longWaits)).not.toThrow()
  })

  it('caps a stage at 30 minutes: minutes, not hours', () => {
    expect(MAX_STAGE_TIMEOUT_SECONDS).toBe(1800)
    expect(() =>
      validatePollPolicy({ ...DEFAULT_POLL_POLICY, stageTimeoutSeconds: 1800 }),
    ).not.toThrow()
    expect(() => validatePollPolicy({ ...DEFAULT_POLL_POLICY, stageTimeoutSeconds: 1801 })).toThrow(
      /stageTimeoutSeconds must be from 1 to 1800 seconds/,
    )
  })
})
