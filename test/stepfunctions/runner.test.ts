import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  GetExecutionHistoryCommand,
  InvalidExecutionInput,
  InvalidName,
  type SFNClient,
  StartExecutionCommand,
  StateMachineDoesNotExist,
} from '@aws-sdk/client-sfn'
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

/** A runner for a synthesized machine whose functions all get `handlers[id]`. */
function runnerFor(
  built: ReturnType<typeof synth>,
  handlers: Record<string, (event: unknown, context: LambdaLikeContext) => Promise<unknown>>,
  options: Partial<ConstructorParameters<typeof LocalStepFunctions>[0]> = {},
) {
  const taskHandlers = Object.fromEntries(
    Object.entries(handlers).map(([id, handler]) => [built.arns[id] as string, handler]),
  )
  const runner = new LocalStepFunctions({
    definition: built.extracted.definition,
    stateMachineArn: built.extracted.stateMachineArn,
    taskHandlers,
    waitScale: 0.001,
    ...options,
  })
  runners.push(runner)
  return runner
}

async function run(runner: LocalStepFunctions, input: unknown = {}, name?: string) {
  const { executionArn } = await runner.startExecution({
    stateMachineArn: runner.stateMachineArn,
    input: JSON.stringify(input),
    ...(name ? { name } : {}),
  })
  const final = await runner.waitForExecution(executionArn as string)
  const { events } = await runner.getExecutionHistory({ executionArn, maxResults: 1000 })
  return { executionArn: executionArn as string, final, events: events ?? [] }
}

describe('the context object', () => {
  it('gives $$.Execution, $$.StateMachine and $$.State their AWS values', async () => {
    const built = synth((stack, fn) => ({
      definition: new sfn.Pass(stack, 'First').next(
        new tasks.LambdaInvoke(stack, 'Read context', {
          lambdaFunction: fn('Fn'),
          payload: sfn.TaskInput.fromObject({
            id: sfn.JsonPath.stringAt('$$.Execution.Id'),
            name: sfn.JsonPath.stringAt('$$.Execution.Name'),
            start: sfn.JsonPath.stringAt('$$.Execution.StartTime'),
            input: sfn.JsonPath.objectAt('$$.Execution.Input'),
            machine: sfn.JsonPath.stringAt('$$.StateMachine.Id'),
            state: sfn.JsonPath.stringAt('$$.State.Name'),
            entered: sfn.JsonPath.stringAt('$$.State.EnteredTime'),
          }),
          outputPath: '$.Payload',
        }),
      ),
    }))
    const runner = runnerFor(built, { Fn: async (event) => event })
    const before = Date.now()
    const { executionArn, final } = await run(runner, { a: 1 }, 'ctx-run')
    const seen = JSON.parse(final.output as string)
    expect(seen).toMatchObject({
      id: executionArn,
      name: 'ctx-run',
      input: { a: 1 },
      machine: built.extracted.stateMachineArn,
      state: 'Read context',
    })
    expect(executionArn).toBe(
      `arn:aws:states:us-east-1:123456789012:execution:${built.extracted.stateMachineName}:ctx-run`,
    )
    expect(Date.parse(seen.start)).toBeGreaterThanOrEqual(before - 5)
    expect(Math.abs(Date.parse(seen.start) - (final.startDate as Date).getTime())).toBeLessThan(50)
    expect(Date.parse(seen.entered)).toBeGreaterThanOrEqual(Date.parse(seen.start))
  })
})

