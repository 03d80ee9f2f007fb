// The stack with Seam's webhooks (the default) and without them (context seamWebhooks=false): the
// unauthenticated but throttled route, the table, the registration custom resource, resume rights on
// this state machine only; and, turned off, none of it and today's polling state machine.
import { App, type CfnElement } from 'aws-cdk-lib'
import { Match, Template } from 'aws-cdk-lib/assertions'
import { describe, expect, it } from 'vitest'
import { STATE_KINDS, stateName } from '../../functions/contract/workflow.js'
import { WEBHOOK_EVENT_TYPES } from '../../functions/core/coordination.js'
import { DELETION_STAGES } from '../../functions/core/stages.js'
import { UserIdentityLifecycleStack } from '../../infra/stack.js'
import { extractStateMachine } from '../../local/stepfunctions/definition.js'

const ENV = { account: '123456789012', region: 'us-east-1' }

function synth(seamWebhooks?: boolean) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } })
  const stack = new UserIdentityLifecycleStack(app, 'Hooks', {
    stageName: 'test',
    seamSecretName: 'seam/test/api-key',
    env: ENV,
    throttling: { rateLimit: 50, burstLimit: 100 },
    ...(seamWebhooks === undefined ? {} : { seamWebhooks }),
  })
  const template = Template.fromStack(stack)
  const logicalId = stack.getLogicalId(stack.deletion.stateMachine.node.defaultChild as CfnElement)
  return {
    stack,
    template,
    definition: extractStateMachine(template.toJSON(), { logicalId }).definition,
  }
}

const statementsOf = (template: Template) =>
  Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
    (policy) =>
      policy.Properties.PolicyDocument.Statement as {
        Action: string | string[]
        Resource: unknown
      }[],
  )

describe('with webhooks (default)', () => {
  const { stack, template, definition } = synth()

  it('serves POST /webhooks/seam without IAM, throttled on its own below the stage limits', () => {
    const methods = template.findResources('AWS::ApiGateway::Method', {
      Properties: { AuthorizationType: 'NONE' },
    })
    expect(Object.values(methods)).toHaveLength(1)
    expect(Object.values(methods)[0]?.Properties.HttpMethod).toBe('POST')
    template.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: 'seam' })
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      MethodSettings: Match.arrayWith([
        Match.objectLike({
          HttpMethod: 'POST',
          ResourcePath: '/~1webhooks~1seam',
          ThrottlingRateLimit: 5,
          ThrottlingBurstLimit: 10,
        }),
      ]),
    })
  })

  it('keeps the coordination table on demand, with point-in-time recovery, encryption and TTL', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'expires_at', Enabled: true },
    })
  })

  it('registers the webhook at the API URL for the stages’ event types, its secret in the stack', () => {
    const [registration] = Object.values(template.findResources('Custom::SeamWebhook'))
    expect(registration?.Properties.EventTypes).toEqual([...WEBHOOK_EVENT_TYPES])
    expect(JSON.stringify(registration?.Properties.Url)).toContain('webhooks/seam')
    expect(JSON.stringify(registration?.Properties.Url)).toContain(
      stack.getLogicalId(stack.api.api.node.defaultChild as never),
    )
    template.resourceCountIs('AWS::SecretsManager::Secret', 1)
  })

  it('lets only the webhook and await functions resume tasks, of this state machine only', () => {
    const resume = statementsOf(template).filter((s) =>
      [s.Action].flat().includes('states:SendTaskSuccess'),
    )
    expect(resume).toHaveLength(1)
    const machine = stack.getLogicalId(stack.deletion.stateMachine.node.defaultChild as never)
    expect(resume[0]?.Resource).toEqual({ Ref: machine })
    const [policy] = Object.values(
      template.findResources('AWS::IAM::Policy', {
        Properties: { PolicyName: Match.stringLikeRegexp('ResumeTasks') },
      }),
    )
    expect(policy?.Properties.Roles).toHaveLength(2)
  })

  it('awaits the webhook in the stages Seam confirms with events', () => {
    expect(definition.States[stateName('acs_credentials', 'await')]).toBeDefined()
    expect(definition.States[stateName('phones', 'confirmed')]).toBeDefined()
  })
})

describe('with seamWebhooks=false', () => {
  const { template, definition } = synth(false)

  it('has no webhook route, secret, registration nor resume rights', () => {
    template.resourceCountIs('Custom::SeamWebhook', 0)
    template.resourceCountIs('AWS::SecretsManager::Secret', 0)
    expect(
      Object.keys(
        template.findResources('AWS::ApiGateway::Method', {
          Properties: { AuthorizationType: 'NONE' },
        }),
      ),
    ).toEqual([])
    expect(JSON.stringify(template.toJSON())).not.toContain('states:SendTaskSuccess')
    template.hasOutput('SeamWebhooksMode', { Value: 'off' })
  })

  it('runs the polling state machine: every stage’s Delete, done?, Wait, Check, stuck and failure states, nothing else', () => {
    const expected = DELETION_STAGES.flatMap((stage) =>
      STATE_KINDS.filter((kind) => kind !== 'await' && kind !== 'confirmed').map((kind) =>
        stateName(stage.name, kind),
      ),
    )
    expect(Object.keys(definition.States).sort()).toEqual([...expected, 'Deleted'].sort())
  })
})
