/**
 * The retry policy for every call to Seam, in one place: which failures are retried for which HTTP
 * method, how long to wait (capped exponential backoff with full jitter, Retry-After honoured up to a
 * cap), and when to give up (attempts and a total time budget).
 *
 * The SDK's own retries (axios-retry) are turned off in client.ts so attempts never multiply; this file
 * is the only thing that repeats a request.
 */

/** What went wrong with one attempt, as far as retrying is concerned. */
export type FailureKind =
  /** HTTP 429. Seam did not act on the request. */
  | 'throttled'
  /** HTTP 5xx (except 501/505). Seam may or may not have acted on the request. */
  | 'server_error'
  /** TCP connection refused: the request never reached Seam. */
  | 'connection_refused'
  /** Connection reset / closed mid-flight, DNS failure: the request may have reached Seam. */
  | 'network'
  /** No response within the per-attempt timeout: the request may have reached Seam. */
  | 'timeout'
  /** Anything else (4xx other than 429, an invalid response, a bug): repeating cannot help. */
  | 'permanent'

export interface RetryPolicy {
  /** Attempts in total, the first one included. 1 disables retries. */
  maxAttempts: number
  /** Backoff ceiling before the first retry; doubles each retry. */
  baseDelayMs: number
  /** Largest backoff ceiling (the jittered delay is drawn from [0, ceiling)). */
  maxDelayMs: number
  /** Largest wait a Retry-After header can impose, so a hostile header cannot stall a Lambda. */
  maxRetryAfterMs: number
  /** No retry is started once the time since the first attempt plus the next wait would exceed this. */
  totalBudgetMs: number
}

/**
 * Defaults sized for Lambda behind API Gateway (29 s integration timeout): at most 4 attempts, waits of
 * 0–250 ms, 0–500 ms, 0–1 s (raised to Retry-After, itself capped at 5 s), no retry started past 12 s.
 * Worst case: 12 s plus one attempt's timeout (8 s) = 20 s, under API Gateway's limit. Step Functions
 * tasks add their own Retry on SeamThrottledError / SeamUnavailableError on top.
 */
export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  maxAttempts: 4,
  baseDelayMs: 250,
  maxDelayMs: 4_000,
  maxRetryAfterMs: 5_000,
  totalBudgetMs: 12_000,
})

/** Per-attempt HTTP timeout (the SDK's default is 30 s, longer than API Gateway waits). */
export const DEFAULT_TIMEOUT_MS = 8_000

/** Methods whose repetition has the same effect as one call (RFC 9110 §9.2.2). */
const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE'])

/**
 * Whether a failure of this kind may be retried for this method. Idempotent methods: every transient
 * failure. POST/PATCH (e.g. user_identities/create): only when Seam certainly did not act — a 429 or a
 * refused connection — never on 5xx, resets or timeouts, which could create a second identity.
 */
export function isRetryable(kind: FailureKind, method: string): boolean {
  if (kind === 'permanent') return false
  if (IDEMPOTENT_METHODS.has(method.toUpperCase())) return true
  return kind === 'throttled' || kind === 'connection_refused'
}

/** Full-jitter backoff before retry number `retry` (1 = the first retry): uniform in [0, ceiling). */
export function backoffDelayMs(policy: RetryPolicy, retry: number, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1))
  return Math.floor(random() * ceiling)
}

/**
 * Parses a Retry-After header (delay-seconds or an HTTP date) into milliseconds from `nowMs`.
 * Undefined when absent or unparseable; never negative.
 */
export function parseRetryAfterMs(value: unknown, nowMs: number): number | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined
  const text = String(value).trim()
  if (text === '') return undefined
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000)
  if (!/^[a-z]{3,9},/i.test(text)) return undefined // HTTP-date: "Wed, 21 Oct 2015 07:28:00 GMT"
  const date = Date.parse(text)
  if (Number.isNaN(date)) return undefined
  return Math.max(0, date - nowMs)
}

/** The wait before retry number `retry`: the jittered backoff, raised to Retry-After (capped). */
export function retryDelayMs(
  policy: RetryPolicy,
  retry: number,
  random: () => number,
  retryAfterMs?: number,
): number {
  const backoff = backoffDelayMs(policy, retry, random)
  if (retryAfterMs === undefined) return backoff
  return Math.max(backoff, Math.min(retryAfterMs, policy.maxRetryAfterMs))
}

export type RetryDecision =
  | { retry: true; delayMs: number }
  | { retry: false; reason: 'not_retryable' | 'attempts_exhausted' | 'budget_exhausted' }

export interface FailedAttempt {
  kind: FailureKind
  method: string
  /** 1-based number of the attempt that just failed. */
  attempt: number
  /** Time since the first attempt started. */
  elapsedMs: number
  retryAfterMs?: number | undefined
}

/** The whole policy as one pure function: retry this failure, and after how long? */
export function decideRetry(
  policy: RetryPolicy,
  failed: FailedAttempt,
  random: () => number,
): RetryDecision {
  if (!isRetryable(failed.kind, failed.method)) return { retry: false, reason: 'not_retryable' }
  if (failed.attempt >= policy.maxAttempts) return { retry: false, reason: 'attempts_exhausted' }
  const delayMs = retryDelayMs(policy, failed.attempt, random, failed.retryAfterMs)
  if (failed.elapsedMs + delayMs > policy.totalBudgetMs) {
    return { retry: false, reason: 'budget_exhausted' }
  }
  return { retry: true, delayMs }
}

export interface RetryRuntime {
  policy: RetryPolicy
  sleep: (ms: number) => Promise<void>
  random: () => number
  now: () => number
}

export const realSleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms))

/** What the runner needs to know about an attempt's error. */
export interface ClassifiedFailure {
  readonly failure: FailureKind
  readonly retryAfterMs?: number | undefined
}

export interface RetryHooks<E> {
  /** Called before each wait; `error` is the failure being retried. */
  onRetry?: (info: { error: E; attempt: number; delayMs: number }) => void
  /** Called once with the final error and the number of attempts made. */
  onGiveUp?: (info: { error: E; attempts: number; reason: string }) => void
}

/**
 * Runs `attempt` until it succeeds or the policy says stop, then throws the last classified error.
 * `attempt` must build a fresh request each time: an SDK request executes at most once.
 */
export async function runWithRetry<T, E extends ClassifiedFailure>(
  attempt: (attemptNumber: number) => Promise<T>,
  classify: (raw: unknown) => E,
  method: string,
  runtime: RetryRuntime,
  hooks: RetryHooks<E> = {},
): Promise<T> {
  const started = runtime.now()
  for (let attemptNumber = 1; ; attemptNumber++) {
    try {
      return await attempt(attemptNumber)
    } catch (raw) {
      const error = classify(raw)
      const decision = decideRetry(
        runtime.policy,
        {
          kind: error.failure,
          method,
          attempt: attemptNumber,
          elapsedMs: runtime.now() - started,
          retryAfterMs: error.retryAfterMs,
        },
        runtime.random,
      )
      if (!decision.retry) {
        hooks.onGiveUp?.({ error, attempts: attemptNumber, reason: decision.reason })
        throw error
      }
      hooks.onRetry?.({ error, attempt: attemptNumber, delayMs: decision.delayMs })
      await runtime.sleep(decision.delayMs)
    }
  }
}
