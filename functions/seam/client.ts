/**
 * createSeamClient: the SDK's typed routes behind the facade in types.ts, each call through the retry
 * policy (retry-policy.ts), each failure a SeamError (errors.ts), each paginated list read to its last
 * page (pagination.ts). Thin on purpose: no business logic here.
 */
import { type EventsListParameters, SeamHttp } from '@seamapi/http/connect'
import {
  type CallContext,
  SeamConfigurationError,
  SeamError,
  SeamInvalidResponseError,
  SeamUnavailableError,
  toSeamError,
} from './errors.js'
import { currentSeamPacer, type SeamPacer } from './pacer.js'
import { DEFAULT_MAX_PAGES, readAllPages } from './pagination.js'
import {
  DEFAULT_RETRY_POLICY,
  DEFAULT_TIMEOUT_MS,
  type FailureKind,
  isSafeToRepeat,
  type RetryPolicy,
  type RetryRuntime,
  realSleep,
  runWithRetry,
  seamDeadline,
} from './retry-policy.js'
import type {
  AcsCredential,
  AcsUser,
  EnrollmentAutomation,
  SeamClient,
  SeamClientStats,
  UserIdentity,
} from './types.js'

export const DEFAULT_SEAM_ENDPOINT = 'https://connect.getseam.com'

export interface SeamClientConfig {
  apiKey: string
  /** Defaults to https://connect.getseam.com (SEAM_ENDPOINT is read by seamClientFromEnvironment only). */
  endpoint?: string | undefined
}

/** What onRetry is told: ids and categories only, safe to log. */
export interface SeamRetryInfo {
  route: string
  /** The attempt that failed (1-based). */
  attempt: number
  delayMs: number
  name: string
  type: string
  status: number | undefined
  requestId: string | undefined
}

export interface SeamClientOptions {
  retry?: Partial<RetryPolicy>
  /** Per-attempt HTTP timeout. */
  timeoutMs?: number
  sleep?: (ms: number) => Promise<void>
  /** Uniform in [0, 1), for jitter. */
  random?: () => number
  /** Clock for the retry time budget and Retry-After dates. */
  now?: () => number
  /** Guard against endless lists. */
  maxPages?: number
  onRetry?: (info: SeamRetryInfo) => void
  /** After each HTTP request (every attempt): its path, how long it took, its status or failure. */
  onRequest?: (info: SeamRequestInfo) => void
  /**
   * The pace of this instance's requests (pacer.ts), asked before every attempt; a 429 pauses it for its
   * Retry-After. Default: the simulated instance's (withSeamPacer), else none.
   */
  pacer?: () => SeamPacer | undefined
}

/** What onRequest is told; `status` is undefined when Seam did not answer (see `failure`). */
export interface SeamRequestInfo {
  route: string
  ms: number
  status: number | undefined
  failure: FailureKind | undefined
}

/** The part of an SDK request used here: built lazily, sent at most once. */
interface LazyRequest<T> {
  readonly method: string
  readonly pathname: string
  /** The JSON body (POST, PUT, PATCH), for isSafeToRepeat. */
  readonly body?: unknown
  execute(): Promise<T>
  fetchResponse(): Promise<unknown>
}

