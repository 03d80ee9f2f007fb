/**
 * The OpenAPI document generated from the contract (functions/contract), against the validator, the
 * committed openapi.json, the routes and the running local server:
 * - it is valid OpenAPI 3.1 (@readme/openapi-parser: the 3.1 schema, $refs, path parameters);
 * - openapi.json is what `npm run openapi` writes today;
 * - every route the server answers is documented, every documented operation is answered, with the
 *   error types of its contract entry under their statuses;
 * - the bodies the running server sends parse with the contract's schema for their status.
 */
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { compileErrors, validate } from '@readme/openapi-parser'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { z } from 'zod'
import { ROUTES, WEBHOOK_ROUTE } from '../../functions/api/routes.js'
import {
  API_ERRORS,
  CreateUserIdentityRequest,
  Deletion,
  ERROR_TYPES,
  ErrorResponse,
  type ErrorType,
  OPERATIONS,
  type Operation,
  WEBHOOK_GATEWAY_ERRORS,
} from '../../functions/contract/http.js'
import {
  buildOpenApiDocument,
  type JsonObject,
  openApiJson,
} from '../../functions/contract/openapi.js'
import { CONTRACT_GATEWAY_RESPONSES } from '../../infra/constructs/gateway-responses.js'
import { type LocalRuntime, startLocalRuntime } from '../../local/runtime.js'
import type { SeamEmulator } from '../../local/seam-emulator/index.js'
import { routeList } from '../../local/server.js'
import { type Answer, send } from './helpers.js'

const doc = buildOpenApiDocument()
const operations = Object.values(OPERATIONS) as Operation[]

type Responses = Record<string, JsonObject>
const responsesOf = (op: Operation): Responses => {
  const paths = doc.paths as Record<string, Record<string, { responses: Responses }>>
  return paths[op.path]?.[op.method.toLowerCase()]?.responses ?? {}
}

/** The error types a documented error response lists. */
function documentedTypes(response: JsonObject | undefined): unknown {
  if (!response) return undefined
  const media = (response.content as JsonObject)['application/json'] as JsonObject
  const [, narrowed] = (media.schema as { allOf: JsonObject[] }).allOf
  return (narrowed as { properties: { error: { properties: { type: { enum: unknown } } } } })
    .properties.error.properties.type.enum
}

