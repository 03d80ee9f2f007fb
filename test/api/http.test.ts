import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { z } from 'zod'
import {
  type ApiEvent,
  bodyBytes,
  errorResponse,
  httpRoute,
  isJsonContentType,
  jsonResponse,
  MAX_BODY_BYTES,
} from '../../functions/api/http.js'
import { ApiError } from '../../functions/contract/errors.js'
import {
  SeamError,
  type SeamErrorName,
  SeamRequestError,
  SeamThrottledError,
  SeamUnauthorizedError,
  SeamUnavailableError,
} from '../../functions/seam/index.js'
import { logger } from '../../functions/telemetry/powertools.js'
import { apiEvent, errorOf, jsonEvent, lambdaContext } from './events.js'

const schema = z
  .object({
    name: z.string().min(1).max(10),
    tags: z.array(z.string()).max(3).optional(),
  })
  .strict()

type Body = z.output<typeof schema>

const seen: ApiEvent<Body>[] = []
const echo = httpRoute(
  async (event: ApiEvent<Body>) => {
    seen.push(event)
    return jsonResponse(200, { got: event.body, request_id: event.requestContext.requestId })
  },
  { body: schema, timeoutEarlyInMillis: 0 },
)

function throwing(err: unknown) {
  return httpRoute(
    async () => {
      throw err
    },
    { timeoutEarlyInMillis: 0 },
  )
}

beforeEach(() => {
  // Rejections log at info; keep the test output readable.
  vi.spyOn(logger, 'info').mockImplementation(() => undefined)
})

afterEach(() => {
  seen.length = 0
  vi.restoreAllMocks()
})

/** Every rejected request: the contract's shape, a 4xx, the event's request id. */
async function expectRejected(
  event: ReturnType<typeof apiEvent>,
  status: number,
  type: string,
  messageMatch?: RegExp,
) {
  const res = await echo(event, lambdaContext())
  expect(res.statusCode).toBe(status)
  expect(res.headers?.['Content-Type']).toBe('application/json')
  const error = errorOf(res.body)
  expect(error.type).toBe(type)
  expect(error.request_id).toBe(event.requestContext.requestId)
  if (messageMatch) expect(error.message).toMatch(messageMatch)
  expect(res.body).not.toMatch(/\n\s+at /) // no stack trace
  expect(seen).toHaveLength(0)
  return error
}

describe('httpRoute: a valid body', () => {
  it('reaches the handler parsed and validated', async () => {
    const res = await echo(jsonEvent({ name: 'ok', tags: ['a'] }), lambdaContext())
    expect(res.statusCode).toBe(200)
    expect(JSON.parse(res.body).got).toEqual({ name: 'ok', tags: ['a'] })
  })

  it.each([
    'application/json',
    'application/json; charset=utf-8',
    'Application/JSON;charset="UTF-8"',
    'application/json; charset=utf8',
  ])('accepts Content-Type %s under any header name case', async (contentType) => {
    for (const name of ['Content-Type', 'content-type', 'CONTENT-TYPE']) {
      const event = apiEvent({ body: '{"name":"ok"}', headers: { [name]: contentType } })
      const res = await echo(event, lambdaContext())
      expect(res.statusCode).toBe(200)
    }
  })

  it('decodes a base64 body', async () => {
    const event = jsonEvent(Buffer.from('{"name":"b64"}').toString('base64'), {
      isBase64Encoded: true,
    })
    const res = await echo(event, lambdaContext())
    expect(res.statusCode).toBe(200)
    expect(JSON.parse(res.body).got).toEqual({ name: 'b64' })
  })

  it('accepts a body of exactly 16 KiB', async () => {
    const padding = ' '.repeat(MAX_BODY_BYTES - '{"name":"ok"}'.length)
    const res = await echo(jsonEvent(`{"name":"ok"}${padding}`), lambdaContext())
    expect(res.statusCode).toBe(200)
  })

  it('passes the request id of the event to the handler', async () => {
    const res = await echo(jsonEvent({ name: 'id' }, { requestId: 'req-123' }), lambdaContext())
    expect(JSON.parse(res.body).request_id).toBe('req-123')
  })
})

