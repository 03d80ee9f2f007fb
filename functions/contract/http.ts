/**
 * The HTTP API's contract, written once: zod schemas of every path parameter, request body, response
 * body and error body, the error types with their statuses, and the table of operations. The handlers
 * validate with these schemas, the types are inferred from them, and the OpenAPI document (openapi.ts,
 * `npm run openapi` → openapi.json) is generated from them. A new route is one more entry in OPERATIONS.
 */
import { z } from 'zod'
import { STAGES, USER_IDENTITY_STAGE } from '../core/stages.js'
import { deletionSummarySchema, STAGE_NAMES, type StageName, stageNameSchema } from './workflow.js'

// ---------------------------------------------------------------------------------------------------
// Text and ids

/** Code points that are not text: C0 and C1 controls (NUL and DEL included) and unpaired surrogates. */
const TEXT = /^[^\p{Cc}\p{Cs}]*$/u

const TEXT_RULES =
  'Valid Unicode without control characters (no NUL, C0 or C1 controls, no unpaired surrogates; ' +
  'invalid UTF-8 in the body is refused); normalized to NFC before use, so NFC and NFD spellings ' +
  'are the same value.'

/** Text a person or an app wrote: refused when it is not text, NFC-normalized, then length-checked. */
export const text = (maxLength: number) =>
  z
    .string()
    .regex(TEXT, 'must be text without control characters or unpaired surrogates')
    .normalize('NFC')
    .min(1)
    .max(maxLength)

/** A Seam id: any UUID, in any case, lower-cased before anything is named after it. */
export const seamId = (what: string) => z.guid({ error: `must be ${what} (a UUID)` }).toLowerCase()

export const UUID_EXAMPLE = '5f3c9a2e-8b1d-4e6f-a7c2-9d0b1e3f4a5c'
const ACS_USER_EXAMPLE = '0b6e2d4f-1a3c-4e5b-8d7f-2c9a1b3e5d70'
const REQUEST_ID_EXAMPLE = 'c0a8f1d2-5b7e-4c1a-9d3e-2f6b8a4c7e10'

// ---------------------------------------------------------------------------------------------------
// POST /user-identities

/** Largest request body accepted, in bytes (base64 bodies measured decoded). */
export const MAX_BODY_BYTES = 16 * 1024

/** Limits on the body's fields. */
export const LIMITS = Object.freeze({
  userIdentityKey: 255,
  /** RFC 5321's longest forward path. */
  emailAddress: 254,
  fullName: 255,
  acsUserIds: 25,
})

/** The fields whose uniqueness Seam enforces, in the order conflicts are reported. */
export const UNIQUE_FIELDS = ['user_identity_key', 'email_address', 'phone_number'] as const
export type UniqueField = (typeof UNIQUE_FIELDS)[number]

/** E.164: a plus, a non-zero country code digit, at most 15 digits in all. */
const E164 = /^\+[1-9]\d{1,14}$/

export const CreateUserIdentityRequest = z
  .strictObject({
    user_identity_key: text(LIMITS.userIdentityKey)
      .nullish()
      .meta({
        description: `Your own unique key for the identity, e.g. the app account id. ${TEXT_RULES}`,
      }),
    email_address: z
      .email()
      .regex(TEXT)
      .normalize('NFC')
      .max(LIMITS.emailAddress)
      .nullish()
      .meta({ description: `Unique in the workspace. ${TEXT_RULES}` }),
    phone_number: z
      .string()
      .regex(E164, 'must be in E.164 format, e.g. +15555550100')
      .max(16)
      .nullish()
      .meta({ description: 'E.164, e.g. +15555550100. Unique in the workspace.' }),
    full_name: text(LIMITS.fullName).nullish().meta({ description: TEXT_RULES }),
    acs_user_ids: z
      .array(seamId('an ACS user id'))
      .max(LIMITS.acsUserIds, `at most ${LIMITS.acsUserIds} ACS users per request`)
      .nullish()
      .meta({
        description:
          'ACS users (one per access-control system) to link to the new identity with ' +
          'user_identities/add_acs_user. All must exist and be free, or nothing is created. ' +
          'UUIDs in any case, lower-cased before use.',
      }),
  })
  .refine(
    (body) => UNIQUE_FIELDS.some((field) => body[field] != null),
    'at least one of user_identity_key, email_address, phone_number is required',
  )
  .meta({
    description:
      'At least one of user_identity_key, email_address, phone_number. A null field counts as ' +
      'absent. Unknown fields are rejected.',
    // The refine above, for readers of the JSON Schema.
    anyOf: UNIQUE_FIELDS.map((field) => ({ required: [field] })),
    examples: [
      {
        user_identity_key: 'app-account-42',
        email_address: 'jane@example.com',
        full_name: 'Jane Doe',
        acs_user_ids: [ACS_USER_EXAMPLE],
      },
    ],
  })
