/**
 * The OpenAPI document (functions/api/openapi.ts) against the code and the running local server:
 * - it is well-formed OpenAPI 3.1 as far as checks without a validator package go (structure, keywords,
 *   path parameters, unique operation ids, every $ref resolving, examples matching their schemas);
 * - its POST body schema agrees with the zod schema the handler validates with;
 * - every route the server answers (ROUTES + /health) is in it, every operation in it is answered;
 * - the bodies the running server sends match the documented schema for their status.
 */
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ZodTypeAny, z } from 'zod'
import { createUserIdentityBody } from '../../functions/api/create-user-identity-core.js'
import {
  openApiDocument as doc,
  type JsonObject,
  type JsonValue,
  type OpenApiDocument,
} from '../../functions/api/openapi.js'
import { ROUTES } from '../../functions/api/routes.js'
import { CONTRACT_GATEWAY_RESPONSES } from '../../infra/constructs/gateway-responses.js'
import { type LocalRuntime, startLocalRuntime } from '../../local/runtime.js'
import type { SeamEmulator } from '../../local/seam-emulator/index.js'
import { type Answer, send } from './helpers.js'

// ---------------------------------------------------------------------------------------------------
// A small JSON Schema (2020-12) checker for the keywords the document uses, and $ref resolution.

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** Resolves a local `#/…` JSON pointer in the document. */
function resolvePointer(root: JsonValue, ref: string): JsonValue | undefined {
  if (!ref.startsWith('#/')) return undefined
  let node: JsonValue | undefined = root
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~')
    if (!isObject(node)) return undefined
    node = node[key]
  }
  return node
}

/** Follows $ref until a node without one. */
function deref(node: JsonValue | undefined): JsonValue | undefined {
  let current = node
  for (let hops = 0; isObject(current) && typeof current.$ref === 'string'; hops++) {
    if (hops > 20) throw new Error('$ref cycle')
    current = resolvePointer(doc, current.$ref)
  }
  return current
}

const FORMATS: Record<string, RegExp> = {
  uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
  'date-time': /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/,
  email: /^[^@\s]+@[^@\s]+\.[^@\s]+$/,
}

function typeOf(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number'
  return typeof value
}

/** Keywords validate() checks, and annotations it may ignore; any other keyword fails loudly. */
const KEYWORDS = new Set([
  ...['type', 'const', 'enum', 'minLength', 'maxLength', 'pattern', 'format', 'minimum'],
  ...['maxItems', 'items', 'properties', 'required', 'additionalProperties', 'allOf', 'anyOf'],
  ...['description', 'title', 'examples', 'default', 'deprecated'],
])

