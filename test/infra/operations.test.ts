/**
 * Operations: the alarms and where they go, a deterministic synth, the context settings infra/app.ts
 * reads (parsed and validated by infra/config.ts), and API Gateway's own answers in the contract shape.
 */
import { App, Stack } from 'aws-cdk-lib'
import { Match, Template } from 'aws-cdk-lib/assertions'
import { Topic } from 'aws-cdk-lib/aws-sns'
import { describe, expect, it } from 'vitest'
import { ROUTES } from '../../functions/api/routes.js'
import { DEFAULT_POLL_POLICY } from '../../functions/core/poll.js'
import { DELETION_STAGES } from '../../functions/core/stages.js'
import { ConfigError, DEFAULT_THROTTLING, parseConfig } from '../../infra/config.js'
import { CONTRACT_GATEWAY_RESPONSES } from '../../infra/constructs/gateway-responses.js'
import {
  UserIdentityLifecycleStack,
  type UserIdentityLifecycleStackProps,
} from '../../infra/stack.js'

const ENV = { account: '123456789012', region: 'us-east-1' }

function stackOf(props: Partial<UserIdentityLifecycleStackProps> = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } })
  const stack = new UserIdentityLifecycleStack(app, 'Ops', {
    stageName: 'test',
    seamSecretName: 'seam/test/api-key',
    env: ENV,
    ...props,
  })
  return { stack, template: Template.fromStack(stack) }
}

const logicalIdOf = (template: Template, type: string, pattern: RegExp): string => {
  const ids = Object.keys(template.findResources(type)).filter((id) => pattern.test(id))
  expect(ids, `one ${type} matching ${pattern}`).toHaveLength(1)
  return ids[0] as string
}

describe('alarms', () => {
  const { template } = stackOf()
  const stateMachine = logicalIdOf(template, 'AWS::StepFunctions::StateMachine', /^Deletion/)
  const stage = logicalIdOf(template, 'AWS::ApiGateway::Stage', /^Api/)

  it.for([
    ['ExecutionsFailed', 'failed'],
    ['ExecutionsTimedOut', 'timed out'],
  ])('on %s executions of the deletion state machine (%s), at the first one', ([metric]) => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/States',
      MetricName: metric,
      Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: stateMachine } }],
      Statistic: 'Sum',
      Period: 300,
      Threshold: 1,
      EvaluationPeriods: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmDescription: Match.stringLikeRegexp('DELETE the user identity again'),
    })
  })

  it('on API 5xx answers of the stage, at the first one', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/ApiGateway',
      MetricName: '5XXError',
      Dimensions: Match.arrayWith([
        { Name: 'ApiName', Value: 'seam-user-identities-test' },
        { Name: 'Stage', Value: { Ref: stage } },
      ]),
      Statistic: 'Sum',
      Threshold: 1,
    })
  })

  it('on the errors of every Lambda', () => {
    // Ours: not the CDK Provider framework's function that relays the webhook registration.
    const functions = Object.entries(template.findResources('AWS::Lambda::Function'))
      .filter(([, fn]) => fn.Properties.Handler !== 'framework.onEvent')
      .map(([id]) => id)
    // + the bulk deletion's task, the webhook route, the await task and the webhook registration.
    expect(functions).toHaveLength(ROUTES.length + DELETION_STAGES.length + 4)
    for (const fn of functions) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: fn } }],
        Threshold: 5,
      })
    }
    // + the Seam throttle alarm (test/infra/observability.test.ts)
    template.resourceCountIs('AWS::CloudWatch::Alarm', 4 + functions.length)
  })

  it('without a topic: alarms without actions, no topic created', () => {
    template.resourceCountIs('AWS::SNS::Topic', 0)
    for (const alarm of Object.values(template.findResources('AWS::CloudWatch::Alarm'))) {
      expect(alarm.Properties.AlarmActions).toBeUndefined()
    }
  })

  it('with alarmEmail: a TLS-only topic with the address subscribed; every alarm and its OK go to it', () => {
    const { template } = stackOf({ alarmEmail: 'ops@example.com' })
    template.resourceCountIs('AWS::SNS::Topic', 1)
    const topic = logicalIdOf(template, 'AWS::SNS::Topic', /^Alarms/)
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
      TopicArn: { Ref: topic },
    })
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    })
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'))
    expect(alarms.length).toBeGreaterThan(3)
    for (const alarm of alarms) {
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topic }])
      expect(alarm.Properties.OKActions).toEqual([{ Ref: topic }])
    }
    template.hasOutput('AlarmTopicArn', { Value: { Ref: topic } })
  })

  it('with an alarmTopic: alarms go to that topic, none is created', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } })
    const arn = 'arn:aws:sns:us-east-1:123456789012:oncall'
    const stack = new UserIdentityLifecycleStack(app, 'Ops', {
      stageName: 'test',
      seamSecretName: 'seam/test/api-key',
      env: ENV,
      alarmEmail: 'ignored@example.com',
      alarmTopic: Topic.fromTopicArn(new Stack(app, 'Shared', { env: ENV }), 'OnCall', arn),
    })
    const template = Template.fromStack(stack)
    template.resourceCountIs('AWS::SNS::Topic', 0)
    for (const alarm of Object.values(template.findResources('AWS::CloudWatch::Alarm'))) {
      expect(alarm.Properties.AlarmActions).toEqual([arn])
    }
  })
})

