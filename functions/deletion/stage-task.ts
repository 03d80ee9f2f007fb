/**
 * The Lambda behind every stage's `Delete <stage>` and `Check <stage>` task. One function is deployed per
 * stage (DELETION_STAGE pins which); the state machine passes the stage, the action, the poll policy and
 * the execution state, and gets the updated state back.
 */
import type { Context } from 'aws-lambda'
import { checkStage, type DeletionState, deleteStage } from '../core/deletion-steps.js'
import type { PollPolicy } from '../core/poll.js'
import { DELETION_STAGES, stageByName } from '../core/stages.js'
import {
  isSeamError,
  SEAM_TRANSIENT_ERROR_NAMES,
  seamClientFromEnvironment,
} from '../seam/index.js'
import { recordDeletion, recordStageFinished, withMetrics } from '../shared/metrics.js'
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

async function runStageTask(event: StageTaskEvent, context?: Context): Promise<DeletionState> {
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
  if (progress?.stuck) recordDeletion('stuck')
  else if (progress?.pending_count === 0) {
    const seconds = (Date.now() - Date.parse(progress.started_at)) / 1000
    recordStageFinished(stage.name, seconds, progress.checks)
    if (stage.name === DELETION_STAGES.at(-1)?.name) recordDeletion('succeeded')
  }
  return next
}

/**
 * The task, its metrics published as it returns or throws. A permanent Seam error fails the deletion at
 * once (the state machine retries only the transient ones), so it counts as a failed deletion here.
 */
export const handler = withMetrics(runStageTask, {
  onError: (error) => {
    const transient: readonly string[] = SEAM_TRANSIENT_ERROR_NAMES
    if (isSeamError(error) && !transient.includes(error.name)) recordDeletion('failed')
  },
})
