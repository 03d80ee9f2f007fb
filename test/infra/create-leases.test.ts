/**
 * The create Lambda reaches the coordination table it takes its per-ACS-user leases in: the table's
 * name in its environment (what coordinationFromEnvironment reads), no other API Lambda's.
 */
import { App, type CfnElement } from 'aws-cdk-lib'
import { Template } from 'aws-cdk-lib/assertions'
import { describe, expect, it } from 'vitest'
import { COORDINATION_TABLE_ENV } from '../../functions/core/coordination.js'
import { UserIdentityLifecycleStack } from '../../infra/stack.js'

describe('the create function and the coordination table', () => {
  it('names the table in the create function’s environment, and in no other API function’s', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } })
    const stack = new UserIdentityLifecycleStack(app, 'Test', {
      stageName: 'test',
      seamSecretName: 'seam/test/api-key',
    })
    const resources = Template.fromStack(stack).toJSON().Resources as Record<
      string,
      { Type: string; Properties: Record<string, unknown> }
    >
    const table = stack.getLogicalId(stack.coordination.table.node.defaultChild as CfnElement)
    expect(resources[table]?.Type).toBe('AWS::DynamoDB::Table')
    const environmentOf = (fn: { function: { node: { defaultChild?: unknown } } }) => {
      const id = stack.getLogicalId(fn.function.node.defaultChild as CfnElement)
      const props = resources[id]?.Properties as { Environment?: { Variables?: object } }
      return (props.Environment?.Variables ?? {}) as Record<string, unknown>
    }
    for (const [route, fn] of Object.entries(stack.api.functions)) {
      const variables = environmentOf(fn)
      if (route === 'CreateUserIdentity') {
        expect(variables[COORDINATION_TABLE_ENV]).toEqual({ Ref: table })
      } else {
        expect(variables).not.toHaveProperty(COORDINATION_TABLE_ENV)
      }
    }
  })
})
