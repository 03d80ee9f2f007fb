/**
 * What each deletion task does, given a Seam client: delete a stage's items, check on the pending ones.
 * The identity itself is the last stage (stages.ts). The Lambda handler in functions/deletion is a thin
 * adapter over these.
 *
 * The execution state is one JSON document passed from task to task (functions/contract/workflow.ts):
 * each task returns the whole document with its own stage's progress updated, so the state machine's
 * Choice states read `$.stages.<stage>.pending_count` and `.checks_left`, and its last state reads each
 * stage's `deleted` into the summary.
 */
import type {
  DeletionState,
  DeletionSummary,
  StageItem,
  StageName,
  StageProgress,
} from '../contract/workflow.js'
import type { SeamClient } from '../seam/index.js'
import { isNotFound, isSeamError, isTransient } from '../seam/index.js'
import { forEachLimited } from './concurrency.js'
import {
  confirmedBeforeDelivery,
  type DeliveryLog,
  lookUpDeliveries,
  recordDeliveries,
  trustDeliveries,
} from './deliveries.js'
import { awaitSeconds, nextPoll, PACE_TOLERANCE_SECONDS, type PollPolicy } from './poll.js'
import { type Confirmation, previousStage, type StageDefinition, splitListed } from './stages.js'

export type { DeletionState, DeletionSummary, DeliveryLog, StageProgress }

/** How many deletes of one stage run at once: fast for big lists, gentle on Seam's rate limits. */
export const DELETE_CONCURRENCY = 4
/** Events are read from this long before the stage began, so clock skew with Seam loses none. */
export const EVENTS_CLOCK_SKEW_MS = 60_000
/** Seam's events/list returns at most 500 events and has no pagination. */
export const EVENTS_LIMIT = 500
/** With this few unconfirmed items left after a capped events read, ask per item instead. */
const PER_ID_EVENT_QUERIES_MAX = 5
/**
 * From this check on, what events have not confirmed is also looked up in the stage's list (events can
 * be missed). Earlier checks trust events alone: an unconfirmed item there is almost always just not done
 * yet, and a list call per check would double the Seam requests of every wait. A check after a trusted
 * Await lists at once (checkStage).
 */
const LIST_FALLBACK_FROM_CHECK = 3

export interface StepOptions {
  /** Real time now (tests move it). */
  readonly now?: () => Date
  /**
   * Locally, waits can run faster than real time (local/runtime.ts `waitScale`, e.g. 0.02); the
   * durations the workflow reasons about — time spent in a stage, Seam's pace — are then divided by it so
   * they are in the state machine's seconds. Always 1 in AWS.
   */
  readonly timeScale?: number
  /**
   * A delete of a stage confirmed by a lookup (the identity) looks once right after it: gone, and the
   * stage is done without a wait (StageTaskEvent.look_after_delete).
   */
  readonly lookAfterDelete?: boolean
  /**
   * Seam's webhooks resume the stages (StageTaskEvent.webhooks): delivered events confirm their items
   * without a Seam call, and while deliveries are trusted (deliveries.ts trustDeliveries) the next Await
   * is a safety net longer than the poll's wait (poll.ts awaitSeconds).
   */
  readonly deliveries?: DeliveryLog
}

/** Real clock and time scale, and the workflow's view of elapsed time. */
function clock(options: StepOptions) {
  const now = options.now ?? (() => new Date())
  const scale = options.timeScale && options.timeScale > 0 ? options.timeScale : 1
  return {
    now,
    /** Seconds of workflow time between two real instants. */
    seconds: (from: number, to: number) => (to - from) / 1000 / scale,
    /** `now`, as far from `start` in workflow time as it is in scaled real time. */
    workflowNow: (start: Date) =>
      new Date(start.getTime() + (now().getTime() - start.getTime()) / scale),
  }
}