describe('synth is deterministic', () => {
  it('two fresh apps give identical templates', () => {
    const props = { alarmEmail: 'ops@example.com', pollPolicy: { stageTimeoutSeconds: 120 } }
    const first = JSON.stringify(stackOf(props).template.toJSON())
    const second = JSON.stringify(stackOf(props).template.toJSON())
    expect(second).toBe(first)
    expect(first).not.toMatch(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/) // no timestamp baked in
  })
})

describe('configuration from context (infra/config.ts)', () => {
  it('defaults', () => {
    expect(parseConfig({})).toEqual({
      stageName: 'dev',
      seamSecretName: 'seam/dev/api-key',
      pollPolicy: DEFAULT_POLL_POLICY,
      throttling: DEFAULT_THROTTLING,
      seamWebhooks: true,
    })
  })

  it('reads every key, as the strings `-c key=value` gives or as cdk.json numbers', () => {
    expect(
      parseConfig({
        stageName: 'prod',
        seamSecretName: 'seam/prod/key',
        stageTimeoutSeconds: '60',
        firstWaitSeconds: 3,
        maxWaitSeconds: '20',
        backoffRate: '2',
        maxChecks: '40',
        seamWebhooks: 'false',
        throttlingRateLimit: '10.5',
        throttlingBurstLimit: 20,
        alarmEmail: 'ops@example.com',
      }),
    ).toEqual({
      stageName: 'prod',
      seamSecretName: 'seam/prod/key',
      pollPolicy: {
        stageTimeoutSeconds: 60,
        firstWaitSeconds: 3,
        maxWaitSeconds: 20,
        backoffRate: 2,
        maxChecks: 40,
      },
      throttling: { rateLimit: 10.5, burstLimit: 20 },
      alarmEmail: 'ops@example.com',
      seamWebhooks: false,
    })
    expect(parseConfig({ stageName: 'qa' }).seamSecretName).toBe('seam/qa/api-key')
  })

  it.for([
    [{ stageName: '1st' }, /stageName must start with a letter/],
    [{ stageName: 'a_b' }, /stageName/],
    [{ stageName: 'x'.repeat(33) }, /stageName/],
    [{ stageName: 42 }, /stageName must be a string/],
    [{ seamSecretName: 'seam key' }, /seamSecretName must be a Secrets Manager secret name/],
    [
      { stageTimeoutSeconds: '0' },
      /stageTimeoutSeconds must be a whole number of seconds from 1 to 1800, got "0"/,
    ],
    [
      { stageTimeoutSeconds: '1801' },
      /stageTimeoutSeconds must be a whole number of seconds from 1 to 1800, got "1801"/,
    ],
    [{ stageTimeoutSeconds: 'ten' }, /stageTimeoutSeconds/],
    [{ firstWaitSeconds: '1.5' }, /firstWaitSeconds/],
    [{ maxWaitSeconds: -1 }, /maxWaitSeconds/],
    [
      { firstWaitSeconds: 10, maxWaitSeconds: 5 },
      /maxWaitSeconds must be at least firstWaitSeconds/,
    ],
    [{ backoffRate: '0.5' }, /backoffRate must be a number of at least 1/],
    [{ maxChecks: '501' }, /maxChecks must be a whole number from 1 to 500/],
    [{ throttlingRateLimit: '0' }, /throttlingRateLimit/],
    [{ throttlingBurstLimit: '2.5' }, /throttlingBurstLimit/],
    [{ alarmEmail: 'ops' }, /alarmEmail must be an email address/],
    [{ seamWebhooks: 'maybe' }, /seamWebhooks must be true or false, got "maybe"/],
  ] as const)('refuses %o naming the key', ([context, message]) => {
    expect(() => parseConfig(context)).toThrow(ConfigError)
    expect(() => parseConfig(context)).toThrow(message)
  })

  it('refuses a poll policy that could reach the 25,000-event history limit, naming the limit', () => {
    // One check a second for 30 minutes, capped at 81 checks: 6 stages × 81 × 51 events and more.
    const everySecond = {
      firstWaitSeconds: '1',
      backoffRate: '1',
      maxWaitSeconds: '1',
      stageTimeoutSeconds: '1800',
      seamWebhooks: 'false',
    }
    expect(() => parseConfig({ ...everySecond, maxChecks: '81' })).toThrow(ConfigError)
    expect(() => parseConfig({ ...everySecond, maxChecks: '81' })).toThrow(
      /25,085 history events[\s\S]*Step Functions' limit of 25,000 events per execution/,
    )
    expect(parseConfig({ ...everySecond, maxChecks: '80' }).pollPolicy.maxChecks).toBe(80)
    // With webhooks each wait is an Await task, whose events (and retries) count more than a Wait's.
    expect(() => parseConfig({ ...everySecond, seamWebhooks: 'true', maxChecks: '80' })).toThrow(
      /history events/,
    )
    // The most it allows with webhooks, as the README says: 67 checks per stage.
    expect(
      parseConfig({ ...everySecond, seamWebhooks: 'true', maxChecks: '67' }).pollPolicy.maxChecks,
    ).toBe(67)
    expect(() => parseConfig({ ...everySecond, seamWebhooks: 'true', maxChecks: '68' })).toThrow(
      /history events/,
    )
  })

  it('lists every problem at once', () => {
    expect(() => parseConfig({ stageName: '-', maxChecks: 0, alarmEmail: 'x' })).toThrow(
      /stageName[\s\S]*maxChecks[\s\S]*alarmEmail/,
    )
  })

  it('reaches the template: stage, secret, throttling, poll policy', () => {
    const config = parseConfig({
      stageName: 'qa',
      seamSecretName: 'seam/qa/other',
      stageTimeoutSeconds: '120',
      maxChecks: '30',
      throttlingRateLimit: '7',
      throttlingBurstLimit: '14',
    })
    const { template } = stackOf(config)
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'qa',
      MethodSettings: Match.arrayWith([
        Match.objectLike({ ThrottlingRateLimit: 7, ThrottlingBurstLimit: 14, ResourcePath: '/*' }),
      ]),
    })
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ SEAM_API_KEY_SECRET_NAME: 'seam/qa/other' }) },
    })
    const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine'))
    const definition = JSON.stringify(machine?.Properties.DefinitionString)
    // Every stage loops, so each gets its bound: 120 s + 2 task states × (30 s of Seam calls + a 10 s
    // retry delay) + 1 s; and 5 min more.
    expect(DELETION_STAGES).toHaveLength(6)
    expect(definition).toContain(`\\"TimeoutSeconds\\":${6 * (120 + 2 * (30 + 10) + 1) + 5 * 60}`)
    expect(definition).toContain('\\"stageTimeoutSeconds\\":120')
    expect(definition).toContain('\\"maxChecks\\":30')
  })
})

