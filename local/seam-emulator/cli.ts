// `npm run seam-emulator [-- --demo] [--port N] [--delete-delay-ms N] [--page-size N]
//   [--mode cascade|documented] [--behaviour name=reading ...]`: runs the emulator until Ctrl-C.
import { parseArgs } from 'node:util'
import { BEHAVIOUR_NAMES, BEHAVIOUR_READINGS, startSeamEmulator } from './index.js'

export const DEFAULT_PORT = 8789

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    'api-key': { type: 'string' },
    'delete-delay-ms': { type: 'string' },
    'page-size': { type: 'string' },
    mode: { type: 'string' },
    behaviour: { type: 'string', multiple: true },
    demo: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
})

if (values.help) {
  console.log(`Usage: npm run seam-emulator -- [options]
  --port N              port on 127.0.0.1 (default $SEAM_EMULATOR_PORT or ${DEFAULT_PORT}; 0 = any free port)
  --api-key KEY         API key to accept (default $SEAM_EMULATOR_API_KEY or a generated seam_test_… key)
  --delete-delay-ms N   delay of asynchronous deletions (default 2000)
  --page-size N         default and maximum page size of paginated lists (default 500)
  --mode M              user_identities/delete mode: cascade (default) or documented
  --behaviour NAME=R    reading R of an undocumented Seam behaviour (repeatable; see README.md):
                        ${BEHAVIOUR_NAMES.map((n) => `${n}=${BEHAVIOUR_READINGS[n].join('|')}`).join('\n                        ')}
  --demo                seed a sample user identity and print its id`)
  process.exit(0)
}

const number = (value: string | undefined, name: string): number | undefined => {
  if (value === undefined || value === '') return undefined
  const parsed = Number(value)
  if (!Number.isInteger(parsed) || parsed < 0) {
    console.error(`${name} must be a non-negative integer, got ${value}`)
    process.exit(2)
  }
  return parsed
}

const mode = values.mode ?? 'cascade'
if (mode !== 'cascade' && mode !== 'documented') {
  console.error(`--mode must be cascade or documented, got ${mode}`)
  process.exit(2)
}

const behaviours = Object.fromEntries(
  (values.behaviour ?? []).map((pair) => {
    const [name, reading] = pair.split('=')
    if (!name || !reading || !(BEHAVIOUR_NAMES as string[]).includes(name)) {
      console.error(
        `--behaviour must be NAME=READING with NAME one of ${BEHAVIOUR_NAMES.join(', ')}`,
      )
      process.exit(2)
    }
    return [name, reading]
  }),
)

const port = number(values.port ?? process.env.SEAM_EMULATOR_PORT, 'port') ?? DEFAULT_PORT
const apiKey = values['api-key'] ?? process.env.SEAM_EMULATOR_API_KEY
const deleteDelayMs = number(values['delete-delay-ms'], '--delete-delay-ms')
const pageSize = number(values['page-size'], '--page-size')

const emulator = await startSeamEmulator({
  port,
  userIdentityDeleteMode: mode,
  behaviours,
  ...(apiKey ? { apiKey } : {}),
  ...(deleteDelayMs === undefined ? {} : { deleteDelayMs }),
  ...(pageSize === undefined ? {} : { pageSize }),
})

console.log(`Seam emulator listening on ${emulator.url}
API key: ${emulator.apiKey}

Point the Seam SDK (or this service) at it:
  export SEAM_ENDPOINT=${emulator.url}
  export SEAM_API_KEY=${emulator.apiKey}`)

if (values.demo) {
  const graph = emulator.seed.identityGraph({
    clientSessions: 1,
    acsSystems: 2,
    credentialsPerUser: 2,
    enrollmentAutomations: 1,
    phones: 1,
  })
  console.log(`
Demo user identity: ${graph.userIdentityId}
  ${graph.clientSessionIds.length} client session, ${graph.acsUserIds.length} ACS users, ${graph.acsCredentialIds.length} credentials, ${graph.enrollmentAutomationIds.length} enrollment automation, ${graph.phoneIds.length} phone`)
}

console.log('\nPress Ctrl-C to stop.')

let stopping = false
const stop = (signal: NodeJS.Signals): void => {
  if (stopping) return
  stopping = true
  console.log(`\n${signal}: stopping the Seam emulator`)
  emulator.close().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error)
      process.exit(1)
    },
  )
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
