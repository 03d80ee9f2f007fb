/**
 * `npm run bench`: every figure the README's benchmark table shows, measured in one run on this machine against the Seam
 * emulator, with the same asynchronous-delete delays for every contender. runBenchmark() returns the
 * results and writes them as JSON; report.ts prints the table.
 */
import { execFile } from 'node:child_process'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { cpus, loadavg } from 'node:os'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { ROUTES } from '../functions/api/routes.js'
import { DEFAULT_POLL_POLICY, type PollPolicy } from '../functions/core/poll.js'
import { DEFAULT_MEMORY_MB } from '../infra/constructs/service-function.js'
import { REPO_ROOT } from '../infra/repo-root.js'
import { type LocalRuntime, startLocalRuntime } from '../local/runtime.js'
import type { SeamEmulator } from '../local/seam-emulator/index.js'
import {
  type BulkResult,
  type CapacityConfig,
  type CapacityResult,
  measureBulk,
  measureCapacity,
} from './bulk.js'
import { type BundlesResult, type DeployedFunction, measureBundles } from './bundles.js'
import { type CostPerMillion, costPerMillionDeletions, PRICES } from './cost.js'
import { type CreateOptions, type CreateResult, measureCreate } from './create.js'
import {
  measureOurDeletions,
  measureSampleDeletion,
  type OurDeletion,
  type SampleDeletion,
} from './deletions.js'
import { type BenchShape, FIXED_SHAPE, type LowerBound, lowerBound } from './lower-bound.js'
import type { SampleBound } from './seam-sample.js'
import { mean, median, round } from './stats.js'
import { measureWebhookModes, type WebhookPlan, type WebhookRow, webhookGoals } from './webhooks.js'

export interface DelayPlan {
  /** Seam's asynchronous-delete delay being modelled, in real seconds (before scaling). */
  readonly delaySeconds: number
  /** Our deletions, run one after another. */
  readonly ours: number
  /** Sample-algorithm deletions, one after another (its busy loops would compete). */
  readonly sample: number
}

export interface BenchConfig {
  readonly mode: 'full' | 'smoke'
  /** Multiplies Seam's delays and the state machine's waits alike (1 = real time). */
  readonly scale: number
  readonly pageSize: number
  readonly shape: BenchShape
  readonly delays: readonly DelayPlan[]
  /**
   * Our deletions once more at each delay with another poll policy ("with policy X", chosen per
   * delay), each in a runtime synthesized with it; none when undefined.
   */
  readonly alternative?: {
    readonly label: string
    readonly description: string
    readonly policyFor: (delaySeconds: number) => Partial<PollPolicy>
  }
  /**
   * Both contenders once more at the first delay with this much latency added to every Seam request
   * (real ms, scaled like the delays): the sample's busy loop makes delay ÷ round-trip requests per wait.
   */
  readonly latency?: { readonly realMs: number; readonly ours: number; readonly sample: number }
  readonly sampleBound: (scaledDelayMs: number) => SampleBound
  readonly create: CreateOptions
  readonly bulk: { readonly identities: number; readonly delaySeconds: number }
  /** One bulk deletion vs as many simultaneous DELETEs, against a rate-limited Seam. */
  readonly capacity: CapacityConfig
  readonly bundles: { readonly runs: number; readonly parallel: boolean }
  /** Webhook mode beside polling mode (bench/webhooks.ts). */
  readonly webhooks?: { readonly plans: readonly WebhookPlan[] }
  readonly outFile: string
  readonly workDir: string
  readonly log: (line: string) => void
}

