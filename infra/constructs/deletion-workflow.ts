import { Duration, RemovalPolicy } from 'aws-cdk-lib'
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs'
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager'
import {
  Choice,
  Condition,
  DefinitionBody,
  Fail,
  type IChainable,
  JitterType,
  JsonPath,
  LogLevel,
  Pass,
  QueryLanguage,
  StateMachine,
  StateMachineType,
  TaskInput,
  type TaskStateBase,
  Timeout,
  Wait,
  WaitTime,
} from 'aws-cdk-lib/aws-stepfunctions'
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks'
import { Construct } from 'constructs'
import {
  DEFAULT_POLL_POLICY,
  executionTimeoutSeconds,
  type PollPolicy,
  TASK_RETRIES,
  validatePollPolicy,
} from '../../functions/core/poll.js'
import {
  DELETED_STATE_NAME,
  DELETION_STAGES,
  STAGES,
  type StageDefinition,
  stateNames,
} from '../../functions/core/stages.js'
import { SEAM_ERROR_NAMES, SEAM_TRANSIENT_ERROR_NAMES } from '../../functions/seam/errors.js'
import { acknowledgeStateMachineLogging, acknowledgeWildcardResources } from './nag.js'
import { HouseFunction } from './seam-function.js'

export interface DeletionWorkflowProps {
  /** The Seam API key secret; only the stage functions are granted read on it. */
  readonly seamSecret: ISecret
  /** How each asynchronous stage waits for Seam's confirmations. Defaults: DEFAULT_POLL_POLICY. */
  readonly pollPolicy?: Partial<PollPolicy>
  readonly logRetention?: RetentionDays
  /** Reserved concurrency of each stage function: the bound on concurrent Seam work per stage. */
  readonly seamConcurrency?: number
}

/** Errors a task retries with backoff: Lambda's own transient failures, and Seam's. */
const LAMBDA_TRANSIENT = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'Lambda.ClientExecutionTimeoutException',
]
const SEAM_TRANSIENT: string[] = [...SEAM_TRANSIENT_ERROR_NAMES]
/** Errors no retry can fix: fail at once with the Seam message, for an operator to act on. */
const PERMANENT = SEAM_ERROR_NAMES.filter((name) => !SEAM_TRANSIENT.includes(name))

const SRC = 'functions/deletion'

/**
 * The staged deletion of one Seam user identity, built from the stage table (functions/core/stages.ts):
 * per stage `Delete <stage>` → `<Stage> done?` → (`Wait for <stage>` → `Check <stage>` → back); the
 * last stage, the identity itself, goes from `Delete user identity` straight to its first wait; then
 * `Deleted` outputs the summary. Standard workflow, JSONPath (the local runner runs JSONPath only).
 */
export class DeletionWorkflow extends Construct {
  readonly stateMachine: StateMachine
  readonly pollPolicy: PollPolicy
  /** Every Lambda the workflow invokes, with the handler module it runs (for the local runtime). */
  readonly functions: HouseFunction[] = []
  private readonly seamSecret: ISecret
  private readonly seamConcurrency: number | undefined

