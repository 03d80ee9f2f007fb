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

/** The capacity section: one bulk deletion, and the same count as simultaneous DELETEs, rate-limited Seam. */
export interface CapacityConfig {
  readonly identities: number
  /** Seam requests per second the emulator answers; beyond: 429 with Retry-After. */
  readonly rateLimitPerSecond: number
  /** Asynchronous deletes finish after this many real ms. */
  readonly deleteDelayMs: number
  readonly bulkDeletionConcurrency: number
  /** Reserved concurrency of each Seam-calling workflow function; undefined = none. */
  readonly seamConcurrency?: number
  /** The deployment's Seam budget, divided among the functions' instances; undefined = not paced. */
  readonly seamRequestsPerSecond?: number
  /** Scales the state machine's waits (the emulator's delay is given in real ms). */
  readonly waitScale: number
}

export interface CapacityRun {
  readonly how: 'bulk' | 'deletes'
  readonly identities: number
  readonly succeeded: number
  readonly notSucceeded: Record<string, number>
  readonly leftOver: number
  readonly bystandersTouched: number
  readonly seamRequests: number
  readonly throttled429: number
  readonly share429: number
  readonly wallMs: number
  /** max(Seam requests ÷ limit, ideal × identities ÷ concurrency), in ms. */
  readonly boundMs: number
  readonly wallOverBound: number
  readonly concurrencyUsed: number
  /** Most identities in progress at once, from the emulator's log (first to last request naming it). */
  readonly maxInProgress: number
}

export interface CapacityResult {
  readonly config: CapacityConfig
  /** One deletion alone under the same settings: the ideal time of one. */
  readonly idealMs: number
  readonly runs: readonly CapacityRun[]
}

export async function measureCapacity(
  config: CapacityConfig,
  shape: BenchShape,
  start: (options: {
    bulkDeletionConcurrency: number
    seamConcurrency?: number
    seamRequestsPerSecond?: number
    waitScale: number
  }) => Promise<LocalRuntime>,
  log?: (line: string) => void,
): Promise<CapacityResult> {
  const runtime = await start({
    bulkDeletionConcurrency: config.bulkDeletionConcurrency,
    ...(config.seamConcurrency === undefined ? {} : { seamConcurrency: config.seamConcurrency }),
    ...(config.seamRequestsPerSecond === undefined
      ? {}
      : { seamRequestsPerSecond: config.seamRequestsPerSecond }),
    waitScale: config.waitScale,
  })
  const emulator = runtime.emulator
  if (!emulator) throw new Error('The capacity benchmark needs the Seam emulator')
  try {
    emulator.setDeleteDelayMs(config.deleteDelayMs)
    emulator.setFaults({ rateLimitPerSecond: config.rateLimitPerSecond })
    const alone = emulator.seed.identityGraph(shape)
    const t0 = performance.now()
    await waitForDeletion(runtime, await startDeletion(runtime, alone.userIdentityId))
    const idealMs = performance.now() - t0
    const runs: CapacityRun[] = []
    for (const how of ['bulk', 'deletes'] as const) {
      runs.push(await capacityRun(runtime, emulator, config, shape, how, idealMs))
      log?.(`  ${how}: ${JSON.stringify(runs.at(-1))}`)
    }
    return { config, idealMs: round(idealMs), runs }
  } finally {
    await runtime.close()
  }
}

