/** DELETE /user-identities/{user_identity_id}: start (or find) the staged deletion. 202 + Location. */
import type { APIGatewayProxyEvent } from 'aws-lambda'
import type { HandlerDeps } from '../contract/handler-deps.js'
import { OPERATIONS } from '../contract/http.js'
import { seamClientFromEnvironment } from '../seam/index.js'
import { withMetrics } from '../telemetry/metrics.js'
import { awsDeletionBackend } from './deletion-executions.js'
import { startDeletion } from './deletions.js'
import { httpRoute, jsonResponse } from './http.js'

// withMetrics: publishes the Seam requests' metrics (functions/telemetry/metrics.ts).
export function createHandler(deps: Pick<HandlerDeps, 'seam' | 'deletions'>) {
  return withMetrics(
    httpRoute(
      async (event) => {
        const deletion = await startDeletion(
          await deps.seam(),
          deps.deletions(),
          event.pathParameters.user_identity_id,
        )
        const location = `${basePath(event)}/deletions/${encodeURIComponent(deletion.deletion_id)}`
        return jsonResponse(202, { deletion }, { Location: location })
      },
      { params: OPERATIONS.deleteUserIdentity.params },
    ),
  )
}

export const handler = createHandler({
  seam: seamClientFromEnvironment,
  deletions: awsDeletionBackend,
})

/**
 * What precedes the route's path in the URL the client called: `/prod` on API Gateway's own endpoint
 * (requestContext.path is `/prod/user-identities/…` while path is `/user-identities/…`), a base path
 * mapping on a custom domain, nothing locally. The Location then works wherever the API is served.
 */
export function basePath(event: Pick<APIGatewayProxyEvent, 'path' | 'requestContext'>): string {
  const full = event.requestContext?.path
  if (typeof full !== 'string' || !full.endsWith(event.path) || full === event.path) return ''
  return full.slice(0, full.length - event.path.length).replace(/\/+$/, '')
}
