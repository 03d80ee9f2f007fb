/**
 * The OpenAPI 3.1 document of the HTTP contract (../shared/api-contract.md): every route of routes.ts,
 * plus the local server's GET /health and GET /openapi.json. Served by `npm start` at GET /openapi.json.
 *
 * Written by hand for its descriptions and examples; test/e2e/openapi.test.ts keeps it honest: the POST
 * body schema agrees with the zod schema the handler validates with (fields, required, limits), every
 * route the server answers is here and every operation here is answered, every $ref resolves, and the
 * bodies the running server sends match the response schemas. The deletion stages, stage names and
 * summary keys come from the stage table (functions/core/stages.ts), so a new stage shows up here too.
 */
import { STAGES, USER_IDENTITY_STAGE } from '../core/stages.js'
import { LIMITS, UNIQUE_FIELDS } from './create-user-identity-core.js'
import { MAX_BODY_BYTES } from './http.js'
import { BULK_AND_PLAN_PATHS, BULK_AND_PLAN_SCHEMAS } from './openapi-bulk.js'

/** A JSON Schema (2020-12, OpenAPI 3.1's dialect) or any other JSON object of the document. */
export type JsonObject = { [key: string]: JsonValue }
export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject

export interface OpenApiOperation extends JsonObject {
  operationId: string
  summary: string
  responses: JsonObject
}

export interface OpenApiDocument extends JsonObject {
  openapi: string
  info: JsonObject
  paths: { [path: string]: { [method: string]: OpenApiOperation } }
  components: JsonObject & { schemas: JsonObject; responses: JsonObject }
}

/** E.164 as create-user-identity-core.ts checks it (the test compares the two). */
const E164_PATTERN = '^\\+[1-9]\\d{1,14}$'
/** Seam ids as the deletion routes accept them (functions/core/deletions.ts). */
const SEAM_ID_PATTERN = '^[A-Za-z0-9_-]{1,64}$'
const DELETION_ID_PATTERN = '^[A-Za-z0-9_-]{1,64}--[1-9][0-9]{0,3}$'

const ref = (name: string): JsonObject => ({ $ref: `#/components/schemas/${name}` })
const responseRef = (name: string): JsonObject => ({ $ref: `#/components/responses/${name}` })

const json = (schema: JsonObject, example?: JsonValue): JsonObject => ({
  'application/json': { schema, ...(example === undefined ? {} : { example }) },
})

/** An error response whose `error.type` is one of `types`. */
function errorResponse(description: string, types: readonly string[], example: JsonObject) {
  return {
    description,
    content: json(
      {
        allOf: [
          ref('ErrorResponse'),
          {
            type: 'object',
            properties: {
              error: {
                type: 'object',
                properties: { type: { enum: [...types] } },
              },
            },
          },
        ],
      },
      { error: { ...example, request_id: 'c0a8f1d2-5b7e-4c1a-9d3e-2f6b8a4c7e10' } },
    ),
  }
}

const UUID_EXAMPLE = '5f3c9a2e-8b1d-4e6f-a7c2-9d0b1e3f4a5c'
const ACS_USER_EXAMPLE = '0b6e2d4f-1a3c-4e5b-8d7f-2c9a1b3e5d70'

const createUserIdentityRequest: JsonObject = {
  type: 'object',
  description:
    'At least one of user_identity_key, email_address, phone_number. A null field counts as absent. ' +
    'Unknown fields are rejected.',
  properties: {
    user_identity_key: {
      type: ['string', 'null'],
      minLength: 1,
      maxLength: LIMITS.userIdentityKey,
      description: 'Your own unique key for the identity, e.g. the app account id.',
    },
    email_address: {
      type: ['string', 'null'],
      format: 'email',
      maxLength: LIMITS.emailAddress,
    },
    phone_number: {
      type: ['string', 'null'],
      pattern: E164_PATTERN,
      maxLength: 16,
      description: 'E.164, e.g. +15555550100.',
    },
    full_name: { type: ['string', 'null'], minLength: 1, maxLength: LIMITS.fullName },
    acs_user_ids: {
      type: ['array', 'null'],
      items: { type: 'string', format: 'uuid' },
      maxItems: LIMITS.acsUserIds,
      description:
        'ACS users (one per access-control system) to link to the new identity with ' +
        'user_identities/add_acs_user. All must exist, or nothing is created.',
    },
  },
  additionalProperties: false,
  anyOf: UNIQUE_FIELDS.map((field) => ({
    required: [field],
    properties: { [field]: { type: 'string' } },
  })),
}

