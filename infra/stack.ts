import { CfnOutput, Lazy, Stack, type StackProps } from 'aws-cdk-lib'
import { Secret } from 'aws-cdk-lib/aws-secretsmanager'
import type { ITopic } from 'aws-cdk-lib/aws-sns'
import type { Construct } from 'constructs'
import { ROUTES } from '../functions/api/routes.js'
import type { PollPolicy } from '../functions/core/poll.js'
import { planSeamCapacity, type SeamCapacityPlan } from './capacity.js'
import { DEFAULT_THROTTLING } from './config.js'
import { ServiceAlarms } from './constructs/alarms.js'
import { UserIdentityApi } from './constructs/api.js'
import { BulkDeletionWorkflow } from './constructs/bulk-workflow.js'
import { CoordinationTable } from './constructs/coordination-table.js'
import { DeletionWorkflow } from './constructs/deletion-workflow.js'
import { addContractGatewayResponses } from './constructs/gateway-responses.js'
import { ServiceDashboard, ServiceMetrics } from './constructs/observability.js'
import { SeamWebhooks, WEBHOOK_PATH, webhookMethodOptions } from './constructs/seam-webhooks.js'

export interface UserIdentityLifecycleStackProps extends StackProps {
  /** Deployment stage, used in resource names and outputs. */
  readonly stageName: string
  /** Name of the Secrets Manager secret holding the Seam API key (created outside this stack). */
  readonly seamSecretName: string
  /** How deletion stages wait for Seam (defaults in functions/core/poll.ts). */
  readonly pollPolicy?: Partial<PollPolicy>
  /** API stage throttling (defaults: DEFAULT_THROTTLING in infra/config.ts). */
  readonly throttling?: { readonly rateLimit?: number; readonly burstLimit?: number }
  /** Where the alarms go. */
  readonly alarmTopic?: ITopic
  /** Without alarmTopic: an SNS topic is created with this address subscribed. */
  readonly alarmEmail?: string
  /** MaxConcurrency of a bulk deletion (identities deleted at once). Default 10. */
  readonly bulkDeletionConcurrency?: number
  /** Reserved concurrency of each Seam-calling workflow function (Lambda throttles past it). */
  readonly seamConcurrency?: number
  /**
   * Seam's webhooks resume waiting deletion stages (default true): the webhook route, its functions and
   * their registration with Seam. False: polling only, none of it in the template.
   */
  readonly seamWebhooks?: boolean
  /**
   * The workspace's Seam requests per second this deployment may use: divided among every function that
   * calls Seam (infra/capacity.ts). Needs seamConcurrency.
   */
  readonly seamRequestsPerSecond?: number
  /** With seamRequestsPerSecond: reserved concurrency of each API route that calls Seam. */
  readonly seamApiConcurrency?: number
}

/** The whole service: API, deletion workflow, their wiring to the Seam key secret, and alarms. */
export class UserIdentityLifecycleStack extends Stack {
  readonly coordination: CoordinationTable
  /** Present unless seamWebhooks is false. */
  readonly webhooks?: SeamWebhooks
  readonly deletion: DeletionWorkflow
  readonly bulk: BulkDeletionWorkflow
  readonly api: UserIdentityApi
  readonly alarms: ServiceAlarms
  readonly dashboard: ServiceDashboard
  /** The CloudWatch namespace of the service's own metrics (every function's EMF lines). */
  readonly metricsNamespace: string
  /** How the Seam budget is divided (undefined without seamRequestsPerSecond). */
  readonly seamCapacity: SeamCapacityPlan | undefined

