import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib'
import { Secret } from 'aws-cdk-lib/aws-secretsmanager'
import type { ITopic } from 'aws-cdk-lib/aws-sns'
import type { Construct } from 'constructs'
import type { PollPolicy } from '../functions/core/poll.js'
import { ServiceAlarms } from './constructs/alarms.js'
import { UserIdentityApi } from './constructs/api.js'
import { BulkDeletionWorkflow } from './constructs/bulk-workflow.js'
import { DeletionWorkflow } from './constructs/deletion-workflow.js'
import { addContractGatewayResponses } from './constructs/gateway-responses.js'

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
}

/** The whole service: API, deletion workflow, their wiring to the Seam key secret, and alarms. */
export class UserIdentityLifecycleStack extends Stack {
  readonly deletion: DeletionWorkflow
  readonly bulk: BulkDeletionWorkflow
  readonly api: UserIdentityApi
  readonly alarms: ServiceAlarms

  constructor(scope: Construct, id: string, props: UserIdentityLifecycleStackProps) {
    super(scope, id, props)

    // The Seam API key lives outside the stack (rotated by operators); the stack only references it.
    const seamSecret = Secret.fromSecretNameV2(this, 'SeamApiKey', props.seamSecretName)

    this.deletion = new DeletionWorkflow(this, 'Deletion', {
      seamSecret,
      ...(props.pollPolicy ? { pollPolicy: props.pollPolicy } : {}),
      ...(props.seamConcurrency === undefined ? {} : { seamConcurrency: props.seamConcurrency }),
    })
    this.bulk = new BulkDeletionWorkflow(this, 'BulkDeletion', {
      deletionStateMachine: this.deletion.stateMachine,
      seamSecret,
      ...(props.bulkDeletionConcurrency === undefined
        ? {}
        : { maxConcurrency: props.bulkDeletionConcurrency }),
      ...(props.seamConcurrency === undefined ? {} : { seamConcurrency: props.seamConcurrency }),
    })

    this.api = new UserIdentityApi(this, 'Api', {
      stageName: props.stageName,
      seamSecret,
      deletionStateMachine: this.deletion.stateMachine,
      bulkDeletionStateMachine: this.bulk.stateMachine,
      ...(props.throttling?.rateLimit === undefined
        ? {}
        : { throttlingRateLimit: props.throttling.rateLimit }),
      ...(props.throttling?.burstLimit === undefined
        ? {}
        : { throttlingBurstLimit: props.throttling.burstLimit }),
    })
    addContractGatewayResponses(this.api.api)

    const functions = Object.fromEntries([
      ...Object.entries(this.api.functions).map(([route, fn]) => [route, fn.function] as const),
      ...[...this.deletion.functions, ...this.bulk.functions].map(
        (fn) => [fn.node.id.replace(/Function$/, ''), fn.function] as const,
      ),
    ])
    this.alarms = new ServiceAlarms(this, 'Alarms', {
      deletionStateMachine: this.deletion.stateMachine,
      apiStage: this.api.api.deploymentStage,
      functions,
      ...(props.alarmTopic ? { alarmTopic: props.alarmTopic } : {}),
      ...(props.alarmEmail ? { alarmEmail: props.alarmEmail } : {}),
    })

    new CfnOutput(this, 'ApiUrl', { value: this.api.api.url })
    new CfnOutput(this, 'DeletionStateMachineArn', {
      value: this.deletion.stateMachine.stateMachineArn,
    })
    new CfnOutput(this, 'BulkDeletionStateMachineArn', {
      value: this.bulk.stateMachine.stateMachineArn,
    })
    new CfnOutput(this, 'SeamSecretName', { value: seamSecret.secretName })
    new CfnOutput(this, 'StageName', { value: props.stageName })
    if (this.alarms.topic) {
      new CfnOutput(this, 'AlarmTopicArn', { value: this.alarms.topic.topicArn })
    }
  }
}
