/**
 * The deletion workflow's state document, described once. The state machine passes one JSON document
 * from task to task:
 *   execution input   { user_identity_id }
 *   each task's input { action, stage, policy, state, task_entered_at }   (StageTaskEvent)
 *   each task's output the document, its own stage's progress updated (DeletionState)
 *   `Deleted` output  { user_identity_id, summary }      (the execution's output on SUCCEEDED)
 * Types come from these schemas; the construct's JSONPaths come from `statePath` over the same type, so
 * renaming a field is a compile error there; state names come from `stateName`, and the status route
 * reads them back with `stageOfState`, its inverse.
 */
import { z } from 'zod'

/** Every stage the state machine runs. Their order is the stage table's (functions/core/stages.ts). */
export const STAGE_NAMES = [
  'client_sessions',
  'acs_credentials',
  'acs_users',
  'enrollment_automations',
  'phones',
  'user_identity',
] as const
export const stageNameSchema = z.enum(STAGE_NAMES)
export type StageName = z.infer<typeof stageNameSchema>

/** A Seam user identity id: a UUID (Seam answers invalid_input to anything else). */
export const userIdentityIdSchema = z
  .string()
  .regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/)

/** What StartExecution is given: the same for every attempt, so StartExecution stays idempotent. */
export const executionInputSchema = z.object({ user_identity_id: userIdentityIdSchema })
export type ExecutionInput = z.infer<typeof executionInputSchema>

/** One thing a stage deletes: its id, plus the ACS system it lives in where Seam says so (messages). */
export const stageItemSchema = z.object({
  id: z.string().min(1),
  acs_system_id: z.string().optional(),
})
export type StageItem = z.infer<typeof stageItemSchema>

const count = z.number().int().min(0)

export const stageProgressSchema = z.object({
  /** When the stage began deleting (ISO 8601); events are read from shortly before it. */
  started_at: z.string().min(1),
  /** When its delete calls were done (ISO 8601): Seam's pace is measured from here. */
  deletes_done_at: z.string().optional(),
  /** Some delete had to be retried by a check: this stage does not measure Seam's pace. */
  refusals: z.boolean().optional(),
  /** Items this stage deleted or deactivated (including ones Seam had already begun deleting). */
  deleted: count,
  /** Items whose deletion Seam has not confirmed yet. */
  pending: z.array(stageItemSchema),
  /**
   * Items whose delete call Seam kept refusing with 429/5xx (after the Seam module's own retries): the
   * next check calls delete again. Keeping them here instead of failing the task keeps the stage's
   * progress, and so its count, when Seam is busy.
   */
  to_delete: z.array(stageItemSchema).optional(),
  /**
   * Seam kept refusing (429/5xx) the stage's list: what to delete is not known yet, and the next check
   * lists and deletes it. Counts as one item in pending_count.
   */
  unlisted: z.boolean().optional(),
  /** pending + to_delete (+ 1 while unlisted): what the stage still waits for (its `done?` Choice reads it). */
  pending_count: count,
  /** Checks done so far. */
  checks: count,
  /** Seconds the next Wait state waits (a Wait's SecondsPath takes whole seconds). */
  wait_seconds: count,
  /**
   * With Seam's webhooks: seconds the next `Await <stage>` waits for the events before it checks —
   * wait_seconds; while deliveries are trusted to arrive (deliveries.ts trustDeliveries), a safety net
   * of the poll's longest wait plus a second (poll.ts awaitSeconds); never past the stage's time.
   * Absent from states written before it.
   */
  await_seconds: count.optional(),
  /** False once the stage may not check again (its `done?` Choice reads it). */
  checks_left: z.boolean(),
  /** When pending items remain and no checks are left: what is stuck and what an operator can do. */
  stuck: z.string().optional(),
})
export type StageProgress = z.infer<typeof stageProgressSchema>

const progress = stageProgressSchema.optional()