export function createSeamClient(
  config: SeamClientConfig,
  options: SeamClientOptions = {},
): SeamClient {
  const endpoint = (config.endpoint ?? DEFAULT_SEAM_ENDPOINT).replace(/\/+$/, '')
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const now = options.now ?? Date.now
  const seam = createSdk(config.apiKey, endpoint, timeoutMs, now)
  const runtime: RetryRuntime = {
    policy: { ...DEFAULT_RETRY_POLICY, ...options.retry },
    sleep: options.sleep ?? realSleep,
    random: options.random ?? Math.random,
    now,
  }
  const maxPages = options.maxPages ?? DEFAULT_MAX_PAGES
  const stats: SeamClientStats = { requests: 0, retries: 0 }
  const pacerOf = options.pacer ?? currentSeamPacer

  /** One logical call: attempts until success or the policy (deadline included) gives up. */
  const call = <T>(
    method: string,
    pathname: string,
    attempt: (n: number) => Promise<T>,
    body?: unknown,
  ): Promise<T> => {
    const ctx: CallContext = {
      method: method.toUpperCase(),
      pathname,
      timeoutMs,
      now: runtime.now,
      safeToRepeat: isSafeToRepeat(method, pathname, body),
      deadline: seamDeadline(),
    }
    // Whether an attempt already retried may have taken effect: the error finally thrown says so too.
    let earlierMayHaveTakenEffect = false
    return runWithRetry(
      async (n) => {
        // Over this instance's pace the request waits its turn here rather than earn a 429 from Seam.
        const pacer = pacerOf()
        await pacer?.take()
        if (ctx.deadline !== undefined && runtime.now() >= ctx.deadline) {
          throw pastDeadline(ctx)
        }
        stats.requests++
        const started = performance.now()
        const report = (status: SeamRequestInfo['status'], failure: SeamRequestInfo['failure']) =>
          options.onRequest?.({ route: pathname, ms: performance.now() - started, status, failure })
        try {
          const value = await attempt(n)
          report(200, undefined)
          return value
        } catch (raw) {
          const error = toSeamError(raw, ctx)
          report(error.status, error.failure)
          // Seam's Retry-After holds every request of this instance, not only this one's retry.
          if (error.status === 429) pacer?.pause(error.retryAfterMs ?? 1000)
          throw error
        }
      },
      (raw) => toSeamError(raw, ctx),
      { safeToRepeat: ctx.safeToRepeat ?? false, deadline: ctx.deadline },
      runtime,
      {
        onRetry: ({ error, attempt: failed, delayMs }) => {
          stats.retries++
          if (error.mayHaveTakenEffect) earlierMayHaveTakenEffect = true
          options.onRetry?.({
            route: `${ctx.method} ${pathname}`,
            attempt: failed,
            delayMs,
            name: error.name,
            type: error.type,
            status: error.status,
            requestId: error.requestId,
          })
        },
        onGiveUp: ({ error, attempts }) => {
          error.attempts = attempts
          if (earlierMayHaveTakenEffect) error.mayHaveTakenEffect = true
          if (attempts > 1) error.message += ` (gave up after ${attempts} attempts)`
        },
      },
    )
  }

  /** An SDK route: a fresh request per attempt, because a SeamHttpRequest executes only once. */
  const send = <T>(make: () => LazyRequest<T>): Promise<T> => {
    const first = make()
    return call(
      first.method,
      first.pathname,
      (n) => (n === 1 ? first : make()).execute(),
      first.body,
    )
  }

  /** A paginated SDK route, every page through `call`. */
  const sendAll = <T>(
    responseKey: string,
    make: (pageCursor: string | undefined) => LazyRequest<unknown>,
  ): Promise<T[]> => {
    const probe = make(undefined)
    const route = `${probe.method.toUpperCase()} ${probe.pathname}`
    return readAllPages<T>(
      route,
      responseKey,
      ({ pageCursor }) =>
        call(probe.method, probe.pathname, () => make(pageCursor).fetchResponse()),
      maxPages,
    )
  }

  /** A route the SDK no longer has, through its underlying axios client (auth, timeout, errors). */
  const sendRaw = <T>(
    method: 'GET' | 'DELETE',
    pathname: string,
    params: Record<string, string>,
    responseKey?: string,
  ): Promise<T> =>
    call(method, pathname, async () => {
      const response = await seam.client.request<unknown>({ url: pathname, method, params })
      if (responseKey === undefined) return undefined as T
      const body = response.data
      if (typeof body !== 'object' || body === null || !(responseKey in body)) {
        throw new SeamError({
          name: SeamInvalidResponseError,
          type: 'seam_invalid_response',
          message: `Seam answered ${method} ${pathname} without "${responseKey}". Check that SEAM_ENDPOINT points at the Seam API.`,
          retryable: false,
          route: `${method} ${pathname}`,
        })
      }
      return (body as Record<string, unknown>)[responseKey] as T
    })

  const cursor = (pageCursor: string | undefined) =>
    pageCursor === undefined ? {} : { page_cursor: pageCursor }

  return {
    userIdentities: {
      create: (p) => send(() => seam.userIdentities.create({ ...p })),
      get: (p) => send(() => seam.userIdentities.get({ ...p })),
      list: (p = {}) =>
        sendAll<UserIdentity>('user_identities', (c) =>
          seam.userIdentities.list({ ...p, ...cursor(c) }),
        ),
      delete: (user_identity_id) => send(() => seam.userIdentities.delete({ user_identity_id })),
      addAcsUser: (p) => send(() => seam.userIdentities.addAcsUser({ ...p })),
      removeAcsUser: (p) => send(() => seam.userIdentities.removeAcsUser({ ...p })),
    },
    clientSessions: {
      list: (p) => send(() => seam.clientSessions.list({ ...p })),
      delete: (client_session_id) => send(() => seam.clientSessions.delete({ client_session_id })),
    },
    acsUsers: {
      list: (p) =>
        sendAll<AcsUser>('acs_users', (c) => seam.acs.users.list({ ...p, ...cursor(c) })),
      get: (acs_user_id) => send(() => seam.acs.users.get({ acs_user_id })),
      delete: (acs_user_id) => send(() => seam.acs.users.delete({ acs_user_id })),
    },
    acsCredentials: {
      list: (p) =>
        sendAll<AcsCredential>('acs_credentials', (c) =>
          seam.acs.credentials.list({ ...p, ...cursor(c) }),
        ),
      get: (acs_credential_id) => send(() => seam.acs.credentials.get({ acs_credential_id })),
      delete: (acs_credential_id) => send(() => seam.acs.credentials.delete({ acs_credential_id })),
    },
    enrollmentAutomations: {
      list: ({ user_identity_id }) =>
        sendRaw<EnrollmentAutomation[]>(
          'GET',
          '/user_identities/enrollment_automations/list',
          { user_identity_id },
          'enrollment_automations',
        ).then((items) => {
          if (Array.isArray(items)) return items
          throw new SeamError({
            name: SeamInvalidResponseError,
            type: 'seam_invalid_response',
            message:
              'Seam answered GET /user_identities/enrollment_automations/list with "enrollment_automations" that is not a list.',
            retryable: false,
            route: 'GET /user_identities/enrollment_automations/list',
          })
        }),
      get: (enrollment_automation_id) =>
        sendRaw<EnrollmentAutomation>(
          'GET',
          '/user_identities/enrollment_automations/get',
          { enrollment_automation_id },
          'enrollment_automation',
        ),
      delete: (enrollment_automation_id) =>
        sendRaw<void>('DELETE', '/user_identities/enrollment_automations/delete', {
          enrollment_automation_id,
        }),
    },
    phones: {
      list: (p) => send(() => seam.phones.list({ ...p })),
      get: (device_id) => send(() => seam.phones.get({ device_id })),
      deactivate: (device_id) => send(() => seam.phones.deactivate({ device_id })),
    },
    events: {
      // Our event_type is a plain string (the stage table holds them as data); Seam validates it.
      list: (p) => send(() => seam.events.list({ ...p } as EventsListParameters)),
    },
    acsSystems: {
      list: () => send(() => seam.acs.systems.list()),
    },
    workspaces: {
      get: () => send(() => seam.workspaces.get()),
    },
    stats,
    longestCallMs: timeoutMs + runtime.policy.totalBudgetMs,
  }
}

