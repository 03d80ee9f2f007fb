// The Map state in DISTRIBUTED mode, run inline by the local runner: the items of ItemsPath, each run as
// a child workflow execution of the ItemProcessor (a real execution of a LocalStepFunctions made for the
// Map Run, so it can be described and listed), at most MaxConcurrency at once, with the
// ToleratedFailurePercentage / ToleratedFailureCount semantics of AWS: past the threshold the Map fails
// with States.ExceedToleratedFailureThreshold and the children still running are stopped. The Map Run is
// kept for ListMapRuns / DescribeMapRun.
//
// Refused loudly (UnsupportedDefinitionError) before anything runs: ItemReader (S3), ResultWriter (S3),
// ItemBatcher, the *Path variants of MaxConcurrency and the tolerances, the legacy Parameters / Iterator,
// and EXPRESS child workflows.
//
// What AWS puts in the Map's output for a failed child (there is no ResultWriter) is not documented;
// here it is `{ "Error", "Cause" }` of that child. Workflows should not depend on either reading.

import { randomUUID } from 'node:crypto'
import type {
  DescribeExecutionOutput,
  DescribeMapRunInput,
  DescribeMapRunOutput,
  ListMapRunsInput,
  ListMapRunsOutput,
  StartExecutionInput,
  StartExecutionOutput,
  StopExecutionInput,
} from '@aws-sdk/client-sfn'
import {
  type AslDefinition,
  type AslState,
  asAslDefinition,
  forEachState,
  isObject,
  UnsupportedDefinitionError,
} from './asl.js'
import { TaskFailure } from './lambda.js'

/** The Resource the runner gives a distributed Map it runs as a task of its own. */
export const LOCAL_DISTRIBUTED_MAP_RESOURCE = 'arn:aws:states:::local:distributedMap'

/** AWS's ceiling on a distributed Map's concurrent child workflows (MaxConcurrency 0 = this). */
const MAX_CHILDREN = 10_000

const REFUSED: Record<string, string> = {
  ItemReader: 'reads the items from S3; pass them in the input (ItemsPath) instead',
  ResultWriter: 'writes the results to S3',
  ItemBatcher: 'batches items',
  MaxConcurrencyPath: 'chooses MaxConcurrency at run time',
  ToleratedFailurePercentagePath: 'chooses the tolerance at run time',
  ToleratedFailureCountPath: 'chooses the tolerance at run time',
  Parameters: 'is the legacy name of ItemSelector',
  Iterator: 'is the legacy name of ItemProcessor',
}
/** Fields of the distributed Map itself, taken off for the generic checks and the runtime Task. */
const MAP_ONLY = [
  'ItemsPath',
  'ItemSelector',
  'ItemProcessor',
  'MaxConcurrency',
  'ToleratedFailurePercentage',
  'ToleratedFailureCount',
  'Label',
]

export function isDistributedMap(state: AslState): boolean {
  return (
    state.Type === 'Map' &&
    isObject(state.ItemProcessor) &&
    isObject(state.ItemProcessor.ProcessorConfig) &&
    state.ItemProcessor.ProcessorConfig.Mode === 'DISTRIBUTED'
  )
}

/**
 * The definition with every distributed Map checked (what cannot be emulated is refused) and turned
 * into the inline Map it runs like, for the runner's generic checks of the rest (its ItemProcessor
 * included).
 */
export function withoutDistributedMaps(definition: AslDefinition): AslDefinition {
  const copy = structuredClone(definition)
  const problems: string[] = []
  forEachState(copy, (_name, state, path) => {
    if (!isDistributedMap(state)) return
    for (const [field, why] of Object.entries(REFUSED)) {
      if (field in state) problems.push(`${path}.${field}: a distributed Map that ${why}`)
    }
    const processor = state.ItemProcessor as Record<string, unknown>
    const config = processor.ProcessorConfig as Record<string, unknown>
    if (config.ExecutionType !== 'STANDARD') {
      problems.push(
        `${path}: ExecutionType ${String(config.ExecutionType)} child workflows (only STANDARD is emulated)`,
      )
    }
    for (const field of ['ToleratedFailurePercentage', 'ToleratedFailureCount', 'Label']) {
      delete state[field]
    }
    delete processor.ProcessorConfig
  })
  if (problems.length > 0) {
    throw new UnsupportedDefinitionError(
      `The local runner cannot emulate these distributed Map features:\n  - ${problems.join('\n  - ')}`,
    )
  }
  return copy
}

