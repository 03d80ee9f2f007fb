import { Duration, RemovalPolicy } from 'aws-cdk-lib'
import type { IFunction } from 'aws-cdk-lib/aws-lambda'
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
  caughtPath,
  DELETED_STATE_NAME,
  type DeletedOutput,
  INVALID_STAGE_TASK_INPUT,
  STAGE_OUT_OF_TIME,
  type StageProgress,
  type StageTaskEvent,
  type StateKind,
  stateName,
  statePath,
} from '../../functions/contract/workflow.js'
import { KEY_PATTERNS } from '../../functions/core/coordination.js'
import {
  DEFAULT_POLL_POLICY,
  executionTimeoutSeconds,
  type PollPolicy,
  STAGE_TASK_TIMEOUT_SECONDS,
  TASK_RETRIES,
  TASK_RETRY_BACKOFF,
  THROTTLE_RETRY_BACKOFF,
  throttleRetries,
  validatePollPolicy,
} from '../../functions/core/poll.js'
import { DELETION_STAGES, STAGES, type StageDefinition } from '../../functions/core/stages.js'
import { SEAM_ERROR_NAMES, SEAM_TRANSIENT_ERROR_NAMES } from '../../functions/seam/errors.js'
import type { FunctionCapacity } from '../capacity.js'
import { awaitStage } from './await-stage.js'
import type { CoordinationTable } from './coordination-table.js'
import { acknowledgeStateMachineLogging, acknowledgeWildcardResources } from './nag.js'
import { ServiceFunction } from './service-function.js'

export interface DeletionWorkflowProps {
  /** The Seam API key secret; only the stage functions are granted read on it. */
  readonly seamSecret: ISecret
  /** How each asynchronous stage waits for Seam's confirmations. Defaults: DEFAULT_POLL_POLICY. */
  readonly pollPolicy?: Partial<PollPolicy>
  readonly logRetention?: RetentionDays
  /** The state machine's name (readable in the console); default: one CloudFormation generates. */
  readonly stateMachineName?: string
  /** Reserved concurrency of each stage function: the bound on concurrent Seam work per stage. */
  readonly seamConcurrency?: number
  /**
   * The await task (SeamWebhooks.awaitFunction): with it, each wait of a stage Seam confirms with
   * events is an `Await <stage>` that Seam's webhooks resume, and the identity is looked up once
   * right after its delete. Without it, every stage polls.
   */
  readonly awaitFunction?: IFunction
  /**
   * With awaitFunction: the table where the webhook Lambda records Seam's deliveries. The stage
   * functions read it (BatchGetItem): a delivered event confirms its item without a Seam call, and an
   * Await is a safety net longer than the poll's wait while deliveries are trusted to arrive. They
   * write only the deployment's delivery health item (UpdateItem, limited to its key by
   * dynamodb:LeadingKeys): when deliveries came, when one was lost.
   */
  readonly coordination?: CoordinationTable
  /**
   * With a Seam budget (infra/capacity.ts): every stage runs in ONE function of this capacity, so that its
   * reserved concurrency bounds every stage's Seam work together (seamConcurrency is then unused).
   */
  readonly seamCapacity?: FunctionCapacity
}

/** Errors a task retries with backoff: Lambda's own transient failures, and Seam's. */
const LAMBDA_TRANSIENT = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.ClientExecutionTimeoutException',
]
/** Lambda throttling past the reserved concurrency: the queue of seamConcurrency, retried longest. */
const LAMBDA_THROTTLED = ['Lambda.TooManyRequestsException']
const SEAM_TRANSIENT: string[] = [...SEAM_TRANSIENT_ERROR_NAMES]
/** Errors no retry can fix: fail at once with the message, for an operator to act on. */
const PERMANENT = [
  ...SEAM_ERROR_NAMES.filter((name) => !SEAM_TRANSIENT.includes(name)),
  INVALID_STAGE_TASK_INPUT,
  STAGE_OUT_OF_TIME,
]

const SRC = 'functions/deletion'

/**
 * The staged deletion of one Seam user identity, built from the stage table (functions/core/stages.ts):
 * per stage `Delete <stage>` → `<Stage> done?` → (`Wait for <stage>` → `Check <stage>` → back); the
 * last stage, the identity itself, goes from `Delete user identity` straight to its first wait; then
 * `Deleted` outputs the summary. Standard workflow, JSONPath (the local runner runs JSONPath only).
 * With an await function (Seam's webhooks), a stage Seam confirms with events waits in
 * `Await <stage>` instead (resumed → `<Stage> confirmed?` → the next stage; timed out → its Check),
 * and `Delete user identity` looks the identity up once, going to `User identity done?`.
 */
export class DeletionWorkflow extends Construct {
  readonly stateMachine: StateMachine
  readonly pollPolicy: PollPolicy
  /** Every Lambda the workflow invokes, with the handler module it runs (for the local runtime). */
  readonly functions: ServiceFunction[] = []
  private readonly seamSecret: ISecret
  private readonly seamConcurrency: number | undefined
  private readonly awaitFunction: IFunction | undefined
  private readonly coordination: CoordinationTable | undefined
  private readonly seamCapacity: FunctionCapacity | undefined
  /** The one function of every stage, under a Seam budget. */
  private sharedStageFunction: ServiceFunction | undefined

