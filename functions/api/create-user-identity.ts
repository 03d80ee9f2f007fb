/**
 * POST /user-identities — Lambda handler (API Gateway REST proxy). Thin: the shared middy stack
 * (http.ts) checks and parses the body with the contract's schema, createUserIdentity
 * (functions/core/create-user-identity.ts) does the work before a deadline taken from the Lambda's
 * remaining time, so that the caller always gets this handler's answer, never API Gateway's 29 s
 * integration timeout.
 *
 *   201 {"user_identity": <Seam user_identity>}   400 invalid_input   404 acs_user_not_found
 *   409 user_identity_conflict / acs_user_already_linked / acs_user_busy   413   415
 *   502 seam_error / seam_misconfigured   503 seam_unavailable   504 request_timeout
 * An error after the identity was created carries its user_identity_id when the identity remains;
 * one after Seam may have acted unanswered says so (may_have_taken_effect, user_identity_key).
 * A create with ACS users takes their leases in the coordination table (the deps' `coordination`).
 */

import { randomUUID } from 'node:crypto'
import type { HandlerDeps } from '../contract/handler-deps.js'
import { OPERATIONS } from '../contract/http.js'
import { type Coordination, coordinationFromEnvironment } from '../core/coordination.js'
import { createUserIdentity } from '../core/create-user-identity.js'
import type { SeamClient } from '../seam/index.js'
import { seamClientFromEnvironment } from '../seam/index.js'
import { recordCreate, withMetrics } from '../telemetry/metrics.js'
import { logger } from '../telemetry/powertools.js'
import {
  type ApiHandler,
  DEFAULT_TIMEOUT_EARLY_MS,
  httpRoute,
  jsonResponse,
  requestIdOf,
} from './http.js'

/**
 * Time kept between the create's deadline and the end of the Lambda: middy's early timeout answer
 * (DEFAULT_TIMEOUT_EARLY_MS) and one more second to write the answer.
 */
export const DEADLINE_MARGIN_MS = DEFAULT_TIMEOUT_EARLY_MS + 1_000

export interface CreateHandlerOptions {
  /** Where the Seam client comes from; default the process-wide one, built once per cold start. */
  seam?: () => Promise<SeamClient>
  /** The coordination table holding the per-ACS-user leases; default the one the environment names. */
  coordination?: () => Coordination
  /** middy's timeoutEarlyInMillis (tests: 0). */
  timeoutEarlyInMillis?: number
  /** Default DEADLINE_MARGIN_MS. */
  deadlineMarginMs?: number
  /** Of the create's time, the last part kept for undoing (default DEFAULT_UNDO_RESERVE_MS). */
  undoReserveMs?: number
}

export function createUserIdentityHandler(options: CreateHandlerOptions = {}): ApiHandler {
  const {
    seam = seamClientFromEnvironment,
    coordination = coordinationFromEnvironment,
    timeoutEarlyInMillis,
    deadlineMarginMs = DEADLINE_MARGIN_MS,
    undoReserveMs,
  } = options
  return httpRoute(
    async (event, context) => {
      const deadline = Date.now() + context.getRemainingTimeInMillis() - deadlineMarginMs
      const requestId = requestIdOf(event, context)
      const log = logger.createChild({ persistentKeys: { request_id: requestId } })
      const client = await seam()
      const { userIdentity, created } = await createUserIdentity(client, event.body, log, {
        deadline,
        undoReserveMs,
        // Named after the request, so a lease in the table says which request holds it.
        leaseOwner: `${requestId}:${randomUUID()}`,
        ...(event.body.acs_user_ids?.length ? { leases: coordination() } : {}),
      })
      // 201 either way: a retry after a lost response gets the answer the first attempt would have had.
      return jsonResponse(
        201,
        { user_identity: userIdentity },
        created ? {} : { 'X-Replayed': 'true' },
      )
    },
    {
      body: OPERATIONS.createUserIdentity.body,
      ...(timeoutEarlyInMillis === undefined ? {} : { timeoutEarlyInMillis }),
    },
  )
}

/** The create's outcome for the `Creates` metric: created, replayed, or the error type answered. */
export function createOutcome(result: {
  statusCode: number
  headers?: object
  body: string
}): string {
  if (result.statusCode === 201) {
    return (result.headers as Record<string, unknown> | undefined)?.['X-Replayed'] === 'true'
      ? 'replayed'
      : 'created'
  }
  try {
    const type = (JSON.parse(result.body) as { error?: { type?: unknown } }).error?.type
    return typeof type === 'string' ? type : `http_${result.statusCode}`
  } catch {
    return `http_${result.statusCode}`
  }
}

/** The handler on the given clients (the same shape as every handler module's createHandler). */
export function createHandler(deps: Pick<HandlerDeps, 'seam' | 'coordination'>) {
  return withMetrics(
    createUserIdentityHandler({ seam: deps.seam, coordination: deps.coordination }),
    {
      onResult: (result) => recordCreate(createOutcome(result)),
    },
  )
}

export const handler = createHandler({
  seam: seamClientFromEnvironment,
  coordination: coordinationFromEnvironment,
})
