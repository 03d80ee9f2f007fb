// The callback pattern (lambda:invoke.waitForTaskToken) on the local runner, with the ASL CDK
// synthesizes: tokens, SendTask* through the facade and send(), timeouts, heartbeats, and the
// errors AWS gives a late or unknown token.
import {
  InvalidOutput,
  InvalidToken,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  TaskTimedOut,
} from '@aws-sdk/client-sfn'
import { Duration } from 'aws-cdk-lib'
import * as sfn from 'aws-cdk-lib/aws-stepfunctions'
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks'
import { afterEach, describe, expect, it } from 'vitest'
import { UnsupportedDefinitionError } from '../../local/stepfunctions/asl.js'
import { LocalStepFunctions } from '../../local/stepfunctions/runner.js'
import { NamedError, synth } from './helpers.js'

const runners: LocalStepFunctions[] = []
afterEach(async () => {
  await Promise.all(runners.splice(0).map((runner) => runner.close()))
})

type Handler = (event: { token: string; item?: string }) => Promise<unknown>

/** Await (callback) → Succeed, with Catch on States.Timeout → "Poll instead" (a Pass). */
function callbackMachine(
  options: { timeout?: number; heartbeat?: number; retryTaskFailed?: boolean } = {},
) {
  return synth((stack, fn) => {
    const wait = new tasks.LambdaInvoke(stack, 'Await items', {
      lambdaFunction: fn('AwaitFn'),
      integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
      payload: sfn.TaskInput.fromObject({ token: sfn.JsonPath.taskToken, 'item.$': '$.item' }),
      ...(options.timeout
        ? { taskTimeout: sfn.Timeout.duration(Duration.seconds(options.timeout)) }
        : {}),
      ...(options.heartbeat
        ? { heartbeatTimeout: sfn.Timeout.duration(Duration.seconds(options.heartbeat)) }
        : {}),
      resultPath: '$.awaited',
    })
    if (options.retryTaskFailed) {
      wait.addRetry({
        errors: ['States.TaskFailed'],
        maxAttempts: 2,
        interval: Duration.seconds(1),
      })
    }
    wait.addCatch(new sfn.Pass(stack, 'Poll instead'), {
      errors: ['States.Timeout', 'Gone', 'States.HeartbeatTimeout'],
      resultPath: '$.caught',
    })
    return { definition: wait.next(new sfn.Succeed(stack, 'Done')) }
  })
}

function runnerFor(built: ReturnType<typeof callbackMachine>, handler: Handler, waitScale = 0.001) {
  const runner = new LocalStepFunctions({
    definition: built.extracted.definition,
    stateMachineArn: built.extracted.stateMachineArn,
    taskHandlers: { [built.arns.AwaitFn as string]: handler as never },
    waitScale,
  })
  runners.push(runner)
  return runner
}

/** A handler that hands each token it is given to the test. */
function tokenSink() {
  const tokens: string[] = []
  const handler: Handler = async (event) => {
    // Handed over once the invocation has returned (a macrotask later), as a webhook would be.
    setImmediate(() => tokens.push(event.token))
    return { registered: true }
  }
  const next = async (count = 1) => {
    while (tokens.length < count) await new Promise((r) => setTimeout(r, 2))
    return tokens[count - 1] as string
  }
  return { tokens, handler, next }
}

async function start(runner: LocalStepFunctions, input: unknown = { item: 'a' }) {
  const { executionArn } = await runner.startExecution({
    stateMachineArn: runner.stateMachineArn,
    input: JSON.stringify(input),
  })
  return executionArn as string
}

async function history(runner: LocalStepFunctions, executionArn: string) {
  const { events = [] } = await runner.getExecutionHistory({ executionArn, maxResults: 1000 })
  return events
}