  constructor(scope: Construct, id: string, props: DeletionWorkflowProps) {
    super(scope, id)
    this.seamSecret = props.seamSecret
    this.seamConcurrency = props.seamConcurrency
    const policy = validatePollPolicy({ ...DEFAULT_POLL_POLICY, ...props.pollPolicy })
    this.pollPolicy = policy

    // The output on SUCCEEDED: what each stage deleted, under its summary key (read from the table).
    const deleted = new Pass(this, DELETED_STATE_NAME, {
      parameters: {
        user_identity_id: JsonPath.stringAt('$.user_identity_id'),
        summary: Object.fromEntries(
          STAGES.map((stage) => [
            stage.summaryKey,
            JsonPath.numberAt(`$.stages.${stage.name}.deleted`),
          ]),
        ),
      },
    })

    // Built back to front: each stage's "done" branch leads to the stage after it.
    let next: IChainable = deleted
    for (const stage of [...DELETION_STAGES].reverse()) next = this.stageStates(stage, next, policy)

    const logGroup = new LogGroup(this, 'ExecutionLogs', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.RETAIN,
    })
    this.stateMachine = new StateMachine(this, 'StateMachine', {
      stateMachineType: StateMachineType.STANDARD,
      queryLanguage: QueryLanguage.JSON_PATH,
      comment: 'Deletes a Seam user identity in stages, waiting for Seam to confirm each stage',
      definitionBody: DefinitionBody.fromChainable(next),
      // Every stage may use its whole wait budget, plus time for the deletes and retries themselves.
      timeout: Duration.seconds(executionTimeoutSeconds(policy)),
      tracingEnabled: true,
      logs: { destination: logGroup, level: LogLevel.ALL, includeExecutionData: true },
    })
    acknowledgeWildcardResources(
      this.stateMachine.role,
      ['lambda:InvokeFunction'],
      "Invokes this workflow's own stage functions only: CDK's LambdaInvoke grants each function ARN and its qualified form (<arn>:*, versions and aliases).",
    )
    acknowledgeStateMachineLogging(this.stateMachine.role)
  }

  private stageStates(stage: StageDefinition, next: IChainable, policy: PollPolicy): IChainable {
    const names = stateNames(stage)
    const fn = this.addFunction(`${pascal(stage.name)}Function`, {
      entry: `${SRC}/stage-task.ts`,
      description: `Deletion stage ${stage.name}: deletes the ${stage.title} and checks Seam finished`,
      environment: { DELETION_STAGE: stage.name },
    })
    const payload = (action: 'delete' | 'check') => ({
      action,
      stage: stage.name,
      policy: { ...policy },
      'state.$': '$',
    })
    const failure = this.failure(stage.name, names)
    const deleteTask = this.task(names.delete, fn, payload('delete'))
    this.catchInto(deleteTask, failure)
    // Every stage loops, synchronous ones included: a check also retries the deletes Seam refused with
    // 429/5xx, and for a synchronous stage with none the Choice goes straight on.
    const progress = `$.stages.${stage.name}`
    const check = this.task(names.check, fn, payload('check'))
    this.catchInto(check, failure)
    const done = new Choice(this, names.done)
    const wait = new Wait(this, names.wait, {
      time: WaitTime.secondsPath(`${progress}.wait_seconds`),
    })
    const stuck = new Fail(this, names.stuck, {
      error: 'StageStuck',
      causePath: `${progress}.stuck`,
    })
    deleteTask.next(stage.waitsAfterDelete ? wait : done)
    done
      .when(Condition.numberEquals(`${progress}.pending_count`, 0), next)
      .when(Condition.booleanEquals(`${progress}.checks_left`, true), wait.next(check.next(done)))
      .otherwise(stuck)
    return deleteTask
  }

  private addFunction(
    id: string,
    props: { entry: string; description: string; environment: Record<string, string> },
  ): HouseFunction {
    const fn = new HouseFunction(this, id, {
      ...props,
      timeout: Duration.minutes(5),
      seamSecret: this.seamSecret,
      ...(this.seamConcurrency === undefined ? {} : { reservedConcurrency: this.seamConcurrency }),
    })
    this.functions.push(fn)
    return fn
  }

  private task(name: string, fn: HouseFunction, payload: Record<string, unknown>): TaskStateBase {
    const task = new LambdaInvoke(this, name, {
      lambdaFunction: fn.function,
      payload: TaskInput.fromObject(payload),
      outputPath: '$.Payload',
      retryOnServiceExceptions: false,
      taskTimeout: Timeout.duration(Duration.minutes(6)),
    })
    const backoff = {
      backoffRate: 2,
      jitterStrategy: JitterType.FULL,
      maxDelay: Duration.minutes(1),
    }
    task.addRetry({ errors: PERMANENT, maxAttempts: 0 })
    // How many times: TASK_RETRIES, which the poll policy validation counts against the history limit.
    // Lambda throttling is how seamConcurrency queues work (reserved concurrency): wait long enough, with
    // full jitter, for the stage functions to free up; 6 attempts span up to ~6 min (mean ~3).
    task.addRetry({
      errors: LAMBDA_TRANSIENT,
      interval: Duration.seconds(6),
      maxAttempts: TASK_RETRIES.lambdaTransient,
      ...backoff,
      maxDelay: Duration.minutes(3),
    })
    task.addRetry({
      errors: SEAM_TRANSIENT,
      interval: Duration.seconds(5),
      maxAttempts: TASK_RETRIES.seamTransient,
      ...backoff,
    })
    // Anything else (a crash, a timeout) is retried a little: every task is safe to run again.
    task.addRetry({
      errors: ['States.ALL'],
      interval: Duration.seconds(2),
      maxAttempts: TASK_RETRIES.other,
      ...backoff,
    })
    return task
  }

  /** A Pass that words a stage's failure for an operator → a Fail with that Cause. */
  private failure(stageName: string, names: { explainFailure: string; failed: string }): Pass {
    const explain = new Pass(this, names.explainFailure, {
      parameters: {
        // Keys without ".$": CDK marks JsonPath tokens itself (a "cause.$" key would become "cause.$.$").
        error: JsonPath.stringAt('$.error.Error'),
        cause: JsonPath.format(
          `Stage ${stageName} failed for user identity {} with {}: {}. Fix the cause (see the log of the task), then DELETE the user identity again: finished stages are quick no-ops.`,
          JsonPath.stringAt('$.user_identity_id'),
          JsonPath.stringAt('$.error.Error'),
          JsonPath.stringAt('$.error.Cause'),
        ),
      },
    })
    explain.next(new Fail(this, names.failed, { errorPath: '$.error', causePath: '$.cause' }))
    return explain
  }

  private catchInto(task: TaskStateBase, failure: Pass): void {
    task.addCatch(failure, { errors: ['States.ALL'], resultPath: '$.error' })
  }
}

function pascal(snake: string): string {
  return snake.replace(/(^|_)([a-z])/g, (_m, _sep, c: string) => c.toUpperCase())
}
