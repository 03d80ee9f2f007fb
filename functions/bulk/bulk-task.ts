/**
 * The Lambda of the bulk workflow's two tasks.
 *
 * `prepare` (one per identity, inside the distributed Map): which deletion the item runs, by the rules of
 * DELETE /user-identities/{id}: Seam has no such identity → `not_found`; a deletion RUNNING for it → that
 * execution's name (starting it again with the same name and input joins it: StartExecution is idempotent
 * for a running Standard execution); the last attempt SUCCEEDED → `succeeded`; it FAILED (or timed out, or
 * was stopped) → the next attempt's name. The `startExecution.sync:2` task then starts (or joins) it and
 * waits for its end.
 *
 * `summarize` (once, after the Map): the counts and the failed identities, for the final Choice.
 */
import type { Context } from 'aws-lambda'
import { awsDeletionBackend, type DeletionBackend } from '../api/deletion-executions.js'
import { deletionAttempts, deletionInput, lookUpUserIdentity } from '../api/deletions.js'
import { ApiError } from '../contract/errors.js'
import type { HandlerDeps } from '../contract/handler-deps.js'
import { MAX_LISTED_FAILURES } from '../contract/http.js'
import { type BulkSummary, failureCause, type ItemOutcome, summarizeResults } from '../core/bulk.js'
import { type Coordination, coordinationFromEnvironment } from '../core/coordination.js'
import { tooManyAttemptsMessage } from '../core/deletions.js'
import { LONGEST_SEAM_CALL_MS } from '../core/poll.js'
import {
  type SeamClient,
  SeamError,
  SeamThrottledError,
  seamClientFromEnvironment,
} from '../seam/index.js'
import { realSleep } from '../seam/retry-policy.js'
import { withMetrics } from '../telemetry/metrics.js'
import { logger } from '../telemetry/powertools.js'

export type BulkTaskEvent =
  | {
      readonly action: 'prepare'
      readonly user_identity_id: string
      /** The bulk task's deployment-wide Seam rate, counted in the coordination table (capacity.ts). */
      readonly seam_requests_per_second?: number
      /** How many instances may run at once (its reserved concurrency): the split when the table fails. */
      readonly seam_instances?: number
    }
  | {
      readonly action: 'summarize'
      readonly user_identity_ids: string[]
      readonly results: unknown
    }

export interface PreparedItem {
  user_identity_id: string
  outcome: ItemOutcome
  deletion_id?: string
  /** The deletion's execution input, byte for byte what DELETE starts it with. */
  input?: string
}

/** An identity has failed to delete MAX_ATTEMPTS times: the item fails, naming it. */
export class TooManyDeletionAttempts extends Error {
  override readonly name = 'TooManyDeletionAttempts'
}

export async function prepareItem(
  seam: SeamClient,
  deletions: DeletionBackend,
  userIdentityId: string,
): Promise<PreparedItem> {
  try {
    await lookUpUserIdentity(seam, userIdentityId)
  } catch (error) {
    if (error instanceof ApiError && error.type === 'user_identity_not_found') {
      return { user_identity_id: userIdentityId, outcome: 'not_found' }
    }
    throw error
  }
  for await (const { name, execution: existing } of deletionAttempts(deletions, userIdentityId)) {
    if (existing?.status === 'SUCCEEDED') {
      return { user_identity_id: userIdentityId, outcome: 'succeeded', deletion_id: name }
    }
    // A redriven execution is about to run again: it is this deletion (as DELETE says), never a second one.
    if (!existing || existing.status === 'RUNNING' || existing.status === 'PENDING_REDRIVE') {
      return {
        user_identity_id: userIdentityId,
        outcome: 'start',
        deletion_id: name,
        input: deletionInput(userIdentityId),
      }
    }
  }
  throw new TooManyDeletionAttempts(tooManyAttemptsMessage(userIdentityId))
}

export type SummarizeOutput = BulkSummary & { cause: string }

export function summarize(userIdentityIds: string[], results: unknown): SummarizeOutput {
  const summary = summarizeResults(userIdentityIds, results)
  return { ...summary, cause: failureCause(summary) }
}

/** The longest a lookup waits for a slot of the shared rate before the task fails, to be retried. */
export const RATE_SLOT_WAIT_MS = 15_000

