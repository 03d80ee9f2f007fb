import { describe, expect, it } from 'vitest'
import {
  backoffDelayMs,
  type ClassifiedFailure,
  DEFAULT_RETRY_POLICY,
  decideRetry,
  type FailureKind,
  isRetryable,
  isSafeToRepeat,
  parseRetryAfterMs,
  type RetryPolicy,
  retryDelayMs,
  runWithRetry,
  seamDeadline,
  withSeamDeadline,
} from '../../functions/seam/retry-policy.js'

const policy: RetryPolicy = {
  maxAttempts: 5,
  baseDelayMs: 100,
  maxDelayMs: 1_000,
  maxRetryAfterMs: 3_000,
  totalBudgetMs: 60_000,
}
const almostOne = () => 0.999_999

/** A fake clock: sleeping advances it, nothing really waits. */
function fakeTime(start = 1_700_000_000_000) {
  let now = start
  const waits: number[] = []
  return {
    waits,
    now: () => now,
    sleep: async (ms: number) => {
      waits.push(ms)
      now += ms
    },
  }
}

class Failure extends Error implements ClassifiedFailure {
  constructor(
    readonly failure: FailureKind,
    readonly retryAfterMs?: number,
  ) {
    super(failure)
  }
}

describe('backoff', () => {
  it('doubles the ceiling each retry, starting at baseDelayMs', () => {
    const delays = [1, 2, 3, 4].map((retry) => backoffDelayMs(policy, retry, almostOne))
    expect(delays).toEqual([99, 199, 399, 799])
  })

  it('caps the ceiling at maxDelayMs', () => {
    expect(backoffDelayMs(policy, 5, almostOne)).toBe(999)
    expect(backoffDelayMs(policy, 30, almostOne)).toBe(999)
    expect(backoffDelayMs(policy, 5000, almostOne)).toBe(999)
  })

  it('uses full jitter: uniform in [0, ceiling)', () => {
    expect(backoffDelayMs(policy, 3, () => 0)).toBe(0)
    expect(backoffDelayMs(policy, 3, () => 0.5)).toBe(200)
    for (let i = 0; i < 200; i++) {
      const value = backoffDelayMs(policy, 3, Math.random)
      expect(value).toBeGreaterThanOrEqual(0)
      expect(value).toBeLessThan(400)
    }
  })
})

describe('Retry-After', () => {
  const now = Date.parse('2026-01-01T00:00:00Z')

  it('parses delay-seconds', () => {
    expect(parseRetryAfterMs('3', now)).toBe(3_000)
    expect(parseRetryAfterMs('0', now)).toBe(0)
    expect(parseRetryAfterMs(' 12 ', now)).toBe(12_000)
  })

  it('parses an HTTP date relative to now, never negative', () => {
    expect(parseRetryAfterMs(new Date(now + 5_000).toUTCString(), now)).toBe(5_000)
    expect(parseRetryAfterMs(new Date(now - 5_000).toUTCString(), now)).toBe(0)
  })

  it('ignores absent or garbage values', () => {
    expect(parseRetryAfterMs(undefined, now)).toBeUndefined()
    expect(parseRetryAfterMs('', now)).toBeUndefined()
    expect(parseRetryAfterMs('soon', now)).toBeUndefined()
    expect(parseRetryAfterMs('-1', now)).toBeUndefined()
  })

  it('raises the wait to Retry-After', () => {
    expect(retryDelayMs(policy, 1, () => 0, 2_000)).toBe(2_000)
  })

  it('keeps the backoff when it is longer than Retry-After', () => {
    expect(retryDelayMs(policy, 4, almostOne, 10)).toBe(799)
  })

  it('caps Retry-After at maxRetryAfterMs so a hostile header cannot stall a Lambda', () => {
    expect(retryDelayMs(policy, 1, () => 0, 3_600_000)).toBe(3_000)
    const farDate = parseRetryAfterMs(new Date(now + 86_400_000).toUTCString(), now)
    expect(retryDelayMs(policy, 1, () => 0, farDate)).toBe(3_000)
  })
})

const kinds: FailureKind[] = [
  'throttled',
  'server_error',
  'connection_refused',
  'network',
  'timeout',
  'deadline_passed',
  'permanent',
]

describe('which failures are retried', () => {
  it.each(['GET', 'DELETE', 'PUT', 'get'])('%s (idempotent): every transient failure', (method) => {
    expect(kinds.filter((k) => isRetryable(k, isSafeToRepeat(method)))).toEqual([
      'throttled',
      'server_error',
      'connection_refused',
      'network',
      'timeout',
    ])
  })

  it.each(['POST', 'PATCH'])('%s: only 429 and a refused connection', (method) => {
    expect(kinds.filter((k) => isRetryable(k, isSafeToRepeat(method)))).toEqual([
      'throttled',
      'connection_refused',
    ])
  })

  it('never retries a POST on 503', () => {
    const decision = decideRetry(
      policy,
      { kind: 'server_error', safeToRepeat: false, attempt: 1, elapsedMs: 0 },
      Math.random,
    )
    expect(decision).toEqual({ retry: false, reason: 'not_retryable' })
  })
})