/** Errors of `value` against `schema` (empty when valid), each prefixed with its JSON path. */
function validate(schema: JsonValue | undefined, value: unknown, path = '$'): string[] {
  const s = deref(schema)
  if (s === true || s === undefined) return []
  if (s === false) return [`${path}: no value allowed`]
  if (!isObject(s)) return [`${path}: schema is not an object`]
  const unknown = Object.keys(s).filter((k) => !KEYWORDS.has(k))
  if (unknown.length > 0) throw new Error(`${path}: the test's checker lacks ${unknown.join(', ')}`)
  const errors: string[] = []
  if (s.type !== undefined) {
    const types = Array.isArray(s.type) ? s.type : [s.type]
    const actual = typeOf(value)
    const ok = types.includes(actual) || (actual === 'integer' && types.includes('number'))
    if (!ok) return [`${path}: expected ${types.join('|')}, got ${actual}`]
  }
  if ('const' in s && JSON.stringify(s.const) !== JSON.stringify(value)) {
    errors.push(`${path}: expected ${JSON.stringify(s.const)}`)
  }
  if (Array.isArray(s.enum) && !s.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))) {
    errors.push(`${path}: ${JSON.stringify(value)} not in ${JSON.stringify(s.enum)}`)
  }
  if (typeof value === 'string') {
    if (typeof s.minLength === 'number' && value.length < s.minLength)
      errors.push(`${path}: shorter than ${s.minLength}`)
    if (typeof s.maxLength === 'number' && value.length > s.maxLength)
      errors.push(`${path}: longer than ${s.maxLength}`)
    if (typeof s.pattern === 'string' && !new RegExp(s.pattern, 'u').test(value))
      errors.push(`${path}: does not match ${s.pattern}`)
    const format = typeof s.format === 'string' ? FORMATS[s.format] : undefined
    if (format && !format.test(value)) errors.push(`${path}: not a ${s.format}`)
  }
  if (typeof value === 'number' && typeof s.minimum === 'number' && value < s.minimum) {
    errors.push(`${path}: below ${s.minimum}`)
  }
  if (Array.isArray(value)) {
    if (typeof s.maxItems === 'number' && value.length > s.maxItems)
      errors.push(`${path}: more than ${s.maxItems} items`)
    if (s.items !== undefined) {
      for (const [i, item] of value.entries())
        errors.push(...validate(s.items, item, `${path}[${i}]`))
    }
  }
  if (isObject(value)) {
    const properties = isObject(s.properties) ? s.properties : {}
    for (const name of Array.isArray(s.required) ? s.required : []) {
      if (typeof name === 'string' && !(name in value)) errors.push(`${path}.${name}: required`)
    }
    for (const [name, child] of Object.entries(value)) {
      const propertySchema = properties[name]
      if (propertySchema !== undefined) {
        errors.push(...validate(propertySchema, child, `${path}.${name}`))
      } else if (s.additionalProperties === false) {
        errors.push(`${path}.${name}: not allowed`)
      } else if (isObject(s.additionalProperties)) {
        errors.push(...validate(s.additionalProperties, child, `${path}.${name}`))
      }
    }
  }
  if (Array.isArray(s.allOf)) {
    for (const part of s.allOf) errors.push(...validate(part, value, path))
  }
  if (Array.isArray(s.anyOf) && !s.anyOf.some((part) => validate(part, value, path).length === 0)) {
    errors.push(`${path}: matches none of anyOf`)
  }
  return errors
}

/** Every node of the document with its JSON pointer. */
function* walk(node: JsonValue, pointer = '#'): Generator<[string, JsonValue]> {
  yield [pointer, node]
  if (Array.isArray(node)) {
    for (const [i, child] of node.entries()) yield* walk(child, `${pointer}/${i}`)
  } else if (isObject(node)) {
    for (const [key, child] of Object.entries(node)) {
      yield* walk(child, `${pointer}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`)
    }
  }
}

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']
const SCHEMA_TYPES = ['string', 'number', 'integer', 'boolean', 'array', 'object', 'null']

const operations = () =>
  Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => HTTP_METHODS.includes(method))
      .map(([method, operation]) => ({ path, method, operation })),
  )

/** The schema of `status`'s JSON body in an operation (falling back to `default`). */
function responseSchema(path: string, method: string, status: number): JsonValue | undefined {
  const responses = doc.paths[path]?.[method]?.responses ?? {}
  const response = deref(responses[String(status)] ?? responses.default)
  if (!isObject(response) || !isObject(response.content)) return undefined
  const media = response.content['application/json']
  return isObject(media) ? media.schema : undefined
}

// ---------------------------------------------------------------------------------------------------
// The document itself

