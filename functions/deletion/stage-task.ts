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
  STAGE_OUT_OF_TIME,
  type StageName,
  type StageProgress,
  stageNameSchema,
} from '../contract/workflow.js'
import { coordinationFromEnvironment } from '../core/coordination.js'
import {
  checkStage,
  type DeliveryLog,
  deleteStage,
  previousProgress,
} from '../core/deletion-steps.js'
import { LONGEST_SEAM_CALL_MS, stageTimeBound } from '../core/poll.js'
import {
  DELETION_STAGES,
  previousStage,
  type StageDefinition,
  stageByName,
} from '../core/stages.js'
import {
  isTransient,
  type SeamError,
  seamClientFromEnvironment,
  withSeamDeadline,
} from '../seam/index.js'
import { recordDeletion, recordStageFinished, withMetrics } from '../telemetry/metrics.js'
import { logger } from '../telemetry/powertools.js'

export interface StageTaskDeps extends Pick<HandlerDeps, 'seam' | 'now' | 'timeScale'> {
  /** The coordination table, where Seam's webhook deliveries are recorded (StageTaskEvent.webhooks). */
  readonly coordination?: HandlerDeps['coordination']
  /** The one stage this function deletes; any stage when undefined. */
  readonly stage?: StageName | undefined
}

/**
 * The task, its metrics published as it returns or throws. A permanent failure fails the deletion at
 * once (the state machine retries only the transient ones), so it counts as a failed deletion here.
 */
export function createHandler(deps: StageTaskDeps) {
  return withMetrics(runStageTask(deps), {
    onError: (error) => {
      if (!isTransient(error)) recordDeletion('failed')
    },
  })
}

function runStageTask(deps: StageTaskDeps) {
  return async (input: unknown, context?: Context): Promise<DeletionState> => {
    if (context) logger.addContext(context)
    const event = parseStageTaskEvent(input)
    const stage = stageByName(event.stage)
    if (deps.stage && deps.stage !== stage.name) {
      throw new Error(`This function deletes ${deps.stage}; it was invoked for stage ${stage.name}`)
    }
    const run = event.action === 'delete' ? deleteStage : checkStage
    const seam = await deps.seam()
    // The task state may call Seam until its deadline (stageTimeBound), counted from when it was
    // entered, so its retries too; a transient failure past it is final.
    const scale = deps.timeScale > 0 ? deps.timeScale : 1
    const longestCall = (seam.longestCallMs ?? LONGEST_SEAM_CALL_MS) / 1000 / scale
    const bound = stageTimeBound(event.policy, longestCall)
    const deadline = Date.parse(event.task_entered_at) + bound.taskSeconds * 1000 * scale
    const next = await withSeamDeadline(deadline, () =>
      run(seam, stage, event.state, event.policy, {
        now: deps.now,
        timeScale: deps.timeScale,
        ...(event.look_after_delete ? { lookAfterDelete: true } : {}),
        // Where Seam's webhooks resume the stages, the events they delivered (the coordination table).
        ...(event.webhooks ? deliveryLog(deps) : {}),
      }),
    ).catch((error: unknown) => {
      if (isTransient(error) && deps.now().getTime() >= deadline) {
        throw outOfTime(stage.name, bound.taskSeconds, error as SeamError)
      }
      throw error
    })
    const progress = next.stages?.[stage.name]
    if (event.action === 'delete') recordResumedStage(stage, event.state, progress, scale)
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
      // In the state machine's seconds, as the stage's budget is.
      const seconds = (deps.now().getTime() - Date.parse(progress.started_at)) / 1000 / scale
      recordStageFinished(stage.name, seconds, progress.checks)
      if (stage.name === DELETION_STAGES.at(-1)?.name) recordDeletion('succeeded')
    }
    return next
  }
}

/**
 * The delivery log, when this function has one. Without it the stage still polls Seam, which is the
 * authority; the missing table is logged as the misconfiguration it is.
 */
function deliveryLog(deps: StageTaskDeps): { deliveries?: DeliveryLog } {
  try {
    if (!deps.coordination) throw new Error('the function was given no coordination table')
    return { deliveries: deps.coordination() }
  } catch (error) {
    logger.error('Seam webhooks are on but the delivery log is unavailable: the stage polls Seam', {
      error: error instanceof Error ? error.message : String(error),
    })
    return {}
  }
}

/**
 * The stage before, if Seam's webhooks resumed it: it went on with no task of its own to see it end,
 * so its duration (until this stage began) and checks are published here.
 */
function recordResumedStage(
  stage: StageDefinition,
  state: DeletionState,
  progress: StageProgress | undefined,
  scale: number,
): void {
  const name = previousStage(stage)?.name
  const previous = previousProgress(state, stage)
  if (!name || !previous || previous.pending.length === 0 || !progress) return
  const seconds = (Date.parse(progress.started_at) - Date.parse(previous.started_at)) / 1000 / scale
  recordStageFinished(name, seconds, previous.checks)
}

/** Seam kept failing transiently for the whole time the task state may call it: a final error. */
function outOfTime(stage: StageName, taskSeconds: number, error: SeamError): Error {
  const out = new Error(
    `Stage ${stage}: Seam kept failing for the ${Math.round(taskSeconds)} s a task may call it; the last ` +
      `call: ${error.message.replace(/\.+$/, '')}. The stage ends here rather than retry past its time: check Seam's status, ` +
      'then DELETE the user identity again.',
  )
  out.name = STAGE_OUT_OF_TIME
  return out
}

export const handler = createHandler({
  seam: seamClientFromEnvironment,
  coordination: coordinationFromEnvironment,
  now: () => new Date(),
  timeScale: 1,
  stage: stageNameSchema.optional().parse(process.env.DELETION_STAGE || undefined),
})
