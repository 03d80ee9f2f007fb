/**
 * Every failure of a call to Seam becomes one class, SeamError. Its `name` is categorical so Step
 * Functions `Retry`/`Catch` (which match the Lambda errorType, i.e. `name`) can tell transient failures
 * from permanent ones; its `type` is Seam's own error.type when Seam sent one (e.g.
 * `user_identity_not_found`), else ours (`seam_throttled`, `seam_unavailable`, ...).
 *
 * The SDK/axios error is deliberately NOT kept as `cause`: its request config carries the
 * `Authorization: Bearer <api key>` header, and a logger printing the cause chain would leak it.
 */
import {
  SeamHttpApiError,
  SeamHttpInvalidResponseError,
  SeamHttpUnauthorizedError,
} from '@seamapi/http/connect'
import {
  type FailureKind,
  isRetryable,
  isSafeToRepeat,
  mayHaveTakenEffect,
  parseRetryAfterMs,
} from './retry-policy.js'

// The names Step Functions Retry/Catch match on (ErrorEquals). Keep them stable.
export const SeamThrottledError = 'SeamThrottledError'
export const SeamUnavailableError = 'SeamUnavailableError'
export const SeamNotFoundError = 'SeamNotFoundError'
export const SeamUnauthorizedError = 'SeamUnauthorizedError'
export const SeamRequestError = 'SeamRequestError'
export const SeamInvalidResponseError = 'SeamInvalidResponseError'
/** Not a Seam response: this service is not configured to reach Seam (env var, secret). */
export const SeamConfigurationError = 'SeamConfigurationError'

export const SEAM_ERROR_NAMES = [
  SeamThrottledError,
  SeamUnavailableError,
  SeamNotFoundError,
  SeamUnauthorizedError,
  SeamRequestError,
  SeamInvalidResponseError,
  SeamConfigurationError,
] as const
export type SeamErrorName = (typeof SEAM_ERROR_NAMES)[number]

/** The names worth a Step Functions Retry: Seam was busy or unreachable, not wrong. */
export const SEAM_TRANSIENT_ERROR_NAMES = [SeamThrottledError, SeamUnavailableError] as const

export interface SeamErrorInit {
  name: SeamErrorName
  type: string
  message: string
  status?: number | undefined
  requestId?: string | undefined
  retryable: boolean
  route?: string | undefined
  data?: Record<string, unknown> | undefined
  failure?: FailureKind | undefined
  retryAfterMs?: number | undefined
  /** Default: mayHaveTakenEffect(failure). */
  mayHaveTakenEffect?: boolean | undefined
  cause?: unknown
}

export class SeamError extends Error {
  override readonly name: SeamErrorName
  /** snake_case: Seam's error.type when it sent one, else one of ours (seam_*). */
  readonly type: string
  /** HTTP status of Seam's answer; undefined when there was none (network error, config). */
  readonly status: number | undefined
  /** Seam's `seam-request-id` header, for Seam support. */
  readonly requestId: string | undefined
  /** True when making the same call again later may succeed and is safe (see retry-policy.ts). */
  readonly retryable: boolean
  /** "METHOD /path" of the call, e.g. "GET /user_identities/get". */
  readonly route: string | undefined
  /** Seam's error.data when present (ids only by Seam's convention). */
  readonly data: Record<string, unknown> | undefined
  /** Classification the retry policy acted on. */
  readonly failure: FailureKind
  /** Retry-After asked by Seam, in ms, when it sent one. */
  readonly retryAfterMs: number | undefined
  /** How many attempts were made before this error was thrown (1 when not retried). */
  attempts = 1
  /**
   * True when some attempt of the call may have taken effect in Seam unconfirmed (retry-policy.ts,
   * mayHaveTakenEffect): this one, or an earlier one the client retried. A call whose last attempt was
   * not sent (its deadline had passed) after a 503 is such a call: Seam may have applied it.
   */
  mayHaveTakenEffect: boolean

  constructor(init: SeamErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause })
    this.name = init.name
    this.type = init.type
    this.status = init.status
    this.requestId = init.requestId || undefined
    this.retryable = init.retryable
    this.route = init.route
    this.data = init.data
    this.failure = init.failure ?? 'permanent'
    this.retryAfterMs = init.retryAfterMs
    this.mayHaveTakenEffect = init.mayHaveTakenEffect ?? mayHaveTakenEffect(this.failure)
  }

  /** What a log line or an API error body may show: no secrets, no personal data. */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      type: this.type,
      message: this.message,
      status: this.status,
      requestId: this.requestId,
      retryable: this.retryable,
      route: this.route,
      attempts: this.attempts,
      mayHaveTakenEffect: this.mayHaveTakenEffect,
    }
  }
}