describe('lambda:invoke.waitForTaskToken', () => {
  it('passes $$.Task.Token, waits past the handler, and takes SendTaskSuccess output as the result', async () => {
    const sink = tokenSink()
    const runner = runnerFor(callbackMachine({ timeout: 3600 }), sink.handler)
    const arn = await start(runner)
    const token = await sink.next()
    expect(token.length).toBeGreaterThan(64)
    expect((await runner.describeExecution({ executionArn: arn })).status).toBe('RUNNING')

    await runner.send(new SendTaskSuccessCommand({ taskToken: token, output: '{"settled":3}' }))
    const final = await runner.waitForExecution(arn)
    expect(final.status).toBe('SUCCEEDED')
    expect(JSON.parse(final.output as string)).toEqual({ item: 'a', awaited: { settled: 3 } })

    const events = await history(runner, arn)
    expect(events.map((e) => e.type).slice(1)).toEqual([
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSubmitted',
      'TaskSucceeded',
      'TaskStateExited',
      'SucceedStateEntered',
      'SucceedStateExited',
      'ExecutionSucceeded',
    ])
    const scheduled = events.find((e) => e.type === 'TaskScheduled')?.taskScheduledEventDetails
    expect(scheduled?.resource).toBe('invoke.waitForTaskToken')
    expect(JSON.parse(scheduled?.parameters as string).Payload).toEqual({ token, item: 'a' })
    const submitted = events.find((e) => e.type === 'TaskSubmitted')?.taskSubmittedEventDetails
    expect(JSON.parse(submitted?.output as string)).toMatchObject({
      Payload: { registered: true },
      StatusCode: 200,
    })

    // The task is over: the same token again is TaskTimedOut, as AWS answers it.
    await expect(
      runner.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' })),
    ).rejects.toBeInstanceOf(TaskTimedOut)
  })

  it('is settled by the handler itself, from inside its own invocation', async () => {
    const built = callbackMachine({ timeout: 3600 })
    let runner: LocalStepFunctions | undefined
    runner = runnerFor(built, async (event) => {
      await runner?.sendTaskSuccess({ taskToken: event.token, output: '{"already":true}' })
      return {}
    })
    const final = await runner.waitForExecution(await start(runner))
    expect(final.status).toBe('SUCCEEDED')
    expect(JSON.parse(final.output as string).awaited).toEqual({ already: true })
  })

  it('answers InvalidToken for a token it never issued, InvalidOutput for output that is not JSON', async () => {
    const sink = tokenSink()
    const runner = runnerFor(callbackMachine({ timeout: 3600 }), sink.handler)
    const arn = await start(runner)
    const token = await sink.next()
    await expect(
      runner.send(new SendTaskSuccessCommand({ taskToken: 'made-up', output: '{}' })),
    ).rejects.toBeInstanceOf(InvalidToken)
    await expect(
      runner.send(new SendTaskSuccessCommand({ taskToken: token, output: 'not json' })),
    ).rejects.toBeInstanceOf(InvalidOutput)
    await expect(
      runner.send(new SendTaskHeartbeatCommand({ taskToken: 'made-up' })),
    ).rejects.toBeInstanceOf(InvalidToken)
    // The refused calls left the task waiting: a valid one still ends it.
    await runner.sendTaskSuccess({ taskToken: token, output: '"ok"' })
    expect((await runner.waitForExecution(arn)).status).toBe('SUCCEEDED')
  })

  it('times out at TimeoutSeconds (scaled) with States.Timeout, which Catch takes and States.TaskFailed does not retry', async () => {
    const sink = tokenSink()
    const runner = runnerFor(callbackMachine({ timeout: 60, retryTaskFailed: true }), sink.handler)
    const arn = await start(runner)
    const final = await runner.waitForExecution(arn)
    expect(final.status).toBe('SUCCEEDED')
    expect(JSON.parse(final.output as string).caught).toEqual({
      Error: 'States.Timeout',
      Cause: expect.any(String),
    })
    expect(sink.tokens).toHaveLength(1)
    const types = (await history(runner, arn)).map((e) => e.type)
    expect(types.slice(1, 6)).toEqual([
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSubmitted',
      'TaskTimedOut',
    ])
    expect(types).toContain('PassStateEntered')
    // A late callback, as the webhook Lambda may send one: TaskTimedOut, nothing changes.
    await expect(
      runner.sendTaskSuccess({ taskToken: sink.tokens[0] as string, output: '{}' }),
    ).rejects.toBeInstanceOf(TaskTimedOut)
  })

  it('reads TimeoutSecondsPath from the state input (scaled), as the poll loop gives its wait', async () => {
    const built = synth((stack, fn) => {
      const wait = new tasks.LambdaInvoke(stack, 'Await items', {
        lambdaFunction: fn('AwaitFn'),
        integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
        payload: sfn.TaskInput.fromObject({ token: sfn.JsonPath.taskToken }),
        taskTimeout: sfn.Timeout.at('$.progress.wait_seconds'),
        resultPath: '$.awaited',
      })
      wait.addRetry({ errors: ['States.TaskFailed'], maxAttempts: 3 })
      wait.addCatch(new sfn.Pass(stack, 'Poll instead'), {
        errors: ['States.Timeout'],
        resultPath: '$.caught',
      })
      return { definition: wait }
    })
    const sink = tokenSink()
    const runner = runnerFor(built, sink.handler)
    const arn = await start(runner, { progress: { wait_seconds: 30 } })
    const final = await runner.waitForExecution(arn)
    expect(JSON.parse(final.output as string).caught.Error).toBe('States.Timeout')
    expect(sink.tokens).toHaveLength(1)
    const scheduled = (await history(runner, arn)).find((e) => e.type === 'TaskScheduled')
    expect(
      Object.keys(JSON.parse(scheduled?.taskScheduledEventDetails?.parameters as string)),
    ).toEqual(['FunctionName', 'Payload'])
  })

  it('fails the task with SendTaskFailure (Catch sees Error and Cause)', async () => {
    const sink = tokenSink()
    const runner = runnerFor(callbackMachine({ timeout: 3600 }), sink.handler)
    const arn = await start(runner)
    await runner.send(
      new SendTaskFailureCommand({ taskToken: await sink.next(), error: 'Gone', cause: 'x' }),
    )
    const final = await runner.waitForExecution(arn)
    expect(JSON.parse(final.output as string).caught).toEqual({ Error: 'Gone', Cause: 'x' })
    const failed = (await history(runner, arn)).find((e) => e.type === 'TaskFailed')
    expect(failed?.taskFailedEventDetails).toMatchObject({
      resource: 'invoke.waitForTaskToken',
      error: 'Gone',
      cause: 'x',
    })
  })

  it('gives a retried attempt a new token; the first one is then TaskTimedOut', async () => {
    const sink = tokenSink()
    const runner = runnerFor(
      callbackMachine({ timeout: 3600, retryTaskFailed: true }),
      sink.handler,
    )
    const arn = await start(runner)
    const first = await sink.next(1)
    await runner.sendTaskFailure({ taskToken: first, error: 'Flaky' })
    const second = await sink.next(2)
    expect(second).not.toBe(first)
    await expect(runner.sendTaskSuccess({ taskToken: first, output: '{}' })).rejects.toBeInstanceOf(
      TaskTimedOut,
    )
    await runner.sendTaskSuccess({ taskToken: second, output: '{"n":2}' })
    expect(JSON.parse((await runner.waitForExecution(arn)).output as string).awaited).toEqual({
      n: 2,
    })
  })

  it('fails with the handler error when the invocation itself fails', async () => {
    const runner = runnerFor(callbackMachine({ timeout: 3600 }), async () => {
      throw new NamedError('Gone', 'the table is unreachable')
    })
    const final = await runner.waitForExecution(await start(runner))
    const caught = JSON.parse(final.output as string).caught
    expect(caught.Error).toBe('Gone')
    expect(JSON.parse(caught.Cause).errorMessage).toBe('the table is unreachable')
  })

  it('keeps a task alive while heartbeats arrive and times it out with States.HeartbeatTimeout when they stop', async () => {
    // HeartbeatSeconds 30 at waitScale 0.01 = 300 ms; heartbeats every 30 ms for 600 ms.
    const sink = tokenSink()
    const runner = runnerFor(callbackMachine({ timeout: 3600, heartbeat: 30 }), sink.handler, 0.01)
    const kept = await start(runner)
    const token = await sink.next(1)
    for (let i = 0; i < 20; i += 1) {
      await runner.send(new SendTaskHeartbeatCommand({ taskToken: token }))
      await new Promise((r) => setTimeout(r, 30))
    }
    await runner.sendTaskSuccess({ taskToken: token, output: '{"alive":true}' })
    expect(JSON.parse((await runner.waitForExecution(kept)).output as string).awaited).toEqual({
      alive: true,
    })

    const silent = await start(runner, { item: 'b' })
    const final = await runner.waitForExecution(silent)
    expect(JSON.parse(final.output as string).caught.Error).toBe('States.HeartbeatTimeout')
    const timedOut = (await history(runner, silent)).find((e) => e.type === 'TaskTimedOut')
    expect(timedOut?.taskTimedOutEventDetails?.error).toBe('States.HeartbeatTimeout')
  })

  it('answers TaskTimedOut for the token of a stopped execution', async () => {
    const sink = tokenSink()
    const runner = runnerFor(callbackMachine({ timeout: 3600 }), sink.handler)
    const arn = await start(runner)
    const token = await sink.next()
    await runner.stopExecution({ executionArn: arn })
    expect((await runner.describeExecution({ executionArn: arn })).status).toBe('ABORTED')
    await expect(runner.sendTaskSuccess({ taskToken: token, output: '{}' })).rejects.toBeInstanceOf(
      TaskTimedOut,
    )
  })
})