/** List everything of the stage that remains for the identity and delete each item. */
export async function deleteStage(
  seam: SeamClient,
  stage: StageDefinition,
  state: DeletionState,
  policy: PollPolicy,
  options: StepOptions = {},
): Promise<DeletionState> {
  const time = clock(options)
  const startedAt = time.now()
  // A list or a delete Seam keeps refusing with 429/5xx (past the Seam module's retries) does not end the
  // task: the stage keeps it for its next check, so only the stage's own budget (its checks and time)
  // can end a deletion on a busy Seam, never a run of 429s longer than the task's retrier.
  const listed = stage.known
    ? stage.known(state.user_identity_id)
    : await unlessRefused(() => stage.list(seam, state.user_identity_id))
  const unlisted = listed === undefined
  // What Seam is already deleting is pending, not deleted again.
  const { toDelete: items, beingDeleted } = splitListed(listed ?? [])
  const { done, gone, refused } = await removeAll(seam, stage, items)
  const deletesDoneAt = time.now()
  const toDelete = refused.map((r) => r.item)
  // Gone at its delete needs no confirming — unless confirming is a lookup: Seam may well answer
  // not found to deleting an identity it is already deleting, so one lookup settles it.
  let pending = !stage.confirmation
    ? []
    : stage.confirmation === 'lookup'
      ? [...beingDeleted, ...done, ...gone]
      : [...beingDeleted, ...done]
  if (stage.confirmation === 'lookup' && options.lookAfterDelete && pending.length > 0) {
    // Refused (429/5xx), the look tells nothing: the items stay pending, and the checks look.
    const looked = await unlessRefused(() => stage.list(seam, state.user_identity_id))
    if (looked) {
      const listed = new Set(looked.map((item) => item.id))
      pending = pending.filter((item) => listed.has(item.id))
    }
  }
  const poll = nextPoll(policy, 0, startedAt, time.workflowNow(startedAt))
  // The stage before went on because its deliveries all came (a check never leaves items pending):
  // their events' times give Seam's pace, read in the same lookup as the missing deliveries.
  const resumedIds = (previousProgress(state, stage)?.pending ?? []).map((item) => item.id)
  const log = options.deliveries
  const view = log && (await lookUpDeliveries(state, log, resumedIds, time))
  const paced = withResumedPace(state, stage, startedAt, time.seconds, view?.came)
  const deliveries = view?.deliveries
  const health =
    log && view && (await recordDeliveries(log, view, view.lost, time, at(state, stage)))
  const waitSeconds = firstWait(policy, paced.seam_latency_seconds, Math.max(1, poll.waitSeconds))
  const trusted = trustDeliveries(deliveries, health, time)
  return withProgress(deliveries ? { ...paced, deliveries } : paced, stage.name, {
    started_at: startedAt.toISOString(),
    deletes_done_at: deletesDoneAt.toISOString(),
    ...(toDelete.length > 0 || unlisted ? { refusals: true } : {}),
    // A listed item counts even if it went between the list and its delete: it was the identity's. A
    // known one (the identity) that is not found was gone before this stage.
    deleted: stage.known ? done.length : (listed?.length ?? 0),
    pending,
    ...(toDelete.length > 0 ? { to_delete: toDelete } : {}),
    ...(unlisted ? { unlisted } : {}),
    pending_count: pending.length + toDelete.length + (unlisted ? 1 : 0),
    checks: 0,
    wait_seconds: waitSeconds,
    await_seconds: awaitSeconds(
      policy,
      waitSeconds,
      startedAt,
      time.workflowNow(startedAt),
      trusted,
    ),
    // At least one check follows the deletes, even when they used up the stage's time: the check is
    // what confirms them, or words what is stuck.
    checks_left: true,
  })
}

/**
 * Seam's pace, taken from the stage before `stage` when Seam's webhooks resumed it: it left with items
 * still pending (a check never lets that happen). From its last delete call to the last of their
 * delivered events (Seam's times, read from the delivery log), or, without them, to the moment this
 * stage began. Measured, like a check's, only when its deletes all went through at once.
 */