describe('the generated document', () => {
  it('is valid OpenAPI 3.1', async () => {
    expect(doc.openapi).toBe('3.1.0')
    const result = await validate(structuredClone(doc) as never)
    expect(result.valid, result.valid ? '' : compileErrors(result)).toBe(true)
  })

  it('the validator would notice a broken document', async () => {
    const broken = structuredClone(doc) as { paths: Record<string, Record<string, JsonObject>> }
    const health = broken.paths['/health']?.get?.responses as Record<string, JsonObject>
    ;(health['200'] as JsonObject).content = 5
    expect((await validate(broken as never)).valid).toBe(false)
  })

  it('is what openapi.json holds (run `npm run openapi` when this fails)', () => {
    expect(readFileSync(new URL('../../openapi.json', import.meta.url), 'utf8')).toBe(openApiJson())
  })

  it('documents every operation of the contract with its errors under their statuses', () => {
    for (const op of operations) {
      const where = `${op.method} ${op.path}`
      const responses = responsesOf(op)
      const gateway = { api: API_ERRORS, webhook: WEBHOOK_GATEWAY_ERRORS, local: [] }[op.served]
      const errors = [...op.errors, ...gateway]
      const statuses = new Set(errors.map((type) => String(ERROR_TYPES[type].status)))
      expect(Object.keys(responses).sort(), where).toEqual(
        [String(op.success.status), ...statuses].sort(),
      )
      for (const status of statuses) {
        const types = errors.filter((type) => String(ERROR_TYPES[type].status) === status)
        expect(documentedTypes(responses[status]), `${where} ${status}`).toEqual(types)
      }
    }
  })

  it('gives ids as UUIDs, the pattern the routes accept', () => {
    const params = (doc.paths as Record<string, Record<string, { parameters: JsonObject[] }>>)[
      OPERATIONS.deleteUserIdentity.path
    ]?.delete?.parameters
    const schema = params?.[0]?.schema as { pattern: string }
    const pattern = new RegExp(schema.pattern)
    expect(pattern.test(randomUUID())).toBe(true)
    expect(pattern.test(randomUUID().toUpperCase())).toBe(true)
    for (const bad of ['abc', 'a'.repeat(36), `${randomUUID()}x`])
      expect(pattern.test(bad)).toBe(false)
  })

  it('says that text is normalized to NFC and ids lower-cased', () => {
    const body = JSON.stringify((doc.components as JsonObject).schemas)
    expect(body).toMatch(/normalized to NFC/)
    expect(body).toMatch(/lower-cased/)
  })

  it('its examples parse with the schemas they illustrate', () => {
    const examples = (schema: z.ZodType) => (schema.meta()?.examples ?? []) as unknown[]
    expect(examples(CreateUserIdentityRequest)).not.toHaveLength(0)
    for (const example of examples(CreateUserIdentityRequest)) {
      expect(CreateUserIdentityRequest.safeParse(example).error).toBeUndefined()
    }
    for (const example of examples(Deletion))
      expect(Deletion.safeParse(example).error).toBeUndefined()
    for (const type of Object.keys(ERROR_TYPES) as ErrorType[]) {
      const example = { error: { type, message: ERROR_TYPES[type].message, request_id: 'r' } }
      expect(ErrorResponse.safeParse(example).error).toBeUndefined()
    }
  })

  it("documents API Gateway's own 403 and 429 with the types the gateway responses send", () => {
    const gateway = (ids: string[]) =>
      CONTRACT_GATEWAY_RESPONSES.filter((r) => ids.includes(r.id)).map((r) => r.type)
    for (const op of operations.filter((o) => o.served === 'api')) {
      const responses = responsesOf(op)
      expect(documentedTypes(responses['403'])).toEqual(
        expect.arrayContaining(gateway(['AccessDenied', 'MissingAuthenticationToken'])),
      )
      expect(documentedTypes(responses['429'])).toEqual(gateway(['Throttled']))
    }
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

/** The answer's status is documented for the operation, and its body parses with that status's schema. */
function expectDocumented(op: Operation, answer: Answer) {
  const where = `${op.method} ${op.path} → ${answer.status} ${JSON.stringify(answer.body)}`
  expect(Object.keys(responsesOf(op)), where).toContain(String(answer.status))
  if (answer.status === op.success.status) {
    if (op.success.schema) {
      expect(op.success.schema.safeParse(answer.body).error, where).toBeUndefined()
    } else expect(answer.text, where).toBe('')
    return
  }
  const parsed = ErrorResponse.safeParse(answer.body)
  expect(parsed.error, where).toBeUndefined()
  expect(documentedTypes(responsesOf(op)[String(answer.status)]), where).toContain(
    parsed.data?.error.type,
  )
}

/** A concrete path for a template: every `{param}` filled with a value. */
const concrete = (template: string) => template.replace(/\{\w+\}/g, `x${Date.now()}`)

describe('the document and the server answer the same routes', () => {
  it('every route the server answers (its routeList: ROUTES, the webhook and its own) is documented, and no other', () => {
    // `GET|HEAD /health      liveness` → GET /health, HEAD /health
    const served = routeList([...ROUTES, WEBHOOK_ROUTE]).flatMap((line) => {
      const [methods = '', path = ''] = line.split(/\s+/)
      return methods.split('|').map((method) => `${method} ${path}`)
    })
    expect(served).toEqual(expect.arrayContaining(ROUTES.map((r) => `${r.method} ${r.path}`)))
    const documented = Object.entries(doc.paths as Record<string, JsonObject>).flatMap(
      ([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
    )
    expect(documented.sort()).toEqual(served.sort())
    expect(operations.filter((o) => o.served === 'api')).toHaveLength(ROUTES.length)
  })

  it('every documented operation is answered by the running server (not 404/405)', async () => {
    for (const op of operations) {
      const answer = await request(
        op.method,
        concrete(op.path),
        op.body ? { body: '{}', contentType: 'application/json' } : {},
      )
      const error = (answer.body as { error?: { type?: string } } | undefined)?.error
      expect(answer.status, `${op.method} ${op.path}`).not.toBe(405)
      expect(error?.type, `${op.method} ${op.path}`).not.toBe('route_not_found')
      expectDocumented(op, answer)
    }
  })

  it('methods the document leaves out of a path are refused with 405', async () => {
    for (const [path, item] of Object.entries(doc.paths as Record<string, JsonObject>)) {
      if (path === '/' || path === '/health' || path === '/openapi.json') continue // answered before routing
      const missing = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'].filter(
        (m) => !(m.toLowerCase() in item),
      )
      for (const method of missing) {
        const answer = await request(method, concrete(path))
        expect(answer.status, `${method} ${path}`).toBe(405)
      }
    }
  })

  it('GET /openapi.json serves the generated document', async () => {
    const answer = await request('GET', '/openapi.json')
    expect(answer.status).toBe(200)
    expect(answer.body).toEqual(doc)
    expectDocumented(OPERATIONS.openApiDocument, answer)
  })
})

describe('what the server sends parses with the contract', () => {
  it('POST /user-identities: 201, 400, 404, 409 (both types), 413, 415, 503', async () => {
    const post = (answer: Answer) => expectDocumented(OPERATIONS.createUserIdentity, answer)
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
    const del = OPERATIONS.deleteUserIdentity
    const get = OPERATIONS.getDeletion
    const identity = seam.seed.userIdentity({ userIdentityKey: `openapi-del-${randomUUID()}` })

    const started = await request('DELETE', `/user-identities/${identity.user_identity_id}`)
    expect(started.status).toBe(202)
    expectDocumented(del, started)
    const deletionId = (started.body as { deletion: { deletion_id: string } }).deletion.deletion_id
    expect(started.headers.get('location')).toBe(`/deletions/${deletionId}`)

    let last: Answer | undefined
    const deadline = Date.now() + 20_000
    do {
      last = await request('GET', `/deletions/${deletionId}`)
      expect(last.status).toBe(200)
      expectDocumented(get, last)
      if ((last.body as { deletion: { status: string } }).deletion.status !== 'RUNNING') break
      await new Promise((resolve) => setTimeout(resolve, 50))
    } while (Date.now() < deadline)
    expect(last?.body).toMatchObject({ deletion: { status: 'SUCCEEDED', summary: {} } })

    const invalid = await request('DELETE', '/user-identities/not%20an%20id')
    expect(invalid.status).toBe(400)
    expectDocumented(del, invalid)
    const unknown = await request('DELETE', `/user-identities/${randomUUID()}`)
    expect(unknown.status).toBe(404)
    expectDocumented(del, unknown)
    const noDeletion = await request('GET', `/deletions/${randomUUID()}--1`)
    expect(noDeletion.status).toBe(404)
    expectDocumented(get, noDeletion)
  })

  it('GET /health', async () => {
    const answer = await request('GET', '/health')
    expect(answer).toMatchObject({ status: 200, body: { ok: true } })
    expectDocumented(OPERATIONS.health, answer)
  })
})
