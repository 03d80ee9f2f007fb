/**
 * The local runner's distributed Map (local/stepfunctions/distributed-map.ts), on ASL that CDK's
 * DistributedMap synthesizes: MaxConcurrency, ToleratedFailurePercentage / Count, child workflows as real
 * executions, Map Runs, ItemSelector, stopping the parent, and the features it refuses.
 */
import { Duration } from 'aws-cdk-lib'
import * as sfn from 'aws-cdk-lib/aws-stepfunctions'
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks'
import { describe, expect, it } from 'vitest'
import { UnsupportedDefinitionError } from '../../local/stepfunctions/asl.js'
import { LocalStepFunctions } from '../../local/stepfunctions/runner.js'
import { NamedError, synth } from './helpers.js'

interface MapProps {
  maxConcurrency?: number
  toleratedFailurePercentage?: number
  toleratedFailureCount?: number
}

function build(props: MapProps) {
  return synth((stack, fn) => {
    const work = new LambdaInvoke(stack, 'Work', {
      lambdaFunction: fn('Worker', Duration.seconds(30)),
      outputPath: '$.Payload',
      retryOnServiceExceptions: false,
    })
    const map = new sfn.DistributedMap(stack, 'Each', {
      itemsPath: '$.items',
      itemSelector: {
        n: sfn.JsonPath.numberAt('$$.Map.Item.Value'),
        tag: sfn.JsonPath.stringAt('$.tag'),
      },
      mapExecutionType: sfn.StateMachineType.STANDARD,
      resultPath: '$.results',
      ...props,
    })
    map.itemProcessor(work)
    return { definition: map }
  })
}

/** A worker that fails for the items in `failing`, takes `ms`, and records concurrency. */
function worker(failing: number[], ms = 20) {
  const seen = { now: 0, peak: 0, items: [] as unknown[] }
  const handler = async (event: unknown) => {
    const { n, tag } = event as { n: number; tag: string }
    seen.items.push(event)
    seen.now += 1
    seen.peak = Math.max(seen.peak, seen.now)
    await new Promise((resolve) => setTimeout(resolve, ms))
    seen.now -= 1
    if (failing.includes(n)) throw new NamedError('ItemFailed', `item ${n} failed`)
    return { doubled: n * 2, tag }
  }
  return { seen, handler }
}

async function run(props: MapProps, items: number[], failing: number[] = [], tag = 't') {
  const built = build(props)
  const { seen, handler } = worker(failing)
  const runner = new LocalStepFunctions({
    definition: built.extracted.definition,
    stateMachineArn: built.extracted.stateMachineArn,
    taskHandlers: { [built.arns.Worker as string]: handler },
  })
  const { executionArn } = await runner.startExecution({
    stateMachineArn: runner.stateMachineArn,
    input: JSON.stringify({ items, tag }),
  })
  const ended = await runner.waitForExecution(executionArn as string)
  const runs = await runner.mapRuns.listMapRuns({ executionArn })
  const mapRunArn = runs.mapRuns?.[0]?.mapRunArn as string
  const mapRun = await runner.mapRuns.describeMapRun({ mapRunArn })
  return { runner, ended, seen, mapRun, mapRunArn }
}