describe('lambda:invoke errors, Retry and Catch', () => {
  function retryMachine(catchToFail: boolean) {
    return synth((stack, fn) => {
      const call = new tasks.LambdaInvoke(stack, 'Call Seam', {
        lambdaFunction: fn('Fn'),
        outputPath: '$.Payload',
      })
      call.addRetry({
        errors: ['SeamRateLimited'],
        interval: Duration.seconds(30),
        backoffRate: 2,
        maxAttempts: 3,
      })
      if (catchToFail) {
        call.addCatch(
          new sfn.Fail(stack, 'Deletion failed', {
            error: 'DeletionFailed',
            causePath: '$.error.Cause',
          }),
          { errors: ['States.ALL'], resultPath: '$.error' },
        )
      }
      return { definition: call }
    })
  }

  it('retries on a named error (intervals scaled) and then succeeds', async () => {
    let calls = 0
    const runner = runnerFor(retryMachine(false), {
      Fn: async () => {
        calls += 1
        if (calls < 3) throw new NamedError('SeamRateLimited', `429 on call ${calls}`)
        return { ok: true }
      },
    })
    const started = Date.now()
    const { final, events } = await run(runner)
    expect(Date.now() - started).toBeLessThan(1000) // 30 s + 60 s of backoff at waitScale 0.001
    expect(final.status).toBe('SUCCEEDED')
    expect(JSON.parse(final.output as string)).toEqual({ ok: true })
    expect(calls).toBe(3)
    expect(events.map((e) => e.type)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskFailed',
      'TaskScheduled',
      'TaskStarted',
      'TaskFailed',
      'TaskScheduled',
      'TaskStarted',
      'TaskSucceeded',
      'TaskStateExited',
      'ExecutionSucceeded',
    ])
    const failed = events.find((e) => e.type === 'TaskFailed')?.taskFailedEventDetails
    expect(failed).toMatchObject({
      resourceType: 'lambda',
      resource: 'invoke',
      error: 'SeamRateLimited',
    })
    const cause = JSON.parse(failed?.cause as string)
    expect(Object.keys(cause)).toEqual(['errorMessage', 'errorType', 'trace'])
    expect(cause).toMatchObject({ errorMessage: '429 on call 1', errorType: 'SeamRateLimited' })
    expect(cause.trace[0]).toBe('SeamRateLimited: 429 on call 1')
  })

  it('fails the execution with the error name and Lambda-shaped cause when nothing catches it', async () => {
    const runner = runnerFor(retryMachine(false), {
      Fn: async () => {
        throw new NamedError('UserIdentityLocked', 'ui_1 is locked')
      },
    })
    const { final, events } = await run(runner)
    expect(final.status).toBe('FAILED')
    expect(final.error).toBe('UserIdentityLocked')
    expect(JSON.parse(final.cause as string)).toMatchObject({
      errorMessage: 'ui_1 is locked',
      errorType: 'UserIdentityLocked',
    })
    expect(final.stopDate).toBeInstanceOf(Date)
    const last = events.at(-1)
    expect(last?.type).toBe('ExecutionFailed')
    expect(last?.executionFailedEventDetails).toEqual({ error: final.error, cause: final.cause })
  })

  it('exhausts the retrier, then Catch → Fail ends FAILED with the caught cause', async () => {
    let calls = 0
    const runner = runnerFor(retryMachine(true), {
      Fn: async () => {
        calls += 1
        throw new NamedError('SeamRateLimited', 'still 429')
      },
    })
    const { final, events } = await run(runner, { userIdentityId: 'ui_9' })
    expect(calls).toBe(4) // first attempt + MaxAttempts 3
    expect(final.status).toBe('FAILED')
    expect(final.error).toBe('DeletionFailed')
    expect(JSON.parse(final.cause as string)).toMatchObject({
      errorMessage: 'still 429',
      errorType: 'SeamRateLimited',
    })
    const types = events.map((e) => e.type)
    expect(types.slice(-4)).toEqual([
      'TaskFailed',
      'TaskStateExited',
      'FailStateEntered',
      'ExecutionFailed',
    ])
    const failInput = JSON.parse(
      events.find((e) => e.type === 'FailStateEntered')?.stateEnteredEventDetails?.input as string,
    )
    expect(failInput).toMatchObject({ userIdentityId: 'ui_9', error: { Error: 'SeamRateLimited' } })
  })

  it('caps a retry interval at MaxDelaySeconds (a one-hour interval ends in milliseconds)', async () => {
    const built = synth((stack, fn) => {
      const call = new tasks.LambdaInvoke(stack, 'Call', {
        lambdaFunction: fn('Fn'),
        retryOnServiceExceptions: false,
      })
      call.addRetry({
        errors: ['States.TaskFailed'],
        interval: Duration.hours(1),
        maxDelay: Duration.seconds(1),
        maxAttempts: 1,
        jitterStrategy: sfn.JitterType.FULL,
      })
      return { definition: call }
    })
    let calls = 0
    const runner = runnerFor(built, {
      Fn: async () => {
        calls += 1
        if (calls === 1) throw new Error('transient')
        return 'ok'
      },
    })
    const started = Date.now()
    const { final } = await run(runner)
    expect(Date.now() - started).toBeLessThan(1000)
    expect(final.status).toBe('SUCCEEDED')
    expect(calls).toBe(2)
  })

  it('fails a handler that outlives its function timeout with Sandbox.Timedout', async () => {
    const built = synth((stack, fn) => ({
      definition: new tasks.LambdaInvoke(stack, 'Slow', { lambdaFunction: fn('Fn') }),
    }))
    const runner = runnerFor(
      built,
      { Fn: () => new Promise((resolve) => setTimeout(resolve, 2000)) },
      { lambdaFunctions: { [built.arns.Fn as string]: { timeoutSeconds: 0.05 } } },
    )
    const { final } = await run(runner)
    expect(final.status).toBe('FAILED')
    expect(final.error).toBe('Sandbox.Timedout')
    expect(JSON.parse(final.cause as string).errorMessage).toMatch(
      /Task timed out after 0\.05 seconds/,
    )
  })
})

