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
  deliveries(ids: string[]): Promise<{
    events: { resourceId: string; occurredAt: string }[]
    health: DeliveryHealth
  }>
  /** Moves the deployment's `arrivedAt` or `lostAt` to `atMs` (never back). */
  noteDelivery(kind: keyof DeliveryHealth, atMs: number): Promise<void>
}

/** Ids kept in DeletionState.deliveries.missing: enough to tell lost deliveries from late ones. */
export const MISSING_DELIVERIES_KEPT = 100
/**
 * How long, in the workflow's seconds, the deployment's delivery health counts: a delivery found lost
 * within it keeps every deletion on the poll schedule; without one, deliveries that came within it are
 * trusted, by every deletion, from its first stage.
 */
export const DELIVERY_MEMORY_SECONDS = 15 * 60
/** A stage task writes that deliveries came only when the record is older than this: one write a minute. */
export const ARRIVAL_NOTE_SECONDS = 60
/**
 * An item Seam finished this long ago (workflow seconds) without its delivery is lost, not late: well past
 * the moment a delivery takes, and past Svix's first retry (5 s after a failed attempt). Only a loss
 * makes the whole deployment poll; a delivery merely missing when a check confirmed its item makes only
 * its own deletion stop trusting, until it comes.
 */
export const DELIVERY_LOST_SECONDS = 10
/** The longest a stage task waits for the table (real ms): a table that hangs is one that did not answer. */
export const DELIVERY_LOG_TIMEOUT_MS = 2_000

/** The stage task's clock: real time, and ages in the workflow's seconds (a local time scale divides). */
export interface WorkflowClock {
  now(): Date
  /** Seconds of workflow time between two real instants (epoch ms). */
  seconds(fromMs: number, toMs: number): number
}

/** An item lost: its id, and Seam's time of finishing it (epoch ms). */
export interface LostDelivery {
  readonly id: string
  readonly seamDoneAt: number
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
  let looked: Awaited<ReturnType<DeliveryLog['deliveries']>>
  try {
    looked = await within(log.deliveries(ids), 'read')
  } catch (error) {
    logger.warn('The delivery log did not answer: the stage polls Seam instead', {
      error: messageOf(error),
    })
    return { deliveries: known, came: undefined, health: undefined, lost: [] }
  }
  const came = new Map(looked.events.map((e) => [e.resourceId, Date.parse(e.occurredAt)]))
  const nowMs = time.now().getTime()
  const lost: LostDelivery[] = []
  const doneAt: Record<string, number> = {}
  const missing = known.missing.filter((id) => !came.has(id))
  for (const id of missing) {
    const at = known.seam_done_at?.[id]
    if (at === undefined) continue
    if (time.seconds(at, nowMs) > DELIVERY_LOST_SECONDS) lost.push({ id, seamDoneAt: at })
    else doneAt[id] = at
  }
  return { deliveries: record(missing, doneAt), came, health: looked.health, lost }
}

/**
 * A check confirmed `ids` with Seam before their deliveries came (`doneAt`: Seam's time of each, where
 * events/list gave one). They join the missing ids, looked for again by each later task; one Seam
 * finished over DELIVERY_LOST_SECONDS ago is lost. Nothing is concluded when the table did not answer.
 */
export function confirmedBeforeDelivery(
  view: DeliveryView,
  ids: readonly string[],
  doneAt: ReadonlyMap<string, number>,
  time: WorkflowClock,
): { deliveries: Deliveries; lost: LostDelivery[] } {
  if (!view.came || ids.length === 0) return { deliveries: view.deliveries, lost: [...view.lost] }
  const nowMs = time.now().getTime()
  const times: Record<string, number> = { ...view.deliveries.seam_done_at }
  const lost: LostDelivery[] = [...view.lost]
  for (const id of ids) {
    const at = doneAt.get(id)
    if (at === undefined) continue
    if (time.seconds(at, nowMs) > DELIVERY_LOST_SECONDS) lost.push({ id, seamDoneAt: at })
    else times[id] = at
  }
  const missing = [...view.deliveries.missing, ...ids].slice(0, MISSING_DELIVERIES_KEPT)
  return { deliveries: record(missing, times), lost }
}

/**
 * Tells the deployment what this task saw — deliveries came (at most once a minute), some were lost
 * (logged `Delivery found lost`) — and returns its delivery health as it now stands, for
 * trustDeliveries. A write that fails is logged: the record only steers waits, never correctness.
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
      poll_for_seconds: DELIVERY_MEMORY_SECONDS,
      lost: lost.length,
      resource_id: first.id,
      seconds_since_seam_finished: time.seconds(first.seamDoneAt, nowMs),
    })
    await tryNote(log, 'lostAt', nowMs)
    health = { ...health, lostAt: nowMs }
  }
  return health
}

/**
 * Deliveries are trusted to come — the next Await is a safety net of the poll's longest wait — when
 * none of this deletion's is missing, and the deployment saw deliveries come within
 * DELIVERY_MEMORY_SECONDS and none lost. Unknown health (the table did not answer) trusts nothing.
 */
export function trustDeliveries(
  deliveries: Deliveries | undefined,
  health: DeliveryHealth | undefined,
  time: WorkflowClock,
): boolean {
  if (!deliveries || !health || deliveries.missing.length > 0) return false
  const nowMs = time.now().getTime()
  const recent = (at: number | undefined) =>
    at !== undefined && time.seconds(at, nowMs) <= DELIVERY_MEMORY_SECONDS
  return recent(health.arrivedAt) && !recent(health.lostAt)
}

function record(missing: string[], doneAt: Record<string, number>): Deliveries {
  const kept = Object.fromEntries(Object.entries(doneAt).filter(([id]) => missing.includes(id)))
  return Object.keys(kept).length > 0 ? { missing, seam_done_at: kept } : { missing }
}

async function tryNote(log: DeliveryLog, kind: keyof DeliveryHealth, atMs: number) {
  try {
    await within(log.noteDelivery(kind, atMs), 'write')
  } catch (error) {
    logger.warn('The delivery health was not written', { kind, error: messageOf(error) })
  }
}

/** `work`, or a rejection once DELIVERY_LOG_TIMEOUT_MS have passed. */
async function within<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`the delivery log's ${what} took over ${DELIVERY_LOG_TIMEOUT_MS} ms`)),
      DELIVERY_LOG_TIMEOUT_MS,
    )
  })
  try {
    return await Promise.race([work, timeout])
  } finally {
    clearTimeout(timer)
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
