import { RemovalPolicy } from 'aws-cdk-lib'
import {
  AccessLogFormat,
  AuthorizationType,
  EndpointType,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  RestApi,
} from 'aws-cdk-lib/aws-apigateway'
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs'
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager'
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions'
import { Construct } from 'constructs'
import { ROUTES } from '../../functions/api/routes.js'
import { HouseFunction } from './seam-function.js'

export interface UserIdentityApiProps {
  readonly stageName: string
  readonly seamSecret: ISecret
  readonly deletionStateMachine: IStateMachine
  /** Steady-state requests per second across the API (stage throttling). */
  readonly throttlingRateLimit?: number
  readonly throttlingBurstLimit?: number
  readonly logRetention?: RetentionDays
}

/**
 * The REST API: one Lambda per route of functions/api/routes.ts, IAM authorization on every method,
 * stage throttling, JSON access logs and X-Ray tracing. Each Lambda gets exactly the permissions its route
 * needs: the Seam key secret only where it calls Seam, StartExecution / DescribeExecution /
 * GetExecutionHistory only on the deletion state machine.
 */
export class UserIdentityApi extends Construct {
  readonly api: RestApi
  readonly functions: Record<string, HouseFunction> = {}

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
        throttlingRateLimit: props.throttlingRateLimit ?? 50,
        throttlingBurstLimit: props.throttlingBurstLimit ?? 100,
        tracingEnabled: true,
        loggingLevel: MethodLoggingLevel.OFF,
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

    for (const route of ROUTES) {
      const fn = new HouseFunction(this, `${route.id}Function`, {
        entry: route.entry,
        description: route.description,
        ...(route.callsSeam ? { seamSecret: props.seamSecret } : {}),
        environment: route.deletions
          ? { DELETION_STATE_MACHINE_ARN: props.deletionStateMachine.stateMachineArn }
          : {},
      })
      if (route.deletions === 'start') {
        props.deletionStateMachine.grantStartExecution(fn.function)
      }
      if (route.deletions) {
        props.deletionStateMachine.grantExecution(
          fn.function,
          'states:DescribeExecution',
          'states:GetExecutionHistory',
        )
      }
      this.functions[route.id] = fn
      this.api.root
        .resourceForPath(route.path)
        .addMethod(route.method, new LambdaIntegration(fn.function), {
          authorizationType: AuthorizationType.IAM,
        })
    }
  }
}
