/**
 * Seam's webhook deliveries as the stage tasks see them: which of a deletion's items were delivered,
 * which Seam confirmed before their delivery came (late, or lost), and whether the next Await may trust
 * deliveries to come (poll.ts awaitSeconds). What a deletion saw is in its state
 * (DeletionState.deliveries); what the whole deployment saw lately is one record of the coordination
 * table (Coordination.deliveries / noteDelivery: `deliveries#health`). The table is a shortcut, never the
 * authority: when it does not answer, nothing is trusted and the stage polls Seam.
 */
import type { DeletionState, Deliveries } from '../contract/workflow.js'
import { logger } from '../telemetry/powertools.js'
import type { DeliveryHealth } from './coordination.js'

/** What the stage tasks read and write of deliveries (Coordination, the coordination table). */
export interface DeliveryLog {
  /**
   * In one lookup: the delivered events confirming any of `ids`, each with Seam's time of it
   * (ISO 8601), and the deployment's delivery health.
   */
  deliveries(
    ids: string[],
    abortSignal?: AbortSignal,
  ): Promise<{
    events: { resourceId: string; occurredAt: string }[]
    health: DeliveryHealth
  }>
  /** Moves the deployment's `arrivedAt` or `lostAt` to `atMs` (never back). */
  noteDelivery(kind: keyof DeliveryHealth, atMs: number, abortSignal?: AbortSignal): Promise<void>
}

/** Ids kept in DeletionState.deliveries.missing: enough to tell lost deliveries from late ones. */
export const MISSING_DELIVERIES_KEPT = 100
/**
 * How long (workflow seconds) deliveries that came vouch for those to come: within it, and with no loss
 * remembered, every deletion trusts them from its first stage.
 */
export const ARRIVAL_MEMORY_SECONDS = 15 * 60
/**
 * How long (workflow seconds) a delivery found lost keeps every deletion on the poll schedule: longer
 * than arrivals vouch, so a deployment that loses deliveries does not go back to trusting them merely
 * because its deletions are sparse.
 */
export const LOSS_MEMORY_SECONDS = 60 * 60
/** A stage task writes that deliveries came only when the record is older than this: about one write a minute. */
const ARRIVAL_NOTE_SECONDS = 60
/**
 * An item a check of ours confirmed with Seam is lost, not late, when its delivery has not come this long
 * (workflow seconds, by the stage tasks' own clock) after that check: far past the moment a delivery
 * takes, and past Svix's first retry 5 s after an attempt that failed fast. Only a loss makes the whole
 * deployment poll; a delivery merely missing makes only its own deletion stop trusting, until it comes.
 */
export const DELIVERY_LOST_SECONDS = 10
/**
 * At the check itself, an item whose Seam event is older than DELIVERY_LOST_SECONDS plus this much is
 * lost at once (a trusted Await that ran out finds them so): the margin covers Seam's clock and ours
 * disagreeing.
 */
export const SEAM_CLOCK_TOLERANCE_SECONDS = 10
/** The longest a stage task waits for the table (real ms): a table that hangs is one that did not answer. */
export const DELIVERY_LOG_TIMEOUT_MS = 2_000

/** The stage task's clock: real time, and ages in the workflow's seconds (a local time scale divides). */
export interface WorkflowClock {
  now(): Date
  /** Seconds of workflow time between two real instants (epoch ms). */
  seconds(fromMs: number, toMs: number): number
}

/** An item lost: its id, and since when it is known done without its delivery (epoch ms). */
export interface LostDelivery {
  readonly id: string
  readonly doneSince: number
}

/** What one stage task looked up. `came` and `health` are undefined when the table did not answer. */
export interface DeliveryView {
  /** The deletion's own record, its missing ids looked for again. */
  readonly deliveries: Deliveries
  /** The delivered events of the ids looked up: Seam's time of each (epoch ms, NaN when unknown). */
  readonly came: ReadonlyMap<string, number> | undefined
  readonly health: DeliveryHealth | undefined
  /** Missing ids whose delivery is now over DELIVERY_LOST_SECONDS late. */
  readonly lost: readonly LostDelivery[]
  /** When the lookup was made (epoch ms): a delivery after it is not yet seen. */
  readonly lookedAtMs: number
}

const NONE: Deliveries = { missing: [] }

/**
 * The deletion's missing deliveries looked for again, in one lookup with `alsoIds` (whose delivered
 * events `came` holds too) and the deployment's delivery health.
 */
export async function lookUpDeliveries(
  state: DeletionState,
  log: DeliveryLog,
  alsoIds: readonly string[],
  time: WorkflowClock,
): Promise<DeliveryView> {
  const known = state.deliveries ?? NONE
  const ids = [...new Set([...known.missing, ...alsoIds])]
  const lookedAtMs = time.now().getTime()
  let looked: Awaited<ReturnType<DeliveryLog['deliveries']>>
  try {
    looked = await within((signal) => log.deliveries(ids, signal), 'read')
  } catch (error) {
    logger.warn('The delivery log did not answer: the stage polls Seam instead', {
      error: messageOf(error),
    })
    return { deliveries: known, came: undefined, health: undefined, lost: [], lookedAtMs }
  }
  const came = new Map(looked.events.map((e) => [e.resourceId, Date.parse(e.occurredAt)]))
  const lost: LostDelivery[] = []
  const confirmedAt: Record<string, number> = {}
  const missing = known.missing.filter((id) => !came.has(id))
  for (const id of missing) {
    const at = known.confirmed_at?.[id]
    if (at === undefined) continue
    if (time.seconds(at, lookedAtMs) > DELIVERY_LOST_SECONDS) lost.push({ id, doneSince: at })
    else confirmedAt[id] = at
  }
  return { deliveries: record(missing, confirmedAt), came, health: looked.health, lost, lookedAtMs }
}