const NAMES: ReadonlySet<string> = new Set(SEAM_ERROR_NAMES)
const TRANSIENT_NAMES: ReadonlySet<string> = new Set(SEAM_TRANSIENT_ERROR_NAMES)

/**
 * A SeamError: by class, or by shape, so one thrown by a second copy of this module (bundling, tests
 * resetting modules) is recognized too.
 */
export function isSeamError(err: unknown): err is SeamError {
  return (
    err instanceof SeamError ||
    (err instanceof Error &&
      NAMES.has(err.name) &&
      typeof (err as { type?: unknown }).type === 'string')
  )
}

/**
 * Seam was busy, slow or unreachable, not wrong: the one test of a transient failure. The create API
 * answers 503 on it, a stage task hands such a delete to its next check, and the state machine's Retry
 * matches the same names (SEAM_TRANSIENT_ERROR_NAMES).
 */
export function isTransient(err: unknown): boolean {
  return isSeamError(err) && TRANSIENT_NAMES.has(err.name)
}

/** True when Seam said the thing does not exist (HTTP 404 or an error type ending in `_not_found`). */
export function isNotFound(err: unknown): boolean {
  return err instanceof SeamError && err.name === SeamNotFoundError
}

/** Where a call was going, for messages. */
export interface CallContext {
  /** HTTP method, upper case. */
  method: string
  /** Path of the Seam route, e.g. /user_identities/get. */
  pathname: string
  timeoutMs?: number | undefined
  now?: () => number
  /** isSafeToRepeat of the request (retry-policy.ts); default: judged by the method alone. */
  safeToRepeat?: boolean | undefined
  /** The deadline (epoch ms) the call ran under, if any (retry-policy.ts, withSeamDeadline). */
  deadline?: number | undefined
}

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ENETDOWN',
  'EHOSTDOWN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'ERR_NETWORK',
])
const TIMEOUT_CODES = new Set([
  'ETIMEDOUT',
  'ECONNABORTED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
])

/** Converts anything a call to Seam can throw into a SeamError. Idempotent on SeamError. */
export function toSeamError(raw: unknown, ctx: CallContext): SeamError {
  if (raw instanceof SeamError) return raw
  const route = `${ctx.method} ${ctx.pathname}`
  const now = ctx.now ?? Date.now
  const safeToRepeat = ctx.safeToRepeat ?? isSafeToRepeat(ctx.method)

  if (raw instanceof SeamHttpInvalidResponseError) {
    return new SeamError({
      name: SeamInvalidResponseError,
      type: 'seam_invalid_response',
      message: `Seam answered ${route} with an unexpected body: ${redact(raw.message)}. Check that SEAM_ENDPOINT points at the Seam API.`,
      retryable: false,
      route,
    })
  }

  if (raw instanceof SeamHttpApiError) {
    // The SDK sets `code` to "unauthorized" for every 401; Seam's own type is in the body.
    const axiosError = isAxiosError(raw.cause) ? raw.cause : undefined
    const body = seamErrorBody(axiosError?.response?.data)
    const type =
      raw instanceof SeamHttpUnauthorizedError ? (body?.type ?? 'seam_unauthorized') : raw.code
    return fromHttpResponse({
      route,
      status: raw.statusCode,
      requestId: raw.requestId,
      headers: axiosError?.response?.headers,
      seam: { type, message: raw.message, data: asRecord(raw.data) },
      safeToRepeat,
      nowMs: now(),
    })
  }

  if (isAxiosError(raw)) {
    const response = raw.response
    if (response) {
      const headers = response.headers
      const body = seamErrorBody(response.data)
      return fromHttpResponse({
        route,
        status: response.status,
        requestId: header(headers, 'seam-request-id'),
        headers,
        seam: body,
        safeToRepeat,
        nowMs: now(),
      })
    }
    return fromNetworkError(raw, route, { ...ctx, safeToRepeat })
  }

  if (raw instanceof TypeError && /parameter/i.test(raw.message)) {
    // The SDK validates required parameters before sending.
    return new SeamError({
      name: SeamRequestError,
      type: 'seam_invalid_request',
      message: `Invalid call to Seam ${route}: ${raw.message}.`,
      retryable: false,
      route,
      cause: raw,
    })
  }

  const message = raw instanceof Error ? raw.message : String(raw)
  return new SeamError({
    name: SeamRequestError,
    type: 'seam_client_error',
    message: `Calling Seam ${route} failed before an answer was read: ${redact(message)}`,
    retryable: false,
    route,
    cause: raw instanceof Error && !isAxiosError(raw) ? raw : undefined,
  })
}