describe('the OpenAPI document is well-formed OpenAPI 3.1', () => {
  it('has the required top-level fields and survives a JSON round trip', () => {
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/)
    expect(typeof doc.info.title).toBe('string')
    expect(typeof doc.info.version).toBe('string')
    expect(JSON.parse(JSON.stringify(doc))).toEqual(doc)
    const allowedTop = [
      'openapi',
      'info',
      'jsonSchemaDialect',
      'servers',
      'paths',
      'webhooks',
      'components',
      'security',
      'tags',
      'externalDocs',
    ]
    for (const key of Object.keys(doc)) {
      expect(allowedTop.includes(key) || key.startsWith('x-'), key).toBe(true)
    }
    const allowedComponents = [
      'schemas',
      'responses',
      'parameters',
      'examples',
      'requestBodies',
      'headers',
      'securitySchemes',
      'links',
      'callbacks',
      'pathItems',
    ]
    for (const key of Object.keys(doc.components)) expect(allowedComponents).toContain(key)
    for (const server of (doc.servers ?? []) as JsonObject[]) {
      expect(typeof server.url).toBe('string')
      for (const variable of Object.values((server.variables ?? {}) as JsonObject)) {
        expect(typeof (variable as JsonObject).default, JSON.stringify(server)).toBe('string')
      }
    }
  })

  it('every $ref is local and resolves', () => {
    const refs = [...walk(doc)].filter(([pointer]) => pointer.endsWith('/$ref'))
    expect(refs.length).toBeGreaterThan(10)
    for (const [pointer, ref] of refs) {
      expect(typeof ref, pointer).toBe('string')
      expect(resolvePointer(doc, ref as string), `${pointer} → ${String(ref)}`).toBeDefined()
    }
  })

  it('every operation has a unique operationId, a summary, and well-formed responses', () => {
    const ids = operations().map((o) => o.operation.operationId)
    expect(new Set(ids).size).toBe(ids.length)
    for (const { path, method, operation } of operations()) {
      const where = `${method.toUpperCase()} ${path}`
      expect(path, where).toMatch(/^\/[^?#]*$/)
      expect(typeof operation.summary, where).toBe('string')
      const statuses = Object.keys(operation.responses)
      expect(
        statuses.some((s) => /^2\d\d$/.test(s)),
        `${where} has a 2xx`,
      ).toBe(true)
      for (const status of statuses) {
        expect(status, where).toMatch(/^([1-5]\d\d|[1-5]XX|default)$/)
        const response = deref(operation.responses[status])
        expect(isObject(response) && typeof response.description === 'string', where).toBe(true)
        const content = isObject(response) ? response.content : undefined
        for (const [mediaType, media] of Object.entries(isObject(content) ? content : {})) {
          expect(mediaType, where).toMatch(/^[\w.+-]+\/[\w.+-]+$/)
          expect(isObject(media) && isObject(media.schema), `${where} ${status}`).toBe(true)
        }
        const headers = isObject(response) && isObject(response.headers) ? response.headers : {}
        for (const [name, header] of Object.entries(headers)) {
          expect(isObject(deref(header)) && 'schema' in (deref(header) as JsonObject), name).toBe(
            true,
          )
        }
      }
      const body = deref(operation.requestBody)
      if (body !== undefined) {
        expect(isObject(body) && isObject(body.content), where).toBe(true)
      }
    }
  })

  it('declares exactly the path parameters of each path template, all required', () => {
    for (const { path, method, operation } of operations()) {
      const inTemplate = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1])
      const parameters = ((operation.parameters ?? []) as JsonValue[]).map(deref) as JsonObject[]
      for (const parameter of parameters) {
        expect(['path', 'query', 'header', 'cookie']).toContain(parameter.in)
        expect(typeof parameter.name).toBe('string')
        expect(isObject(parameter.schema), `${method} ${path} ${parameter.name}`).toBe(true)
      }
      const declared = parameters.filter((p) => p.in === 'path')
      expect(declared.map((p) => p.name).sort(), `${method} ${path}`).toEqual(inTemplate.sort())
      for (const parameter of declared) expect(parameter.required).toBe(true)
    }
  })

  it('security requirements name declared schemes', () => {
    const schemes = doc.components.securitySchemes as JsonObject
    for (const scheme of Object.values(schemes) as JsonObject[]) {
      expect(['apiKey', 'http', 'mutualTLS', 'oauth2', 'openIdConnect']).toContain(scheme.type)
      if (scheme.type === 'apiKey') {
        expect(typeof scheme.name).toBe('string')
        expect(['query', 'header', 'cookie']).toContain(scheme.in)
      }
    }
    const requirements = [
      ...((doc.security ?? []) as JsonObject[]),
      ...operations().flatMap((o) => (o.operation.security ?? []) as JsonObject[]),
    ]
    for (const requirement of requirements) {
      for (const name of Object.keys(requirement)) expect(Object.keys(schemes)).toContain(name)
    }
  })

  it('schemas use JSON Schema 2020-12 keywords (no OpenAPI 3.0 leftovers)', () => {
    for (const [pointer, node] of walk(doc)) {
      if (!isObject(node)) continue
      expect('nullable' in node, `${pointer}: nullable is OpenAPI 3.0; use type: [x, "null"]`).toBe(
        false,
      )
      if (pointer.endsWith('/properties') || pointer.endsWith('/example')) continue
      if ('type' in node && (pointer.includes('/schema') || pointer.includes('/schemas/'))) {
        const types = Array.isArray(node.type) ? node.type : [node.type]
        for (const type of types) expect(SCHEMA_TYPES, pointer).toContain(type)
      }
      if ('required' in node && Array.isArray(node.required)) {
        expect(new Set(node.required).size, pointer).toBe(node.required.length)
        for (const name of node.required) {
          expect(typeof name).toBe('string')
          // A required property is declared (not inside anyOf alternatives that only name it).
          if (isObject(node.properties))
            expect(Object.keys(node.properties), pointer).toContain(name)
        }
      }
    }
  })

  it('every example matches its schema', () => {
    let checked = 0
    for (const [pointer, node] of walk(doc)) {
      if (!isObject(node) || !('example' in node) || !isObject(node.schema)) continue
      expect(validate(node.schema, node.example), pointer).toEqual([])
      checked++
    }
    expect(checked).toBeGreaterThan(8)
  })
})

