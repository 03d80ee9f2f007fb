/**
 * The bulk deletion workflow in the template: a Standard state machine whose Map runs in DISTRIBUTED mode
 * over the input's ids with MaxConcurrency from context, starting the deletion state machine with
 * startExecution.sync:2; its permissions scoped to the deletion state machine; the bulk routes' grants;
 * seamConcurrency as reserved concurrency.
 */

import type { CfnElement } from 'aws-cdk-lib'
import { App } from 'aws-cdk-lib'
import { Template } from 'aws-cdk-lib/assertions'
import { describe, expect, it } from 'vitest'
import { MAX_BULK_IDENTITIES } from '../../functions/contract/http.js'
import { MAX_ATTEMPTS } from '../../functions/core/deletions.js'
import { parseConfig } from '../../infra/config.js'
import { BULK_STATES } from '../../infra/constructs/bulk-workflow.js'
import { UserIdentityLifecycleStack } from '../../infra/stack.js'

const ENV = { account: '123456789012', region: 'us-east-1' }

function synth(props: { bulkDeletionConcurrency?: number; seamConcurrency?: number } = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } })
  const stack = new UserIdentityLifecycleStack(app, 'Bulk', {
    stageName: 'test',
    seamSecretName: 'seam/test/api-key',
    env: ENV,
    ...props,
  })
  const template = Template.fromStack(stack).toJSON() as {
    Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>
  }
  const idOf = (c: { node: { defaultChild?: unknown } }) =>
    stack.getLogicalId(c.node.defaultChild as CfnElement)
  const definition = (id: string) => {
    const resource = template.Resources[id]
    if (!resource) throw new Error(`no resource ${id}`)
    const parts = (resource.Properties.DefinitionString as { 'Fn::Join': [string, unknown[]] })[
      'Fn::Join'
    ][1]
    return JSON.parse(
      parts
        .map((p) => (typeof p === 'string' ? p : JSON.stringify(p).replaceAll('"', "'")))
        .join(''),
    )
  }
  const statements = (roleId: string) =>
    Object.values(template.Resources)
      .filter(
        (r) =>
          r.Type === 'AWS::IAM::Policy' &&
          JSON.stringify(r.Properties.Roles).includes(`"${roleId}"`),
      )
      .flatMap(
        (r) => (r.Properties.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement,
      )
  return { stack, template, idOf, definition, statements }
}

describe('bulk deletion workflow', () => {
  it('is a Standard state machine with a distributed Map over the ids, MaxConcurrency from context (default 10)', () => {
    for (const [props, expected] of [
      [{}, 10],
      [{ bulkDeletionConcurrency: 25 }, 25],
    ] as const) {
      const { stack, idOf, definition, template } = synth(props)
      const id = idOf(stack.bulk.stateMachine)
      expect(template.Resources[id]?.Properties.StateMachineType).toBe('STANDARD')
      const map = definition(id).States['Delete each identity']
      expect(map).toMatchObject({
        Type: 'Map',
        ItemsPath: '$.user_identity_ids',
        MaxConcurrency: expected,
        ToleratedFailurePercentage: 100,
        ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' } },
      })
      expect(map.ItemReader).toBeUndefined()
      expect(map.ResultWriter).toBeUndefined()
      const start = map.ItemProcessor.States['Start or join deletion']
      expect(start.Resource).toMatch(/:states:::states:startExecution\.sync:2$/)
      expect(start.Parameters).toMatchObject({ 'Name.$': '$.deletion_id', 'Input.$': '$.input' })
      expect(JSON.stringify(start.Parameters.StateMachineArn)).toContain(
        idOf(stack.deletion.stateMachine),
      )
      // Every item runs to its end; then the last states fail the execution if any identity failed.
      expect(definition(id).States['Some identities failed']).toMatchObject({
        Type: 'Fail',
        CausePath: '$.cause',
      })
    }
  })

  it('may start only the deletion state machine, and describe/stop only its executions', () => {
    const { stack, idOf, statements } = synth()
    const role = stack.getLogicalId(stack.bulk.stateMachine.role.node.defaultChild as CfnElement)
    const deletionId = idOf(stack.deletion.stateMachine)
    const bulkId = idOf(stack.bulk.stateMachine)
    for (const statement of statements(role)) {
      const actions = ([] as string[]).concat(statement.Action as string[])
      const target = JSON.stringify(statement.Resource)
      if (actions.includes('states:StartExecution') && !target.includes(bulkId)) {
        expect(statement.Resource).toEqual({ Ref: deletionId })
      }
      if (actions.some((a) => a === 'states:DescribeExecution' || a === 'states:StopExecution')) {
        expect(target).toMatch(/:execution:/)
        expect(target.includes(deletionId) || target.includes(bulkId)).toBe(true)
      }
      if (actions.some((a) => a.startsWith('events:'))) {
        expect(target).toContain('rule/StepFunctionsGetEventsForStepFunctionsExecutionRule')
      }
      expect(actions.some((a) => a.endsWith('*'))).toBe(false)
    }
  })

  it('the bulk routes: POST may only start the bulk workflow, GET may read its executions and Map Runs', () => {
    const { stack, statements } = synth()
    const roleOf = (route: string) =>
      stack.getLogicalId(stack.api.functions[route]?.function.role?.node.defaultChild as CfnElement)
    const states = (route: string) =>
      statements(roleOf(route))
        .flatMap((s) => ([] as string[]).concat(s.Action as string[]))
        .filter((a) => a.startsWith('states:'))
        .sort()
    expect(states('StartBulkDeletion')).toEqual(['states:StartExecution'])
    expect(states('GetBulkDeletion')).toEqual([
      'states:DescribeExecution',
      'states:DescribeExecution',
      'states:DescribeMapRun',
      'states:GetExecutionHistory',
      'states:ListMapRuns',
    ])
  })

  it('seamConcurrency is the reserved concurrency of every Seam-calling workflow function', () => {
    const { stack, template, idOf } = synth({ seamConcurrency: 7 })
    for (const fn of [...stack.deletion.functions, ...stack.bulk.functions]) {
      expect(template.Resources[idOf(fn.function)]?.Properties.ReservedConcurrentExecutions).toBe(7)
    }
    const unset = synth()
    for (const fn of unset.stack.deletion.functions) {
      expect(
        unset.template.Resources[unset.idOf(fn.function)]?.Properties.ReservedConcurrentExecutions,
      ).toBeUndefined()
    }
  })

  it('reads bulkDeletionConcurrency and seamConcurrency from context, refusing bad values', () => {
    expect(parseConfig({ bulkDeletionConcurrency: '20', seamConcurrency: 5 })).toMatchObject({
      bulkDeletionConcurrency: 20,
      seamConcurrency: 5,
    })
    expect(() => parseConfig({ bulkDeletionConcurrency: 0 })).toThrow(/bulkDeletionConcurrency/)
    expect(() => parseConfig({ seamConcurrency: 'many' })).toThrow(/seamConcurrency/)
  })
})

