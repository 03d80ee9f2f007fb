/**
 * The service's own metrics (EMF through Powertools, see powertools.ts). Each is recorded during an
 * invocation and published when the handler returns or throws (withMetrics): one EMF line per set of
 * dimension values, so a check that made 20 Seam calls writes a few lines, not 20.
 *
 *   SeamRequests (Count), SeamLatency (Milliseconds)   by route and outcome; SeamRequests by outcome too
 *   Creates (Count)                                    by outcome: created, replayed, or the error type
 *   Deletions (Count)                                  by outcome: succeeded, stuck, failed
 *   StageDuration (Seconds), StageChecks (Count)       by stage, when a stage finishes
 *
 * The dashboard and the Seam throttle alarm (infra/constructs/observability.ts) read these names.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics'
import { metrics } from './powertools.js'

type Unit = (typeof MetricUnit)[keyof typeof MetricUnit]

export const METRIC = {
  seamRequests: 'SeamRequests',
  seamLatency: 'SeamLatency',
  creates: 'Creates',
  deletions: 'Deletions',
  stageDuration: 'StageDuration',
  stageChecks: 'StageChecks',
} as const

/** What became of one HTTP request to Seam. `network`: no answer (connection refused or reset, DNS). */
export const SEAM_OUTCOMES = ['ok', '4xx', '429', '5xx', 'timeout', 'network'] as const
export type SeamOutcome = (typeof SEAM_OUTCOMES)[number]

export const DELETION_OUTCOMES = ['succeeded', 'stuck', 'failed'] as const
export type DeletionOutcome = (typeof DELETION_OUTCOMES)[number]

interface Point {
  readonly name: string
  readonly unit: Unit
  readonly value: number
  readonly dimensions: Readonly<Record<string, string>>
}

const pending: Point[] = []

function record(point: Point): void {
  pending.push(point)
}

/** The outcome of one Seam request: its HTTP status, or how it failed without one. */
export function seamOutcome(answer: {
  status?: number | undefined
  failure?: string
}): SeamOutcome {
  const { status } = answer
  if (status === undefined) return answer.failure === 'timeout' ? 'timeout' : 'network'
  if (status === 429) return '429'
  if (status >= 500) return '5xx'
  if (status >= 400) return '4xx'
  return 'ok'
}

/** One HTTP request to Seam (each attempt of a retried call counts). `route`: its path. */
export function recordSeamRequest(request: {
  route: string
  outcome: SeamOutcome
  ms: number
}): void {
  const dimensions = { route: request.route, outcome: request.outcome }
  record({ name: METRIC.seamRequests, unit: MetricUnit.Count, value: 1, dimensions })
  record({ name: METRIC.seamLatency, unit: MetricUnit.Milliseconds, value: request.ms, dimensions })
  // By outcome alone too, for the throttle alarm (an alarm cannot sum a SEARCH over routes). A line of
  // its own: Powertools warns about a dimension name shared by two dimension sets of one line.
  const byOutcome = { outcome: request.outcome }
  record({ name: METRIC.seamRequests, unit: MetricUnit.Count, value: 1, dimensions: byOutcome })
}

export function recordCreate(outcome: string): void {
  record({ name: METRIC.creates, unit: MetricUnit.Count, value: 1, dimensions: { outcome } })
}

export function recordDeletion(outcome: DeletionOutcome): void {
  record({ name: METRIC.deletions, unit: MetricUnit.Count, value: 1, dimensions: { outcome } })
}

export function recordStageFinished(stage: string, seconds: number, checks: number): void {
  const dimensions = { stage }
  record({ name: METRIC.stageDuration, unit: MetricUnit.Seconds, value: seconds, dimensions })
  record({ name: METRIC.stageChecks, unit: MetricUnit.Count, value: checks, dimensions })
}

/** Powertools publishes by itself at 100 values of a metric, dropping the dimensions: stay below. */
const MAX_VALUES_PER_LINE = 99

/**
 * Publish what was recorded: one EMF line per set of dimension values (more only past 99 latencies).
 * Counts are added up; other values go as a list, which EMF takes as one sample each.
 */
export function publishMetrics(): void {
  type Series = { unit: Unit; values: number[] }
  const groups = new Map<string, { point: Point; series: Map<string, Series> }>()
  for (const point of pending.splice(0)) {
    const key = JSON.stringify(point.dimensions)
    const group = groups.get(key) ?? { point, series: new Map<string, Series>() }
    groups.set(key, group)
    const series = group.series.get(point.name) ?? { unit: point.unit, values: [] }
    group.series.set(point.name, series)
    if (point.unit === MetricUnit.Count && series.values.length > 0) {
      series.values[0] = (series.values[0] ?? 0) + point.value
    } else series.values.push(point.value)
  }
  for (const { point, series } of groups.values()) {
    const longest = Math.max(...[...series.values()].map((s) => s.values.length))
    for (let offset = 0; offset < longest; offset += MAX_VALUES_PER_LINE) {
      for (const [name, value] of Object.entries(point.dimensions))
        metrics.addDimension(name, value)
      for (const [name, { unit, values }] of series) {
        for (const value of values.slice(offset, offset + MAX_VALUES_PER_LINE)) {
          metrics.addMetric(name, unit, value)
        }
      }
      metrics.publishStoredMetrics()
    }
  }
}

/**
 * Wrap a Lambda handler so that its metrics are published whether it returns or throws; `onResult` and
 * `onError` record what only the handler's answer tells (e.g. a create's outcome).
 */
export function withMetrics<A extends unknown[], R>(
  handler: (...args: A) => Promise<R>,
  hooks: { onResult?: (result: R) => void; onError?: (error: unknown) => void } = {},
): (...args: A) => Promise<R> {
  return async (...args) => {
    try {
      const result = await handler(...args)
      hooks.onResult?.(result)
      return result
    } catch (error) {
      hooks.onError?.(error)
      throw error
    } finally {
      publishMetrics()
    }
  }
}
