/**
 * What a deletion would remove now: each stage's own list function (every page), in stage order, and
 * the counts under the Deletion summary's keys. Reads only; one stage after another, as a deletion asks.
 */
import { DeletionPlan } from '../contract/http.js'
import type { SeamClient } from '../seam/index.js'
import { STAGES } from './stages.js'

export async function planDeletion(
  seam: SeamClient,
  userIdentityId: string,
): Promise<DeletionPlan> {
  const stages: Record<string, { id: string; acs_system_id?: string }[]> = {}
  const counts: Record<string, number> = {}
  for (const stage of STAGES) {
    const items = await stage.list(seam, userIdentityId)
    stages[stage.name] = items.map((item) =>
      item.acs_system_id === undefined
        ? { id: item.id }
        : { id: item.id, acs_system_id: item.acs_system_id },
    )
    counts[stage.summaryKey] = items.length
  }
  // Checked against the contract: every stage and every summary key present, nothing else.
  return DeletionPlan.parse({ user_identity_id: userIdentityId, stages, counts })
}
