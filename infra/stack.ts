import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib'
import { Secret } from 'aws-cdk-lib/aws-secretsmanager'
import type { Construct } from 'constructs'
import type { PollPolicy } from '../functions/core/poll.js'
import { UserIdentityApi } from './constructs/api.js'
import { DeletionWorkflow } from './constructs/deletion-workflow.js'

export interface UserIdentityLifecycleStackProps extends StackProps {
  /** Deployment stage, used in resource names and outputs. */
  readonly stageName: string
  /** Name of the Secrets Manager secret holding the Seam API key (created outside this stack). */
  readonly seamSecretName: string
  /** How deletion stages wait for Seam (defaults in functions/core/poll.ts). */
  readonly pollPolicy?: Partial<PollPolicy>
}

/** The whole service: API, deletion workflow, and their wiring to the Seam key secret. */
export class UserIdentityLifecycleStack extends Stack {
  readonly deletion: DeletionWorkflow
  readonly api: UserIdentityApi

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
    })

    new CfnOutput(this, 'ApiUrl', { value: this.api.api.url })
    new CfnOutput(this, 'DeletionStateMachineArn', {
      value: this.deletion.stateMachine.stateMachineArn,
    })
    new CfnOutput(this, 'SeamSecretName', { value: seamSecret.secretName })
    new CfnOutput(this, 'StageName', { value: props.stageName })
  }
}
