import { inspect } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createSeamClient,
  isNotFound,
  SEAM_TRANSIENT_ERROR_NAMES,
  SeamError,
  SeamInvalidResponseError,
  SeamNotFoundError,
  SeamRequestError,
  SeamThrottledError,
  SeamUnauthorizedError,
  SeamUnavailableError,
} from '../../functions/seam/index.js'
import {
  freePort,
  json,
  type StubServer,
  seamError,
  startStubServer,
  TEST_API_KEY,
} from './stub-server.js'

/** The stub answers according to the user_identity_id asked for. */
let server: StubServer

beforeAll(async () => {
  server = await startStubServer((req, res) => {
    const scenario = req.query.user_identity_id ?? req.query.acs_user_id ?? ''
    switch (scenario) {
      case 'json_404':
        return seamError(res, 404, 'user_identity_not_found', 'User identity not found')
      case 'html_503':
        res.writeHead(503, { 'content-type': 'text/html', 'seam-request-id': 'req_html' })
        return res.end('<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>')
      case 'json_500':
        return seamError(res, 500, 'internal_server_error', 'Something broke')
      case 'json_401':
        return seamError(res, 401, 'invalid_api_key', 'The API key is invalid')
      case 'bare_401':
        res.writeHead(401)
        return res.end()
      case 'json_403':
        return seamError(res, 403, 'forbidden', 'Not allowed in this workspace')
      case 'json_400':
        return seamError(
          res,
          400,
          'user_identity_email_address_taken',
          'User identity with email jane.doe@example.com or phone +15555550123 already exists',
        )
      case 'json_429':
        return seamError(res, 429, 'rate_limited', 'Slow down', { 'retry-after': '7' })
      case 'bare_429':
        res.writeHead(429, { 'content-type': 'text/plain' })
        return res.end('Too Many Requests')
      case 'html_200':
        res.writeHead(200, { 'content-type': 'text/html' })
        return res.end('<html>captive portal</html>')
      case 'missing_key':
        return json(res, 200, { ok: true })
      case 'hang':
        return // never answers
      case 'reset':
        return res.socket?.resetAndDestroy()
      default:
        return json(res, 200, { user_identity: { user_identity_id: scenario } })
    }
  })
})
afterAll(() => server.close())

/** One attempt only: these tests are about what a failure becomes, not about retrying it. */
async function failureOf(userIdentityId: string, endpoint = server.url): Promise<SeamError> {
  const seam = createSeamClient(
    { apiKey: TEST_API_KEY, endpoint },
    { retry: { maxAttempts: 1 }, timeoutMs: 300 },
  )
  try {
    await seam.userIdentities.get({ user_identity_id: userIdentityId })
  } catch (err) {
    expect(err).toBeInstanceOf(SeamError)
    return err as SeamError
  }
  throw new Error('expected the call to fail')
}

const ROUTE = 'GET /user_identities/get'

