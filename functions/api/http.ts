/**
 * The HTTP plumbing every API route shares: the contract's error shape, the mapping of any thrown error
 * to it, a JSON response helper, and `httpRoute`, the middy stack each route's handler is wrapped in.
 *
 * Contract (../shared/api-contract.md): every error is
 *   {"error": {"type": "<snake_case>", "message": "<human sentence>", "request_id": "<id>", ...extra}}
 * Never a stack trace, never a 500 for bad input.
 */
import { randomUUID } from 'node:crypto'
import middy from '@middy/core'
import httpHeaderNormalizer from '@middy/http-header-normalizer'
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda'
import { ZodError, type ZodIssue, type ZodTypeAny, type z } from 'zod'
import {
  SEAM_ERROR_NAMES,
  type SeamError,
  SeamThrottledError,
  SeamUnauthorizedError,
  SeamUnavailableError,
} from '../seam/index.js'
import { logger } from '../shared/powertools.js'

/** Largest request body accepted, in bytes (after base64 decoding). */
export const MAX_BODY_BYTES = 16 * 1024

/** Time left for the error response when the Lambda is about to time out. */
export const DEFAULT_TIMEOUT_EARLY_MS = 1_000

// ---------------------------------------------------------------------------------------------------
// Errors

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

export function isApiError(err: unknown): err is ApiError {
  return err instanceof ApiError
}

/** The error body of the contract. */
export interface ErrorBody {
  error: { type: string; message: string; request_id: string } & ErrorExtras
}

/** What one thrown error becomes on the wire, before the request id is added. */
interface MappedError {
  status: number
  type: string
  message: string
  extras: ErrorExtras
  headers: Record<string, string>
  /** Logged at error level (a 5xx we did not mean), else at info/warn. */
  unexpected: boolean
}

const SEAM_NAMES: ReadonlySet<string> = new Set(SEAM_ERROR_NAMES)

/**
 * A SeamError from functions/seam. Checked by shape as well as by class, so a second copy of the module
 * (bundling, tests resetting modules) is still recognized.
 */