  constructor(scope: Construct, id: string, props: UserIdentityLifecycleStackProps) {
    super(scope, id, props)

    // The Seam API key lives outside the stack (rotated by operators); the stack only references it.
    const seamSecret = Secret.fromSecretNameV2(this, 'SeamApiKey', props.seamSecretName)

    // Shared state of the service's Lambdas (waiting stages, Seam events received, leases).
    this.coordination = new CoordinationTable(this, 'Coordination')

    this.seamCapacity = seamCapacityPlan(props)

    // Registered with Seam at the API's URL, which exists only once the API does (after the workflow).
    const throttling = { ...DEFAULT_THROTTLING, ...props.throttling }
    const webhooks =
      props.seamWebhooks === false
        ? undefined
        : new SeamWebhooks(this, 'SeamWebhooks', {
            coordination: this.coordination,
            seamSecret,
            webhookUrl: Lazy.string({ produce: () => `${this.api.api.url}${WEBHOOK_PATH}` }),
          })
    if (webhooks) this.webhooks = webhooks

    this.deletion = new DeletionWorkflow(this, 'Deletion', {
      ...(this.seamCapacity ? { seamCapacity: this.seamCapacity.stages } : {}),
      seamSecret,
      ...(webhooks
        ? { awaitFunction: webhooks.awaitFunction.function, coordination: this.coordination }
        : {}),
      // Readable in the console and CLI: SeamUserIdentities-<stage>-Deletion.
      stateMachineName: `${this.stackName}-Deletion`,
      ...(props.pollPolicy ? { pollPolicy: props.pollPolicy } : {}),
      ...(props.seamConcurrency === undefined ? {} : { seamConcurrency: props.seamConcurrency }),
    })
    this.bulk = new BulkDeletionWorkflow(this, 'BulkDeletion', {
      ...(this.seamCapacity
        ? { seamCapacity: this.seamCapacity.bulk, coordination: this.coordination }
        : {}),
      deletionStateMachine: this.deletion.stateMachine,
      stateMachineName: `${this.stackName}-BulkDeletion`,
      seamSecret,
      ...(props.bulkDeletionConcurrency === undefined
        ? {}
        : { maxConcurrency: props.bulkDeletionConcurrency }),
      ...(props.seamConcurrency === undefined ? {} : { seamConcurrency: props.seamConcurrency }),
    })

    this.api = new UserIdentityApi(this, 'Api', {
      ...(this.seamCapacity ? { seamCapacity: this.seamCapacity.apiRoutes } : {}),
      stageName: props.stageName,
      seamSecret,
      deletionStateMachine: this.deletion.stateMachine,
      bulkDeletionStateMachine: this.bulk.stateMachine,
      // The create takes per-ACS-user leases in the coordination table.
      routeEnvironment: { CreateUserIdentity: this.coordination.environment },
      ...(props.throttling?.rateLimit === undefined
        ? {}
        : { throttlingRateLimit: props.throttling.rateLimit }),
      ...(props.throttling?.burstLimit === undefined
        ? {}
        : { throttlingBurstLimit: props.throttling.burstLimit }),
      // The webhook route has no IAM in front of it: its own limits, a tenth of the API's.
      ...(webhooks
        ? {
            methodOptions: webhookMethodOptions({
              rateLimit: Math.max(1, throttling.rateLimit / 10),
              burstLimit: Math.max(1, Math.ceil(throttling.burstLimit / 10)),
            }),
          }
        : {}),
    })
    addContractGatewayResponses(this.api.api)
    // The create's leases: a conditional put, then a delete on release.
    const createFn = this.api.functions.CreateUserIdentity
    if (!createFn) throw new Error('The API has no CreateUserIdentity function')
    this.coordination.grantUse(createFn.function, 'dynamodb:DeleteItem')
    if (webhooks) {
      webhooks.addRoute(this.api.api)
      webhooks.allowResume(this.deletion.stateMachine)
    }

    const functions = Object.fromEntries([
      ...Object.entries(this.api.functions).map(([route, fn]) => [route, fn.function] as const),
      ...[...this.deletion.functions, ...this.bulk.functions].map(
        (fn) => [fn.node.id.replace(/Function$/, ''), fn.function] as const,
      ),
      ...(webhooks
        ? ([
            ['SeamWebhook', webhooks.webhookFunction.function],
            ['AwaitStage', webhooks.awaitFunction.function],
            ['WebhookRegistration', webhooks.registrationFunction.function],
          ] as const)
        : []),
    ])
    // Every function publishes its metrics (functions/telemetry/metrics.ts) into the stack's namespace.
    this.metricsNamespace = `SeamUserIdentities/${props.stageName}`
    for (const fn of Object.values(functions)) {
      fn.addEnvironment('POWERTOOLS_METRICS_NAMESPACE', this.metricsNamespace)
    }
    const serviceMetrics = new ServiceMetrics(this.metricsNamespace)
    this.alarms = new ServiceAlarms(this, 'Alarms', {
      deletionStateMachine: this.deletion.stateMachine,
      apiStage: this.api.api.deploymentStage,
      functions,
      serviceMetrics,
      ...(props.alarmTopic ? { alarmTopic: props.alarmTopic } : {}),
      ...(props.alarmEmail ? { alarmEmail: props.alarmEmail } : {}),
    })
    this.dashboard = new ServiceDashboard(this, 'Dashboard', {
      dashboardName: this.stackName,
      metrics: serviceMetrics,
      deletionStateMachine: this.deletion.stateMachine,
      apiStage: this.api.api.deploymentStage,
      alarms: [
        this.alarms.deletionFailed,
        this.alarms.deletionTimedOut,
        this.alarms.api5xx,
        ...(this.alarms.seamThrottled ? [this.alarms.seamThrottled] : []),
      ],
    })

    new CfnOutput(this, 'ApiUrl', {
      description:
        'Base URL of the API (IAM-authorized: sign requests with SigV4, e.g. npm run api)',
      value: this.api.api.url,
    })
    new CfnOutput(this, 'DeletionStateMachineArn', {
      description: 'The deletion state machine; a deletion id is the name of its execution',
      value: this.deletion.stateMachine.stateMachineArn,
    })
    new CfnOutput(this, 'BulkDeletionStateMachineArn', {
      description:
        'The bulk deletion state machine; a bulk deletion id is the name of its execution',
      value: this.bulk.stateMachine.stateMachineArn,
    })
    new CfnOutput(this, 'SeamSecretName', {
      description:
        'Secrets Manager secret holding the Seam API key (created and rotated outside the stack)',
      value: seamSecret.secretName,
    })
    new CfnOutput(this, 'StageName', { value: props.stageName })
    new CfnOutput(this, 'SeamWebhooksMode', {
      description: "Seam's webhooks resume deletion stages (else: polling only)",
      value: webhooks ? 'on' : 'off',
    })
    new CfnOutput(this, 'DashboardName', {
      description: 'CloudWatch dashboard of the API, deletions, creates and Seam calls',
      value: this.dashboard.dashboard.dashboardName,
    })
    new CfnOutput(this, 'MetricsNamespace', {
      description: "CloudWatch namespace of the service's own metrics",
      value: this.metricsNamespace,
    })
    if (this.alarms.topic) {
      new CfnOutput(this, 'AlarmTopicArn', {
        description: 'SNS topic every alarm (and its return to OK) is sent to',
        value: this.alarms.topic.topicArn,
      })
    }
  }
}

/** The division of the Seam budget, checked at synth (infra/capacity.ts). */
function seamCapacityPlan(props: UserIdentityLifecycleStackProps): SeamCapacityPlan | undefined {
  if (props.seamRequestsPerSecond === undefined) return undefined
  if (props.seamConcurrency === undefined) {
    throw new Error(
      'seamRequestsPerSecond needs seamConcurrency: the budget is divided among the instances that can run at once, and only a reserved concurrency bounds them. Set seamConcurrency (e.g. 10).',
    )
  }
  return planSeamCapacity({
    requestsPerSecond: props.seamRequestsPerSecond,
    seamConcurrency: props.seamConcurrency,
    ...(props.seamApiConcurrency === undefined ? {} : { apiConcurrency: props.seamApiConcurrency }),
    apiRoutes: ROUTES.filter((route) => route.callsSeam).map((route) => route.id),
  })
}
