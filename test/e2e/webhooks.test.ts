// Seam's webhooks end to end, through startLocalRuntime: the emulator delivers Svix-signed events to
// POST /webhooks/seam of the local server, the webhook handler records them in dynalite and resumes the
// deletion's Await tasks; the poll loop stays the authority when deliveries are lost, repeated, late,
// or forged.
import type { HistoryEvent } from '@aws-sdk/client-sfn'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { type DeletionState, stateName } from '../../functions/contract/workflow.js'
import { executionArnFor } from '../../functions/core/deletions.js'
import { DEFAULT_POLL_POLICY } from '../../functions/core/poll.js'
import { DELETION_STAGES } from '../../functions/core/stages.js'
import { logger } from '../../functions/telemetry/powertools.js'
import { type LocalRuntime, startLocalRuntime } from '../../local/runtime.js'
import {
  type IdentityGraphShape,
  type SeamEmulator,
  seededRandom,
} from '../../local/seam-emulator/index.js'
import { newWebhookSecret, signWebhook } from '../../local/seam-emulator/webhooks.js'
import { send, startDeletion, waitForDeletion } from './helpers.js'

const SHAPE: IdentityGraphShape = {
  clientSessions: 2,
  acsSystems: 2,
  credentialsPerUser: 3,
  enrollmentAutomations: 1,
  phones: 2,
}
/** A stage gives up after 150 s of the state machine's time: 3 s of real time at waitScale 0.02. */
const POLL_POLICY = { ...DEFAULT_POLL_POLICY, stageTimeoutSeconds: 150, maxChecks: 500 }

const runtimes: LocalRuntime[] = []
afterAll(() => Promise.all(runtimes.map((r) => r.close())))
afterEach(() => {
  vi.restoreAllMocks()
})

async function start(options: Parameters<typeof startLocalRuntime>[0]) {
  const runtime = await startLocalRuntime({ waitScale: 0.02, pollPolicy: POLL_POLICY, ...options })
  runtimes.push(runtime)
  return { runtime, seam: runtime.emulator as SeamEmulator }
}

/** The states a deletion entered, in order. */
async function statesEntered(runtime: LocalRuntime, deletionId: string): Promise<string[]> {
  const executionArn = executionArnFor(runtime.stepFunctions.stateMachineArn, deletionId)
  const { events = [] } = await runtime.stepFunctions.getExecutionHistory({
    executionArn,
    maxResults: 1000,
  })
  return (events as HistoryEvent[]).flatMap((e) =>
    e.type?.endsWith('StateEntered') && e.stateEnteredEventDetails?.name
      ? [e.stateEnteredEventDetails.name]
      : [],
  )
}

/** The Awaits a deletion entered trusting its deliveries: a safety net longer than the poll's wait. */
async function trustedAwaits(runtime: LocalRuntime, deletionId: string): Promise<string[]> {
  const executionArn = executionArnFor(runtime.stepFunctions.stateMachineArn, deletionId)
  const { events = [] } = await runtime.stepFunctions.getExecutionHistory({
    executionArn,
    maxResults: 1000,
  })
  return (events as HistoryEvent[]).flatMap((e) => {
    const name = e.stateEnteredEventDetails?.name
    if (!name?.startsWith('Await ') || !e.stateEnteredEventDetails?.input) return []
    const stage = DELETION_STAGES.find((s) => stateName(s.name, 'await') === name)
    const state = JSON.parse(e.stateEnteredEventDetails.input) as DeletionState
    const progress = stage && state.stages?.[stage.name]
    return progress && (progress.await_seconds ?? 0) > progress.wait_seconds ? [name] : []
  })
}

