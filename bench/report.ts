/** The benchmark's results as the table `npm run bench` prints. */
import type { BenchResults, DelayResult } from './bench.js'
import { round } from './stats.js'

const ms = (value: number | undefined): string =>
  value === undefined || Number.isNaN(value)
    ? '-'
    : value >= 1000
      ? `${round(value / 1000, 2)} s`
      : `${round(value, 1)} ms`
const kb = (bytes: number): string => `${round(bytes / 1024, 1)} KiB`
const usd = (value: number): string => `$${value.toFixed(2)}`

function table(headers: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: readonly string[]) =>
    `  ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ')}`
  return [line(headers), `  ${widths.map((w) => '-'.repeat(w)).join('  ')}`, ...rows.map(line)]
}

const statuses = (s: Record<string, number> | undefined): string =>
  s
    ? Object.entries(s)
        .map(([k, v]) => `${v} ${k}`)
        .join(', ')
    : '-'

function requestRows(deletions: readonly DelayResult[], label = ''): string[][] {
  return deletions.map((d) => [
    `${d.delaySeconds} s${d.addedLatencyMs > 0 ? ` +${round(d.addedLatencyMs)} ms/req` : ''}${label}`,
    d.ours.runs > 1
      ? `${d.ours.requests} of ${d.ours.requestRuns.join('/')}`
      : String(d.ours.requests),
    `${d.ours.requestsByKind.lists}/${d.ours.requestsByKind.deletes}/${d.ours.requestsByKind.eventChecks}/${d.ours.requestsByKind.other}`,
    `${d.ours.requestsToLowerBound}×`,
    d.sample ? String(d.sample.requests) : '-',
    d.requestRatio === undefined ? '-' : `${d.requestRatio}×`,
    d.sample ? `${d.sample.boundHits}` : '-',
  ])
}

function wallRows(deletions: readonly DelayResult[], label = ''): string[][] {
  return deletions.map((d) => [
    `${d.delaySeconds} s${d.addedLatencyMs > 0 ? ` +${round(d.addedLatencyMs)} ms/req` : ''}${label}`,
    ms(d.idealMs),
    ms(d.ours.wallMs),
    `${d.ours.wallToIdeal}×`,
    String(d.ours.waitStates),
    d.sample ? `${ms(d.sample.wallMs)} (${ms(d.sample.returnedMs)})` : '-',
    d.sample ? `${d.sample.wallToIdeal}×` : '-',
    d.wallRatio === undefined ? '-' : `${d.wallRatio}×`,
    `${statuses(d.ours.statuses)}${d.sample ? ` | ${statuses(d.sample.statuses)}` : ''}`,
  ])
}

