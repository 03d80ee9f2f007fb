/**
 * The Lambda behind every stage's `Delete <stage>` and `Check <stage>` task. One function is deployed per
 * stage (DELETION_STAGE pins which); the state machine passes the stage, the action, the poll policy and
 * the execution state (StageTaskEvent), and gets the updated state back. An input that is not a
 * StageTaskEvent fails with InvalidStageTaskInput, which the state machine does not retry.
 */
import type { Context } from 'aws-lambda'
import type { HandlerDeps } from '../contract/handler-deps.js'
import {
  type DeletionState,
  parseStageTaskEvent,
  type StageName,
  stageNameSchema,
} from '../contract/workflow.js'
import { checkStage, deleteStage } from '../core/deletion-steps.js'
import { stageByName } from '../core/stages.js'
import { seamClientFromEnvironment } from '../seam/index.js'
import { logger } from '../shared/powertools.js'

export interface StageTaskDeps extends Pick<HandlerDeps, 'seam' | 'now' | 'timeScale'> {
  /** The one stage this function deletes; any stage when undefined. */
  readonly stage?: StageName | undefined
}

export function createHandler(deps: StageTaskDeps) {
  return async (input: unknown, context?: Context): Promise<DeletionState> => {
    if (context) logger.addContext(context)
    const event = parseStageTaskEvent(input)
    const stage = stageByName(event.stage)
    if (deps.stage && deps.stage !== stage.name) {
      throw new Error(`This function deletes ${deps.stage}; it was invoked for stage ${stage.name}`)
    }
    const run = event.action === 'delete' ? deleteStage : checkStage
    const next = await run(await deps.seam(), stage, event.state, event.policy, {
      now: deps.now,
      timeScale: deps.timeScale,
    })
    const progress = next.stages?.[stage.name]
    logger.info(`${event.action} ${stage.name}`, {
      user_identity_id: event.state.user_identity_id,
      deleted: progress?.deleted,
      pending: progress?.pending_count,
      checks: progress?.checks,
      next_wait_seconds: progress?.wait_seconds,
      checks_left: progress?.checks_left,
    })
    return next
  }
}

export const handler = createHandler({
  seam: seamClientFromEnvironment,
  now: () => new Date(),
  timeScale: 1,
  stage: stageNameSchema.optional().parse(process.env.DELETION_STAGE || undefined),
})
