import { Duration, RemovalPolicy } from 'aws-cdk-lib'
import type { Policy } from 'aws-cdk-lib/aws-iam'
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs'
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager'
import type { StateMachine as DeletionStateMachine } from 'aws-cdk-lib/aws-stepfunctions'
import {
  Choice,
  Condition,
  DefinitionBody,
  DistributedMap,
  Fail,
  IntegrationPattern,
  JitterType,
  JsonPath,
  LogLevel,
  Pass,
  QueryLanguage,
  StateMachine,
  StateMachineType,
  Succeed,
  TaskInput,
  type TaskStateBase,
  Timeout,
} from 'aws-cdk-lib/aws-stepfunctions'
import { LambdaInvoke, StepFunctionsStartExecution } from 'aws-cdk-lib/aws-stepfunctions-tasks'
import { Construct } from 'constructs'
import { MAX_BULK_IDENTITIES } from '../../functions/contract/http.js'
import { KEY_PATTERNS } from '../../functions/core/coordination.js'
import { SEAM_TRANSIENT_ERROR_NAMES } from '../../functions/seam/errors.js'
import type { FunctionCapacity } from '../capacity.js'
import type { CoordinationTable } from './coordination-table.js'
import {
  acknowledgePolicyWildcardResources,
  acknowledgeStateMachineLogging,
  acknowledgeWildcardResources,
} from './nag.js'
import { ServiceFunction } from './service-function.js'

/** The bulk task's Lambda timeout: a slot of the shared rate, then one Seam lookup at its longest. */
const BULK_TASK_TIMEOUT_SECONDS = 60

/** Identities of one bulk deletion being deleted at once, unless configured. */
export const DEFAULT_BULK_DELETION_CONCURRENCY = 10

export interface BulkDeletionWorkflowProps {
  /** The deletion workflow each identity runs as a child execution. */
  readonly deletionStateMachine: DeletionStateMachine
  readonly seamSecret: ISecret
  /** The distributed Map's MaxConcurrency. Default DEFAULT_BULK_DELETION_CONCURRENCY. */
  readonly maxConcurrency?: number
  /** Reserved concurrency of the task function (it asks Seam whether each identity exists). */
  readonly seamConcurrency?: number
  /** Its part of the deployment's Seam budget (infra/capacity.ts), instead of seamConcurrency. */
  readonly seamCapacity?: FunctionCapacity
  /**
   * The coordination table, where a shared part of the budget (seamCapacity.sharedRequestsPerSecond)
   * is counted: required with one.
   */
  readonly coordination?: CoordinationTable
  readonly logRetention?: RetentionDays
  /** The state machine's name (readable in the console); default: one CloudFormation generates. */
  readonly stateMachineName?: string
}

/** State names, shared with the tests and the README. */
export const BULK_STATES = {
  map: 'Delete each identity',
  prepare: 'Choose deletion',
  start: 'Start or join deletion',
  startNeeded: 'Deletion to run?',
  settled: 'Nothing to run',
  notChosen: 'Could not choose',
  deletionFailed: 'Deletion failed',
  summarize: 'Summarize',
  anyFailed: 'Any identity failed?',
  failed: 'Some identities failed',
  succeeded: 'All deleted',
} as const

/**
 * Bulk deletion: a Standard state machine whose Map, in distributed mode, runs over the identities in the
 * execution input (at most 1,000, so no S3 ItemReader or ResultWriter is needed). Each item is a child
 * workflow: `Choose deletion` (a Lambda: not_found, already deleted, or the execution name DELETE would
 * use) → `Start or join deletion` (`states:startExecution.sync:2` on the deletion state machine, same name
 * and input as DELETE, so a running deletion is joined, never doubled). Every item error is caught in the
 * item (`Could not choose`, `Deletion failed`: a small `{user_identity_id, outcome: 'failed'}`, with the
 * deletion_id whose execution holds the error), so each result is at most ~130 bytes and the Map's output
 * stays within Step Functions' 256 KiB for 1,000 items, however many fail (a failed child's own `{Error, Cause}`
 * is ~1 KB). ToleratedFailurePercentage 100 stays as a safety net. Then `Summarize` counts, and the
 * execution FAILS naming the identities that failed, or SUCCEEDS.
 */
