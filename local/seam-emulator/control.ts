import { invalidInput, SeamApiError } from './errors.js'
import type { ControlHandler } from './server.js'
import type {
  DeleteDelays,
  FaultOptions,
  IdentityGraphShape,
  SeamBehaviours,
  SeamEmulator,
  UserIdentityDeleteMode,
} from './types.js'

/**
 * The emulator's own HTTP control API under /_emulator/ (same Bearer key; never faulted, never
 * in the request log), for processes that cannot call the in-process API. Bodies are JSON and
 * use the in-process option names.
 */
export const createControlHandler =
  (emulator: () => SeamEmulator): ControlHandler =>
  (path, method, params) => {
    const e = emulator()
    const write = method !== 'GET'
    const id = (): string => {
      const value = params.id
      if (typeof value !== 'string' || value === '') throw invalidInput('id is required', 'id')
      return value
    }
    switch (`${write ? 'POST' : 'GET'} ${path}`) {
      case 'POST /_emulator/reset':
        e.reset()
        return {}
      case 'POST /_emulator/faults':
        e.setFaults(params as Partial<FaultOptions>)
        return {}
      case 'POST /_emulator/user_identity_delete_mode': {
        const mode = params.mode
        if (mode !== 'cascade' && mode !== 'documented') {
          throw invalidInput('mode must be cascade or documented', 'mode')
        }
        e.setUserIdentityDeleteMode(mode satisfies UserIdentityDeleteMode)
        return {}
      }
      case 'POST /_emulator/behaviours':
        e.setBehaviours(params as Partial<SeamBehaviours>)
        return { behaviours: e.behaviours }
      case 'GET /_emulator/behaviours':
        return { behaviours: e.behaviours }
      case 'POST /_emulator/delete_delay_ms':
        e.setDeleteDelayMs(
          typeof params.ms === 'number' ? params.ms : (params as unknown as DeleteDelays),
        )
        return {}
      case 'POST /_emulator/stick_deletion':
        e.stickDeletion(id())
        return {}
      case 'POST /_emulator/release_deletion':
        e.releaseDeletion(id())
        return {}
      case 'POST /_emulator/seed/identity_graph':
        return { identity_graph: e.seed.identityGraph(params as IdentityGraphShape) }
      case 'GET /_emulator/inspect/remaining': {
        const userIdentityId = params.user_identity_id
        if (typeof userIdentityId !== 'string') {
          throw invalidInput('user_identity_id is required', 'user_identity_id')
        }
        return { remaining: e.inspect.remainingFor(userIdentityId) }
      }
      case 'GET /_emulator/inspect/pending_deletions':
        return { pending_deletions: e.inspect.pendingDeletions() }
      case 'GET /_emulator/requests':
        return { requests: e.requests }
      default:
        throw new SeamApiError(404, 'not_found', `No such control endpoint: ${method} ${path}`)
    }
  }