const userIdentity: JsonObject = {
  type: 'object',
  description:
    "Seam's user_identity object, as Seam returns it (https://docs.seam.co/latest/api/user_identities). " +
    'Fields Seam adds later are passed on.',
  required: [
    'user_identity_id',
    'user_identity_key',
    'email_address',
    'phone_number',
    'display_name',
    'full_name',
    'created_at',
    'workspace_id',
    'errors',
    'warnings',
    'acs_user_ids',
  ],
  properties: {
    user_identity_id: { type: 'string', format: 'uuid' },
    user_identity_key: { type: ['string', 'null'] },
    email_address: { type: ['string', 'null'], format: 'email' },
    phone_number: { type: ['string', 'null'] },
    display_name: { type: 'string' },
    full_name: { type: ['string', 'null'] },
    created_at: { type: 'string', format: 'date-time' },
    workspace_id: { type: 'string', format: 'uuid' },
    errors: { type: 'array', items: { type: 'object' } },
    warnings: { type: 'array', items: { type: 'object' } },
    acs_user_ids: {
      type: 'array',
      items: { type: 'string', format: 'uuid' },
      description: 'The linked ACS users, every acs_user_ids entry of the request included.',
    },
  },
  additionalProperties: true,
}

const stageNames = [...STAGES.map((stage) => stage.name), USER_IDENTITY_STAGE]

const deletionSummary: JsonObject = {
  type: 'object',
  description: 'What the deletion removed, per stage (on SUCCEEDED).',
  required: STAGES.map((stage) => stage.summaryKey),
  properties: Object.fromEntries(
    STAGES.map((stage) => [
      stage.summaryKey,
      { type: 'integer', minimum: 0, description: `${stage.title} ${stage.verb}` },
    ]),
  ),
  additionalProperties: false,
}

const deletion: JsonObject = {
  type: 'object',
  description: 'A staged deletion of a user identity (one Step Functions execution).',
  required: ['deletion_id', 'user_identity_id', 'status', 'stage', 'started_at'],
  properties: {
    deletion_id: {
      type: 'string',
      pattern: DELETION_ID_PATTERN,
      description: '`<user_identity_id>--<attempt>`; a new attempt after a failed one counts up.',
    },
    user_identity_id: { type: 'string' },
    status: {
      type: 'string',
      enum: ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'],
    },
    stage: {
      type: 'string',
      enum: stageNames,
      description: `The current or last stage, in order: ${stageNames.join(', ')}.`,
    },
    started_at: { type: 'string', format: 'date-time' },
    stopped_at: { type: 'string', format: 'date-time' },
    summary: ref('DeletionSummary'),
    error: {
      type: 'object',
      description: 'On FAILED / TIMED_OUT / ABORTED: which stage, which resource ids are stuck.',
      required: ['type', 'message'],
      properties: { type: { type: 'string' }, message: { type: 'string' } },
    },
  },
  additionalProperties: false,
}

const errorObject: JsonObject = {
  type: 'object',
  required: ['type', 'message', 'request_id'],
  properties: {
    type: { type: 'string', pattern: '^[a-z][a-z0-9_]*$', description: 'snake_case' },
    message: { type: 'string', description: 'A sentence a person can act on.' },
    request_id: { type: 'string', description: 'Quote it when asking about this request.' },
    fields: {
      type: 'array',
      items: { type: 'string' },
      description: 'invalid_input: the body fields rejected.',
    },
    field: {
      type: 'string',
      enum: [...UNIQUE_FIELDS],
      description: 'user_identity_conflict: the first field already in use.',
    },
    user_identity_id: {
      type: 'string',
      description:
        'user_identity_conflict: the identity holding that field; acs_user_already_linked: the ' +
        'identity holding acs_user_id; on a POST that failed after creating its identity (404, 502, ' +
        '503, 504): the identity it left behind, which a repeat of the same request completes.',
    },
    conflicts: {
      type: 'array',
      description: 'user_identity_conflict: every field in use, and by which identity.',
      items: {
        type: 'object',
        required: ['field', 'user_identity_id'],
        properties: {
          field: { type: 'string', enum: [...UNIQUE_FIELDS] },
          user_identity_id: { type: 'string' },
        },
      },
    },
    acs_user_id: {
      type: 'string',
      description:
        'acs_user_not_found: the unknown ACS user; acs_user_already_linked: the first ACS user ' +
        'linked to another identity.',
    },
    linked_acs_users: {
      type: 'array',
      description: 'acs_user_already_linked: every such ACS user, and the identity holding it.',
      items: {
        type: 'object',
        required: ['acs_user_id', 'user_identity_id'],
        properties: { acs_user_id: { type: 'string' }, user_identity_id: { type: 'string' } },
      },
    },
    seam_request_id: { type: 'string', description: "Seam's request id, when Seam answered." },
  },
  additionalProperties: true,
}