  constructor(scope: Construct, id: string, props: DeletionWorkflowProps) {
    super(scope, id)
    this.seamSecret = props.seamSecret
    this.seamConcurrency = props.seamConcurrency
    this.seamCapacity = props.seamCapacity
    this.awaitFunction = props.awaitFunction
    if (props.awaitFunction && !props.coordination) {
      throw new Error(
        'DeletionWorkflow: awaitFunction needs coordination, the table its stages read deliveries from',
      )
    }
    this.coordination = props.awaitFunction ? props.coordination : undefined
    const policy = validatePollPolicy({ ...DEFAULT_POLL_POLICY, ...props.pollPolicy }, undefined, {
      awaits: props.awaitFunction !== undefined,
    })
    this.pollPolicy = policy

    // The output on SUCCEEDED: what each stage deleted, under its summary key (read from the table).
    const output: Record<keyof DeletedOutput, unknown> = {
      user_identity_id: JsonPath.stringAt(statePath('user_identity_id')),
      summary: Object.fromEntries(
        STAGES.map((stage) => [
          stage.summaryKey,
          JsonPath.numberAt(statePath('stages', stage.name, 'deleted')),
        ]),
      ),
    }
    const deleted = new Pass(this, DELETED_STATE_NAME, { parameters: output })

    // Built back to front: each stage's "done" branch leads to the stage after it.
    let next: IChainable = deleted
    for (const stage of [...DELETION_STAGES].reverse()) next = this.stageStates(stage, next, policy)

    const logGroup = new LogGroup(this, 'ExecutionLogs', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.RETAIN,
    })
    this.stateMachine = new StateMachine(this, 'StateMachine', {
      ...(props.stateMachineName ? { stateMachineName: props.stateMachineName } : {}),
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
    const name = (kind: StateKind) => stateName(stage.name, kind)
    const fn = this.stageFunction(stage)
    // The task's input (StageTaskEvent), its `state` being the whole state document.
    const payload = (
      action: StageTaskEvent['action'],
    ): Omit<StageTaskEvent, 'state' | 'task_entered_at'> & {
      'state.$': '$'
      'task_entered_at.$': '$$.State.EnteredTime'
    } => ({
      action,
      stage: stage.name,
      policy: { ...policy },
      ...(this.awaitFunction ? { webhooks: true } : {}),
      'state.$': '$',
      'task_entered_at.$': '$$.State.EnteredTime',
    })
    const failure = this.failure(stage, name('explainFailure'), name('failed'))
    // With webhooks, the identity (no Seam event) is looked up once right after its delete.
    const look = this.awaitFunction !== undefined && stage.confirmation === 'lookup'
    const deleteTask = this.task(name('delete'), fn, {
      ...payload('delete'),
      ...(look ? { look_after_delete: true } : {}),
    })
    this.catchInto(deleteTask, failure)
    // Every stage loops, synchronous ones included: a check also retries the deletes Seam refused with
    // 429/5xx, and for a synchronous stage with none the Choice goes straight on.
    const progress = (field: keyof StageProgress) => statePath('stages', stage.name, field)
    const check = this.task(name('check'), fn, payload('check'))
    this.catchInto(check, failure)
    const done = new Choice(this, name('done'))
    // Each wait: an Await that Seam's events resume (the stage goes on at once), timing out into the
    // Check after as long as the Wait it replaces; or the Wait itself.
    const wait =
      this.awaitFunction && typeof stage.confirmation === 'object'
        ? awaitStage(this, {
            stage: stage.name,
            awaitFunction: this.awaitFunction,
            progressPath: statePath('stages', stage.name),
            names: { await: name('await'), confirmed: name('confirmed') },
            next,
            check,
          })
        : new Wait(this, name('wait'), {
            time: WaitTime.secondsPath(progress('wait_seconds')),
          }).next(check)
    const stuck = new Fail(this, name('stuck'), {
      error: 'StageStuck',
      causePath: progress('stuck'),
    })
    deleteTask.next(stage.waitsAfterDelete && !look ? wait : done)
    check.next(done)
    done
      .when(Condition.numberEquals(progress('pending_count'), 0), next)
      .when(Condition.booleanEquals(progress('checks_left'), true), wait)
      .otherwise(stuck)
    return deleteTask
  }

  /** The stage's function: its own (DELETION_STAGE pins it), or under a Seam budget the shared one. */
  private stageFunction(stage: StageDefinition): ServiceFunction {
    if (this.seamCapacity) {
      this.sharedStageFunction ??= this.addFunction('StageFunction', {
        entry: `${SRC}/stage-task.ts`,
        description: 'Every deletion stage: deletes what the stage names and checks Seam finished',
        environment: {},
      })
      return this.sharedStageFunction
    }
    return this.addFunction(`${pascal(stage.name)}Function`, {
      entry: `${SRC}/stage-task.ts`,
      description: `Deletion stage ${stage.name}: deletes the ${stage.title} and checks Seam finished`,
      environment: { DELETION_STAGE: stage.name },
    })
  }

  private addFunction(
    id: string,
    props: { entry: string; description: string; environment: Record<string, string> },
  ): ServiceFunction {
    const fn = new ServiceFunction(this, id, {
      ...props,
      timeout: Duration.seconds(STAGE_TASK_TIMEOUT_SECONDS),
      seamSecret: this.seamSecret,
      ...(this.seamConcurrency === undefined ? {} : { reservedConcurrency: this.seamConcurrency }),
      ...(this.seamCapacity ? { seamCapacity: this.seamCapacity } : {}),
    })
    if (this.coordination) {
      // Which deliveries came and the deployment's delivery health (Coordination.deliveries), and
      // moving that health's times forward (Coordination.noteDelivery, that one item only).
      this.coordination.attach(
        fn.function,
        ['dynamodb:BatchGetItem'],
        [KEY_PATTERNS.event, KEY_PATTERNS.deliveryHealth],
      )
      this.coordination.grant(fn.function, ['dynamodb:UpdateItem'], [KEY_PATTERNS.deliveryHealth])
    }
    this.functions.push(fn)
    return fn
  }

  private task(name: string, fn: ServiceFunction, payload: Record<string, unknown>): TaskStateBase {
    const task = new LambdaInvoke(this, name, {
      lambdaFunction: fn.function,
      payload: TaskInput.fromObject(payload),
      outputPath: '$.Payload',
      retryOnServiceExceptions: false,
      taskTimeout: Timeout.duration(Duration.minutes(6)),
    })
    // Every retrier alike; stageTimeBound counts one delay of it in a task state's time.
    const backoff = {
      interval: Duration.seconds(TASK_RETRY_BACKOFF.intervalSeconds),
      backoffRate: TASK_RETRY_BACKOFF.backoffRate,
      jitterStrategy: JitterType.FULL,
      maxDelay: Duration.seconds(TASK_RETRY_BACKOFF.maxDelaySeconds),
    }
    task.addRetry({ errors: PERMANENT, maxAttempts: 0 })
    // How many times: TASK_RETRIES and throttleRetries, which the poll policy validation counts against
    // the history limit. Lambda throttling is how seamConcurrency queues work (reserved concurrency): a
    // throttled task has not run, and many deletions at once may wait minutes for a slot, so it is
    // retried often, for as long as the task may call Seam (the stage's time bound holds).
    task.addRetry({
      errors: LAMBDA_THROTTLED,
      maxAttempts: throttleRetries(this.pollPolicy, undefined, {
        awaits: this.awaitFunction !== undefined,
      }),
      interval: Duration.seconds(THROTTLE_RETRY_BACKOFF.intervalSeconds),
      backoffRate: THROTTLE_RETRY_BACKOFF.backoffRate,
      jitterStrategy: JitterType.FULL,
      maxDelay: Duration.seconds(THROTTLE_RETRY_BACKOFF.maxDelaySeconds),
    })
    task.addRetry({
      errors: LAMBDA_TRANSIENT,
      maxAttempts: TASK_RETRIES.lambdaTransient,
      ...backoff,
    })
    task.addRetry({
      errors: SEAM_TRANSIENT,
      maxAttempts: TASK_RETRIES.seamTransient,
      ...backoff,
    })
    // Anything else (a crash, a timeout) is retried a little: every task is safe to run again.
    task.addRetry({
      errors: ['States.ALL'],
      maxAttempts: TASK_RETRIES.other,
      ...backoff,
    })
    return task
  }

  /** A Pass that words a stage's failure for an operator → a Fail with that Cause. */
  private failure(stage: StageDefinition, explainName: string, failedName: string): Pass {
    const explain = new Pass(this, explainName, {
      parameters: {
        // Keys without ".$": CDK marks JsonPath tokens itself (a "cause.$" key would become "cause.$.$").
        error: JsonPath.stringAt(caughtPath('error', 'Error')),
        cause: JsonPath.format(
          `Stage ${stage.name} failed for user identity {} with {}: {}. Fix the cause (see the log of the task), then DELETE the user identity again: finished stages are quick no-ops.`,
          JsonPath.stringAt(caughtPath('user_identity_id')),
          JsonPath.stringAt(caughtPath('error', 'Error')),
          JsonPath.stringAt(caughtPath('error', 'Cause')),
        ),
      },
    })
    // The Pass's own output: { error, cause }.
    explain.next(new Fail(this, failedName, { errorPath: '$.error', causePath: '$.cause' }))
    return explain
  }

  private catchInto(task: TaskStateBase, failure: Pass): void {
    task.addCatch(failure, { errors: ['States.ALL'], resultPath: caughtPath('error') })
  }
}

function pascal(snake: string): string {
  return snake.replace(/(^|_)([a-z])/g, (_m, _sep, c: string) => c.toUpperCase())
}
