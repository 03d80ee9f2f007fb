import { randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { invalidInput, SeamApiError } from './errors.js'
import type { FaultInjector } from './faults.js'
import { emptyParams, mergeParams, Params, parseQuery } from './params.js'
import { type HttpMethod, routes } from './routes/index.js'
import type { Store } from './store.js'
import type { FaultKind, RequestLogEntry, SeamBehaviours } from './types.js'

/** Prefix of the emulator's own control API (never faulted, never logged). */
export const CONTROL_PREFIX = '/_emulator/'

export type ControlHandler = (
  path: string,
  method: string,
  params: Record<string, unknown>,
) => Record<string, unknown> | Promise<Record<string, unknown>>

export interface ServerDeps {
  store: Store
  faults: FaultInjector
  apiKey: string
  log: RequestLogEntry[]
  /** One-shot hooks by API path (SeamEmulator.beforeNextRequest). */
  hooks: Map<string, () => void | Promise<void>>
  control: ControlHandler
  baseUrl(): string
}

const GATEWAY_PAGE = `<html>
<head><title>503 Service Temporarily Unavailable</title></head>
<body>
<center><h1>503 Service Temporarily Unavailable</h1></center>
</body>
</html>
`

/** The node:http request listener: body parsing, faults, auth, routing, Seam-shaped answers. */
export const createRequestListener =
  (deps: ServerDeps) =>
  async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = Date.now()
    const requestId = randomUUID()
    const method = (req.method ?? 'GET').toUpperCase()
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname
    const reply = (status: number, body: unknown, headers: Record<string, string> = {}): number => {
      if (res.writableEnded || res.destroyed) return status
      res.writeHead(status, {
        'content-type': 'application/json; charset=utf-8',
        'seam-request-id': requestId,
        ...headers,
      })
      res.end(JSON.stringify(body))
      return status
    }
    const replyError = (error: SeamApiError): number =>
      reply(error.status, {
        ok: false,
        error: {
          type: typeOf(error, deps.store.settings.behaviours.notFoundTypes),
          message: error.message,
          request_id: requestId,
          ...error.extra,
        },
      })

    const authorized = req.headers.authorization === `Bearer ${deps.apiKey}`
    const unauthorized = new SeamApiError(
      401,
      'unauthorized',
      'Unauthorized: send Authorization: Bearer <API key>',
    )
    // Nothing of a request is parsed before its key is checked: an unauthorized request is answered
    // from its method, path and Authorization header alone.
    let params: Record<string, unknown> = emptyParams()
    let bodyError: SeamApiError | null = null
    const parse = async (): Promise<void> => {
      try {
        params = mergeParams(parseQuery(url.searchParams), await readJsonBody(req))
      } catch (error) {
        bodyError = error instanceof SeamApiError ? error : invalidInput(String(error))
      }
    }

    if (path.startsWith(CONTROL_PREFIX)) {
      if (!authorized) return void replyError(unauthorized)
      await parse()
      if (bodyError) return void replyError(bodyError)
      try {
        return void reply(200, { ok: true, ...(await deps.control(path, method, params)) })
      } catch (error) {
        return void replyError(asSeamError(error))
      }
    }

    // An authorized request is received in full before its latency, as a slow server has it: a
    // client that gives up meanwhile does not stop it (Seam too may act on a request it never
    // answered). Its parameters are read even when a fault answers it (for the log).
    if (authorized) await parse()
    const latency = deps.faults.latencyFor(path)
    if (latency > 0) await sleep(latency)
    const hook = deps.hooks.get(path)
    if (hook) {
      deps.hooks.delete(path)
      await hook()
    }

    const fault = deps.faults.pick(path)
    let status: number
    if (fault !== null) {
      status = replyFault(fault)
    } else if (!authorized) {
      status = replyError(unauthorized)
    } else {
      status = bodyError ? replyError(bodyError) : await dispatch()
    }
    deps.log.push({
      method,
      path,
      params,
      status,
      faultInjected: fault !== null,
      fault,
      requestId,
      time: new Date(started).toISOString(),
      durationMs: Date.now() - started,
    })

    async function dispatch(): Promise<number> {
      const route = routes.get(path)
      if (!route || isGone(path, deps.store.settings.behaviours)) {
        return replyError(new SeamApiError(404, 'not_found', `No such endpoint: ${path}`))
      }
      if (!route.methods.includes(method as HttpMethod)) {
        return replyError(
          new SeamApiError(
            405,
            'method_not_allowed',
            `${method} is not allowed on ${path}; use ${route.methods.join(' or ')}`,
          ),
        )
      }
      try {
        const body = await route.handle({
          params: new Params(params),
          store: deps.store,
          pageUrl: (cursor) =>
            `${deps.baseUrl()}${path}?${serialize({ ...params, page_cursor: cursor })}`,
        })
        return reply(200, { ok: true, ...body })
      } catch (error) {
        return replyError(asSeamError(error))
      }
    }

    function replyFault(kind: FaultKind): number {
      if (kind === 'throttled') {
        const seconds = deps.faults.retryAfterSeconds()
        return reply(
          429,
          {
            ok: false,
            error: {
              type: 'too_many_requests',
              message: `Too many requests; retry after ${seconds} seconds.`,
              request_id: requestId,
            },
          },
          { 'retry-after': String(seconds) },
        )
      }
      if (kind === 'unavailable') {
        return reply(503, {
          ok: false,
          error: {
            type: 'service_unavailable',
            message: 'The service is temporarily unavailable; try again later.',
            request_id: requestId,
          },
        })
      }
      if (!res.writableEnded && !res.destroyed) {
        res.writeHead(503, { 'content-type': 'text/html', 'seam-request-id': requestId })
        res.end(GATEWAY_PAGE)
      }
      return 503
    }
  }

/** With notFoundTypes `generic`, a missing resource is 404 `not_found`, as an unknown route is. */
const typeOf = (error: SeamApiError, notFoundTypes: SeamBehaviours['notFoundTypes']): string =>
  notFoundTypes === 'generic' && error.status === 404 ? 'not_found' : error.type

/** Routes a behaviour's reading removes: they answer as any unknown path does. */
const isGone = (path: string, behaviours: SeamBehaviours): boolean =>
  behaviours.enrollmentAutomationRoutes === 'gone' &&
  path.startsWith('/user_identities/enrollment_automations/')

const asSeamError = (error: unknown): SeamApiError => {
  if (error instanceof SeamApiError) return error
  const message = error instanceof Error ? error.message : String(error)
  return new SeamApiError(500, 'internal_server_error', `Emulator error: ${message}`)
}

const readJsonBody = async (req: IncomingMessage): Promise<Record<string, unknown>> => {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  const text = Buffer.concat(chunks).toString('utf8').trim()
  if (text === '') return {}
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw invalidInput('The request body is not valid JSON')
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw invalidInput('The request body must be a JSON object')
  }
  return parsed as Record<string, unknown>
}

/** Query string for next_page_url: arrays as repeated keys, nested objects as dotted keys. */
const serialize = (params: Record<string, unknown>, prefix = ''): string => {
  const search = new URLSearchParams()
  const add = (value: Record<string, unknown>, path: string): void => {
    for (const [key, item] of Object.entries(value)) {
      const name = path === '' ? key : `${path}.${key}`
      if (item === undefined || item === null) continue
      if (Array.isArray(item)) for (const v of item) search.append(name, String(v))
      else if (typeof item === 'object') add(item as Record<string, unknown>, name)
      else search.set(name, String(item))
    }
  }
  add(params, prefix)
  return search.toString()
}

const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms).unref())
