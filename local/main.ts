// `npm start [-- --demo] [--port N]`: the API and the deletion state machine on 127.0.0.1, against the
// built-in Seam emulator, or against real Seam when SEAM_API_KEY (and optionally SEAM_ENDPOINT) is set.
// Everything lives in memory (the emulator's workspace, the executions): it is gone when this stops.
import { parseArgs } from 'node:util'
import { createSeamClient, isSeamError, SeamUnauthorizedError } from '../functions/seam/index.js'
import { startLocalRuntime } from './runtime.js'
import { routeList } from './server.js'

const USAGE = `Usage: npm start -- [options]      (note the "--": npm keeps the flags before it)
  --port N   port on 127.0.0.1 (default $PORT or 3000)
  --demo     seed a demo user identity in the emulator and print curl lines to try
  -h, --help this text
Environment:
  PORT                                port, when --port is not given (default 3000)
  SEAM_API_KEY                        use this Seam workspace instead of the emulator
  SEAM_ENDPOINT                       with SEAM_API_KEY: a Seam-compatible server (default https://connect.getseam.com)
  SEAM_WEBHOOK_URL                    with SEAM_API_KEY: the URL at which that endpoint reaches POST /webhooks/seam
                                      (webhooks on; without it: polling only). With the emulator webhooks are on.
  DELETION_STAGE_TIMEOUT_SECONDS      longest a stage waits for Seam before the deletion fails (default 600)
  LOCAL_WAIT_SCALE                    multiply the state machine's waits (default 1, real time)
  SEAM_EMULATOR_DELETE_DELAY_MS       emulator's asynchronous delete delay (default 2000)
  POWERTOOLS_LOG_LEVEL                the handlers' log level (default WARN)
  BULK_DELETION_CONCURRENCY           identities of one bulk deletion deleted at once (default 10)
  SEAM_CONCURRENCY                    reserved concurrency of each Seam-calling workflow function (default none)
  SEAM_REQUESTS_PER_SECOND            the Seam budget, divided among the functions' instances (needs SEAM_CONCURRENCY)
  SEAM_API_CONCURRENCY                with it: reserved concurrency of each Seam-calling API route (default 2)
State (the emulator's workspace, the deletions) lives in memory and is lost when npm start stops.`

const FLAGS = ['port', 'demo', 'help'] as const

function usage(problem: string): never {
  console.error(`${problem}\n\n${USAGE}`)
  process.exit(2)
}