// ---------------------------------------------------------------------------------------------------
// The request body schema and the zod schema

interface ZodField {
  optional: boolean
  nullable: boolean
  inner: ZodTypeAny
}

function unwrap(schema: ZodTypeAny): ZodField {
  let inner = schema
  let optional = false
  let nullable = false
  for (;;) {
    if (inner instanceof z.ZodOptional) optional = true
    else if (inner instanceof z.ZodNullable) nullable = true
    else return { optional, nullable, inner }
    inner = inner._def.innerType
  }
}

/** What the document should say about a zod string or array of strings, from zod's checks. */
function expectedFromZod(schema: ZodTypeAny): JsonObject {
  if (schema instanceof z.ZodString) {
    const expected: JsonObject = { type: 'string' }
    for (const check of schema._def.checks) {
      if (check.kind === 'min') expected.minLength = check.value
      else if (check.kind === 'max') expected.maxLength = check.value
      else if (check.kind === 'email') expected.format = 'email'
      else if (check.kind === 'uuid') expected.format = 'uuid'
      else if (check.kind === 'regex') expected.pattern = check.regex.source
      else throw new Error(`zod check ${check.kind} has no counterpart here; extend the test`)
    }
    return expected
  }
  if (schema instanceof z.ZodArray) {
    const expected: JsonObject = {
      type: 'array',
      items: expectedFromZod(schema._def.type as ZodTypeAny),
    }
    if (schema._def.maxLength) expected.maxItems = schema._def.maxLength.value
    if (schema._def.minLength) expected.minItems = schema._def.minLength.value
    return expected
  }
  throw new Error(`zod type ${schema._def.typeName} has no counterpart here; extend the test`)
}

/** The document's property without descriptions, with a nullable type reduced to its non-null type. */
function comparable(property: JsonValue | undefined): { schema: JsonObject; nullable: boolean } {
  const p = deref(property)
  if (!isObject(p)) throw new Error('not a schema')
  const { description: _description, ...rest } = p
  const types: JsonValue[] = Array.isArray(rest.type) ? rest.type : [rest.type ?? null]
  const nonNull = types.filter((t) => t !== 'null')
  const schema: JsonObject = {
    ...rest,
    type: nonNull.length === 1 ? (nonNull[0] ?? null) : nonNull,
  }
  if (isObject(schema.items)) schema.items = comparable(schema.items).schema
  return { schema, nullable: types.includes('null') }
}