function withResumedPace(
  state: DeletionState,
  stage: StageDefinition,
  startedAt: Date,
  seconds: (from: number, to: number) => number,
  came: ReadonlyMap<string, number> | undefined,
): DeletionState {
  const previous = previousProgress(state, stage)
  if (
    !previous ||
    previous.pending.length === 0 ||
    previous.refusals ||
    !previous.deletes_done_at
  ) {
    return state
  }
  const times = previous.pending.map((item) => came?.get(item.id) ?? Number.NaN)
  const end = times.every(Number.isFinite) ? Math.max(...times) : startedAt.getTime()
  const pace = seconds(Date.parse(previous.deletes_done_at), end)
  return Number.isFinite(pace) && pace > 0 ? withPace(state, pace) : state
}

/** Seam's pace measured now: the next stage's first wait. */
function withPace(state: DeletionState, pace: number): DeletionState {
  return { ...state, seam_latency_seconds: pace }
}

/** The progress of the stage before `stage`, if it ran. */
export function previousProgress(
  state: DeletionState,
  stage: StageDefinition,
): StageProgress | undefined {
  const previous = previousStage(stage)
  return previous ? state.stages?.[previous.name] : undefined
}

/** Where a stage task is, for its log lines. */
function at(state: DeletionState, stage: StageDefinition) {
  return { user_identity_id: state.user_identity_id, stage: stage.name }
}

/** The first wait of a stage: Seam's observed pace when known, else the policy's. */
function firstWait(policy: PollPolicy, pace: number | undefined, fallback: number): number {
  if (pace === undefined || !Number.isFinite(pace) || pace <= 0) return fallback
  return Math.min(policy.maxWaitSeconds, Math.max(1, Math.ceil(pace - PACE_TOLERANCE_SECONDS)))
}

/**
 * Which pending items has Seam finished deleting? Events first (one events/list call for the whole
 * stage); whatever they do not confirm is looked up in the stage's list, since events can be missed:
 * an item no longer listed is gone. A stage Seam sends no event for (the identity) is looked up at
 * every check.
 */
