/**
 * One deletion, measured: through the local runtime (HTTP DELETE → the synthesized state machine →
 * the stage Lambdas → the emulator), or with Seam's sample algorithm on the same emulator. Requests are
 * read from the emulator's request log, transitions and Lambda invocations from the execution history.
 */
import type { HistoryEvent } from '@aws-sdk/client-sfn'
import { executionArnFor } from '../functions/core/deletions.js'
import type { LocalRuntime } from '../local/runtime.js'
import type { RequestLogEntry, SeamEmulator } from '../local/seam-emulator/index.js'
import { TASK_OUTCOMES } from '../local/stepfunctions/history.js'
import type { LocalStepFunctions } from '../local/stepfunctions/runner.js'
import type { BenchShape } from './lower-bound.js'
import { deleteUserIdentityLikeTheGuide, type SampleBound } from './seam-sample.js'

/** The route the DELETE handler calls to check the identity exists (not part of the workflow). */
export const API_EXISTENCE_CHECK = '/user_identities/get'

export interface RequestCounts {
  readonly total: number
  /** Made by the API route (the existence check), not by the state machine. */
  readonly api: number
  readonly lists: number
  readonly deletes: number
  readonly eventChecks: number
  readonly other: number
  readonly byPath: Record<string, number>
}

export function countRequests(entries: readonly RequestLogEntry[]): RequestCounts {
  const byPath: Record<string, number> = {}
  let api = 0
  let lists = 0
  let deletes = 0
  let eventChecks = 0
  let other = 0
  for (const entry of entries) {
    byPath[entry.path] = (byPath[entry.path] ?? 0) + 1
    if (entry.path === API_EXISTENCE_CHECK) api++
    else if (entry.path === '/events/list') eventChecks++
    else if (entry.path.endsWith('/list')) lists++
    else if (entry.path.endsWith('/delete') || entry.path.endsWith('/deactivate')) deletes++
    else other++
  }
  return { total: entries.length, api, lists, deletes, eventChecks, other, byPath }
}

export interface HistoryStats {
  /** States entered (what Standard workflows bill as state transitions). */
  readonly transitions: number
  readonly lambdaInvocations: number
  /** Started → succeeded/failed of each Lambda task, as the local runner timed it. */
  readonly lambdaDurationsMs: readonly number[]
  readonly waitStates: number
}

export async function historyOf(
  sfn: LocalStepFunctions,
  executionArn: string,
): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = []
  let nextToken: string | undefined
  for (let page = 0; page < 100; page++) {
    const out = await sfn.getExecutionHistory({
      executionArn,
      maxResults: 1000,
      includeExecutionData: false,
      ...(nextToken ? { nextToken } : {}),
    })
    events.push(...(out.events ?? []))
    nextToken = out.nextToken
    if (!nextToken) return events
  }
  throw new Error(`history of ${executionArn} has more than 100 pages`)
}

const TASK_SCHEDULED = new Set(['TaskScheduled', 'LambdaFunctionScheduled'])
const TASK_STARTED = new Set(['TaskStarted', 'LambdaFunctionStarted'])

export function historyStats(events: readonly HistoryEvent[]): HistoryStats {
  let transitions = 0
  let lambdaInvocations = 0
  let waitStates = 0
  const durations: number[] = []
  let startedAt: number | undefined
  for (const event of events) {
    const type = event.type ?? ''
    if (type.endsWith('StateEntered')) transitions++
    if (type === 'WaitStateEntered') waitStates++
    if (TASK_SCHEDULED.has(type)) lambdaInvocations++
    // No Parallel or Map state: at most one task runs at a time.
    if (TASK_STARTED.has(type)) startedAt = event.timestamp?.getTime()
    // A callback task (`Await <stage>`): its Lambda ran until TaskSubmitted; the wait after it that
    // ends in the outcome is Step Functions', not billed as Lambda time.
    const ran = type === 'TaskSubmitted' || TASK_OUTCOMES.has(type)
    if (ran && startedAt !== undefined && event.timestamp) {
      durations.push(event.timestamp.getTime() - startedAt)
      startedAt = undefined
    }
  }
  return { transitions, lambdaInvocations, lambdaDurationsMs: durations, waitStates }
}

export interface OurDeletion extends HistoryStats {
  /** From the DELETE request to the end of the execution. */
  readonly wallMs: number
  /** The DELETE request alone (the start-deletion Lambda's work). */
  readonly apiMs: number
  readonly status: string
  readonly requests: RequestCounts
  readonly executionArn: string
}

function emulatorOf(runtime: LocalRuntime): SeamEmulator {
  if (!runtime.emulator) throw new Error('The benchmark needs the runtime to run the Seam emulator')
  return runtime.emulator
}