describe('execution limits', () => {
  it("ends TIMED_OUT at the definition's TimeoutSeconds, scaled", async () => {
    const built = synth((stack) => ({
      definition: new sfn.Wait(stack, 'Long wait', {
        time: sfn.WaitTime.duration(Duration.hours(1)),
      }),
      timeout: Duration.minutes(1),
    }))
    const runner = runnerFor(built, {})
    const started = Date.now()
    const { final, events } = await run(runner)
    const elapsed = Date.now() - started
    expect(final.status).toBe('TIMED_OUT')
    expect(elapsed).toBeGreaterThanOrEqual(55) // 60 s × 0.001
    expect(elapsed).toBeLessThan(1000)
    expect(final.error).toBeUndefined()
    expect(final.cause).toBeUndefined()
    expect(events.map((e) => e.type)).toEqual([
      'ExecutionStarted',
      'WaitStateEntered',
      'ExecutionTimedOut',
    ])
    expect(events.at(-1)?.executionTimedOutEventDetails).toEqual({ error: 'States.Timeout' })
  })

  it('fails with States.Runtime when the history would exceed maxHistoryEvents', async () => {
    const built = synth((stack) => {
      const wait = new sfn.Wait(stack, 'Spin', { time: sfn.WaitTime.duration(Duration.seconds(1)) })
      const again = new sfn.Choice(stack, 'Again?')
        .when(sfn.Condition.isPresent('$.stop'), new sfn.Succeed(stack, 'Stopped'))
        .otherwise(wait)
      return { definition: wait.next(again) }
    })
    const runner = runnerFor(built, {}, { maxHistoryEvents: 25 })
    const { final, events } = await run(runner)
    expect(final.status).toBe('FAILED')
    expect(final.error).toBe('States.Runtime')
    expect(final.cause).toBe('The execution reached the maximum number of history events (25).')
    expect(events).toHaveLength(25)
    expect(events.at(-1)).toMatchObject({ id: 25, type: 'ExecutionFailed', previousEventId: 24 })
  })
})

