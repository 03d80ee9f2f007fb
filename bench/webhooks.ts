/**
 * Webhook mode beside polling mode: the same deletions, one after another, in a runtime with Seam's
 * webhooks on (the default stack: Await states the webhook Lambda resumes) and in one with them off
 * (`-c seamWebhooks=false`), at fixed delays, at a delay drawn per item, and with deliveries dropped.
 * The ideal of a run is what Seam itself takes: per asynchronous stage (the identity included) the
 * longest delay of its items.
 */
import { startLocalRuntime } from '../local/runtime.js'
import type { DeletionKind, SeamEmulator } from '../local/seam-emulator/index.js'
import { seededRandom } from '../local/seam-emulator/index.js'
import { type CostPerMillion, costPerMillionDeletions } from './cost.js'
import { measureOurDeletions, type OurDeletion } from './deletions.js'
import type { BenchShape, LowerBound } from './lower-bound.js'
import { mean, median, round } from './stats.js'

export type WebhookDelay =
  | { readonly kind: 'fixed'; readonly seconds: number }
  | { readonly kind: 'uniform'; readonly minSeconds: number; readonly maxSeconds: number }

export interface WebhookPlan {
  readonly label: string
  readonly delay: WebhookDelay
  /** Share of webhook deliveries dropped (webhook mode only). */
  readonly dropRate?: number
  /** Deletions per mode. */
  readonly runs: number
  /** Compare with the polling figures of this row (same delay) instead of measuring polling again. */
  readonly pollingFrom?: string
}

export interface ModeSummary {
  readonly runs: number
  readonly statuses: Record<string, number>
  readonly wallMs: number
  readonly idealMs: number
  /** Median of each run's wall ÷ its own ideal. */
  readonly wallToIdeal: number
  /** The largest of them: e.g. the first deletion after deliveries stop, which trusted them. */
  readonly slowestWallToIdeal: number
  /** Seam requests of the run that made the most (the DELETE route's existence check included). */
  readonly seamCalls: number
  /**
   * events/list calls of the checks (the stages' confirmations), not counting the one the phones
   * list makes to leave out deactivated phones (filtered by device_ids, part of listing).
   */
  readonly eventsListCalls: number
  readonly transitions: number
  readonly lambdaInvocations: number
  /** Webhook Lambda invocations (deliveries answered) per deletion; 0 in polling mode. */
  readonly webhookInvocations: number
  readonly costPerMillion: CostPerMillion
}

export interface WebhookRow {
  readonly label: string
  readonly delay: WebhookDelay
  readonly dropRate: number
  readonly webhooks: ModeSummary
  readonly polling: ModeSummary
}

export interface WebhookBenchConfig {
  readonly scale: number
  readonly pageSize: number
  readonly shape: BenchShape
  readonly plans: readonly WebhookPlan[]
  readonly memoryMb: number
  readonly log: (line: string) => void
}

/** Emulator deletion kinds per asynchronous stage of the workflow. */
const ASYNC_KINDS: readonly DeletionKind[] = [
  'acs_credential',
  'acs_user',
  'enrollment_automation',
  'phone',
  'user_identity',
]

export async function measureWebhookModes(config: WebhookBenchConfig): Promise<WebhookRow[]> {
  const webhooks = await measureMode(config, true)
  const polling = await measureMode(config, false)
  return config.plans.map((plan) => {
    const own = polling.get(plan.label)
    const from = plan.pollingFrom ? polling.get(plan.pollingFrom) : undefined
    const pollingSummary = own ?? from
    const webhookSummary = webhooks.get(plan.label)
    if (!pollingSummary || !webhookSummary) throw new Error(`row ${plan.label} not measured`)
    return {
      label: plan.label,
      delay: plan.delay,
      dropRate: plan.dropRate ?? 0,
      webhooks: webhookSummary,
      polling: pollingSummary,
    }
  })
}

