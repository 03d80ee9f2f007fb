/**
 * The service's own metrics, as the EMF lines a Lambda writes: Seam requests by route and outcome (from
 * the real Seam client against a scripted Seam: 200, 429, 503, 404, no answer, refused), with their
 * latency; creates by outcome (the create route's handler); stage durations and deletions by outcome
 * (the stage task's handler); one line per set of dimension values.
 */
import type { ServerResponse } from 'node:http'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import type { DeletionState } from '../../functions/core/deletion-steps.js'
import { type SeamEmulator, startSeamEmulator } from '../../local/seam-emulator/index.js'
import { jsonEvent, lambdaContext } from '../api/events.js'
import { type StubServer, startStubServer } from '../seam/stub-server.js'

// Metrics are off outside Lambda; on here, before the modules that create the Metrics instance load
// (so every import of functions/ is a dynamic one below).
process.env.POWERTOOLS_METRICS_DISABLED = 'false'
process.env.POWERTOOLS_METRICS_NAMESPACE = 'SeamUserIdentities/test'
const { publishMetrics, recordSeamRequest, seamOutcome } = await import(
  '../../functions/telemetry/metrics.js'
)
const seam = await import('../../functions/seam/index.js')
const { DEFAULT_POLL_POLICY } = await import('../../functions/core/poll.js')

interface Emf {
  _aws: {
    CloudWatchMetrics: {
      Namespace: string
      Dimensions: string[][]
      Metrics: { Name: string; Unit: string }[]
    }[]
  }
  [key: string]: unknown
}

/** What publishMetrics (or a handler) writes to stdout, parsed. */
function capture() {
  const lines: string[] = []
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
    lines.push(String(chunk))
    return true
  })
  return {
    emf(): Emf[] {
      spy.mockRestore()
      return lines
        .flatMap((l) => l.split('\n'))
        .filter((l) => l.includes('"_aws"'))
        .map((l) => JSON.parse(l) as Emf)
    },
  }
}

afterEach(() => {
  vi.restoreAllMocks()
})

describe('seamOutcome', () => {
  it.for([
    [{ status: 200 }, 'ok'],
    [{ status: 404 }, '4xx'],
    [{ status: 401 }, '4xx'],
    [{ status: 429 }, '429'],
    [{ status: 503 }, '5xx'],
    [{ status: undefined, failure: 'timeout' }, 'timeout'],
    [{ status: undefined, failure: 'connection_refused' }, 'network'],
    [{ status: undefined, failure: 'network' }, 'network'],
  ] as const)('%j → %s', ([answer, outcome]) => {
    expect(seamOutcome(answer)).toBe(outcome)
  })
})

describe('publishMetrics', () => {
  it('one EMF line per set of dimension values: counts added up, latencies listed, rolled up by outcome', () => {
    recordSeamRequest({ route: '/acs/users/list', outcome: 'ok', ms: 10 })
    recordSeamRequest({ route: '/acs/users/list', outcome: 'ok', ms: 30 })
    recordSeamRequest({ route: '/acs/users/list', outcome: '429', ms: 5 })
    const out = capture()
    publishMetrics()
    const lines = out.emf()
    // By route and outcome (ok, 429), and by outcome alone (ok, 429).
    expect(lines).toHaveLength(4)
    const ok = lines.find((l) => l.outcome === 'ok' && l.route) as Emf
    expect(ok).toMatchObject({
      service: 'seam-user-identities',
      route: '/acs/users/list',
      SeamRequests: 2,
      SeamLatency: [10, 30],
    })
    const [meta] = ok._aws.CloudWatchMetrics
    expect(meta?.Namespace).toBe('SeamUserIdentities/test')
    expect(meta?.Dimensions).toEqual([['service', 'route', 'outcome']])
    expect(meta?.Metrics).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Name: 'SeamRequests', Unit: 'Count' }),
        expect.objectContaining({ Name: 'SeamLatency', Unit: 'Milliseconds' }),
      ]),
    )
    expect(lines.find((l) => l.outcome === '429' && l.route)).toMatchObject({ SeamRequests: 1 })
    const byOutcome = lines.filter((l) => !('route' in l))
    expect(byOutcome.map((l) => [l.outcome, l.SeamRequests])).toEqual([
      ['ok', 2],
      ['429', 1],
    ])
    expect(byOutcome[0]?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['service', 'outcome']])
    // Published once: nothing left for the next invocation.
    const again = capture()
    publishMetrics()
    expect(again.emf()).toEqual([])
  })

  it('past 99 latencies of one route and outcome, more lines, each with its dimensions', () => {
    for (let i = 0; i < 150; i++) recordSeamRequest({ route: '/events/list', outcome: 'ok', ms: i })
    const out = capture()
    publishMetrics()
    const lines = out.emf()
    expect(lines.length).toBeGreaterThan(1)
    const byRoute = lines.filter((l) => 'route' in l)
    expect(byRoute.length).toBeGreaterThan(1)
    for (const line of byRoute) expect(line).toMatchObject({ route: '/events/list', outcome: 'ok' })
    expect(byRoute.flatMap((l) => l.SeamLatency as number[])).toHaveLength(150)
    expect(byRoute.reduce((n, l) => n + Number(l.SeamRequests ?? 0), 0)).toBe(150)
  })
})