describe('webhooks on, with the embedded emulator', () => {
  let runtime: LocalRuntime
  let seam: SeamEmulator
  beforeAll(async () => {
    ;({ runtime, seam } = await start({
      emulator: { deleteDelayMs: 150, random: seededRandom(10) },
    }))
  })

  it('registers POST /webhooks/seam with the emulator for the event types the stages use', () => {
    expect(runtime.webhook?.url).toBe(`${runtime.url}/webhooks/seam`)
    const registered = [...seam.webhooks.webhooks.values()]
    expect(registered.map((w) => w.url)).toEqual([runtime.webhook?.url])
    expect(registered[0]?.event_types.sort()).toEqual(
      [
        'acs_credential.deleted',
        'acs_user.deleted',
        'enrollment_automation.deleted',
        'phone.deactivated',
      ].sort(),
    )
  })

  it('every deletion SUCCEEDED with half the deliveries dropped, a quarter repeated, all delayed; no bystander touched', async () => {
    seam.reset()
    seam.webhooks.setFaults({ dropRate: 0.5, duplicateRate: 0.25, maxDelayMs: 300 })
    const bystander = seam.seed.identityGraph(SHAPE)
    const before = seam.inspect.remainingFor(bystander.userIdentityId)
    const targets = [1, 2, 3, 4].map(() => seam.seed.identityGraph(SHAPE))
    const deletions = await Promise.all(
      targets.map((t) => startDeletion(runtime.url, t.userIdentityId)),
    )
    for (const [i, deletion] of deletions.entries()) {
      const done = await waitForDeletion(runtime.url, deletion.deletion_id, 60_000)
      expect(done.status, JSON.stringify(done)).toBe('SUCCEEDED')
      expect(done.summary).toEqual({
        client_sessions_deleted: 2,
        acs_credentials_deleted: 6,
        acs_users_deleted: 2,
        enrollment_automations_deleted: 1,
        phones_deactivated: 2,
      })
      expect(seam.inspect.remainingFor(targets[i]?.userIdentityId as string).isEmpty).toBe(true)
    }
    expect(seam.inspect.remainingFor(bystander.userIdentityId)).toEqual(before)
    // The faults did happen: messages dropped, and copies delivered twice (same svix-id).
    await seam.webhooks.idle()
    const outcomes = seam.webhooks.deliveries
    expect(outcomes.some((d) => d.outcome === 'dropped')).toBe(true)
    const delivered = outcomes.filter((d) => d.outcome === 'delivered').map((d) => d.svix_id)
    expect(new Set(delivered).size).toBeLessThan(delivered.length)
    expect(outcomes.every((d) => d.outcome !== 'failed')).toBe(true)
  })

  it('a forged acs_credential.deleted for a stuck credential never ends its stage', async () => {
    seam.reset()
    const target = seam.seed.identityGraph(SHAPE)
    const stuckId = target.acsCredentialIds[2] as string
    seam.stickDeletion(stuckId)
    const deletion = await startDeletion(runtime.url, target.userIdentityId)
    const body = JSON.stringify({
      event_id: crypto.randomUUID(),
      event_type: 'acs_credential.deleted',
      acs_credential_id: stuckId,
      workspace_id: crypto.randomUUID(),
      created_at: new Date().toISOString(),
      occurred_at: new Date().toISOString(),
    })
    const forge = async (headers: Record<string, string>) => {
      const response = await fetch(`${runtime.url}/webhooks/seam`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
      })
      return { status: response.status, body: (await response.json()) as { error: object } }
    }
    // Unsigned, and signed with a secret that is not the endpoint's: refused, nothing recorded.
    for (const headers of [{}, signWebhook(newWebhookSecret(), body)]) {
      const answer = await forge(headers)
      expect(answer.status).toBe(401)
      expect(answer.body.error).toMatchObject({ type: 'invalid_webhook_signature' })
    }
    const failed = await waitForDeletion(runtime.url, deletion.deletion_id, 30_000)
    expect(failed).toMatchObject({ status: 'FAILED', stage: 'acs_credentials' })
    expect(failed.error?.type).toBe('deletion_stuck')
    expect(failed.error?.message).toContain(stuckId)
    expect(seam.inspect.remainingFor(target.userIdentityId).acsCredentialIds).toEqual([stuckId])
  })
})

// A runtime of its own (each runtime points the process's Seam client at its emulator): after the
// tests of the first one.
describe('the event-before-waiter race', () => {
  it('settles a stage whose events arrived before its Await registered (Seam confirming at once)', async () => {
    // Real time (waitScale 1): an Await waits its whole 2 s, so none times out on a busy machine.
    const { runtime, seam } = await start({
      waitScale: 1,
      emulator: { deleteDelayMs: { default: 0, user_identity: 150 } },
    })
    const info = vi.spyOn(logger, 'info')
    const targets = [1, 2, 3].map(() => seam.seed.identityGraph(SHAPE))
    for (const target of targets) {
      const deletion = await startDeletion(runtime.url, target.userIdentityId)
      const done = await waitForDeletion(runtime.url, deletion.deletion_id, 30_000)
      expect(done.status).toBe('SUCCEEDED')
      expect(seam.inspect.remainingFor(target.userIdentityId).isEmpty).toBe(true)
      // No stage with events had to check: each was resumed, none waited out its Await.
      const entered = await statesEntered(runtime, deletion.deletion_id)
      expect(entered.filter((s) => /^Check (ACS|enrollment|phones)/.test(s))).toEqual([])
    }
    const resumes = info.mock.calls.filter(([message]) => message === 'Stage resumed')
    const byAwait = resumes.filter(
      ([, extra]) => (extra as { confirmed_by?: string }).confirmed_by === 'events_received',
    )
    // The race itself: at least one Await found all its events already recorded.
    expect(byAwait.length).toBeGreaterThan(0)
  })
})