const retryAfter: JsonObject = {
  description: 'Seconds to wait before retrying, when Seam said so.',
  schema: { type: 'integer', minimum: 1 },
}

export const openApiDocument: OpenApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'Seam user identity lifecycle',
    version: '1.0.0',
    summary: 'Create Seam user identities and delete them in stages.',
    description:
      'Backend services of a mobile app call this to give a new app account its Seam user identity ' +
      '(linking its ACS users) and to delete an identity with everything it holds, in stages: ' +
      `${stageNames.join(' → ')}. Deployed behind API Gateway with IAM (SigV4) authorization; ` +
      'runnable locally with `npm start` (no authorization). Every error has the shape ' +
      '{"error": {"type", "message", "request_id"}}; never a stack trace.',
  },
  servers: [
    { url: 'http://127.0.0.1:3000', description: 'npm start' },
    {
      url: 'https://{restApiId}.execute-api.{region}.amazonaws.com/{stage}',
      description: 'API Gateway (stack output ApiUrl)',
      variables: {
        restApiId: { default: 'abc123defg' },
        region: { default: 'us-east-1' },
        stage: { default: 'dev' },
      },
    },
  ],
  security: [{ awsSigV4: [] }],
  tags: [
    { name: 'user identities', description: 'Create and delete Seam user identities' },
    { name: 'deletions', description: 'Progress of staged deletions' },
    { name: 'local', description: 'Served by the local server (`npm start`)' },
  ],
  paths: {
    '/user-identities': {
      post: {
        operationId: 'createUserIdentity',
        tags: ['user identities'],
        summary: 'Create a Seam user identity and link its ACS users',
        description:
          'Answers 201 once the identity exists in Seam and every acs_user_ids entry is linked to it. ' +
          'A request repeated after a lost response answers 201 with the identity the first attempt ' +
          'created (header X-Replayed: true), not 409.',
        requestBody: {
          required: true,
          description: `application/json (UTF-8), at most ${MAX_BODY_BYTES} bytes.`,
          content: json(ref('CreateUserIdentityRequest'), {
            user_identity_key: 'app-account-42',
            email_address: 'jane@example.com',
            full_name: 'Jane Doe',
            acs_user_ids: [ACS_USER_EXAMPLE],
          }),
        },
        responses: {
          '201': {
            description: 'Created, and every ACS user linked.',
            headers: {
              'X-Replayed': {
                description: 'true when an earlier attempt of this same request created it.',
                schema: { type: 'string', const: 'true' },
              },
            },
            content: json(ref('UserIdentityResponse')),
          },
          '400': responseRef('InvalidInput'),
          '404': errorResponse(
            'An acs_user_ids entry does not exist. Found before creating: nothing was created. ' +
              'Found while linking (the ACS user was deleted meanwhile): the new identity is deleted ' +
              'again, or — when that is not safe — kept and named in error.user_identity_id.',
            ['acs_user_not_found'],
            {
              type: 'acs_user_not_found',
              message: `ACS user ${ACS_USER_EXAMPLE} does not exist; no user identity was created.`,
              acs_user_id: ACS_USER_EXAMPLE,
            },
          ),
          '409': errorResponse(
            'user_identity_conflict: the key, email address or phone number is already used in the ' +
              'workspace. acs_user_already_linked: an acs_user_ids entry belongs to another user ' +
              'identity (an ACS user is never moved off it); nothing was created.',
            ['user_identity_conflict', 'acs_user_already_linked'],
            {
              type: 'user_identity_conflict',
              message: `The email_address is already used by user identity ${UUID_EXAMPLE} in this workspace.`,
              field: 'email_address',
              user_identity_id: UUID_EXAMPLE,
              conflicts: [{ field: 'email_address', user_identity_id: UUID_EXAMPLE }],
            },
          ),
          '413': responseRef('PayloadTooLarge'),
          '415': responseRef('UnsupportedMediaType'),
          '502': responseRef('SeamError'),
          '503': responseRef('SeamUnavailable'),
          '403': responseRef('NotAuthorized'),
          '429': responseRef('Throttled'),
          '504': responseRef('RequestTimeout'),
          default: responseRef('InternalError'),
        },
      },
    },
    '/user-identities/{user_identity_id}': {
      delete: {
        operationId: 'deleteUserIdentity',
        tags: ['user identities'],
        summary: 'Start the staged deletion of a user identity',
        description:
          'Starts the deletion workflow (a Step Functions execution). A second DELETE while one is ' +
          'RUNNING (or after one SUCCEEDED) answers with that deletion; after a failed one it starts ' +
          'the next attempt.',
        parameters: [
          {
            name: 'user_identity_id',
            in: 'path',
            required: true,
            schema: { type: 'string', pattern: SEAM_ID_PATTERN },
          },
        ],
        responses: {
          '202': {
            description: 'The deletion has been started (or was already under way).',
            headers: {
              Location: {
                description: '/deletions/{deletion_id}',
                required: true,
                schema: { type: 'string' },
              },
            },
            content: json(ref('DeletionResponse')),
          },
          '400': responseRef('InvalidInput'),
          '404': errorResponse('Seam has no such user identity.', ['user_identity_not_found'], {
            type: 'user_identity_not_found',
            message: `Seam has no user identity ${UUID_EXAMPLE}.`,
          }),
          '409': errorResponse(
            'Too many failed attempts; an operator must look at them first.',
            ['too_many_deletion_attempts'],
            {
              type: 'too_many_deletion_attempts',
              message: `User identity ${UUID_EXAMPLE} has failed to delete 50 times.`,
            },
          ),
          '502': responseRef('SeamError'),
          '503': responseRef('SeamUnavailable'),
          '403': responseRef('NotAuthorized'),
          '429': responseRef('Throttled'),
          '504': responseRef('RequestTimeout'),
          default: responseRef('InternalError'),
        },
      },
    },
    '/deletions/{deletion_id}': {
      get: {
        operationId: 'getDeletion',
        tags: ['deletions'],
        summary: 'The status, stage, summary or error of a deletion',
        parameters: [
          {
            name: 'deletion_id',
            in: 'path',
            required: true,
            description: 'From the Location header of DELETE /user-identities/{user_identity_id}.',
            schema: { type: 'string' },
          },
        ],
        responses: {
          '200': {
            description: 'The deletion.',
            content: json(ref('DeletionResponse'), {
              deletion: {
                deletion_id: `${UUID_EXAMPLE}--1`,
                user_identity_id: UUID_EXAMPLE,
                status: 'SUCCEEDED',
                stage: USER_IDENTITY_STAGE,
                started_at: '2025-01-01T12:00:00.000Z',
                stopped_at: '2025-01-01T12:00:41.000Z',
                summary: Object.fromEntries(STAGES.map((stage) => [stage.summaryKey, 1])),
              },
            }),
          },
          '404': errorResponse('There is no such deletion.', ['deletion_not_found'], {
            type: 'deletion_not_found',
            message: `There is no deletion ${UUID_EXAMPLE}--1.`,
          }),
          '403': responseRef('NotAuthorized'),
          '429': responseRef('Throttled'),
          '504': responseRef('RequestTimeout'),
          default: responseRef('InternalError'),
        },
      },
    },
    ...BULK_AND_PLAN_PATHS,
    '/health': {
      get: {
        operationId: 'health',
        tags: ['local'],
        summary: 'Liveness of the local server (optional on API Gateway)',
        security: [],
        responses: {
          '200': {
            description: 'Up.',
            content: json(
              {
                type: 'object',
                required: ['ok'],
                properties: { ok: { const: true } },
              },
              { ok: true },
            ),
          },
        },
      },
    },
    '/openapi.json': {
      get: {
        operationId: 'openApiDocument',
        tags: ['local'],
        summary: 'This document (local server)',
        security: [],
        responses: {
          '200': {
            description: 'The OpenAPI 3.1 document.',
            content: json({ type: 'object', required: ['openapi', 'info', 'paths'] }),
          },
        },
      },
    },
  },
  components: {
    securitySchemes: {
      awsSigV4: {
        type: 'apiKey',
        in: 'header',
        name: 'Authorization',
        description:
          'AWS Signature Version 4 with IAM credentials allowed execute-api:Invoke on the API ' +
          '(API Gateway only; the local server needs none).',
        'x-amazon-apigateway-authtype': 'awsSigv4',
      },
    },
    schemas: {
      CreateUserIdentityRequest: createUserIdentityRequest,
      UserIdentity: userIdentity,
      UserIdentityResponse: {
        type: 'object',
        required: ['user_identity'],
        properties: { user_identity: ref('UserIdentity') },
      },
      Deletion: deletion,
      DeletionSummary: deletionSummary,
      DeletionResponse: {
        type: 'object',
        required: ['deletion'],
        properties: { deletion: ref('Deletion') },
      },
      ...BULK_AND_PLAN_SCHEMAS,
      Error: errorObject,
      ErrorResponse: {
        type: 'object',
        required: ['error'],
        properties: { error: ref('Error') },
        additionalProperties: false,
      },
    },
    headers: { 'Retry-After': retryAfter },
    responses: {
      InvalidInput: errorResponse(
        'Malformed JSON, an empty body, wrong types, a bad email or phone, an unknown field, or an ' +
          'invalid id. The message names every field; error.fields lists them.',
        ['invalid_input'],
        {
          type: 'invalid_input',
          message:
            'Invalid request body: phone_number: must be in E.164 format, e.g. +15555550100.',
          fields: ['phone_number'],
        },
      ),
      PayloadTooLarge: errorResponse(
        `The body is over ${MAX_BODY_BYTES} bytes (16 KiB).`,
        ['payload_too_large'],
        {
          type: 'payload_too_large',
          message: `The request body is 17000 bytes; the limit is ${MAX_BODY_BYTES} bytes (16 KiB).`,
        },
      ),
      UnsupportedMediaType: errorResponse(
        'The Content-Type is missing or not application/json (UTF-8).',
        ['unsupported_media_type'],
        {
          type: 'unsupported_media_type',
          message: 'The Content-Type header is missing; send application/json (UTF-8).',
        },
      ),
      SeamError: errorResponse(
        'Seam failed the request, or this service is not configured to call it.',
        ['seam_error', 'seam_misconfigured'],
        {
          type: 'seam_error',
          message: 'Seam failed to process the request (internal_server_error, HTTP 500).',
        },
      ),
      SeamUnavailable: {
        ...errorResponse(
          'Seam is unavailable or rate-limiting this service; retry later.',
          ['seam_unavailable'],
          {
            type: 'seam_unavailable',
            message:
              'Seam is unavailable right now; nothing was changed that a retry would not complete. Retry later.',
          },
        ),
        headers: { 'Retry-After': { $ref: '#/components/headers/Retry-After' } },
      },
      NotAuthorized: errorResponse(
        'API Gateway only: the request is not signed with SigV4, its signature or credentials are ' +
          'invalid or expired, or the caller may not invoke the API. API Gateway also answers this ' +
          'to a path or method the API does not have (the local server answers 404 route_not_found ' +
          'and 405 method_not_allowed there).',
        ['not_authenticated', 'access_denied'],
        {
          type: 'not_authenticated',
          message: 'Missing Authentication Token',
        },
      ),
      Throttled: errorResponse(
        "API Gateway only: the stage's request rate or burst limit was exceeded; retry with backoff.",
        ['throttled'],
        { type: 'throttled', message: 'Too Many Requests' },
      ),
      RequestTimeout: errorResponse(
        'The request took too long and was stopped; retrying it is safe.',
        ['request_timeout'],
        {
          type: 'request_timeout',
          message: 'The request took too long and was stopped; it may have partly taken effect.',
        },
      ),
      InternalError: errorResponse('An unexpected error.', ['internal_error'], {
        type: 'internal_error',
        message: 'An unexpected error occurred. Retry later; quote the request_id if it persists.',
      }),
    },
  },
}