const { values } = (() => {
  try {
    return parseArgs({
      options: {
        port: { type: 'string' },
        demo: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    })
  } catch (error) {
    // `npm start --port 3001` without "--": npm keeps --port (npm_config_port) and passes 3001 on.
    const taken = FLAGS.filter((flag) => process.env[`npm_config_${flag}`] !== undefined)
    const value = process.argv.slice(2).find((arg) => !arg.startsWith('-')) ?? '3001'
    const hint = taken.length
      ? `npm took ${taken.map((f) => `--${f}`).join(', ')} for itself: put "--" before the flags, e.g. npm start -- --port ${value}`
      : (error as Error).message
    return usage(hint)
  }
})()
const swallowed = FLAGS.filter(
  (flag) => process.env[`npm_config_${flag}`] !== undefined && !values[flag],
)
if (swallowed.length) {
  usage(
    `npm took ${swallowed.map((f) => `--${f}`).join(', ')} for itself: put "--" before the flags, e.g. npm start -- --${swallowed[0]}`,
  )
}

if (values.help) {
  console.log(USAGE)
  process.exit(0)
}

const positiveNumber = (value: string | undefined, name: string): number | undefined => {
  if (value === undefined || value === '') return undefined
  const parsed = Number(value)
  if (!Number.isFinite(parsed) || parsed < 0)
    usage(`${name} must be a non-negative number, got ${value}`)
  return parsed
}

const portSource = values.port === undefined ? 'PORT' : '--port'
const port = positiveNumber(values.port ?? process.env.PORT, portSource) ?? 3000
const stageTimeoutSeconds = positiveNumber(
  process.env.DELETION_STAGE_TIMEOUT_SECONDS,
  'DELETION_STAGE_TIMEOUT_SECONDS',
)
const waitScale = positiveNumber(process.env.LOCAL_WAIT_SCALE, 'LOCAL_WAIT_SCALE')
const deleteDelayMs = positiveNumber(
  process.env.SEAM_EMULATOR_DELETE_DELAY_MS,
  'SEAM_EMULATOR_DELETE_DELAY_MS',
)
const apiKey = process.env.SEAM_API_KEY
if (!apiKey && process.env.SEAM_ENDPOINT) {
  console.error(
    `SEAM_ENDPOINT is set (${process.env.SEAM_ENDPOINT}) but SEAM_API_KEY is not: set SEAM_API_KEY to that server's API key, or unset SEAM_ENDPOINT to use the built-in Seam emulator.`,
  )
  process.exit(2)
}
const bulkDeletionConcurrency = positiveNumber(
  process.env.BULK_DELETION_CONCURRENCY,
  'BULK_DELETION_CONCURRENCY',
)
const seamConcurrency = positiveNumber(process.env.SEAM_CONCURRENCY, 'SEAM_CONCURRENCY')
const seamRequestsPerSecond = positiveNumber(
  process.env.SEAM_REQUESTS_PER_SECOND,
  'SEAM_REQUESTS_PER_SECOND',
)
const seamApiConcurrency = positiveNumber(process.env.SEAM_API_CONCURRENCY, 'SEAM_API_CONCURRENCY')
if (seamRequestsPerSecond && !seamConcurrency) {
  usage(
    'SEAM_REQUESTS_PER_SECOND needs SEAM_CONCURRENCY (e.g. 10): the budget is divided among the instances that can run at once',
  )
}

const webhookUrl = process.env.SEAM_WEBHOOK_URL?.trim() || undefined
if (webhookUrl && !apiKey) {
  console.warn(
    'SEAM_WEBHOOK_URL is ignored with the built-in emulator: it delivers to this server itself.',
  )
}

console.log(`Node ${process.versions.node}; synthesizing the CDK stack…`)
const runtime = await startLocalRuntime({
  port,
  ...(apiKey ? { seam: { apiKey, endpoint: process.env.SEAM_ENDPOINT } } : {}),
  ...(apiKey && webhookUrl ? { webhookUrl } : {}),
  emulator: { ...(deleteDelayMs !== undefined ? { deleteDelayMs } : {}) },
  ...(stageTimeoutSeconds !== undefined ? { pollPolicy: { stageTimeoutSeconds } } : {}),
  ...(waitScale !== undefined ? { waitScale } : {}),
  ...(bulkDeletionConcurrency ? { bulkDeletionConcurrency } : {}),
  ...(seamConcurrency ? { seamConcurrency } : {}),
  ...(seamRequestsPerSecond ? { seamRequestsPerSecond } : {}),
  ...(seamApiConcurrency ? { seamApiConcurrency } : {}),
  onProgress: (line) => console.log(`[${new Date().toISOString()}] ${line}`),
  onRequest: ({ method, path, status, ms }) =>
    console.log(`${method} ${path} → ${status} (${ms} ms)`),
}).catch((error: unknown) => {
  const code = (error as { code?: unknown }).code
  if (code === 'EADDRINUSE' || code === 'EACCES') {
    console.error(
      `Port ${port} on 127.0.0.1 is ${code === 'EADDRINUSE' ? 'already in use (another npm start?)' : 'not allowed'}: choose another with npm start -- --port ${port + 1} (or PORT=${port + 1} npm start).`,
    )
    process.exit(1)
  }
  throw error
})

if (runtime.emulator) {
  console.log(`Seam emulator: ${runtime.emulator.url}  (API key ${runtime.emulator.apiKey})`)
}
console.log(await checkSeam())
console.log(
  runtime.webhook
    ? `Webhooks ON: Seam delivers to ${runtime.webhook.url} (webhook ${runtime.webhook.webhookId}, removed at shutdown); stages go on as Seam's events arrive, polling as the fallback.`
    : 'Webhooks OFF: polling only (set SEAM_WEBHOOK_URL to the URL at which SEAM_ENDPOINT reaches POST /webhooks/seam to turn them on).',
)
console.log(`API listening on ${runtime.url}`)
console.log(`  ${routeList(runtime.routes).join('\n  ')}`)
console.log('State lives in memory: stopping npm start forgets the emulator and every deletion.')

/**
 * One cheap call (workspaces/get) to prove the endpoint and the key now, instead of on the first
 * request. A failure is printed, not fatal: the API still starts, and answers 502/503 until it is fixed.
 */
async function checkSeam(): Promise<string> {
  const key = runtime.emulator ? runtime.emulator.apiKey : (apiKey ?? '')
  const where = runtime.emulator ? 'the emulator' : runtime.seamEndpoint
  try {
    const client = createSeamClient(
      { apiKey: key, endpoint: runtime.seamEndpoint },
      { retry: { maxAttempts: 1 }, timeoutMs: 5_000 },
    )
    const workspace = await client.workspaces.get()
    const source = runtime.emulator ? 'its key' : 'SEAM_API_KEY'
    return `Seam: ${where} accepted ${source} (workspace ${workspace.workspace_id}${workspace.is_sandbox ? ', sandbox' : ''})`
  } catch (error) {
    if (isSeamError(error) && error.name === SeamUnauthorizedError) {
      return `Seam CHECK FAILED: ${where} rejected the key in SEAM_API_KEY (HTTP ${error.status}). Set SEAM_API_KEY to a key of that workspace; until then the API answers 502 seam_misconfigured.`
    }
    const message = error instanceof Error ? error.message : String(error)
    const refused = isSeamError(error) && error.failure === 'connection_refused'
    return `Seam CHECK FAILED at ${where} (SEAM_ENDPOINT)${refused ? ': ECONNREFUSED' : ''}: ${message} Until it is fixed the API answers 503 seam_unavailable.`
  }
}

if (values.demo) {
  if (!runtime.emulator) {
    console.log('--demo seeds the emulator only; it is ignored against a real Seam workspace.')
  } else {
    const graph = runtime.emulator.seed.identityGraph({
      clientSessions: 2,
      acsSystems: 2,
      credentialsPerUser: 3,
      enrollmentAutomations: 1,
      phones: 2,
    })
    const spare = runtime.emulator.seed.acsUser({ acsSystemId: graph.acsSystemIds[0] as string })
    console.log(
      `Demo identity ${graph.userIdentityId}: 2 client sessions, 2 ACS users in 2 systems, 6 credentials, 1 enrollment automation, 2 phones.`,
    )
    console.log('Try:')
    console.log(
      `  curl -s -X POST ${runtime.url}/user-identities -H 'Content-Type: application/json' -d '{"user_identity_key":"demo-user-2","full_name":"Demo User","acs_user_ids":["${spare.acs_user_id}"]}'`,
    )
    console.log(`  curl -s -i -X DELETE ${runtime.url}/user-identities/${graph.userIdentityId}`)
    console.log(`  curl -s ${runtime.url}/deletions/${graph.userIdentityId}--1`)
  }
}

let stopping = false
const stop = async () => {
  if (stopping) return
  stopping = true
  console.log('Shutting down…')
  await runtime.close()
  process.exit(0)
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