describe('the POST body schema agrees with the zod schema of the handler', () => {
  const body = deref(doc.components.schemas.CreateUserIdentityRequest) as JsonObject
  const object = createUserIdentityBody._def.schema
  const shape = object.shape as Record<string, ZodTypeAny>

  it('has the same fields, none required, unknown fields refused', () => {
    expect(Object.keys(body.properties as JsonObject).sort()).toEqual(Object.keys(shape).sort())
    expect(object._def.unknownKeys).toBe('strict')
    expect(body.additionalProperties).toBe(false)
    const required = Object.entries(shape)
      .filter(([, field]) => !unwrap(field).optional)
      .map(([name]) => name)
    expect(body.required ?? []).toEqual(required)
  })

  it.each(Object.keys(createUserIdentityBody._def.schema.shape))(
    '%s: same type, nullability and limits',
    (name) => {
      const field = unwrap(shape[name] as ZodTypeAny)
      const documented = comparable((body.properties as JsonObject)[name])
      expect(documented.nullable).toBe(field.nullable)
      expect(documented.schema).toEqual(expectedFromZod(field.inner))
    },
  )

  const uuid = randomUUID()
  it.each<[string, unknown]>([
    ['empty object', {}],
    ['only a name', { full_name: 'Ann' }],
    ['a null key only', { user_identity_key: null }],
    ['a key', { user_identity_key: 'k' }],
    ['an email', { email_address: 'ann@example.com' }],
    ['a phone', { phone_number: '+15555550100' }],
    ['a null email next to a key', { user_identity_key: 'k', email_address: null }],
    ['a phone not E.164', { phone_number: '555-0100' }],
    ['a phone too long', { phone_number: '+1234567890123456' }],
    ['a bad email', { email_address: 'nope' }],
    ['an unknown field', { user_identity_key: 'k', role: 'admin' }],
    ['an empty key', { user_identity_key: '' }],
    ['a long key', { user_identity_key: 'k'.repeat(256) }],
    ['a number key', { user_identity_key: 7 }],
    ['acs users', { user_identity_key: 'k', acs_user_ids: [uuid] }],
    ['null acs users', { user_identity_key: 'k', acs_user_ids: null }],
    ['a bad acs user', { user_identity_key: 'k', acs_user_ids: ['x'] }],
    ['too many acs users', { user_identity_key: 'k', acs_user_ids: Array(26).fill(uuid) }],
    ['acs users not a list', { user_identity_key: 'k', acs_user_ids: uuid }],
    ['an array body', [{ user_identity_key: 'k' }]],
    ['a string body', 'k'],
  ])('%s: accepted or refused by both', (_what, value) => {
    const byZod = createUserIdentityBody.safeParse(value).success
    const byDocument = validate(body, value)
    expect(byDocument.length === 0, byDocument.join('; ')).toBe(byZod)
  })
})

// ---------------------------------------------------------------------------------------------------
// The document and the running server

let runtime: LocalRuntime
let seam: SeamEmulator

beforeAll(async () => {
  runtime = await startLocalRuntime({
    port: 0,
    emulator: { deleteDelayMs: 20 },
    waitScale: 0.02,
    pollPolicy: { stageTimeoutSeconds: 250 }, // 5 s of real time at waitScale 0.02
  })
  seam = runtime.emulator as SeamEmulator
})
afterAll(() => runtime?.close())

const request = (
  method: string,
  path: string,
  init: { body?: string | Uint8Array; contentType?: string } = {},
): Promise<Answer> => send(runtime.url, method, path, init)

const postJson = (body: unknown) =>
  request('POST', '/user-identities', {
    body: JSON.stringify(body),
    contentType: 'application/json',
  })

