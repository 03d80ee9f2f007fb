/**
 * Bulk deletions, pure: what the last state of the bulk workflow makes of the Map's results (the
 * summary its output or its Fail cause carries), and how an execution plus its Map Run becomes the
 * BulkDeletion object of the API.
 *
 * Each item of the Map outputs an ItemResult: `{outcome: 'succeeded' | 'not_found'}`, or, every error
 * being caught inside the item, `{user_identity_id, outcome: 'failed', deletion_id?}` (small, so 1,000 of
 * them stay within Step Functions' 256 KiB). Any other entry (what a Distributed Map puts for a child
 * workflow that failed anyway, without a ResultWriter, is undocumented) counts as failed too.
 */
import type { BulkCounts, BulkDeletion } from '../contract/http.js'
import { MAX_LISTED_FAILURES } from '../contract/http.js'
import type { DeletionStatus } from './deletions.js'

export type ItemOutcome = 'start' | 'succeeded' | 'not_found'

/** One entry of the Map's results. */
export interface ItemResult {
  outcome: 'succeeded' | 'not_found' | 'failed'
  user_identity_id?: string
  /** The deletion that failed (its execution holds the error). */
  deletion_id?: string
}

export interface BulkSummary {
  total: number
  counts: { succeeded: number; failed: number; not_found: number }
  /** The first MAX_LISTED_FAILURES identities that failed, in request order. */
  failed_user_identity_ids: string[]
}

export function summarizeResults(
  userIdentityIds: readonly string[],
  results: unknown,
): BulkSummary {
  const entries = Array.isArray(results) ? results : []
  const summary: BulkSummary = {
    total: userIdentityIds.length,
    counts: { succeeded: 0, failed: 0, not_found: 0 },
    failed_user_identity_ids: [],
  }
  userIdentityIds.forEach((id, i) => {
    const outcome = (entries[i] as Partial<ItemResult> | null | undefined)?.outcome
    if (outcome === 'succeeded' || outcome === 'not_found') summary.counts[outcome] += 1
    else {
      summary.counts.failed += 1
      if (summary.failed_user_identity_ids.length < MAX_LISTED_FAILURES) {
        summary.failed_user_identity_ids.push(id)
      }
    }
  })
  return summary
}

/** The Fail state's Cause: a sentence for the console, and the summary for the status route. */
export function failureCause(summary: BulkSummary): string {
  const listed = summary.failed_user_identity_ids
  const more =
    summary.counts.failed > listed.length
      ? ` and ${summary.counts.failed - listed.length} more`
      : ''
  return JSON.stringify({
    message: `${summary.counts.failed} of ${summary.total} user identities failed to delete: ${listed.join(', ')}${more}. GET /deletions/{deletion_id} of each says why; POST them again to retry.`,
    ...summary,
  })
}

/** The summary in a finished bulk execution's output (SUCCEEDED) or cause (FAILED), if there is one. */
export function summaryOf(text: string | undefined): BulkSummary | undefined {
  if (!text) return undefined
  try {
    const parsed = JSON.parse(text) as Partial<BulkSummary>
    if (
      typeof parsed.total === 'number' &&
      parsed.counts &&
      Array.isArray(parsed.failed_user_identity_ids)
    ) {
      return parsed as BulkSummary
    }
  } catch {
    // not ours (a States.Runtime cause, say)
  }
  return undefined
}

/** Item counts of DescribeMapRun (the fields used). */
export interface MapRunItemCounts {
  pending?: number | undefined
  running?: number | undefined
  succeeded?: number | undefined
  failed?: number | undefined
  timedOut?: number | undefined
  aborted?: number | undefined
}

/**
 * Counts while the Map runs (or when it ended without a summary): what the Map Run says. An identity
 * Seam does not have, or whose deletion failed (the item catches it), is a succeeded item of the Map Run
 * until the summary tells it apart.
 */
export function countsOf(
  total: number,
  summary: BulkSummary | undefined,
  items: MapRunItemCounts | undefined,
): BulkCounts {
  if (summary) return { pending: 0, running: 0, ...summary.counts }
  if (!items) return { pending: total, running: 0, succeeded: 0, failed: 0, not_found: 0 }
  const failed = (items.failed ?? 0) + (items.timedOut ?? 0) + (items.aborted ?? 0)
  const succeeded = items.succeeded ?? 0
  const running = items.running ?? 0
  return {
    pending: Math.max(0, total - succeeded - failed - running),
    running,
    succeeded,
    failed,
    not_found: 0,
  }
}

export function bulkStatus(status: string | undefined): DeletionStatus {
  if (status === 'PENDING_REDRIVE' || status === undefined) return 'RUNNING'
  return status as DeletionStatus
}

export function baseBulkDeletion(
  id: string,
  execution: {
    status?: string | undefined
    startDate?: Date | undefined
    stopDate?: Date | undefined
  },
  total: number,
  counts: BulkCounts,
): BulkDeletion {
  return {
    bulk_deletion_id: id,
    status: bulkStatus(execution.status),
    started_at: (execution.startDate ?? new Date()).toISOString(),
    ...(execution.stopDate ? { stopped_at: execution.stopDate.toISOString() } : {}),
    total,
    counts,
  }
}