export type CreateUserIdentityInput = z.output<typeof CreateUserIdentityRequest>

export const UserIdentity = z
  .looseObject({
    user_identity_id: z.string(),
    user_identity_key: z.string().nullable(),
    email_address: z.string().nullable(),
    phone_number: z.string().nullable(),
    display_name: z.string(),
    full_name: z.string().nullable(),
    created_at: z.string(),
    workspace_id: z.string(),
    errors: z.array(z.looseObject({})),
    warnings: z.array(z.looseObject({})),
    acs_user_ids: z.array(z.string()).meta({
      description: 'The linked ACS users, every acs_user_ids entry of the request included.',
    }),
  })
  .meta({
    description:
      "Seam's user_identity object, as Seam returns it (https://docs.seam.co/latest/api/user_identities). " +
      'Fields Seam adds later are passed on.',
  })

export const UserIdentityResponse = z.strictObject({ user_identity: UserIdentity })

// ---------------------------------------------------------------------------------------------------
// Deletions

export const UserIdentityPathParams = z.object({
  user_identity_id: seamId('a Seam user identity id').meta({
    description: 'A UUID in any case; lower-cased, so case variants name the same deletion.',
    examples: [UUID_EXAMPLE],
  }),
})

export const DeletionPathParams = z.object({
  deletion_id: z
    .string()
    .toLowerCase()
    .meta({
      description:
        '`<user_identity_id>--<attempt>`, from the Location header of DELETE ' +
        '/user-identities/{user_identity_id}; case-insensitive. Anything else is answered 404 ' +
        'deletion_not_found.',
      examples: [`${UUID_EXAMPLE}--1`],
    }),
})

export const DELETION_STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'] as const
export type DeletionStatus = (typeof DELETION_STATUSES)[number]

export const DeletionSummary = deletionSummarySchema
  .strict()
  .meta({ description: 'What the deletion removed, per stage (on SUCCEEDED).' })

export const Deletion = z
  .strictObject({
    deletion_id: z
      .string()
      .regex(/^[0-9a-f-]{36}--[1-9][0-9]{0,3}$/)
      .meta({
        description: '`<user_identity_id>--<attempt>`; a new attempt after a failed one counts up.',
      }),
    user_identity_id: z.string(),
    status: z.enum(DELETION_STATUSES),
    stage: stageNameSchema.meta({
      description: `The current or last stage, in order: ${STAGE_NAMES.join(', ')}.`,
    }),
    started_at: z.iso.datetime(),
    stopped_at: z.iso.datetime().optional(),
    summary: DeletionSummary.optional(),
    error: z.strictObject({ type: z.string(), message: z.string() }).optional().meta({
      description: 'On FAILED / TIMED_OUT / ABORTED: which stage, which resource ids are stuck.',
    }),
  })
  .meta({
    description: 'A staged deletion of a user identity (one Step Functions execution).',
    examples: [
      {
        deletion_id: `${UUID_EXAMPLE}--1`,
        user_identity_id: UUID_EXAMPLE,
        status: 'SUCCEEDED',
        stage: USER_IDENTITY_STAGE,
        started_at: '2025-01-01T12:00:00.000Z',
        stopped_at: '2025-01-01T12:00:41.000Z',
        summary: Object.fromEntries(STAGES.map((stage) => [stage.summaryKey, 1])),
      },
    ],
  })