/** The distributed Map as the interpreter runs it: a Task of its own with the Map's I/O and transitions. */
export function distributedMapTask(state: AslState, timeoutSeconds: number): AslState {
  const task: AslState = { ...state, Type: 'Task', Resource: LOCAL_DISTRIBUTED_MAP_RESOURCE }
  for (const field of MAP_ONLY) delete task[field]
  task.TimeoutSeconds = timeoutSeconds
  return task
}

/** What a Map Run needs of the runner: a runner for its child workflows. */
export interface ChildWorkflows {
  startExecution(input: StartExecutionInput): Promise<StartExecutionOutput>
  waitForExecution(executionArn: string): Promise<DescribeExecutionOutput>
  stopExecution(input: StopExecutionInput): Promise<unknown>
}

export interface MapRunContext {
  /** The parent execution. */
  executionArn: string
  /** `arn:…:stateMachine:<name>` of the parent. */
  stateMachineArn: string
  /** Aborted when the parent execution ends (stopped, timed out). */
  signal: AbortSignal
  /** Makes the runner of the child workflows (the ItemProcessor) under the given state machine ARN. */
  children(definition: AslDefinition, stateMachineArn: string): ChildWorkflows
}

interface MapRun {
  mapRunArn: string
  executionArn: string
  startDate: Date
  stopDate?: Date
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED'
  maxConcurrency: number
  toleratedFailurePercentage: number
  toleratedFailureCount: number
  items: {
    pending: number
    running: number
    succeeded: number
    failed: number
    timedOut: number
    aborted: number
    total: number
  }
  /** Most children running at once, for tests and the bench. */
  peakRunning: number
}

/** The Map Runs of one runner: ListMapRuns / DescribeMapRun, and running a distributed Map. */
export class MapRuns {
  private readonly runs: MapRun[] = []

  async listMapRuns(input: ListMapRunsInput): Promise<ListMapRunsOutput> {
    return {
      mapRuns: this.runs
        .filter((run) => run.executionArn === input.executionArn)
        .map((run) => ({
          executionArn: run.executionArn,
          mapRunArn: run.mapRunArn,
          stateMachineArn: run.mapRunArn
            .replace(':mapRun:', ':stateMachine:')
            .replace(/:[^:]+$/, ''),
          startDate: run.startDate,
          ...(run.stopDate ? { stopDate: run.stopDate } : {}),
        })),
    }
  }

  async describeMapRun(input: DescribeMapRunInput): Promise<DescribeMapRunOutput> {
    const run = this.runs.find((r) => r.mapRunArn === input.mapRunArn)
    if (!run) {
      throw Object.assign(new Error(`Map Run Does Not Exist: '${input.mapRunArn}'`), {
        name: 'ResourceNotFound',
      })
    }
    const { pending, running, succeeded, failed, timedOut, aborted, total } = run.items
    const counts = {
      pending,
      running,
      succeeded,
      failed,
      timedOut,
      aborted,
      total,
      resultsWritten: 0,
    }
    return {
      mapRunArn: run.mapRunArn,
      executionArn: run.executionArn,
      status: run.status,
      startDate: run.startDate,
      ...(run.stopDate ? { stopDate: run.stopDate } : {}),
      maxConcurrency: run.maxConcurrency,
      toleratedFailurePercentage: run.toleratedFailurePercentage,
      toleratedFailureCount: run.toleratedFailureCount,
      itemCounts: counts,
      executionCounts: counts,
    }
  }

  /** The most child workflows of that Map Run that ran at once. */
  peakRunning(mapRunArn: string): number | undefined {
    return this.runs.find((r) => r.mapRunArn === mapRunArn)?.peakRunning
  }