export async function checkStage(
  seam: SeamClient,
  stage: StageDefinition,
  state: DeletionState,
  policy: PollPolicy,
  options: StepOptions = {},
): Promise<DeletionState> {
  const time = clock(options)
  const progress = state.stages?.[stage.name]
  if (!progress)
    throw new Error(`Check ${stage.title}: the stage has no progress in the execution state`)
  const confirmation = eventsOf(stage)
  const pending = new Map(progress.pending.map((item) => [item.id, item]))
  // A list Seam refused last time: list now (refused again: the next check will).
  let again = progress.to_delete ?? []
  let listedNow = 0
  let unlisted = false
  if (progress.unlisted) {
    const listed = await unlessRefused(() => stage.list(seam, state.user_identity_id))
    unlisted = listed === undefined
    const split = splitListed(listed ?? [])
    for (const item of split.beingDeleted) pending.set(item.id, item)
    again = split.toDelete
    listedNow = listed?.length ?? 0
  }
  // Deletes Seam refused with 429/5xx last time: try them again first.
  const retried = await removeAll(seam, stage, again)
  if (stage.confirmation) for (const item of retried.done) pending.set(item.id, item)
  const toDelete = retried.refused.map((r) => r.item)
  const startedAt = Date.parse(progress.started_at)
  let latestConfirmation = 0
  let capped = false
  // Events Seam's webhooks delivered confirm their items without asking Seam.
  const log = options.deliveries
  const view =
    log && (await lookUpDeliveries(state, log, confirmation ? [...pending.keys()] : [], time))
  let timeless = false
  if (confirmation) {
    for (const [id, at] of view?.came ?? []) {
      if (!pending.delete(id)) continue
      // Seam's time of the event, as a check reads it from events/list: the pace counts it alike.
      if (Number.isFinite(at)) latestConfirmation = Math.max(latestConfirmation, at)
      else timeless = true
    }
  }
  const askedSeam = [...pending.keys()]
  // When Seam's events say each item was done (epoch ms), for telling a late delivery from a lost one.
  const doneAt = new Map<string, number>()

  // Confirmations Seam refuses to read (429/5xx) are simply not known this time: the next check asks.
  if (confirmation && pending.size > 0)
    await unlessRefused(async () => {
      const since = new Date(startedAt - EVENTS_CLOCK_SKEW_MS).toISOString()
      const confirm = (events: readonly object[]) => {
        for (const event of events) {
          const fields = event as Record<string, unknown>
          const id = fields[confirmation.idField]
          if (typeof id !== 'string' || !pending.delete(id)) continue
          const at = Date.parse(String(fields.occurred_at ?? fields.created_at ?? ''))
          if (Number.isFinite(at)) {
            latestConfirmation = Math.max(latestConfirmation, at)
            doneAt.set(id, at)
          }
        }
      }
      const events = await seam.events.list({
        since,
        event_type: confirmation.eventType,
        limit: EVENTS_LIMIT,
      })
      confirm(events)
      capped = events.length >= EVENTS_LIMIT
      const filter = confirmation.perIdFilter
      if (capped && filter && pending.size > 0 && pending.size <= PER_ID_EVENT_QUERIES_MAX) {
        for (const id of [...pending.keys()]) {
          confirm(
            await seam.events.list({ since, event_type: confirmation.eventType, [filter]: id }),
          )
        }
      }
    })
  const checks = progress.checks + 1
  const lastChance = !nextPoll(
    policy,
    checks,
    new Date(startedAt),
    time.workflowNow(new Date(startedAt)),
  ).checksLeft
  // After a trusted Await (it ran out, or failed): the deliveries did not all come within the poll's
  // longest wait, so an event Seam never sent is as likely as a slow Seam — the list settles it now.
  const afterSafetyNet = (progress.await_seconds ?? 0) > progress.wait_seconds
  if (
    pending.size > 0 &&
    (!confirmation || capped || lastChance || afterSafetyNet || checks >= LIST_FALLBACK_FROM_CHECK)
  ) {
    await unlessRefused(async () => {
      const listed = new Set((await stage.list(seam, state.user_identity_id)).map((i) => i.id))
      for (const id of [...pending.keys()]) if (!listed.has(id)) pending.delete(id)
    })
  }

  const stillPending = [...pending.values()]
  const poll = nextPoll(policy, checks, new Date(startedAt), time.workflowNow(new Date(startedAt)))
  const waitingFor = stillPending.length + toDelete.length + (unlisted ? 1 : 0)
  const stuck =
    waitingFor > 0 && !poll.checksLeft
      ? stuckMessage(
          stage,
          state.user_identity_id,
          stillPending,
          toDelete,
          time.seconds(startedAt, time.now().getTime()),
          checks,
          unlisted,
        )
      : undefined
  // Seam's pace: from the last delete call to the last confirming event. Measured only on a stage whose
  // deletes all went through at once (a delete retried later would be confirmed later), and whose
  // confirmations all carry their time.
  const deletesDoneAt = Date.parse(progress.deletes_done_at ?? progress.started_at)
  const pace =
    stillPending.length + toDelete.length === 0 &&
    latestConfirmation > 0 &&
    !progress.refusals &&
    !timeless
      ? time.seconds(deletesDoneAt, latestConfirmation)
      : undefined
  // Confirmed by Seam before their delivery came: missing (this deletion trusts no Await until they
  // come), or lost (neither does the deployment).
  const still = new Set(stillPending.map((item) => item.id))
  const early = view && confirmation ? askedSeam.filter((id) => !still.has(id)) : []
  const seen = view && confirmedBeforeDelivery(view, early, doneAt, time)
  const deliveries = seen?.deliveries
  const health =
    log && view && seen && (await recordDeliveries(log, view, seen.lost, time, at(state, stage)))
  const trusted = trustDeliveries(deliveries, health, time)
  const { to_delete: _retried, unlisted: _listed, ...rest } = progress
  const measured = pace === undefined || pace <= 0 ? state : withPace(state, pace)
  const next = withProgress(deliveries ? { ...measured, deliveries } : measured, stage.name, {
    ...rest,
    deleted: progress.deleted + listedNow,
    pending: stillPending,
    ...(toDelete.length > 0 ? { to_delete: toDelete } : {}),
    ...(unlisted ? { unlisted } : {}),
    pending_count: waitingFor,
    checks,
    wait_seconds: poll.waitSeconds,
    await_seconds: awaitSeconds(
      policy,
      poll.waitSeconds,
      new Date(startedAt),
      time.workflowNow(new Date(startedAt)),
      trusted && poll.checksLeft,
    ),
    checks_left: poll.checksLeft,
    ...(stuck ? { stuck } : {}),
  })
  return next
}