describe('API Gateway', () => {
  const { template } = stackOf()

  it("answers in the contract's error shape for its own refusals", () => {
    const responses = Object.values(template.findResources('AWS::ApiGateway::GatewayResponse'))
    expect(responses).toHaveLength(CONTRACT_GATEWAY_RESPONSES.length)
    const types = responses.map((r) => r.Properties.ResponseType).sort()
    expect(types).toEqual(
      expect.arrayContaining([
        'ACCESS_DENIED',
        'MISSING_AUTHENTICATION_TOKEN',
        'THROTTLED',
        'REQUEST_TOO_LARGE',
        'DEFAULT_4XX',
        'DEFAULT_5XX',
      ]),
    )
    for (const response of responses) {
      const vtl = response.Properties.ResponseTemplates['application/json'] as string
      // What API Gateway renders: $context.error.messageString is the message as a JSON string.
      const rendered = vtl
        .replace('$context.error.messageString', JSON.stringify('Missing Authentication Token'))
        .replace('$context.requestId', 'b7a1c2d3-0000-4000-8000-000000000000')
      const body = JSON.parse(rendered) as { error: Record<string, string> }
      expect(Object.keys(body)).toEqual(['error'])
      expect(body.error.type).toMatch(/^[a-z][a-z0-9_]*$/)
      expect(body.error.message).toBe('Missing Authentication Token')
      expect(body.error.request_id).toBe('b7a1c2d3-0000-4000-8000-000000000000')
      expect(response.Properties.ResponseParameters).toEqual({
        'gatewayresponse.header.Content-Type': "'application/json'",
      })
    }
  })

  it('validates requests (path parameters required) on every method', () => {
    const validator = logicalIdOf(template, 'AWS::ApiGateway::RequestValidator', /^Api/)
    template.hasResourceProperties('AWS::ApiGateway::RequestValidator', {
      ValidateRequestBody: true,
      ValidateRequestParameters: true,
    })
    // IAM-authorized ones: the webhook route's body is Seam's, checked by its signature alone.
    const methods = Object.values(
      template.findResources('AWS::ApiGateway::Method', {
        Properties: { AuthorizationType: 'AWS_IAM' },
      }),
    )
    expect(methods).toHaveLength(ROUTES.length)
    for (const method of methods) {
      expect(method.Properties.RequestValidatorId).toEqual({ Ref: validator })
    }
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'DELETE',
      RequestParameters: { 'method.request.path.user_identity_id': true },
    })
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'GET',
      RequestParameters: { 'method.request.path.deletion_id': true },
    })
  })
})
