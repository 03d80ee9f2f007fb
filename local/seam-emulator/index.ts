import { randomBytes } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { resolveBehaviours } from './behaviours.js'
import { createControlHandler } from './control.js'
import { resolveDelays } from './deletions.js'
import { FaultInjector } from './faults.js'
import { createInspect } from './inspect.js'
import { knownEventTypes } from './routes/events.js'
import { createSeed } from './seed.js'
import { createRequestListener } from './server.js'
import { type Settings, Store } from './store.js'
import type { RequestLogEntry, SeamEmulator, SeamEmulatorOptions } from './types.js'

export {
  BEHAVIOUR_NAMES,
  BEHAVIOUR_READINGS,
  DEFAULT_BEHAVIOURS,
  OTHER_READINGS,
} from './behaviours.js'
export { SeamApiError } from './errors.js'
export { seededRandom } from './faults.js'
export type * from './types.js'

/** Starts a Seam Connect API emulator on 127.0.0.1 (see README.md in this folder). */
export async function startSeamEmulator(options: SeamEmulatorOptions = {}): Promise<SeamEmulator> {
  const apiKey = options.apiKey ?? `seam_test_${randomBytes(12).toString('hex')}`
  const pageSize = options.pageSize ?? 500
  if (!Number.isInteger(pageSize) || pageSize < 1) {
    throw new RangeError(`pageSize must be a positive integer, got ${pageSize}`)
  }
  const initialDelays = resolveDelays(options.deleteDelayMs)
  const initialMode = options.userIdentityDeleteMode ?? 'cascade'
  const initialBehaviours = resolveBehaviours(options.behaviours)
  const settings: Settings = {
    pageSize,
    delays: { ...initialDelays },
    userIdentityDeleteMode: initialMode,
    behaviours: initialBehaviours,
    delayRange: checkRange(options.deleteDelayRangeMs),
    random: options.delayRandom ?? options.random ?? Math.random,
  }
  // Load Seam's event types up front so the first events/list is as fast as the rest.
  await knownEventTypes()
  const store = new Store(settings)
  store.webhooks.configure({
    ...(options.random ? { random: options.random } : {}),
    ...(options.webhookFaults ? { faults: options.webhookFaults } : {}),
  })
  const faults = new FaultInjector(options.faults, options.random ?? Math.random)
  const log: RequestLogEntry[] = []
  const hooks = new Map<string, () => void | Promise<void>>()
  let url = ''
  let closing: Promise<void> | undefined

  const emulator: SeamEmulator = {
    get url() {
      return url
    },
    apiKey,
    close: () => {
      closing ??= new Promise<void>((resolve, reject) => {
        store.deletions.clear()
        store.webhooks.reset()
        server.close((error) => (error ? reject(error) : resolve()))
        server.closeAllConnections()
      })
      return closing
    },
    reset: () => {
      store.reset()
      faults.set({})
      log.length = 0
      hooks.clear()
      settings.delays = { ...initialDelays }
      settings.userIdentityDeleteMode = initialMode
      settings.behaviours = initialBehaviours
      settings.delayRange = checkRange(options.deleteDelayRangeMs)
    },
    setFaults: (next) => faults.set(next),
    setUserIdentityDeleteMode: (mode) => {
      settings.userIdentityDeleteMode = mode
    },
    setBehaviours: (changes) => {
      settings.behaviours = resolveBehaviours(changes, settings.behaviours)
    },
    get behaviours() {
      return settings.behaviours
    },
    setDeleteDelayMs: (delay) => {
      settings.delays = resolveDelays(delay, settings.delays)
      store.deletions.reschedule()
    },
    setDeleteDelayRangeMs: (range) => {
      settings.delayRange = checkRange(range)
    },
    get drawnDelays() {
      return store.deletions.drawn
    },
    stickDeletion: (id) => store.deletions.stick(id),
    releaseDeletion: (id) => store.deletions.release(id),
    beforeNextRequest: (path, hook) => {
      hooks.set(path, hook)
    },
    get requests(): readonly RequestLogEntry[] {
      return log
    },
    seed: createSeed(store),
    inspect: createInspect(store),
    webhooks: store.webhooks,
  }

  const server = createServer(
    createRequestListener({
      store,
      faults,
      apiKey,
      log,
      hooks,
      control: createControlHandler(() => emulator),
      baseUrl: () => url,
    }),
  )
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return emulator
}

function checkRange(range: SeamEmulatorOptions['deleteDelayRangeMs']) {
  if (range && !(range.minMs >= 0 && range.maxMs >= range.minMs)) {
    throw new RangeError(
      `delete delay range must have 0 <= minMs <= maxMs, got ${JSON.stringify(range)}`,
    )
  }
  return range
}
