/**
 * Acknowledging cdk-nag findings (cdk-nag v3 reads CDK's own `Validations.of(x).acknowledge`): every
 * acknowledgment names one rule or one finding and says why, and is made next to the resource it
 * concerns. Acknowledgments apply to the construct and everything under it.
 */
import { Stack, Validations } from 'aws-cdk-lib'
import type { IRole, Policy } from 'aws-cdk-lib/aws-iam'
import type { IConstruct } from 'constructs'

export function acknowledge(scope: IConstruct, ruleId: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: ruleId, reason })
}

/**
 * Acknowledges AwsSolutions-IAM5 for the wildcard resources of those statements of the role's default
 * policy that grant nothing but `actions`; a wildcard next to any other action stays a finding. Call it
 * after the grants it concerns.
 */
export function acknowledgeWildcardResources(
  role: IRole | undefined,
  actions: readonly string[],
  reason: string,
): void {
  const policy = role?.node.tryFindChild('DefaultPolicy') as Policy | undefined
  if (policy) acknowledgePolicyWildcardResources(policy, actions, reason)
}

/** The same for any policy (e.g. the one CDK adds to a state machine with a distributed Map). */
export function acknowledgePolicyWildcardResources(
  policy: Policy,
  actions: readonly string[],
  reason: string,
): void {
  const document = Stack.of(policy).resolve(policy.document) as { Statement?: Statement[] }
  for (const statement of document.Statement ?? []) {
    if (statement.Effect !== 'Allow') continue
    if (!asArray(statement.Action).every((action) => actions.includes(String(action)))) continue
    for (const resource of asArray(statement.Resource).map(flatten)) {
      if (resource.includes('*'))
        acknowledge(policy, `AwsSolutions-IAM5[Resource::${resource}]`, reason)
    }
  }
}

interface Statement {
  Effect?: string
  Action?: unknown
  Resource?: unknown
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : value === undefined ? [] : [value]
}

/** A resolved ARN as cdk-nag names it in a finding: `<LogicalId.Attr>` for GetAtt, `<Id>` for Ref. */
function flatten(node: unknown): string {
  if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/\}/g, '>')
  if (node && typeof node === 'object') {
    const fn = node as Record<string, unknown>
    if (Array.isArray(fn['Fn::Join'])) {
      const [delimiter, items] = fn['Fn::Join'] as [string, unknown[]]
      return items.map(flatten).join(delimiter)
    }
    if (fn['Fn::Sub'] !== undefined) return flatten(fn['Fn::Sub'])
    if (Array.isArray(fn['Fn::GetAtt'])) {
      const [resource, attribute] = fn['Fn::GetAtt'] as [unknown, unknown]
      return `<${flatten(resource)}.${flatten(attribute)}>`
    }
    if (fn['Fn::ImportValue'] !== undefined) return flatten(fn['Fn::ImportValue'])
    if (fn.Ref !== undefined) return `<${flatten(fn.Ref)}>`
  }
  return JSON.stringify(node)
}

/** Acknowledges the wildcard resources of Step Functions vended logging and X-Ray on a state machine role. */
export function acknowledgeStateMachineLogging(role: IRole | undefined): void {
  acknowledgeWildcardResources(
    role,
    [
      'logs:CreateLogDelivery',
      'logs:GetLogDelivery',
      'logs:UpdateLogDelivery',
      'logs:DeleteLogDelivery',
      'logs:ListLogDeliveries',
      'logs:PutResourcePolicy',
      'logs:DescribeResourcePolicies',
      'logs:DescribeLogGroups',
      'xray:PutTraceSegments',
      'xray:PutTelemetryRecords',
      'xray:GetSamplingRules',
      'xray:GetSamplingTargets',
    ],
    'Step Functions vended logging (CloudWatch Logs log delivery) and X-Ray tracing support no resource-level permissions: AWS documents Resource "*" for these actions.',
  )
}
