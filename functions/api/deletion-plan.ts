/** GET /user-identities/{user_identity_id}/deletion-plan: what a deletion would remove now. */
import { planDeletion } from '../core/deletion-plan.js'
import { seamClientFromEnvironment } from '../seam/index.js'
import { lookUpUserIdentity } from './deletions.js'
import { httpRoute, jsonResponse } from './http.js'

export const handler = httpRoute(async (event) => {
  const userIdentityId = event.pathParameters?.user_identity_id ?? ''
  const seam = await seamClientFromEnvironment()
  await lookUpUserIdentity(seam, userIdentityId)
  return jsonResponse(200, { deletion_plan: await planDeletion(seam, userIdentityId) })
})