export class BulkDeletionWorkflow extends Construct {
  readonly stateMachine: StateMachine
  readonly functions: ServiceFunction[] = []
  readonly maxConcurrency: number

  constructor(scope: Construct, id: string, props: BulkDeletionWorkflowProps) {
    super(scope, id)
    this.maxConcurrency = props.maxConcurrency ?? DEFAULT_BULK_DELETION_CONCURRENCY
    if (
      !Number.isInteger(this.maxConcurrency) ||
      this.maxConcurrency < 1 ||
      this.maxConcurrency > 10_000
    ) {
      throw new Error(
        `bulk deletion concurrency must be a whole number from 1 to 10000, got ${this.maxConcurrency}`,
      )
    }
    const deletion = props.deletionStateMachine
    const fn = new ServiceFunction(this, 'BulkTaskFunction', {
      entry: 'functions/bulk/bulk-task.ts',
      description:
        'Bulk deletion: chooses the deletion of each identity, then summarizes the outcome',
      seamSecret: props.seamSecret,
      environment: { DELETION_STATE_MACHINE_ARN: deletion.stateMachineArn },
      // A lookup may wait for a slot of the shared rate (15 s at most) before its Seam call (~20 s at worst).
      timeout: Duration.seconds(BULK_TASK_TIMEOUT_SECONDS),
      ...(props.seamConcurrency === undefined
        ? {}
        : { reservedConcurrency: props.seamConcurrency }),
      ...(props.seamCapacity ? { seamCapacity: props.seamCapacity } : {}),
    })
    this.functions.push(fn)
    const shared = props.seamCapacity?.sharedRequestsPerSecond
    if (shared !== undefined) {
      if (!props.coordination) {
        throw new Error(
          'BulkDeletionWorkflow: a shared Seam budget needs coordination, the table it is counted in',
        )
      }
      // The shared Seam rate's count (Coordination.takeRateSlot): one conditional update.
      props.coordination.attach(fn.function, ['dynamodb:UpdateItem'], [KEY_PATTERNS.rate])
    }
    deletion.grantExecution(fn.function, 'states:DescribeExecution')
    acknowledgeWildcardResources(
      fn.function.role,
      ['states:DescribeExecution'],
      'Executions of the deletion state machine only (execution:<its name>:*): their names (<user_identity_id>--<attempt>) are made at run time.',
    )

    const prepare = this.task(BULK_STATES.prepare, fn, {
      action: 'prepare',
      user_identity_id: JsonPath.stringAt('$.user_identity_id'),
      // Its lookup takes a slot of this deployment-wide rate first (Coordination.takeRateSlot).
      ...(shared === undefined
        ? {}
        : {
            seam_requests_per_second: shared,
            seam_instances: props.seamCapacity?.reservedConcurrency ?? 1,
          }),
    })
    const start = new StepFunctionsStartExecution(this, BULK_STATES.start, {
      stateMachine: deletion,
      integrationPattern: IntegrationPattern.RUN_JOB,
      name: JsonPath.stringAt('$.deletion_id'),
      // The very text DELETE starts the execution with: same name + same input joins a running one.
      input: TaskInput.fromJsonPathAt('$.input'),
      resultSelector: { outcome: 'succeeded' },
    })
    // The deletion ended between `Choose deletion` and the start (a FAILED one is not joinable): choose
    // again, the next attempt then.
    start.addCatch(prepare, {
      errors: ['StepFunctions.ExecutionAlreadyExistsException'],
      resultPath: JsonPath.DISCARD,
    })
    // Any other error ends the item with a small result; the error itself stays in the deletion's execution.
    start.addCatch(
      new Pass(this, BULK_STATES.deletionFailed, {
        parameters: {
          user_identity_id: JsonPath.stringAt('$.user_identity_id'),
          deletion_id: JsonPath.stringAt('$.deletion_id'),
          outcome: 'failed',
        },
      }),
      { resultPath: '$.error' },
    )
    prepare.addCatch(
      new Pass(this, BULK_STATES.notChosen, {
        parameters: {
          user_identity_id: JsonPath.stringAt('$.user_identity_id'),
          outcome: 'failed',
        },
      }),
      { resultPath: '$.error' },
    )
    start.addRetry({
      errors: ['StepFunctions.SdkClientException', 'StepFunctions.StepFunctionsException'],
      interval: Duration.seconds(2),
      maxAttempts: 6,
      backoffRate: 2,
      jitterStrategy: JitterType.FULL,
    })
    const settled = new Pass(this, BULK_STATES.settled, {
      parameters: { outcome: JsonPath.stringAt('$.outcome') },
    })
    const item = prepare.next(
      new Choice(this, BULK_STATES.startNeeded)
        .when(Condition.stringEquals('$.outcome', 'start'), start)
        .otherwise(settled),
    )

    const map = new DistributedMap(this, BULK_STATES.map, {
      itemsPath: '$.user_identity_ids',
      itemSelector: { user_identity_id: JsonPath.stringAt('$$.Map.Item.Value') },
      maxConcurrency: this.maxConcurrency,
      toleratedFailurePercentage: 100,
      mapExecutionType: StateMachineType.STANDARD,
      label: 'Identities',
      resultPath: '$.results',
    })
    map.itemProcessor(item)

    const summarize = this.task(BULK_STATES.summarize, fn, {
      action: 'summarize',
      user_identity_ids: JsonPath.listAt('$.user_identity_ids'),
      results: JsonPath.listAt('$.results'),
    })
    const anyFailed = new Choice(this, BULK_STATES.anyFailed)
      .when(
        Condition.numberGreaterThan('$.counts.failed', 0),
        new Fail(this, BULK_STATES.failed, { error: 'BulkDeletionFailed', causePath: '$.cause' }),
      )
      .otherwise(new Succeed(this, BULK_STATES.succeeded))
    const definition = map.next(summarize).next(anyFailed)

    const logGroup = new LogGroup(this, 'ExecutionLogs', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.RETAIN,
    })
    this.stateMachine = new StateMachine(this, 'StateMachine', {
      stateMachineType: StateMachineType.STANDARD,
      queryLanguage: QueryLanguage.JSON_PATH,
      comment: `Deletes up to ${MAX_BULK_IDENTITIES} Seam user identities, each by the deletion workflow`,
      definitionBody: DefinitionBody.fromChainable(definition),
      ...(props.stateMachineName ? { stateMachineName: props.stateMachineName } : {}),
      tracingEnabled: true,
      logs: { destination: logGroup, level: LogLevel.ALL, includeExecutionData: true },
    })
    acknowledgeWildcardResources(
      this.stateMachine.role,
      ['lambda:InvokeFunction'],
      "Invokes this workflow's own task function only: CDK's LambdaInvoke grants the function ARN and its qualified form (<arn>:*).",
    )
    acknowledgeWildcardResources(
      this.stateMachine.role,
      ['states:DescribeExecution', 'states:StopExecution'],
      'startExecution.sync:2 watches and, when this execution stops, stops the executions of the deletion state machine (execution:<its name>:*) and the distributed Map its own child workflows (execution:<this state machine>/*): their names are made at run time.',
    )
    acknowledgeStateMachineLogging(this.stateMachine.role)
    const mapPolicy = this.stateMachine.node.tryFindChild('DistributedMapPolicy') as
      | Policy
      | undefined
    if (mapPolicy) {
      acknowledgePolicyWildcardResources(
        mapPolicy,
        [
          'states:StartExecution',
          'states:DescribeExecution',
          'states:StopExecution',
          'states:RedriveExecution',
        ],
        "The distributed Map starts, watches, stops and redrives this state machine's own child workflow executions (execution:<its name>/<label>:*, names made at run time).",
      )
    }
  }

  private task(name: string, fn: ServiceFunction, payload: Record<string, unknown>): TaskStateBase {
    const task = new LambdaInvoke(this, name, {
      lambdaFunction: fn.function,
      payload: TaskInput.fromObject(payload),
      outputPath: '$.Payload',
      retryOnServiceExceptions: false,
      taskTimeout: Timeout.duration(Duration.minutes(2)),
    })
    task.addRetry({
      errors: [
        'Lambda.TooManyRequestsException',
        'Lambda.ServiceException',
        ...SEAM_TRANSIENT_ERROR_NAMES,
      ],
      interval: Duration.seconds(2),
      maxAttempts: 8,
      backoffRate: 2,
      maxDelay: Duration.minutes(1),
      jitterStrategy: JitterType.FULL,
    })
    return task
  }
}