export function looksLikeSeamError(err: unknown): err is SeamError {
  return (
    err instanceof Error &&
    SEAM_NAMES.has(err.name) &&
    typeof (err as { type?: unknown }).type === 'string'
  )
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

/** A message naming every field zod rejected, e.g. `phone_number: must be E.164 (+15551234567)`. */
export function describeZodError(error: ZodError): string {
  const parts = error.issues.map(describeIssue)
  return `Invalid request body: ${[...new Set(parts)].join('; ')}.`
}

function describeIssue(issue: ZodIssue): string {
  const path = issue.path.map(String).join('.')
  if (issue.code === 'unrecognized_keys') {
    const where = path ? ` in ${path}` : ''
    return `unknown field${issue.keys.length > 1 ? 's' : ''}${where}: ${issue.keys.join(', ')}`
  }
  if (issue.code === 'invalid_type' && issue.received === 'undefined') {
    return `${path || 'body'}: is required`
  }
  if (issue.code === 'invalid_type') {
    return `${path || 'body'}: expected ${issue.expected}, got ${issue.received}`
  }
  return path ? `${path}: ${issue.message}` : issue.message
}

/** Status → type for errors carrying only an HTTP status (e.g. middy's createError). */
const TYPE_BY_STATUS: Readonly<Record<number, string>> = {
  400: 'invalid_input',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  422: 'invalid_input',
}

/** Maps anything a route can throw to status, type, message and extras. Pure. */
export function mapError(err: unknown): MappedError {
  const plain = { extras: {}, headers: {}, unexpected: false }
  if (err instanceof ApiError) {
    return {
      status: err.status,
      type: err.type,
      message: err.message,
      extras: err.extras,
      headers: err.headers,
      // Seam's failures and a request that ran out of time (Seam too slow) are expected 5xx.
      unexpected:
        err.status >= 500 && !err.type.startsWith('seam_') && err.type !== 'request_timeout',
    }
  }
  if (looksLikeSeamError(err)) return mapSeamError(err)
  if (err instanceof ZodError) {
    return { ...plain, status: 400, type: 'invalid_input', message: describeZodError(err) }
  }
  if (err instanceof Error && err.name === 'TimeoutError') {
    // middy's timeoutEarlyResponse: the Lambda is about to time out.
    return {
      ...plain,
      status: 504,
      type: 'request_timeout',
      message:
        'The request took too long and was stopped; it may have partly taken effect. Retry it: a repeated request is recognized.',
    }
  }
  // An http-errors style error (middy's createError): trust its 4xx status, never its 5xx message.
  const status = (err as { statusCode?: unknown } | null)?.statusCode
  if (typeof status === 'number' && status >= 400 && status < 500 && err instanceof Error) {
    const mappedStatus = status === 422 ? 400 : status
    return {
      ...plain,
      status: mappedStatus,
      type: TYPE_BY_STATUS[status] ?? 'bad_request',
      message: err.message,
    }
  }
  return {
    ...plain,
    status: 500,
    type: 'internal_error',
    message: 'An unexpected error occurred. Retry later; quote the request_id if it persists.',
    unexpected: true,
  }
}

/**
 * SeamError → contract:
 *   SeamThrottledError / SeamUnavailableError → 503 seam_unavailable (+ Retry-After when Seam sent one)
 *   SeamUnauthorizedError / SeamConfigurationError → 502 seam_misconfigured
 *   anything else → 502 seam_error
 * Seam's request id goes out as `seam_request_id`; Seam's messages do not (they address operators).
 */
export function mapSeamError(err: SeamError): MappedError {
  const extras: ErrorExtras = {}
  if (err.requestId) extras.seam_request_id = err.requestId
  if (err.name === SeamThrottledError || err.name === SeamUnavailableError) {
    const headers: Record<string, string> = {}
    if (typeof err.retryAfterMs === 'number' && Number.isFinite(err.retryAfterMs)) {
      headers['Retry-After'] = String(Math.max(1, Math.ceil(err.retryAfterMs / 1000)))
    }
    const why = err.name === SeamThrottledError ? 'is rate-limiting this service' : 'is unavailable'
    return {
      status: 503,
      type: 'seam_unavailable',
      message: `Seam ${why} right now; nothing was changed that a retry would not complete. Retry later.`,
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

/** The request id of the contract: API Gateway's, else Lambda's, else a fresh one. */
export function requestIdOf(
  event: Pick<APIGatewayProxyEvent, 'requestContext'>,
  context?: Context,
) {
  const fromEvent = event.requestContext?.requestId
  if (typeof fromEvent === 'string' && fromEvent !== '') return fromEvent
  const fromLambda = context?.awsRequestId
  if (typeof fromLambda === 'string' && fromLambda !== '') return fromLambda
  return randomUUID()
}

/**
 * Any thrown error → the contract's error response. Logs by request id: type and status for client
 * errors; for unexpected ones, the error's class and stack, never its message in the response.
 */
export function errorResponse(err: unknown, requestId: string): APIGatewayProxyResult {
  const mapped = mapError(err)
  const { type, status } = mapped
  if (mapped.unexpected) {
    logger.error('Request failed unexpectedly', {
      request_id: requestId,
      status,
      type,
      error_name: err instanceof Error ? err.name : typeof err,
      stack: err instanceof Error ? stackWithoutMessage(err) : undefined,
    })
  } else if (looksLikeSeamError(err)) {
    // SeamError.toJSON holds ids and categories only (its messages are redacted).
    logger.warn('Seam call failed', {
      request_id: requestId,
      status,
      type,
      seam: seamLogFields(err),
    })
  } else if (status >= 500) {
    logger.warn('Request failed', { request_id: requestId, status, type })
  } else {
    logger.info('Request rejected', { request_id: requestId, status, type })
  }
  const body: ErrorBody = {
    error: { ...mapped.extras, type, message: mapped.message, request_id: requestId },
  }
  return jsonResponse(status, body, mapped.headers)
}

/** The stack's frames without the first line, which repeats the message (it may quote input). */
function stackWithoutMessage(err: Error): string | undefined {
  return err.stack?.split('\n').slice(1).join('\n')
}

// ---------------------------------------------------------------------------------------------------
// Responses

/** A JSON response. */
export function jsonResponse(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  }
}

// ---------------------------------------------------------------------------------------------------
// The middleware stack

/** The event a route handler sees: with a body schema, `body` is the parsed and validated body. */
export type ApiEvent<TBody = string | null> = Omit<APIGatewayProxyEvent, 'body'> & { body: TBody }

export type RouteHandler<TBody> = (
  event: ApiEvent<TBody>,
  context: Context,
) => Promise<APIGatewayProxyResult>

export interface RouteOptions<S extends ZodTypeAny | undefined = undefined> {
  /** The body's schema: makes this a JSON body route (415, 413, 400 checks). */
  body?: S
  /** Largest body in bytes (413 beyond it). Default MAX_BODY_BYTES. */
  maxBodyBytes?: number
  /** middy's timeoutEarlyInMillis; tests pass 0. Default DEFAULT_TIMEOUT_EARLY_MS. */
  timeoutEarlyInMillis?: number
}

export type ApiHandler = middy.MiddyfiedHandler<APIGatewayProxyEvent, APIGatewayProxyResult>

type Request = middy.Request<APIGatewayProxyEvent, APIGatewayProxyResult>

/** `application/json`, optionally with `charset=utf-8` (JSON is UTF-8, RFC 8259 §8.1). */
export function isJsonContentType(value: string | undefined): boolean {
  if (typeof value !== 'string') return false
  const [mediaType, ...params] = value.split(';').map((part) => part.trim().toLowerCase())
  if (mediaType !== 'application/json') return false
  return params.every((param) => {
    if (param === '') return true
    const [name, rawValue = ''] = param.split('=').map((s) => s.trim())
    if (name !== 'charset') return true
    const charset = rawValue.replace(/^"(.*)"$/, '$1')
    return charset === 'utf-8' || charset === 'utf8'
  })
}

/** Size of the body in bytes as sent (base64 bodies decoded). */
export function bodyBytes(body: string | null | undefined, isBase64Encoded: boolean): number {
  if (body == null) return 0
  return isBase64Encoded ? Buffer.from(body, 'base64').byteLength : Buffer.byteLength(body, 'utf8')
}

/** Gives the event a request id if it has none, so the handler and the error body agree. */
const requestIdMiddleware = (): middy.MiddlewareObj<
  APIGatewayProxyEvent,
  APIGatewayProxyResult
> => ({
  before: (request: Request) => {
    const event = request.event
    const requestId = requestIdOf(event, request.context)
    if (event.requestContext?.requestId !== requestId) {
      event.requestContext = { ...(event.requestContext ?? {}), requestId }
    }
    event.headers ??= {}
  },
})

/** 415, then 413, then 400 for the body; leaves the validated value in `event.body`. */
const jsonBodyMiddleware = (
  schema: ZodTypeAny,
  maxBodyBytes = MAX_BODY_BYTES,
): middy.MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> => ({
  before: (request: Request) => {
    const event = request.event
    const contentType = event.headers['content-type']
    if (!isJsonContentType(contentType)) {
      throw new ApiError(
        415,
        'unsupported_media_type',
        contentType
          ? `Content-Type ${JSON.stringify(contentType.slice(0, 100))} is not supported; send application/json (UTF-8).`
          : 'The Content-Type header is missing; send application/json (UTF-8).',
      )
    }
    const bytes = bodyBytes(event.body, event.isBase64Encoded === true)
    if (bytes > maxBodyBytes) {
      throw new ApiError(
        413,
        'payload_too_large',
        `The request body is ${bytes} bytes; the limit is ${maxBodyBytes} bytes (${maxBodyBytes / 1024} KiB).`,
      )
    }
    const text =
      event.body == null
        ? ''
        : event.isBase64Encoded
          ? Buffer.from(event.body, 'base64').toString('utf8')
          : event.body
    if (text.trim() === '') {
      throw new ApiError(400, 'invalid_input', 'The request body is empty; send a JSON object.')
    }
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      throw new ApiError(400, 'invalid_input', 'The request body is not valid JSON.')
    }
    const duplicate = firstDuplicateKey(text)
    if (duplicate !== undefined) {
      // JSON.parse keeps the last of repeated keys, other parsers the first: refuse to guess.
      throw new ApiError(
        400,
        'invalid_input',
        `The request body repeats the field ${JSON.stringify(duplicate.slice(0, 100))} in one object; send each field once.`,
      )
    }
    const result = schema.safeParse(parsed)
    if (!result.success) {
      throw new ApiError(400, 'invalid_input', describeZodError(result.error), {
        extras: { fields: fieldsOf(result.error) },
      })
    }
    // The middy convention (as @middy/http-json-body-parser does): the parsed body replaces the string.
    ;(event as { body: unknown }).body = result.data
  },
})

/**
 * The first key that appears twice in one object of a JSON text that JSON.parse accepted, else undefined.
 * Keys are compared decoded (`"a"` and `"\u0061"` are the same key). Iterative, so any nesting depth
 * JSON.parse survives is scanned in linear time without growing the call stack.
 */
export function firstDuplicateKey(text: string): string | undefined {
  // One frame per open object (its keys so far, and whether the next string is a key) or array (null).
  const frames: ({ keys: Set<string>; expectKey: boolean } | null)[] = []
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (c === '{') frames.push({ keys: new Set(), expectKey: true })
    else if (c === '[') frames.push(null)
    else if (c === '}' || c === ']') frames.pop()
    else if (c === ',') {
      const top = frames.at(-1)
      if (top) top.expectKey = true
    } else if (c === '"') {
      let end = i + 1
      while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1
      const top = frames.at(-1)
      if (top?.expectKey) {
        const key = JSON.parse(text.slice(i, end + 1)) as string
        if (top.keys.has(key)) return key
        top.keys.add(key)
        top.expectKey = false
      }
      i = end
    }
  }
  return undefined
}

/** The top-level fields zod rejected (unknown ones included), for `error.fields`. */
function fieldsOf(error: ZodError): string[] {
  const fields = new Set<string>()
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys' && issue.path.length === 0) {
      for (const key of issue.keys) fields.add(key)
    } else if (issue.path.length > 0) {
      fields.add(String(issue.path[0]))
    }
  }
  return [...fields]
}