export type Deletion = z.infer<typeof Deletion>

export const DeletionResponse = z.strictObject({ deletion: Deletion })

// ---------------------------------------------------------------------------------------------------
// The deletion plan

const PlanItem = z.strictObject({
  id: z.string(),
  acs_system_id: z.string().optional().meta({ description: 'The ACS system it lives in.' }),
})

export const DeletionPlan = z
  .strictObject({
    user_identity_id: z.string(),
    stages: z.strictObject(
      Object.fromEntries(STAGES.map((stage) => [stage.name, z.array(PlanItem)])) as Record<
        Exclude<StageName, 'user_identity'>,
        z.ZodArray<typeof PlanItem>
      >,
    ),
    counts: DeletionSummary,
  })
  .meta({
    description:
      'What a deletion would remove now, stage by stage: every page of every list, read with the ' +
      "deletion stages' own list calls. counts has the keys of the Deletion summary.",
  })
export type DeletionPlan = z.infer<typeof DeletionPlan>

export const DeletionPlanResponse = z.strictObject({ deletion_plan: DeletionPlan })

// ---------------------------------------------------------------------------------------------------
// Bulk deletions

/** The most identities one bulk deletion takes: they travel in the execution input (no S3). */
export const MAX_BULK_IDENTITIES = 1000
/** Largest request body of POST /bulk-deletions. */
export const MAX_BULK_BODY_BYTES = 64 * 1024
/** Failures listed in a BulkDeletion. */
export const MAX_LISTED_FAILURES = 100

export const BulkDeletionRequest = z.strictObject({
  user_identity_ids: z
    .array(seamId('a Seam user identity id'))
    .min(1, 'must hold at least one id')
    .max(MAX_BULK_IDENTITIES, `must hold at most ${MAX_BULK_IDENTITIES} ids`)
    .refine((ids) => new Set(ids).size === ids.length, { message: 'must not repeat an id' })
    .meta({
      description: `1 to ${MAX_BULK_IDENTITIES} distinct user identity ids (UUIDs, in any case; lower-cased before use, so case variants are the same id).`,
    }),
})
export type BulkDeletionRequest = z.output<typeof BulkDeletionRequest>

export const BulkDeletionPathParams = z.object({
  bulk_deletion_id: seamId('a bulk deletion id').meta({ examples: [UUID_EXAMPLE] }),
})

const count = z.number().int().min(0)

export const BulkDeletion = z
  .strictObject({
    bulk_deletion_id: z.string(),
    status: z.enum(DELETION_STATUSES).meta({
      description:
        'SUCCEEDED: every identity ended succeeded or not_found. FAILED: at least one failed; the ' +
        'others still ran to their end.',
    }),
    started_at: z.iso.datetime(),
    stopped_at: z.iso.datetime().optional(),
    total: count,
    counts: z
      .strictObject({
        pending: count,
        running: count,
        succeeded: count,
        failed: count,
        not_found: count,
      })
      .meta({ description: 'Their sum is total.' }),
    failures: z
      .array(
        z.strictObject({
          user_identity_id: z.string(),
          deletion_id: z.string().optional(),
          error: z.strictObject({ type: z.string(), message: z.string() }),
        }),
      )
      .max(MAX_LISTED_FAILURES)
      .optional()
      .meta({ description: `When ended: the first ${MAX_LISTED_FAILURES} failures.` }),
  })
  .meta({ description: 'Many staged deletions run together (a distributed Map).' })
export type BulkDeletion = z.infer<typeof BulkDeletion>
export type BulkCounts = BulkDeletion['counts']
export type BulkFailure = NonNullable<BulkDeletion['failures']>[number]

export const BulkDeletionResponse = z.strictObject({ bulk_deletion: BulkDeletion })

// ---------------------------------------------------------------------------------------------------
// The local server's own routes

export const HealthResponse = z.strictObject({ ok: z.literal(true) })