/** No HTTP request of the benchmark waits longer than this. */
export const HTTP_TIMEOUT_MS = 30_000
/** No deletion of the benchmark runs longer than this: past it the run fails instead of hanging. */
export const DELETION_TIMEOUT_MS = 5 * 60_000

/** DELETE over the local API; resolves with the execution ARN once the API answered 202. */
export async function startDeletion(runtime: LocalRuntime, userIdentityId: string) {
  const response = await fetch(`${runtime.url}/user-identities/${userIdentityId}`, {
    method: 'DELETE',
    signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
  })
  const body = (await response.json()) as { deletion?: { deletion_id?: string } }
  const deletionId = body.deletion?.deletion_id
  if (response.status !== 202 || !deletionId) {
    throw new Error(`DELETE answered ${response.status}: ${JSON.stringify(body)}`)
  }
  return executionArnFor(runtime.stepFunctions.stateMachineArn, deletionId)
}

/** The execution's final description, or an error once DELETION_TIMEOUT_MS has passed. */
export async function waitForDeletion(runtime: LocalRuntime, executionArn: string) {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${executionArn} still running after ${DELETION_TIMEOUT_MS} ms`)),
      DELETION_TIMEOUT_MS,
    )
  })
  try {
    return await Promise.race([runtime.stepFunctions.waitForExecution(executionArn), timeout])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * `count` deletions of freshly seeded identities through the runtime, one after another, so that each
 * one's Seam requests are its own (events/list is workspace-wide: concurrent deletions' requests
 * cannot be told apart) and its wall time is not shared with another. Nothing else may use the
 * emulator meanwhile.
 */
export async function measureOurDeletions(
  runtime: LocalRuntime,
  shape: BenchShape,
  count: number,
): Promise<OurDeletion[]> {
  const emulator = emulatorOf(runtime)
  const measured: OurDeletion[] = []
  for (let i = 0; i < count; i++) {
    const graph = emulator.seed.identityGraph(shape)
    const from = emulator.requests.length
    const started = performance.now()
    const executionArn = await startDeletion(runtime, graph.userIdentityId)
    const apiMs = performance.now() - started
    const done = await waitForDeletion(runtime, executionArn)
    const wallMs = performance.now() - started
    const status = done.status ?? 'UNKNOWN'
    const requests = countRequests(emulator.requests.slice(from))
    assertGone(emulator, graph.userIdentityId, status)
    const stats = historyStats(await historyOf(runtime.stepFunctions, executionArn))
    measured.push({ wallMs, apiMs, status, requests, executionArn, ...stats })
  }
  return measured
}

export interface SampleDeletion {
  /** Until Seam has deleted the identity (gone from the emulator), as for ours at SUCCEEDED. */
  readonly wallMs: number
  /** Until the algorithm returned: it never waits for the identity's own asynchronous deletion. */
  readonly returnedMs: number
  readonly status: 'SUCCEEDED' | 'INCOMPLETE'
  readonly requests: RequestCounts
  readonly eventPolls: number
  readonly boundHits: number
}

/** One deletion of a freshly seeded identity with Seam's sample algorithm, on the same emulator. */
export async function measureSampleDeletion(
  emulator: SeamEmulator,
  shape: BenchShape,
  bound: SampleBound,
): Promise<SampleDeletion> {
  const graph = emulator.seed.identityGraph(shape)
  const from = emulator.requests.length
  const started = performance.now()
  const run = await deleteUserIdentityLikeTheGuide(
    { apiKey: emulator.apiKey, endpoint: emulator.url },
    graph.userIdentityId,
    bound,
  )
  const returnedMs = performance.now() - started
  const requests = countRequests(emulator.requests.slice(from))
  // The identity goes asynchronously after the algorithm's last call: watched in the emulator's
  // state (no Seam request), so both contenders are timed to the same end.
  const deadline = performance.now() + bound.maxWaitMs
  while (
    emulator.inspect.remainingFor(graph.userIdentityId).userIdentity !== null &&
    performance.now() < deadline
  ) {
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
  const wallMs = performance.now() - started
  const complete =
    emulator.inspect.remainingFor(graph.userIdentityId).isEmpty && run.boundHits === 0
  return {
    wallMs,
    returnedMs,
    status: complete ? 'SUCCEEDED' : 'INCOMPLETE',
    requests,
    eventPolls: run.eventPolls,
    boundHits: run.boundHits,
  }
}

function assertGone(emulator: SeamEmulator, userIdentityId: string, status: string): void {
  // SUCCEEDED means Seam has deleted the identity and everything it held.
  if (status === 'SUCCEEDED' && !emulator.inspect.remainingFor(userIdentityId).isEmpty) {
    throw new Error(`deletion of ${userIdentityId} SUCCEEDED but something of it remains`)
  }
}
