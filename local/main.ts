// `npm start [-- --demo] [--port N]`: the API and the deletion state machine on 127.0.0.1, against the
// built-in Seam emulator, or against real Seam when SEAM_API_KEY (and optionally SEAM_ENDPOINT) is set.
import { parseArgs } from 'node:util'
import { startLocalRuntime } from './runtime.js'

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    demo: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
})

if (values.help) {
  console.log(`Usage: npm start -- [options]
  --port N   port on 127.0.0.1 (default $PORT or 3000)
  --demo     seed a demo user identity in the emulator and print curl lines to try
Environment:
  SEAM_API_KEY, SEAM_ENDPOINT         use this Seam workspace instead of the emulator
  DELETION_STAGE_TIMEOUT_SECONDS      longest a stage waits for Seam before the deletion fails (default 600)
  LOCAL_WAIT_SCALE                    multiply the state machine's waits (default 1, real time)
  SEAM_EMULATOR_DELETE_DELAY_MS       emulator's asynchronous delete delay (default 2000)
  BULK_DELETION_CONCURRENCY           identities of one bulk deletion deleted at once (default 10)
  SEAM_CONCURRENCY                    reserved concurrency of each Seam-calling workflow function (default none)`)
  process.exit(0)
}

const positiveNumber = (value: string | undefined, name: string): number | undefined => {
  if (value === undefined || value === '') return undefined
  const parsed = Number(value)
  if (!Number.isFinite(parsed) || parsed < 0) {
    console.error(`${name} must be a non-negative number, got ${value}`)
    process.exit(2)
  }
  return parsed
}

const port = positiveNumber(values.port ?? process.env.PORT, 'PORT') ?? 3000
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
const bulkDeletionConcurrency = positiveNumber(
  process.env.BULK_DELETION_CONCURRENCY,
  'BULK_DELETION_CONCURRENCY',
)
const seamConcurrency = positiveNumber(process.env.SEAM_CONCURRENCY, 'SEAM_CONCURRENCY')

console.log(`Node ${process.versions.node}; synthesizing the CDK stack…`)
const runtime = await startLocalRuntime({
  port,
  ...(apiKey ? { seam: { apiKey, endpoint: process.env.SEAM_ENDPOINT } } : {}),
  emulator: { ...(deleteDelayMs !== undefined ? { deleteDelayMs } : {}) },
  ...(stageTimeoutSeconds !== undefined ? { pollPolicy: { stageTimeoutSeconds } } : {}),
  ...(waitScale !== undefined ? { waitScale } : {}),
  ...(bulkDeletionConcurrency ? { bulkDeletionConcurrency } : {}),
  ...(seamConcurrency ? { seamConcurrency } : {}),
  onProgress: (line) => console.log(`[${new Date().toISOString()}] ${line}`),
  onRequest: ({ method, path, status, ms }) =>
    console.log(`${method} ${path} → ${status} (${ms} ms)`),
})

if (runtime.emulator) {
  console.log(`Seam emulator: ${runtime.emulator.url}  (API key ${runtime.emulator.apiKey})`)
} else {
  console.log(`Seam: ${runtime.seamEndpoint} (SEAM_API_KEY from the environment)`)
}
console.log(
  `API listening on ${runtime.url}  (GET /health, POST /user-identities, DELETE /user-identities/{id}, GET /deletions/{id})`,
)

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