describe('distributed Map, locally', () => {
  it('runs every item as a child workflow, at most MaxConcurrency at once, results in item order', async () => {
    const items = Array.from({ length: 12 }, (_, i) => i)
    const { ended, seen, mapRun, runner, mapRunArn } = await run({ maxConcurrency: 4 }, items)
    expect(ended.status).toBe('SUCCEEDED')
    expect(JSON.parse(ended.output ?? '{}').results).toEqual(
      items.map((n) => ({ doubled: n * 2, tag: 't' })),
    )
    expect(seen.peak).toBe(4)
    // ItemSelector: the item from $$.Map.Item.Value, the rest from the Map's input.
    expect(seen.items).toContainEqual({ n: 11, tag: 't' })
    expect(runner.mapRuns.peakRunning(mapRunArn)).toBe(4)
    expect(mapRun).toMatchObject({
      status: 'SUCCEEDED',
      maxConcurrency: 4,
      itemCounts: { total: 12, succeeded: 12, failed: 0, pending: 0, running: 0 },
    })
    expect(mapRun.mapRunArn).toMatch(/:mapRun:Machine\w*\/\w+:[0-9a-f-]{36}$/)
  })

  it('without a tolerance, one failed item fails the Map (States.ExceedToleratedFailureThreshold)', async () => {
    const { ended, mapRun } = await run({ maxConcurrency: 1 }, [0, 1, 2, 3], [1])
    expect(ended).toMatchObject({
      status: 'FAILED',
      error: 'States.ExceedToleratedFailureThreshold',
    })
    // MaxConcurrency 1: item 2 and 3 were never started.
    expect(mapRun).toMatchObject({
      status: 'FAILED',
      itemCounts: { succeeded: 1, failed: 1, pending: 2 },
    })
  })

  it('ToleratedFailurePercentage 100: every item runs to its end, failed ones as {Error, Cause}', async () => {
    const { ended, mapRun } = await run(
      { maxConcurrency: 2, toleratedFailurePercentage: 100 },
      [0, 1, 2, 3, 4],
      [1, 3],
    )
    expect(ended.status).toBe('SUCCEEDED')
    const results = JSON.parse(ended.output ?? '{}').results
    expect(results[0]).toEqual({ doubled: 0, tag: 't' })
    expect(results[1]).toMatchObject({ Error: 'ItemFailed' })
    expect(mapRun.itemCounts).toMatchObject({ succeeded: 3, failed: 2, total: 5 })
  })

  it('results past 256 KiB fail the Map (States.DataLimitExceeded), as on AWS', async () => {
    const tag = 'x'.repeat(1024)
    // 300 results of ~1 KiB each: past 262,144 bytes, though every item succeeds.
    const items = Array.from({ length: 300 }, (_, i) => i)
    const { ended, mapRun } = await run({ maxConcurrency: 50 }, items, [], tag)
    expect(ended).toMatchObject({ status: 'FAILED', error: 'States.DataLimitExceeded' })
    expect(mapRun.itemCounts).toMatchObject({ succeeded: 300, total: 300 })
    // Just under the limit it succeeds.
    const fewer = await run({ maxConcurrency: 50 }, items.slice(0, 200), [], tag)
    expect(fewer.ended.status).toBe('SUCCEEDED')
  })

  it('ToleratedFailureCount and Percentage: fails past the count, or past the percentage', async () => {
    expect(
      (await run({ maxConcurrency: 1, toleratedFailureCount: 2 }, [0, 1, 2, 3], [0, 1])).ended
        .status,
    ).toBe('SUCCEEDED')
    expect(
      (await run({ maxConcurrency: 1, toleratedFailureCount: 1 }, [0, 1, 2, 3], [0, 1])).ended
        .status,
    ).toBe('FAILED')
    expect(
      (await run({ maxConcurrency: 1, toleratedFailurePercentage: 50 }, [0, 1, 2, 3], [0, 1])).ended
        .status,
    ).toBe('SUCCEEDED')
    expect(
      (await run({ maxConcurrency: 1, toleratedFailurePercentage: 25 }, [0, 1, 2, 3], [0, 1])).ended
        .status,
    ).toBe('FAILED')
  })

  it('stopping the parent stops its running child workflows (Map Run ABORTED)', async () => {
    const built = build({ maxConcurrency: 2, toleratedFailurePercentage: 100 })
    let started = 0
    const runner = new LocalStepFunctions({
      definition: built.extracted.definition,
      stateMachineArn: built.extracted.stateMachineArn,
      taskHandlers: {
        [built.arns.Worker as string]: async () => {
          started += 1
          await new Promise((resolve) => setTimeout(resolve, 60_000))
        },
      },
    })
    const { executionArn } = await runner.startExecution({
      stateMachineArn: runner.stateMachineArn,
      input: JSON.stringify({ items: [1, 2, 3, 4], tag: 'x' }),
    })
    while (started < 2) await new Promise((resolve) => setTimeout(resolve, 5))
    await runner.stopExecution({ executionArn })
    const mapRunArn = (await runner.mapRuns.listMapRuns({ executionArn })).mapRuns?.[0]?.mapRunArn
    for (;;) {
      const mapRun = await runner.mapRuns.describeMapRun({ mapRunArn })
      if (mapRun.status !== 'RUNNING') {
        expect(mapRun.status).toBe('ABORTED')
        expect(mapRun.itemCounts).toMatchObject({ aborted: 2, pending: 2 })
        break
      }
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    expect(started).toBe(2)
  })

  it('refuses, before running, what it cannot emulate: ItemReader, ResultWriter, ItemBatcher, EXPRESS children', () => {
    const built = build({ maxConcurrency: 2 })
    const definition = structuredClone(built.extracted.definition)
    const map = definition.States.Each as Record<string, unknown>
    map.ItemReader = {
      Resource: 'arn:aws:states:::s3:getObject',
      Parameters: { Bucket: 'b', Key: 'k' },
    }
    map.ResultWriter = {
      Resource: 'arn:aws:states:::s3:putObject',
      Parameters: { Bucket: 'b', Prefix: 'p' },
    }
    map.ItemBatcher = { MaxItemsPerBatch: 10 }
    ;(
      map.ItemProcessor as { ProcessorConfig: Record<string, unknown> }
    ).ProcessorConfig.ExecutionType = 'EXPRESS'
    const make = () =>
      new LocalStepFunctions({
        definition,
        stateMachineArn: built.extracted.stateMachineArn,
        taskHandlers: { [built.arns.Worker as string]: () => ({}) },
      })
    expect(make).toThrow(UnsupportedDefinitionError)
    expect(make).toThrow(/ItemReader[\s\S]*ResultWriter[\s\S]*ItemBatcher[\s\S]*EXPRESS/)
  })
})