export const deletionStateSchema = z.object({
  user_identity_id: userIdentityIdSchema,
  /** Each stage's progress, once the stage has begun. (An object, not a record: optional keys alike.) */
  stages: z
    .object({
      client_sessions: progress,
      acs_credentials: progress,
      acs_users: progress,
      enrollment_automations: progress,
      phones: progress,
      user_identity: progress,
    })
    .optional(),
  /**
   * Seam's pace, in the state machine's seconds: from the last delete call of the last finished
   * asynchronous stage to the last event confirming it (events' occurred_at). The next stage's first
   * wait is sized to it, so once the pace is known each stage needs one check instead of a backoff series.
   */
  seam_latency_seconds: z.number().positive().optional(),
  /**
   * With Seam's webhooks: the deliveries this deletion still misses (functions/core/deliveries.ts).
   * `missing`: ids a check confirmed with Seam before their delivery came (at most
   * MISSING_DELIVERIES_KEPT), looked for again by each later task; while any is missing the deletion's
   * Awaits do not trust deliveries. `confirmed_at`: when that check knew each done (epoch ms, the stage
   * task's clock); one still missing DELIVERY_LOST_SECONDS later is lost, and the deployment is told
   * (once). States written before carried `arrived` (and no times): it is ignored.
   */
  deliveries: z
    .object({
      missing: z.array(z.string().min(1)),
      confirmed_at: z.record(z.string().min(1), z.number()).optional(),
    })
    .optional(),
})
export type DeletionState = z.infer<typeof deletionStateSchema>
export type Deliveries = NonNullable<DeletionState['deliveries']>

/** How each stage waits for Seam's confirmations (functions/core/poll.ts validates it at synth). */
export const pollPolicySchema = z.object({
  /** The first wait after a stage's deletes, sized to how long Seam typically takes. */
  firstWaitSeconds: z.number(),
  /** Each later wait is the previous one times this. */
  backoffRate: z.number(),
  /** No single wait is longer than this. */
  maxWaitSeconds: z.number(),
  /** The longest a stage may wait for confirmations before the deletion fails, naming what is stuck. */
  stageTimeoutSeconds: z.number(),
  /** A hard cap on checks per stage, so no loop can approach the 25,000-event execution history. */
  maxChecks: z.number(),
})
export type PollPolicy = z.infer<typeof pollPolicySchema>

export const STAGE_ACTIONS = ['delete', 'check'] as const

/** What each stage's Delete and Check task is invoked with. */
export const stageTaskEventSchema = z.object({
  action: z.enum(STAGE_ACTIONS),
  stage: stageNameSchema,
  policy: pollPolicySchema,
  state: deletionStateSchema,
  /** When the task state was entered ($$.State.EnteredTime, the same for each of its retries). */
  task_entered_at: z.string().refine((text) => Number.isFinite(Date.parse(text)), 'not a time'),
  /**
   * A delete of a stage confirmed by a lookup (the identity) looks once right after it: not found, and
   * the stage is done without a wait. Set where Seam's webhooks make the other stages go on at once.
   */
  look_after_delete: z.boolean().optional(),
  /**
   * Seam's webhooks resume this workflow's stages: the task reads which events were delivered (the
   * coordination table), counts a delivered one as confirmed, and sizes the next Await (await_seconds).
   */
  webhooks: z.boolean().optional(),
})
export type StageTaskEvent = z.infer<typeof stageTaskEventSchema>

/**
 * The error name of a stage task given an input that is not a StageTaskEvent (a definition edited by
 * hand, a redrive with a changed input): permanent, so the state machine fails the stage at once,
 * naming the fields, instead of retrying what cannot change.
 */
export const INVALID_STAGE_TASK_INPUT = 'InvalidStageTaskInput'

/**
 * The error name of a stage task whose Seam calls kept failing transiently until its time ran out
 * (functions/core/poll.ts, stageTimeBound): permanent, so a hanging Seam ends the stage within its bound.
 */
export const STAGE_OUT_OF_TIME = 'StageOutOfTime'

/** The task's input as a StageTaskEvent, or an InvalidStageTaskInput error naming what is wrong. */
export function parseStageTaskEvent(input: unknown): StageTaskEvent {
  const parsed = stageTaskEventSchema.safeParse(input)
  if (parsed.success) return parsed.data
  const problems = parsed.error.issues
    .slice(0, 10)
    .map((issue) => `${issue.path.map(String).join('.') || '(input)'}: ${issue.message}`)
  const error = new Error(
    `The stage task's input is not a deletion state (${problems.join('; ')}). ` +
      'Start a new deletion (DELETE the user identity again) rather than redriving this one.',
  )
  error.name = INVALID_STAGE_TASK_INPUT
  throw error
}

