/**
 * Hostile input, table-driven, over HTTP against the local server (the same route handlers API Gateway
 * invokes): malformed and deeply nested JSON, wrong types, huge strings, unknown and duplicate fields,
 * bad emails and phones, ids with path characters or of absurd length, wrong methods, missing or wrong
 * content types, oversized bodies. Every answer must be the expected 4xx in the contract's shape
 * ({"error": {"type", "message", "request_id"}}), never a 5xx, never a stack trace; nothing may reach
 * Seam as a write.
 */
import { Agent } from 'node:http'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { type LocalRuntime, startLocalRuntime } from '../../local/runtime.js'
import type { SeamEmulator } from '../../local/seam-emulator/index.js'
import { type RawResponse, rawRequest } from './http-client.js'

interface Case {
  name: string
  method: string
  path: string
  headers?: Record<string, string>
  body?: string | Buffer
  status: number
  type: string
}

const JSON_TYPE = { 'Content-Type': 'application/json' }
const ID = 'f2a4c1e0-6b1d-4d1e-9c55-0b7f3a2d9e11'

/** A POST /user-identities with a JSON Content-Type. */
const post = (name: string, body: string | Buffer, status = 400, type = 'invalid_input'): Case => ({
  name,
  method: 'POST',
  path: '/user-identities',
  headers: JSON_TYPE,
  body,
  status,
  type,
})
/** A POST /user-identities of this value, serialized. */
const postJson = (name: string, value: unknown): Case => post(name, JSON.stringify(value))
const withContentType = (name: string, contentType: string | undefined, body: string): Case => ({
  name,
  method: 'POST',
  path: '/user-identities',
  headers: contentType === undefined ? {} : { 'Content-Type': contentType },
  body,
  status: 415,
  type: 'unsupported_media_type',
})
const del = (name: string, id: string, status = 400, type = 'invalid_input'): Case => ({
  name,
  method: 'DELETE',
  path: `/user-identities/${id}`,
  status,
  type,
})
const getDeletion = (
  name: string,
  id: string,
  status = 404,
  type = 'deletion_not_found',
): Case => ({
  name,
  method: 'GET',
  path: `/deletions/${id}`,
  status,
  type,
})
const wrongMethod = (method: string, path: string): Case => ({
  name: `${method} ${path}`,
  method,
  path,
  status: 405,
  type: 'method_not_allowed',
})
const nested = (open: string, close: string, levels: number, inner = '') =>
  open.repeat(levels) + inner + close.repeat(levels)
const email = 'hostile@example.com'

/** A JSON body whose `field` holds `bytes` between two letters, as raw bytes (not JSON escapes). */
const bytesIn = (field: string, bytes: number[]): Buffer =>
  Buffer.concat([
    Buffer.from(`{"email_address": "${email}", "${field}": "a`),
    Buffer.from(bytes),
    Buffer.from('b"}'),
  ])