export const FULL_CONFIG: Omit<BenchConfig, 'log'> = {
  mode: 'full',
  scale: 1,
  pageSize: 5,
  shape: FIXED_SHAPE,
  delays: [
    { delaySeconds: 2, ours: 3, sample: 3 },
    { delaySeconds: 10, ours: 2, sample: 1 },
  ],
  latency: { realMs: 50, ours: 1, sample: 1 },
  alternative: {
    label: 'X',
    description:
      'every wait exactly the delay (firstWaitSeconds = maxWaitSeconds = delay): an oracle, the ' +
      'best this state machine does when its waits match Seam’s pace with no rounding up',
    policyFor: (delaySeconds) => ({ firstWaitSeconds: delaySeconds, maxWaitSeconds: delaySeconds }),
  },
  sampleBound: (delayMs) => ({ maxPolls: 500_000, maxWaitMs: Math.max(5_000, 5 * delayMs) }),
  create: { samples: 60, warmup: 5, concurrentClients: 20, concurrentRequests: 400 },
  bulk: { identities: 200, delaySeconds: 2 },
  capacity: {
    identities: 300,
    rateLimitPerSecond: 100,
    deleteDelayMs: 300,
    bulkDeletionConcurrency: 10,
    seamConcurrency: 10,
    // The whole limit: the service is the workspace's only client here.
    seamRequestsPerSecond: 100,
    waitScale: 1,
  },
  bundles: { runs: 9, parallel: false },
  webhooks: {
    plans: [
      { label: '300 ms', delay: { kind: 'fixed', seconds: 0.3 }, runs: 3 },
      { label: '2 s', delay: { kind: 'fixed', seconds: 2 }, runs: 2 },
      { label: '10 s', delay: { kind: 'fixed', seconds: 10 }, runs: 1 },
      {
        label: '0.3–5 s per item',
        delay: { kind: 'uniform', minSeconds: 0.3, maxSeconds: 5 },
        runs: 3,
      },
      {
        label: '0.3–5 s per item, half the deliveries dropped',
        delay: { kind: 'uniform', minSeconds: 0.3, maxSeconds: 5 },
        dropRate: 0.5,
        runs: 3,
        pollingFrom: '0.3–5 s per item',
      },
      {
        label: '2 s, half the deliveries dropped',
        delay: { kind: 'fixed', seconds: 2 },
        dropRate: 0.5,
        runs: 3,
        pollingFrom: '2 s',
      },
    ],
  },
  outFile: join(REPO_ROOT, 'bench', 'results.json'),
  workDir: join(REPO_ROOT, '.bench-tmp'),
}

export const SMOKE_CONFIG: Omit<BenchConfig, 'log'> = {
  ...FULL_CONFIG,
  mode: 'smoke',
  scale: 0.05,
  delays: [{ delaySeconds: 2, ours: 1, sample: 1 }],
  latency: { realMs: 50, ours: 1, sample: 1 },
  create: { samples: 3, warmup: 1, concurrentClients: 20, concurrentRequests: 40 },
  bulk: { identities: 5, delaySeconds: 2 },
  capacity: {
    identities: 6,
    rateLimitPerSecond: 100,
    deleteDelayMs: 15,
    bulkDeletionConcurrency: 3,
    seamConcurrency: 3,
    seamRequestsPerSecond: 100,
    // Throttled tasks retry after Step Functions' (scaled) backoff while handlers run in real time: at
    // 0.05 a busy machine could use up the retries before a slot frees up; 0.2 keeps the smoke honest.
    waitScale: 0.2,
  },
  bundles: { runs: 1, parallel: true },
  webhooks: {
    plans: [
      { label: '2 s', delay: { kind: 'fixed', seconds: 2 }, runs: 1 },
      {
        label: '2 s, half the deliveries dropped',
        delay: { kind: 'fixed', seconds: 2 },
        dropRate: 0.5,
        runs: 1,
        pollingFrom: '2 s',
      },
    ],
  },
  // Never over a full run's results.
  outFile: join(REPO_ROOT, '.bench-tmp', 'results.smoke.json'),
}

export interface OursSummary {
  readonly runs: number
  readonly statuses: Record<string, number>
  readonly wallMs: number
  readonly wallRunsMs: readonly number[]
  readonly wallToIdeal: number
  /** Seam requests of the deletion that made the most, the DELETE route's existence check included. */
  readonly requests: number
  /** Seam requests of each deletion, in the order they ran. */
  readonly requestRuns: readonly number[]
  readonly requestsToLowerBound: number
  /** Without the DELETE route's user_identities/get (the state machine's requests only). */
  readonly workflowRequests: number
  readonly requestsByKind: { lists: number; deletes: number; eventChecks: number; other: number }
  readonly byPath: Record<string, number>
  readonly transitions: number
  readonly lambdaInvocations: number
  readonly waitStates: number
  readonly lambdaMsMean: number
  readonly apiMs: number
}

