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
  type Coordination,
  coordinationFromEnvironment,
  resumeWaitSet,
} from '../core/coordination.js'

export interface AwaitTaskEvent {
  task_token: string
  deletion_id: string
  stage: string
  /**
   * What the stage deleted and Seam has yet to confirm: ids, or the stage's pending items
   * (`{ id, … }`, as the workflow state keeps them).
   */
  pending: (string | { id: string })[]
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
    const pendingIds = event.pending.map((item) => (typeof item === 'string' ? item : item.id))
    const { setId, complete } = await deps.coordination.registerWaiter({
      taskToken: event.task_token,
      deletionId: event.deletion_id,
      stage: event.stage,
      pendingIds,
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
  const isItem = (item: unknown) =>
    typeof item === 'string' ||
    (typeof item === 'object' && item !== null && typeof (item as { id?: unknown }).id === 'string')
  if (!Array.isArray(event.pending) || !event.pending.every(isItem)) {
    return 'pending must be a list of ids or of { id } items'
  }
  return undefined
}

let deployed: ReturnType<typeof createHandler> | undefined
export const handler = (event: AwaitTaskEvent) => {
  deployed ??= createHandler({
    coordination: coordinationFromEnvironment(),
    sfn: new SFNClient({}),
  })
  return deployed(event)
}
