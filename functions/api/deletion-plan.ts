/** GET /user-identities/{user_identity_id}/deletion-plan: what a deletion would remove now. */
import type { HandlerDeps } from '../contract/handler-deps.js'
import { OPERATIONS } from '../contract/http.js'
import { planDeletion } from '../core/deletion-plan.js'
import { seamClientFromEnvironment } from '../seam/index.js'
import { withMetrics } from '../telemetry/metrics.js'
import { lookUpUserIdentity } from './deletions.js'
import { httpRoute, jsonResponse } from './http.js'

// withMetrics: publishes the Seam requests' metrics (functions/telemetry/metrics.ts).
export function createHandler(deps: Pick<HandlerDeps, 'seam'>) {
  return withMetrics(
    httpRoute(
      async (event) => {
        const userIdentityId = event.pathParameters.user_identity_id
        const seam = await deps.seam()
        await lookUpUserIdentity(seam, userIdentityId)
        return jsonResponse(200, { deletion_plan: await planDeletion(seam, userIdentityId) })
      },
      { params: OPERATIONS.getDeletionPlan.params },
    ),
  )
}

export const handler = createHandler({ seam: seamClientFromEnvironment })