/** The event that confirms the stage's deletes, if Seam sends one. */
function eventsOf(stage: StageDefinition): Confirmation | undefined {
  return typeof stage.confirmation === 'object' ? stage.confirmation : undefined
}

function stuckMessage(
  stage: StageDefinition,
  userIdentityId: string,
  unconfirmed: readonly StageItem[],
  refused: readonly StageItem[],
  elapsedSeconds: number,
  checks: number,
  unlisted = false,
): string {
  const seconds = Math.round(elapsedSeconds)
  const parts: string[] = []
  const confirmation = eventsOf(stage)
  if (unconfirmed.length > 0 && confirmation) {
    parts.push(
      `Seam has not confirmed that ${unconfirmed.length} of the ${stage.title} ` +
        `${unconfirmed.length === 1 ? 'was' : 'were'} ${stage.verb} ` +
        `(${confirmation.eventType} not received, still listed): ${describeItems(unconfirmed)}`,
    )
  } else if (unconfirmed.length > 0) {
    parts.push(
      `Seam has not finished deleting the ${stage.title} ${describeItems(unconfirmed)} ` +
        '(Seam sends no event for it, and it is still found)',
    )
  }
  if (unlisted) {
    parts.push(`Seam kept refusing (429/5xx) to list the ${stage.title}`)
  }
  if (refused.length > 0) {
    parts.push(
      `Seam kept refusing (429/5xx) to delete ${refused.length} of the ${stage.title}: ${describeItems(refused)}`,
    )
  }
  return (
    `Stage ${stage.name}, after ${seconds} s and ${checks} checks: ${parts.join('; ')}. ` +
    `Check in Seam Console why they are stuck (an offline ACS system or device is the usual cause), ` +
    `then DELETE /user-identities/${userIdentityId} again: finished stages are quick no-ops.`
  )
}

function describeItems(items: readonly StageItem[]): string {
  const shown = items
    .slice(0, 20)
    .map((item) =>
      item.acs_system_id ? `${item.id} (acs_system_id ${item.acs_system_id})` : item.id,
    )
  const more = items.length > shown.length ? ` and ${items.length - shown.length} more` : ''
  return `${shown.join(', ')}${more}`
}

/**
 * Delete each item, a few at a time. Not found means already gone (a retry or a re-run is harmless); a
 * delete Seam keeps refusing with 429/5xx is handed back to be tried again; anything else fails the task.
 */
async function removeAll(
  seam: SeamClient,
  stage: StageDefinition,
  items: readonly StageItem[],
): Promise<{
  done: StageItem[]
  gone: StageItem[]
  refused: { item: StageItem; error: unknown }[]
}> {
  const done: StageItem[] = []
  const gone: StageItem[] = []
  const refused: { item: StageItem; error: unknown }[] = []
  await forEachLimited(items, DELETE_CONCURRENCY, async (item) => {
    try {
      await stage.remove(seam, item.id)
      done.push(item)
    } catch (error) {
      if (isNotFound(error)) gone.push(item)
      else if (isTransient(error)) refused.push({ item, error })
      else throw error
    }
  })
  return { done, gone, refused }
}

/**
 * What `read` returns, or undefined when Seam kept refusing it: answered 429/5xx after the client's
 * retries. A Seam that does not answer at all still fails the task (the stage's time bound covers it).
 */
async function unlessRefused<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read()
  } catch (error) {
    if (isTransient(error) && isSeamError(error) && error.status !== undefined) return undefined
    throw error
  }
}

function withProgress(
  state: DeletionState,
  name: StageName,
  progress: StageProgress,
): DeletionState {
  return { ...state, stages: { ...state.stages, [name]: progress } }
}
