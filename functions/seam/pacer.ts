/**
 * The pace of one Lambda instance's Seam requests: a token bucket holding one token, refilled at
 * `perSecond`, so requests leave at most every 1000 / perSecond ms. A request over the pace waits its turn
 * (in FIFO order) instead of being sent into a 429. A 429 pauses the bucket for its Retry-After: the
 * requests queued behind it wait too, instead of each earning its own 429.
 *
 * Deployment-wide, the infrastructure gives every instance of a Seam-calling function
 * budget ÷ (instances that can run at once), so that the instances together stay within the workspace's
 * Seam budget with no shared state (infra/capacity.ts). The bulk task is the exception: its instances
 * share one count in the coordination table (functions/bulk/bulk-task.ts takeSharedSlot).
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import { realSleep } from './retry-policy.js'

export interface SeamPacer {
  /** Requests per second this pacer lets through. */
  readonly perSecond: number
  /** Resolves when the next request may be sent (now, or after its turn). */
  take(): Promise<void>
  /** No request leaves before `ms` from now (Seam's Retry-After). */
  pause(ms: number): void
}

export interface PacerClock {
  now?: () => number
  sleep?: (ms: number) => Promise<void>
}

/** Environment variable holding this instance's pace (requests per second); unset = no pacing. */
export const SEAM_INSTANCE_REQUESTS_PER_SECOND_ENV = 'SEAM_INSTANCE_REQUESTS_PER_SECOND'

/**
 * Longest pause a Retry-After may impose on the bucket: a bound against a nonsensical header. (The retry
 * policy caps its own wait far lower, at maxRetryAfterMs; the pause holds only this instance's queue.)
 */
const MAX_PAUSE_MS = 30_000

export function createSeamPacer(perSecond: number, clock: PacerClock = {}): SeamPacer {
  if (!Number.isFinite(perSecond) || perSecond <= 0) {
    throw new RangeError(
      `A Seam pace must be a positive number of requests per second, got ${perSecond}`,
    )
  }
  const now = clock.now ?? Date.now
  const sleep = clock.sleep ?? realSleep
  const intervalMs = 1000 / perSecond
  // The earliest time the next request may leave, and the end of a pause asked by Seam.
  let nextSlot = Number.NEGATIVE_INFINITY
  let pausedUntil = Number.NEGATIVE_INFINITY
  return {
    perSecond,
    async take() {
      for (;;) {
        const t = now()
        const slot = Math.max(t, nextSlot, pausedUntil)
        nextSlot = slot + intervalMs
        if (slot > t) await sleep(slot - t)
        // A pause that began while this request waited holds it too; its slot is given up.
        if (pausedUntil <= now()) return
      }
    },
    pause(ms) {
      if (!(ms > 0)) return
      pausedUntil = Math.max(pausedUntil, now() + Math.min(ms, MAX_PAUSE_MS))
    },
  }
}

const instancePacers = new AsyncLocalStorage<SeamPacer>()

/**
 * Runs `fn` as one Lambda instance whose pace is `pacer`. Only the local runtime needs it: there, every
 * function's instances share one process, so each simulated instance brings its own pacer.
 */
export function withSeamPacer<T>(pacer: SeamPacer | undefined, fn: () => T): T {
  return pacer ? instancePacers.run(pacer, fn) : fn()
}

/** The pacer of the simulated instance running now (withSeamPacer), if any. */
export function currentSeamPacer(): SeamPacer | undefined {
  return instancePacers.getStore()
}

/** This process's pacer, from SEAM_INSTANCE_REQUESTS_PER_SECOND; undefined when unset. */
export function pacerFromEnvironment(
  env: Record<string, string | undefined>,
): SeamPacer | undefined {
  const raw = env[SEAM_INSTANCE_REQUESTS_PER_SECOND_ENV]?.trim()
  if (!raw) return undefined
  const perSecond = Number(raw)
  if (!Number.isFinite(perSecond) || perSecond <= 0) {
    throw new RangeError(
      `${SEAM_INSTANCE_REQUESTS_PER_SECOND_ENV} must be a positive number, got "${raw}": it is set by the stack from the seamRequestsPerSecond context.`,
    )
  }
  return createSeamPacer(perSecond)
}