async function capacityRun(
  runtime: LocalRuntime,
  emulator: NonNullable<LocalRuntime['emulator']>,
  config: CapacityConfig,
  shape: BenchShape,
  how: 'bulk' | 'deletes',
  idealMs: number,
): Promise<CapacityRun> {
  const graphs = Array.from({ length: config.identities }, () => emulator.seed.identityGraph(shape))
  const bystander = emulator.seed.identityGraph(shape)
  const before = JSON.stringify(emulator.inspect.remainingFor(bystander.userIdentityId))
  const ids = graphs.map((g) => g.userIdentityId)
  const from = emulator.requests.length
  const started = performance.now()
  const statuses: Record<string, number> = {}
  if (how === 'bulk') {
    const bulk = await post(runtime.url, '/bulk-deletions', { user_identity_ids: ids })
    const id = (bulk.bulk_deletion as { bulk_deletion_id: string }).bulk_deletion_id
    for (;;) {
      const now = (await get(runtime.url, `/bulk-deletions/${id}`)).bulk_deletion as {
        status: string
      }
      if (now.status !== 'RUNNING') break
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
    for (const uid of ids) {
      const d = (await get(runtime.url, `/deletions/${uid}--1`)).deletion as { status?: string }
      const status = d?.status ?? 'NOT_STARTED'
      statuses[status] = (statuses[status] ?? 0) + 1
    }
  } else {
    // A client that is told 503/429 (the route at its Seam capacity) retries after a second.
    const arns = await Promise.all(ids.map((uid) => startDeletionPatiently(runtime, uid)))
    const done = await Promise.all(arns.map((arn) => waitForDeletion(runtime, arn)))
    for (const d of done) {
      // A failure is counted under its error, so the report says why.
      const key = d.status === 'SUCCEEDED' ? 'SUCCEEDED' : `${d.status} ${d.error ?? ''}`.trim()
      statuses[key] = (statuses[key] ?? 0) + 1
    }
  }
  const wallMs = performance.now() - started
  const entries = emulator.requests.slice(from)
  const throttled429 = entries.filter((e) => e.status === 429).length
  const concurrencyUsed = how === 'bulk' ? config.bulkDeletionConcurrency : config.identities
  const boundMs = Math.max(
    (entries.length / config.rateLimitPerSecond) * 1000,
    (idealMs * config.identities) / concurrencyUsed,
  )
  const { SUCCEEDED = 0, ...notSucceeded } = statuses
  return {
    how,
    identities: config.identities,
    succeeded: SUCCEEDED,
    notSucceeded,
    leftOver: graphs.filter(
      (g) => emulator.inspect.remainingFor(g.userIdentityId).userIdentity !== null,
    ).length,
    bystandersTouched:
      JSON.stringify(emulator.inspect.remainingFor(bystander.userIdentityId)) === before ? 0 : 1,
    seamRequests: entries.length,
    throttled429,
    share429: round(throttled429 / Math.max(1, entries.length)),
    wallMs: round(wallMs),
    boundMs: round(boundMs),
    wallOverBound: round(wallMs / boundMs),
    concurrencyUsed,
    maxInProgress: maxInProgress(entries, ids),
  }
}

function maxInProgress(
  entries: readonly { params: Record<string, unknown>; time: string }[],
  ids: readonly string[],
): number {
  const first = new Map<string, number>()
  const last = new Map<string, number>()
  for (const e of entries) {
    const text = JSON.stringify(e.params)
    const t = Date.parse(e.time)
    for (const id of ids) {
      if (!text.includes(id)) continue
      if (!first.has(id)) first.set(id, t)
      last.set(id, t)
    }
  }
  const events = [...first].flatMap(([id, t]) => [
    { t, d: 1 },
    { t: last.get(id) ?? t, d: -1 },
  ])
  events.sort((a, b) => a.t - b.t || b.d - a.d)
  let now = 0
  let most = 0
  for (const e of events) {
    now += e.d
    most = Math.max(most, now)
  }
  return most
}

/**
 * A client told 503 (the route at its Seam capacity) or 429 comes back after a second (the Retry-After
 * both send), for up to 15 minutes: 300 DELETEs at once are admitted at the route's Seam pace.
 */
async function startDeletionPatiently(runtime: LocalRuntime, userIdentityId: string) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startDeletion(runtime, userIdentityId)
    } catch (error) {
      if (attempt >= 900 || !/answered (503|429)/.test((error as Error).message)) throw error
      await new Promise((resolve) => setTimeout(resolve, 1000))
    }
  }
}

async function post(base: string, path: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  })
  if (res.status !== 202) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`)
  return (await res.json()) as Record<string, unknown>
}

async function get(base: string, path: string): Promise<Record<string, unknown>> {
  return (await (await fetch(`${base}${path}`)).json()) as Record<string, unknown>
}