interface SeamBody {
  type: string
  message: string
  data?: Record<string, unknown> | undefined
}

function fromHttpResponse(args: {
  route: string
  status: number
  requestId: string | undefined
  headers: unknown
  seam: SeamBody | undefined
  safeToRepeat: boolean
  nowMs: number
}): SeamError {
  const { route, status, requestId, seam, safeToRepeat } = args
  const seamSays = seam ? `: ${redact(seam.message)}` : ''
  const base = { status, requestId, route, data: seam?.data }

  if (status === 429) {
    const retryAfterMs = parseRetryAfterMs(header(args.headers, 'retry-after'), args.nowMs)
    const after =
      retryAfterMs === undefined ? '' : `, Retry-After ${Math.ceil(retryAfterMs / 1000)} s`
    return new SeamError({
      ...base,
      name: SeamThrottledError,
      type: seam?.type ?? 'seam_throttled',
      message: `Seam rate-limited ${route} (HTTP 429${after})${seamSays}. Retry later; Seam limits calls per device and per workspace.`,
      failure: 'throttled',
      retryable: isRetryable('throttled', safeToRepeat),
      retryAfterMs,
    })
  }
  if (status >= 500) {
    const failure: FailureKind = status === 501 || status === 505 ? 'permanent' : 'server_error'
    const retryAfterMs = parseRetryAfterMs(header(args.headers, 'retry-after'), args.nowMs)
    const what = seam
      ? `Seam failed on ${route} (HTTP ${status}, ${seam.type})${seamSays}`
      : `Seam answered ${route} with HTTP ${status} and a non-JSON body (Seam, or a proxy in front of it, is unavailable)`
    return new SeamError({
      ...base,
      name: SeamUnavailableError,
      type: seam?.type ?? 'seam_unavailable',
      message: `${what}. This is on Seam's side: retry later${requestId ? `, or give Seam support request id ${requestId}` : ''}.`,
      failure,
      retryable: isRetryable(failure, safeToRepeat),
      retryAfterMs,
    })
  }
  if (status === 401 || status === 403) {
    const problem = status === 401 ? 'rejected the API key' : 'refused access with this API key'
    return new SeamError({
      ...base,
      name: SeamUnauthorizedError,
      type: seam?.type ?? 'seam_unauthorized',
      message: `Seam ${problem} on ${route} (HTTP ${status})${seamSays}. Check the key in SEAM_API_KEY, or in the Secrets Manager secret named by SEAM_API_KEY_SECRET_NAME, and that it belongs to the intended workspace.`,
      retryable: false,
    })
  }
  if (status === 404 || seam?.type.endsWith('_not_found')) {
    const message = seam
      ? `Seam: ${redact(seam.message)} (${seam.type}, HTTP ${status} on ${route}). Check the id; the resource may already be deleted.`
      : `Seam has no route ${route} (HTTP ${status}, non-JSON body). Check SEAM_ENDPOINT and that this Seam API version still has the route.`
    return new SeamError({
      ...base,
      name: SeamNotFoundError,
      type: seam?.type ?? 'seam_not_found',
      message,
      retryable: false,
    })
  }
  if (status >= 400) {
    return new SeamError({
      ...base,
      name: SeamRequestError,
      type: seam?.type ?? 'seam_request_rejected',
      message: `Seam rejected ${route} (HTTP ${status}${seam ? `, ${seam.type}` : ''})${seamSays}. Fix the request; repeating it will not help.`,
      retryable: false,
    })
  }
  return new SeamError({
    ...base,
    name: SeamInvalidResponseError,
    type: 'seam_invalid_response',
    message: `Seam answered ${route} with unexpected HTTP ${status}. Check that SEAM_ENDPOINT points at the Seam API.`,
    retryable: false,
  })
}