export interface SampleSummary {
  readonly runs: number
  readonly statuses: Record<string, number>
  readonly wallMs: number
  readonly wallRunsMs: readonly number[]
  readonly wallToIdeal: number
  /** Median time until the algorithm returned (before Seam has deleted the identity). */
  readonly returnedMs: number
  readonly requests: number
  readonly requestRuns: readonly number[]
  readonly eventPolls: number
  readonly boundHits: number
  readonly bound: SampleBound
}

export interface DelayResult {
  readonly delaySeconds: number
  readonly scaledDelayMs: number
  /** The sum of the delete delays of the four asynchronous stages, scaled. */
  readonly idealMs: number
  readonly addedLatencyMs: number
  readonly ours: OursSummary
  readonly sample?: SampleSummary
  /** Sample ÷ ours. */
  readonly requestRatio?: number
  readonly wallRatio?: number
}

export interface Goal {
  readonly goal: string
  readonly met: boolean
  readonly measured: string
}

export interface BenchResults {
  readonly mode: 'full' | 'smoke'
  readonly startedAt: string
  readonly durationMs: number
  readonly environment: {
    node: string
    cpus: number
    loadAverageStart: number[]
    loadAverageEnd: number[]
    gitHead: string
    /** Uncommitted changes in the measured code (others work in this checkout too). */
    gitDirty: string[]
  }
  readonly scale: number
  readonly pageSize: number
  readonly shape: BenchShape
  readonly pollPolicy: PollPolicy
  readonly lowerBound: LowerBound
  readonly deletions: readonly DelayResult[]
  readonly withLatency?: DelayResult
  readonly alternative?: {
    readonly label: string
    readonly description: string
    readonly deletions: readonly (DelayResult & { pollPolicy: PollPolicy })[]
  }
  readonly cost: {
    readonly prices: typeof PRICES
    readonly memoryMb: number
    readonly assumptions: string
    readonly perDelay: readonly { delaySeconds: number; perMillion: CostPerMillion }[]
  }
  readonly bundles: BundlesResult & { functions: DeployedFunction[] }
  readonly create: CreateResult
  readonly bulk: BulkResult & { delaySeconds: number; scaledDelayMs: number }
  readonly capacity: CapacityResult
  readonly goals: readonly Goal[]
  /** Webhook mode beside polling mode, and the goals of webhook mode. */
  readonly webhooks?: { readonly rows: readonly WebhookRow[]; readonly goals: readonly Goal[] }
}