describe('the POSTs safe to repeat', () => {
  it('user_identities/create with a key, email or phone: Seam rejects a repeat as a duplicate', () => {
    for (const field of ['user_identity_key', 'email_address', 'phone_number']) {
      expect(isSafeToRepeat('POST', '/user_identities/create', { [field]: 'x' }), field).toBe(true)
    }
  })

  it('not a create without any of them (a repeat could make a twin), nor one with them null', () => {
    expect(isSafeToRepeat('POST', '/user_identities/create', { full_name: 'A' })).toBe(false)
    expect(isSafeToRepeat('POST', '/user_identities/create', { user_identity_key: null })).toBe(
      false,
    )
    expect(isSafeToRepeat('POST', '/user_identities/create')).toBe(false)
  })

  it('user_identities/add_acs_user sets a link: safe whatever the method', () => {
    expect(isSafeToRepeat('POST', '/user_identities/add_acs_user', { acs_user_id: 'a' })).toBe(true)
    expect(isSafeToRepeat('PUT', '/user_identities/add_acs_user')).toBe(true)
  })

  it('no other POST', () => {
    expect(isSafeToRepeat('POST', '/acs/users/create', { user_identity_key: 'x' })).toBe(false)
    expect(isSafeToRepeat('POST', '/user_identities/delete', { user_identity_id: 'x' })).toBe(false)
  })

  it('a create safe to repeat is retried on 503, reset and timeout like a GET', () => {
    const safe = isSafeToRepeat('POST', '/user_identities/create', { email_address: 'a@b.co' })
    expect(kinds.filter((k) => isRetryable(k, safe))).toEqual([
      'throttled',
      'server_error',
      'connection_refused',
      'network',
      'timeout',
    ])
  })
})

describe('the deadline of a whole request', () => {
  it('no retry whose wait would reach the deadline', () => {
    const failed = { kind: 'server_error', safeToRepeat: true, attempt: 1, elapsedMs: 0 } as const
    expect(decideRetry(policy, { ...failed, msLeft: 50 }, () => 0.5)).toEqual({
      retry: false,
      reason: 'deadline_reached',
    })
    expect(decideRetry(policy, { ...failed, msLeft: 51 }, () => 0.5)).toEqual({
      retry: true,
      delayMs: 50,
    })
    expect(decideRetry(policy, { ...failed, msLeft: -5 }, () => 0)).toEqual({
      retry: false,
      reason: 'deadline_reached',
    })
  })

  it('runWithRetry stops at the deadline, well before attempts or budget run out', async () => {
    const time = fakeTime()
    let calls = 0
    const gaveUp: string[] = []
    const promise = runWithRetry(
      async () => {
        calls++
        await time.sleep(450) // each attempt takes 450 ms
        throw new Failure('server_error')
      },
      (raw) => raw as Failure,
      { safeToRepeat: true, deadline: time.now() + 1_000 },
      { policy, ...time, random: () => 0.5 },
      { onGiveUp: ({ reason }) => gaveUp.push(reason) },
    )
    await expect(promise).rejects.toBeInstanceOf(Failure)
    // 450 ms, a 50 ms wait, 450 ms (950 ms): the next wait (100 ms) would reach the deadline.
    expect(calls).toBe(2)
    expect(gaveUp).toEqual(['deadline_reached'])
  })

  it('withSeamDeadline scopes the deadline to what runs inside it, nested scopes included', async () => {
    expect(seamDeadline()).toBeUndefined()
    const seen = await withSeamDeadline(1_000, async () => {
      await new Promise((resolve) => setTimeout(resolve, 1))
      const outer = seamDeadline()
      const inner = await withSeamDeadline(2_000, async () => seamDeadline())
      return [outer, inner, seamDeadline()]
    })
    expect(seen).toEqual([1_000, 2_000, 1_000])
    expect(seamDeadline()).toBeUndefined()
    await expect(withSeamDeadline(undefined, async () => seamDeadline())).resolves.toBeUndefined()
  })
})