const CASES: Case[] = [
  // ------------------------------------------------------------ malformed JSON
  post('malformed JSON: unclosed object', '{"email_address": "a@example.com"'),
  post('malformed JSON: trailing comma', '{"email_address": "a@example.com",}'),
  post('malformed JSON: single quotes', "{'email_address': 'a@example.com'}"),
  post('malformed JSON: NaN', `{"full_name": NaN, "email_address": "${email}"}`),
  post('malformed JSON: comment', `{"email_address": "${email}" /* hi */}`),
  post('not JSON at all', 'hello'),
  post('JSON behind a byte-order mark', `\uFEFF{"email_address": "${email}"}`),
  post('JSON followed by garbage', `{"email_address": "${email}"} x`),
  post('two JSON documents', `{"email_address": "${email}"}{"email_address": "${email}"}`),
  post('JSON with an unescaped control character', `{"full_name": "a\u0001b", "email_address": 1`),
  post(
    'deeply nested arrays, 10,000 levels (over 16 KiB)',
    nested('[', ']', 10_000),
    413,
    'payload_too_large',
  ),
  post(
    'deeply nested objects, 10,000 levels (over 16 KiB)',
    nested('{"a":', '}', 10_000, '1'),
    413,
    'payload_too_large',
  ),
  post('deeply nested arrays, 8,000 levels (under 16 KiB)', nested('[', ']', 8_000)),
  post('deeply nested objects in an unknown field, 2,500 levels', nested('{"x":', '}', 2_500, '1')),
  post(
    'deeply nested arrays as email_address, 7,000 levels',
    `{"email_address": ${nested('[', ']', 7_000)}}`,
  ),
  // ------------------------------------------------------------ not an object
  post('empty body', ''),
  post('whitespace-only body', '  \n\t  '),
  post('null body (JSON null)', 'null'),
  post('a JSON string', `"${email}"`),
  post('a JSON number', '42'),
  post('a JSON boolean', 'true'),
  postJson('an array where the object is expected', [{ email_address: email }]),
  postJson('an empty object', {}),
  postJson('every identifier null', {
    user_identity_key: null,
    email_address: null,
    phone_number: null,
  }),
  postJson('only full_name', { full_name: 'Nobody' }),
  // ------------------------------------------------------------ unknown and duplicate fields
  postJson('an unknown field', { email_address: email, is_admin: true }),
  post('__proto__ as a field', `{"__proto__": {"is_admin": true}, "email_address": "${email}"}`),
  postJson('constructor as a field', { constructor: { prototype: {} }, email_address: email }),
  postJson('a known field in another case', { Email_Address: email }),
  postJson(
    '1,200 unknown fields',
    Object.fromEntries(Array.from({ length: 1_200 }, (_, i) => [`f${i}`, 1])),
  ),
  post(
    'a duplicate key whose last value is valid',
    `{"email_address": 5, "email_address": "${email}"}`,
  ),
  post(
    'a duplicate key, both values valid',
    `{"email_address": "a@example.com", "email_address": "${email}"}`,
  ),
  post(
    'a duplicate key spelled with an escape',
    `{"email_address": "a@example.com", "email\\u005faddress": "${email}"}`,
  ),
  // ------------------------------------------------------------ wrong types
  postJson('email_address a number', { email_address: 42 }),
  postJson('email_address an array', { email_address: [email] }),
  postJson('email_address an object', { email_address: { value: email } }),
  postJson('email_address a boolean', { email_address: true }),
  postJson('phone_number a number', { phone_number: 15555550100 }),
  postJson('user_identity_key a number', { user_identity_key: 12345 }),
  postJson('full_name a number', { email_address: email, full_name: 7 }),
  postJson('acs_user_ids a string', { email_address: email, acs_user_ids: ID }),
  postJson('acs_user_ids an object', { email_address: email, acs_user_ids: { 0: ID } }),
  postJson('acs_user_ids with a number', { email_address: email, acs_user_ids: [123] }),
  postJson('acs_user_ids with null', { email_address: email, acs_user_ids: [null] }),
  postJson('acs_user_ids with a path', { email_address: email, acs_user_ids: ['../acs/users'] }),
  postJson('acs_user_ids nested arrays', { email_address: email, acs_user_ids: [[ID]] }),
  postJson('26 acs_user_ids (limit 25)', {
    email_address: email,
    acs_user_ids: Array.from({ length: 26 }, (_, i) => ID.replace(/..$/, String(10 + i))),
  }),
  // ------------------------------------------------------------ bad values
  postJson('email_address not an email', { email_address: 'not-an-email' }),
  postJson('email_address with a header injection', {
    email_address: `${email}\r\nBcc: x@example.com`,
  }),
  postJson('email_address of 300 characters', { email_address: `${'a'.repeat(288)}@example.com` }),
  postJson('email_address empty', { email_address: '' }),
  postJson('email_address with a space', { email_address: 'a b@example.com' }),
  postJson('phone_number with dashes', { phone_number: '555-0100' }),
  postJson('phone_number without +', { phone_number: '15555550100' }),
  postJson('phone_number of 16 digits', { phone_number: '+1234567890123456' }),
  postJson('phone_number with letters', { phone_number: '+1555CALLNOW' }),
  postJson('phone_number with spaces', { phone_number: '+1 555 555 0100' }),
  postJson('phone_number with country code 0', { phone_number: '+0155550100' }),
  postJson('user_identity_key of 16,000 characters', { user_identity_key: 'k'.repeat(16_000) }),
  postJson('user_identity_key empty', { user_identity_key: '' }),
  postJson('full_name of 300 characters', { email_address: email, full_name: 'n'.repeat(300) }),
  postJson('full_name empty', { email_address: email, full_name: '' }),
  // ------------------------------------------------------------ text that is not text
  post('invalid UTF-8 in a key: FF FE', bytesIn('user_identity_key', [0xff, 0xfe])),
  post('invalid UTF-8 in a key: overlong C0 A2', bytesIn('user_identity_key', [0xc0, 0xa2])),
  post(
    'invalid UTF-8 in a key: an encoded surrogate ED A0 80',
    bytesIn('user_identity_key', [0xed, 0xa0, 0x80]),
  ),
  post(
    'invalid UTF-8 in full_name: a truncated sequence E2 82',
    bytesIn('full_name', [0xe2, 0x82]),
  ),
  post('a lone surrogate in a key (\\ud800)', '{"user_identity_key": "a\\ud800b"}'),
  post(
    'a lone low surrogate in full_name (\\udc00)',
    `{"email_address": "${email}", "full_name": "\\udc00"}`,
  ),
  post('NUL in a key', '{"user_identity_key": "a\\u0000b"}'),
  post('NUL in an email address', '{"email_address": "a\\u0000@example.com"}'),
  post(
    'a C0 control (ESC) in full_name',
    `{"email_address": "${email}", "full_name": "a\\u001bb"}`,
  ),
  post('DEL in a key', '{"user_identity_key": "a\\u007fb"}'),
  post('a C1 control (NEL) in a key', '{"user_identity_key": "a\\u0085b"}'),
  post(
    'a C1 control (CSI) in full_name',
    `{"email_address": "${email}", "full_name": "\\u009b31m"}`,
  ),
  // ------------------------------------------------------------ sizes
  post(
    '16 KiB + 1 byte of valid JSON',
    `{"email_address": "${email}"}`.padEnd(16 * 1024 + 1, ' '),
    413,
    'payload_too_large',
  ),
  post(
    'a 1 MB user_identity_key',
    JSON.stringify({ user_identity_key: 'k'.repeat(1_000_000) }),
    413,
    'payload_too_large',
  ),
  post('a 2 MiB body', Buffer.alloc(2 * 1024 * 1024, 0x20), 413, 'payload_too_large'),
  // ------------------------------------------------------------ content types
  withContentType('no Content-Type', undefined, JSON.stringify({ email_address: email })),
  withContentType('text/plain', 'text/plain', JSON.stringify({ email_address: email })),
  withContentType('a form', 'application/x-www-form-urlencoded', `email_address=${email}`),
  withContentType('multipart', 'multipart/form-data; boundary=x', '--x\r\n\r\n--x--'),
  withContentType(
    'JSON in Latin-1',
    'application/json; charset=latin1',
    '{"email_address": "a@b.co"}',
  ),
  withContentType('XML', 'application/xml', '<email_address>a@b.co</email_address>'),
  withContentType('a JSON look-alike', 'application/json-patch+json', '[]'),
  withContentType('any type', '*/*', JSON.stringify({ email_address: email })),
  post('a form body labelled JSON', `email_address=${email}`),
  // ------------------------------------------------------------ references that do not exist
  post(
    'an unknown ACS user',
    JSON.stringify({ email_address: email, acs_user_ids: [ID] }),
    404,
    'acs_user_not_found',
  ),
  // ------------------------------------------------------------ DELETE /user-identities/{id}
  del('id ..', '..', 404, 'route_not_found'),
  del('id %2e%2e', '%2e%2e', 404, 'route_not_found'),
  del('id ..%2F..%2Fdeletions', '..%2F..%2Fdeletions'),
  del('id %2F', '%2F'),
  del('id a%2Fb', 'a%2Fb'),
  del('id a%5Cb (backslash)', 'a%5Cb'),
  del('id %00', '%00'),
  del('id abc%00def', 'abc%00def'),
  del('id ü', '%C3%BC'),
  del('id 🔥', '%F0%9F%94%A5'),
  del('id of fullwidth dots', '%EF%BC%8E%EF%BC%8E'),
  del('id with a bad escape %ZZ', '%ZZ'),
  del('id with a space', 'a%20b'),
  del("id 1' OR '1'='1", "1'%20OR%20'1'%3D'1"),
  del('id *', '*'),
  del('id of 65 characters', 'a'.repeat(65)),
  del('id of 10,000 characters', 'a'.repeat(10_000)),
  del('a well-formed id Seam does not know', ID, 404, 'user_identity_not_found'),
  del('a trailing slash', `${ID}/`, 404, 'route_not_found'),
  del('an extra segment', `${ID}/acs_users`, 404, 'route_not_found'),
  del('no id', '', 404, 'route_not_found'),
  // ------------------------------------------------------------ GET /deletions/{id}
  getDeletion('id ..', '..', 404, 'route_not_found'),
  getDeletion('id %2F', '%2F'),
  getDeletion('id ..%2Fuser-identities', '..%2Fuser-identities'),
  getDeletion('id %00', '%00'),
  getDeletion('id 🔥', '%F0%9F%94%A5'),
  getDeletion('id of 10,000 characters', 'd'.repeat(10_000)),
  getDeletion('attempt 0', `${ID}--0`),
  getDeletion('attempt 99999', `${ID}--99999`),
  getDeletion('a negative attempt', `${ID}---1`),
  getDeletion('a well-formed deletion that never ran', `${ID}--1`),
  // ------------------------------------------------------------ methods and routes
  wrongMethod('PUT', '/user-identities'),
  wrongMethod('GET', '/user-identities'),
  wrongMethod('PATCH', `/user-identities/${ID}`),
  wrongMethod('POST', `/user-identities/${ID}`),
  wrongMethod('POST', `/deletions/${ID}--1`),
  wrongMethod('DELETE', `/deletions/${ID}--1`),
  wrongMethod('OPTIONS', '/user-identities'),
  wrongMethod('TRACE', '/user-identities'),
  {
    name: 'an unknown route',
    method: 'GET',
    path: '/admin',
    status: 404,
    type: 'route_not_found',
  },
  {
    name: 'a route reached through ..',
    method: 'POST',
    path: '/user-identities/../admin',
    headers: JSON_TYPE,
    body: '{}',
    status: 404,
    type: 'route_not_found',
  },
]

