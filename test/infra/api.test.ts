/**
 * Template assertions for the API side of UserIdentityLifecycleStack: IAM authorization on every method,
 * stage throttling, access logs and tracing, the house defaults of every Lambda (runtime, architecture,
 * log group, tracing, bundling), least-privilege access to the Seam key secret and the deletion state
 * machine, and the stack outputs. (API Gateway's own error responses: test/infra/operations.test.ts.)
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { App, type CfnElement, Stack } from 'aws-cdk-lib'
import { Template } from 'aws-cdk-lib/assertions'
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda'
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs'
import { beforeAll, describe, expect, it } from 'vitest'
import { ROUTES } from '../../functions/api/routes.js'
import { ServiceFunction } from '../../infra/constructs/service-function.js'
import { UserIdentityLifecycleStack } from '../../infra/stack.js'

const ENV = { account: '123456789012', region: 'us-east-1' }
const SECRET_NAME = 'seam/test/api-key'

type Json = Record<string, unknown>
interface Resource {
  Type: string
  Properties: Json
}
interface Statement {
  Effect: string
  Action: string | string[]
  Resource: unknown
}

let stack: UserIdentityLifecycleStack
let template: Template
let resources: Record<string, Resource>

beforeAll(() => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } })
  // The IAM-authorized API alone: the webhook route, its functions and grants are in
  // test/infra/webhooks-stack.test.ts.
  stack = new UserIdentityLifecycleStack(app, 'ApiTest', {
    stageName: 'test',
    seamSecretName: SECRET_NAME,
    env: ENV,
    seamWebhooks: false,
  })
  template = Template.fromStack(stack)
  resources = template.toJSON().Resources as Record<string, Resource>
})

const ofType = (type: string) =>
  Object.entries(resources).filter(([, resource]) => resource.Type === type)

function propsOf(logicalId: string): Json {
  const resource = resources[logicalId]
  if (!resource) throw new Error(`no resource ${logicalId}`)
  return resource.Properties
}

const logicalIdOf = (fn: ServiceFunction) =>
  stack.getLogicalId(fn.function.node.defaultChild as CfnFunction)

const actionsOf = (statement: Statement) =>
  Array.isArray(statement.Action) ? statement.Action : [statement.Action]

/** Every IAM statement that applies to a Lambda function: its role's policies and inline policies. */
function statementsOf(functionLogicalId: string): Statement[] {
  const fn = resources[functionLogicalId] as Resource
  const role = (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0]
  const attached = ofType('AWS::IAM::Policy')
    .filter(([, policy]) =>
      (policy.Properties.Roles as unknown[]).some(
        (r) => JSON.stringify(r) === JSON.stringify({ Ref: role }),
      ),
    )
    .flatMap(
      ([, policy]) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement,
    )
  const inline = (
    (resources[role]?.Properties.Policies ?? []) as { PolicyDocument: Json }[]
  ).flatMap((p) => (p.PolicyDocument as { Statement: Statement[] }).Statement)
  return [...attached, ...inline]
}

/** Full path of an AWS::ApiGateway::Resource, e.g. /user-identities/{user_identity_id}. */
function pathOf(resourceId: unknown): string {
  const ref = (resourceId as { Ref?: string }).Ref
  if (!ref) return '' // the API's root resource (Fn::GetAtt RootResourceId)
  const resource = resources[ref] as Resource
  return `${pathOf(resource.Properties.ParentId)}/${resource.Properties.PathPart as string}`
}

const apiFunctions = () =>
  ROUTES.map((route) => {
    const fn = stack.api.functions[route.id]
    if (!fn) throw new Error(`no function for route ${route.id}`)
    return { route, logicalId: logicalIdOf(fn) }
  })

// The workflows' functions: the deletion stages, and the bulk deletion's task.
const deletionFunctionIds = () =>
  [...stack.deletion.functions, ...stack.bulk.functions].map(logicalIdOf)

// ---------------------------------------------------------------------------------------------------