describe('httpRoute: 415 unsupported_media_type', () => {
  it.each([
    ['text/plain', /text\/plain/],
    ['application/x-www-form-urlencoded', /application\/json/],
    ['application/vnd.api+json', /application\/json/],
    ['application/json; charset=latin1', /UTF-8/],
    ['application/jsonp', /application\/json/],
  ])('for %s', async (contentType, message) => {
    await expectRejected(
      apiEvent({ body: '{"name":"ok"}', headers: { 'Content-Type': contentType } }),
      415,
      'unsupported_media_type',
      message,
    )
  })

  it('for a missing Content-Type', async () => {
    await expectRejected(
      apiEvent({ body: '{"name":"ok"}' }),
      415,
      'unsupported_media_type',
      /missing/,
    )
  })

  it('before the size check', async () => {
    const big = 'x'.repeat(MAX_BODY_BYTES + 1)
    await expectRejected(
      apiEvent({ body: big, headers: { 'Content-Type': 'text/plain' } }),
      415,
      'unsupported_media_type',
    )
  })
})

describe('httpRoute: 413 payload_too_large', () => {
  it('for one byte over 16 KiB', async () => {
    const padding = ' '.repeat(MAX_BODY_BYTES + 1 - '{"name":"ok"}'.length)
    await expectRejected(
      jsonEvent(`{"name":"ok"}${padding}`),
      413,
      'payload_too_large',
      /16385 bytes/,
    )
  })

  it('counts bytes, not characters', async () => {
    const euros = '€'.repeat(6000) // 6000 characters, 18000 bytes
    expect(euros.length).toBeLessThan(MAX_BODY_BYTES)
    await expectRejected(jsonEvent({ name: euros }), 413, 'payload_too_large')
  })

  it('measures a base64 body decoded', async () => {
    const raw = `{"name":"ok"}${' '.repeat(MAX_BODY_BYTES)}`
    await expectRejected(
      jsonEvent(Buffer.from(raw).toString('base64'), { isBase64Encoded: true }),
      413,
      'payload_too_large',
    )
    // ...and a base64 body whose encoded form exceeds the limit but whose bytes do not is fine.
    const fits = `{"name":"ok"}${' '.repeat(13_000)}`
    const encoded = Buffer.from(fits).toString('base64')
    expect(encoded.length).toBeGreaterThan(MAX_BODY_BYTES)
    const res = await echo(jsonEvent(encoded, { isBase64Encoded: true }), lambdaContext())
    expect(res.statusCode).toBe(200)
  })

  it('before JSON parsing', async () => {
    await expectRejected(jsonEvent(`{${'x'.repeat(MAX_BODY_BYTES)}`), 413, 'payload_too_large')
  })
})