export async function runBenchmark(options: BenchConfig): Promise<BenchResults> {
  // Lambda runs Node 24; figures from another Node (e.g. the machine's own Node 20) would mislead.
  if (process.versions.node.split('.')[0] !== '24') {
    throw new Error(
      `The benchmark measures on Node 24, as Lambda runs it; this is Node ${process.versions.node}. ` +
        'Run it with `npm run bench`, which uses node_modules/.bin/node.',
    )
  }
  const started = performance.now()
  // Every progress line says how far into the run it is.
  const config: BenchConfig = {
    ...options,
    log: (line) => options.log(`[${ms(performance.now() - started)}] ${line}`),
  }
  const startedAt = new Date().toISOString()
  const loadAverageStart = loadavg().map((n) => round(n))
  const log = config.log
  const bound = lowerBound(config.shape, config.pageSize)
  const git = await gitState()

  log(`bundles: esbuild with ServiceFunction's settings, ${config.bundles.runs} cold imports each`)
  const bundles = await measureBundles({ ...config.bundles, workDir: config.workDir })
  const memoryMb = Math.max(...bundles.functions.map((f) => f.memoryMb))
  const entries = bundles.functions.map((f) => f.entry)

  log(`deletions: time scale ${config.scale}, page size ${config.pageSize}`)
  const main = await withRuntime(config, entries, undefined, async (runtime, emulator) => {
    const deletions: DelayResult[] = []
    for (const plan of config.delays) {
      deletions.push(await measureDelay(config, runtime, emulator, plan, bound, 0))
    }
    let withLatency: DelayResult | undefined
    const first = config.delays[0]
    if (config.latency && first) {
      const plan = { ...first, ours: config.latency.ours, sample: config.latency.sample }
      withLatency = await measureDelay(
        config,
        runtime,
        emulator,
        plan,
        bound,
        config.latency.realMs * config.scale,
      )
    }
    log('create: through the local API and directly with SeamHttp')
    emulator.reset()
    const create = await measureCreate(runtime, emulator, config.create)
    log(`bulk: ${config.bulk.identities} deletions at once`)
    emulator.reset()
    const scaledBulkDelay = config.bulk.delaySeconds * 1000 * config.scale
    emulator.setDeleteDelayMs(scaledBulkDelay)
    const bulk = {
      ...(await measureBulk(runtime, config.shape, config.bulk.identities)),
      delaySeconds: config.bulk.delaySeconds,
      scaledDelayMs: scaledBulkDelay,
    }
    log('closing the runtime')
    return { deletions, withLatency, create, bulk }
  })

  const capacity = await capacitySection(config)

  const webhookRows = config.webhooks ? await webhookSection(config, memoryMb) : undefined

  let alternative: BenchResults['alternative']
  if (config.alternative) {
    const { label, description, policyFor } = config.alternative
    const deletions: (DelayResult & { pollPolicy: PollPolicy })[] = []
    for (const plan of config.delays) {
      const policy = policyFor(plan.delaySeconds)
      log(`deletions with policy ${label}: ${JSON.stringify(policy)}`)
      const result = await withRuntime(config, entries, policy, (runtime, emulator) =>
        measureDelay(config, runtime, emulator, { ...plan, sample: 0 }, bound, 0),
      )
      deletions.push({ ...result, pollPolicy: { ...DEFAULT_POLL_POLICY, ...policy } })
    }
    alternative = { label, description, deletions }
  }

  const cost = {
    prices: PRICES,
    memoryMb,
    assumptions:
      `Standard workflow, arm64 Lambdas of ${memoryMb} MB (the deployed memory size); each ` +
      'invocation billed for its duration measured locally (handler in-process against the emulator ' +
      'on 127.0.0.1, a proxy that omits the network to Seam), rounded up to 1 ms; one start-deletion ' +
      'invocation per deletion at the measured DELETE latency. Not included: API Gateway, CloudWatch ' +
      'Logs (the state machine logs ALL with execution data), X-Ray.',
    perDelay: main.deletions.map((d) => ({
      delaySeconds: d.delaySeconds,
      perMillion: costOf(d.ours, memoryMb),
    })),
  }

  const results: BenchResults = {
    mode: config.mode,
    startedAt,
    durationMs: round(performance.now() - started),
    environment: {
      node: process.version,
      cpus: cpus().length,
      loadAverageStart,
      loadAverageEnd: loadavg().map((n) => round(n)),
      ...git,
    },
    scale: config.scale,
    pageSize: config.pageSize,
    shape: config.shape,
    pollPolicy: DEFAULT_POLL_POLICY,
    lowerBound: bound,
    deletions: main.deletions,
    ...(main.withLatency ? { withLatency: main.withLatency } : {}),
    ...(alternative ? { alternative } : {}),
    cost,
    bundles,
    create: main.create,
    bulk: main.bulk,
    capacity,
    goals: goals(main.deletions, main.withLatency, bound),
    ...(webhookRows
      ? { webhooks: { rows: webhookRows, goals: webhookGoals(webhookRows, bound) } }
      : {}),
  }
  await mkdir(dirname(config.outFile), { recursive: true })
  await writeFile(config.outFile, `${JSON.stringify(results, null, 2)}\n`)
  return results
}

/** Section 7: one bulk deletion, then as many DELETEs at once, against a rate-limited Seam. */
function capacitySection(config: BenchConfig): Promise<CapacityResult> {
  config.log(
    `capacity: ${config.capacity.identities} identities, Seam limited to ${config.capacity.rateLimitPerSecond} req/s: one bulk deletion, then as many DELETEs at once`,
  )
  return measureCapacity(
    config.capacity,
    config.shape,
    (options) =>
      startLocalRuntime({ port: 0, emulator: { pageSize: config.pageSize }, ...options }),
    config.log,
  )
}

