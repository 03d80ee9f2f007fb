/**
 * The Seam budget (seamRequestsPerSecond) divided at synth: the paces of every instance that can run at
 * once add up within the budget, every stage runs in one function whose reserved concurrency bounds them
 * all, each Seam-calling function carries its instances' pace, a throttled Seam-calling route answers
 * 503 + Retry-After, and settings that cannot be divided are refused with a message naming the key.
 */
import { App } from 'aws-cdk-lib'
import { Match, Template } from 'aws-cdk-lib/assertions'
import type { CfnRole } from 'aws-cdk-lib/aws-iam'
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda'
import { AwsSolutionsChecks } from 'cdk-nag'
import { describe, expect, it } from 'vitest'
import { ROUTES } from '../../functions/api/routes.js'
import { DELETION_STAGES } from '../../functions/core/stages.js'
import { planRequestsPerSecond, planSeamCapacity } from '../../infra/capacity.js'
import { parseConfig } from '../../infra/config.js'
import {
  UserIdentityLifecycleStack,
  type UserIdentityLifecycleStackProps,
} from '../../infra/stack.js'

const ENV = { account: '123456789012', region: 'us-east-1' }
const SEAM_ROUTES = ROUTES.filter((r) => r.callsSeam).map((r) => r.id)

function synth(props: Partial<UserIdentityLifecycleStackProps>) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } })
  const stack = new UserIdentityLifecycleStack(app, 'Capacity', {
    stageName: 'test',
    seamSecretName: 'seam/test/api-key',
    env: ENV,
    ...props,
  })
  return { stack, template: Template.fromStack(stack) }
}

describe('planSeamCapacity', () => {
  it('gives every instance budget share ÷ reserved concurrency, adding up within the budget', () => {
    const plan = planSeamCapacity({
      requestsPerSecond: 100,
      seamConcurrency: 10,
      apiRoutes: SEAM_ROUTES,
    })
    // 87 % for the stages over 10 instances; the bulk task's 5 % counted deployment-wide, so each of
    // its instances may send all of it.
    expect(plan.stages).toEqual({ reservedConcurrency: 10, instanceRequestsPerSecond: 8.7 })
    expect(plan.bulk).toEqual({
      reservedConcurrency: 10,
      instanceRequestsPerSecond: 5,
      sharedRequestsPerSecond: 5,
    })
    // The API's 8 % by route weight: a DELETE weighs 2, a create or a plan 1.
    expect(plan.apiRoutes.StartDeletion).toEqual({
      reservedConcurrency: 2,
      instanceRequestsPerSecond: 2,
    })
    expect(plan.apiRoutes.CreateUserIdentity?.instanceRequestsPerSecond).toBe(1)
    expect(planRequestsPerSecond(plan)).toBeLessThanOrEqual(100)
    // Rounding goes down, never over the budget.
    const odd = planSeamCapacity({
      requestsPerSecond: 7,
      seamConcurrency: 3,
      apiRoutes: SEAM_ROUTES,
    })
    expect(planRequestsPerSecond(odd)).toBeLessThanOrEqual(7)
  })

  it('refuses shares that leave the stages nothing, and paces too small to send anything', () => {
    expect(() =>
      planSeamCapacity({
        requestsPerSecond: 100,
        seamConcurrency: 10,
        apiRoutes: SEAM_ROUTES,
        shares: { api: 0.6, bulk: 0.4 },
      }),
    ).toThrow(/leave the stages more than 0/)
    expect(() =>
      planSeamCapacity({ requestsPerSecond: 0.01, seamConcurrency: 1000, apiRoutes: SEAM_ROUTES }),
    ).toThrow(/raise seamRequestsPerSecond or lower the concurrency/)
  })
})