async function measureMode(
  config: WebhookBenchConfig,
  webhooks: boolean,
): Promise<Map<string, ModeSummary>> {
  // Delays drawn from a stream reseeded per delay plan: both modes, and a row with dropped deliveries
  // and the row without at the same delay, draw the same delays (the ideal is then the same too).
  let delays = seededRandom(1)
  const runtime = await startLocalRuntime({
    port: 0,
    webhooks,
    emulator: {
      pageSize: config.pageSize,
      random: seededRandom(2024),
      delayRandom: () => delays(),
    },
    waitScale: config.scale,
  })
  const results = new Map<string, ModeSummary>()
  try {
    const emulator = runtime.emulator as SeamEmulator
    for (const plan of config.plans) {
      if (!webhooks && plan.pollingFrom) continue
      config.log(`  ${webhooks ? 'webhooks' : 'polling'}: ${plan.label}, ${plan.runs} deletion(s)`)
      emulator.reset()
      delays = seededRandom(seedOf(plan.delay))
      if (plan.delay.kind === 'fixed') {
        emulator.setDeleteDelayMs(plan.delay.seconds * 1000 * config.scale)
      } else {
        emulator.setDeleteDelayRangeMs({
          minMs: plan.delay.minSeconds * 1000 * config.scale,
          maxMs: plan.delay.maxSeconds * 1000 * config.scale,
        })
      }
      if (webhooks && plan.dropRate) emulator.webhooks.setFaults({ dropRate: plan.dropRate })
      const runs: Run[] = []
      for (let i = 0; i < plan.runs; i++) {
        const drawnFrom = emulator.drawnDelays.length
        const deliveredFrom = emulator.webhooks.deliveries.length
        const requestsFrom = emulator.requests.length
        const [run] = await measureOurDeletions(runtime, config.shape, 1)
        if (!run) throw new Error('no deletion measured')
        const checkEvents = emulator.requests
          .slice(requestsFrom)
          .filter((r) => r.path === '/events/list' && !('device_ids' in r.params)).length
        await emulator.webhooks.idle()
        const webhookCalls = emulator.webhooks.deliveries
          .slice(deliveredFrom)
          .filter((d) => d.outcome !== 'dropped')
          .reduce((sum, d) => sum + d.attempts, 0)
        const idealMs = idealOf(plan, emulator, drawnFrom, config.scale)
        runs.push({ run, idealMs, webhookCalls, checkEvents })
      }
      results.set(plan.label, summarize(runs, config.memoryMb))
    }
  } finally {
    await runtime.close()
  }
  return results
}

/** One seed per delay plan (FNV-1a of its description). */
function seedOf(delay: WebhookDelay): number {
  let hash = 0x811c9dc5
  for (const char of JSON.stringify(delay)) hash = Math.imul(hash ^ char.charCodeAt(0), 0x01000193)
  return hash >>> 0
}

/** Seam's own time: per asynchronous stage, the longest delay of its items. */
function idealOf(plan: WebhookPlan, emulator: SeamEmulator, drawnFrom: number, scale: number) {
  if (plan.delay.kind === 'fixed') return ASYNC_KINDS.length * plan.delay.seconds * 1000 * scale
  const drawn = emulator.drawnDelays.slice(drawnFrom)
  return ASYNC_KINDS.reduce(
    (sum, kind) => sum + Math.max(0, ...drawn.filter((d) => d.kind === kind).map((d) => d.delayMs)),
    0,
  )
}

interface Run {
  readonly run: OurDeletion
  readonly idealMs: number
  readonly webhookCalls: number
  readonly checkEvents: number
}