export function formatReport(r: BenchResults): string {
  const out: string[] = []
  const env = r.environment
  out.push(
    `Seam user-identity benchmark (${r.mode}) — ${r.startedAt}, ${ms(r.durationMs)} in all`,
    `Node ${env.node}, ${env.cpus} CPUs, load average ${env.loadAverageStart[0]} → ${env.loadAverageEnd[0]}; ` +
      `code at ${env.gitHead}${env.gitDirty.length ? ` + uncommitted: ${env.gitDirty.map((l) => l.slice(3)).join(', ')}` : ''}`,
    `Time scale ${r.scale}${r.scale === 1 ? ' (real time)' : ''}: Seam's delete delays and the state machine's waits both ×${r.scale}; ` +
      'times below are as measured (scaled).' +
      (r.scale < 1
        ? ' Below 1 the first wait of each stage, sized from Seam’s pace measured in real seconds, ' +
          'comes out short, so ours makes an extra check or two that real time would not.'
        : ''),
    `Poll policy: ${JSON.stringify(r.pollPolicy)}`,
    '',
    `1. Seam requests per deletion — shape ${JSON.stringify(r.shape)}, emulator page size ${r.pageSize}`,
    `   lower bound: ${r.lowerBound.formula}`,
    '   ours = the DELETE route (1 user_identities/get) + the state machine, the run that made the most ' +
      "(ours run one by one); kinds = lists/deletes (the identity's too)/events/other",
    ...table(
      ['delay', 'ours', 'kinds', 'ours/LB', 'sample', 'sample/ours', 'bound hits'],
      [
        ...requestRows(r.deletions),
        ...(r.withLatency ? requestRows([r.withLatency]) : []),
        ...(r.alternative ? requestRows(r.alternative.deletions, ` (${r.alternative.label})`) : []),
      ],
    ),
    ...(r.alternative
      ? [
          `   with policy ${r.alternative.label}: ${r.alternative.description}; ${r.alternative.deletions
            .map(
              (d) =>
                `${d.delaySeconds} s: firstWaitSeconds ${d.pollPolicy.firstWaitSeconds}, maxWaitSeconds ${d.pollPolicy.maxWaitSeconds}`,
            )
            .join('; ')}`,
        ]
      : []),
    '',
    `2. Wall time per deletion, until Seam has deleted the identity, vs ideal (sum of the delete delays ` +
      `of the ${r.lowerBound.eventChecks} asynchronous stages and of the identity's own deletion)`,
    '   the sample returns before Seam has deleted the identity; its wall time runs until then (watched ' +
      'in the emulator, no request), the time it returned in brackets',
    ...table(
      ['delay', 'ideal', 'ours', '×ideal', 'waits', 'sample', '×ideal', 'sample/ours', 'outcome'],
      [
        ...wallRows(r.deletions),
        ...(r.withLatency ? wallRows([r.withLatency]) : []),
        ...(r.alternative ? wallRows(r.alternative.deletions, ` (${r.alternative.label})`) : []),
      ],
    ),
    '',
    '3. State transitions, Lambda invocations and cost per million deletions',
    `   prices: Standard $${(r.cost.prices.standardPerTransition * 1000).toFixed(3)}/1,000 transitions; ` +
      `Lambda $${(r.cost.prices.lambdaPerRequest * 1e6).toFixed(2)}/M requests, ` +
      `$${r.cost.prices.lambdaArmPerGbSecond}/GB-s (arm64)`,
    `   ${r.cost.assumptions}`,
    ...table(
      [
        'delay',
        'transitions',
        'Lambda invocations',
        'mean Lambda ms',
        'Step Functions',
        'Lambda req',
        'Lambda GB-s',
        'total / M',
      ],
      r.deletions.map((d) => {
        const c = r.cost.perDelay.find((p) => p.delaySeconds === d.delaySeconds)?.perMillion
        return [
          `${d.delaySeconds} s`,
          String(d.ours.transitions),
          `${d.ours.lambdaInvocations} (+1 API)`,
          String(d.ours.lambdaMsMean),
          c ? usd(c.stepFunctions) : '-',
          c ? usd(c.lambdaRequests) : '-',
          c ? usd(c.lambdaDuration) : '-',
          c ? usd(c.total) : '-',
        ]
      }),
    ),
    '',
    `4. Lambda bundles (esbuild ${JSON.stringify({ format: r.bundles.esbuild.format, target: r.bundles.esbuild.target, minify: r.bundles.esbuild.minify, external: r.bundles.esbuild.external })}), ` +
      `cold import in a fresh ${r.bundles.nodeVersion} process with NODE_OPTIONS="${r.bundles.nodeOptions}", median of ${r.bundles.runs}` +
      (r.bundles.parallel
        ? ' (imports timed in parallel: a check that they load, not a measurement)'
        : ''),
    ...table(
      ['entry', 'functions', 'minified', 'gzip', 'import', '×empty'],
      [
        ...r.bundles.bundles.map((b) => [
          b.entry,
          String(b.functions),
          kb(b.bytes),
          kb(b.gzipBytes),
          ms(b.importMs),
          `${round(b.ratioToEmpty, 1)}×`,
        ]),
        ['(empty module)', '-', '0 KiB', '-', ms(r.bundles.emptyImportMs), '1×'],
      ],
    ),
    '',
    `5. Create (1 ACS user each): local API vs SeamHttp directly, ${r.create.api.samples} each, alternating`,
    ...table(
      ['path', 'p50', 'p95'],
      [
        ['local API', ms(r.create.api.p50Ms), ms(r.create.api.p95Ms)],
        ['SeamHttp direct', ms(r.create.direct.p50Ms), ms(r.create.direct.p95Ms)],
        ['ratio', `${r.create.ratioP50}×`, `${r.create.ratioP95}×`],
      ],
    ),
    `   ${r.create.concurrent.clients} concurrent clients, ${r.create.concurrent.requests} creates: ` +
      `${r.create.concurrent.throughputPerSecond}/s, p50 ${ms(r.create.concurrent.p50Ms)}, ` +
      `p95 ${ms(r.create.concurrent.p95Ms)}, errors ${r.create.concurrent.errors}, ` +
      `${r.create.concurrent.seamRequestsPerCreate} Seam requests per create`,
    '',
    `6. Bulk: ${r.bulk.identities} identities deleted at once, delay ${r.bulk.delaySeconds} s (${ms(r.bulk.scaledDelayMs)} scaled)`,
    `   total ${ms(r.bulk.totalMs)} (all DELETEs answered after ${ms(r.bulk.startedAllMs)}); ${statuses(r.bulk.statuses)}; ` +
      `${r.bulk.leftOver} identities with resources left`,
    `   Seam requests ${r.bulk.seamRequests} (${r.bulk.seamRequestsPerDeletion}/deletion: ` +
      `${r.bulk.requestsPerDeletion.lists} lists, ${r.bulk.requestsPerDeletion.deletes} deletes, ` +
      `${r.bulk.requestsPerDeletion.eventChecks} events, ${r.bulk.requestsPerDeletion.api + r.bulk.requestsPerDeletion.other} other); ` +
      `peak ${r.bulk.peakRequestsPerSecond}/s (1 s buckets: ${r.bulk.requestsPerSecond.join(' ')}); ` +
      `${r.bulk.meanTransitionsPerDeletion} transitions/deletion`,
    ...capacityLines(r),
    '',
    ...webhookSection(r),
    ...(r.mode === 'smoke'
      ? [
          'Goals: NOT JUDGED in a smoke run (one tiny, time-scaled sample of each: it checks that every',
          'section runs, not how well). `npm run bench` (a full run) judges them.',
        ]
      : ['Goals']),
    ...table(
      ['goal', r.mode === 'smoke' ? 'met (not judged)' : 'met', 'measured'],
      [...r.goals, ...(r.webhooks?.goals ?? [])].map((g) => [
        g.goal,
        r.mode === 'smoke' ? (g.met ? '(yes)' : '(no)') : g.met ? 'yes' : 'NO',
        g.measured,
      ]),
    ),
  )
  return out.join('\n')
}