describe('the template under seamRequestsPerSecond', () => {
  const { stack, template } = synth({ seamConcurrency: 10, seamRequestsPerSecond: 100 })
  const plan = stack.seamCapacity
  const paced = (capacity: { reservedConcurrency: number; instanceRequestsPerSecond: number }) => ({
    ReservedConcurrentExecutions: capacity.reservedConcurrency,
    Environment: {
      Variables: Match.objectLike({
        SEAM_INSTANCE_REQUESTS_PER_SECOND: String(capacity.instanceRequestsPerSecond),
      }),
    },
  })

  it('runs every stage in one function, reserved and paced, invoked by every stage task', () => {
    expect(plan).toBeDefined()
    if (!plan) return
    expect(stack.deletion.functions).toHaveLength(1)
    template.hasResourceProperties('AWS::Lambda::Function', paced(plan.stages))
    const definition = JSON.stringify(template.findResources('AWS::StepFunctions::StateMachine'))
    expect(DELETION_STAGES.length).toBeGreaterThan(1)
    expect(definition).toContain('StageFunction')
  })

  it('paces the bulk task and every Seam-calling route, and no route that does not call Seam', () => {
    if (!plan) throw new Error('no plan')
    expect(stack.bulk.functions[0]?.seamCapacity).toEqual(plan.bulk)
    for (const route of ROUTES) {
      expect(stack.api.functions[route.id]?.seamCapacity).toEqual(
        route.callsSeam ? plan.apiRoutes[route.id] : undefined,
      )
    }
    for (const capacity of Object.values(plan.apiRoutes)) {
      template.hasResourceProperties('AWS::Lambda::Function', paced(capacity))
    }
    // Every function's instances together, counted from the stack itself.
    const functions = [
      ...stack.deletion.functions,
      ...stack.bulk.functions,
      ...Object.values(stack.api.functions),
    ]
    const total = functions.reduce(
      (sum, fn) =>
        sum +
        (fn.seamCapacity
          ? (fn.seamCapacity.sharedRequestsPerSecond ??
            fn.seamCapacity.reservedConcurrency * fn.seamCapacity.instanceRequestsPerSecond)
          : 0),
      0,
    )
    expect(total).toBeGreaterThan(90)
    expect(total).toBeLessThanOrEqual(100)
  })

  it("counts the bulk task's share in the coordination table: its lookups take a slot of one rate", () => {
    if (!plan) throw new Error('no plan')
    const [bulk] = stack.bulk.functions
    const logicalId = stack.getLogicalId(bulk?.function.node.defaultChild as CfnFunction)
    const fn = template.toJSON().Resources[logicalId]
    expect(fn.Properties.Environment.Variables.COORDINATION_TABLE_NAME).toEqual({
      Ref: expect.stringMatching(/^CoordinationTable/),
    })
    const role = stack.getLogicalId(bulk?.function.role?.node.defaultChild as CfnRole)
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
      JSON.stringify(p.Properties.Roles).includes(role),
    )
    const dynamo = policies
      .flatMap(
        (p) => p.Properties.PolicyDocument.Statement as { Action: unknown; Condition?: unknown }[],
      )
      .filter((statement) => JSON.stringify(statement.Action).includes('dynamodb:'))
    // The rate counts only: no other item of the table.
    expect(dynamo.map(({ Action, Condition }) => ({ Action, Condition }))).toEqual([
      {
        Action: 'dynamodb:UpdateItem',
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['rate#*'] } },
      },
    ])
    const definition = JSON.stringify(template.findResources('AWS::StepFunctions::StateMachine'))
    expect(definition).toMatch(
      new RegExp(`seam_requests_per_second\\W+${plan.bulk.sharedRequestsPerSecond}\\b`),
    )
  })

  it('answers a throttled Seam-calling route with 503, Retry-After and the contract error shape', () => {
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'INTEGRATION_FAILURE',
      StatusCode: '503',
      ResponseParameters: Match.objectLike({
        'gatewayresponse.header.Retry-After': "'1'",
      }),
      ResponseTemplates: {
        'application/json': Match.stringLikeRegexp('"type":"seam_unavailable"'),
      },
    })
  })

  it('is cdk-nag clean', () => {
    const violations = new AwsSolutionsChecks().validateScope(stack).violations
    expect(
      violations.map((v) => `${v.ruleName} ${v.violatingResources.map((r) => r.constructPath)}`),
    ).toEqual([])
  })
})

describe('settings that cannot be divided', () => {
  it('refuses seamRequestsPerSecond without seamConcurrency, at synth and in the context', () => {
    expect(() => synth({ seamRequestsPerSecond: 100 })).toThrow(/needs seamConcurrency/)
    expect(() => parseConfig({ seamRequestsPerSecond: 100 })).toThrow(/needs seamConcurrency/)
    expect(
      parseConfig({ seamRequestsPerSecond: '100', seamConcurrency: '10', seamApiConcurrency: '3' }),
    ).toMatchObject({
      seamRequestsPerSecond: 100,
      seamConcurrency: 10,
      seamApiConcurrency: 3,
    })
    expect(() => parseConfig({ seamRequestsPerSecond: -1, seamConcurrency: 10 })).toThrow(
      /seamRequestsPerSecond must be requests per second/,
    )
  })
})