function summarize(runs: readonly Run[], memoryMb: number): ModeSummary {
  const statuses: Record<string, number> = {}
  for (const { run } of runs) statuses[run.status] = (statuses[run.status] ?? 0) + 1
  const transitions = median(runs.map(({ run }) => run.transitions))
  const lambdaInvocations = median(runs.map(({ run }) => run.lambdaInvocations))
  const webhookInvocations = median(runs.map((r) => r.webhookCalls))
  const lambdaMs = mean(runs.flatMap(({ run }) => [...run.lambdaDurationsMs]))
  const invocations = lambdaInvocations + webhookInvocations
  const cost = costPerMillionDeletions({
    transitions,
    lambdaInvocations: invocations,
    lambdaDurationsMs: Array.from({ length: invocations }, () => lambdaMs),
    apiDurationMs: median(runs.map(({ run }) => run.apiMs)),
    memoryMb,
  })
  return {
    runs: runs.length,
    statuses,
    wallMs: round(median(runs.map(({ run }) => run.wallMs))),
    idealMs: round(median(runs.map((r) => r.idealMs))),
    wallToIdeal: round(median(runs.map(({ run, idealMs }) => run.wallMs / idealMs))),
    slowestWallToIdeal: round(Math.max(...runs.map(({ run, idealMs }) => run.wallMs / idealMs))),
    seamCalls: Math.max(...runs.map(({ run }) => run.requests.total)),
    eventsListCalls: Math.max(...runs.map((r) => r.checkEvents)),
    transitions,
    lambdaInvocations,
    webhookInvocations,
    costPerMillion: {
      stepFunctions: round(cost.stepFunctions),
      lambdaRequests: round(cost.lambdaRequests),
      lambdaDuration: round(cost.lambdaDuration),
      total: round(cost.total),
      gbSecondsPerDeletion: round(cost.gbSecondsPerDeletion, 4),
    },
  }
}

/** The acceptance of webhook mode, from the rows (labels as FULL_CONFIG names them). */
export function webhookGoals(
  rows: readonly WebhookRow[],
  bound: LowerBound,
): { goal: string; met: boolean; measured: string }[] {
  const row = (label: string) => rows.find((r) => r.label === label)
  const ratio = (label: string, max: number) => {
    const r = row(label)
    return {
      met: r !== undefined && r.webhooks.wallToIdeal <= max,
      measured: r
        ? `${label}: ${r.webhooks.wallToIdeal}× (polling ${r.polling.wallToIdeal}×)`
        : '-',
    }
  }
  const complete = rows.filter((r) => r.dropRate === 0)
  const dropped = rows.filter((r) => r.dropRate > 0)
  const at300 = ratio('300 ms', 1.6)
  const at2 = ratio('2 s', 1.3)
  const varying = ratio('0.3–5 s per item', 1.3)
  return [
    { goal: 'webhooks: wall ≤ 1.6 × ideal at 300 ms', ...at300 },
    {
      goal: 'webhooks: wall ≤ 1.3 × ideal at 2 s and at a delay varying per item',
      met: at2.met && varying.met,
      measured: `${at2.measured}; ${varying.measured}`,
    },
    {
      goal: `webhooks, every delivery arriving: Seam calls ≤ the polling lower bound (${bound.total}), no events/list of a check`,
      met: complete.every(
        (r) => r.webhooks.seamCalls <= bound.total && r.webhooks.eventsListCalls === 0,
      ),
      measured: complete
        .map(
          (r) => `${r.label}: ${r.webhooks.seamCalls} (${r.webhooks.eventsListCalls} events/list)`,
        )
        .join('; '),
    },
    {
      // Each run against its own ideal: the varying rows draw their delays per run.
      goal: 'webhooks, half the deliveries dropped: every deletion SUCCEEDED, wall ÷ ideal no worse than polling (5 % noise allowed)',
      met:
        dropped.length > 0 &&
        dropped.every(
          (r) =>
            r.webhooks.statuses.SUCCEEDED === r.webhooks.runs &&
            r.webhooks.wallToIdeal <= r.polling.wallToIdeal * 1.05,
        ),
      measured: dropped
        .map(
          (r) =>
            `${r.label}: ${JSON.stringify(r.webhooks.statuses)}, ${r.webhooks.wallToIdeal}× (slowest run ${r.webhooks.slowestWallToIdeal}×) vs polling ${r.polling.wallToIdeal}×`,
        )
        .join('; '),
    },
    {
      goal: 'webhooks, every delivery arriving: ≤ 27 state transitions per deletion (polling at the same delay beside)',
      met: complete.every((r) => r.webhooks.transitions <= 27),
      measured: complete
        .map((r) => `${r.label}: ${r.webhooks.transitions} (polling ${r.polling.transitions})`)
        .join('; '),
    },
  ]
}