  /** Runs one distributed Map state on `input` (its effective input); resolves with the results array. */
  async run(
    name: string,
    state: AslState,
    input: unknown,
    context: MapRunContext,
  ): Promise<unknown[]> {
    const items = readItems(state, input)
    const label =
      typeof state.Label === 'string' ? state.Label : name.replace(/[^A-Za-z0-9_-]/g, '')
    const childArn = `${context.stateMachineArn}/${label}`
    const run: MapRun = {
      mapRunArn: `${context.stateMachineArn.replace(':stateMachine:', ':mapRun:')}/${label}:${randomUUID()}`,
      executionArn: context.executionArn,
      startDate: new Date(),
      status: 'RUNNING',
      maxConcurrency: numberField(state, 'MaxConcurrency', 0),
      toleratedFailurePercentage: numberField(state, 'ToleratedFailurePercentage', 0),
      toleratedFailureCount: numberField(state, 'ToleratedFailureCount', 0),
      items: {
        pending: items.length,
        running: 0,
        succeeded: 0,
        failed: 0,
        timedOut: 0,
        aborted: 0,
        total: items.length,
      },
      peakRunning: 0,
    }
    this.runs.push(run)
    const processor = asAslDefinition(
      withoutDistributedMaps({ StartAt: '_', States: { _: state } }).States._?.ItemProcessor,
      `ItemProcessor of ${name}`,
    )
    const children = context.children(processor, childArn)
    const results: unknown[] = new Array(items.length).fill(null)
    const running = new Set<string>()
    let next = 0
    let exceeded = false
    const tooManyFailures = () => {
      const failed = run.items.failed + run.items.timedOut + run.items.aborted
      return (
        failed > run.toleratedFailureCount &&
        (failed / items.length) * 100 > run.toleratedFailurePercentage
      )
    }
    const worker = async () => {
      while (next < items.length && !exceeded && !context.signal.aborted) {
        const index = next++
        const itemInput = select(state.ItemSelector, items[index], index, input)
        run.items.pending -= 1
        run.items.running += 1
        run.peakRunning = Math.max(run.peakRunning, run.items.running)
        const { executionArn } = await children.startExecution({
          stateMachineArn: childArn,
          name: randomUUID(),
          input: JSON.stringify(itemInput),
        })
        running.add(executionArn as string)
        const ended = await children.waitForExecution(executionArn as string)
        running.delete(executionArn as string)
        run.items.running -= 1
        if (ended.status === 'SUCCEEDED') {
          run.items.succeeded += 1
          results[index] = JSON.parse(ended.output ?? 'null')
          continue
        }
        if (ended.status === 'TIMED_OUT') run.items.timedOut += 1
        else if (ended.status === 'ABORTED') run.items.aborted += 1
        else run.items.failed += 1
        results[index] = { Error: ended.error ?? ended.status, Cause: ended.cause ?? '' }
        if (tooManyFailures()) exceeded = true
      }
    }
    const concurrency = Math.min(items.length, run.maxConcurrency || MAX_CHILDREN)
    const stopRunning = () =>
      Promise.all([...running].map((executionArn) => children.stopExecution({ executionArn })))
    context.signal.addEventListener('abort', () => void stopRunning(), { once: true })
    await Promise.all(Array.from({ length: concurrency }, worker))
    if (exceeded || context.signal.aborted) {
      await stopRunning()
      run.status = context.signal.aborted ? 'ABORTED' : 'FAILED'
      run.stopDate = new Date()
      throw new TaskFailure(
        'States.ExceedToleratedFailureThreshold',
        'The specified tolerated failure threshold was exceeded',
      )
    }
    run.status = 'SUCCEEDED'
    run.stopDate = new Date()
    return results
  }
}

function readItems(state: AslState, input: unknown): unknown[] {
  const path = typeof state.ItemsPath === 'string' ? state.ItemsPath : '$'
  const items = readSimplePath(path, input, undefined)
  if (!Array.isArray(items)) {
    throw new TaskFailure('States.Runtime', `ItemsPath ${path} does not select an array`, {
      retryable: false,
      catchable: false,
    })
  }
  return items
}

function numberField(state: AslState, field: string, fallback: number): number {
  const value = state[field]
  return typeof value === 'number' ? value : fallback
}

/** ItemSelector: literals, and `.$` paths into the Map's input (`$…`) or the item (`$$.Map.Item.…`). */
function select(selector: unknown, item: unknown, index: number, input: unknown): unknown {
  if (selector === undefined) return item
  const context = { Map: { Item: { Value: item, Index: index } } }
  const build = (template: unknown): unknown => {
    if (Array.isArray(template)) return template.map(build)
    if (!isObject(template)) return template
    return Object.fromEntries(
      Object.entries(template).map(([key, value]) =>
        key.endsWith('.$')
          ? [key.slice(0, -2), readSimplePath(String(value), input, context)]
          : [key, build(value)],
      ),
    )
  }
  return build(selector)
}

/** `$`, `$.a.b`, `$$.Map.Item.Value`: dotted paths only (anything else is refused at run time). */
function readSimplePath(path: string, input: unknown, context: unknown): unknown {
  const match = /^(\$\$?)((?:\.[A-Za-z0-9_-]+)*)$/.exec(path)
  if (!match || (match[1] === '$$' && context === undefined)) {
    throw new TaskFailure(
      'States.Runtime',
      `The local distributed Map reads only dotted paths, not ${path}`,
      {
        retryable: false,
        catchable: false,
      },
    )
  }
  let target: unknown = match[1] === '$$' ? context : input
  for (const key of (match[2] ?? '').split('.').slice(1)) {
    if (!isObject(target) || !(key in target)) {
      throw new TaskFailure('States.Runtime', `The path ${path} could not be found in the input`, {
        retryable: false,
        catchable: false,
      })
    }
    target = target[key]
  }
  return target
}