describe('httpRoute: 400 invalid_input', () => {
  it.each([
    ['no body', null],
    ['an empty body', ''],
    ['a blank body', ' \n\t '],
  ])('for %s', async (_what, body) => {
    await expectRejected(
      apiEvent({ body, headers: { 'Content-Type': 'application/json' } }),
      400,
      'invalid_input',
      /empty/,
    )
  })

  it.each([
    '{',
    '{"name": "ok",}',
    "{'name': 'ok'}",
    'name=ok',
    '{"name": "ok"} trailing',
    '\u0000',
  ])('for malformed JSON %j', async (body) => {
    await expectRejected(jsonEvent(body), 400, 'invalid_input', /not valid JSON/)
  })

  it('for a base64 body that is not JSON', async () => {
    await expectRejected(
      jsonEvent(Buffer.from([0xff, 0xfe, 0x00]).toString('base64'), { isBase64Encoded: true }),
      400,
      'invalid_input',
    )
  })

  it.each([
    ['FF FE', [0xff, 0xfe]],
    ['an overlong C0 A2', [0xc0, 0xa2]],
    ['an encoded surrogate ED A0 80', [0xed, 0xa0, 0x80]],
  ])(
    'for bytes that are not UTF-8 (%s), before any decoding could replace them',
    async (_what, bytes) => {
      const raw = Buffer.concat([Buffer.from('{"name":"a'), Buffer.from(bytes), Buffer.from('"}')])
      await expectRejected(
        jsonEvent(raw.toString('base64'), { isBase64Encoded: true }),
        400,
        'invalid_input',
        /not valid UTF-8/,
      )
    },
  )

  it('for constructor.prototype anywhere in the body (refused by the body parser)', async () => {
    await expectRejected(
      jsonEvent('{"name":"ok","tags":[{"constructor":{"prototype":{}}}]}'),
      400,
      'invalid_input',
      /unknown field: constructor/,
    )
  })

  it.each([
    ['an array', '[]'],
    ['a string', '"name"'],
    ['null', 'null'],
    ['a number', '42'],
  ])('for a body that is %s', async (_what, body) => {
    await expectRejected(jsonEvent(body), 400, 'invalid_input', /body: expected object/)
  })

  it('names a field of the wrong type', async () => {
    const error = await expectRejected(
      jsonEvent({ name: 42 }),
      400,
      'invalid_input',
      /name: expected string, got number/,
    )
    expect(error.fields).toEqual(['name'])
  })

  it('names a missing required field', async () => {
    await expectRejected(jsonEvent({}), 400, 'invalid_input', /name: is required/)
  })

  it('names an unknown field', async () => {
    const error = await expectRejected(
      jsonEvent({ name: 'ok', nickname: 'x', role: 'admin' }),
      400,
      'invalid_input',
      /unknown fields: nickname, role/,
    )
    expect(error.fields).toEqual(['nickname', 'role'])
  })

  it('rejects __proto__ as an unknown field', async () => {
    await expectRejected(
      jsonEvent('{"name":"ok","__proto__":{"admin":true}}'),
      400,
      'invalid_input',
      /unknown field: __proto__/,
    )
  })

  it('names every failing field, nested ones by path', async () => {
    const error = await expectRejected(
      jsonEvent({ name: 'x'.repeat(11), tags: ['a', 7] }),
      400,
      'invalid_input',
    )
    expect(error.message).toMatch(/name: Too big: expected string to have <=10 characters/)
    expect(error.message).toMatch(/tags\.1: expected string, got number/)
    expect(error.fields).toEqual(['name', 'tags'])
  })

  it('never reaches a 5xx for any garbage body', async () => {
    const bodies = ['{"name":', '{"name":null}', '{"tags":{}}', 'true', '"\\ud800"', '{"name":"ok"']
    for (const body of bodies) {
      const res = await echo(jsonEvent(body), lambdaContext())
      expect(res.statusCode).toBe(400)
      errorOf(res.body)
    }
  })
})

describe('httpRoute: request ids', () => {
  it('falls back to the Lambda request id when the event has none', async () => {
    const event = jsonEvent('{')
    ;(event.requestContext as { requestId?: string }).requestId = undefined
    const context = lambdaContext()
    const res = await echo(event, context)
    expect(errorOf(res.body).request_id).toBe(context.awsRequestId)
  })

  it('makes one up when neither has one, the same for handler and error body', async () => {
    const event = jsonEvent('{')
    ;(event as { requestContext?: unknown }).requestContext = undefined
    const res = await echo(event, {} as ReturnType<typeof lambdaContext>)
    expect(errorOf(res.body).request_id).toMatch(/^[0-9a-f-]{36}$/)
  })
})

describe('httpRoute without a body schema', () => {
  it('leaves the body alone and needs no Content-Type', async () => {
    const route = httpRoute(async (event) => jsonResponse(200, { body: event.body }), {
      timeoutEarlyInMillis: 0,
    })
    const res = await route(apiEvent({ method: 'GET', body: null }), lambdaContext())
    expect(res.statusCode).toBe(200)
    expect(JSON.parse(res.body)).toEqual({ body: null })
  })
})

