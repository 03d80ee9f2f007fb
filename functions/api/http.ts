/**
 * The HTTP plumbing every API route shares: the mapping of any thrown error to the contract's error body
 * (functions/contract), a JSON response helper, and `httpRoute`, the middy stack each route's handler is
 * wrapped in. Every error is
 *   {"error": {"type": "<snake_case>", "message": "<human sentence>", "request_id": "<id>", ...extra}}
 * Never a stack trace, never a 500 for bad input.
 */
import { randomUUID } from 'node:crypto'
import middy from '@middy/core'
import httpHeaderNormalizer from '@middy/http-header-normalizer'
import httpJsonBodyParser from '@middy/http-json-body-parser'
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda'
import { z } from 'zod'
import { ApiError, type MappedError, mapSeamError, seamLogFields } from '../contract/errors.js'
import { type ErrorBody, MAX_BODY_BYTES } from '../contract/http.js'
import { isSeamError } from '../seam/index.js'
import { logger } from '../telemetry/powertools.js'

export { MAX_BODY_BYTES }

/** Time left for the error response when the Lambda is about to time out. */
export const DEFAULT_TIMEOUT_EARLY_MS = 1_000

// ---------------------------------------------------------------------------------------------------
// Errors

/**
 * A message naming every field zod rejected, e.g. `Invalid request body: phone_number: must be in E.164
 * format`. `what` says where: the request body or a path parameter.
 */
export function describeZodError(error: z.ZodError, what = 'request body'): string {
  const parts = error.issues.map(describeIssue)
  return `Invalid ${what}: ${[...new Set(parts)].join('; ')}.`
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.map(String).join('.')
  if (issue.code === 'unrecognized_keys') {
    const where = path ? ` in ${path}` : ''
    return `unknown field${issue.keys.length > 1 ? 's' : ''}${where}: ${issue.keys.join(', ')}`
  }
  // `input` is there when the schema ran with reportInput (validated() below); else zod's message.
  if (issue.code === 'invalid_type' && 'input' in issue) {
    return issue.input === undefined
      ? `${path || 'body'}: is required`
      : `${path || 'body'}: expected ${issue.expected}, got ${kindOf(issue.input)}`
  }
  return path ? `${path}: ${issue.message}` : issue.message
}