/** The execution's output on SUCCEEDED: each stage's `deleted` under its summary key. */
export const deletionSummarySchema = z.object({
  client_sessions_deleted: count.describe('client sessions deleted'),
  acs_credentials_deleted: count.describe('ACS credentials deleted'),
  acs_users_deleted: count.describe('ACS users deleted'),
  enrollment_automations_deleted: count.describe('enrollment automations deleted'),
  phones_deactivated: count.describe('phones deactivated'),
})
export type DeletionSummary = z.infer<typeof deletionSummarySchema>

export const deletedOutputSchema = z.object({
  user_identity_id: userIdentityIdSchema,
  summary: deletionSummarySchema,
})
export type DeletedOutput = z.infer<typeof deletedOutputSchema>

/** The state after a task's Catch: the task's error under `error` (its resultPath). */
export const caughtStateSchema = deletionStateSchema.extend({
  error: z.object({ Error: z.string(), Cause: z.string() }),
})
export type CaughtState = z.infer<typeof caughtStateSchema>

// ---------------------------------------------------------------------------------------------------
// JSONPaths over the state, checked by the compiler

type Key<T> = keyof NonNullable<T> & string
type At<T, K> = K extends keyof NonNullable<T> ? NonNullable<T>[K] : never

/** `$.a.b.c`, where each key must be a field of the type at that depth. */
export interface JsonPathBuilder<T> {
  <A extends Key<T>>(a: A): string
  <A extends Key<T>, B extends Key<At<T, A>>>(a: A, b: B): string
  <A extends Key<T>, B extends Key<At<T, A>>, C extends Key<At<At<T, A>, B>>>(
    a: A,
    b: B,
    c: C,
  ): string
}

function jsonPathsOf<T>(): JsonPathBuilder<T> {
  return (...keys: string[]) => ['$', ...keys].join('.')
}

/** A JSONPath into the deletion state, e.g. statePath('stages', 'phones', 'wait_seconds'). */
export const statePath: JsonPathBuilder<DeletionState> = jsonPathsOf<DeletionState>()
/** A JSONPath into the state after a Catch, e.g. caughtPath('error', 'Cause'). */
export const caughtPath: JsonPathBuilder<CaughtState> = jsonPathsOf<CaughtState>()

// ---------------------------------------------------------------------------------------------------
// State names ↔ stages

/**
 * The words naming each stage's states. The status route reads an execution's stage back from the
 * names in its history, so an execution that started before a deploy is named by these words: change
 * one only together with a new state machine (its running executions would report no stage).
 */
export const STAGE_TITLES: Readonly<Record<StageName, string>> = {
  client_sessions: 'client sessions',
  acs_credentials: 'ACS credentials',
  acs_users: 'ACS users',
  enrollment_automations: 'enrollment automations',
  phones: 'phones',
  user_identity: 'user identity',
}

export const STATE_KINDS = [
  'delete',
  'check',
  'done',
  'wait',
  'stuck',
  'explainFailure',
  'failed',
  'await',
  'confirmed',
] as const
export type StateKind = (typeof STATE_KINDS)[number]

/** The last state, after the identity is confirmed gone: it outputs the summary. */
export const DELETED_STATE_NAME = 'Deleted'

/** The name of one of a stage's states: the construct names its states with this alone. */
export function stateName(stage: StageName, kind: StateKind): string {
  const title = STAGE_TITLES[stage]
  const Title = title.charAt(0).toUpperCase() + title.slice(1)
  switch (kind) {
    case 'delete':
      return `Delete ${title}`
    case 'check':
      return `Check ${title}`
    case 'done':
      return `${Title} done?`
    case 'wait':
      return `Wait for ${title}`
    case 'stuck':
      return `${Title} stuck`
    case 'explainFailure':
      return `Explain ${title} failure`
    case 'failed':
      return `${Title} failed`
    case 'await':
      return `Await ${title}`
    case 'confirmed':
      return `${Title} confirmed?`
  }
}

/** Every state name of every stage, to its stage: the inverse of stateName, built from it. */
const STAGE_OF_STATE: ReadonlyMap<string, StageName> = new Map([
  ...STAGE_NAMES.flatMap((stage) =>
    STATE_KINDS.map((kind) => [stateName(stage, kind), stage] as const),
  ),
  [DELETED_STATE_NAME, 'user_identity'],
])

/** The stage a state belongs to, or undefined for a name the workflow does not emit. */
export function stageOfState(name: string): StageName | undefined {
  return STAGE_OF_STATE.get(name)
}
