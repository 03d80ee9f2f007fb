import { Duration } from 'aws-cdk-lib'
import type { IFunction } from 'aws-cdk-lib/aws-lambda'
import {
  Choice,
  Condition,
  type IChainable,
  IntegrationPattern,
  JsonPath,
  TaskInput,
  Timeout,
} from 'aws-cdk-lib/aws-stepfunctions'
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks'
import type { Construct } from 'constructs'

export interface AwaitStageProps {
  /** The stage's name, as the coordination table records it (e.g. `acs_credentials`). */
  readonly stage: string
  /** The await-task function (SeamWebhooks.awaitFunction). */
  readonly awaitFunction: IFunction
  /** Where the stage's progress lives in the state, e.g. `$.stages.acs_credentials`. */
  readonly progressPath: string
  /** Names of the two states this adds. */
  readonly names: { await: string; confirmed: string }
  /** Where a resumed stage goes when nothing else is left to do: the next stage. */
  readonly next: IChainable
  /** Where it goes otherwise (timeout, a failed await, deletes still to retry): the stage's Check. */
  readonly check: IChainable
}

/**
 * `Await <stage>`: the callback task that takes the place of `Wait <stage>` for a stage Seam confirms
 * with events. It waits `await_seconds` of the stage's progress: what the Wait would have
 * (`wait_seconds`), or, while deliveries are trusted to arrive, longer (poll.ts awaitSeconds), since
 * the Await is then a safety net; never past the stage's time. Resumed (the events
 * of all pending ids are in), it goes on to the next stage without a Check, unless deletes Seam refused
 * are still to be retried.
 * Anything else — its timeout, a failure of the await task itself — leads into the Check: the poll
 * loop stays the authority. Returns the Await state; the stage's Choice sends its loop to it.
 */
export function awaitStage(scope: Construct, props: AwaitStageProps): LambdaInvoke {
  const progress = props.progressPath
  const task = new LambdaInvoke(scope, props.names.await, {
    lambdaFunction: props.awaitFunction,
    integrationPattern: IntegrationPattern.WAIT_FOR_TASK_TOKEN,
    payload: TaskInput.fromObject({
      task_token: JsonPath.taskToken,
      deletion_id: JsonPath.executionName,
      stage: props.stage,
      pending: JsonPath.listAt(`${progress}.pending`),
    }),
    taskTimeout: Timeout.at(`${progress}.await_seconds`),
    resultPath: JsonPath.DISCARD,
    retryOnServiceExceptions: false,
  })
  task.addRetry({
    errors: ['Lambda.TooManyRequestsException', 'Lambda.ServiceException'],
    interval: Duration.seconds(1),
    maxAttempts: 2,
  })
  task.addCatch(props.check, { errors: ['States.ALL'], resultPath: JsonPath.DISCARD })
  task.next(
    // Events confirm only the pending items: deletes Seam refused (to_delete) and a list it refused
    // (unlisted, written only when true) still need the stage's Check.
    new Choice(scope, props.names.confirmed)
      .when(
        Condition.or(
          Condition.isPresent(`${progress}.to_delete[0]`),
          Condition.isPresent(`${progress}.unlisted`),
        ),
        props.check,
      )
      .otherwise(props.next),
  )
  return task
}