describe('the SFN facade', () => {
  /** One task whose handler waits until released, so executions stay RUNNING on demand. */
  function gatedRunner() {
    const built = synth((stack, fn) => ({
      definition: new tasks.LambdaInvoke(stack, 'Work', {
        lambdaFunction: fn('Fn'),
        outputPath: '$.Payload',
      }),
    }))
    const gates: (() => void)[] = []
    const runner = runnerFor(built, {
      Fn: (event) =>
        new Promise((resolve) => {
          gates.push(() => resolve({ echoed: event }))
        }),
    })
    const release = async () => {
      while (gates.length === 0) await new Promise((r) => setTimeout(r, 1))
      for (const open of gates.splice(0)) open()
    }
    return { built, runner, release }
  }

  it('is idempotent for the same name and input while RUNNING, else ExecutionAlreadyExists', async () => {
    const { runner, release } = gatedRunner()
    const start = (input: string) =>
      runner.startExecution({ stateMachineArn: runner.stateMachineArn, name: 'del-1', input })
    const first = await start('{"id":"ui_1"}')
    const again = await start('{"id":"ui_1"}')
    expect(again.executionArn).toBe(first.executionArn)
    expect(again.startDate).toEqual(first.startDate)
    await expect(start('{"id":"ui_2"}')).rejects.toMatchObject({
      name: 'ExecutionAlreadyExists',
      $fault: 'client',
    })
    await release()
    const final = await runner.waitForExecution(first.executionArn as string)
    expect(final.status).toBe('SUCCEEDED')
    // the same name and input once the execution has closed is a conflict too
    await expect(start('{"id":"ui_1"}')).rejects.toBeInstanceOf(ExecutionAlreadyExists)
  })

  it('rejects invalid names, unknown state machines, bad input and unknown executions like AWS', async () => {
    const { runner } = gatedRunner()
    const arn = runner.stateMachineArn
    for (const name of ['', 'a b', 'x/y', 'a:b', 'has*star', 'x'.repeat(81), 'tab\there']) {
      await expect(runner.startExecution({ stateMachineArn: arn, name })).rejects.toBeInstanceOf(
        InvalidName,
      )
    }
    await expect(runner.startExecution({ stateMachineArn: `${arn}-other` })).rejects.toBeInstanceOf(
      StateMachineDoesNotExist,
    )
    await expect(
      runner.startExecution({ stateMachineArn: arn, input: '{not json' }),
    ).rejects.toBeInstanceOf(InvalidExecutionInput)
    const missing = arn.replace(':stateMachine:', ':execution:').concat(':nope')
    await expect(runner.describeExecution({ executionArn: missing })).rejects.toBeInstanceOf(
      ExecutionDoesNotExist,
    )
    await expect(runner.getExecutionHistory({ executionArn: missing })).rejects.toMatchObject({
      name: 'ExecutionDoesNotExist',
    })
    await expect(runner.describeExecution({ executionArn: 'nonsense' })).rejects.toMatchObject({
      name: 'InvalidArn',
    })
  })

  it('describes a running and then a succeeded execution', async () => {
    const { runner, release } = gatedRunner()
    const { executionArn, startDate } = await runner.startExecution({
      stateMachineArn: runner.stateMachineArn,
      name: 'described',
      input: '{"userIdentityId":"ui_1"}',
    })
    const running = await runner.describeExecution({ executionArn })
    expect(running).toMatchObject({
      executionArn,
      stateMachineArn: runner.stateMachineArn,
      name: 'described',
      status: 'RUNNING',
      startDate,
      input: '{"userIdentityId":"ui_1"}',
    })
    expect(running.stopDate).toBeUndefined()
    expect(running.output).toBeUndefined()
    await release()
    const done = await runner.waitForExecution(executionArn as string)
    expect(done.status).toBe('SUCCEEDED')
    expect(JSON.parse(done.output as string)).toEqual({ echoed: { userIdentityId: 'ui_1' } })
    expect((done.stopDate as Date).getTime()).toBeGreaterThanOrEqual((startDate as Date).getTime())
    expect(done.error).toBeUndefined()
  })

  it('writes an AWS-shaped history, in order or reversed, paginated', async () => {
    const { runner, release } = gatedRunner()
    const { executionArn } = await runner.startExecution({
      stateMachineArn: runner.stateMachineArn,
      input: '{"a":1}',
    })
    await release()
    await runner.waitForExecution(executionArn as string)
    const { events = [] } = await runner.getExecutionHistory({ executionArn })
    expect(events.map((e) => [e.id, e.previousEventId, e.type])).toEqual([
      [1, 0, 'ExecutionStarted'],
      [2, 1, 'TaskStateEntered'],
      [3, 2, 'TaskScheduled'],
      [4, 3, 'TaskStarted'],
      [5, 4, 'TaskSucceeded'],
      [6, 5, 'TaskStateExited'],
      [7, 6, 'ExecutionSucceeded'],
    ])
    expect(events[0]?.executionStartedEventDetails?.input).toBe('{"a":1}')
    expect(events[1]?.stateEnteredEventDetails).toEqual({
      name: 'Work',
      input: '{"a":1}',
      inputDetails: { truncated: false },
    })
    const scheduled = events[2]?.taskScheduledEventDetails
    expect(scheduled).toMatchObject({
      resourceType: 'lambda',
      resource: 'invoke',
      region: 'us-east-1',
    })
    expect(JSON.parse(scheduled?.parameters as string)).toMatchObject({ Payload: { a: 1 } })
    expect(JSON.parse(events[4]?.taskSucceededEventDetails?.output as string)).toMatchObject({
      Payload: { echoed: { a: 1 } },
      StatusCode: 200,
    })
    expect(events[5]?.stateExitedEventDetails?.output).toBe('{"echoed":{"a":1}}')
    expect(events.every((e) => e.timestamp instanceof Date)).toBe(true)

    const reversed = await runner.getExecutionHistory({
      executionArn,
      reverseOrder: true,
      maxResults: 2,
    })
    expect(reversed.events?.map((e) => e.type)).toEqual(['ExecutionSucceeded', 'TaskStateExited'])
    const next = await runner.getExecutionHistory({
      executionArn,
      reverseOrder: true,
      maxResults: 2,
      nextToken: reversed.nextToken,
    })
    expect(next.events?.map((e) => e.id)).toEqual([5, 4])
  })

  it('stops an execution: ABORTED with the given error and cause, late results ignored', async () => {
    const { runner, release } = gatedRunner()
    const { executionArn } = await runner.startExecution({
      stateMachineArn: runner.stateMachineArn,
    })
    await new Promise((r) => setTimeout(r, 20))
    const { stopDate } = await runner.stopExecution({
      executionArn,
      error: 'Operator',
      cause: 'stopped by hand',
    })
    const stopped = await runner.describeExecution({ executionArn })
    expect(stopped).toMatchObject({
      status: 'ABORTED',
      error: 'Operator',
      cause: 'stopped by hand',
      stopDate,
    })
    await release()
    await new Promise((r) => setTimeout(r, 20))
    const { events = [] } = await runner.getExecutionHistory({ executionArn })
    expect(events.map((e) => e.type)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'ExecutionAborted',
    ])
    expect(events.at(-1)?.executionAbortedEventDetails).toEqual({
      error: 'Operator',
      cause: 'stopped by hand',
    })
    expect((await runner.describeExecution({ executionArn })).status).toBe('ABORTED')
  })

  it('serves SDK commands through send(), so it stands in for SFNClient', async () => {
    const { runner, release } = gatedRunner()
    const client: Pick<SFNClient, 'send'> = runner
    const started = await client.send(
      new StartExecutionCommand({ stateMachineArn: runner.stateMachineArn, name: 'via-send' }),
    )
    expect(started.$metadata.httpStatusCode).toBe(200)
    await release()
    await runner.whenIdle()
    const described = await client.send(
      new DescribeExecutionCommand({ executionArn: started.executionArn }),
    )
    expect(described.status).toBe('SUCCEEDED')
    const history = await client.send(
      new GetExecutionHistoryCommand({ executionArn: started.executionArn, reverseOrder: true }),
    )
    expect(history.events?.[0]?.type).toBe('ExecutionSucceeded')
    await expect(
      client.send(new DescribeExecutionCommand({ executionArn: `${started.executionArn}x` })),
    ).rejects.toBeInstanceOf(ExecutionDoesNotExist)
  })

  it('runs executions concurrently and close() aborts the ones still running', async () => {
    const { runner, release } = gatedRunner()
    const arns = await Promise.all(
      ['c1', 'c2', 'c3'].map(async (name) => {
        const out = await runner.startExecution({ stateMachineArn: runner.stateMachineArn, name })
        return out.executionArn as string
      }),
    )
    await release() // all three handlers were waiting at once
    await runner.whenIdle()
    const statuses = await Promise.all(
      arns.map((executionArn) => runner.describeExecution({ executionArn })),
    )
    expect(statuses.map((s) => s.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED'])

    const { executionArn } = await runner.startExecution({
      stateMachineArn: runner.stateMachineArn,
    })
    await runner.close()
    expect((await runner.describeExecution({ executionArn })).status).toBe('ABORTED')
    await expect(
      runner.startExecution({ stateMachineArn: runner.stateMachineArn }),
    ).rejects.toThrow(/closed/)
  })
})

describe('refusing what it cannot run faithfully', () => {
  it('refuses, at construction, a Task with no handler (naming the state and the function)', () => {
    const built = synth((stack, fn) => ({
      definition: new tasks.LambdaInvoke(stack, 'Bound', { lambdaFunction: fn('BoundFn') }).next(
        new tasks.LambdaInvoke(stack, 'Unbound', { lambdaFunction: fn('UnboundFn') }),
      ),
    }))
    expect(() => runnerFor(built, { BoundFn: async () => ({}) })).toThrow(
      /Task "Unbound" \(States\.Unbound\): no handler for arn:aws:lambda:.*:function:UnboundFn/,
    )
  })

  it('refuses JSONata even when handed the definition directly', () => {
    const definition = {
      QueryLanguage: 'JSONata',
      StartAt: 'P',
      States: { P: { Type: 'Pass', Output: '{% $states.input %}', End: true } },
    }
    expect(
      () =>
        new LocalStepFunctions({
          definition,
          stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:M',
          taskHandlers: {},
        }),
    ).toThrow(/interprets JSONPath only[\s\S]*QueryLanguage: "JSONata"[\s\S]*States\.P\.Output/)
  })

  it('refuses Task resources other than Lambda, and a FunctionName chosen at run time', () => {
    const definition = {
      StartAt: 'Send',
      States: {
        Send: {
          Type: 'Task',
          Resource: 'arn:aws:states:::sqs:sendMessage',
          Parameters: { QueueUrl: 'https://sqs', MessageBody: 'x' },
          Next: 'Dynamic',
        },
        Dynamic: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke',
          Parameters: { 'FunctionName.$': '$.fn', 'Payload.$': '$' },
          End: true,
        },
      },
    }
    expect(
      () =>
        new LocalStepFunctions({
          definition,
          stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:M',
          taskHandlers: {},
        }),
    ).toThrow(
      /sqs:sendMessage is not emulated locally[\s\S]*FunctionName\.\$ is chosen at run time/,
    )
  })
})

