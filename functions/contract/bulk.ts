/**
 * POST /bulk-deletions and GET /bulk-deletions/{bulk_deletion_id}: the body (1 to 1,000 distinct user
 * identity ids, at most 64 KiB) and the BulkDeletion object. Plain zod, the same under zod 3.25 and 4.
 */
import { z } from 'zod'

/** The most identities one bulk deletion takes: they travel in the execution input (no S3). */
export const MAX_BULK_IDENTITIES = 1000
/** Largest request body of POST /bulk-deletions. */
export const MAX_BULK_BODY_BYTES = 64 * 1024
/** Failures listed in a BulkDeletion. */
export const MAX_LISTED_FAILURES = 100

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/

export const BulkDeletionRequestSchema = z
  .object({
    user_identity_ids: z
      .array(z.string().regex(UUID, 'must be a Seam user identity id (a UUID)'))
      .min(1, 'must hold at least one id')
      .max(MAX_BULK_IDENTITIES, `must hold at most ${MAX_BULK_IDENTITIES} ids`)
      .refine((ids) => new Set(ids.map((id) => id.toLowerCase())).size === ids.length, {
        message: 'must not repeat an id',
      }),
  })
  .strict()

export type BulkDeletionRequest = z.infer<typeof BulkDeletionRequestSchema>

const status = z.enum(['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'])

export const BulkDeletionSchema = z.object({
  bulk_deletion_id: z.string(),
  status,
  started_at: z.string(),
  stopped_at: z.string().optional(),
  total: z.number(),
  counts: z.object({
    pending: z.number(),
    running: z.number(),
    succeeded: z.number(),
    failed: z.number(),
    not_found: z.number(),
  }),
  failures: z
    .array(
      z.object({
        user_identity_id: z.string(),
        deletion_id: z.string().optional(),
        error: z.object({ type: z.string(), message: z.string() }),
      }),
    )
    .optional(),
})

export type BulkDeletion = z.infer<typeof BulkDeletionSchema>
export type BulkCounts = BulkDeletion['counts']
export type BulkFailure = NonNullable<BulkDeletion['failures']>[number]

export const BulkDeletionResponseSchema = z.object({ bulk_deletion: BulkDeletionSchema })

/** For the route table: what each route does, and its error types. */
export const BULK_DELETION_ROUTES = [
  {
    method: 'POST',
    path: '/bulk-deletions',
    summary: 'Delete up to 1,000 user identities, each by the staged deletion of DELETE',
    request: BulkDeletionRequestSchema,
    response: BulkDeletionResponseSchema,
    status: 202,
    errors: { 400: ['invalid_input'], 413: ['payload_too_large'], 415: ['unsupported_media_type'] },
  },
  {
    method: 'GET',
    path: '/bulk-deletions/{bulk_deletion_id}',
    summary: 'The progress, counts and failures of a bulk deletion',
    response: BulkDeletionResponseSchema,
    status: 200,
    errors: { 404: ['bulk_deletion_not_found'] },
  },
] as const
