/**
 * What a deletion would remove now: each stage's own list function (every page), in stage order, and
 * the counts under the Deletion summary's keys. Reads only; one stage after another, as a deletion asks.
 */
import type { DeletionPlan } from '../contract/deletion-plan.js'
import type { SeamClient } from '../seam/index.js'
import { STAGES } from './stages.js'

export async function planDeletion(
  seam: SeamClient,
  userIdentityId: string,
): Promise<DeletionPlan> {
  const plan: DeletionPlan = { user_identity_id: userIdentityId, stages: {}, counts: {} }
  for (const stage of STAGES) {
    const items = await stage.list(seam, userIdentityId)
    plan.stages[stage.name] = items.map((item) =>
      item.acs_system_id === undefined
        ? { id: item.id }
        : { id: item.id, acs_system_id: item.acs_system_id },
    )
    plan.counts[stage.summaryKey] = items.length
  }
  return plan
}