describe('Seam requests through the Seam module (seamClientFromEnvironment)', () => {
  let stub: StubServer
  const answers: ((res: ServerResponse) => void)[] = [
    (res) => json(res, 200, { workspace: { workspace_id: 'w' } }),
    (res) => json(res, 429, { error: { type: 'rate_limited', message: 'slow down' } }),
    (res) => json(res, 503, { error: { type: 'unavailable', message: 'down' } }),
    (res) => json(res, 404, { error: { type: 'user_identity_not_found', message: 'gone' } }),
    () => undefined, // never answers
  ]
  beforeAll(async () => {
    stub = await startStubServer((_req, res, index) => answers[index]?.(res))
    process.env.SEAM_API_KEY = 'seam_test_metrics'
    process.env.SEAM_ENDPOINT = stub.url
    seam.resetSeamClientCache()
  })
  afterAll(async () => {
    await stub.close()
    delete process.env.SEAM_API_KEY
    delete process.env.SEAM_ENDPOINT
    seam.resetSeamClientCache()
  })

  it('count each attempt by route and outcome: ok, 429, 5xx, 4xx', async () => {
    const client = await seam.seamClientFromEnvironment()
    await client.workspaces.get()
    // GET: retried after the 429 and the 503, then the 404 ends it.
    await expect(client.userIdentities.get({ user_identity_id: 'x' })).rejects.toThrow()
    const out = capture()
    publishMetrics()
    const lines = out.emf()
    const outcomes = Object.fromEntries(
      lines.filter((l) => l.route).map((l) => [`${l.route} ${l.outcome}`, l.SeamRequests]),
    )
    expect(outcomes).toEqual({
      '/workspaces/get ok': 1,
      '/user_identities/get 429': 1,
      '/user_identities/get 5xx': 1,
      '/user_identities/get 4xx': 1,
    })
    // One value is a number, several a list (EMF).
    for (const line of lines.filter((l) => l.route)) {
      expect(typeof [line.SeamLatency].flat()[0]).toBe('number')
    }
  })

  it('a request Seam does not answer in time counts as a timeout', async () => {
    const outcomes: string[] = []
    const client = seam.createSeamClient(
      { apiKey: 'seam_test_metrics', endpoint: stub.url },
      {
        retry: { maxAttempts: 1 },
        timeoutMs: 100,
        onRequest: (info) => outcomes.push(seamOutcome(info)),
      },
    )
    await expect(client.workspaces.get()).rejects.toThrow()
    expect(outcomes).toEqual(['timeout'])
  })
})

function json(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'Content-Type': 'application/json' })
  res.end(JSON.stringify(body))
}

/** `run` against an emulator the handlers' Seam client reaches through its environment, as deployed. */
async function withEmulator(
  options: Parameters<typeof startSeamEmulator>[0],
  run: (emulator: SeamEmulator) => Promise<void>,
) {
  const emulator = await startSeamEmulator(options)
  process.env.SEAM_API_KEY = emulator.apiKey
  process.env.SEAM_ENDPOINT = emulator.url
  seam.resetSeamClientCache()
  try {
    await run(emulator)
  } finally {
    await emulator.close()
    delete process.env.SEAM_API_KEY
    delete process.env.SEAM_ENDPOINT
    seam.resetSeamClientCache()
  }
}

