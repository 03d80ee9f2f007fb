/** GET /bulk-deletions/{bulk_deletion_id}: progress, counts and failures of a bulk deletion. */
import type { HandlerDeps } from '../contract/handler-deps.js'
import { OPERATIONS } from '../contract/http.js'
import { awsBulkBackend, getBulkDeletion } from './bulk-deletions.js'
import { httpRoute, jsonResponse } from './http.js'

export function createHandler(deps: Pick<HandlerDeps, 'bulk'>) {
  return httpRoute(
    async (event) => {
      const bulk = await getBulkDeletion(deps.bulk(), event.pathParameters.bulk_deletion_id)
      return jsonResponse(200, { bulk_deletion: bulk })
    },
    { params: OPERATIONS.getBulkDeletion.params },
  )
}

export const handler = createHandler({ bulk: awsBulkBackend })
