/**
 * Operating the deployed stack: the service's own metrics (every function's EMF namespace), the
 * dashboard, the Seam throttle alarm, the warning when alarms notify nobody, one API URL output, a
 * readable state machine name, and grantInvoke for callers of the API.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { App } from 'aws-cdk-lib'
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions'
import type { CfnStage } from 'aws-cdk-lib/aws-apigateway'
import { AccountPrincipal, type CfnRole, Role } from 'aws-cdk-lib/aws-iam'
import { describe, expect, it } from 'vitest'
import { DELETION_STAGES } from '../../functions/core/stages.js'
import { METRIC, SEAM_OUTCOMES } from '../../functions/telemetry/metrics.js'
import { NO_ALARM_TOPIC_WARNING } from '../../infra/constructs/alarms.js'
import { REPO_ROOT } from '../../infra/repo-root.js'
import {
  UserIdentityLifecycleStack,
  type UserIdentityLifecycleStackProps,
} from '../../infra/stack.js'

const ENV = { account: '123456789012', region: 'us-east-1' }

function unsynthesized(id: string, props: Partial<UserIdentityLifecycleStackProps> = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } })
  return new UserIdentityLifecycleStack(app, id, {
    stageName: 'test',
    seamSecretName: 'seam/test/api-key',
    env: ENV,
    ...props,
  })
}

function stackOf(props: Partial<UserIdentityLifecycleStackProps> = {}) {
  const stack = unsynthesized('SeamUserIdentities-test', props)
  return { stack, template: Template.fromStack(stack) }
}

const { stack, template } = stackOf()
const json = JSON.stringify(template.toJSON())

describe('metrics', () => {
  it('every function publishes into the stack namespace (POWERTOOLS_METRICS_NAMESPACE)', () => {
    // Ours: not the CDK Provider framework's function that relays the webhook registration.
    const functions = Object.values(template.findResources('AWS::Lambda::Function')).filter(
      (fn) => fn.Properties.Handler !== 'framework.onEvent',
    )
    expect(functions.length).toBeGreaterThan(DELETION_STAGES.length)
    for (const fn of functions) {
      expect(fn.Properties.Environment.Variables).toMatchObject({
        POWERTOOLS_METRICS_NAMESPACE: 'SeamUserIdentities/test',
        POWERTOOLS_SERVICE_NAME: 'seam-user-identities',
      })
    }
    template.hasOutput('MetricsNamespace', { Value: 'SeamUserIdentities/test' })
  })
})

describe('dashboard', () => {
  const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard'))
  // The body is an Fn::Join of strings and references: what matters is in its strings.
  const body = JSON.stringify(dashboards[0]?.Properties.DashboardBody)

  it('is named after the stack and output', () => {
    expect(dashboards).toHaveLength(1)
    expect(dashboards[0]?.Properties.DashboardName).toBe('SeamUserIdentities-test')
    template.hasOutput('DashboardName', Match.anyValue())
  })

  it.for([
    ['the API 4xx, 5xx and latency', ['4XXError', '5XXError', 'Latency', 'IntegrationLatency']],
    [
      "the state machine's executions",
      ['ExecutionsStarted', 'ExecutionsSucceeded', 'ExecutionsFailed', 'ExecutionsTimedOut'],
    ],
    ['Seam requests, latency and throttling', [METRIC.seamRequests, METRIC.seamLatency, '429']],
    ['creates and deletions by outcome', [METRIC.creates, METRIC.deletions, 'succeeded', 'stuck']],
    [
      'stage durations and checks',
      [METRIC.stageDuration, METRIC.stageChecks, ...DELETION_STAGES.map((s) => s.name)],
    ],
  ] as const)('shows %s', ([, names]) => {
    for (const name of names) expect(body, name).toContain(name)
    expect(body).toContain('SeamUserIdentities/test')
  })
})

describe('Seam throttle alarm', () => {
  it('fires on 10% of Seam requests answered 429 in each of 3 consecutive 5-minute periods', () => {
    const alarms = template.findResources('AWS::CloudWatch::Alarm', {
      Properties: { AlarmDescription: Match.stringLikeRegexp('rate-limiting') },
    })
    const [alarm] = Object.values(alarms)
    expect(Object.keys(alarms)).toHaveLength(1)
    expect(alarm?.Properties).toMatchObject({
      Threshold: 10,
      EvaluationPeriods: 3,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    })
    const queries = alarm?.Properties.Metrics as {
      Id: string
      Expression?: string
      MetricStat?: { Metric: { Namespace: string; MetricName: string; Dimensions: unknown } }
    }[]
    const expression = queries.find((q) => q.Expression)?.Expression ?? ''
    expect(expression).toContain('100 * FILL(o429, 0)')
    const outcomes = queries
      .filter((q) => q.MetricStat)
      .map((q) => {
        expect(q.MetricStat?.Metric).toMatchObject({
          Namespace: 'SeamUserIdentities/test',
          MetricName: METRIC.seamRequests,
        })
        return q.MetricStat?.Metric.Dimensions
      })
    expect(outcomes).toEqual(
      SEAM_OUTCOMES.map((outcome) =>
        expect.arrayContaining([
          { Name: 'outcome', Value: outcome },
          { Name: 'service', Value: 'seam-user-identities' },
        ]),
      ),
    )
  })
})

describe('alarms without a destination', () => {
  it('synth warns that they notify nobody, and how to route them', () => {
    Annotations.fromStack(stack).hasWarning(
      '/SeamUserIdentities-test/Alarms',
      Match.stringLikeRegexp('notify nobody.*alarmEmail'),
    )
  })

  it('no warning with alarmEmail', () => {
    const { stack } = stackOf({ alarmEmail: 'ops@example.com' })
    expect(
      Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('notify nobody')),
    ).toEqual([])
  })

  it('`cdk synth` (infra/app.ts) prints it on the console', () => {
    const out = mkdtempSync(join(tmpdir(), 'synth-'))
    try {
      const run = spawnSync(join(REPO_ROOT, 'node_modules/.bin/tsx'), ['infra/app.ts'], {
        cwd: REPO_ROOT,
        encoding: 'utf8',
        env: {
          ...process.env,
          CDK_OUTDIR: out,
          CDK_CONTEXT_JSON: JSON.stringify({ 'aws:cdk:bundling-stacks': [] }),
        },
      })
      expect(run.status, run.stderr).toBe(0)
      expect(run.stderr).toContain(`WARNING: ${NO_ALARM_TOPIC_WARNING}`)
    } finally {
      rmSync(out, { recursive: true, force: true })
    }
  })
})

describe('outputs and names', () => {
  it('one output holds the API URL: ApiUrl (not also the RestApi construct’s own)', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>
    const withUrl = Object.entries(outputs).filter(([, o]) =>
      JSON.stringify(o.Value).includes('.execute-api.'),
    )
    expect(withUrl.map(([id]) => id)).toEqual(['ApiUrl'])
  })

  it('the state machines are named after the stack: SeamUserIdentities-<stage>-(Bulk)Deletion', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineName: 'SeamUserIdentities-test-Deletion',
    })
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineName: 'SeamUserIdentities-test-BulkDeletion',
    })
    expect(json).toContain('SeamUserIdentities-test-Deletion')
  })
})

describe('grantInvoke', () => {
  it('lets a role call every route of the deployed stage, and nothing else', () => {
    const stack = unsynthesized('Provider')
    const role = new Role(stack, 'Caller', { assumedBy: new AccountPrincipal('111111111111') })
    stack.api.grantInvoke(role)
    const policy = Template.fromStack(stack).findResources('AWS::IAM::Policy', {
      Properties: { Roles: [{ Ref: stack.getLogicalId(role.node.defaultChild as CfnRole) }] },
    })
    const statements = Object.values(policy).flatMap(
      (p) => p.Properties.PolicyDocument.Statement as { Action: string; Resource: unknown }[],
    )
    expect(statements).toHaveLength(1)
    expect(statements[0]?.Action).toBe('execute-api:Invoke')
    const resource = JSON.stringify(statements[0]?.Resource)
    expect(resource).toContain(':execute-api:us-east-1:123456789012:')
    // <api id>/<stage>/<any method>/<any path>: the deployed stage only.
    const stage = stack.getLogicalId(stack.api.api.deploymentStage.node.defaultChild as CfnStage)
    expect(resource).toContain(`"/",{"Ref":"${stage}"},"/*/*"`)
  })
})
