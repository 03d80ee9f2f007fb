/**
 * `npm run api` against the local server, with a fake credential chain (AWS_ACCESS_KEY_ID /
 * AWS_SECRET_ACCESS_KEY in the environment, no profile files): each request reaches the API with a SigV4
 * Authorization header for the given region and service `execute-api`, whose signature this test
 * recomputes on its own (node:crypto, from the bytes the server received), and the CLI prints the
 * answer's status and body.
 */
import { spawn } from 'node:child_process'
import { createHash, createHmac } from 'node:crypto'
import { createServer, type IncomingHttpHeaders, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REPO_ROOT } from '../../infra/repo-root.js'
import { type LocalRuntime, startLocalRuntime } from '../../local/runtime.js'

const KEY_ID = 'AKIDEXAMPLETESTONLY1'
const SECRET = 'fake-secret-for-the-test-only'
const SESSION_TOKEN = 'fake-session-token'
const REGION = 'eu-west-1'

interface Received {
  method: string
  url: string
  headers: IncomingHttpHeaders
  body: Buffer
}

let runtime: LocalRuntime
let proxy: Server
let proxyUrl: string
const received: Received[] = []

beforeAll(async () => {
  runtime = await startLocalRuntime({ port: 0, emulator: { deleteDelayMs: 0 } })
  // Records each request as it arrives, then hands it to the local API unchanged.
  proxy = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body })
      const target = new URL(req.url ?? '/', runtime.url)
      const forward = request(target, { method: req.method, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      })
      forward.end(body)
    })
  })
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`
})

afterAll(async () => {
  await new Promise<void>((resolve) => proxy.close(() => resolve()))
  await runtime.close()
})

/** `npm run api -- …` as a user runs it (tsx scripts/api.ts), with only the fake credentials. */
function runApi(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(join(REPO_ROOT, 'node_modules/.bin/tsx'), ['scripts/api.ts', ...args], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: '/nonexistent',
      API_URL: proxyUrl,
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: KEY_ID,
      AWS_SECRET_ACCESS_KEY: SECRET,
      AWS_SESSION_TOKEN: SESSION_TOKEN,
      AWS_CONFIG_FILE: '/nonexistent/config',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials',
      AWS_EC2_METADATA_DISABLED: 'true',
      ...env,
    },
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString()
  })
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString()
  })
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })))
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex')
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest()
const encode = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)

const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/

/** The SigV4 signature of a received request, computed from AWS's specification (not the signer's code). */
function recomputeSignature(req: Received, secret: string) {
  const auth = String(req.headers.authorization)
  const match = AUTHORIZATION.exec(auth)
  if (!match) throw new Error(`Not a SigV4 Authorization header: ${auth}`)
  const [, keyId, date, region, service, signedHeaders, signature] = match as unknown as string[]
  const url = new URL(req.url, 'http://placeholder')
  const canonicalPath = url.pathname
    .split('/')
    .map((segment) => encode(segment))
    .join('/')
  const canonicalQuery = [...url.searchParams]
    .map(([k, v]) => [encode(k), encode(v)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&')
  const names = (signedHeaders as string).split(';')
  const canonicalHeaders = names
    .map((name) => `${name}:${String(req.headers[name]).trim().replace(/\s+/g, ' ')}\n`)
    .join('')
  const canonicalRequest = [
    req.method,
    canonicalPath,
    canonicalQuery,
    canonicalHeaders,
    signedHeaders,
    sha256(req.body),
  ].join('\n')
  const scope = `${date}/${region}/${service}/aws4_request`
  const stringToSign = [
    'AWS4-HMAC-SHA256',
    String(req.headers['x-amz-date']),
    scope,
    sha256(canonicalRequest),
  ].join('\n')
  let key = hmac(`AWS4${secret}`, date as string)
  for (const part of [region, service, 'aws4_request'] as string[]) key = hmac(key, part)
  return {
    keyId,
    date,
    region,
    service,
    signedHeaders: names,
    signature,
    expected: createHmac('sha256', key).update(stringToSign).digest('hex'),
  }
}

describe('npm run api', () => {
  it('signs a POST with SigV4 for the region and execute-api, and prints the status and body', async () => {
    const body = JSON.stringify({ user_identity_key: 'signed-call-1', full_name: 'Signed Caller' })
    const run = await runApi(['POST', '/user-identities', body])
    expect(run.stderr).toContain('HTTP 201')
    expect(run.code).toBe(0)
    const answer = JSON.parse(run.stdout) as { user_identity: { user_identity_key: string } }
    expect(answer.user_identity.user_identity_key).toBe('signed-call-1')

    const req = received.at(-1) as Received
    expect(req.method).toBe('POST')
    expect(req.body.toString()).toBe(body)
    const sig = recomputeSignature(req, SECRET)
    expect(sig).toMatchObject({ keyId: KEY_ID, region: REGION, service: 'execute-api' })
    expect(sig.date).toBe(String(req.headers['x-amz-date']).slice(0, 8))
    expect(sig.signedHeaders).toEqual(
      expect.arrayContaining(['host', 'x-amz-date', 'x-amz-security-token', 'content-type']),
    )
    expect(req.headers['x-amz-security-token']).toBe(SESSION_TOKEN)
    expect(sig.signature).toBe(sig.expected)
    // The check is real: the same request with another secret or another body does not verify.
    expect(recomputeSignature(req, 'another-secret').expected).not.toBe(sig.signature)
    expect(recomputeSignature({ ...req, body: Buffer.from('{}') }, SECRET).expected).not.toBe(
      sig.signature,
    )
  })

  it('signs the query string too; an error answer prints its body and exits 1', async () => {
    const run = await runApi(['GET', '/deletions/no-such-deletion--1?verbose=yes&a=b c'], {
      AWS_REGION: 'ap-southeast-2',
    })
    expect(run.stderr).toMatch(/HTTP 4\d\d/)
    expect(run.code).toBe(1)
    expect(JSON.parse(run.stdout)).toMatchObject({ error: { type: expect.any(String) } })
    const req = received.at(-1) as Received
    expect(req.url).toContain('?')
    const sig = recomputeSignature(req, SECRET)
    expect(sig.region).toBe('ap-southeast-2')
    expect(sig.signature).toBe(sig.expected)
  })

  it('a wrong call prints the usage, not a stack trace', async () => {
    for (const args of [
      ['GET'],
      ['FETCH', '/health'],
      ['POST', '/user-identities', '{oops'],
      ['--nope'],
    ]) {
      const run = await runApi(args)
      expect(run.code, args.join(' ')).toBe(2)
      expect(run.stderr).toContain('Usage: npm run api --')
      expect(run.stderr).not.toMatch(/\n\s+at /)
    }
  })

  it('without API_URL it says to set it to the ApiUrl output', async () => {
    const run = await runApi(['GET', '/health'], { API_URL: '' })
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('Set API_URL (or --url) to the stack output ApiUrl.')
  })
})
