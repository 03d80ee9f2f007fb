/**
 * The local processes as a hostile or careless client meets them: header and query keys that name
 * Object.prototype members, prototype paths in the Seam emulator's query string and body, unauthorized
 * requests with bodies the emulator must not even read, and a client that hangs up mid-request. None may
 * give a 500, and none may change a later answer.
 */
import { request } from 'node:http'
import { connect } from 'node:net'
import { SeamHttp } from '@seamapi/http/connect'
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { type LocalRuntime, startLocalRuntime } from '../../local/runtime.js'
import type { SeamEmulator } from '../../local/seam-emulator/index.js'
import { startLocalServer } from '../../local/server.js'

const PROTOTYPE_NAMES = ['constructor', '__proto__', 'toString', 'hasOwnProperty'] as const

let runtime: LocalRuntime
let seam: SeamEmulator
/** The runtime's request log lines (method, path, status, ms). */
const lines: { method: string; path: string; status: number }[] = []

beforeAll(async () => {
  runtime = await startLocalRuntime({ port: 0, onRequest: (line) => lines.push(line) })
  seam = runtime.emulator as SeamEmulator
})
afterAll(() => runtime?.close())
beforeEach(() => seam.reset())

/** One raw HTTP request (node:http sends header names as given, `__proto__` included). */
function raw(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { method, headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
      )
    })
    req.on('error', reject)
    req.end(body)
  })
}

/** Inherited properties a pollution would have added: none may exist. */
function expectPrototypeClean() {
  const probe: Record<string, unknown> = {}
  for (const name of ['full_name', 'is_admin', 'polluted']) expect(probe[name]).toBeUndefined()
}

async function createThroughApi(fullName: string) {
  const tag = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`
  const answer = await raw(
    runtime.url,
    'POST',
    '/user-identities',
    { 'content-type': 'application/json' },
    JSON.stringify({ user_identity_key: `key-${tag}`, full_name: fullName }),
  )
  expect(answer.status, answer.text).toBe(201)
  return JSON.parse(answer.text).user_identity as { user_identity_id: string; full_name: string }
}

describe('local server: header and query keys are plain data', () => {
  it.each(PROTOTYPE_NAMES)(
    'a header and a query key named %s: no 5xx on any route',
    async (name) => {
      const headers = { [name]: 'PWNED', 'content-type': 'application/json' }
      const query = `?${encodeURIComponent(name)}=PWNED&${encodeURIComponent(`${name}.full_name`)}=PWNED`
      const identity = await createThroughApi('Before Probe')
      const answers = [
        await raw(
          runtime.url,
          'POST',
          `/user-identities${query}`,
          headers,
          JSON.stringify({ user_identity_key: `probe-${name}`, full_name: 'Probe' }),
        ),
        await raw(
          runtime.url,
          'GET',
          `/deletions/${identity.user_identity_id}--1${query}`,
          headers,
        ),
        await raw(runtime.url, 'GET', `/health${query}`, headers),
        await raw(runtime.url, 'GET', `/nowhere${query}`, headers),
      ]
      for (const answer of answers) expect(answer.status, answer.text).toBeLessThan(500)
      // The create itself went through with the fields it sent, and nothing else.
      expect(answers[0]?.status, answers[0]?.text).toBe(201)
      expect(JSON.parse(answers[0]?.text ?? '{}').user_identity.full_name).toBe('Probe')
      expectPrototypeClean()
      // A later request is answered as if the probe had never been sent.
      const later = await createThroughApi('After Probe')
      expect(later.full_name).toBe('After Probe')
      expect(seam.inspect.resource(later.user_identity_id)).toMatchObject({
        full_name: 'After Probe',
      })
    },
  )

  it('a client that hangs up while its request is handled is logged as an abort', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined)
    const warnings = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    try {
      lines.length = 0
      const { port } = new URL(runtime.url)
      const socket = connect(Number(port), '127.0.0.1')
      await new Promise<void>((resolve) => socket.once('connect', resolve))
      // The client hangs up while the handler waits for Seam's create (which then goes through).
      seam.beforeNextRequest('/user_identities/create', async () => {
        socket.destroy()
        await new Promise((resolve) => setTimeout(resolve, 50))
      })
      const body = JSON.stringify({ user_identity_key: 'hung-up', full_name: 'Hung Up' })
      socket.write(
        'POST /user-identities HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
          `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      )
      for (let i = 0; i < 200 && lines.length === 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
      expect(lines).toEqual([expect.objectContaining({ path: '/user-identities', status: 499 })])
      expect(warnings.mock.calls.map((args) => String(args[0]))).toEqual([
        expect.stringMatching(/client aborted request \S+ \(POST \/user-identities\)/),
      ])
      expect(errors).not.toHaveBeenCalled()
    } finally {
      errors.mockRestore()
      warnings.mockRestore()
    }
  })

  it('a client that hangs up mid-body is logged as an abort, not a 500', async () => {
    const lines: { status: number; path: string }[] = []
    const server = await startLocalServer({ onRequest: (line) => lines.push(line) })
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined)
    const warnings = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    try {
      const { port } = new URL(server.url)
      const socket = connect(Number(port), '127.0.0.1')
      await new Promise<void>((resolve) => socket.once('connect', resolve))
      socket.write(
        'POST /user-identities HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
          'Content-Length: 1000\r\n\r\n{"user_identity_key": "half',
      )
      await new Promise((resolve) => setTimeout(resolve, 50))
      socket.destroy()
      for (let i = 0; i < 200 && lines.length === 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
      expect(lines).toEqual([expect.objectContaining({ path: '/user-identities', status: 499 })])
      expect(errors).not.toHaveBeenCalled()
      expect(warnings.mock.calls.map((args) => String(args[0]))).toEqual([
        expect.stringMatching(/client aborted request \S+ \(POST \/user-identities\)/),
      ])
      // The server still answers the next request.
      expect((await raw(server.url, 'GET', '/health', {})).status).toBe(200)
    } finally {
      errors.mockRestore()
      warnings.mockRestore()
      await server.close()
    }
  })
})

