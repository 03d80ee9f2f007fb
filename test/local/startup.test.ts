/**
 * `npm start`'s rough edges, checked on its real output (tsx local/main.ts as npm runs it): a bad flag
 * or `npm start --port 3001` without "--" prints the usage, a port in use one line naming it, the
 * start-up Seam check a clear line for a wrong endpoint or a rejected key, SEAM_ENDPOINT without a key
 * an error; and the local server answers HEAD /health and GET /.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { schemas } from '@seamapi/types/connect'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { REPO_ROOT } from '../../infra/repo-root.js'
import { startSeamEmulator } from '../../local/seam-emulator/index.js'
import { type LocalServer, routeList, startLocalServer } from '../../local/server.js'
import { parseWith, sdkFor } from '../emulator/helpers.js'

const children: ChildProcess[] = []
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGTERM')
})

interface Run {
  code: number | null
  out: string
}

/**
 * Runs `npm start`'s entry with these arguments and environment; resolves at exit, or as soon as the
 * output matches `until` (then stops the process: it is a server).
 */
function start(args: string[], env: Record<string, string> = {}, until?: RegExp): Promise<Run> {
  const child = spawn(join(REPO_ROOT, 'node_modules/.bin/tsx'), ['local/main.ts', ...args], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/nonexistent',
      POWERTOOLS_LOG_LEVEL: 'ERROR',
      CDK_VALIDATION: 'false',
      ...env,
    },
  })
  children.push(child)
  let out = ''
  return new Promise((resolve) => {
    const seen = (chunk: Buffer) => {
      out += chunk.toString()
      if (until?.test(out)) {
        child.kill('SIGTERM')
        resolve({ code: null, out })
      }
    }
    child.stdout?.on('data', seen)
    child.stderr?.on('data', seen)
    child.on('close', (code) => resolve({ code, out }))
  })
}

const STACK_TRACE = /\n\s+at .+:\d+:\d+/

describe('flags', () => {
  it('a mistyped flag prints the usage, no stack trace', async () => {
    const run = await start(['--prot', '3001'])
    expect(run.code).toBe(2)
    expect(run.out).toContain("Unknown option '--prot'")
    expect(run.out).toContain('Usage: npm start -- [options]')
    expect(run.out).not.toMatch(STACK_TRACE)
  })

  it('`npm start --port 3001` (no "--") says npm took the flag and how to pass it', async () => {
    // What npm does with it: keeps --port as its own config (npm_config_port) and passes "3001" on.
    const run = await start(['3001'], { npm_config_port: 'true' })
    expect(run.code).toBe(2)
    expect(run.out).toContain('npm took --port for itself: put "--" before the flags')
    expect(run.out).toContain('npm start -- --port 3001')
    expect(run.out).toContain('Usage: npm start -- [options]')
    expect(run.out).not.toMatch(STACK_TRACE)
  })

  it('`npm start --demo` (no "--", npm keeps it) is not silently ignored', async () => {
    const run = await start([], { npm_config_demo: 'true' })
    expect(run.code).toBe(2)
    expect(run.out).toContain('npm took --demo for itself')
  })

  it('--help lists every flag and environment variable, and says state is in memory', async () => {
    const run = await start(['--help'])
    expect(run.code).toBe(0)
    for (const name of [
      '--port',
      '--demo',
      'PORT',
      'SEAM_API_KEY',
      'SEAM_ENDPOINT',
      'SEAM_WEBHOOK_URL',
      'DELETION_STAGE_TIMEOUT_SECONDS',
      'LOCAL_WAIT_SCALE',
      'SEAM_EMULATOR_DELETE_DELAY_MS',
    ]) {
      expect(run.out).toContain(name)
    }
    expect(run.out).toContain('lives in memory')
  })

  it("every environment variable local/main.ts reads is a row of the README's Local settings and in --help", async () => {
    const main = readFileSync(join(REPO_ROOT, 'local/main.ts'), 'utf8')
    const read = [...new Set([...main.matchAll(/process\.env\.([A-Z0-9_]+)/g)].map((m) => m[1]))]
    expect(read).toContain('BULK_DELETION_CONCURRENCY')
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8')
    const settings = readme.slice(
      readme.indexOf('<!-- local-settings:start -->'),
      readme.indexOf('<!-- local-settings:end -->'),
    )
    const rows = settings.split('\n').filter((line) => line.startsWith('| `'))
    const help = (await start(['--help'])).out
    for (const name of read) {
      expect(
        rows.some((row) => row.startsWith(`| \`${name}\` |`)),
        `README row for ${name}`,
      ).toBe(true)
      expect(help, `--help names ${name}`).toContain(name)
    }
  })

  it('SEAM_ENDPOINT without SEAM_API_KEY is an error naming both', async () => {
    const run = await start([], { SEAM_ENDPOINT: 'http://127.0.0.1:9' })
    expect(run.code).toBe(2)
    expect(run.out).toContain('SEAM_ENDPOINT is set (http://127.0.0.1:9) but SEAM_API_KEY is not')
  })
})