// A runtime (and a coordination table) of its own: what the deployment has seen of deliveries carries
// from one deletion to the next, through dynalite.
describe("the deployment's delivery health", () => {
  it('a deletion trusts from its first stage once deliveries came to others, and none trusts after one was lost', async () => {
    // At waitScale 0.1 Seam takes 5 s of the workflow: past an untrusted Await (the poll's 2 s), well
    // within a trusted one (31 s); a delivery is lost 10 s (1 s of real time) after a check found it done.
    const { runtime, seam } = await start({
      waitScale: 0.1,
      emulator: { deleteDelayMs: 500, random: seededRandom(11) },
    })
    const checksOf = async (deletionId: string) =>
      (await statesEntered(runtime, deletionId)).filter((s) =>
        /^Check (ACS|enrollment|phones)/.test(s),
      )
    const deleteOne = async () => {
      const target = seam.seed.identityGraph(SHAPE)
      const deletion = await startDeletion(runtime.url, target.userIdentityId)
      const done = await waitForDeletion(runtime.url, deletion.deletion_id, 60_000)
      expect(done.status, JSON.stringify(done)).toBe('SUCCEEDED')
      expect(seam.inspect.remainingFor(target.userIdentityId).isEmpty).toBe(true)
      return { id: deletion.deletion_id, checks: await checksOf(deletion.deletion_id) }
    }
    // The first deletion has nothing to go on: its first stage waits the poll's 2 s, then checks.
    const first = await deleteOne()
    expect(first.checks).toContain('Check ACS credentials')
    // The next trusts the deliveries the first one saw: every stage is resumed, none checks Seam.
    const trusting = await deleteOne()
    expect(trusting.checks).toEqual([])
    expect(await trustedAwaits(runtime, trusting.id)).toHaveLength(4)
    // Deliveries stop: a trusting deletion waits out its safety net once, finds the loss, and still
    // finishes by polling.
    seam.webhooks.setFaults({ dropRate: 1 })
    const lossy = await deleteOne()
    expect(lossy.checks).toContain('Check ACS credentials')
    // One safety net, not one per stage: after it, the deletion waits the poll's waits.
    expect(await trustedAwaits(runtime, lossy.id)).toEqual(['Await ACS credentials'])
    // Deliveries are back, but one was lost moments ago: the next deletion polls from its first stage.
    seam.webhooks.setFaults({ dropRate: 0 })
    const wary = await deleteOne()
    expect(wary.checks).toContain('Check ACS credentials')
  })
})

describe('webhooks off (polling only)', () => {
  it('registers nothing, answers no webhook route, and still deletes everything', async () => {
    const { runtime, seam } = await start({ webhooks: false, emulator: { deleteDelayMs: 100 } })
    expect(runtime.webhook).toBeUndefined()
    expect(seam.webhooks.webhooks.size).toBe(0)
    const answer = await send(runtime.url, 'POST', '/webhooks/seam', { body: '{}' })
    expect(answer.status).toBe(404)
    const target = seam.seed.identityGraph(SHAPE)
    const deletion = await startDeletion(runtime.url, target.userIdentityId)
    expect((await waitForDeletion(runtime.url, deletion.deletion_id)).status).toBe('SUCCEEDED')
    const entered = await statesEntered(runtime, deletion.deletion_id)
    expect(entered.filter((s) => s.startsWith('Await '))).toEqual([])
    expect(entered).toContain('Wait for ACS credentials')
  })

  it('refuses webhooks against an external endpoint without SEAM_WEBHOOK_URL', async () => {
    await expect(
      startLocalRuntime({
        seam: { apiKey: 'seam_test_x', endpoint: 'http://127.0.0.1:9' },
        webhooks: true,
      }),
    ).rejects.toThrow(/SEAM_WEBHOOK_URL/)
  })
})