/**
 * A check confirmed `ids` with Seam (its events, or its list) that were not delivered at its lookup.
 * They join the missing ids, looked for again by each later task, with the moment the check knew them
 * done (now); one whose Seam event (`seamDoneAt`) is over DELIVERY_LOST_SECONDS plus
 * SEAM_CLOCK_TOLERANCE_SECONDS older than the lookup is lost already. When the table did not answer
 * they are missing all the same: the next task looks for them.
 */
export function confirmedBeforeDelivery(
  view: DeliveryView,
  ids: readonly string[],
  seamDoneAt: ReadonlyMap<string, number>,
  time: WorkflowClock,
): { deliveries: Deliveries; lost: LostDelivery[] } {
  const lost: LostDelivery[] = [...view.lost]
  if (ids.length === 0) return { deliveries: view.deliveries, lost }
  const nowMs = time.now().getTime()
  const confirmedAt: Record<string, number> = { ...view.deliveries.confirmed_at }
  for (const id of ids) {
    const at = seamDoneAt.get(id)
    const age = at === undefined ? 0 : time.seconds(at, view.lookedAtMs)
    if (at !== undefined && age > DELIVERY_LOST_SECONDS + SEAM_CLOCK_TOLERANCE_SECONDS) {
      lost.push({ id, doneSince: at })
    } else confirmedAt[id] = nowMs
  }
  const missing = [...new Set([...view.deliveries.missing, ...ids])].slice(
    0,
    MISSING_DELIVERIES_KEPT,
  )
  return { deliveries: record(missing, confirmedAt), lost }
}

/**
 * Tells the deployment what this task saw — deliveries came (about once a minute), some were lost (one
 * warning, `Delivery found lost`, naming them; each is reported once) — and returns its delivery health
 * as it now stands, for trustDeliveries. A write that fails is logged: the record only steers waits,
 * never correctness.
 */
export async function recordDeliveries(
  log: DeliveryLog,
  view: DeliveryView,
  lost: readonly LostDelivery[],
  time: WorkflowClock,
  context: { readonly user_identity_id: string; readonly stage: string },
): Promise<DeliveryHealth | undefined> {
  if (!view.health) return undefined
  let health = view.health
  const nowMs = time.now().getTime()
  const last = health.arrivedAt
  if (
    (view.came?.size ?? 0) > 0 &&
    (last === undefined || time.seconds(last, nowMs) >= ARRIVAL_NOTE_SECONDS)
  ) {
    await tryNote(log, 'arrivedAt', nowMs)
    health = { ...health, arrivedAt: nowMs }
  }
  const first = lost[0]
  if (first) {
    logger.warn('Delivery found lost: every deletion polls Seam for a while', {
      ...context,
      poll_for_seconds: LOSS_MEMORY_SECONDS,
      lost: lost.length,
      resource_ids: lost.map((l) => l.id),
      seconds_undelivered: time.seconds(first.doneSince, nowMs),
    })
    await tryNote(log, 'lostAt', nowMs)
    health = { ...health, lostAt: nowMs }
  }
  return health
}

/**
 * Deliveries are trusted to come — the next Await is a safety net of the poll's longest wait — when
 * none of this deletion's is missing, and the deployment saw deliveries come within
 * ARRIVAL_MEMORY_SECONDS and none found lost within LOSS_MEMORY_SECONDS. Unknown health (the table did
 * not answer) trusts nothing.
 */
export function trustDeliveries(
  deliveries: Deliveries | undefined,
  health: DeliveryHealth | undefined,
  time: WorkflowClock,
): boolean {
  if (!deliveries || !health || deliveries.missing.length > 0) return false
  const nowMs = time.now().getTime()
  const within = (at: number | undefined, seconds: number) =>
    at !== undefined && time.seconds(at, nowMs) <= seconds
  return (
    within(health.arrivedAt, ARRIVAL_MEMORY_SECONDS) && !within(health.lostAt, LOSS_MEMORY_SECONDS)
  )
}

function record(missing: string[], confirmedAt: Record<string, number>): Deliveries {
  const kept = Object.fromEntries(
    Object.entries(confirmedAt).filter(([id]) => missing.includes(id)),
  )
  return Object.keys(kept).length > 0 ? { missing, confirmed_at: kept } : { missing }
}

async function tryNote(log: DeliveryLog, kind: keyof DeliveryHealth, atMs: number) {
  try {
    await within((signal) => log.noteDelivery(kind, atMs, signal), 'write')
  } catch (error) {
    logger.warn('The delivery health was not written', { kind, error: messageOf(error) })
  }
}

/**
 * `work`, given a signal that aborts it once DELIVERY_LOG_TIMEOUT_MS have passed, when it is rejected
 * whether or not the call heeds the signal (a hung call is cancelled, not left running).
 */
async function within<T>(work: (signal: AbortSignal) => Promise<T>, what: string): Promise<T> {
  const controller = new AbortController()
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new Error(`the delivery log's ${what} took over ${DELIVERY_LOG_TIMEOUT_MS} ms`)
      controller.abort(error)
      reject(error)
    }, DELIVERY_LOG_TIMEOUT_MS)
  })
  try {
    return await Promise.race([work(controller.signal), timeout])
  } finally {
    clearTimeout(timer)
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
