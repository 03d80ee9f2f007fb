/**
 * The await task of an asynchronous stage (`lambda:invoke.waitForTaskToken`): registers the task
 * token for every pending id, then settles at once (SendTaskSuccess, by this invocation) if Seam's
 * events for all of them were received already — Seam can confirm a delete before the workflow
 * gets here. Otherwise it returns and the task waits: the webhook Lambda resumes it when the event
 * of the last pending id arrives, or the task's TimeoutSeconds leads into the polling loop.
 * Its own return value is not the task's result (Step Functions ignores it for callback tasks).
 */
import { SFNClient } from '@aws-sdk/client-sfn'
import {
  COORDINATION_TABLE_ENV,
  Coordination,
  coordinationClient,
  resumeWaitSet,
} from '../core/coordination.js'

export interface AwaitTaskEvent {
  task_token: string
  deletion_id: string
  stage: string
  /** The ids whose deletion the stage started and Seam has yet to confirm. */
  pending: string[]
}

export interface AwaitTaskDeps {
  coordination: Coordination
  sfn: Pick<SFNClient, 'send'>
}

export class InvalidAwaitInputError extends Error {
  override readonly name = 'InvalidAwaitInputError'
  readonly type = 'invalid_await_input'
}

export function createHandler(deps: AwaitTaskDeps) {
  return async (event: AwaitTaskEvent): Promise<{ registered: number; settled: boolean }> => {
    const problem = describeProblem(event)
    if (problem) throw new InvalidAwaitInputError(`The await task input is malformed: ${problem}`)
    const { setId, complete } = await deps.coordination.registerWaiter({
      taskToken: event.task_token,
      deletionId: event.deletion_id,
      stage: event.stage,
      pendingIds: event.pending,
    })
    const settled =
      complete &&
      (await resumeWaitSet(
        deps,
        { setId, taskToken: event.task_token, deletionId: event.deletion_id, stage: event.stage },
        'events_received',
      ))
    return { registered: event.pending.length, settled }
  }
}

function describeProblem(event: AwaitTaskEvent): string | undefined {
  if (typeof event?.task_token !== 'string' || event.task_token === '') return 'task_token missing'
  if (typeof event.deletion_id !== 'string') return 'deletion_id missing'
  if (typeof event.stage !== 'string') return 'stage missing'
  if (!Array.isArray(event.pending) || !event.pending.every((id) => typeof id === 'string')) {
    return 'pending must be a list of ids'
  }
  return undefined
}

let deployed: ReturnType<typeof createHandler> | undefined
export const handler = (event: AwaitTaskEvent) => {
  deployed ??= createHandler({
    coordination: new Coordination({
      client: coordinationClient(),
      tableName: process.env[COORDINATION_TABLE_ENV] ?? '',
    }),
    sfn: new SFNClient({}),
  })
  return deployed(event)
}