export const IndexResponse = z
  .strictObject({
    service: z.string(),
    openapi: z.string(),
    health: z.string(),
    readme: z.string(),
    routes: z.array(z.string()),
  })
  .meta({ description: 'Where to go from here: the contract, liveness, and the API routes.' })

export const OpenApiResponse = z
  .looseObject({ openapi: z.string(), info: z.looseObject({}), paths: z.looseObject({}) })
  .meta({ description: 'The OpenAPI 3.1 document.' })

// ---------------------------------------------------------------------------------------------------
// Errors

/** What every answer after which Seam may have acted unanswered carries (503, 502, 504). */
const UNSETTLED =
  'When Seam was sent a change and did not answer (a timeout, a 5xx, a broken connection), Seam ' +
  'may have made it, or may still: error.may_have_taken_effect is true, the message says so, and ' +
  'on a POST error.user_identity_key (and error.user_identity_id when known) names the identity ' +
  'that may exist. Repeating the same request settles it: 201 with that identity (X-Replayed: ' +
  'true), or the identity created now.'

/** Every error `type` the API answers with: its status, what it means, an example message. */
export const ERROR_TYPES = {
  invalid_input: {
    status: 400,
    description:
      'Malformed JSON, invalid UTF-8, an empty body, a repeated field, wrong types, text with ' +
      'control characters, a bad email or phone, an unknown field, or an invalid id. The message ' +
      'names every field; error.fields lists them.',
    message: 'Invalid request body: phone_number: must be in E.164 format, e.g. +15555550100.',
  },
  acs_user_not_found: {
    status: 404,
    description:
      'An acs_user_ids entry does not exist. Found before creating: nothing was created. Found ' +
      'while linking (the ACS user was deleted meanwhile): the new identity is deleted again, or, ' +
      'when that is not safe, kept and named in error.user_identity_id.',
    message: `ACS user ${ACS_USER_EXAMPLE} does not exist; no user identity was created.`,
  },
  user_identity_not_found: {
    status: 404,
    description: 'Seam has no such user identity.',
    message: `Seam has no user identity ${UUID_EXAMPLE}.`,
  },
  deletion_not_found: {
    status: 404,
    description: 'There is no such deletion.',
    message: `There is no deletion ${UUID_EXAMPLE}--1.`,
  },
  bulk_deletion_not_found: {
    status: 404,
    description: 'There is no such bulk deletion.',
    message: `There is no bulk deletion ${UUID_EXAMPLE}.`,
  },
  user_identity_conflict: {
    status: 409,
    description:
      'The key, email address or phone number is already used in the workspace; error.field and ' +
      'error.user_identity_id name the first, error.conflicts all of them. Nothing was created.',
    message: `The email_address is already used by user identity ${UUID_EXAMPLE} in this workspace.`,
  },
  acs_user_already_linked: {
    status: 409,
    description:
      'An acs_user_ids entry belongs to another user identity (an ACS user is never moved off ' +
      'it); error.linked_acs_users names them. Found before creating: nothing was created. Found ' +
      'while linking or when verifying the links (Seam refused the link, or reports the ACS user ' +
      'elsewhere): the new identity is deleted again, or, when that is not safe, kept and named in ' +
      'error.kept_user_identity_id.',
    message: `ACS user ${ACS_USER_EXAMPLE} is already linked to user identity ${UUID_EXAMPLE}; no user identity was created.`,
  },
  acs_user_busy: {
    status: 409,
    description:
      'Another request is creating a user identity with one of these ACS users right now (creates ' +
      'take turns per ACS user); nothing was created. Repeat after Retry-After: the answer is then ' +
      '201, or 409 acs_user_already_linked if the other request linked it.',
    message: `Another request is linking ACS user ${ACS_USER_EXAMPLE} to a user identity right now; no user identity was created.`,
  },
  too_many_deletion_attempts: {
    status: 409,
    description: 'Too many failed attempts; an operator must look at them first.',
    message: `User identity ${UUID_EXAMPLE} has failed to delete 50 times.`,
  },
  payload_too_large: {
    status: 413,
    description: `The body is over the route's limit: ${MAX_BODY_BYTES} bytes (16 KiB), or ${MAX_BULK_BODY_BYTES} bytes (64 KiB) for POST /bulk-deletions.`,
    message: `The request body is 17000 bytes; the limit is ${MAX_BODY_BYTES} bytes (16 KiB).`,
  },
  unsupported_media_type: {
    status: 415,
    description: 'The Content-Type is missing or not application/json (UTF-8).',
    message: 'The Content-Type header is missing; send application/json (UTF-8).',
  },
  internal_error: {
    status: 500,
    description: 'An unexpected error.',
    message: 'An unexpected error occurred. Retry later; quote the request_id if it persists.',
  },
  seam_error: {
    status: 502,
    description:
      'Seam failed the request. On a POST that failed after creating its identity, ' +
      'error.user_identity_id names it and a repeat of the same request completes it. ' +
      UNSETTLED,
    message: 'Seam failed to process the request (internal_server_error, HTTP 500).',
  },
  seam_misconfigured: {
    status: 502,
    description: 'This service is not configured to call Seam (API key missing or rejected).',
    message:
      'This service is not correctly configured to call Seam (API key missing or rejected). Contact the service operator.',
  },
  seam_unavailable: {
    status: 503,
    description:
      'Seam is unavailable or rate-limiting this service; retry later (Retry-After when Seam sent ' +
      'one). On a POST that failed after creating its identity, error.user_identity_id names it. ' +
      UNSETTLED,
    message: 'Seam is rate-limiting this service right now. Retry later.',
  },
  request_timeout: {
    status: 504,
    description:
      'The request took too long and was stopped; it may have partly taken effect (on a POST, ' +
      'error.user_identity_id names an identity it created). Repeating the same request settles it. ' +
      UNSETTLED,
    message: 'The request took too long and was stopped; it may have partly taken effect.',
  },
  invalid_webhook_signature: {
    status: 401,
    description:
      'POST /webhooks/seam: the svix-id, svix-timestamp or svix-signature header is missing, the ' +
      "signature is not the endpoint secret's over the raw body, or the timestamp is more than 5 " +
      'minutes away. Nothing was recorded.',
    message:
      'The webhook signature is missing or invalid, or its timestamp is more than 5 minutes away.',
  },
  not_authenticated: {
    status: 403,
    description:
      'API Gateway only: the request is not signed with SigV4, or its signature or credentials are ' +
      'invalid or expired. API Gateway also answers this to a path or method the API does not have ' +
      '(the local server answers 404 route_not_found and 405 method_not_allowed there).',
    message: 'Missing Authentication Token',
  },
  access_denied: {
    status: 403,
    description: 'API Gateway only: the caller may not invoke the API.',
    message: 'User is not authorized to access this resource',
  },
  throttled: {
    status: 429,
    description:
      "API Gateway only: the stage's request rate or burst limit was exceeded; retry with backoff.",
    message: 'Too Many Requests',
  },
} as const satisfies Record<string, { status: number; description: string; message: string }>
export type ErrorType = keyof typeof ERROR_TYPES

