/**
 * The Lambda behind every stage's `Delete <stage>` and `Check <stage>` task. One function is deployed per
 * stage (DELETION_STAGE pins which); the state machine passes the stage, the action, the poll policy and
 * the execution state, and gets the updated state back.
 */
import type { Context } from 'aws-lambda'
import { checkStage, type DeletionState, deleteStage } from '../core/deletion-steps.js'
import type { PollPolicy } from '../core/poll.js'
import { stageByName } from '../core/stages.js'
import { seamClientFromEnvironment } from '../seam/index.js'
import { logger } from '../shared/powertools.js'

export interface StageTaskEvent {
  readonly action: 'delete' | 'check'
  readonly stage: string
  readonly policy: PollPolicy
  readonly state: DeletionState
}

/**
 * Locally (local/runtime.ts) the state machine's waits may run faster than real time; this tells the
 * steps by how much. Unset in AWS.
 */
function timeScale(): number {
  const value = Number(process.env.DELETION_TIME_SCALE ?? '1')
  return Number.isFinite(value) && value > 0 && value <= 1 ? value : 1
}

export async function handler(event: StageTaskEvent, context?: Context): Promise<DeletionState> {
  if (context) logger.addContext(context)
  const stage = stageByName(event.stage)
  const pinned = process.env.DELETION_STAGE
  if (pinned && pinned !== stage.name) {
    throw new Error(`This function deletes ${pinned}; it was invoked for stage ${stage.name}`)
  }
  if (!event.state?.user_identity_id) throw new Error('The execution state has no user_identity_id')
  const seam = await seamClientFromEnvironment()
  const run = event.action === 'delete' ? deleteStage : event.action === 'check' ? checkStage : null
  if (!run) throw new Error(`Unknown action "${String(event.action)}": expected delete or check`)
  const next = await run(seam, stage, event.state, event.policy, { timeScale: timeScale() })
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