/** Section 7: one bulk deletion and as many simultaneous DELETEs against a rate-limited Seam. */
export function capacityLines(r: Partial<Pick<BenchResults, 'capacity'>>): string[] {
  const c = r.capacity
  if (!c) return []
  const head =
    `7. Capacity: ${c.config.identities} identities, Seam limited to ${c.config.rateLimitPerSecond} req/s, ` +
    `deletes finish after ${c.config.deleteDelayMs} ms; bulkDeletionConcurrency ${c.config.bulkDeletionConcurrency}, ` +
    `seamConcurrency ${c.config.seamConcurrency ?? 'none'}, seamRequestsPerSecond ${c.config.seamRequestsPerSecond ?? 'none'}; one deletion alone ${ms(c.idealMs)}`
  return [
    head,
    ...c.runs.map(
      (run) =>
        `   ${run.how === 'bulk' ? 'one bulk deletion ' : `${run.identities} DELETEs at once`}: ${run.succeeded}/${run.identities} SUCCEEDED` +
        `${Object.keys(run.notSucceeded).length ? ` (${JSON.stringify(run.notSucceeded)})` : ''}, ${run.leftOver} left, ` +
        `${run.bystandersTouched} bystanders touched; ${run.seamRequests} Seam requests, ${run.throttled429} 429 ` +
        `(${Math.round(run.share429 * 100)} %); wall ${ms(run.wallMs)} vs bound ${ms(run.boundMs)} ` +
        `(x${run.wallOverBound}); max ${run.maxInProgress} identities in progress (concurrency ${run.concurrencyUsed})`,
    ),
  ]
}

/** Webhook mode beside polling mode, one row per delay plan, and its goals. */
export function webhookLines(r: Partial<Pick<BenchResults, 'webhooks'>>): string[] {
  return [
    ...webhookSection(r),
    ...(r.webhooks?.goals ?? []).map(
      (g) => `   ${g.met ? 'met    ' : 'NOT MET'} ${g.goal}: ${g.measured}`,
    ),
  ]
}

/** Webhook mode beside polling mode, one row per delay plan. */
function webhookSection(r: Partial<Pick<BenchResults, 'webhooks'>>): string[] {
  if (!r.webhooks) return []
  const cell = (m: { wallToIdeal: number; slowestWallToIdeal?: number; wallMs: number }) =>
    `${ms(m.wallMs)} ${m.wallToIdeal}×` +
    (m.slowestWallToIdeal === undefined ? '' : ` (slowest ${m.slowestWallToIdeal}×)`)
  return [
    '8. Webhook mode (Seam events resume the stages) beside polling mode (seamWebhooks=false)',
    ...table(
      [
        'delay',
        'ideal',
        'webhooks wall',
        'polling wall',
        'Seam calls (check events/list) w | p',
        'transitions w | p',
        'webhook calls',
        '$/M deletions w | p',
        'statuses w | p',
      ],
      r.webhooks.rows.map((row) => [
        row.label,
        ms(row.webhooks.idealMs),
        cell(row.webhooks),
        cell(row.polling),
        `${row.webhooks.seamCalls} (${row.webhooks.eventsListCalls}) | ${row.polling.seamCalls} (${row.polling.eventsListCalls})`,
        `${row.webhooks.transitions} | ${row.polling.transitions}`,
        String(row.webhooks.webhookInvocations),
        `${usd(row.webhooks.costPerMillion.total)} | ${usd(row.polling.costPerMillion.total)}`,
        `${statuses(row.webhooks.statuses)} | ${statuses(row.polling.statuses)}`,
      ]),
    ),
    '   Ideal: per asynchronous stage, the longest delay of its items (drawn per item in the varying row).',
    '   Wall: the median run (the slowest in brackets); rows run in this order in one runtime, so each',
    '   deletion starts from what the deployment saw of deliveries before it (trusted, or a loss found).',
    '   Cost: Step Functions transitions + Lambda requests and duration (the webhook Lambda per delivery',
    '   included); DynamoDB (a few on-demand writes per item) and API Gateway are not.',
    '',
  ]
}