const FieldName = z.enum(UNIQUE_FIELDS)

export const ErrorObject = z
  .looseObject({
    type: z
      .string()
      .regex(/^[a-z][a-z0-9_]*$/)
      .meta({ description: 'snake_case' }),
    message: z.string().meta({ description: 'A sentence a person can act on.' }),
    request_id: z.string().meta({ description: 'Quote it when asking about this request.' }),
    fields: z
      .array(z.string())
      .optional()
      .meta({ description: 'invalid_input: the body fields rejected.' }),
    field: FieldName.optional().meta({
      description: 'user_identity_conflict: the first field already in use.',
    }),
    user_identity_id: z
      .string()
      .optional()
      .meta({
        description:
          'user_identity_conflict: the identity holding that field; acs_user_already_linked: the ' +
          'identity holding acs_user_id; on a POST that failed after creating its identity (404, ' +
          '502, 503, 504): the identity it left behind, which a repeat of the same request completes.',
      }),
    conflicts: z
      .array(z.strictObject({ field: FieldName, user_identity_id: z.string() }))
      .optional()
      .meta({ description: 'user_identity_conflict: every field in use, and by which identity.' }),
    acs_user_id: z
      .string()
      .optional()
      .meta({
        description:
          'acs_user_not_found: the unknown ACS user; acs_user_already_linked: the first ACS user ' +
          'linked to another identity.',
      }),
    linked_acs_users: z
      .array(z.strictObject({ acs_user_id: z.string(), user_identity_id: z.string() }))
      .optional()
      .meta({
        description: 'acs_user_already_linked: every such ACS user, and the identity holding it.',
      }),
    seam_request_id: z
      .string()
      .optional()
      .meta({ description: "Seam's request id, when Seam answered." }),
    may_have_taken_effect: z
      .literal(true)
      .optional()
      .meta({
        description:
          'Seam was sent a change it did not answer and may have carried out (or may still); ' +
          'repeating the same request settles it.',
      }),
    user_identity_key: z.string().optional().meta({
      description:
        'With may_have_taken_effect on a POST: the key of the user identity that may exist.',
    }),
    kept_user_identity_id: z
      .string()
      .optional()
      .meta({
        description:
          'acs_user_already_linked found while linking: the identity this request created or ' +
          'used, kept (not safe to delete) with the ACS users Seam reports on it.',
      }),
  })
  .meta({ description: 'Extra fields are ids, never personal data.' })

