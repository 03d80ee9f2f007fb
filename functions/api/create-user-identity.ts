/**
 * POST /user-identities — Lambda handler (API Gateway REST proxy). Thin: the shared middy stack
 * (http.ts) checks and parses the body, createUserIdentity (create-user-identity-core.ts) does the work.
 *
 *   201 {"user_identity": <Seam user_identity>}   400 invalid_input   404 acs_user_not_found
 *   409 user_identity_conflict   413   415   502 seam_error / seam_misconfigured   503 seam_unavailable
 */
import type { SeamClient } from '../seam/index.js'
import { seamClientFromEnvironment } from '../seam/index.js'
import { logger } from '../shared/powertools.js'
import {
  type CreateOptions,
  createUserIdentity,
  createUserIdentityBody,
} from './create-user-identity-core.js'
import { type ApiHandler, httpRoute, jsonResponse, requestIdOf } from './http.js'

export { createUserIdentityBody, LIMITS } from './create-user-identity-core.js'

export interface CreateHandlerOptions extends CreateOptions {
  /** Where the Seam client comes from; default the process-wide one, built once per cold start. */
  seam?: () => Promise<SeamClient>
  /** middy's timeoutEarlyInMillis (tests: 0). */
  timeoutEarlyInMillis?: number
}

export function createUserIdentityHandler(options: CreateHandlerOptions = {}): ApiHandler {
  const { seam = seamClientFromEnvironment, timeoutEarlyInMillis, ...createOptions } = options
  return httpRoute(
    async (event, context) => {
      const requestId = requestIdOf(event, context)
      const log = logger.createChild({ persistentKeys: { request_id: requestId } })
      const client = await seam()
      const { userIdentity, created } = await createUserIdentity(
        client,
        event.body,
        log,
        createOptions,
      )
      // 201 either way: a retry after a lost response gets the answer the first attempt would have had.
      return jsonResponse(
        201,
        { user_identity: userIdentity },
        created ? {} : { 'X-Replayed': 'true' },
      )
    },
    {
      body: createUserIdentityBody,
      ...(timeoutEarlyInMillis === undefined ? {} : { timeoutEarlyInMillis }),
    },
  )
}

export const handler = createUserIdentityHandler()
