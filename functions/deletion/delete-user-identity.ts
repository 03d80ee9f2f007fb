/** The Lambda behind the last task: delete the user identity itself and report what was deleted. */
import type { Context } from 'aws-lambda'
import { type DeletionState, deleteUserIdentity } from '../core/deletion-steps.js'
import { seamClientFromEnvironment } from '../seam/index.js'
import { logger } from '../shared/powertools.js'

export async function handler(event: { readonly state: DeletionState }, context?: Context) {
  if (context) logger.addContext(context)
  if (!event.state?.user_identity_id) throw new Error('The execution state has no user_identity_id')
  const seam = await seamClientFromEnvironment()
  const result = await deleteUserIdentity(seam, event.state)
  logger.info('user identity deleted', { ...result })
  return result
}
