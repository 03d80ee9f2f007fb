import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib'
import { Secret } from 'aws-cdk-lib/aws-secretsmanager'
import type { ITopic } from 'aws-cdk-lib/aws-sns'
import type { Construct } from 'constructs'
import type { PollPolicy } from '../functions/core/poll.js'
import { ServiceAlarms } from './constructs/alarms.js'
import { UserIdentityApi } from './constructs/api.js'
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
}

/** The whole service: API, deletion workflow, their wiring to the Seam key secret, and alarms. */
export class UserIdentityLifecycleStack extends Stack {
  readonly deletion: DeletionWorkflow
  readonly api: UserIdentityApi
  readonly alarms: ServiceAlarms

  constructor(scope: Construct, id: string, props: UserIdentityLifecycleStackProps) {
    super(scope, id, props)

    // The Seam API key lives outside the stack (rotated by operators); the stack only references it.
    const seamSecret = Secret.fromSecretNameV2(this, 'SeamApiKey', props.seamSecretName)

    this.deletion = new DeletionWorkflow(this, 'Deletion', {
      seamSecret,
      ...(props.pollPolicy ? { pollPolicy: props.pollPolicy } : {}),
    })

    this.api = new UserIdentityApi(this, 'Api', {
      stageName: props.stageName,
      seamSecret,
      deletionStateMachine: this.deletion.stateMachine,
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
      ...this.deletion.functions.map(
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
    new CfnOutput(this, 'SeamSecretName', { value: seamSecret.secretName })
    new CfnOutput(this, 'StageName', { value: props.stageName })
    if (this.alarms.topic) {
      new CfnOutput(this, 'AlarmTopicArn', { value: this.alarms.topic.topicArn })
    }
  }
}
