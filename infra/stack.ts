import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib'
import { Secret } from 'aws-cdk-lib/aws-secretsmanager'
import type { Construct } from 'constructs'

export interface UserIdentityLifecycleStackProps extends StackProps {
  /** Deployment stage, used in resource names and outputs. */
  readonly stageName: string
  /** Name of the Secrets Manager secret holding the Seam API key (created outside this stack). */
  readonly seamSecretName: string
}

/** The whole service: API, deletion workflow, and their wiring to the Seam key secret. */
export class UserIdentityLifecycleStack extends Stack {
  constructor(scope: Construct, id: string, props: UserIdentityLifecycleStackProps) {
    super(scope, id, props)

    // The Seam API key lives outside the stack (rotated by operators); the stack only references it.
    const seamSecret = Secret.fromSecretNameV2(this, 'SeamApiKey', props.seamSecretName)

    new CfnOutput(this, 'SeamSecretName', { value: seamSecret.secretName })
    new CfnOutput(this, 'StageName', { value: props.stageName })
  }
}