describe('SeamError mapping', () => {
  it('a JSON Seam error keeps Seam type, status and request id', async () => {
    const err = await failureOf('json_404')
    expect(err).toMatchObject({
      name: SeamNotFoundError,
      type: 'user_identity_not_found',
      status: 404,
      requestId: 'req_user_identity_not_found',
      retryable: false,
      route: ROUTE,
    })
    expect(err.message).toContain('User identity not found')
    expect(err.message).toContain(ROUTE)
    expect(isNotFound(err)).toBe(true)
  })

  it('a non-JSON 503 (HTML page) is SeamUnavailableError/seam_unavailable, retryable', async () => {
    const err = await failureOf('html_503')
    expect(err).toMatchObject({
      name: SeamUnavailableError,
      type: 'seam_unavailable',
      status: 503,
      requestId: 'req_html',
      retryable: true,
      failure: 'server_error',
    })
    expect(err.message).toContain(ROUTE)
    expect(err.message).toContain('non-JSON')
    expect(err.message).not.toContain('<html>')
    expect(isNotFound(err)).toBe(false)
  })

  it('a JSON 500 keeps Seam type and is retryable for a GET', async () => {
    const err = await failureOf('json_500')
    expect(err).toMatchObject({
      name: SeamUnavailableError,
      type: 'internal_server_error',
      status: 500,
      retryable: true,
    })
  })

  it('401 with a body: SeamUnauthorizedError with Seam type, says which setting to check', async () => {
    const err = await failureOf('json_401')
    expect(err).toMatchObject({
      name: SeamUnauthorizedError,
      type: 'invalid_api_key',
      status: 401,
      retryable: false,
    })
    expect(err.message).toContain('SEAM_API_KEY')
    expect(err.message).toContain(ROUTE)
  })

  it('401 without a body: seam_unauthorized', async () => {
    const err = await failureOf('bare_401')
    expect(err).toMatchObject({
      name: SeamUnauthorizedError,
      type: 'seam_unauthorized',
      status: 401,
    })
  })

  it('403: SeamUnauthorizedError', async () => {
    const err = await failureOf('json_403')
    expect(err).toMatchObject({ name: SeamUnauthorizedError, type: 'forbidden', status: 403 })
  })

  it('other 4xx: SeamRequestError, and email/phone from Seam are redacted', async () => {
    const err = await failureOf('json_400')
    expect(err).toMatchObject({
      name: SeamRequestError,
      type: 'user_identity_email_address_taken',
      status: 400,
      retryable: false,
    })
    expect(err.message).not.toContain('jane.doe@example.com')
    expect(err.message).not.toContain('5555550123')
    expect(err.message).toContain('[email]')
    expect(err.message).toContain('[phone]')
  })

  it('429: SeamThrottledError with Retry-After', async () => {
    const err = await failureOf('json_429')
    expect(err).toMatchObject({
      name: SeamThrottledError,
      type: 'rate_limited',
      status: 429,
      retryable: true,
      retryAfterMs: 7_000,
    })
    const bare = await failureOf('bare_429')
    expect(bare).toMatchObject({ name: SeamThrottledError, type: 'seam_throttled', status: 429 })
  })

  it('connection refused: SeamUnavailableError/seam_unreachable, no status, names the route, not the endpoint', async () => {
    const endpoint = `http://127.0.0.1:${await freePort()}`
    const err = await failureOf('any', endpoint)
    expect(err).toMatchObject({
      name: SeamUnavailableError,
      type: 'seam_unreachable',
      status: undefined,
      retryable: true,
      failure: 'connection_refused',
    })
    expect(err.message).toContain('GET /user_identities/get')
    expect(err.message).not.toContain(endpoint)
    expect(err.message).not.toContain('127.0.0.1')
    expect(err.message).toContain('SEAM_ENDPOINT')
  })

  it('connection reset: seam_unreachable (network)', async () => {
    const err = await failureOf('reset')
    expect(err).toMatchObject({
      name: SeamUnavailableError,
      type: 'seam_unreachable',
      failure: 'network',
    })
  })

  it('a network error without a code (fetch refuses port 9: "bad port") names its underlying cause', async () => {
    const err = await failureOf('any', 'http://127.0.0.1:9')
    expect(err).toMatchObject({ name: SeamUnavailableError, type: 'seam_unreachable' })
    expect(err.message).toContain('(bad port)')
    expect(err.message).not.toContain('127.0.0.1')
  })

  it('timeout: seam_timeout, message names the limit', async () => {
    const err = await failureOf('hang')
    expect(err).toMatchObject({
      name: SeamUnavailableError,
      type: 'seam_timeout',
      failure: 'timeout',
    })
    expect(err.message).toContain('300 ms')
  })

  it('a 200 that is not JSON, or lacks the response key: SeamInvalidResponseError', async () => {
    for (const scenario of ['html_200', 'missing_key']) {
      const err = await failureOf(scenario)
      expect(err).toMatchObject({
        name: SeamInvalidResponseError,
        type: 'seam_invalid_response',
        retryable: false,
      })
      expect(err.message).toContain(ROUTE)
    }
  })

  it('a call the SDK rejects before sending: SeamRequestError/seam_invalid_request', async () => {
    const seam = createSeamClient({ apiKey: TEST_API_KEY, endpoint: server.url })
    const before = server.requests.length
    // @ts-expect-error deliberately missing the required id
    const err = await seam.userIdentities.get({}).catch((e: unknown) => e)
    expect(err).toMatchObject({ name: SeamRequestError, type: 'seam_invalid_request' })
    expect(server.requests.length).toBe(before)
  })

  it('never carries the API key, even when inspected deeply or serialized', async () => {
    for (const scenario of ['json_404', 'html_503', 'json_401', 'hang']) {
      const err = await failureOf(scenario)
      expect(inspect(err, { depth: 20, showHidden: true })).not.toContain(TEST_API_KEY)
      expect(JSON.stringify(err)).not.toContain(TEST_API_KEY)
      expect(err.stack ?? '').not.toContain(TEST_API_KEY)
    }
    expect(server.requests.at(-1)?.authorization).toBe(`Bearer ${TEST_API_KEY}`)
  })

  it('names for Step Functions Retry are the transient ones', () => {
    expect(SEAM_TRANSIENT_ERROR_NAMES).toEqual(['SeamThrottledError', 'SeamUnavailableError'])
  })
})