export const ErrorResponse = z.strictObject({ error: ErrorObject })
export type ErrorBody = z.infer<typeof ErrorResponse>

/** The example body of an error type. */
export const errorExample = (
  type: ErrorType,
): { error: { type: ErrorType; message: string; request_id: string } } => ({
  error: { type, message: ERROR_TYPES[type].message, request_id: REQUEST_ID_EXAMPLE },
})

// ---------------------------------------------------------------------------------------------------
// Operations

export interface ResponseHeader {
  readonly description: string
  readonly schema: z.ZodType
  readonly required?: boolean
}

export interface Operation {
  readonly operationId: string
  readonly method: 'GET' | 'HEAD' | 'POST' | 'DELETE'
  /** API Gateway's `{param}` syntax. */
  readonly path: string
  readonly summary: string
  readonly description?: string
  readonly tag: keyof typeof TAGS
  /**
   * 'api': behind API Gateway with IAM; 'webhook': behind API Gateway without IAM (the Svix signature
   * authenticates); 'local': served by the local server only, without authorization.
   */
  readonly served: 'api' | 'webhook' | 'local'
  readonly params?: z.ZodObject
  readonly body?: z.ZodType
  /** Largest body in bytes (413 beyond it); default MAX_BODY_BYTES. */
  readonly maxBodyBytes?: number
  readonly success: {
    readonly status: number
    readonly description: string
    /** The body's schema; none for a HEAD or a 204 (no body). */
    readonly schema?: z.ZodType
    readonly headers?: Readonly<Record<string, ResponseHeader>>
  }
  /** The error types this operation answers with (the API Gateway ones are added for 'api'). */
  readonly errors: readonly ErrorType[]
}

export const TAGS = {
  'user identities': 'Create and delete Seam user identities',
  deletions: 'Progress of staged deletions',
  'bulk deletions': 'Many user identities deleted together',
  webhooks: "Seam's webhook deliveries",
  local: 'Served by the local server (`npm start`)',
} as const

/** The errors of every operation deployed behind API Gateway: its own, and the unexpected ones. */
export const API_ERRORS: readonly ErrorType[] = [
  'not_authenticated',
  'access_denied',
  'throttled',
  'request_timeout',
  'internal_error',
]

/** The API Gateway errors of the route without IAM: no 403, since no signature is asked for. */
export const WEBHOOK_GATEWAY_ERRORS: readonly ErrorType[] = [
  'throttled',
  'request_timeout',
  'internal_error',
]