describe('the REST API', () => {
  it('has IAM authorization on every method, one method per route and nothing else', () => {
    const methods = ofType('AWS::ApiGateway::Method')
    expect(methods.length).toBe(ROUTES.length)
    for (const [id, method] of methods) {
      expect(method.Properties.AuthorizationType, id).toBe('AWS_IAM')
      expect(method.Properties.AuthorizerId, id).toBeUndefined()
    }
    const served = methods.map(
      ([, m]) => `${m.Properties.HttpMethod as string} ${pathOf(m.Properties.ResourceId)}`,
    )
    expect(served.sort()).toEqual(ROUTES.map((r) => `${r.method} ${r.path}`).sort())
    template.resourceCountIs('AWS::ApiGateway::Authorizer', 0)
  })

  it('sends each method to its own route Lambda through the proxy integration', () => {
    for (const { route, logicalId } of apiFunctions()) {
      const [, method] = ofType('AWS::ApiGateway::Method').find(
        ([, m]) =>
          m.Properties.HttpMethod === route.method &&
          pathOf(m.Properties.ResourceId) === route.path,
      ) as [string, Resource]
      const integration = method.Properties.Integration as Json
      expect(integration.Type).toBe('AWS_PROXY')
      expect(JSON.stringify(integration.Uri)).toContain(`"${logicalId}","Arn"`)
    }
  })

  it('throttles the stage, logs access as JSON into a retained log group, no data traces, X-Ray on', () => {
    const stages = ofType('AWS::ApiGateway::Stage')
    expect(stages.length).toBe(1)
    const stage = (stages[0] as [string, Resource])[1].Properties
    expect(stage.StageName).toBe('test')
    expect(stage.TracingEnabled).toBe(true)

    const settings = stage.MethodSettings as Json[]
    const all = settings.find((s) => s.HttpMethod === '*' && s.ResourcePath === '/*') as Json
    expect(all.ThrottlingRateLimit).toEqual(expect.any(Number))
    expect(all.ThrottlingBurstLimit).toEqual(expect.any(Number))
    expect(all.ThrottlingRateLimit as number).toBeGreaterThan(0)
    expect(all.ThrottlingBurstLimit as number).toBeGreaterThanOrEqual(
      all.ThrottlingRateLimit as number,
    )
    // Request and response bodies hold emails and phone numbers: never into the execution logs.
    for (const setting of settings) expect(setting.DataTraceEnabled ?? false).toBe(false)

    const access = stage.AccessLogSetting as { DestinationArn: unknown; Format: string }
    const logGroupId = (access.DestinationArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt']
    expect(logGroupId[1]).toBe('Arn')
    const logGroup = resources[logGroupId[0]] as Resource
    expect(logGroup.Type).toBe('AWS::Logs::LogGroup')
    expect(logGroup.Properties.RetentionInDays).toEqual(expect.any(Number))
    const format = JSON.parse(access.Format) as Record<string, string>
    expect(format).toMatchObject({
      requestId: '$context.requestId',
      status: '$context.status',
      httpMethod: '$context.httpMethod',
      resourcePath: '$context.resourcePath',
      caller: '$context.identity.caller',
      ip: '$context.identity.sourceIp',
    })
  })
})

describe('every Lambda function', () => {
  it('is a ServiceFunction: Node 24 on arm64, JSON logs into its own retained log group, X-Ray active', () => {
    const functions = ofType('AWS::Lambda::Function')
    expect(functions.length).toBe(
      ROUTES.length + stack.deletion.functions.length + stack.bulk.functions.length,
    )
    for (const [id, fn] of functions) {
      const p = fn.Properties
      expect(p.Runtime, id).toBe('nodejs24.x')
      expect(p.Architectures, id).toEqual(['arm64'])
      expect(p.TracingConfig, id).toEqual({ Mode: 'Active' })
      const logging = p.LoggingConfig as { LogFormat: string; LogGroup: { Ref: string } }
      expect(logging.LogFormat, id).toBe('JSON')
      const logGroup = resources[logging.LogGroup.Ref] as Resource
      expect(logGroup.Type, id).toBe('AWS::Logs::LogGroup')
      expect(logGroup.Properties.RetentionInDays, id).toEqual(expect.any(Number))
    }
    // The API functions answer before API Gateway's 29 s integration timeout gives up on them.
    for (const { route, logicalId } of apiFunctions()) {
      expect(propsOf(logicalId).Timeout, route.id).toBe(25)
    }
    // Retention is on the explicit log groups, not through CDK's log-retention custom resource.
    expect(ofType('Custom::LogRetention')).toEqual([])
  })

  it('runs an ESM bundle with source maps enabled (handler index.handler, NODE_OPTIONS)', () => {
    for (const [id, fn] of ofType('AWS::Lambda::Function')) {
      expect(fn.Properties.Handler, id).toBe('index.handler')
      const variables = (fn.Properties.Environment as { Variables: Record<string, unknown> })
        .Variables
      expect(variables.NODE_OPTIONS, id).toBe('--enable-source-maps')
    }
    const nodejsFunctions = stack.node.findAll().filter((c) => c instanceof NodejsFunction)
    expect(nodejsFunctions.length).toBe(ofType('AWS::Lambda::Function').length)
    for (const fn of nodejsFunctions) {
      expect(fn.node.scope, fn.node.path).toBeInstanceOf(ServiceFunction)
    }
  })

  it('is bundled by ServiceFunction as minified ESM with a source map, the AWS SDK left external', () => {
    // Bundling for real (local esbuild, no Docker) of one route handler through the house construct.
    const outdir = mkdtempSync(join(tmpdir(), 'house-bundle-'))
    try {
      const app = new App({ outdir })
      const bundled = new Stack(app, 'Bundled', { env: ENV })
      const create = ROUTES.find((r) => r.method === 'POST') as (typeof ROUTES)[number]
      new ServiceFunction(bundled, 'Create', { entry: create.entry, description: 'bundle test' })
      app.synth()
      const assets = readdirSync(outdir).filter((d) => d.startsWith('asset.'))
      expect(assets.length).toBe(1)
      const dir = join(outdir, assets[0] as string)
      expect(readdirSync(dir).sort()).toEqual(['index.mjs', 'index.mjs.map'])
      const code = readFileSync(join(dir, 'index.mjs'), 'utf8')
      expect(code).toMatch(/export\s*\{[^}]*\bhandler\b[^}]*\}/) // an ES module exporting handler
      expect(code).not.toMatch(/\bmodule\.exports\s*=\s*\{?\s*handler/)
      expect(code).toMatch(/\/\/# sourceMappingURL=index\.mjs\.map\s*$/)
      const lines = code.split('\n')
      expect(code.length / lines.length).toBeGreaterThan(500) // minified
      expect(code).toMatch(/from\s*"@aws-sdk\/[\w-]+"/) // external: the runtime provides it
      const map = JSON.parse(readFileSync(join(dir, 'index.mjs.map'), 'utf8')) as {
        sources: string[]
      }
      expect(map.sources.some((s) => s.endsWith(create.entry))).toBe(true)
    } finally {
      rmSync(outdir, { recursive: true, force: true })
    }
  }, 60_000)
})

describe('least privilege', () => {
  it('grants the Seam key secret to exactly the functions that call Seam, scoped to that secret', () => {
    const callsSeam = new Set([
      ...apiFunctions()
        .filter(({ route }) => route.callsSeam)
        .map(({ logicalId }) => logicalId),
      ...deletionFunctionIds(),
    ])
    expect(callsSeam.size).toBeGreaterThan(1)
    for (const [id] of ofType('AWS::Lambda::Function')) {
      const secretStatements = statementsOf(id).filter((s) =>
        actionsOf(s).some((a) => a.startsWith('secretsmanager:')),
      )
      if (!callsSeam.has(id)) {
        expect(secretStatements, id).toEqual([])
        continue
      }
      expect(
        secretStatements.flatMap(actionsOf).filter((a) => a === 'secretsmanager:GetSecretValue'),
        id,
      ).toHaveLength(1)
      for (const statement of secretStatements) {
        expect(statement.Effect).toBe('Allow')
        expect(
          actionsOf(statement).every((a) =>
            ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'].includes(a),
          ),
          id,
        ).toBe(true)
        const targets = Array.isArray(statement.Resource)
          ? statement.Resource
          : [statement.Resource]
        for (const target of targets) {
          expect(target, id).not.toBe('*')
          const arn = JSON.stringify(target)
          expect(arn, id).toContain(
            `:secretsmanager:${ENV.region}:${ENV.account}:secret:${SECRET_NAME}-??????`,
          )
          expect(arn, id).not.toMatch(/secret:\*|secret:"\s*\]|\*"/)
        }
      }
    }
  })

  it('no policy anywhere grants secrets or Step Functions actions on every resource', () => {
    for (const [id, policy] of ofType('AWS::IAM::Policy')) {
      const statements = (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement
      for (const statement of statements) {
        const sensitive = actionsOf(statement).some(
          (a) => a.startsWith('secretsmanager:') || a.startsWith('states:'),
        )
        if (!sensitive) continue
        expect(statement.Resource, id).not.toBe('*')
        expect(
          actionsOf(statement).some((a) => a.endsWith(':*')),
          id,
        ).toBe(false)
      }
    }
  })

  it('lets the deletion routes only start/describe/read the history of the deletion state machine', () => {
    const stateMachineId = stack.getLogicalId(
      stack.deletion.stateMachine.node.defaultChild as CfnElement,
    )
    const allowedApiActions = new Set([
      'xray:PutTraceSegments',
      'xray:PutTelemetryRecords',
      'secretsmanager:GetSecretValue',
      'secretsmanager:DescribeSecret',
      'states:StartExecution',
      'states:DescribeExecution',
      'states:GetExecutionHistory',
      // Writing its own log group (checked below), where the function has its own role for it.
      'logs:CreateLogStream',
      'logs:PutLogEvents',
    ])
    // The create's per-ACS-user leases, in the coordination table (the create alone).
    const leaseActions = new Set([
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:BatchGetItem',
      'dynamodb:DeleteItem',
    ])
    // The bulk routes: test/infra/bulk-workflow.test.ts.
    for (const { route, logicalId } of apiFunctions().filter(({ route }) => !route.bulk)) {
      const statements = statementsOf(logicalId)
      for (const action of statements.flatMap(actionsOf)) {
        const allowed =
          allowedApiActions.has(action) ||
          (route.id === 'CreateUserIdentity' && leaseActions.has(action))
        expect(allowed, `${route.id}: ${action}`).toBe(true)
      }
      const ownLogGroup = (propsOf(logicalId).LoggingConfig as { LogGroup: { Ref: string } })
        .LogGroup.Ref
      for (const statement of statements.filter((s) =>
        actionsOf(s).some((a) => a.startsWith('logs:')),
      )) {
        expect(JSON.stringify(statement.Resource), route.id).toContain(`"${ownLogGroup}"`)
      }
      const states = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('states:')))
      const granted = states.flatMap(actionsOf).sort()
      const expected =
        route.deletions === 'start'
          ? ['states:DescribeExecution', 'states:GetExecutionHistory', 'states:StartExecution']
          : route.deletions === 'read'
            ? ['states:DescribeExecution', 'states:GetExecutionHistory']
            : []
      expect(granted, route.id).toEqual(expected)
      for (const statement of states) {
        const target = JSON.stringify(statement.Resource)
        expect(target, route.id).toContain(`"Ref":"${stateMachineId}"`)
        if (actionsOf(statement).includes('states:StartExecution')) {
          // StartExecution on the state machine itself, nothing else in that statement.
          expect(statement.Resource, route.id).toEqual({ Ref: stateMachineId })
          expect(actionsOf(statement), route.id).toEqual(['states:StartExecution'])
        } else {
          // Describe / history on the executions of this state machine only.
          expect(target, route.id).toContain(`:states:${ENV.region}:${ENV.account}:execution:`)
        }
      }
      const env = (propsOf(logicalId).Environment as { Variables: Json }).Variables
      if (route.deletions) expect(env.DELETION_STATE_MACHINE_ARN).toEqual({ Ref: stateMachineId })
      else expect(env.DELETION_STATE_MACHINE_ARN).toBeUndefined()
      if (route.callsSeam) expect(env.SEAM_API_KEY_SECRET_NAME).toBe(SECRET_NAME)
      else expect(env.SEAM_API_KEY_SECRET_NAME).toBeUndefined()
    }
  })

  it('lets API Gateway invoke each route Lambda only for its own method and path', () => {
    for (const { route, logicalId } of apiFunctions()) {
      const permissions = ofType('AWS::Lambda::Permission').filter(([, p]) =>
        JSON.stringify(p.Properties.FunctionName).includes(`"${logicalId}"`),
      )
      expect(permissions.length, route.id).toBeGreaterThan(0)
      for (const [, permission] of permissions) {
        expect(permission.Properties.Principal).toBe('apigateway.amazonaws.com')
        const source = JSON.stringify(permission.Properties.SourceArn)
        expect(source, route.id).toContain(
          `/${route.method}${route.path.replace(/\{\w+\}/g, '*')}"`,
        )
      }
    }
  })
})

describe('outputs', () => {
  it('ApiUrl is the deployed stage URL, DeletionStateMachineArn the state machine', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>
    const apiId = ofType('AWS::ApiGateway::RestApi')[0]?.[0] as string
    const stageId = ofType('AWS::ApiGateway::Stage')[0]?.[0] as string
    const url = JSON.stringify(outputs.ApiUrl?.Value)
    expect(url).toContain('https://')
    expect(url).toContain(`{"Ref":"${apiId}"}`)
    expect(url).toContain(`{"Ref":"${stageId}"}`)
    expect(url).toContain('.execute-api.')
    const stateMachineId = ofType('AWS::StepFunctions::StateMachine')[0]?.[0] as string
    expect(outputs.DeletionStateMachineArn?.Value).toEqual({ Ref: stateMachineId })
  })
})
