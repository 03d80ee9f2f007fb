import { ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib'
import {
  AccessLogFormat,
  AuthorizationType,
  EndpointType,
  LambdaIntegration,
  LogGroupLogDestination,
  type MethodDeploymentOptions,
  MethodLoggingLevel,
  ResponseType,
  RestApi,
} from 'aws-cdk-lib/aws-apigateway'
import { Grant, type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam'
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs'
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager'
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions'
import { Construct } from 'constructs'
import { ROUTES } from '../../functions/api/routes.js'
import {
  type FunctionCapacity,
  SEAM_BUSY_MESSAGE,
  SEAM_BUSY_RETRY_AFTER_SECONDS,
} from '../capacity.js'
import { DEFAULT_THROTTLING } from '../config.js'
import { acknowledge, acknowledgeWildcardResources } from './nag.js'
import { ServiceFunction } from './service-function.js'

export interface UserIdentityApiProps {
  readonly stageName: string
  readonly seamSecret: ISecret
  readonly deletionStateMachine: IStateMachine
  /** The bulk deletion workflow, for the /bulk-deletions routes. */
  readonly bulkDeletionStateMachine?: IStateMachine
  /**
   * More environment for a route's function, by route id (e.g. the create's coordination table name);
   * the stack grants what it names.
   */
  readonly routeEnvironment?: Readonly<Record<string, Readonly<Record<string, string>>>>
  /** Steady-state requests per second across the API (stage throttling). Default: DEFAULT_THROTTLING. */
  readonly throttlingRateLimit?: number
  readonly throttlingBurstLimit?: number
  /** Each Seam-calling route's part of the deployment's Seam budget, by route id (infra/capacity.ts). */
  readonly seamCapacity?: Readonly<Record<string, FunctionCapacity>>
  readonly logRetention?: RetentionDays
  /** Per-method stage settings (e.g. a route throttled apart: webhookMethodOptions). */
  readonly methodOptions?: Record<string, MethodDeploymentOptions>
}

/**
 * The REST API: one Lambda per route of functions/api/routes.ts, IAM authorization on every method,
 * stage throttling, JSON access logs and X-Ray tracing. Each Lambda gets exactly the permissions its route
 * needs: the Seam key secret only where it calls Seam, StartExecution / DescribeExecution /
 * GetExecutionHistory only on the deletion state machine.
 */
export class UserIdentityApi extends Construct {
  readonly api: RestApi
  readonly functions: Record<string, ServiceFunction> = {}

  constructor(scope: Construct, id: string, props: UserIdentityApiProps) {
    super(scope, id)
    const accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.RETAIN,
    })
    this.api = new RestApi(this, 'Api', {
      restApiName: `seam-user-identities-${props.stageName}`,
      description: 'Creates and deletes Seam user identities',
      endpointTypes: [EndpointType.REGIONAL],
      cloudWatchRole: false,
      defaultMethodOptions: { authorizationType: AuthorizationType.IAM },
      deployOptions: {
        stageName: props.stageName,
        throttlingRateLimit: props.throttlingRateLimit ?? DEFAULT_THROTTLING.rateLimit,
        throttlingBurstLimit: props.throttlingBurstLimit ?? DEFAULT_THROTTLING.burstLimit,
        tracingEnabled: true,
        loggingLevel: MethodLoggingLevel.OFF,
        ...(props.methodOptions ? { methodOptions: props.methodOptions } : {}),
        accessLogDestination: new LogGroupLogDestination(accessLogs),
        accessLogFormat: AccessLogFormat.jsonWithStandardFields({
          caller: true,
          httpMethod: true,
          ip: true,
          protocol: true,
          requestTime: true,
          resourcePath: true,
          responseLength: true,
          status: true,
          user: true,
        }),
      },
    })
    // RestApi adds its own `Endpoint` output; the stack outputs the URL once, as `ApiUrl`.
    this.api.node.tryRemoveChild('Endpoint')

    // API Gateway checks the path parameters; the body is checked by the route's Lambda (http.ts), so
    // that its errors keep the contract's shape.
    if (props.seamCapacity) {
      // A Seam-calling route at its reserved concurrency: Lambda throttles, which API Gateway answers as
      // an integration failure. Say it is busy, in the contract's error shape, and when to come back.
      this.api.addGatewayResponse('SeamBusy', {
        type: ResponseType.INTEGRATION_FAILURE,
        statusCode: '503',
        responseHeaders: {
          'Content-Type': "'application/json'",
          'Retry-After': `'${SEAM_BUSY_RETRY_AFTER_SECONDS}'`,
        },
        templates: {
          'application/json': JSON.stringify({
            error: {
              type: 'seam_unavailable',
              message: SEAM_BUSY_MESSAGE,
              request_id: '$context.requestId',
            },
          }),
        },
      })
    }
    const requestValidator = this.api.addRequestValidator('RequestValidator', {
      validateRequestBody: true,
      validateRequestParameters: true,
    })
    acknowledge(
      this.api,
      'AwsSolutions-COG4',
      'Callers are AWS principals, not end users: every method uses IAM (SigV4) authorization instead of a Cognito user pool.',
    )
    acknowledge(
      this.api.deploymentStage,
      'AwsSolutions-APIG6',
      'Every request is in the JSON access log. Execution logging needs the account-wide API Gateway CloudWatch role, which this stack does not own (cloudWatchRole: false); its data trace would log request bodies (emails, phone numbers).',
    )
    acknowledge(
      this.api.deploymentStage,
      'AwsSolutions-APIG3',
      'IAM-authorized, throttled, regional API for backend callers; attach a WAF web ACL to the stage where the account requires one.',
    )

    for (const route of ROUTES) {
      const fn = new ServiceFunction(this, `${route.id}Function`, {
        entry: route.entry,
        description: route.description,
        ...(route.callsSeam ? { seamSecret: props.seamSecret } : {}),
        ...(route.callsSeam && props.seamCapacity?.[route.id]
          ? { seamCapacity: props.seamCapacity[route.id] }
          : {}),
        environment: {
          ...(route.deletions
            ? { DELETION_STATE_MACHINE_ARN: props.deletionStateMachine.stateMachineArn }
            : {}),
          ...(route.bulk && props.bulkDeletionStateMachine
            ? { BULK_DELETION_STATE_MACHINE_ARN: props.bulkDeletionStateMachine.stateMachineArn }
            : {}),
          ...props.routeEnvironment?.[route.id],
        },
      })
      if (route.bulk && props.bulkDeletionStateMachine) {
        grantBulk(fn, route.bulk, props.bulkDeletionStateMachine)
      }
      if (route.deletions === 'start') {
        props.deletionStateMachine.grantStartExecution(fn.function)
      }
      if (route.deletions) {
        props.deletionStateMachine.grantExecution(
          fn.function,
          'states:DescribeExecution',
          'states:GetExecutionHistory',
        )
        acknowledgeWildcardResources(
          fn.function.role,
          ['states:DescribeExecution', 'states:GetExecutionHistory'],
          'Executions of the deletion state machine only (execution:<its name>:*): execution names (<user_identity_id>--<attempt>) are made at run time.',
        )
      }
      this.functions[route.id] = fn
      const pathParameters = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1])
      this.api.root
        .resourceForPath(route.path)
        .addMethod(route.method, new LambdaIntegration(fn.function), {
          authorizationType: AuthorizationType.IAM,
          requestValidator,
          requestParameters: Object.fromEntries(
            pathParameters.map((name) => [`method.request.path.${name}`, true]),
          ),
        })
    }
  }

  /**
   * Let `grantee` (a role, user or function) call every route of the deployed stage: `execute-api:Invoke`
   * on `<api>/<stage>/*\/*`. Callers sign their requests with SigV4 (README: "Calling the deployed API").
   */
  grantInvoke(grantee: IGrantable): Grant {
    return Grant.addToPrincipal({
      grantee,
      actions: ['execute-api:Invoke'],
      resourceArns: [this.api.arnForExecuteApi('*', '/*', this.api.deploymentStage.stageName)],
    })
  }
}

/** StartExecution on the bulk workflow, or reading its executions and their Map Runs. */
function grantBulk(fn: ServiceFunction, access: 'start' | 'read', bulk: IStateMachine): void {
  if (access === 'start') {
    bulk.grantStartExecution(fn.function)
    return
  }
  bulk.grantExecution(fn.function, 'states:DescribeExecution', 'states:ListMapRuns')
  const stack = Stack.of(fn)
  const name = stack.splitArn(bulk.stateMachineArn, ArnFormat.COLON_RESOURCE_NAME).resourceName
  fn.function.addToRolePolicy(
    new PolicyStatement({
      actions: ['states:DescribeMapRun'],
      resources: [
        stack.formatArn({
          service: 'states',
          resource: 'mapRun',
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          resourceName: `${name}/*`,
        }),
      ],
    }),
  )
  acknowledgeWildcardResources(
    fn.function.role,
    ['states:DescribeExecution', 'states:ListMapRuns', 'states:DescribeMapRun'],
    'Executions and Map Runs of the bulk deletion state machine only: their names are made at run time.',
  )
}
