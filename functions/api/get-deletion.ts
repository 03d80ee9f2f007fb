/** GET /deletions/{deletion_id}: the deletion's status, stage, summary or error. */
import { OPERATIONS } from '../contract/http.js'
import { deletionBackend } from './deletion-executions.js'
import { getDeletion } from './deletions.js'
import { httpRoute, jsonResponse } from './http.js'

export const handler = httpRoute(
  async (event) => {
    const deletion = await getDeletion(deletionBackend(), event.pathParameters.deletion_id)
    return jsonResponse(200, { deletion })
  },
  { params: OPERATIONS.getDeletion.params },
)