/**
 * Waits for a slot of the deployment-wide rate `perSecond` (Coordination.takeRateSlot), at most
 * `maxWaitMs`, then fails as throttled (the state machine retries the task). A table that does not
 * answer is logged, and the lookup then waits its instance's part of the rate (perSecond ÷ `instances`,
 * as if the share were split per instance). The slot is taken once per lookup: the Seam client's own
 * retries of that lookup (after a 429/5xx) are paced by its instance pacer, not by this count.
 */
export async function takeSharedSlot(
  coordination: Pick<Coordination, 'takeRateSlot'>,
  perSecond: number,
  options: { instances?: number; maxWaitMs?: number; sleep?: (ms: number) => Promise<void> } = {},
): Promise<void> {
  const sleep = options.sleep ?? realSleep
  const maxWaitMs = options.maxWaitMs ?? RATE_SLOT_WAIT_MS
  let waited = 0
  for (;;) {
    let wait: number
    try {
      wait = await coordination.takeRateSlot(BULK_RATE_KEY, perSecond)
    } catch (error) {
      const splitMs = Math.ceil((1000 * Math.max(1, options.instances ?? 1)) / perSecond)
      logger.warn('The shared Seam rate could not be counted: the lookup waits its instance part', {
        error: error instanceof Error ? error.message : String(error),
        wait_ms: splitMs,
      })
      await sleep(splitMs)
      return
    }
    if (wait <= 0) return
    if (waited + wait > maxWaitMs) {
      throw new SeamError({
        name: SeamThrottledError,
        type: 'seam_budget_busy',
        message: `The bulk deletion's Seam budget (${perSecond} requests/s) stayed used for ${Math.round(waited / 1000)} s; the task is retried.`,
        failure: 'throttled',
        retryable: true,
      })
    }
    // Spread over the next window, so that waiting callers do not all come back at its first instant.
    const jittered = wait + Math.floor(Math.random() * 100)
    waited += jittered
    await sleep(jittered)
  }
}

/** The key of the bulk task's rate in the coordination table. */
const BULK_RATE_KEY = 'seam-bulk'

type BulkTaskDeps = Pick<HandlerDeps, 'seam' | 'deletions'> & {
  /** Where a shared rate is counted (an event with seam_requests_per_second). */
  readonly coordination?: HandlerDeps['coordination']
}

/** The task, the metrics of its Seam requests published as it returns or throws (withMetrics). */
export function createHandler(deps: BulkTaskDeps) {
  return withMetrics((event: BulkTaskEvent, context?: Context) => runBulkTask(deps, event, context))
}

export const handler = createHandler({
  seam: seamClientFromEnvironment,
  deletions: awsDeletionBackend,
  coordination: coordinationFromEnvironment,
})

async function runBulkTask(
  deps: BulkTaskDeps,
  event: BulkTaskEvent,
  context?: Context,
): Promise<PreparedItem | SummarizeOutput> {
  if (context) logger.addContext(context)
  if (event.action === 'prepare') {
    const rate = event.seam_requests_per_second
    if (rate !== undefined && rate > 0) {
      if (!deps.coordination) throw new Error('A shared Seam rate needs the coordination table')
      // The slot and the lookup after it (its timeout and retries) both within the invocation's time.
      const left = context
        ? context.getRemainingTimeInMillis() - LONGEST_SEAM_CALL_MS - 2_000
        : Infinity
      await takeSharedSlot(deps.coordination(), rate, {
        maxWaitMs: Math.max(0, Math.min(RATE_SLOT_WAIT_MS, left)),
        ...(event.seam_instances ? { instances: event.seam_instances } : {}),
      })
    }
    const item = await prepareItem(await deps.seam(), deps.deletions(), event.user_identity_id)
    logger.info('prepare', { ...item, input: undefined })
    return item
  }
  if (event.action === 'summarize') {
    const output = summarize(event.user_identity_ids, event.results)
    logger.info('summarize', {
      counts: output.counts,
      failed: output.failed_user_identity_ids.slice(0, MAX_LISTED_FAILURES),
    })
    return output
  }
  throw new Error(
    `Unknown action "${String((event as { action?: unknown }).action)}": expected prepare or summarize`,
  )
}