describe('Seam emulator: the key first, and parameters as plain data', () => {
  const auth = () => ({ authorization: `Bearer ${seam.apiKey}` })
  const pollutions = [
    '__proto__.full_name=PWNED',
    'constructor.prototype.full_name=PWNED',
    '__proto__=PWNED',
    'a.__proto__.full_name=PWNED',
  ]

  it.each(pollutions)('?%s: 401 without the key, 400 with it; nothing polluted', async (query) => {
    const anonymous = await raw(seam.url, 'GET', `/anything?${query}`, {})
    expect(anonymous.status, anonymous.text).toBe(401)
    const keyed = await raw(seam.url, 'GET', `/user_identities/list?${query}`, auth())
    expect(keyed.status, keyed.text).toBe(400)
    expect(JSON.parse(keyed.text).error.type).toBe('invalid_input')
    const control = await raw(seam.url, 'POST', `/_emulator/faults?${query}`, auth())
    expect(control.status, control.text).toBe(400)
    expectPrototypeClean()
    // Identities created afterwards have exactly the fields they were created with.
    const sdk = SeamHttp.fromApiKey(seam.apiKey, { endpoint: seam.url })
    const identity = await sdk.userIdentities.create({ user_identity_key: `after-${query}` })
    expect(identity.full_name).toBeNull()
    const listed = await sdk.userIdentities.list()
    expect(listed.map((i) => i.full_name)).toEqual([null])
  })

  it.each(['__proto__', 'constructor', 'prototype'])(
    'a body key %s: 400 invalid_input, nothing created or polluted',
    async (key) => {
      const body = `{"${key}": {"full_name": "PWNED"}, "user_identity_key": "k-${key}"}`
      const answer = await raw(
        seam.url,
        'POST',
        '/user_identities/create',
        { ...auth(), 'content-type': 'application/json' },
        body,
      )
      expect(answer.status, answer.text).toBe(400)
      expect(seam.inspect.counts().userIdentities).toBe(0)
      expectPrototypeClean()
    },
  )

  it('checks the key before reading anything: 401 whatever the query and body', async () => {
    const headers = { 'content-type': 'application/json' }
    for (const path of ['/user_identities/create', '/_emulator/reset']) {
      for (const body of ['{not json', '{"user_identity_key": "anonymous"}']) {
        const anonymous = await raw(seam.url, 'POST', `${path}?probe=1`, headers, body)
        expect(anonymous.status, anonymous.text).toBe(401)
      }
      const keyed = await raw(seam.url, 'POST', path, { ...headers, ...auth() }, '{not json')
      expect(keyed.status, keyed.text).toBe(400)
    }
    // An unauthorized request is logged without parameters: none were read.
    const logged = seam.requests.filter((r) => r.status === 401)
    expect(logged).toHaveLength(2)
    for (const entry of logged) expect(Object.keys(entry.params)).toEqual([])
  })
})