function kindOf(value: unknown): string {
  if (value === null) return 'null'
  return Array.isArray(value) ? 'array' : typeof value
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
  if (isSeamError(err)) return mapSeamError(err)
  if (err instanceof z.ZodError) {
    return { ...plain, status: 400, type: 'invalid_input', message: describeZodError(err) }
  }
  const parserMessage = bodyParserMessage(err)
  if (parserMessage) {
    return { ...plain, status: 400, type: 'invalid_input', message: parserMessage }
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

/** @middy/http-json-body-parser's refusals (HTTP 422) in the contract's words: its messages are generic. */
function bodyParserMessage(err: unknown): string | undefined {
  const { statusCode, cause } = (err ?? {}) as {
    statusCode?: unknown
    cause?: { package?: unknown; data?: unknown }
  }
  if (statusCode !== 422 || cause?.package !== '@middy/http-json-body-parser') return undefined
  // Its reviver refuses __proto__ (and constructor.prototype) anywhere in the body.
  if ((err as Error).message === 'Forbidden key in JSON body') {
    return `Invalid request body: unknown field: ${String(cause.data)}.`
  }
  return 'The request body is not valid JSON.'
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
  } else if (isSeamError(err)) {
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

/** The event a route handler sees: `body` and `pathParameters` as validated by the route's schemas. */
export type ApiEvent<
  TBody = string | null,
  TParams = APIGatewayProxyEvent['pathParameters'],
> = Omit<APIGatewayProxyEvent, 'body' | 'pathParameters'> & { body: TBody; pathParameters: TParams }

export type RouteHandler<TBody, TParams = APIGatewayProxyEvent['pathParameters']> = (
  event: ApiEvent<TBody, TParams>,
  context: Context,
) => Promise<APIGatewayProxyResult>

export interface RouteOptions<
  B extends z.ZodType | undefined = undefined,
  P extends z.ZodObject | undefined = undefined,
> {
  /** The body's schema: makes this a JSON body route (415, 413, 400 checks). */
  body?: B
  /** The path parameters' schema: 400 invalid_input when they do not parse. */
  params?: P
  /** Largest body in bytes (413 beyond it). Default MAX_BODY_BYTES. */
  maxBodyBytes?: number
  /** middy's timeoutEarlyInMillis; tests pass 0. Default DEFAULT_TIMEOUT_EARLY_MS. */
  timeoutEarlyInMillis?: number
}

export type ApiHandler = middy.MiddyfiedHandler<APIGatewayProxyEvent, APIGatewayProxyResult>

type Request = middy.Request<APIGatewayProxyEvent, APIGatewayProxyResult>
type Middleware = middy.MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult>

/**
 * `application/json`, optionally with `charset=utf-8` (JSON is UTF-8, RFC 8259 §8.1). Stricter than the
 * body parser's own check, which also takes `+json` types and any charset.
 */
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

/** The body's bytes as sent (base64 bodies decoded). */
function bodyBuffer(body: string | null | undefined, isBase64Encoded: boolean): Buffer {
  if (body == null) return Buffer.alloc(0)
  return Buffer.from(body, isBase64Encoded ? 'base64' : 'utf8')
}

/** Size of the body in bytes as sent (base64 bodies decoded). */
export function bodyBytes(body: string | null | undefined, isBase64Encoded: boolean): number {
  return bodyBuffer(body, isBase64Encoded).byteLength
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** Gives the event a request id if it has none, so the handler and the error body agree. */
const requestIdMiddleware = (): Middleware => ({
  before: (request: Request) => {
    const event = request.event
    const requestId = requestIdOf(event, request.context)
    if (event.requestContext?.requestId !== requestId) {
      event.requestContext = { ...(event.requestContext ?? {}), requestId }
    }
    event.headers ??= {}
  },
})

/** The JSON text of the body, kept for the duplicate-key check after the parser replaced it. */
const bodyTexts = new WeakMap<APIGatewayProxyEvent, string>()

/**
 * Before the body parser: 415 unless UTF-8 JSON, 413 over maxBodyBytes (the parser has no limit), 400
 * for bytes that are not UTF-8 (the parser's decoding would turn them into U+FFFD, so that different
 * bytes became the same key) and for an empty body. Leaves the body as the text the parser reads.
 */
const jsonBodyGuard = (maxBodyBytes = MAX_BODY_BYTES): Middleware => ({
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
    const bytes = bodyBuffer(event.body, event.isBase64Encoded === true)
    if (bytes.byteLength > maxBodyBytes) {
      throw new ApiError(
        413,
        'payload_too_large',
        `The request body is ${bytes.byteLength} bytes; the limit is ${maxBodyBytes} bytes (${maxBodyBytes / 1024} KiB).`,
      )
    }
    let text: string
    try {
      text = event.isBase64Encoded ? UTF8.decode(bytes) : (event.body ?? '')
    } catch {
      throw new ApiError(400, 'invalid_input', 'The request body is not valid UTF-8.')
    }
    if (text.trim() === '') {
      throw new ApiError(400, 'invalid_input', 'The request body is empty; send a JSON object.')
    }
    event.body = text
    event.isBase64Encoded = false
    bodyTexts.set(event, text)
  },
})

/** After the body parser: refuse repeated keys, then validate with the route's schema. */
const jsonBodyValidator = (schema: z.ZodType): Middleware => ({
  before: (request: Request) => {
    const event = request.event as unknown as ApiEvent<unknown>
    const duplicate = firstDuplicateKey(bodyTexts.get(request.event) ?? '')
    if (duplicate !== undefined) {
      // JSON.parse keeps the last of repeated keys, other parsers the first: refuse to guess.
      throw new ApiError(
        400,
        'invalid_input',
        `The request body repeats the field ${JSON.stringify(duplicate.slice(0, 100))} in one object; send each field once.`,
      )
    }
    event.body = validated(schema, event.body, 'request body')
  },
})

/** Path parameters through their schema (ids lower-cased there, before anything is named after them). */
const pathParametersValidator = (schema: z.ZodObject): Middleware => ({
  before: (request: Request) => {
    const event = request.event as unknown as ApiEvent<unknown, unknown>
    event.pathParameters = validated(schema, event.pathParameters ?? {}, 'path parameter')
  },
})

/** The schema's output, or a 400 invalid_input naming every rejected field. */
function validated(schema: z.ZodType, value: unknown, what: string): unknown {
  const result = schema.safeParse(value, { reportInput: true })
  if (result.success) return result.data
  throw new ApiError(400, 'invalid_input', describeZodError(result.error, what), {
    extras: { fields: fieldsOf(result.error) },
  })
}

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
function fieldsOf(error: z.ZodError): string[] {
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
const errorMiddleware = (): Middleware => ({
  onError: (request: Request) => {
    if (request.response !== undefined && request.response !== null) return
    request.response = errorResponse(request.error, requestIdOf(request.event, request.context))
  },
})

/**
 * Wraps a route handler in the shared stack, in order: header normalization (lower-case names) and a
 * request id; for body routes, 415 unless application/json, 413 over MAX_BODY_BYTES, 400 for bytes
 * that are not UTF-8 or an empty body, @middy/http-json-body-parser (400 for malformed JSON), 400 for a
 * repeated key or a schema failure (naming the fields); path parameters through their schema; then the
 * handler; the error handler last.
 */
export function httpRoute<
  B extends z.ZodType | undefined = undefined,
  P extends z.ZodObject | undefined = undefined,
>(
  handlerFn: RouteHandler<
    B extends z.ZodType ? z.output<B> : string | null,
    P extends z.ZodObject ? z.output<P> : APIGatewayProxyEvent['pathParameters']
  >,
  options: RouteOptions<B, P> = {},
): ApiHandler {
  const { body, params } = options
  const stack = middy<APIGatewayProxyEvent, APIGatewayProxyResult>({
    timeoutEarlyInMillis: options.timeoutEarlyInMillis ?? DEFAULT_TIMEOUT_EARLY_MS,
  })
    .use(httpHeaderNormalizer())
    .use(requestIdMiddleware())
  if (body) {
    stack
      .use(jsonBodyGuard(options.maxBodyBytes))
      .use(httpJsonBodyParser())
      .use(jsonBodyValidator(body))
  }
  if (params) stack.use(pathParametersValidator(params))
  return stack
    .use(errorMiddleware())
    .handler((event, context) =>
      handlerFn(event as unknown as Parameters<typeof handlerFn>[0], context),
    )
}
