/**
 * cdk-nag AwsSolutions checks on the stack: no unacknowledged finding (error or warning), every
 * acknowledgment made on the resource it concerns (never on the stack or app) with a written reason, and
 * the list of acknowledged rules pinned here so that a new one is a reviewed change.
 *
 * cdk-nag v3 is a CDK validation plugin (`Validations.of(app).addPlugins(...)`, as infra/app.ts does) and
 * reads CDK's own acknowledgments (`Validations.of(construct).acknowledge(...)`); its findings are not
 * annotations any more, so they are read from the plugin's report rather than with Annotations.
 */
import { App, Validations } from 'aws-cdk-lib'
import { Template } from 'aws-cdk-lib/assertions'
import { PolicyStatement } from 'aws-cdk-lib/aws-iam'
import { AwsSolutionsChecks } from 'cdk-nag'
import type { IConstruct } from 'constructs'
import { describe, expect, it } from 'vitest'
import {
  UserIdentityLifecycleStack,
  type UserIdentityLifecycleStackProps,
} from '../../infra/stack.js'

const ENV = { account: '123456789012', region: 'us-east-1' }

function synth(props: Partial<UserIdentityLifecycleStackProps> = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } })
  const stack = new UserIdentityLifecycleStack(app, 'Nag', {
    stageName: 'test',
    seamSecretName: 'seam/test/api-key',
    env: ENV,
    ...props,
  })
  Template.fromStack(stack) // synthesizes: every grant and aspect has run
  return { app, stack }
}

function findings(scope: IConstruct) {
  return new AwsSolutionsChecks().validateScope(scope).violations.map((v) => ({
    rule: v.ruleName,
    severity: v.severity,
    resources: v.violatingResources.map((r) => r.constructPath),
  }))
}

/** Every acknowledgment in the tree: where, which rule, why. */
function acknowledgments(root: IConstruct) {
  const found: { path: string; rule: string; reason: string }[] = []
  for (const node of root.node.findAll()) {
    for (const entry of node.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue
      for (const [rule, reason] of Object.entries(entry.data as Record<string, unknown>)) {
        // CDK stores the id with an `Annotation::` prefix.
        found.push({
          path: node.node.path,
          rule: rule.replace(/^annotation::/i, ''),
          reason: String(reason),
        })
      }
    }
  }
  return found
}

describe('cdk-nag AwsSolutions', () => {
  it('finds nothing unacknowledged in the stack: no error, no warning', () => {
    const { stack } = synth()
    expect(findings(stack)).toEqual([])
  })

  it('finds nothing either with the alarm topic (alarmEmail) and other settings', () => {
    const { stack } = synth({
      alarmEmail: 'ops@example.com',
      throttling: { rateLimit: 5, burstLimit: 10 },
      pollPolicy: { stageTimeoutSeconds: 60 },
    })
    expect(findings(stack)).toEqual([])
  })

  it('runs as a validation plugin of the app, as infra/app.ts registers it, and synth passes', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } })
    new UserIdentityLifecycleStack(app, 'Nag', {
      stageName: 'test',
      seamSecretName: 'seam/test/api-key',
      alarmEmail: 'ops@example.com',
      env: ENV,
    })
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app))
    expect(() => app.synth()).not.toThrow()
  })

  it('would fail synth on a finding (the plugin is not a no-op)', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } })
    const stack = new UserIdentityLifecycleStack(app, 'Nag', {
      stageName: 'test',
      seamSecretName: 'seam/test/api-key',
      env: ENV,
    })
    // An unacknowledged wildcard action: cdk-nag must refuse it. (A wildcard *resource* next to the
    // acknowledged X-Ray one would pass cdk-nag: test/hardening/security.test.ts refuses that.)
    stack.deletion.functions[0]?.function.addToRolePolicy(
      new PolicyStatement({ actions: ['s3:*'], resources: ['arn:aws:s3:::some-bucket'] }),
    )
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app))
    expect(() => app.synth()).toThrow(/AwsSolutions-IAM5\[Action::s3:\*\]/)
  })

  it('acknowledges on resources, never on the stack or app, each with a reason', () => {
    const { app, stack } = synth({ alarmEmail: 'ops@example.com' })
    const acks = acknowledgments(app)
    expect(acks.length).toBeGreaterThan(0)
    for (const ack of acks) {
      expect(ack.path, `${ack.rule} is acknowledged on the whole stack`).not.toBe(stack.node.path)
      expect(ack.path).not.toBe('')
      expect(ack.reason.length, `${ack.rule} at ${ack.path} needs a reason`).toBeGreaterThan(40)
    }
    // The acknowledged rules, pinned: a new acknowledgment is a reviewed change of this list.
    const rules = [
      ...new Set(acks.map((a) => a.rule.replace(/\[Resource::.*\]$/, '[Resource::…]'))),
    ]
    expect(rules.sort()).toEqual(
      [
        'AwsSolutions-APIG3',
        'AwsSolutions-APIG4',
        'AwsSolutions-APIG6',
        'AwsSolutions-COG4',
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        'AwsSolutions-IAM5[Resource::…]',
        'AwsSolutions-SMG4',
        'AwsSolutions-SNS2',
      ].sort(),
    )
    // Wildcard resources are acknowledged only for X-Ray / log delivery (Resource "*"), the workflow's
    // own functions (<fn>.Arn:*, the await task's among them), the webhook registration function (for
    // the CDK Provider framework), the executions of the deletion and bulk state machines, and the bulk
    // workflow's Map Runs and child workflows.
    // APIG4 (no authorization) only on the webhook route, IAM4 only on the Provider framework's role.
    for (const ack of acks.filter((a) => /APIG4|IAM4/.test(a.rule))) {
      expect(ack.path).toMatch(/SeamWebhooks|webhooks\/seam/)
    }
    const wildcards = acks.filter((a) => a.rule.startsWith('AwsSolutions-IAM5'))
    for (const ack of wildcards) {
      expect(ack.rule).toMatch(
        /^AwsSolutions-IAM5\[Resource::(\*|<(Deletion|BulkDeletion)\w+Function\w+\.Arn>:\*|<SeamWebhooks(Await|Registration)Function\w+\.Arn>:\*|arn:<AWS::Partition>:states:us-east-1:123456789012:(execution|mapRun):\{"Fn::Select":\[6,\{"Fn::Split":\[":",\{"Ref":"(Deletion|BulkDeletion)StateMachine\w+"\}\]\}\]\}(:|\/Identities:|\/|)\*)\]$/,
      )
    }
  })
})
