/**
 * The local HTTP front door: turns each request into the API Gateway (REST, v1 proxy) event that the
 * deployed Lambda receives, calls the same handler module (functions/api/routes.ts), and writes its
 * result back. Listens on 127.0.0.1 only.
 */
import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda'
import type { z } from 'zod'
import { ROUTES, type RouteDefinition } from '../functions/api/routes.js'
import type { HandlerDeps } from '../functions/contract/handler-deps.js'
import type { IndexResponse } from '../functions/contract/http.js'
import {
  type FunctionCapacity,
  SEAM_BUSY_MESSAGE,
  SEAM_BUSY_RETRY_AFTER_SECONDS,
} from '../infra/capacity.js'
import { DEFAULT_FUNCTION_TIMEOUT } from '../infra/constructs/service-function.js'
import { bindHandler, ENVIRONMENT_DEPS } from './bind-handler.js'
import { asInstances } from './instances.js'

export type Handler = (
  event: APIGatewayProxyEvent,
  context: Context,
) => Promise<APIGatewayProxyResult>

export interface LocalServerOptions {
  /** 0 picks a free port. */
  readonly port?: number
  readonly routes?: readonly RouteDefinition[]
  /** What the handlers are bound to (createHandler); default: what the environment names. */
  readonly deps?: HandlerDeps
  /** Handlers bound by the caller, by entry (e.g. the webhook route's, on the coordination table). */
  readonly handlers?: Readonly<Record<string, Handler>>
  /** Served at GET /openapi.json. */
  readonly openapi?: object
  /** Called once per request, after the response (method, path, status, ms). */
  readonly onRequest?: (line: { method: string; path: string; status: number; ms: number }) => void
  /** A route's Seam capacity (infra/capacity.ts): its instances' pace, 503 past its reserved concurrency. */
  readonly seamCapacity?: (route: RouteDefinition) => FunctionCapacity | undefined
}

export interface LocalServer {
  readonly url: string
  close(): Promise<void>
}

/** API Gateway refuses bigger payloads (10 MB); locally we stop reading well before that. */
const MAX_BODY_BYTES = 1024 * 1024
const HOST = '127.0.0.1'