describe('errors thrown by a handler', () => {
  it('ApiError: its status, type, message and extras', async () => {
    const res = await throwing(
      new ApiError(409, 'user_identity_conflict', 'Taken.', {
        extras: { user_identity_id: 'ui-1' },
      }),
    )(apiEvent({ requestId: 'r-409' }), lambdaContext())
    expect(res.statusCode).toBe(409)
    expect(JSON.parse(res.body)).toEqual({
      error: {
        type: 'user_identity_conflict',
        message: 'Taken.',
        request_id: 'r-409',
        user_identity_id: 'ui-1',
      },
    })
  })

  it('an extra field cannot overwrite type, message or request_id', async () => {
    const res = await throwing(
      new ApiError(400, 'invalid_input', 'Bad.', { extras: { type: 'x', request_id: 'y' } }),
    )(apiEvent({ requestId: 'r-1' }), lambdaContext())
    expect(errorOf(res.body)).toMatchObject({ type: 'invalid_input', request_id: 'r-1' })
  })

  it('an unknown error: 500 internal_error, generic message, logged by request id only', async () => {
    const errorLog = vi.spyOn(logger, 'error').mockImplementation(() => undefined)
    const res = await throwing(new Error('boom for alice@example.com +15551234567'))(
      apiEvent({ requestId: 'r-500' }),
      lambdaContext(),
    )
    expect(res.statusCode).toBe(500)
    const error = errorOf(res.body)
    expect(error.type).toBe('internal_error')
    expect(error.request_id).toBe('r-500')
    expect(res.body).not.toMatch(/boom|alice|5551234567|at /)
    expect(errorLog).toHaveBeenCalledOnce()
    const logged = JSON.stringify(errorLog.mock.calls)
    expect(logged).toMatch(/r-500/)
    expect(logged).not.toMatch(/alice|5551234567/)
  })

  it.each([
    ['a string', 'oops'],
    ['undefined', undefined],
    ['null', null],
    ['a 5xx http error', Object.assign(new Error('db password x'), { statusCode: 503 })],
  ])('%s thrown: 500 internal_error', async (_what, thrown) => {
    vi.spyOn(logger, 'error').mockImplementation(() => undefined)
    const res = await throwing(thrown)(apiEvent(), lambdaContext())
    expect(res.statusCode).toBe(500)
    expect(errorOf(res.body).type).toBe('internal_error')
    expect(res.body).not.toMatch(/password/)
  })

  it('a request out of time (ApiError 504 request_timeout): a warning, not an unexpected error', async () => {
    const errorLog = vi.spyOn(logger, 'error').mockImplementation(() => undefined)
    const warnLog = vi.spyOn(logger, 'warn').mockImplementation(() => undefined)
    const res = await throwing(
      new ApiError(504, 'request_timeout', 'Seam was too slow: no user identity was created.'),
    )(apiEvent({ requestId: 'r-504' }), lambdaContext())
    expect(res.statusCode).toBe(504)
    expect(errorOf(res.body)).toMatchObject({ type: 'request_timeout', request_id: 'r-504' })
    expect(errorLog).not.toHaveBeenCalled()
    expect(JSON.stringify(warnLog.mock.calls)).toMatch(
      /r-504.*request_timeout|request_timeout.*r-504/,
    )
  })

  it('a 4xx http error (middy createError) keeps its status', async () => {
    const res = await throwing(Object.assign(new Error('Not here'), { statusCode: 404 }))(
      apiEvent(),
      lambdaContext(),
    )
    expect(res.statusCode).toBe(404)
    expect(errorOf(res.body).type).toBe('not_found')
  })

  it('a ZodError from a handler is a 400 naming the field', async () => {
    const parsed = z.object({ user_identity_id: z.string().uuid() }).safeParse({
      user_identity_id: 'nope',
    })
    expect(parsed.success).toBe(false)
    const res = await throwing(parsed.error)(apiEvent(), lambdaContext())
    expect(res.statusCode).toBe(400)
    expect(errorOf(res.body).message).toMatch(/user_identity_id: Invalid UUID/)
  })

  it("middy's early timeout: 504 request_timeout", async () => {
    const timeout = new Error('[AbortError]: The operation was aborted.')
    timeout.name = 'TimeoutError'
    const res = await throwing(timeout)(apiEvent(), lambdaContext())
    expect(res.statusCode).toBe(504)
    expect(errorOf(res.body).type).toBe('request_timeout')
  })

  it('the early timeout fires inside the stack when the Lambda runs out of time', async () => {
    const slow = httpRoute(() => new Promise<never>(() => undefined), { timeoutEarlyInMillis: 50 })
    const context = { ...lambdaContext(), getRemainingTimeInMillis: () => 60 }
    const res = await slow(apiEvent(), context)
    expect(res.statusCode).toBe(504)
    errorOf(res.body)
  })
})

