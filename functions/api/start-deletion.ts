/** DELETE /user-identities/{user_identity_id}: start (or find) the staged deletion. 202 + Location. */
import { seamClientFromEnvironment } from '../seam/index.js'
import { deletionBackend } from './deletion-executions.js'
import { startDeletion } from './deletions.js'
import { httpRoute, jsonResponse } from './http.js'

export const handler = httpRoute(async (event) => {
  const userIdentityId = event.pathParameters?.user_identity_id ?? ''
  const deletion = await startDeletion(
    await seamClientFromEnvironment(),
    deletionBackend(),
    userIdentityId,
  )
  return jsonResponse(
    202,
    { deletion },
    { Location: `/deletions/${encodeURIComponent(deletion.deletion_id)}` },
  )
})