/** Tells a stack trace, or a source location, in a response body. */
const STACK_TRACE = /\n\s*at\s|\bat\s+\S+\s+\(|node:internal|\.[cm]?[jt]s:\d+:\d+|\bError:\s/

let runtime: LocalRuntime
let seam: SeamEmulator
const logLines: string[] = []
const results: { name: string; status: number }[] = []

beforeAll(async () => {
  const write = process.stdout.write.bind(process.stdout)
  vi.spyOn(process.stdout, 'write').mockImplementation(((chunk: string | Uint8Array, ...rest) => {
    logLines.push(String(chunk))
    return write(chunk, ...(rest as []))
  }) as typeof process.stdout.write)
  runtime = await startLocalRuntime({ port: 0 })
  seam = runtime.emulator as SeamEmulator
})
afterAll(async () => {
  vi.restoreAllMocks()
  await runtime?.close()
})

function expectContractError(res: RawResponse, expected: Case): void {
  const context = `${expected.name}: ${res.status} ${res.body.slice(0, 300)}`
  expect(res.headers['content-type'], context).toMatch(/^application\/json/)
  expect(res.body, context).not.toMatch(STACK_TRACE)
  const parsed = JSON.parse(res.body) as { error?: Record<string, unknown> }
  expect(Object.keys(parsed), context).toEqual(['error'])
  const error = parsed.error ?? {}
  expect(error.type, context).toBe(expected.type)
  expect(error.type, context).toMatch(/^[a-z][a-z0-9_]*$/)
  expect(typeof error.message === 'string' && error.message.length > 0, context).toBe(true)
  expect(typeof error.request_id === 'string' && error.request_id.length > 0, context).toBe(true)
  expect(res.status, context).toBe(expected.status)
}

describe('hostile input: every malformed request gets its 4xx in the contract shape', () => {
  it('the routes work for a well-formed request (so the 4xx below are not an outage)', async () => {
    const res = await rawRequest(runtime.url, {
      method: 'POST',
      path: '/user-identities',
      headers: JSON_TYPE,
      body: JSON.stringify({ user_identity_key: 'hostile-control' }),
    })
    expect(res.status, res.body).toBe(201)
    seam.reset()
  })

  it.for(CASES)('$method $name → $status $type', async (c) => {
    const res = await rawRequest(runtime.url, {
      method: c.method,
      path: c.path,
      ...(c.headers ? { headers: c.headers } : {}),
      ...(c.body === undefined ? {} : { body: c.body }),
    })
    results.push({ name: c.name, status: res.status })
    expect(res.status, `${c.name}: ${res.body.slice(0, 300)}`).toBeLessThan(500)
    expectContractError(res, c)
  })

  it('answers a keep-alive client correctly after refusing an oversized body on its connection', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    try {
      const big = await rawRequest(runtime.url, {
        method: 'POST',
        path: '/user-identities',
        headers: JSON_TYPE,
        body: Buffer.alloc(2 * 1024 * 1024, 0x20),
        agent,
      })
      expect(big.status).toBe(413)
      const next = await rawRequest(runtime.url, {
        method: 'POST',
        path: '/user-identities',
        headers: JSON_TYPE,
        body: '{}',
        agent,
      })
      expect(next.status, next.body).toBe(400)
    } finally {
      agent.destroy()
    }
  })

  it('wrote nothing to Seam, started nothing, and logged no unexpected error', async () => {
    const writes = seam.requests.filter((r) => !/\/(get|list)$/.test(r.path))
    expect(writes).toEqual([])
    expect(seam.inspect.counts().userIdentities).toBe(0)
    const errors = logLines.filter((line) => /"level":"(ERROR|CRITICAL)"/.test(line))
    expect(errors).toEqual([])
  })

  it('counts: at least 40 malformed requests tried, all 4xx, no 5xx', () => {
    const fourXx = results.filter((r) => r.status >= 400 && r.status < 500).length
    const fiveXx = results.filter((r) => r.status >= 500).length
    console.log(
      `hostile input: ${results.length} malformed requests tried, ${fourXx} answered 4xx, ${fiveXx} answered 5xx`,
    )
    expect(results.length).toBe(CASES.length)
    expect(results.length).toBeGreaterThanOrEqual(40)
    expect(fourXx).toBe(results.length)
    expect(fiveXx).toBe(0)
  })
})
