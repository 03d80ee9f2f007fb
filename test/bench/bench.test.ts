/**
 * `npm run bench` at a tiny size: every section runs and the results file has the structure the table
 * and the README's capacity figures are read from. Figures are not judged here (a smoke run is scaled far down and
 * runs on a busy machine), only what must hold at any size: no deletion fails, no request is missing.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { type BenchResults, runBenchmark, SMOKE_CONFIG } from '../../bench/bench.js'
import { formatReport } from '../../bench/report.js'
import { ROUTES } from '../../functions/api/routes.js'
import { REPO_ROOT } from '../../infra/repo-root.js'

let dir: string | undefined
let workDir: string | undefined
afterAll(async () => {
  for (const path of [dir, workDir]) if (path) await rm(path, { recursive: true, force: true })
})

describe('npm run bench --smoke', () => {
  it('measures every section and writes the results file', { timeout: 60_000 }, async () => {
    dir = await mkdtemp(join(tmpdir(), 'bench-smoke-'))
    const outFile = join(dir, 'results.json')
    // Bundles stay inside the repository (their external @aws-sdk/* resolve from its node_modules),
    // apart from those of a full run going on at the same time.
    workDir = join(REPO_ROOT, '.bench-tmp', `smoke-${process.pid}`)
    const returned = await runBenchmark({ ...SMOKE_CONFIG, outFile, workDir, log: () => {} })
    const results = JSON.parse(await readFile(outFile, 'utf8')) as BenchResults
    expect(results).toEqual(JSON.parse(JSON.stringify(returned)))
    expect(results.mode).toBe('smoke')
    expect(results.scale).toBe(SMOKE_CONFIG.scale)

    // 1. Requests: never below the lower bound; the lower bound of the fixed shape is 25.
    expect(results.lowerBound).toMatchObject({ lists: 6, deletes: 13, eventChecks: 4, total: 25 })
    const [first] = results.deletions
    expect(first).toBeDefined()
    if (!first) return
    expect(first.ours.statuses).toEqual({ SUCCEEDED: first.ours.runs })
    expect(first.ours.requests).toBeGreaterThanOrEqual(results.lowerBound.total)
    expect(first.ours.requestRuns).toHaveLength(first.ours.runs)
    expect(first.ours.requests).toBe(Math.max(...first.ours.requestRuns))
    expect(first.ours.requestsToLowerBound).toBeGreaterThanOrEqual(1)
    expect(first.ours.requestsByKind.lists).toBeGreaterThanOrEqual(results.lowerBound.lists)
    expect(first.sample?.statuses).toEqual({ SUCCEEDED: first.sample?.runs })
    expect(first.sample?.boundHits).toBe(0)
    expect(first.sample?.requests).toBeGreaterThanOrEqual(results.lowerBound.total)
    expect(first.requestRatio).toBeGreaterThan(0)

    // 2. Wall time: never below the ideal (the delays are real timers).
    expect(first.idealMs).toBe(results.lowerBound.asyncWaits * first.scaledDelayMs)
    expect(first.ours.wallMs).toBeGreaterThanOrEqual(first.idealMs)
    expect(first.sample?.wallMs).toBeGreaterThanOrEqual(first.idealMs)
    // The sample returns before Seam has deleted the identity; its wall time runs until then.
    expect(first.sample?.returnedMs).toBeLessThan(first.sample?.wallMs ?? 0)

    // 3. Transitions and invocations from the history; a cost for each part.
    expect(first.ours.transitions).toBeGreaterThan(first.ours.lambdaInvocations)
    expect(first.ours.lambdaInvocations).toBeGreaterThanOrEqual(5 + 4 + 1)
    const cost = results.cost.perDelay[0]?.perMillion
    expect(cost?.stepFunctions).toBeCloseTo(first.ours.transitions * 25, 5)
    expect(cost?.lambdaRequests).toBeGreaterThan(0)
    expect(cost?.lambdaDuration).toBeGreaterThan(0)

    // 4. One bundle per deployed handler entry, weighed and imported.
    const entries = new Set(results.bundles.functions.map((f) => f.entry))
    for (const route of ROUTES) expect(entries).toContain(route.entry)
    expect(results.bundles.bundles.map((b) => b.entry).sort()).toEqual([...entries].sort())
    for (const bundle of results.bundles.bundles) {
      expect(bundle.bytes).toBeGreaterThan(1000)
      expect(bundle.importMs).toBeGreaterThan(0)
      expect(bundle.ratioToEmpty).toBeGreaterThan(0)
    }
    expect(results.bundles.nodeVersion).toMatch(/^v24\./)

    // 5. Creates: both paths measured, no errors under concurrency.
    expect(results.create.api.samples).toBe(SMOKE_CONFIG.create.samples)
    expect(results.create.direct.p50Ms).toBeGreaterThan(0)
    expect(results.create.concurrent.errors).toBe(0)
    expect(results.create.concurrent.throughputPerSecond).toBeGreaterThan(0)

    // 6. Bulk: every deletion succeeded and nothing is left.
    expect(results.bulk.allSucceeded).toBe(true)
    expect(results.bulk.leftOver).toBe(0)
    expect(results.bulk.identities).toBe(SMOKE_CONFIG.bulk.identities)
    expect(results.bulk.peakRequestsPerSecond).toBeGreaterThan(0)
    expect(results.bulk.seamRequestsPerDeletion).toBeGreaterThanOrEqual(results.lowerBound.total)

    // 7. Capacity: one bulk deletion and as many DELETEs at once, both all SUCCEEDED, nothing left, no
    // bystander touched, the bulk deletion never above its concurrency.
    expect(results.capacity.runs.map((r) => r.how)).toEqual(['bulk', 'deletes'])
    for (const run of results.capacity.runs) {
      expect(run.succeeded, run.how).toBe(SMOKE_CONFIG.capacity.identities)
      expect(run.leftOver, run.how).toBe(0)
      expect(run.bystandersTouched, run.how).toBe(0)
      expect(run.boundMs, run.how).toBeGreaterThan(0)
    }
    expect(results.capacity.runs[0]?.maxInProgress).toBeLessThanOrEqual(
      SMOKE_CONFIG.capacity.bulkDeletionConcurrency,
    )

    // The same deletions with added latency, and with the alternative policy.
    expect(results.withLatency?.addedLatencyMs).toBeGreaterThan(0)
    expect(results.withLatency?.ours.statuses).toEqual({ SUCCEEDED: 1 })
    expect(results.withLatency?.sample?.statuses).toEqual({ SUCCEEDED: 1 })
    const alternative = results.alternative?.deletions[0]
    expect(alternative?.ours.statuses).toEqual({ SUCCEEDED: alternative?.ours.runs })
    expect(alternative?.pollPolicy.firstWaitSeconds).toBe(first.delaySeconds)
    expect(alternative?.ours.requests).toBeGreaterThanOrEqual(results.lowerBound.total)

    // Webhook mode beside polling mode: every row in both modes, every deletion SUCCEEDED.
    const rows = results.webhooks?.rows ?? []
    expect(rows.map((r) => r.label)).toEqual(SMOKE_CONFIG.webhooks?.plans.map((p) => p.label))
    for (const row of rows) {
      expect(row.webhooks.statuses).toEqual({ SUCCEEDED: row.webhooks.runs })
      expect(row.polling.statuses).toEqual({ SUCCEEDED: row.polling.runs })
      expect(row.webhooks.idealMs).toBe(5 * 2000 * SMOKE_CONFIG.scale)
      expect(row.polling.eventsListCalls).toBeGreaterThan(0)
      expect(row.webhooks.costPerMillion.stepFunctions).toBeCloseTo(
        row.webhooks.transitions * 25,
        5,
      )
    }
    expect(rows[0]?.webhooks.webhookInvocations).toBeGreaterThan(0)
    expect(results.webhooks?.goals).toHaveLength(5)

    expect(results.goals.map((g) => g.goal)).toHaveLength(6)
    for (const goal of results.goals) expect(typeof goal.met).toBe('boolean')
    // The table prints from the file's contents alone.
    expect(formatReport(results)).toContain('Goals')
    // A smoke run says its goals are not judged, and prints no verdict; a full run does.
    expect(formatReport(results)).toContain('Goals: NOT JUDGED in a smoke run')
    expect(formatReport(results)).not.toMatch(/ NO /)
    expect(formatReport({ ...results, mode: 'full' })).not.toContain('NOT JUDGED')
  })
})