describe('bulk deletion workflow: the Map output stays within 256 KiB', () => {
  it('every item error is caught inside the item, and 1,000 of the largest item results fit in 256 KiB', () => {
    const { stack, idOf, definition } = synth()
    const states = definition(idOf(stack.bulk.stateMachine)).States
    const processor = states[BULK_STATES.map].ItemProcessor.States as Record<
      string,
      Record<string, unknown>
    >
    // Every Task catches States.ALL (its last Catch), so no item ends with a failed child's ~1 KB {Error, Cause}.
    for (const [name, state] of Object.entries(processor)) {
      if (state.Type !== 'Task') continue
      const catchers = state.Catch as { ErrorEquals: string[]; Next: string }[]
      expect(catchers.at(-1)?.ErrorEquals, name).toEqual(['States.ALL'])
      expect(processor[catchers.at(-1)?.Next as string]?.Type, name).toBe('Pass')
    }
    // The largest value each path of an item-ending state can take.
    const longest: Record<string, string> = {
      '$.user_identity_id': '00000000-0000-0000-0000-000000000000',
      '$.deletion_id': `00000000-0000-0000-0000-000000000000--${MAX_ATTEMPTS}`,
      '$.outcome': 'not_found',
    }
    const resultOf = (template: Record<string, unknown>) =>
      Object.fromEntries(
        Object.entries(template).map(([key, value]) =>
          key.endsWith('.$')
            ? [key.slice(0, -2), longest[value as string] ?? expect.fail(`unknown path ${value}`)]
            : [key, value],
        ),
      )
    const ending = Object.entries(processor).filter(([, state]) => state.End === true)
    expect(ending.map(([name]) => name).sort()).toEqual(
      [
        BULK_STATES.start,
        BULK_STATES.settled,
        BULK_STATES.notChosen,
        BULK_STATES.deletionFailed,
      ].sort(),
    )
    const sizes = ending.map(([, state]) =>
      Buffer.byteLength(
        JSON.stringify(
          resultOf((state.ResultSelector ?? state.Parameters) as Record<string, unknown>),
        ),
      ),
    )
    const largest = Math.max(...sizes)
    expect(largest).toBeLessThan(150)
    // The Map's output: its input (the ids) plus the results array (ResultPath $.results).
    const input = JSON.stringify({
      user_identity_ids: Array(MAX_BULK_IDENTITIES).fill(longest['$.user_identity_id']),
    })
    const output = Buffer.byteLength(input) + MAX_BULK_IDENTITIES * (largest + 1) + 20
    expect(output).toBeLessThan(256 * 1024)
  })
})
