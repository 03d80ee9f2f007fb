import { Duration } from 'aws-cdk-lib'
import * as sfn from 'aws-cdk-lib/aws-stepfunctions'
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks'
import { afterEach, describe, expect, it } from 'vitest'
import type { LambdaLikeContext } from '../../local/stepfunctions/lambda.js'
import { LocalStepFunctions } from '../../local/stepfunctions/runner.js'
import { NamedError, synth } from './helpers.js'

const runners: LocalStepFunctions[] = []
afterEach(async () => {
  await Promise.all(runners.splice(0).map((runner) => runner.close()))
})

function pollingMachine() {
  return synth((stack, fn) => {
    const del = new tasks.LambdaInvoke(stack, 'Delete items', {
      lambdaFunction: fn('DeleteFn'),
      resultPath: '$.deleted',
    })
    const check = new tasks.LambdaInvoke(stack, 'Check items', {
      lambdaFunction: fn('CheckFn'),
      payload: sfn.TaskInput.fromObject({ 'ids.$': '$.deleted.Payload.ids' }),
      resultSelector: { 'pending.$': '$.Payload.pending' },
      resultPath: '$.check',
    })
    const wait = new sfn.Wait(stack, 'Wait items', {
      time: sfn.WaitTime.duration(Duration.seconds(60)),
    })
    const done = new sfn.Choice(stack, 'Items done?')
      .when(sfn.Condition.numberEquals('$.check.pending', 0), new sfn.Succeed(stack, 'Done'))
      .otherwise(wait.next(check))
    return { definition: del.next(check).next(done) }
  })
}

describe('LocalStepFunctions running a CDK-synthesized definition', () => {
  it('runs a LambdaInvoke chain with a Choice/Wait loop, 60 s waits scaled to milliseconds', async () => {
    const { extracted, arns } = pollingMachine()
    let checks = 0
    const seen: { event: unknown; context: LambdaLikeContext }[] = []
    const runner = new LocalStepFunctions({
      definition: extracted.definition,
      stateMachineArn: extracted.stateMachineArn,
      waitScale: 0.001,
      taskHandlers: {
        [arns.DeleteFn as string]: async (event: unknown, context: LambdaLikeContext) => {
          seen.push({ event, context })
          return { ids: ['a', 'b'] }
        },
        [arns.CheckFn as string]: async (event: unknown) => {
          checks += 1
          seen.push({ event, context: {} as LambdaLikeContext })
          return { pending: Math.max(0, 3 - checks) }
        },
      },
    })
    runners.push(runner)

    const started = Date.now()
    const { executionArn } = await runner.startExecution({
      stateMachineArn: extracted.stateMachineArn,
      name: 'run-1',
      input: JSON.stringify({ userIdentityId: 'ui_1' }),
    })
    const final = await runner.waitForExecution(executionArn as string)
    const elapsed = Date.now() - started

    expect(final.status).toBe('SUCCEEDED')
    expect(checks).toBe(3) // two 60 s waits
    expect(elapsed).toBeLessThan(1000)
    const output = JSON.parse(final.output as string)
    expect(output.userIdentityId).toBe('ui_1')
    expect(output.check).toEqual({ pending: 0 })
    // lambda:invoke's result envelope, as AWS returns it
    expect(output.deleted).toMatchObject({
      ExecutedVersion: '$LATEST',
      Payload: { ids: ['a', 'b'] },
      StatusCode: 200,
      SdkHttpMetadata: { HttpStatusCode: 200 },
      SdkResponseMetadata: { RequestId: expect.any(String) },
    })
    expect(output.deleted.SdkHttpMetadata.HttpHeaders['x-amzn-RequestId']).toBe(
      output.deleted.SdkResponseMetadata.RequestId,
    )
    // the handler got Payload.$ = $ and a Lambda-like context
    expect(seen[0]?.event).toEqual({ userIdentityId: 'ui_1' })
    expect(seen[0]?.context).toMatchObject({
      functionName: extracted.lambdaArns[arns.DeleteFn as string],
      invokedFunctionArn: arns.DeleteFn,
      functionVersion: '$LATEST',
      awsRequestId: output.deleted.SdkResponseMetadata.RequestId,
    })
    expect(seen[0]?.context.getRemainingTimeInMillis()).toBeGreaterThan(0)
    expect(seen[1]?.event).toEqual({ ids: ['a', 'b'] })
  })
})
