/**
 * The OpenAPI paths and schemas of the deletion plan and the bulk deletion routes, merged into the
 * document by openapi.ts.
 */
import { MAX_BULK_BODY_BYTES, MAX_BULK_IDENTITIES, MAX_LISTED_FAILURES } from '../contract/bulk.js'
import { STAGES } from '../core/stages.js'
import type { JsonObject } from './openapi.js'

const ref = (name: string): JsonObject => ({ $ref: `#/components/schemas/${name}` })
const responseRef = (name: string): JsonObject => ({ $ref: `#/components/responses/${name}` })
const json = (schema: JsonObject): JsonObject => ({ 'application/json': { schema } })
const UUID = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'
const STATUS = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED']
const count = { type: 'integer', minimum: 0 }

function typedError(description: string, type: string): JsonObject {
  return {
    description,
    content: json({
      allOf: [
        ref('ErrorResponse'),
        {
          type: 'object',
          properties: { error: { type: 'object', properties: { type: { enum: [type] } } } },
        },
      ],
    }),
  }
}

const gateway = {
  '403': responseRef('NotAuthorized'),
  '429': responseRef('Throttled'),
  '504': responseRef('RequestTimeout'),
  default: responseRef('InternalError'),
}

const item: JsonObject = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string' }, acs_system_id: { type: 'string' } },
  additionalProperties: false,
}

export const BULK_AND_PLAN_SCHEMAS: JsonObject = {
  DeletionPlan: {
    type: 'object',
    description: 'What a deletion would remove now: every page of every stage.',
    required: ['user_identity_id', 'stages', 'counts'],
    properties: {
      user_identity_id: { type: 'string' },
      stages: {
        type: 'object',
        required: STAGES.map((s) => s.name),
        properties: Object.fromEntries(STAGES.map((s) => [s.name, { type: 'array', items: item }])),
        additionalProperties: false,
      },
      counts: {
        type: 'object',
        description: 'The keys of the Deletion summary.',
        required: STAGES.map((s) => s.summaryKey),
        properties: Object.fromEntries(STAGES.map((s) => [s.summaryKey, count])),
        additionalProperties: false,
      },
    },
    additionalProperties: false,
  },
  BulkDeletionRequest: {
    type: 'object',
    required: ['user_identity_ids'],
    properties: {
      user_identity_ids: {
        type: 'array',
        minItems: 1,
        maxItems: MAX_BULK_IDENTITIES,
        uniqueItems: true,
        items: { type: 'string', pattern: UUID },
      },
    },
    additionalProperties: false,
  },
  BulkDeletion: {
    type: 'object',
    required: ['bulk_deletion_id', 'status', 'started_at', 'total', 'counts'],
    properties: {
      bulk_deletion_id: { type: 'string', pattern: UUID },
      status: { type: 'string', enum: STATUS },
      started_at: { type: 'string', format: 'date-time' },
      stopped_at: { type: 'string', format: 'date-time' },
      total: count,
      counts: {
        type: 'object',
        description:
          'Sum = total. While RUNNING an identity Seam does not have counts as succeeded; not_found is told apart when the bulk deletion ends.',
        required: ['pending', 'running', 'succeeded', 'failed', 'not_found'],
        properties: {
          pending: count,
          running: count,
          succeeded: count,
          failed: count,
          not_found: count,
        },
        additionalProperties: false,
      },
      failures: {
        type: 'array',
        maxItems: MAX_LISTED_FAILURES,
        description: `When ended: the first ${MAX_LISTED_FAILURES} identities that failed, each with its deletion's error.`,
        items: {
          type: 'object',
          required: ['user_identity_id', 'error'],
          properties: {
            user_identity_id: { type: 'string' },
            deletion_id: { type: 'string' },
            error: {
              type: 'object',
              required: ['type', 'message'],
              properties: { type: { type: 'string' }, message: { type: 'string' } },
              additionalProperties: false,
            },
          },
          additionalProperties: false,
        },
      },
    },
    additionalProperties: false,
  },
  BulkDeletionResponse: {
    type: 'object',
    required: ['bulk_deletion'],
    properties: { bulk_deletion: ref('BulkDeletion') },
  },
}

export const BULK_AND_PLAN_PATHS = {
  '/user-identities/{user_identity_id}/deletion-plan': {
    get: {
      operationId: 'getDeletionPlan',
      tags: ['deletions'],
      summary: 'What a deletion of the user identity would remove now (changes nothing)',
      parameters: [
        { name: 'user_identity_id', in: 'path', required: true, schema: { type: 'string' } },
      ],
      responses: {
        '200': {
          description: 'The plan.',
          content: json({
            type: 'object',
            required: ['deletion_plan'],
            properties: { deletion_plan: ref('DeletionPlan') },
          }),
        },
        '400': responseRef('InvalidInput'),
        '404': typedError('Seam has no such user identity.', 'user_identity_not_found'),
        '502': responseRef('SeamError'),
        '503': responseRef('SeamUnavailable'),
        ...gateway,
      },
    },
  },
  '/bulk-deletions': {
    post: {
      operationId: 'startBulkDeletion',
      tags: ['deletions'],
      summary: 'Delete up to 1,000 user identities, each by the staged deletion of DELETE',
      description:
        'Each identity is deleted under the same deletion_id rules as DELETE /user-identities/{id} (a ' +
        'running deletion is joined, never doubled). An identity Seam does not have counts as not_found.',
      requestBody: {
        required: true,
        description: `application/json (UTF-8), at most ${MAX_BULK_BODY_BYTES} bytes.`,
        content: json(ref('BulkDeletionRequest')),
      },
      responses: {
        '202': {
          description: 'The bulk deletion has been started.',
          headers: {
            Location: {
              description: '/bulk-deletions/{bulk_deletion_id}',
              required: true,
              schema: { type: 'string' },
            },
          },
          content: json(ref('BulkDeletionResponse')),
        },
        '400': responseRef('InvalidInput'),
        '413': typedError(`The body is over ${MAX_BULK_BODY_BYTES} bytes.`, 'payload_too_large'),
        '415': typedError('The body is not application/json.', 'unsupported_media_type'),
        ...gateway,
      },
    },
  },
  '/bulk-deletions/{bulk_deletion_id}': {
    get: {
      operationId: 'getBulkDeletion',
      tags: ['deletions'],
      summary: 'The progress, counts and failures of a bulk deletion',
      parameters: [
        { name: 'bulk_deletion_id', in: 'path', required: true, schema: { type: 'string' } },
      ],
      responses: {
        '200': { description: 'The bulk deletion.', content: json(ref('BulkDeletionResponse')) },
        '404': typedError('There is no such bulk deletion.', 'bulk_deletion_not_found'),
        ...gateway,
      },
    },
  },
}
