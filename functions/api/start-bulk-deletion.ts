/** POST /bulk-deletions: start deleting up to 1,000 user identities. 202 + Location. */
import { BulkDeletionRequestSchema, MAX_BULK_BODY_BYTES } from '../contract/bulk.js'
import { bulkBackend, startBulkDeletion } from './bulk-deletions.js'
import { httpRoute, jsonResponse } from './http.js'
import { basePath } from './start-deletion.js'

export const handler = httpRoute(
  async (event) => {
    const bulk = await startBulkDeletion(bulkBackend(), event.body.user_identity_ids)
    const location = `${basePath(event)}/bulk-deletions/${bulk.bulk_deletion_id}`
    return jsonResponse(202, { bulk_deletion: bulk }, { Location: location })
  },
  { body: BulkDeletionRequestSchema, maxBodyBytes: MAX_BULK_BODY_BYTES },
)
