/** Many identities deleted at once through the local runtime: total time and Seam's request rate. */
import type { LocalRuntime } from '../local/runtime.js'
import {
  countRequests,
  historyOf,
  historyStats,
  type RequestCounts,
  startDeletion,
  waitForDeletion,
} from './deletions.js'
import type { BenchShape } from './lower-bound.js'
import { mean, round } from './stats.js'

export interface BulkResult {
  readonly identities: number
  readonly totalMs: number
  /** Time until every DELETE had answered 202. */
  readonly startedAllMs: number
  readonly statuses: Record<string, number>
  readonly allSucceeded: boolean
  readonly seamRequests: number
  readonly seamRequestsPerDeletion: number
  readonly requestsPerDeletion: Omit<RequestCounts, 'byPath'>
  /** Requests per 1 s bucket of the emulator's log, from the first request. */
  readonly requestsPerSecond: readonly number[]
  readonly peakRequestsPerSecond: number
  readonly meanTransitionsPerDeletion: number
  readonly leftOver: number
}

export async function measureBulk(
  runtime: LocalRuntime,
  shape: BenchShape,
  identities: number,
): Promise<BulkResult> {
  const emulator = runtime.emulator
  if (!emulator) throw new Error('The bulk benchmark needs the Seam emulator')
  const graphs = Array.from({ length: identities }, () => emulator.seed.identityGraph(shape))
  const from = emulator.requests.length
  const started = performance.now()
  const arns = await Promise.all(graphs.map((g) => startDeletion(runtime, g.userIdentityId)))
  const startedAllMs = performance.now() - started
  const done = await Promise.all(arns.map((arn) => waitForDeletion(runtime, arn)))
  const totalMs = performance.now() - started

  const statuses: Record<string, number> = {}
  for (const d of done) statuses[d.status ?? 'UNKNOWN'] = (statuses[d.status ?? 'UNKNOWN'] ?? 0) + 1
  const entries = emulator.requests.slice(from)
  const times = entries.map((e) => Date.parse(e.time))
  const first = Math.min(...times)
  const buckets: number[] = []
  for (const t of times) {
    const i = Math.floor((t - first) / 1000)
    while (buckets.length <= i) buckets.push(0)
    buckets[i] = (buckets[i] ?? 0) + 1
  }
  const counts = countRequests(entries)
  const transitions: number[] = []
  for (const arn of arns) {
    transitions.push(historyStats(await historyOf(runtime.stepFunctions, arn)).transitions)
  }
  const leftOver = graphs.filter((g) => {
    const left = emulator.inspect.remainingFor(g.userIdentityId)
    return (
      left.clientSessionIds.length +
        left.acsCredentialIds.length +
        left.acsUserIds.length +
        left.enrollmentAutomationIds.length +
        left.phoneIds.length >
      0
    )
  }).length
  const per = (n: number) => round(n / identities)
  return {
    identities,
    totalMs: round(totalMs),
    startedAllMs: round(startedAllMs),
    statuses,
    allSucceeded: statuses.SUCCEEDED === identities,
    seamRequests: entries.length,
    seamRequestsPerDeletion: per(entries.length),
    requestsPerDeletion: {
      total: per(counts.total),
      api: per(counts.api),
      lists: per(counts.lists),
      deletes: per(counts.deletes),
      eventChecks: per(counts.eventChecks),
      other: per(counts.other),
    },
    requestsPerSecond: buckets,
    peakRequestsPerSecond: Math.max(0, ...buckets),
    meanTransitionsPerDeletion: round(mean(transitions)),
    leftOver,
  }
}