describe('more of the Lambda integration', () => {
  it('passes the raw result for a Lambda ARN Resource (payloadResponseOnly), with LambdaFunction events', async () => {
    const built = synth((stack, fn) => ({
      definition: new tasks.LambdaInvoke(stack, 'Raw', {
        lambdaFunction: fn('Fn'),
        payloadResponseOnly: true,
        resultPath: '$.raw',
      }),
    }))
    const runner = runnerFor(built, { Fn: async (event) => ({ got: event }) })
    const { final, events } = await run(runner, { x: 1 })
    expect(JSON.parse(final.output as string)).toEqual({ x: 1, raw: { got: { x: 1 } } })
    expect(events.map((e) => e.type).slice(2, 5)).toEqual([
      'LambdaFunctionScheduled',
      'LambdaFunctionStarted',
      'LambdaFunctionSucceeded',
    ])
    expect(events[2]?.lambdaFunctionScheduledEventDetails?.resource).toBe(built.arns.Fn)
  })

  it('fails a task at its TimeoutSeconds with States.Timeout (not matched by States.TaskFailed)', async () => {
    const built = synth((stack, fn) => {
      const call = new tasks.LambdaInvoke(stack, 'Stuck', {
        lambdaFunction: fn('Fn'),
        taskTimeout: sfn.Timeout.duration(Duration.seconds(1)),
      })
      call.addRetry({ errors: ['States.TaskFailed'], maxAttempts: 5 })
      return { definition: call }
    })
    let calls = 0
    const runner = runnerFor(built, {
      Fn: () => {
        calls += 1
        return new Promise((resolve) => setTimeout(resolve, 3000))
      },
    })
    const { final, events } = await run(runner)
    expect(final.status).toBe('FAILED')
    expect(final.error).toBe('States.Timeout')
    expect(calls).toBe(1)
    expect(events.map((e) => e.type).slice(1)).toEqual([
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskTimedOut',
      'ExecutionFailed',
    ])
  })

  it('scales a SecondsPath wait read from the input', async () => {
    const built = synth((stack) => ({
      definition: new sfn.Wait(stack, 'Backoff', { time: sfn.WaitTime.secondsPath('$.delay') }),
    }))
    const runner = runnerFor(built, {})
    const started = Date.now()
    const { final, events } = await run(runner, { delay: 300 })
    const elapsed = Date.now() - started
    expect(final.status).toBe('SUCCEEDED')
    expect(elapsed).toBeGreaterThanOrEqual(290) // 300 s × 0.001
    expect(elapsed).toBeLessThan(1500)
    expect(events.map((e) => e.type)).toEqual([
      'ExecutionStarted',
      'WaitStateEntered',
      'WaitStateExited',
      'ExecutionSucceeded',
    ])
    const bad = await run(runner, { delay: 'soon' })
    expect(bad.final).toMatchObject({ status: 'FAILED', error: 'States.Runtime' })
  })

  it('fails with States.DataLimitExceeded when a task result exceeds 256 KiB', async () => {
    const built = synth((stack, fn) => {
      const call = new tasks.LambdaInvoke(stack, 'Big', { lambdaFunction: fn('Fn') })
      call.addCatch(new sfn.Succeed(stack, 'Caught anyway'), { errors: ['States.ALL'] })
      return { definition: call }
    })
    const runner = runnerFor(built, { Fn: async () => 'x'.repeat(300 * 1024) })
    const { final } = await run(runner)
    expect(final).toMatchObject({ status: 'FAILED', error: 'States.DataLimitExceeded' })
  })

  it('reports a Fail state without Error or Cause as FAILED with neither', async () => {
    const built = synth((stack) => ({ definition: new sfn.Fail(stack, 'Bare') }))
    const { final } = await run(runnerFor(built, {}))
    expect(final.status).toBe('FAILED')
    expect(final).not.toHaveProperty('error')
    expect(final).not.toHaveProperty('cause')
  })
})