export async function startLocalServer(options: LocalServerOptions = {}): Promise<LocalServer> {
  const routes = options.routes ?? ROUTES
  const deps = options.deps ?? ENVIRONMENT_DEPS
  const handlers = new Map<string, Handler>(Object.entries(options.handlers ?? {}))
  const load = (route: RouteDefinition) => {
    let handler = handlers.get(route.entry)
    if (!handler) {
      handler = asInstances(bindHandler(route.entry, deps), options.seamCapacity?.(route), seamBusy)
      handlers.set(route.entry, handler)
    }
    return handler
  }

  const server = createServer((req, res) => {
    const started = performance.now()
    const path = new URL(req.url ?? '/', 'http://localhost').pathname
    // One id per request, made here so that even the fallback 500 below carries it (the contract).
    const requestId = randomUUID()
    // Logged when the response closes: answered, or abandoned by a client that hung up first (while
    // its body was read or while the handler ran), which is an abort, never an answer.
    res.once('close', () => {
      const answered = res.writableFinished
      if (!answered) {
        console.warn(`local server: client aborted request ${requestId} (${req.method} ${path})`)
      }
      options.onRequest?.({
        method: req.method ?? '',
        path,
        // 499: nginx's "client closed request".
        status: answered ? res.statusCode : 499,
        ms: Math.round(performance.now() - started),
      })
    })
    handle(req, res, requestId, routes, load, options.openapi).catch((error: unknown) => {
      // The client closed the connection before its request was read: nobody to answer.
      if (clientAborted(req, error)) return
      // The handlers answer every error themselves; this is a bug in the adapter or a handler import.
      console.error(
        `local server error (request ${requestId}):`,
        error instanceof Error ? error.message : error,
      )
      if (!res.headersSent) {
        send(res, errorResult(500, 'internal_error', 'Internal error', requestId))
      } else res.end()
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, HOST, () => resolve())
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://${HOST}:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()))
        server.closeAllConnections()
      }),
  }
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  requestId: string,
  routes: readonly RouteDefinition[],
  load: (route: RouteDefinition) => Handler,
  openapi: object | undefined,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost')
  const method = (req.method ?? 'GET').toUpperCase()

  // HEAD like GET (Node leaves the body out): load balancers and `curl -I` probe with it.
  if (url.pathname === '/health' && (method === 'GET' || method === 'HEAD')) {
    return send(res, json(200, { ok: true }))
  }
  // The index answers `/` itself only: not a path that normalizes to it (`/deletions/..`).
  const rawPath = (req.url ?? '/').split('?')[0]
  if (rawPath === '/' && (method === 'GET' || method === 'HEAD')) {
    return send(res, json(200, rootDocument(routes)))
  }
  if (url.pathname === '/openapi.json' && method === 'GET' && openapi) {
    return send(res, json(200, openapi))
  }

  const matches = routes
    .map((route) => ({ route, params: matchPath(route.path, url.pathname) }))
    .filter((m): m is { route: RouteDefinition; params: Record<string, string> } => !!m.params)
  if (matches.length === 0) {
    return send(res, errorResult(404, 'route_not_found', `No route ${url.pathname}`, requestId))
  }
  const match = matches.find((m) => m.route.method === method)
  if (!match) {
    const allow = matches.map((m) => m.route.method).join(', ')
    const result = errorResult(
      405,
      'method_not_allowed',
      `${method} is not allowed on ${url.pathname}; allowed: ${allow}`,
      requestId,
    )
    return send(res, { ...result, headers: { ...result.headers, Allow: allow } })
  }

  const body = await readBody(req)
  if (body === undefined) {
    // The rest of the body is left unread: close the connection, or a keep-alive client would send
    // its next request into the remains of this one and get a reset.
    const result = errorResult(
      413,
      'payload_too_large',
      `The request body is larger than ${MAX_BODY_BYTES} bytes`,
      requestId,
    )
    return send(res, { ...result, headers: { ...result.headers, Connection: 'close' } })
  }
  const event = toEvent(req, url, match.route, match.params, body, requestId)
  const handler = load(match.route)
  send(res, await handler(event, lambdaContext(match.route, requestId)))
}

/** What API Gateway answers (SeamBusy gateway response) when the route's Lambda is throttled. */
function seamBusy(event: APIGatewayProxyEvent): APIGatewayProxyResult {
  const result = errorResult(
    503,
    'seam_unavailable',
    SEAM_BUSY_MESSAGE,
    event.requestContext.requestId,
  )
  return {
    ...result,
    headers: { ...result.headers, 'Retry-After': String(SEAM_BUSY_RETRY_AFTER_SECONDS) },
  }
}

/** The request failed because its client went away (socket closed while its body was read). */
function clientAborted(req: IncomingMessage, error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  return (
    (req.destroyed && !req.complete) ||
    code === 'ECONNRESET' ||
    code === 'ERR_STREAM_PREMATURE_CLOSE' ||
    (error instanceof Error && error.message === 'aborted')
  )
}

/** Every route the local server answers, as `METHOD /path` (its own first, then the API's). */
export function routeList(routes: readonly RouteDefinition[] = ROUTES): string[] {
  return [
    'GET|HEAD /            this index',
    'GET|HEAD /health      liveness',
    'GET /openapi.json     the API contract (OpenAPI 3.1)',
    ...routes.map((route) => `${route.method} ${route.path}`),
  ]
}

/** GET /: where to go from here. */
function rootDocument(routes: readonly RouteDefinition[]): z.infer<typeof IndexResponse> {
  return {
    service: 'Seam user identities (local)',
    openapi: '/openapi.json',
    health: '/health',
    readme: 'README.md of the repository: "Try it", "Run it" and "Local settings"',
    routes: routes.map((route) => `${route.method} ${route.path}`),
  }
}

/** Match `/a/{x}/b` against a path; parameters are URL-decoded, as API Gateway passes them. */
export function matchPath(template: string, path: string): Record<string, string> | undefined {
  const want = template.split('/')
  const got = path.split('/')
  if (want.length !== got.length) return undefined
  const params: Record<string, string> = {}
  for (const [i, part] of want.entries()) {
    const segment = got[i] ?? ''
    const param = /^\{(\w+)\}$/.exec(part)?.[1]
    if (param) {
      if (segment === '') return undefined
      try {
        params[param] = decodeURIComponent(segment)
      } catch {
        params[param] = segment
      }
    } else if (part !== segment) {
      return undefined
    }
  }
  return params
}

