/**
 * The OpenAPI 3.1 document, generated from the contract (http.ts): its schemas become components, each
 * entry of OPERATIONS a path operation with its parameters, body, success response and one response per
 * error status, listing that status's error types. `npm run openapi` writes it to openapi.json; the
 * local server serves it at GET /openapi.json.
 */
import { z } from 'zod'
import {
  API_ERRORS,
  CreateUserIdentityRequest,
  Deletion,
  DeletionResponse,
  DeletionSummary,
  ERROR_TYPES,
  ErrorObject,
  ErrorResponse,
  type ErrorType,
  errorExample,
  HealthResponse,
  IndexResponse,
  OPERATIONS,
  OpenApiResponse,
  type Operation,
  TAGS,
  UserIdentity,
  UserIdentityResponse,
  WEBHOOK_GATEWAY_ERRORS,
} from './http.js'

/** A JSON value of the document. */
export type JsonObject = { [key: string]: JsonValue }
export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject

/** The schemas that become components, by name. */
const COMPONENTS: Record<string, z.ZodType> = {
  CreateUserIdentityRequest,
  UserIdentity,
  UserIdentityResponse,
  Deletion,
  DeletionSummary,
  DeletionResponse,
  Error: ErrorObject,
  ErrorResponse,
  Health: HealthResponse,
  Index: IndexResponse,
  OpenApi: OpenApiResponse,
}

const schemaRef = (name: string): JsonObject => ({ $ref: `#/components/schemas/${name}` })

/** The JSON Schema (2020-12, OpenAPI 3.1's dialect) of every component, referring to one another. */
function componentSchemas(): JsonObject {
  const registry = z.registry<{ id: string }>()
  for (const [id, schema] of Object.entries(COMPONENTS)) registry.add(schema, { id })
  const { schemas } = z.toJSONSchema(registry, {
    target: 'draft-2020-12',
    uri: (id) => `#/components/schemas/${id}`,
  })
  // $schema and $id belong to standalone documents; inside OpenAPI the dialect is the document's.
  return Object.fromEntries(
    Object.entries(schemas).map(([id, { $schema: _, $id: __, ...schema }]) => [
      id,
      schema as JsonObject,
    ]),
  )
}

/** A schema inline: a component's $ref when it is one, else its JSON Schema. */
function inline(schema: z.ZodType): JsonObject {
  const name = Object.entries(COMPONENTS).find(([, component]) => component === schema)?.[0]
  if (name) return schemaRef(name)
  const { $schema: _, ...json } = z.toJSONSchema(schema, { target: 'draft-2020-12' })
  return json as JsonObject
}

const json = (schema: JsonObject, example?: JsonValue): JsonObject => ({
  'application/json': { schema, ...(example === undefined ? {} : { example }) },
})

/** One response per error status, naming that status's error types and what each means. */
function errorResponses(types: readonly ErrorType[]): JsonObject {
  const byStatus = new Map<number, ErrorType[]>()
  for (const type of types) {
    const { status } = ERROR_TYPES[type]
    byStatus.set(status, [...(byStatus.get(status) ?? []), type])
  }
  const responses: JsonObject = {}
  for (const [status, group] of [...byStatus].sort(([a], [b]) => a - b)) {
    const schema = {
      allOf: [
        schemaRef('ErrorResponse'),
        {
          type: 'object',
          properties: { error: { type: 'object', properties: { type: { enum: group } } } },
        },
      ],
    }
    responses[String(status)] = {
      description: group.map((type) => `${type}: ${ERROR_TYPES[type].description}`).join(' '),
      content: json(schema, errorExample(group[0] as ErrorType)),
      ...(group.includes('seam_unavailable')
        ? {
            headers: {
              'Retry-After': {
                description: 'Seconds to wait before retrying, when Seam said so.',
                schema: { type: 'integer', minimum: 1 },
              },
            },
          }
        : {}),
    }
  }
  return responses
}

function pathParameters(operation: Operation): JsonObject[] {
  const shape = operation.params?.shape ?? {}
  return Object.entries(shape).map(([name, schema]) => {
    const { description, examples, ...rest } = inline(schema as z.ZodType)
    return {
      name,
      in: 'path',
      required: true,
      ...(description === undefined ? {} : { description }),
      schema: rest,
      ...(Array.isArray(examples) ? { example: examples[0] ?? null } : {}),
    }
  })
}

function operationObject(operation: Operation): JsonObject {
  const { success } = operation
  const headers = Object.entries(success.headers ?? {}).map(([name, header]) => [
    name,
    {
      description: header.description,
      ...(header.required ? { required: true } : {}),
      schema: inline(header.schema),
    },
  ])
  const parameters = pathParameters(operation)
  return {
    operationId: operation.operationId,
    tags: [operation.tag],
    summary: operation.summary,
    ...(operation.description ? { description: operation.description } : {}),
    ...(operation.served === 'api' ? {} : { security: [] }),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(operation.body
      ? { requestBody: { required: true, content: json(inline(operation.body)) } }
      : {}),
    responses: {
      [String(success.status)]: {
        description: success.description,
        ...(headers.length > 0 ? { headers: Object.fromEntries(headers) } : {}),
        ...(success.schema ? { content: json(inline(success.schema)) } : {}),
      },
      ...errorResponses([...operation.errors, ...gatewayErrors(operation)]),
    },
  }
}

/** The errors API Gateway itself answers on the operation's route. */
function gatewayErrors(operation: Operation): readonly ErrorType[] {
  if (operation.served === 'api') return API_ERRORS
  return operation.served === 'webhook' ? WEBHOOK_GATEWAY_ERRORS : []
}

/** The whole document. */
export function buildOpenApiDocument(): JsonObject {
  const paths: Record<string, JsonObject> = {}
  for (const operation of Object.values(OPERATIONS) as Operation[]) {
    paths[operation.path] = {
      ...paths[operation.path],
      [operation.method.toLowerCase()]: operationObject(operation),
    }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Seam user identity lifecycle',
      version: '1.0.0',
      summary: 'Create Seam user identities and delete them in stages.',
      description:
        'Backend services of a mobile app call this to give a new app account its Seam user ' +
        'identity (linking its ACS users) and to delete an identity with everything it holds, in ' +
        'stages. Deployed behind API Gateway with IAM (SigV4) authorization; runnable locally with ' +
        '`npm start` (no authorization). Every error has the shape ' +
        '{"error": {"type", "message", "request_id"}}; never a stack trace. Text fields are valid ' +
        'Unicode without control characters, normalized to NFC; ids are UUIDs in any case, ' +
        'lower-cased before use.',
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
    tags: Object.entries(TAGS).map(([name, description]) => ({ name, description })),
    paths,
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
      schemas: componentSchemas(),
    },
  }
}

/** openapi.json as `npm run openapi` writes it. */
export function openApiJson(): string {
  return `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`
}