describe('callback tasks it refuses', () => {
  it('refuses a callback task that does not pass $$.Task.Token, or sits inside a Map', () => {
    const noToken = synth((stack, fn) => ({
      definition: new tasks.LambdaInvoke(stack, 'Await', {
        lambdaFunction: fn('AwaitFn'),
        integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
        payload: sfn.TaskInput.fromObject({ token: sfn.JsonPath.taskToken }),
      }),
    }))
    // CDK itself insists on the token; take it out of the synthesized ASL to see the runner refuse.
    const definition = structuredClone(noToken.extracted.definition)
    const state = definition.States.Await as unknown as {
      Parameters: { Payload: Record<string, unknown> }
    }
    state.Parameters.Payload = { 'token.$': '$.token' }
    const handlers = { [noToken.arns.AwaitFn as string]: async () => ({}) }
    const make = (def: typeof definition) => () =>
      new LocalStepFunctions({
        definition: def,
        stateMachineArn: noToken.extracted.stateMachineArn,
        taskHandlers: handlers,
      })
    expect(make(definition)).toThrow(/must pass \$\$\.Task\.Token/)

    const inMap = synth((stack, fn) => {
      const map = new sfn.Map(stack, 'Each', { itemsPath: '$.items' })
      map.itemProcessor(
        new tasks.LambdaInvoke(stack, 'Await each', {
          lambdaFunction: fn('AwaitFn'),
          integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
          payload: sfn.TaskInput.fromObject({ token: sfn.JsonPath.taskToken }),
        }),
      )
      return { definition: map }
    })
    expect(
      () =>
        new LocalStepFunctions({
          definition: inMap.extracted.definition,
          stateMachineArn: inMap.extracted.stateMachineArn,
          taskHandlers: { [inMap.arns.AwaitFn as string]: async () => ({}) },
        }),
    ).toThrow(UnsupportedDefinitionError)
  })
})