function toEvent(
  req: IncomingMessage,
  url: URL,
  route: RouteDefinition,
  pathParameters: Record<string, string>,
  body: Buffer,
  requestId: string,
): APIGatewayProxyEvent {
  // Keys are plain data, as in the JSON event API Gateway sends: collected in Maps and made own
  // properties by Object.fromEntries, so a header or query key named __proto__, constructor or
  // hasOwnProperty neither reads nor replaces anything inherited.
  const headerValues = new Map<string, string[]>()
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i] as string
    headerValues.set(name, [...(headerValues.get(name) ?? []), req.rawHeaders[i + 1] as string])
  }
  const queryValues = new Map<string, string[]>()
  for (const [key, value] of url.searchParams) {
    queryValues.set(key, [...(queryValues.get(key) ?? []), value])
  }
  const last = (values: Map<string, string[]>) =>
    Object.fromEntries([...values].map(([key, all]) => [key, all.at(-1) as string]))
  const headers = last(headerValues)
  const multiValueHeaders = Object.fromEntries(headerValues)
  const query = last(queryValues)
  const multiQuery = Object.fromEntries(queryValues)
  const hasQuery = url.searchParams.size > 0
  const now = Date.now()
  return {
    resource: route.path,
    path: url.pathname,
    httpMethod: route.method,
    headers,
    multiValueHeaders,
    queryStringParameters: hasQuery ? query : null,
    multiValueQueryStringParameters: hasQuery ? multiQuery : null,
    pathParameters: Object.keys(pathParameters).length > 0 ? pathParameters : null,
    stageVariables: null,
    // The bytes as sent, so that the handlers can refuse a body that is not UTF-8.
    body: body.length > 0 ? body.toString('base64') : null,
    isBase64Encoded: body.length > 0,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: null,
      protocol: `HTTP/${req.httpVersion}`,
      httpMethod: route.method,
      identity: localIdentity(),
      path: url.pathname,
      stage: 'local',
      requestId,
      requestTimeEpoch: now,
      resourceId: route.id,
      resourcePath: route.path,
    },
  }
}

function localIdentity(): APIGatewayProxyEvent['requestContext']['identity'] {
  return {
    accessKey: null,
    accountId: null,
    apiKey: null,
    apiKeyId: null,
    caller: null,
    clientCert: null,
    cognitoAuthenticationProvider: null,
    cognitoAuthenticationType: null,
    cognitoIdentityId: null,
    cognitoIdentityPoolId: null,
    principalOrgId: null,
    sourceIp: '127.0.0.1',
    user: null,
    userAgent: null,
    userArn: null,
  }
}

function lambdaContext(route: RouteDefinition, requestId: string): Context {
  // The deployed API functions' timeout: the handlers size their Seam deadline from what is left.
  const deadline = Date.now() + DEFAULT_FUNCTION_TIMEOUT.toMilliseconds()
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: route.id,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${route.id}`,
    memoryLimitInMB: '256',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${route.id}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  }
}

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > MAX_BODY_BYTES) return undefined
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks)
}

function json(statusCode: number, body: unknown): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  }
}

function errorResult(
  status: number,
  type: string,
  message: string,
  requestId: string,
): APIGatewayProxyResult {
  return json(status, { error: { type, message, request_id: requestId } })
}

function send(res: ServerResponse, result: APIGatewayProxyResult): void {
  const headers: Record<string, string | string[]> = {}
  for (const [k, v] of Object.entries(result.headers ?? {})) headers[k] = String(v)
  for (const [k, v] of Object.entries(result.multiValueHeaders ?? {})) headers[k] = v.map(String)
  const body = result.isBase64Encoded
    ? Buffer.from(result.body, 'base64')
    : Buffer.from(result.body ?? '')
  res.writeHead(result.statusCode, { ...headers, 'Content-Length': String(body.length) })
  res.end(body)
}