/** The sections `npm run bench -- --only <section>` runs alone. */
export const ONLY_SECTIONS = ['capacity', 'webhooks'] as const
type OnlySection = (typeof ONLY_SECTIONS)[number]

/**
 * `npm run bench -- --only <section>`: that section alone, written into the results file over its
 * earlier figures (every other section's figures are kept).
 */
export async function runSectionOnly(
  config: BenchConfig,
  section: OnlySection,
): Promise<Partial<Pick<BenchResults, 'capacity' | 'webhooks'>>> {
  let results: Record<string, unknown> = {}
  try {
    results = JSON.parse(await readFile(config.outFile, 'utf8')) as Record<string, unknown>
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'ENOENT') throw error
  }
  const stamp = {
    measuredAt: new Date().toISOString(),
    environment: { node: process.version, ...(await gitState()) },
  }
  let measured: Partial<Pick<BenchResults, 'capacity' | 'webhooks'>>
  if (section === 'capacity') {
    measured = { capacity: await capacitySection(config) }
    results = { ...results, capacity: { ...measured.capacity, ...stamp } }
  } else {
    // The deployed memory size, as the full run measured it from the bundles.
    const cost = results.cost as { memoryMb?: unknown } | undefined
    const memoryMb = typeof cost?.memoryMb === 'number' ? cost.memoryMb : DEFAULT_MEMORY_MB
    const rows = await webhookSection(config, memoryMb)
    const bound = lowerBound(config.shape, config.pageSize)
    measured = { webhooks: { rows, goals: webhookGoals(rows, bound) } }
    results = { ...results, webhooks: { ...measured.webhooks, ...stamp } }
  }
  await mkdir(dirname(config.outFile), { recursive: true })
  await writeFile(config.outFile, `${JSON.stringify(results, null, 2)}\n`)
  return measured
}

/** Section 8: webhook mode beside polling mode (bench/webhooks.ts). */
function webhookSection(config: BenchConfig, memoryMb: number): Promise<WebhookRow[]> {
  if (!config.webhooks) return Promise.resolve([])
  config.log('webhook mode beside polling mode')
  return measureWebhookModes({
    scale: config.scale,
    pageSize: config.pageSize,
    shape: config.shape,
    plans: config.webhooks.plans,
    memoryMb,
    log: config.log,
  })
}

async function withRuntime<T>(
  config: BenchConfig,
  handlerEntries: readonly string[],
  pollPolicy: Partial<PollPolicy> | undefined,
  body: (runtime: LocalRuntime, emulator: SeamEmulator) => Promise<T>,
): Promise<T> {
  // Polling only: these sections measure the poll loop (webhook mode: bench/webhooks.ts).
  const runtime = await startLocalRuntime({
    port: 0,
    webhooks: false,
    emulator: { pageSize: config.pageSize },
    waitScale: config.scale,
    ...(pollPolicy ? { pollPolicy } : {}),
  })
  try {
    if (!runtime.emulator) throw new Error('The runtime did not start the Seam emulator')
    // Load every handler module now (the runtime imports each on its first invocation, into this
    // process's module cache): the measured deletions see warm Lambdas, not one cold start each.
    await Promise.all(
      [...new Set([...ROUTES.map((r) => r.entry), ...handlerEntries])].map(
        (entry) => import(pathToFileURL(join(REPO_ROOT, entry)).href),
      ),
    )
    return await body(runtime, runtime.emulator)
  } finally {
    await runtime.close()
  }
}

