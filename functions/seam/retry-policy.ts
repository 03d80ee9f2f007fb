/**
 * The retry policy for every call to Seam, in one place: which requests may be repeated after which
 * failures (by HTTP method, and the few POSTs that are safe to repeat), how long to wait (capped
 * exponential backoff with full jitter, Retry-After honoured up to a cap), and when to give up (attempts,
 * a total time budget per call, and the deadline of the whole request the call is part of).
 *
 * The SDK's own retries (axios-retry) are turned off in client.ts so attempts never multiply; this file
 * is the only thing that decides to repeat a request, and client.ts the only thing that repeats one.
 */
import { AsyncLocalStorage } from 'node:async_hooks'

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
  /** Not sent: the deadline of the request it is part of had passed (withSeamDeadline). */
  | 'deadline_passed'
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
 * Defaults for one call: at most 4 attempts, waits of 0–250 ms, 0–500 ms, 0–1 s (raised to Retry-After,
 * itself capped at 5 s), no retry started past 12 s: worst case 12 s plus one attempt's timeout (8 s) =
 * 20 s. A request made of several calls (the create API behind API Gateway's 29 s) bounds them all with a
 * deadline (withSeamDeadline). Step Functions tasks add their own Retry on SeamThrottledError /
 * SeamUnavailableError on top.
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

/** The fields Seam keeps unique per workspace ("Unique key/Unique email/Unique phone" in its spec). */
const UNIQUE_IDENTITY_FIELDS = ['user_identity_key', 'email_address', 'phone_number'] as const

/**
 * The POSTs that are safe to repeat even when Seam may have acted on the first attempt (5xx, a reset
 * connection, a timeout), each with the condition on its body that makes it so:
 * - user_identities/create with a key, email or phone: Seam keeps those unique per workspace, so a
 *   repeat of a create that took effect is rejected as a duplicate instead of making a second identity
 *   (the create API then recognizes that identity as its own: functions/core/create-user-identity.ts).
 *   Without any of them a repeat could make a twin, so such a create is not repeated.
 * - user_identities/add_acs_user: sets a link; setting it again changes nothing (the SDK sends it as
 *   PUT, which is repeated anyway; this keeps it so should an SDK send POST).
 */
const REPEATABLE_POSTS: Readonly<Record<string, (body: Record<string, unknown>) => boolean>> = {
  '/user_identities/create': (body) => UNIQUE_IDENTITY_FIELDS.some((field) => body[field] != null),
  '/user_identities/add_acs_user': () => true,
}

/**
 * Whether sending this request twice has the effect of sending it once: every idempotent method, and
 * the POSTs of REPEATABLE_POSTS whose body meets their condition.
 */
export function isSafeToRepeat(method: string, pathname?: string, body?: unknown): boolean {
  if (IDEMPOTENT_METHODS.has(method.toUpperCase())) return true
  const rule = pathname === undefined ? undefined : REPEATABLE_POSTS[pathname]
  const fields =
    typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : undefined
  return rule !== undefined && fields !== undefined && rule(fields)
}

/**
 * Whether a failure of this kind may be retried. A request safe to repeat (isSafeToRepeat): every
 * transient failure. Any other POST/PATCH: only when Seam certainly did not act — a 429 or a refused
 * connection — never on 5xx, resets or timeouts, after which a repeat could act twice.
 */
export function isRetryable(kind: FailureKind, safeToRepeat: boolean): boolean {
  if (kind === 'permanent' || kind === 'deadline_passed') return false
  if (safeToRepeat) return true
  return kind === 'throttled' || kind === 'connection_refused'
}

/**
 * Whether an attempt that failed this way may still have taken effect in Seam: a 5xx, a broken
 * connection or a timeout, after which Seam may have acted (or may still act) without saying so. Not a
 * 429 or a refused connection (Seam did not act), nor an attempt never sent, nor a 4xx (Seam said no).
 */
export function mayHaveTakenEffect(kind: FailureKind): boolean {
  return kind === 'server_error' || kind === 'network' || kind === 'timeout'
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
  | {
      retry: false
      reason: 'not_retryable' | 'attempts_exhausted' | 'deadline_reached' | 'budget_exhausted'
    }

export interface FailedAttempt {
  kind: FailureKind
  /** isSafeToRepeat of the request. */
  safeToRepeat: boolean
  /** 1-based number of the attempt that just failed. */
  attempt: number
  /** Time since the first attempt started. */
  elapsedMs: number
  retryAfterMs?: number | undefined
  /** Time left before the deadline of the request this call is part of; undefined: none. */
  msLeft?: number | undefined
}

/** The whole policy as one pure function: retry this failure, and after how long? */
export function decideRetry(
  policy: RetryPolicy,
  failed: FailedAttempt,
  random: () => number,
): RetryDecision {
  if (!isRetryable(failed.kind, failed.safeToRepeat)) {
    return { retry: false, reason: 'not_retryable' }
  }
  if (failed.attempt >= policy.maxAttempts) return { retry: false, reason: 'attempts_exhausted' }
  const delayMs = retryDelayMs(policy, failed.attempt, random, failed.retryAfterMs)
  if (failed.msLeft !== undefined && delayMs >= failed.msLeft) {
    return { retry: false, reason: 'deadline_reached' }
  }
  if (failed.elapsedMs + delayMs > policy.totalBudgetMs) {
    return { retry: false, reason: 'budget_exhausted' }
  }
  return { retry: true, delayMs }
}

// ---------------------------------------------------------------------------------------------------
// The deadline of a whole request

const deadlines = new AsyncLocalStorage<number>()

/**
 * Runs `fn` with a deadline (epoch ms) for every Seam call made inside it, however deep: no attempt
 * starts and no retry is scheduled past it, and each attempt's HTTP timeout is cut to the time left
 * (client.ts). For a request of several calls that must answer within a limit, e.g. the create API
 * behind API Gateway. Undefined: no deadline (only the per-call limits of the policy). A nested call
 * replaces the deadline for its own scope.
 */
export function withSeamDeadline<T>(
  deadline: number | undefined,
  fn: () => Promise<T>,
): Promise<T> {
  return deadline === undefined ? fn() : deadlines.run(deadline, fn)
}

/** The deadline (epoch ms) of the request the current Seam call is part of, if it has one. */
export function seamDeadline(): number | undefined {
  return deadlines.getStore()
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

/** What the runner needs to know about the request being retried. */
export interface RetriedRequest {
  /** isSafeToRepeat of the request. */
  safeToRepeat: boolean
  /** Deadline (epoch ms) of the whole request this call is part of; see withSeamDeadline. */
  deadline?: number | undefined
}

/**
 * Runs `attempt` until it succeeds or the policy says stop, then throws the last classified error.
 * `attempt` must build a fresh request each time: an SDK request executes at most once.
 */
export async function runWithRetry<T, E extends ClassifiedFailure>(
  attempt: (attemptNumber: number) => Promise<T>,
  classify: (raw: unknown) => E,
  request: RetriedRequest,
  runtime: RetryRuntime,
  hooks: RetryHooks<E> = {},
): Promise<T> {
  const started = runtime.now()
  for (let attemptNumber = 1; ; attemptNumber++) {
    try {
      return await attempt(attemptNumber)
    } catch (raw) {
      const error = classify(raw)
      const now = runtime.now()
      const decision = decideRetry(
        runtime.policy,
        {
          kind: error.failure,
          safeToRepeat: request.safeToRepeat,
          attempt: attemptNumber,
          elapsedMs: now - started,
          retryAfterMs: error.retryAfterMs,
          msLeft: request.deadline === undefined ? undefined : request.deadline - now,
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