/** A Seam event as a webhook delivers it (Svix format): the fields this service reads. */
export const SeamWebhookEvent = z
  .looseObject({
    event_id: z.string(),
    event_type: z.string(),
    occurred_at: z.string().optional(),
    created_at: z.string().optional(),
  })
  .meta({
    description:
      'One Seam event (as events/list returns it), e.g. acs_credential.deleted with acs_credential_id.',
  })

/** Errors of an operation that calls Seam. */
const SEAM_ERRORS: readonly ErrorType[] = ['seam_error', 'seam_misconfigured', 'seam_unavailable']

export const OPERATIONS = {
  createUserIdentity: {
    operationId: 'createUserIdentity',
    method: 'POST',
    path: '/user-identities',
    summary: 'Create a Seam user identity and link its ACS users',
    description:
      'Answers 201 once the identity exists in Seam and every acs_user_ids entry is linked to it. ' +
      'A request repeated after a lost response answers 201 with the identity the first attempt ' +
      'created (header X-Replayed: true), not 409; so does a repeat after an answer with ' +
      'error.may_have_taken_effect (Seam did not answer a create or link it may have carried out). ' +
      'An ACS user is never moved from another identity: creates take turns per ACS user (409 ' +
      'acs_user_busy while another holds it), and after linking Seam must report every ACS user on ' +
      'the new identity, else 409 acs_user_already_linked. ' +
      `Body: application/json (UTF-8), at most ${MAX_BODY_BYTES} bytes.`,
    tag: 'user identities',
    served: 'api',
    body: CreateUserIdentityRequest,
    success: {
      status: 201,
      description: 'Created, and every ACS user linked.',
      schema: UserIdentityResponse,
      headers: {
        'X-Replayed': {
          description: 'true when an earlier attempt of this same request created it.',
          schema: z.literal('true'),
        },
      },
    },
    errors: [
      'invalid_input',
      'acs_user_not_found',
      'user_identity_conflict',
      'acs_user_already_linked',
      'acs_user_busy',
      'payload_too_large',
      'unsupported_media_type',
      ...SEAM_ERRORS,
    ],
  },
  deleteUserIdentity: {
    operationId: 'deleteUserIdentity',
    method: 'DELETE',
    path: '/user-identities/{user_identity_id}',
    summary: 'Start the staged deletion of a user identity',
    description:
      'Starts the deletion workflow (a Step Functions execution). A second DELETE while one is ' +
      'RUNNING (or after one SUCCEEDED) answers with that deletion; after a failed one it starts ' +
      'the next attempt.',
    tag: 'user identities',
    served: 'api',
    params: UserIdentityPathParams,
    success: {
      status: 202,
      description: 'The deletion has been started (or was already under way).',
      schema: DeletionResponse,
      headers: {
        Location: {
          description: '/deletions/{deletion_id}',
          schema: z.string(),
          required: true,
        },
      },
    },
    errors: [
      'invalid_input',
      'user_identity_not_found',
      'too_many_deletion_attempts',
      ...SEAM_ERRORS,
    ],
  },
  getDeletion: {
    operationId: 'getDeletion',
    method: 'GET',
    path: '/deletions/{deletion_id}',
    summary: 'The status, stage, summary or error of a deletion',
    tag: 'deletions',
    served: 'api',
    params: DeletionPathParams,
    success: { status: 200, description: 'The deletion.', schema: DeletionResponse },
    errors: ['deletion_not_found'],
  },
  getDeletionPlan: {
    operationId: 'getDeletionPlan',
    method: 'GET',
    path: '/user-identities/{user_identity_id}/deletion-plan',
    summary: 'What a deletion of the user identity would remove now (changes nothing)',
    description:
      'Every page of every list of each stage, read with the same list calls the deletion makes. ' +
      'Nothing is changed in Seam.',
    tag: 'user identities',
    served: 'api',
    params: UserIdentityPathParams,
    success: { status: 200, description: 'The plan.', schema: DeletionPlanResponse },
    errors: ['invalid_input', 'user_identity_not_found', ...SEAM_ERRORS],
  },
  startBulkDeletion: {
    operationId: 'startBulkDeletion',
    method: 'POST',
    path: '/bulk-deletions',
    summary: `Delete up to ${MAX_BULK_IDENTITIES} user identities, each by the staged deletion of DELETE`,
    description:
      'Each identity is deleted by the same staged deletion as DELETE /user-identities/{id}, under ' +
      'the same deletion id rules: a deletion already running for it is joined, never doubled. An ' +
      `identity Seam does not have counts as not_found, not as a failure. Body: at most ${MAX_BULK_BODY_BYTES} bytes.`,
    tag: 'bulk deletions',
    served: 'api',
    body: BulkDeletionRequest,
    maxBodyBytes: MAX_BULK_BODY_BYTES,
    success: {
      status: 202,
      description: 'The bulk deletion has been started.',
      schema: BulkDeletionResponse,
      headers: {
        Location: {
          description: '/bulk-deletions/{bulk_deletion_id}',
          schema: z.string(),
          required: true,
        },
      },
    },
    errors: ['invalid_input', 'payload_too_large', 'unsupported_media_type'],
  },
  getBulkDeletion: {
    operationId: 'getBulkDeletion',
    method: 'GET',
    path: '/bulk-deletions/{bulk_deletion_id}',
    summary: 'The progress, counts and failures of a bulk deletion',
    tag: 'bulk deletions',
    served: 'api',
    params: BulkDeletionPathParams,
    success: { status: 200, description: 'The bulk deletion.', schema: BulkDeletionResponse },
    errors: ['invalid_input', 'bulk_deletion_not_found'],
  },
  receiveSeamWebhook: {
    operationId: 'receiveSeamWebhook',
    method: 'POST',
    path: '/webhooks/seam',
    summary: "Seam's webhook deliveries (Svix format)",
    description:
      'Headers svix-id, svix-timestamp, svix-signature; body: one Seam event, verified on the raw ' +
      'bytes. No IAM authorization (Seam cannot sign with SigV4): the signature is the ' +
      'authentication, and the route is throttled on its own. An event confirming a delete lets the ' +
      'deletion stage waiting for it go on as soon as the events of all its items are in; a lost, ' +
      'late, repeated or reordered delivery costs at most the polling fallback’s time, never a ' +
      'stuck, doubled or wrong deletion.',
    tag: 'webhooks',
    served: 'webhook',
    body: SeamWebhookEvent,
    success: {
      status: 204,
      description:
        'Verified and accepted: also an event type the service does not use, and a repeated svix-id.',
    },
    errors: ['invalid_input', 'invalid_webhook_signature'],
  },
  health: {
    operationId: 'health',
    method: 'GET',
    path: '/health',
    summary: 'Liveness of the local server (optional on API Gateway)',
    tag: 'local',
    served: 'local',
    success: { status: 200, description: 'Up.', schema: HealthResponse },
    errors: [],
  },
  healthHead: {
    operationId: 'healthHead',
    method: 'HEAD',
    path: '/health',
    summary: 'Liveness of the local server, without a body (load balancers, `curl -I`)',
    tag: 'local',
    served: 'local',
    success: { status: 200, description: 'Up (no body).' },
    errors: [],
  },
  index: {
    operationId: 'index',
    method: 'GET',
    path: '/',
    summary: 'Index of the local server: where the contract, liveness and routes are',
    tag: 'local',
    served: 'local',
    success: { status: 200, description: 'The index.', schema: IndexResponse },
    errors: [],
  },
  indexHead: {
    operationId: 'indexHead',
    method: 'HEAD',
    path: '/',
    summary: 'Index of the local server, without a body',
    tag: 'local',
    served: 'local',
    success: { status: 200, description: 'Up (no body).' },
    errors: [],
  },
  openApiDocument: {
    operationId: 'openApiDocument',
    method: 'GET',
    path: '/openapi.json',
    summary: 'This document (local server)',
    tag: 'local',
    served: 'local',
    success: { status: 200, description: 'The OpenAPI 3.1 document.', schema: OpenApiResponse },
    errors: [],
  },
} as const satisfies Record<string, Operation>
export type OperationId = keyof typeof OPERATIONS
