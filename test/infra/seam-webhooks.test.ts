// The SeamWebhooks construct in a small stack of its own (an API, a state machine): the table's
// settings, the unauthenticated but throttled route, the registration custom resource, resume
// rights limited to one state machine, least-privilege table access — and cdk-nag clean.
import { App, Stack } from 'aws-cdk-lib'
import { Match, Template } from 'aws-cdk-lib/assertions'
import { AuthorizationType, MockIntegration, RestApi } from 'aws-cdk-lib/aws-apigateway'
import { Secret } from 'aws-cdk-lib/aws-secretsmanager'
import * as sfn from 'aws-cdk-lib/aws-stepfunctions'
import { AwsSolutionsChecks } from 'cdk-nag'
import { describe, expect, it } from 'vitest'
import { WEBHOOK_EVENT_TYPES } from '../../functions/core/coordination.js'
import { CoordinationTable } from '../../infra/constructs/coordination-table.js'
import { acknowledge } from '../../infra/constructs/nag.js'
import { SeamWebhooks, webhookMethodOptions } from '../../infra/constructs/seam-webhooks.js'

function build() {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } })
  const stack = new Stack(app, 'Webhooks', {
    env: { account: '123456789012', region: 'us-east-1' },
  })
  const api = new RestApi(stack, 'Api', {
    defaultMethodOptions: { authorizationType: AuthorizationType.IAM },
    deployOptions: {
      throttlingRateLimit: 50,
      throttlingBurstLimit: 100,
      methodOptions: webhookMethodOptions({ rateLimit: 20, burstLimit: 40 }),
    },
    cloudWatchRole: false,
  })
  // What the test stack's API needs to pass cdk-nag on its own; the real API construct has these.
  api.root.addMethod('GET', new MockIntegration())
  for (const rule of ['APIG1', 'APIG2', 'APIG3', 'APIG6', 'COG4']) {
    acknowledge(
      api,
      `AwsSolutions-${rule}`,
      'A stand-in API for this construct test only; the service API construct is checked by its own nag test.',
    )
  }
  const machine = new sfn.StateMachine(stack, 'Machine', {
    definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, 'Nothing')),
    tracingEnabled: true,
  })
  for (const rule of ['AwsSolutions-SF1', 'AwsSolutions-IAM5[Resource::*]']) {
    acknowledge(
      machine,
      rule,
      'A stand-in state machine for this construct test only (X-Ray needs Resource *).',
    )
  }
  const webhooks = new SeamWebhooks(stack, 'SeamWebhooks', {
    coordination: new CoordinationTable(stack, 'Coordination'),
    seamSecret: Secret.fromSecretNameV2(stack, 'SeamKey', 'seam/test/api-key'),
    webhookUrl: `${api.url}webhooks/seam`,
  })
  webhooks.addRoute(api)
  webhooks.allowResume(machine)
  return { stack, template: Template.fromStack(stack), machine }
}

describe('SeamWebhooks', () => {
  const { stack, template } = build()

  it('keeps waiters and events in an on-demand, encrypted, recoverable table with a TTL', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'expires_at', Enabled: true },
    })
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain' })
  })

  it('serves POST /webhooks/seam without IAM authorization, throttled on its own', () => {
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'POST',
      AuthorizationType: 'NONE',
      ResourceId: { Ref: Match.stringLikeRegexp('ApiwebhooksseamResource|Apiwebhooksseam') },
    })
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      MethodSettings: Match.arrayWith([
        Match.objectLike({
          HttpMethod: 'POST',
          ResourcePath: '/~1webhooks~1seam',
          ThrottlingRateLimit: 20,
          ThrottlingBurstLimit: 40,
        }),
      ]),
    })
    // Every other method stays IAM-authorized.
    const methods = Object.values(template.findResources('AWS::ApiGateway::Method'))
    const open = methods.filter((m) => m.Properties.AuthorizationType === 'NONE')
    expect(open).toHaveLength(1)
  })

  it('registers the webhook with Seam through a custom resource, with only the event types used', () => {
    template.hasResourceProperties('Custom::SeamWebhook', {
      Url: Match.anyValue(),
      EventTypes: [...WEBHOOK_EVENT_TYPES],
      SecretArn: { Ref: Match.stringLikeRegexp('WebhookSecret') },
    })
    expect(WEBHOOK_EVENT_TYPES).toEqual([
      'acs_credential.deleted',
      'acs_user.deleted',
      'enrollment_automation.deleted',
      'phone.deactivated',
    ])
  })

  it('allows SendTaskSuccess / Failure / Heartbeat on this state machine only', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy'))
    const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement as never[])
    const resume = statements.filter((s: { Action: unknown }) =>
      JSON.stringify(s.Action).includes('states:SendTask'),
    ) as { Action: string[]; Resource: unknown }[]
    expect(resume).toHaveLength(1)
    expect(resume[0]?.Action.sort()).toEqual([
      'states:SendTaskFailure',
      'states:SendTaskHeartbeat',
      'states:SendTaskSuccess',
    ])
    expect(resume[0]?.Resource).toEqual({ Ref: expect.stringMatching(/^Machine/) })
  })

  it('gives the webhook function only the table actions it uses, and the secret to read', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy'))
    const dynamo = policies
      .flatMap((p) => p.Properties.PolicyDocument.Statement as { Action: unknown }[])
      .filter((s) => JSON.stringify(s.Action).includes('dynamodb:'))
    for (const statement of dynamo) {
      expect([statement.Action].flat().sort()).toEqual([
        'dynamodb:BatchGetItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
      ])
    }
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          COORDINATION_TABLE_NAME: Match.anyValue(),
          SEAM_WEBHOOK_SECRET_NAME: Match.anyValue(),
        }),
      },
    })
  })

  it('is cdk-nag clean', () => {
    const violations = new AwsSolutionsChecks().validateScope(stack).violations.map((v) => ({
      rule: v.ruleName,
      resources: v.violatingResources.map((r) => r.constructPath),
    }))
    expect(violations).toEqual([])
  })
})