/** Last in the stack: every error becomes the contract's error response. */
const errorMiddleware = (): middy.MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> => ({
  onError: (request: Request) => {
    if (request.response !== undefined && request.response !== null) return
    request.response = errorResponse(request.error, requestIdOf(request.event, request.context))
  },
})

/**
 * Wraps a route handler in the shared stack, in order: header normalization (lower-case names) and a
 * request id; for body routes, 415 unless application/json, 413 over MAX_BODY_BYTES, 400 for an empty
 * body, malformed JSON or a schema failure (naming the fields); then the handler; the error handler last.
 */
export function httpRoute<S extends ZodTypeAny>(
  handlerFn: RouteHandler<z.output<S>>,
  options: RouteOptions<S> & { body: S },
): ApiHandler
export function httpRoute(
  handlerFn: RouteHandler<string | null>,
  options?: RouteOptions<undefined>,
): ApiHandler
export function httpRoute(
  // never: the implementation accepts both overloads' handlers (parameters are contravariant).
  handlerFn: RouteHandler<never>,
  options: RouteOptions<ZodTypeAny | undefined> = {},
): ApiHandler {
  const stack = middy<APIGatewayProxyEvent, APIGatewayProxyResult>({
    timeoutEarlyInMillis: options.timeoutEarlyInMillis ?? DEFAULT_TIMEOUT_EARLY_MS,
  })
    .use(httpHeaderNormalizer())
    .use(requestIdMiddleware())
  const withBody = options.body
    ? stack.use(jsonBodyMiddleware(options.body, options.maxBodyBytes))
    : stack
  return withBody
    .use(errorMiddleware())
    .handler((event, context) => handlerFn(event as ApiEvent<never>, context))
}