/** The answer's body matches the schema the document gives for its status. */
function expectDocumented(template: string, method: string, answer: Answer) {
  const responses = doc.paths[template]?.[method]?.responses ?? {}
  expect(
    String(answer.status) in responses || 'default' in responses,
    `${method.toUpperCase()} ${template} → ${answer.status} is documented`,
  ).toBe(true)
  const schema = responseSchema(template, method, answer.status)
  expect(schema, `${method} ${template} ${answer.status} has a JSON schema`).toBeDefined()
  expect(validate(schema, answer.body), JSON.stringify(answer.body)).toEqual([])
}

/** A concrete path for a template: every `{param}` filled with a value. */
const concrete = (template: string) => template.replace(/\{\w+\}/g, `x${Date.now()}`)

describe('the document and API Gateway', () => {
  /** The error types a component response documents (its `error.type` enum). */
  const typesOf = (name: string): unknown => {
    const response = doc.components.responses[name] as JsonObject
    const content = response.content as JsonObject
    const schema = (content['application/json'] as JsonObject).schema as JsonObject
    const narrowed = (schema.allOf as JsonObject[])[1] as JsonObject
    const error = (narrowed.properties as JsonObject).error as JsonObject
    return ((error.properties as JsonObject).type as JsonObject).enum
  }

  it("documents the gateway's own 403 and 429 on every IAM-authorized operation, with its types", () => {
    const gateway = (ids: string[]) =>
      CONTRACT_GATEWAY_RESPONSES.filter((r) => ids.includes(r.id)).map((r) => r.type)
    expect(typesOf('NotAuthorized')).toEqual(
      expect.arrayContaining(gateway(['AccessDenied', 'MissingAuthenticationToken'])),
    )
    expect(typesOf('Throttled')).toEqual(gateway(['Throttled']))
    const secured = operations().filter((o) => !['/health', '/openapi.json'].includes(o.path))
    expect(secured).toHaveLength(ROUTES.length)
    for (const { operation } of secured) {
      const responses = operation.responses as JsonObject
      expect(responses['403']).toEqual({ $ref: '#/components/responses/NotAuthorized' })
      expect(responses['429']).toEqual({ $ref: '#/components/responses/Throttled' })
    }
  })
})

describe('the document and the server answer the same routes', () => {
  it('every route the server answers (ROUTES and /health) is in the document', () => {
    const served = [
      ...ROUTES.map((r) => `${r.method.toLowerCase()} ${r.path}`),
      'get /health',
      'get /openapi.json',
    ]
    const documented = operations().map((o) => `${o.method} ${o.path}`)
    expect(documented.sort()).toEqual(served.sort())
  })

  it('every operation in the document is answered by the running server (not 404/405)', async () => {
    for (const { path, method } of operations()) {
      const withBody = method === 'post' || method === 'put' || method === 'patch'
      const answer = await request(
        method.toUpperCase(),
        concrete(path),
        withBody ? { body: '{}', contentType: 'application/json' } : {},
      )
      const error = isObject(answer.body) && isObject(answer.body.error) ? answer.body.error : {}
      expect(answer.status, `${method} ${path}`).not.toBe(405)
      expect(error.type, `${method} ${path}`).not.toBe('route_not_found')
      expect(error.type, `${method} ${path}`).not.toBe('method_not_allowed')
      expectDocumented(path, method, answer)
    }
  })

  it('methods the document leaves out of a path are refused with 405', async () => {
    for (const [path, item] of Object.entries(doc.paths)) {
      const missing = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'].filter(
        (m) => !(m.toLowerCase() in item),
      )
      for (const method of missing) {
        if (path === '/health' || path === '/openapi.json') continue // answered before routing
        const answer = await request(method, concrete(path))
        expect(answer.status, `${method} ${path}`).toBe(405)
      }
    }
  })

  it('GET /openapi.json serves this document', async () => {
    const answer = await request('GET', '/openapi.json')
    expect(answer.status).toBe(200)
    expect(answer.body).toEqual(JSON.parse(JSON.stringify(doc)) as OpenApiDocument)
  })
})

