/** POST /bulk-deletions: start deleting up to 1,000 user identities. 202 + Location. */
import type { HandlerDeps } from '../contract/handler-deps.js'
import { OPERATIONS } from '../contract/http.js'
import { awsBulkBackend, startBulkDeletion } from './bulk-deletions.js'
import { httpRoute, jsonResponse } from './http.js'
import { basePath } from './start-deletion.js'

export function createHandler(deps: Pick<HandlerDeps, 'bulk'>) {
  return httpRoute(
    async (event) => {
      const bulk = await startBulkDeletion(deps.bulk(), event.body.user_identity_ids)
      const location = `${basePath(event)}/bulk-deletions/${bulk.bulk_deletion_id}`
      return jsonResponse(202, { bulk_deletion: bulk }, { Location: location })
    },
    {
      body: OPERATIONS.startBulkDeletion.body,
      maxBodyBytes: OPERATIONS.startBulkDeletion.maxBodyBytes,
    },
  )
}

export const handler = createHandler({ bulk: awsBulkBackend })