function seamError(
  name: SeamErrorName,
  extra: Partial<ConstructorParameters<typeof SeamError>[0]>,
) {
  return new SeamError({
    name,
    type: 'x',
    message: 'Seam said something about bob@example.com',
    retryable: false,
    ...extra,
  })
}

describe('SeamError mapping', () => {
  const cases: [SeamErrorName, number | undefined, number, string][] = [
    [SeamThrottledError, 429, 503, 'seam_unavailable'],
    [SeamUnavailableError, 503, 503, 'seam_unavailable'],
    [SeamUnavailableError, undefined, 503, 'seam_unavailable'],
    [SeamUnauthorizedError, 401, 502, 'seam_misconfigured'],
    ['SeamConfigurationError', undefined, 502, 'seam_misconfigured'],
    [SeamRequestError, 400, 502, 'seam_error'],
    ['SeamNotFoundError', 404, 502, 'seam_error'],
    ['SeamInvalidResponseError', 200, 502, 'seam_error'],
  ]
  it.each(cases)('%s (Seam HTTP %s) → %s %s', async (name, seamStatus, status, type) => {
    vi.spyOn(logger, 'warn').mockImplementation(() => undefined)
    const res = errorResponse(seamError(name, { status: seamStatus, requestId: 'seam-req-9' }), 'r')
    expect(res.statusCode).toBe(status)
    const error = errorOf(res.body)
    expect(error.type).toBe(type)
    expect(error.seam_request_id).toBe('seam-req-9')
    expect(res.body).not.toMatch(/bob@example.com/)
  })

  it('passes Retry-After on when Seam sent one', async () => {
    vi.spyOn(logger, 'warn').mockImplementation(() => undefined)
    const withRetry = errorResponse(
      seamError(SeamThrottledError, { status: 429, retryAfterMs: 2_500 }),
      'r',
    )
    expect(withRetry.headers?.['Retry-After']).toBe('3')
    const without = errorResponse(seamError(SeamUnavailableError, { status: 503 }), 'r')
    expect(without.headers?.['Retry-After']).toBeUndefined()
  })

  it('reaches the client through the stack', async () => {
    vi.spyOn(logger, 'warn').mockImplementation(() => undefined)
    const res = await throwing(seamError(SeamUnavailableError, { status: 502 }))(
      apiEvent({ requestId: 'r-seam' }),
      lambdaContext(),
    )
    expect(res.statusCode).toBe(503)
    expect(errorOf(res.body)).toMatchObject({ type: 'seam_unavailable', request_id: 'r-seam' })
  })
})

describe('helpers', () => {
  it('isJsonContentType', () => {
    expect(isJsonContentType(undefined)).toBe(false)
    expect(isJsonContentType('')).toBe(false)
    expect(isJsonContentType('application/json;')).toBe(true)
    expect(isJsonContentType('application/json; boundary=x')).toBe(true)
    expect(isJsonContentType('application/json; charset=utf-16')).toBe(false)
  })

  it('bodyBytes', () => {
    expect(bodyBytes(null, false)).toBe(0)
    expect(bodyBytes('é', false)).toBe(2)
    expect(bodyBytes(Buffer.from('abcd').toString('base64'), true)).toBe(4)
  })
})
