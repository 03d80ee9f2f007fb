import { Duration, RemovalPolicy } from 'aws-cdk-lib'
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam'
import { Architecture, LoggingFormat, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda'
import { type BundlingOptions, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs'
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs'
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager'
import { Construct } from 'constructs'
import { SEAM_INSTANCE_REQUESTS_PER_SECOND_ENV } from '../../functions/seam/pacer.js'
import type { FunctionCapacity } from '../capacity.js'
import { REPO_ROOT } from '../repo-root.js'
import { acknowledgeWildcardResources } from './nag.js'

/** The esbuild settings of every ServiceFunction bundle; exported so `npm run bench` bundles alike. */
export const SERVICE_BUNDLING = {
  format: OutputFormat.ESM,
  target: 'node24',
  minify: true,
  sourceMap: true,
  mainFields: ['module', 'main'],
  // Some CommonJS dependencies call require(); give the ESM bundle one.
  banner:
    "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
  externalModules: ['@aws-sdk/*'],
} satisfies BundlingOptions

/**
 * Default timeout: that of the API's Lambdas, under API Gateway's 29 s integration timeout with room for
 * a cold start, so the caller always gets the handler's own answer (the create's deadline is derived
 * from the time left, and middy answers 504 one second before the end), never the gateway's. Functions
 * not behind the gateway (the deletion tasks) pass their own.
 */
export const DEFAULT_FUNCTION_TIMEOUT = Duration.seconds(25)
/** Memory of a function that names none: small, since the handlers mostly wait on Seam. */
export const DEFAULT_MEMORY_MB = 256

export interface ServiceFunctionProps {
  /** Path of the handler module, relative to the repository root (e.g. functions/api/create.ts). */
  readonly entry: string
  readonly description: string
  readonly timeout?: Duration
  readonly memorySize?: number
  readonly environment?: Record<string, string>
  /** The Seam API key secret: when given, only this function is granted read on it. */
  readonly seamSecret?: ISecret
  readonly logRetention?: RetentionDays
  /** Reserved concurrency: Lambda throttles invocations past it (TooManyRequestsException). */
  readonly reservedConcurrency?: number
  /** Its part of the deployment's Seam budget (infra/capacity.ts): reserved concurrency + each instance's pace. */
  readonly seamCapacity?: FunctionCapacity
}

/**
 * A Lambda function with the house defaults: Node 24 on ARM64, an ESM bundle minified with source maps,
 * JSON logs into its own log group with a retention, X-Ray tracing. The handler module's path is kept in
 * `entry` so the local runtime can bind the same module (see local/).
 */
export class ServiceFunction extends Construct {
  readonly function: NodejsFunction
  readonly entry: string
  /** Its Seam capacity, when the deployment has a Seam budget (the local runtime paces alike). */
  readonly seamCapacity: FunctionCapacity | undefined

  constructor(scope: Construct, id: string, props: ServiceFunctionProps) {
    super(scope, id)
    this.entry = props.entry
    this.seamCapacity = props.seamCapacity
    const reservedConcurrency = props.seamCapacity?.reservedConcurrency ?? props.reservedConcurrency
    const logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.RETAIN,
    })
    // Its own role instead of the managed AWSLambdaBasicExecutionRole (log writes to every log group in
    // the account): it may write to its own log group only.
    const role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Runs ${props.entry}`,
    })
    logGroup.grantWrite(role)
    this.function = new NodejsFunction(this, 'Function', {
      role,
      entry: `${REPO_ROOT}${props.entry}`,
      projectRoot: REPO_ROOT,
      depsLockFilePath: `${REPO_ROOT}package-lock.json`,
      handler: 'handler',
      description: props.description,
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? DEFAULT_MEMORY_MB,
      timeout: props.timeout ?? DEFAULT_FUNCTION_TIMEOUT,
      tracing: Tracing.ACTIVE,
      logGroup,
      loggingFormat: LoggingFormat.JSON,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: 'seam-user-identities',
        ...(props.seamSecret ? { SEAM_API_KEY_SECRET_NAME: props.seamSecret.secretName } : {}),
        ...props.environment,
        ...(props.seamCapacity
          ? {
              [SEAM_INSTANCE_REQUESTS_PER_SECOND_ENV]: String(
                props.seamCapacity.instanceRequestsPerSecond,
              ),
            }
          : {}),
      },
      bundling: SERVICE_BUNDLING,
      ...(reservedConcurrency === undefined
        ? {}
        : { reservedConcurrentExecutions: reservedConcurrency }),
    })
    this.function.node.addMetadata('local:entry', props.entry)
    props.seamSecret?.grantRead(this.function)
    acknowledgeWildcardResources(
      role,
      ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
      'X-Ray PutTraceSegments and PutTelemetryRecords support no resource-level permissions: AWS documents Resource "*" for them (tracing: ACTIVE).',
    )
  }
}
