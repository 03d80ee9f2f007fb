/**
 * GET /user-identities/{user_identity_id}/deletion-plan: what a deletion would remove now, stage by stage,
 * read with the stage table's own list functions (every page). Plain zod (z.object / z.array / z.string /
 * z.number), the same under zod 3.25 and 4.
 */
import { z } from 'zod'
import { STAGES } from '../core/stages.js'

const item = z.object({ id: z.string(), acs_system_id: z.string().optional() })

export const DeletionPlanSchema = z.object({
  user_identity_id: z.string(),
  stages: z.object(Object.fromEntries(STAGES.map((stage) => [stage.name, z.array(item)]))),
  counts: z.object(Object.fromEntries(STAGES.map((stage) => [stage.summaryKey, z.number()]))),
})

export type DeletionPlan = {
  user_identity_id: string
  stages: Record<string, { id: string; acs_system_id?: string }[]>
  counts: Record<string, number>
}

export const DeletionPlanResponseSchema = z.object({ deletion_plan: DeletionPlanSchema })

/** For the route table: what the route does, and its error types. */
export const DELETION_PLAN_ROUTE = {
  method: 'GET',
  path: '/user-identities/{user_identity_id}/deletion-plan',
  summary: 'What a deletion of the user identity would remove now (changes nothing)',
  response: DeletionPlanResponseSchema,
  errors: { 400: ['invalid_input'], 404: ['user_identity_not_found'] },
} as const