async function measureDelay(
  config: BenchConfig,
  runtime: LocalRuntime,
  emulator: SeamEmulator,
  plan: DelayPlan,
  bound: LowerBound,
  addedLatencyMs: number,
): Promise<DelayResult> {
  const scaledDelayMs = plan.delaySeconds * 1000 * config.scale
  const idealMs = bound.asyncWaits * scaledDelayMs // one delete delay per asynchronous wait
  const latencyNote = addedLatencyMs > 0 ? `, +${round(addedLatencyMs)} ms per Seam request` : ''
  config.log(
    `  delay ${plan.delaySeconds} s (${round(scaledDelayMs)} ms scaled${latencyNote}): ` +
      `${plan.ours} of ours and ${plan.sample} of the sample, one by one`,
  )
  emulator.reset()
  emulator.setDeleteDelayMs(scaledDelayMs)
  if (addedLatencyMs > 0) emulator.setFaults({ latencyMs: addedLatencyMs })
  try {
    const ours = summarizeOurs(
      await measureOurDeletions(runtime, config.shape, plan.ours),
      idealMs,
      bound,
    )
    let sample: SampleSummary | undefined
    if (plan.sample > 0) {
      const runs: SampleDeletion[] = []
      const sampleBound = config.sampleBound(scaledDelayMs)
      for (let i = 0; i < plan.sample; i++) {
        emulator.reset()
        emulator.setDeleteDelayMs(scaledDelayMs)
        if (addedLatencyMs > 0) emulator.setFaults({ latencyMs: addedLatencyMs })
        runs.push(await measureSampleDeletion(emulator, config.shape, sampleBound))
      }
      sample = summarizeSample(runs, idealMs, sampleBound)
    }
    return {
      delaySeconds: plan.delaySeconds,
      scaledDelayMs,
      idealMs,
      addedLatencyMs,
      ours,
      ...(sample
        ? {
            sample,
            requestRatio: round(sample.requests / ours.requests, 1),
            wallRatio: round(sample.wallMs / ours.wallMs),
          }
        : {}),
    }
  } finally {
    emulator.setFaults({})
  }
}

const tally = (statuses: readonly string[]): Record<string, number> => {
  const out: Record<string, number> = {}
  for (const s of statuses) out[s] = (out[s] ?? 0) + 1
  return out
}

function summarizeOurs(runs: OurDeletion[], idealMs: number, bound: LowerBound): OursSummary {
  const first = runs[0]
  if (!first) throw new Error('no deletion measured')
  // The goal holds for every deletion, so the figure is the run that made the most requests.
  const requests = runs.reduce(
    (most, r) => (r.requests.total > most.requests.total ? r : most),
    first,
  ).requests
  const wallMs = median(runs.map((r) => r.wallMs))
  return {
    runs: runs.length,
    statuses: tally(runs.map((r) => r.status)),
    wallMs: round(wallMs),
    wallRunsMs: runs.map((r) => round(r.wallMs)),
    wallToIdeal: round(wallMs / idealMs),
    requests: round(requests.total),
    requestRuns: runs.map((r) => r.requests.total),
    requestsToLowerBound: round(requests.total / bound.total),
    workflowRequests: round(requests.total - requests.api),
    requestsByKind: {
      lists: round(requests.lists),
      deletes: round(requests.deletes),
      eventChecks: round(requests.eventChecks),
      other: round(requests.other + requests.api),
    },
    byPath: Object.fromEntries(Object.entries(requests.byPath).map(([k, v]) => [k, round(v)])),
    transitions: median(runs.map((r) => r.transitions)),
    lambdaInvocations: median(runs.map((r) => r.lambdaInvocations)),
    waitStates: median(runs.map((r) => r.waitStates)),
    lambdaMsMean: round(mean(runs.flatMap((r) => [...r.lambdaDurationsMs]))),
    apiMs: round(median(runs.map((r) => r.apiMs))),
  }
}

function summarizeSample(
  runs: SampleDeletion[],
  idealMs: number,
  bound: SampleBound,
): SampleSummary {
  const wallMs = median(runs.map((r) => r.wallMs))
  return {
    runs: runs.length,
    statuses: tally(runs.map((r) => r.status)),
    wallMs: round(wallMs),
    wallRunsMs: runs.map((r) => round(r.wallMs)),
    wallToIdeal: round(wallMs / idealMs),
    returnedMs: round(median(runs.map((r) => r.returnedMs))),
    requests: median(runs.map((r) => r.requests.total)),
    requestRuns: runs.map((r) => r.requests.total),
    eventPolls: median(runs.map((r) => r.eventPolls)),
    boundHits: runs.reduce((a, r) => a + r.boundHits, 0),
    bound,
  }
}

