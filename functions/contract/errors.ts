/**
 * The errors of the HTTP contract as the service's logic raises them: ApiError (status, type, message,
 * extras) and the one mapping of a SeamError to the contract's status and type. The create logic
 * (functions/core) throws and maps with these; functions/api/http.ts turns them into responses.
 */
import {
  type SeamError,
  SeamThrottledError,
  SeamUnauthorizedError,
  SeamUnavailableError,
} from '../seam/index.js'

/** Extra, machine-readable fields of an error body, e.g. `user_identity_id`. Ids only, never PII. */
export type ErrorExtras = Record<string, unknown>

/** An error meant for the API client: its `type`, `status` and `message` go out as they are. */
export class ApiError extends Error {
  override readonly name = 'ApiError'
  /** snake_case, e.g. `user_identity_conflict`. */
  readonly type: string
  /** HTTP status. */
  readonly status: number
  /** Extra fields of the error body, next to type/message/request_id. */
  readonly extras: ErrorExtras
  /** Response headers to add, e.g. Retry-After. */
  readonly headers: Record<string, string>

  constructor(
    status: number,
    type: string,
    message: string,
    options: { extras?: ErrorExtras; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.status = status
    this.type = type
    this.extras = options.extras ?? {}
    this.headers = options.headers ?? {}
  }
}

/** What one thrown error becomes on the wire, before the request id is added. */
export interface MappedError {
  status: number
  type: string
  message: string
  extras: ErrorExtras
  headers: Record<string, string>
  /** Logged at error level (a 5xx we did not mean), else at info/warn. */
  unexpected: boolean
}

/**
 * What a log line may say about a SeamError: ids and categories. Not its message: Seam's messages may
 * quote the request (a user_identity_key, say), and only emails and phone numbers are redacted there.
 */
export function seamLogFields(err: SeamError): Record<string, unknown> {
  return {
    name: err.name,
    type: err.type,
    status: err.status,
    seam_request_id: err.requestId,
    route: err.route,
    attempts: err.attempts,
  }
}

/** How a throttled or unavailable Seam is worded in every message that says so. */
export function seamStateOf(err: { name: string }): string {
  return `Seam ${err.name === SeamThrottledError ? 'is rate-limiting this service' : 'is unavailable'} right now`
}

/**
 * SeamError → contract:
 *   SeamThrottledError / SeamUnavailableError → 503 seam_unavailable (+ Retry-After when Seam sent one)
 *   SeamUnauthorizedError / SeamConfigurationError → 502 seam_misconfigured
 *   anything else → 502 seam_error
 * Seam's request id goes out as `seam_request_id`; Seam's messages do not (they address operators).
 * A failure after which Seam may have acted unanswered (SeamError.mayHaveTakenEffect) says so, in the
 * message and as `may_have_taken_effect: true`; a route that knows what may exist (the create) adds it.
 */
export function mapSeamError(err: SeamError): MappedError {
  const extras: ErrorExtras = {}
  if (err.requestId) extras.seam_request_id = err.requestId
  if (err.name === SeamThrottledError || err.name === SeamUnavailableError) {
    const headers: Record<string, string> = {}
    if (typeof err.retryAfterMs === 'number' && Number.isFinite(err.retryAfterMs)) {
      headers['Retry-After'] = String(Math.max(1, Math.ceil(err.retryAfterMs / 1000)))
    }
    const why = seamStateOf(err)
    // Sent and not answered (a 5xx, a timeout, a broken connection): Seam may have acted, or may
    // still. Never claim that nothing changed then.
    if (err.mayHaveTakenEffect) extras.may_have_taken_effect = true
    return {
      status: 503,
      type: 'seam_unavailable',
      message: err.mayHaveTakenEffect
        ? `${why} and did not answer this request's last call, which Seam may have carried out (or may still). Repeating the same request settles it; retry later.`
        : `${why}. Retry later.`,
      extras,
      headers,
      unexpected: false,
    }
  }
  if (err.name === SeamUnauthorizedError || err.name === 'SeamConfigurationError') {
    return {
      status: 502,
      type: 'seam_misconfigured',
      message:
        'This service is not correctly configured to call Seam (API key missing or rejected). Contact the service operator.',
      extras,
      headers: {},
      unexpected: false,
    }
  }
  return {
    status: 502,
    type: 'seam_error',
    message: `Seam failed to process the request (${err.type}${err.status ? `, HTTP ${err.status}` : ''}).`,
    extras,
    headers: {},
    unexpected: false,
  }
}
