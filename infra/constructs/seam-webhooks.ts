import { CustomResource, Duration, RemovalPolicy } from 'aws-cdk-lib'
import {
  AuthorizationType,
  LambdaIntegration,
  type MethodDeploymentOptions,
  type RestApi,
} from 'aws-cdk-lib/aws-apigateway'
import { Policy, PolicyStatement } from 'aws-cdk-lib/aws-iam'
import type { IFunction } from 'aws-cdk-lib/aws-lambda'
import { type ISecret, Secret } from 'aws-cdk-lib/aws-secretsmanager'
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions'
import { Provider } from 'aws-cdk-lib/custom-resources'
import { Construct } from 'constructs'
import { OPERATIONS } from '../../functions/contract/http.js'
import { WEBHOOK_EVENT_TYPES } from '../../functions/core/coordination.js'
import type { CoordinationTable } from './coordination-table.js'
import { acknowledge, acknowledgeWildcardResources } from './nag.js'
import { ServiceFunction } from './service-function.js'

/** Where Seam delivers, relative to the API's root (the contract's path, without its first `/`). */
export const WEBHOOK_PATH = OPERATIONS.receiveSeamWebhook.path.slice(1)

export interface SeamWebhooksProps {
  /** The coordination table: waiters, received events and deliveries live there. */
  readonly coordination: CoordinationTable
  /** The Seam API key secret: read by the registration function only. */
  readonly seamSecret: ISecret
  /** The public URL of POST /webhooks/seam (e.g. `${api.url}webhooks/seam`); a token is fine. */
  readonly webhookUrl: string
  /** Seam event types to subscribe to. Default: those that confirm a stage's deletes. */
  readonly eventTypes?: readonly string[]
}

/** API Gateway stage method settings for the webhook route (unauthenticated, so throttled apart). */
export function webhookMethodOptions(throttle: {
  rateLimit: number
  burstLimit: number
}): Record<string, MethodDeploymentOptions> {
  return {
    [`/${WEBHOOK_PATH}/POST`]: {
      throttlingRateLimit: throttle.rateLimit,
      throttlingBurstLimit: throttle.burstLimit,
    },
  }
}

/**
 * What makes Seam's webhooks resume a waiting deletion stage:
 * - in the coordination table (a prop: leases share it), what stages wait for and what Seam sent;
 * - the webhook function (POST /webhooks/seam) and the await-task function (the stage's
 *   `lambda:invoke.waitForTaskToken` task), each allowed only the table actions it uses;
 * - the webhook's signing secret, a Secrets Manager secret of this stack that the registration
 *   writes and the webhook function reads;
 * - the registration: a custom resource that calls Seam's webhooks/create with `webhookUrl` and only
 *   the event types used, re-registers on a change of either, and deletes the webhook with the stack.
 * `addRoute` puts the function behind the API without IAM (the signature authenticates), and
 * `allowResume` lets both functions resume tasks of one state machine only.
 */
export class SeamWebhooks extends Construct {
  readonly webhookSecret: ISecret
  readonly webhookFunction: ServiceFunction
  readonly awaitFunction: ServiceFunction
  readonly registrationFunction: ServiceFunction
  readonly registration: CustomResource

  constructor(scope: Construct, id: string, props: SeamWebhooksProps) {
    super(scope, id)
    const table = props.coordination

    const secret = new Secret(this, 'WebhookSecret', {
      description: 'Signing secret of the Seam webhook (written by its registration)',
      removalPolicy: RemovalPolicy.DESTROY,
    })
    acknowledge(
      secret,
      'AwsSolutions-SMG4',
      'Seam issues this secret with the webhook and has no rotation API: it is replaced by re-registering (a new URL or event types), not by a Secrets Manager rotation.',
    )
    this.webhookSecret = secret

    const environment = table.environment
    this.webhookFunction = new ServiceFunction(this, 'Webhook', {
      entry: 'functions/api/seam-webhook.ts',
      description: 'POST /webhooks/seam: verifies Seam deliveries and resumes waiting stages',
      timeout: Duration.seconds(10),
      environment: { ...environment, SEAM_WEBHOOK_SECRET_NAME: secret.secretName },
    })
    secret.grantRead(this.webhookFunction.function)
    table.grantUse(this.webhookFunction.function)

    this.awaitFunction = new ServiceFunction(this, 'Await', {
      entry: 'functions/deletion/await-task.ts',
      description: 'Await task: registers a stage for Seam events, settles from those received',
      timeout: Duration.seconds(30),
      environment,
    })
    table.grantUse(this.awaitFunction.function)

    const register = new ServiceFunction(this, 'Registration', {
      entry: 'functions/seam/webhook-registration.ts',
      description: 'Registers the Seam webhook and stores its secret (custom resource)',
      timeout: Duration.seconds(60),
      seamSecret: props.seamSecret,
    })
    secret.grantWrite(register.function)
    this.registrationFunction = register
    const provider = new Provider(this, 'Provider', { onEventHandler: register.function })
    acknowledgeProvider(provider)
    this.registration = new CustomResource(this, 'SeamWebhook', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::SeamWebhook',
      properties: {
        Url: props.webhookUrl,
        EventTypes: [...(props.eventTypes ?? WEBHOOK_EVENT_TYPES)],
        SecretArn: secret.secretArn,
      },
    })
  }

  /** POST /webhooks/seam on `api`, without IAM authorization: the Svix signature authenticates. */
  addRoute(api: RestApi): void {
    const method = api.root
      .resourceForPath(WEBHOOK_PATH)
      .addMethod('POST', new LambdaIntegration(this.webhookFunction.function), {
        authorizationType: AuthorizationType.NONE,
      })
    const reason =
      'Seam cannot sign with SigV4 or present a Cognito token: the Svix signature (HMAC over id, timestamp and raw body, verified in the function) authenticates this route, which is throttled on its own.'
    acknowledge(method, 'AwsSolutions-APIG4', reason)
    acknowledge(method, 'AwsSolutions-COG4', reason)
  }

  /** Lets both functions resume (SendTaskSuccess / Failure / Heartbeat) tasks of `stateMachine` only. */
  allowResume(stateMachine: IStateMachine): void {
    // A Policy of its own, not the roles' default policy: the state machine refers to the await
    // function, which would otherwise depend on a policy that refers to the state machine (a cycle).
    new Policy(this, 'ResumeTasks', {
      roles: [this.webhookFunction.function.role, this.awaitFunction.function.role].filter(
        (role) => role !== undefined,
      ),
      statements: [
        new PolicyStatement({
          actions: ['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat'],
          resources: [stateMachine.stateMachineArn],
        }),
      ],
    })
  }
}

/** The Provider framework's own function and role (written by aws-cdk-lib), acknowledged on them. */
function acknowledgeProvider(provider: Provider): void {
  const framework = provider.node.tryFindChild('framework-onEvent') as IFunction | undefined
  if (!framework?.role) return
  acknowledge(
    framework.role,
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    'The CDK Provider framework function (aws-cdk-lib) logs with AWSLambdaBasicExecutionRole; it only relays CloudFormation events to the registration function.',
  )
  acknowledgeWildcardResources(
    framework.role,
    ['lambda:InvokeFunction'],
    'The CDK Provider framework may invoke the registration function and its versions (<arn>:*), nothing else.',
  )
}
