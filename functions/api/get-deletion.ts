/** GET /deletions/{deletion_id}: the deletion's status, stage, summary or error. */
import type { HandlerDeps } from '../contract/handler-deps.js'
import { OPERATIONS } from '../contract/http.js'
import { awsDeletionBackend } from './deletion-executions.js'
import { getDeletion } from './deletions.js'
import { httpRoute, jsonResponse } from './http.js'

export function createHandler(deps: Pick<HandlerDeps, 'deletions'>) {
  return httpRoute(
    async (event) => {
      const deletion = await getDeletion(deps.deletions(), event.pathParameters.deletion_id)
      return jsonResponse(200, { deletion })
    },
    { params: OPERATIONS.getDeletion.params },
  )
}

export const handler = createHandler({ deletions: awsDeletionBackend })