/** The error of a call not sent because the deadline of its request had passed. */
function pastDeadline(ctx: CallContext): SeamError {
  const route = `${ctx.method} ${ctx.pathname}`
  return new SeamError({
    name: SeamUnavailableError,
    type: 'seam_timeout',
    message: `Seam ${route} was not called: the deadline of this request had passed (Seam answered too slowly before it).`,
    retryable: false,
    route,
    failure: 'deadline_passed',
  })
}

function createSdk(
  apiKey: string,
  endpoint: string,
  timeoutMs: number,
  now: () => number,
): SeamHttp {
  if (typeof apiKey !== 'string' || apiKey.trim() === '') {
    throw new SeamError({
      name: SeamConfigurationError,
      type: 'seam_not_configured',
      message:
        'The Seam API key is empty. Set SEAM_API_KEY, or SEAM_API_KEY_SECRET_NAME to a Secrets Manager secret holding the key.',
      retryable: false,
    })
  }
  try {
    const sdk = SeamHttp.fromApiKey(apiKey.trim(), {
      endpoint,
      timeout: timeoutMs,
      // retry-policy.ts is the only retrier: SDK retries would multiply attempts.
      axiosRetryOptions: { retries: 0 },
    })
    // Under a deadline (withSeamDeadline), an attempt may take only the time left before it.
    sdk.client.interceptors.request.use((config) => {
      const deadline = seamDeadline()
      if (deadline !== undefined) {
        config.timeout = Math.max(1, Math.min(config.timeout || timeoutMs, deadline - now()))
      }
      return config
    })
    return sdk
  } catch (err) {
    // The SDK's message describes the key's format, never the key itself.
    const reason = err instanceof Error ? err.message : String(err)
    throw new SeamError({
      name: SeamConfigurationError,
      type: 'seam_invalid_api_key',
      message: `The Seam API key is not usable (${reason}). Check SEAM_API_KEY, or the Secrets Manager secret named by SEAM_API_KEY_SECRET_NAME; Seam API keys start with "seam_".`,
      retryable: false,
    })
  }
}