describe('handlers', () => {
  it('the create route publishes Creates by outcome: created, replayed, the error type', async () => {
    await withEmulator({}, async () => {
      const { handler } = await import('../../functions/api/create-user-identity.js')
      const body = { user_identity_key: 'metrics-1', full_name: 'Metric Person' }
      const out = capture()
      await handler(jsonEvent(body), lambdaContext())
      await handler(jsonEvent(body), lambdaContext())
      await handler(jsonEvent({ full_name: 42 }), lambdaContext())
      const creates = out
        .emf()
        .filter((l) => 'Creates' in l)
        .map((l) => l.outcome)
      expect(creates).toEqual(['created', 'replayed', 'invalid_input'])
    })
  })

  it("the bulk task publishes its Seam requests' metrics as each invocation ends", async () => {
    await withEmulator({}, async () => {
      const { createHandler } = await import('../../functions/bulk/bulk-task.js')
      const handler = createHandler({
        seam: seam.seamClientFromEnvironment,
        // Not used: the identity is unknown to Seam, so no execution is looked up.
        deletions: () => ({}) as never,
      })
      const out = capture()
      await handler({ action: 'prepare', user_identity_id: crypto.randomUUID() })
      const lookups = out.emf().filter((l) => l.route === '/user_identities/get')
      expect(lookups.length).toBeGreaterThan(0)
    })
  })

  it('the stage task publishes stage durations, and Deletions succeeded / failed', async () => {
    await withEmulator({ deleteDelayMs: 0 }, async (emulator) => {
      const { handler } = await import('../../functions/deletion/stage-task.js')
      const graph = emulator.seed.identityGraph({ clientSessions: 2, acsSystems: 0 })
      const policy = DEFAULT_POLL_POLICY
      const out = capture()
      let state: DeletionState = { user_identity_id: graph.userIdentityId }
      // What the state machine passes: the task state's EnteredTime ($$.State.EnteredTime).
      const task_entered_at = new Date().toISOString()
      const run = (action: 'delete' | 'check', stage: 'client_sessions' | 'user_identity') =>
        handler({ action, stage, policy, state, task_entered_at })
      state = await run('delete', 'client_sessions')
      state = await run('delete', 'user_identity')
      state = await run('check', 'user_identity')
      expect(state.stages?.user_identity?.pending_count).toBe(0)
      // A key Seam rejects: a permanent error, so the deletion fails at once.
      process.env.SEAM_API_KEY = 'seam_test_rejected'
      seam.resetSeamClientCache()
      const other = emulator.seed.identityGraph({ clientSessions: 1, acsSystems: 0 })
      await expect(
        handler({
          action: 'delete',
          stage: 'client_sessions',
          policy,
          state: { user_identity_id: other.userIdentityId },
          task_entered_at: new Date().toISOString(),
        }),
      ).rejects.toMatchObject({ name: 'SeamUnauthorizedError' })
      const lines = out.emf()
      expect(lines.filter((l) => 'StageDuration' in l).map((l) => l.stage)).toEqual([
        'client_sessions',
        'user_identity',
      ])
      expect(lines.find((l) => l.stage === 'user_identity')).toMatchObject({ StageChecks: 1 })
      expect(lines.filter((l) => 'Deletions' in l).map((l) => l.outcome)).toEqual([
        'succeeded',
        'failed',
      ])
    })
  })

  it('a stage the webhooks resumed has its duration and checks published by the next stage', async () => {
    await withEmulator({ deleteDelayMs: 0 }, async (emulator) => {
      const { handler } = await import('../../functions/deletion/stage-task.js')
      const graph = emulator.seed.identityGraph({ clientSessions: 0, acsSystems: 1 })
      const startedAt = new Date(Date.now() - 3_000).toISOString()
      // What the state holds after `Await ACS credentials` was resumed: its items still pending.
      const state: DeletionState = {
        user_identity_id: graph.userIdentityId,
        stages: {
          acs_credentials: {
            started_at: startedAt,
            deletes_done_at: startedAt,
            deleted: 1,
            pending: [{ id: 'credential-1' }],
            pending_count: 1,
            checks: 0,
            wait_seconds: 2,
            checks_left: true,
          },
        },
      }
      const out = capture()
      await handler({
        action: 'delete',
        stage: 'acs_users',
        policy: DEFAULT_POLL_POLICY,
        state,
        task_entered_at: new Date().toISOString(),
      })
      const resumed = out.emf().find((l) => l.stage === 'acs_credentials')
      expect(resumed).toMatchObject({ StageChecks: 0 })
      expect(resumed?.StageDuration).toBeGreaterThanOrEqual(3)
    })
  })
})