describe('Parallel and Map states', () => {
  it('runs Lambda tasks inside branches and iterations, and reports every event to onEvent', async () => {
    const built = synth((stack, fn) => {
      const double = fn('DoubleFn')
      const map = new sfn.Map(stack, 'Each item', { itemsPath: '$.items', resultPath: '$.doubled' })
      map.itemProcessor(
        new tasks.LambdaInvoke(stack, 'Double', {
          lambdaFunction: double,
          outputPath: '$.Payload',
        }),
      )
      const parallel = new sfn.Parallel(stack, 'Both', { resultPath: '$.both' })
      parallel.branch(
        new tasks.LambdaInvoke(stack, 'Left', {
          lambdaFunction: fn('SideFn'),
          payload: sfn.TaskInput.fromObject({ side: 'left' }),
          outputPath: '$.Payload',
        }),
      )
      parallel.branch(new sfn.Pass(stack, 'Right', { result: sfn.Result.fromString('right') }))
      return { definition: map.next(parallel) }
    })
    const streamed: string[] = []
    const runner = runnerFor(
      built,
      {
        DoubleFn: async (n) => (n as number) * 2,
        SideFn: async (event) => (event as { side: string }).side,
      },
      { onEvent: (_arn, event) => streamed.push(event.type as string) },
    )
    const { final, events } = await run(runner, { items: [1, 2, 3] })
    expect(final.status).toBe('SUCCEEDED')
    expect(JSON.parse(final.output as string)).toMatchObject({
      doubled: [2, 4, 6],
      both: ['left', 'right'],
    })
    const types = events.map((e) => e.type)
    expect(streamed).toEqual(types)
    expect(types.filter((t) => t === 'TaskSucceeded')).toHaveLength(4)
    expect(types.filter((t) => t === 'MapIterationSucceeded')).toHaveLength(3)
    expect(types).toEqual(
      expect.arrayContaining(['MapStateEntered', 'MapStateExited', 'ParallelStateExited']),
    )
  })
})
