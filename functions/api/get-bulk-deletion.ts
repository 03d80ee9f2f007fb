/** GET /bulk-deletions/{bulk_deletion_id}: progress, counts and failures of a bulk deletion. */
import { bulkBackend, getBulkDeletion } from './bulk-deletions.js'
import { httpRoute, jsonResponse } from './http.js'

export const handler = httpRoute(async (event) => {
  const bulk = await getBulkDeletion(bulkBackend(), event.pathParameters?.bulk_deletion_id ?? '')
  return jsonResponse(200, { bulk_deletion: bulk })
})