describe('what the server sends matches the documented schemas', () => {
  it('POST /user-identities: 201, 400, 404, 409 (both types), 413, 415, 503', async () => {
    const post = (answer: Answer) => expectDocumented('/user-identities', 'post', answer)
    const system = seam.seed.acsSystem()
    const acsUser = seam.seed.acsUser({ acsSystemId: system.acs_system_id }).acs_user_id
    const key = `openapi-${randomUUID()}`
    const created = await postJson({
      user_identity_key: key,
      email_address: `${key}@example.com`,
      phone_number: '+15555550142',
      full_name: 'Open Api',
      acs_user_ids: [acsUser],
    })
    expect(created.status).toBe(201)
    post(created)

    const cases: [number, Promise<Answer>][] = [
      [400, postJson({ phone_number: '555' })],
      [400, request('POST', '/user-identities', { body: '{', contentType: 'application/json' })],
      [404, postJson({ user_identity_key: `${key}-2`, acs_user_ids: [randomUUID()] })],
      [409, postJson({ user_identity_key: key })],
      // acs_user_already_linked: the ACS user is the new identity's now.
      [409, postJson({ user_identity_key: `${key}-4`, acs_user_ids: [acsUser] })],
      [413, postJson({ user_identity_key: 'k', full_name: 'x'.repeat(17_000) })],
      [415, request('POST', '/user-identities', { body: '{}', contentType: 'text/plain' })],
    ]
    for (const [status, pending] of cases) {
      const answer = await pending
      expect(answer.status, JSON.stringify(answer.body)).toBe(status)
      post(answer)
    }

    seam.setFaults({ unavailableRate: 1, retryAfterSeconds: 0 })
    try {
      const unavailable = await postJson({ user_identity_key: `${key}-3` })
      expect(unavailable.status).toBe(503)
      post(unavailable)
    } finally {
      seam.setFaults({})
    }
  })

  it('DELETE /user-identities/{id} and GET /deletions/{id}: 202, 200 until SUCCEEDED, 400, 404', async () => {
    const del = '/user-identities/{user_identity_id}'
    const get = '/deletions/{deletion_id}'
    const identity = seam.seed.userIdentity({ userIdentityKey: `openapi-del-${randomUUID()}` })

    const started = await request('DELETE', `/user-identities/${identity.user_identity_id}`)
    expect(started.status).toBe(202)
    expectDocumented(del, 'delete', started)
    const deletionId = (started.body as { deletion: { deletion_id: string } }).deletion.deletion_id
    expect(started.headers.get('location')).toBe(`/deletions/${deletionId}`)

    let last: Answer | undefined
    const deadline = Date.now() + 20_000
    do {
      last = await request('GET', `/deletions/${deletionId}`)
      expect(last.status).toBe(200)
      expectDocumented(get, 'get', last)
      if ((last.body as { deletion: { status: string } }).deletion.status !== 'RUNNING') break
      await new Promise((resolve) => setTimeout(resolve, 50))
    } while (Date.now() < deadline)
    expect(last?.body).toMatchObject({ deletion: { status: 'SUCCEEDED', summary: {} } })

    const invalid = await request('DELETE', '/user-identities/not%20an%20id')
    expect(invalid.status).toBe(400)
    expectDocumented(del, 'delete', invalid)
    const unknown = await request('DELETE', `/user-identities/${randomUUID()}`)
    expect(unknown.status).toBe(404)
    expectDocumented(del, 'delete', unknown)
    const noDeletion = await request('GET', `/deletions/${randomUUID()}--1`)
    expect(noDeletion.status).toBe(404)
    expectDocumented(get, 'get', noDeletion)
  })

  it('GET /health', async () => {
    const answer = await request('GET', '/health')
    expect(answer).toMatchObject({ status: 200, body: { ok: true } })
    expectDocumented('/health', 'get', answer)
  })
})