describe('start-up', () => {
  let busy: Server
  let busyPort: number
  beforeAll(async () => {
    busy = createServer()
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve))
    busyPort = (busy.address() as AddressInfo).port
  })
  afterAll(() => new Promise<void>((resolve) => busy.close(() => resolve())))

  it('a port in use: one line naming it and how to choose another', async () => {
    const run = await start(['--port', String(busyPort)])
    expect(run.code).toBe(1)
    expect(run.out).toContain(
      `Port ${busyPort} on 127.0.0.1 is already in use (another npm start?): choose another with npm start -- --port ${busyPort + 1}`,
    )
    expect(run.out).not.toContain('EADDRINUSE')
    expect(run.out).not.toMatch(STACK_TRACE)
  })

  it('a wrong SEAM_ENDPOINT: the address and the cause, and the API still lists every route', async () => {
    // busyPort answers HTTP but is no Seam; a closed port refuses the connection.
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const closedPort = (closed.address() as AddressInfo).port
    await new Promise<void>((resolve) => closed.close(() => resolve()))
    const endpoint = `http://127.0.0.1:${closedPort}`
    const run = await start(
      ['--port', '0'],
      { SEAM_API_KEY: 'seam_test_key', SEAM_ENDPOINT: endpoint },
      /State lives in memory/,
    )
    expect(run.out).toContain(`Seam CHECK FAILED at ${endpoint} (SEAM_ENDPOINT): ECONNREFUSED:`)
    expect(run.out).toContain('ECONNREFUSED')
    // Without SEAM_WEBHOOK_URL, an external endpoint means polling only, said at start.
    expect(run.out).toContain('Webhooks OFF: polling only')
    for (const route of routeList()) expect(run.out).toContain(route)
    expect(run.out).toContain('GET /openapi.json')
  })

  it('a network error without a code: the printed line names its cause (fetch refuses port 9: bad port)', async () => {
    const run = await start(
      ['--port', '0'],
      { SEAM_API_KEY: 'seam_test_key', SEAM_ENDPOINT: 'http://127.0.0.1:9' },
      /State lives in memory/,
    )
    expect(run.out).toMatch(
      /Seam CHECK FAILED at http:\/\/127\.0\.0\.1:9 \(SEAM_ENDPOINT\): .*\(bad port\)/,
    )
  })

  it('a rejected key: names SEAM_API_KEY', async () => {
    const emulator = await startSeamEmulator()
    try {
      const run = await start(
        ['--port', '0'],
        { SEAM_API_KEY: 'seam_not_the_right_key', SEAM_ENDPOINT: emulator.url },
        /State lives in memory/,
      )
      expect(run.out).toContain(
        `Seam CHECK FAILED: ${emulator.url} rejected the key in SEAM_API_KEY (HTTP 401)`,
      )
    } finally {
      await emulator.close()
    }
  })

  it('against the emulator: the check passes', async () => {
    const run = await start(['--port', '0'], {}, /State lives in memory/)
    expect(run.out).toMatch(
      /Seam: the emulator accepted its key \(workspace [0-9a-f-]{36}, sandbox\)/,
    )
  })
})

describe('the local server', () => {
  let server: LocalServer
  beforeAll(async () => {
    server = await startLocalServer({ openapi: { openapi: '3.1.0' } })
  })
  afterAll(() => server.close())

  it('HEAD /health answers like GET, without a body', async () => {
    const head = await fetch(`${server.url}/health`, { method: 'HEAD' })
    const get = await fetch(`${server.url}/health`)
    expect(head.status).toBe(200)
    expect(await head.text()).toBe('')
    expect(head.headers.get('content-type')).toBe(get.headers.get('content-type'))
    expect(await get.json()).toEqual({ ok: true })
  })

  it('GET / points at /openapi.json and the README', async () => {
    const answer = await fetch(`${server.url}/`)
    expect(answer.status).toBe(200)
    const body = (await answer.json()) as Record<string, unknown>
    expect(body).toMatchObject({ openapi: '/openapi.json', health: '/health' })
    expect(String(body.readme)).toContain('README.md')
  })
})

describe('the emulator', () => {
  it('answers workspaces/get with what Seam’s schema accepts', async () => {
    const emulator = await startSeamEmulator()
    try {
      parseWith(schemas.workspace, await sdkFor(emulator).workspaces.get())
    } finally {
      await emulator.close()
    }
  })
})