function fromNetworkError(raw: Error, route: string, ctx: CallContext): SeamError {
  const codes = errorCodes(raw)
  // Messages name the route, never the endpoint's URL (a message reaches API callers and Causes).
  let failure: FailureKind
  let type: string
  let message: string
  if (codes.includes('ECONNREFUSED')) {
    failure = 'connection_refused'
    type = 'seam_unreachable'
    message = `Could not connect to Seam for ${route} (connection refused). Check SEAM_ENDPOINT and that the server is up.`
  } else if (codes.some((c) => TIMEOUT_CODES.has(c)) || /timeout/i.test(raw.message)) {
    failure = 'timeout'
    type = 'seam_timeout'
    const now = ctx.now ?? Date.now
    const limit =
      ctx.deadline !== undefined && now() >= ctx.deadline
        ? " before this request's deadline"
        : ctx.timeoutMs === undefined
          ? ''
          : ` within ${ctx.timeoutMs} ms`
    message = `Seam did not answer ${route}${limit}. Retry later; a timed-out call may still have taken effect.`
  } else if (codes.some((c) => NETWORK_CODES.has(c)) || codes.length > 0) {
    failure = 'network'
    type = 'seam_unreachable'
    const detail = codes.filter((c) => c !== 'ERR_NETWORK').join(', ') || innermostCause(raw)
    message = `The connection to Seam failed during ${route} (${detail}). Check network egress and SEAM_ENDPOINT; retry later.`
  } else {
    failure = 'network'
    type = 'seam_unreachable'
    message = `The connection to Seam failed during ${route}: ${redact(raw.message)}. Retry later.`
  }
  return new SeamError({
    name: SeamUnavailableError,
    type,
    message,
    retryable: isRetryable(failure, ctx.safeToRepeat ?? isSafeToRepeat(ctx.method)),
    route,
    failure,
  })
}

/**
 * The message of the deepest error along the cause chain (fetch's `bad port` under `fetch failed` under
 * axios's `Network Error`): what went wrong when no error on the way has a code. URLs are left out.
 */
function innermostCause(err: Error): string {
  let inner: Error = err
  for (let depth = 0; depth < 6 && inner.cause instanceof Error; depth++) inner = inner.cause
  const message = redact(inner.message.replace(/\b[a-z][a-z0-9+.-]*:\/\/\S+/gi, '[url]'))
  return inner === err ? `network error: ${message}` : message
}

/** Every `code` along the cause chain (axios wraps undici/fetch errors, which wrap the socket error). */
function errorCodes(err: unknown): string[] {
  const codes: string[] = []
  let current: unknown = err
  for (let depth = 0; depth < 6 && current instanceof Error; depth++) {
    const code = (current as Error & { code?: unknown }).code
    if (typeof code === 'string') codes.push(code)
    const errors = (current as Error & { errors?: unknown }).errors
    if (Array.isArray(errors)) {
      for (const inner of errors) {
        const innerCode = (inner as { code?: unknown } | null)?.code
        if (typeof innerCode === 'string') codes.push(innerCode)
      }
    }
    current = current.cause
  }
  return codes
}

/** The parts of an axios error read here. axios is the SDK's dependency, not ours: checked by shape. */
interface AxiosLikeError extends Error {
  isAxiosError: true
  response?: { status: number; headers?: unknown; data?: unknown } | undefined
}

function isAxiosError(err: unknown): err is AxiosLikeError {
  return err instanceof Error && (err as { isAxiosError?: unknown }).isAxiosError === true
}

function seamErrorBody(data: unknown): SeamBody | undefined {
  const error = asRecord(asRecord(data)?.error)
  if (!error || typeof error.type !== 'string') return undefined
  return {
    type: error.type,
    message: typeof error.message === 'string' ? error.message : error.type,
    data: asRecord(error.data),
  }
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined
}

/** Reads a response header from axios' AxiosHeaders or a plain object. */
function header(headers: unknown, name: string): string | undefined {
  if (headers === null || typeof headers !== 'object') return undefined
  const getter = (headers as { get?: unknown }).get
  const value =
    typeof getter === 'function'
      ? getter.call(headers, name)
      : (headers as Record<string, unknown>)[name]
  if (typeof value === 'string') return value
  if (typeof value === 'number') return String(value)
  return undefined
}

const EMAIL = /[^\s@"'<>(),;:]+@[^\s@"'<>(),;:]+\.[a-z]{2,}/gi
const PHONE = /\+\d[\d\s-]{6,}\d/g

/** Seam's messages may quote the email or phone a request carried; logs must not. */
export function redact(text: string): string {
  return text.replace(EMAIL, '[email]').replace(PHONE, '[phone]')
}
