// `npm run bench [-- --smoke] [--scale F] [--out FILE] [--report FILE] [--only capacity|webhooks]`: runs the benchmark (bench.ts), prints the
// table and writes the results as JSON (bench/results.json, a smoke run .bench-tmp/results.smoke.json, unless --out).
import { parseArgs } from 'node:util'

const { values } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    scale: { type: 'string' },
    out: { type: 'string' },
    report: { type: 'string' },
    only: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
})
if (values.help) {
  console.log(`Usage: npm run bench -- [--smoke] [--scale F] [--out FILE]
  --smoke    a tiny run (seconds) that exercises every section
  --scale F  multiply Seam's delete delays and the state machine's waits by F (default 1, real time;
             below 1 the adaptive first wait, sized from Seam's measured pace in real seconds, under-waits)
  --out      where to write the results (default bench/results.json; --smoke .bench-tmp/results.smoke.json)
  --report FILE  print the table of an earlier run's results file, run nothing
  --only S   run section S (capacity or webhooks) alone, replacing only its figures in the results file`)
  process.exit(0)
}

// The handlers log through Powertools; keep the table readable (set before they are imported).
process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR'
process.env.AWS_REGION ??= 'us-east-1'

const { FULL_CONFIG, ONLY_SECTIONS, SMOKE_CONFIG, runBenchmark, runSectionOnly } = await import(
  './bench.js'
)
const { capacityLines, formatReport, webhookLines } = await import('./report.js')

if (values.report) {
  const { readFile } = await import('node:fs/promises')
  console.log(formatReport(JSON.parse(await readFile(values.report, 'utf8'))))
  process.exit(0)
}

const base = values.smoke ? SMOKE_CONFIG : FULL_CONFIG
const scale = values.scale === undefined ? base.scale : Number(values.scale)
if (!(scale > 0) || !Number.isFinite(scale)) {
  console.error(`--scale must be a positive number, got ${values.scale}`)
  process.exit(2)
}
const only = ONLY_SECTIONS.find((section) => section === values.only)
if (values.only !== undefined && !only) {
  console.error(`--only knows the sections ${ONLY_SECTIONS.join(', ')}; got ${values.only}`)
  process.exit(2)
}
if (only) {
  const section = await runSectionOnly(
    {
      ...base,
      scale,
      ...(values.out ? { outFile: values.out } : {}),
      log: (line) => console.error(line),
    },
    only,
  )
  console.log((only === 'capacity' ? capacityLines(section) : webhookLines(section)).join('\n'))
  console.error(`${only} figures written into ${values.out ?? base.outFile}`)
  process.exit(0)
}
const results = await runBenchmark({
  ...base,
  scale,
  ...(values.out ? { outFile: values.out } : {}),
  log: (line) => console.error(line),
})
console.log(formatReport(results))
console.error(`results written to ${values.out ?? base.outFile}`)