describe('runWithRetry', () => {
  const run = (
    outcomes: (FailureKind | 'ok')[],
    method: 'GET' | 'POST',
    overrides: Partial<RetryPolicy> = {},
    retryAfterMs?: number,
  ) => {
    const time = fakeTime()
    let calls = 0
    const promise = runWithRetry(
      async () => {
        const outcome = outcomes[Math.min(calls, outcomes.length - 1)]
        calls++
        if (outcome === 'ok') return 'done'
        throw new Failure(outcome ?? 'permanent', retryAfterMs)
      },
      (raw) => raw as Failure,
      { safeToRepeat: isSafeToRepeat(method) },
      { policy: { ...policy, ...overrides }, sleep: time.sleep, now: time.now, random: () => 0.5 },
    )
    return { promise, time, calls: () => calls }
  }

  it('retries a GET through 503s and 429s until it succeeds', async () => {
    const r = run(['server_error', 'throttled', 'timeout', 'ok'], 'GET')
    await expect(r.promise).resolves.toBe('done')
    expect(r.calls()).toBe(4)
    expect(r.time.waits).toEqual([50, 100, 200])
  })

  it('bounds attempts at maxAttempts and throws the last failure', async () => {
    const r = run(['server_error'], 'GET')
    await expect(r.promise).rejects.toMatchObject({ failure: 'server_error' })
    expect(r.calls()).toBe(5)
    expect(r.time.waits).toHaveLength(4)
  })

  it('does not retry a permanent failure', async () => {
    const r = run(['permanent', 'ok'], 'GET')
    await expect(r.promise).rejects.toMatchObject({ failure: 'permanent' })
    expect(r.calls()).toBe(1)
  })

  it('retries a POST on 429 and on connection refused', async () => {
    const r = run(['throttled', 'connection_refused', 'ok'], 'POST')
    await expect(r.promise).resolves.toBe('done')
    expect(r.calls()).toBe(3)
  })

  it.each(['server_error', 'timeout', 'network'] as const)(
    'never retries a POST on %s (it may have created something)',
    async (kind) => {
      const r = run([kind, 'ok'], 'POST')
      await expect(r.promise).rejects.toMatchObject({ failure: kind })
      expect(r.calls()).toBe(1)
      expect(r.time.waits).toEqual([])
    },
  )

  it('honours Retry-After, capped', async () => {
    const honoured = run(['throttled', 'ok'], 'GET', {}, 2_000)
    await honoured.promise
    expect(honoured.time.waits).toEqual([2_000])

    const hostile = run(['throttled', 'ok'], 'GET', {}, 86_400_000)
    await hostile.promise
    expect(hostile.time.waits).toEqual([3_000])
  })

  it('stops when the next wait would exceed the total time budget', async () => {
    // Retry-After 3 s each time: 3 s, 6 s, then 9 s would pass the 7 s budget.
    const r = run(['throttled'], 'GET', { totalBudgetMs: 7_000 }, 3_000)
    await expect(r.promise).rejects.toMatchObject({ failure: 'throttled' })
    expect(r.time.waits).toEqual([3_000, 3_000])
    expect(r.calls()).toBe(3)
  })

  it('counts time spent in attempts against the budget', async () => {
    const time = fakeTime()
    let calls = 0
    const promise = runWithRetry(
      async () => {
        calls++
        await time.sleep(5_000) // a slow attempt
        throw new Failure('timeout')
      },
      (raw) => raw as Failure,
      { safeToRepeat: true },
      { policy: { ...policy, totalBudgetMs: 12_000 }, ...time, random: () => 0 },
    )
    await expect(promise).rejects.toBeInstanceOf(Failure)
    expect(calls).toBe(3) // after 15 s of attempts the budget is spent
  })

  it('reports retries and the give-up to its hooks', async () => {
    const time = fakeTime()
    const retried: number[] = []
    const gaveUp: { attempts: number; reason: string }[] = []
    await expect(
      runWithRetry(
        async () => {
          throw new Failure('server_error')
        },
        (raw) => raw as Failure,
        { safeToRepeat: isSafeToRepeat('DELETE') },
        { policy: { ...policy, maxAttempts: 3 }, ...time, random: () => 0 },
        {
          onRetry: ({ attempt }) => retried.push(attempt),
          onGiveUp: ({ attempts, reason }) => gaveUp.push({ attempts, reason }),
        },
      ),
    ).rejects.toBeInstanceOf(Failure)
    expect(retried).toEqual([1, 2])
    expect(gaveUp).toEqual([{ attempts: 3, reason: 'attempts_exhausted' }])
  })

  it('has sane defaults: bounded attempts, a cap on Retry-After, a budget below API Gateway', () => {
    expect(DEFAULT_RETRY_POLICY.maxAttempts).toBeGreaterThan(1)
    expect(DEFAULT_RETRY_POLICY.maxAttempts).toBeLessThanOrEqual(6)
    expect(DEFAULT_RETRY_POLICY.maxRetryAfterMs).toBeLessThanOrEqual(
      DEFAULT_RETRY_POLICY.totalBudgetMs,
    )
    expect(DEFAULT_RETRY_POLICY.totalBudgetMs).toBeLessThan(29_000)
    expect(Object.isFrozen(DEFAULT_RETRY_POLICY)).toBe(true)
  })
})