function costOf(ours: OursSummary, memoryMb: number): CostPerMillion {
  // One deletion's invocations at the mean measured duration.
  const durations = Array.from({ length: ours.lambdaInvocations }, () => ours.lambdaMsMean)
  const cost = costPerMillionDeletions({
    transitions: ours.transitions,
    lambdaInvocations: ours.lambdaInvocations,
    lambdaDurationsMs: durations,
    apiDurationMs: ours.apiMs,
    memoryMb,
  })
  return {
    stepFunctions: round(cost.stepFunctions),
    lambdaRequests: round(cost.lambdaRequests),
    lambdaDuration: round(cost.lambdaDuration),
    total: round(cost.total),
    gbSecondsPerDeletion: round(cost.gbSecondsPerDeletion, 4),
  }
}

function goals(
  deletions: readonly DelayResult[],
  withLatency: DelayResult | undefined,
  bound: LowerBound,
): Goal[] {
  const each = (f: (d: DelayResult) => string) => deletions.map(f).join('; ')
  const maxOf = (f: (d: DelayResult) => number) => Math.max(...deletions.map(f))
  const withSample = deletions.filter((d) => d.sample)
  const latencyGoals: Goal[] =
    withLatency?.sample && withLatency.requestRatio !== undefined
      ? [
          {
            // The sample polls events/list back to back, so its count is about the delays divided
            // by the round trip: with a real network's round trip even the lower bound cannot be 20×.
            goal: `… also at +${round(withLatency.addedLatencyMs)} ms per Seam request`,
            met: withLatency.requestRatio >= 20 && (withLatency.wallRatio ?? 0) >= 1,
            measured:
              `${withLatency.requestRatio}× fewer (the lower bound itself: ` +
              `${round(withLatency.sample.requests / bound.total, 1)}×); ` +
              `ours ${ms(withLatency.ours.wallMs)} vs ${ms(withLatency.sample.wallMs)}`,
          },
        ]
      : []
  return [
    {
      goal: 'Seam requests ≤ 1.15 × lower bound',
      met: maxOf((d) => d.ours.requestsToLowerBound) <= 1.15,
      measured: each((d) => `${d.delaySeconds} s: ${d.ours.requestsToLowerBound}×`),
    },
    {
      goal: '≥ 20× fewer requests than the sample algorithm',
      met: withSample.every((d) => (d.requestRatio ?? 0) >= 20),
      measured: withSample.map((d) => `${d.delaySeconds} s: ${d.requestRatio}×`).join('; '),
    },
    {
      goal: '… at no worse wall time than the sample',
      met: withSample.every((d) => (d.wallRatio ?? 0) >= 1),
      measured: withSample
        .map((d) => `${d.delaySeconds} s: ours ${ms(d.ours.wallMs)} vs ${ms(d.sample?.wallMs)}`)
        .join('; '),
    },
    ...latencyGoals,
    {
      goal: 'wall time ≤ 1.3 × ideal',
      met: maxOf((d) => d.ours.wallToIdeal) <= 1.3,
      measured: each((d) => `${d.delaySeconds} s: ${d.ours.wallToIdeal}×`),
    },
    {
      goal: '≤ 40 state transitions per deletion',
      met: maxOf((d) => d.ours.transitions) <= 40,
      measured: each((d) => `${d.delaySeconds} s: ${d.ours.transitions}`),
    },
  ]
}

const ms = (value: number | undefined): string =>
  value === undefined ? '-' : value >= 1000 ? `${round(value / 1000, 2)} s` : `${round(value)} ms`

async function gitState(): Promise<{ gitHead: string; gitDirty: string[] }> {
  const git = async (...args: string[]) => {
    try {
      return (await promisify(execFile)('git', args, { cwd: REPO_ROOT })).stdout
    } catch {
      return ''
    }
  }
  const head = (await git('rev-parse', '--short', 'HEAD')).trim()
  const dirty = (await git('status', '--porcelain', '--', 'functions', 'infra', 'local', 'bench'))
    .split('\n')
    .filter((line) => line.trim() !== '')
  return { gitHead: head, gitDirty: dirty }
}
