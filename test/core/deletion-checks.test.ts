/**
 * How a check reads Seam's events, against a Seam whose events/list honours `since`, the event type and
 * the per-id filter, and stops at 500 events: Seam's clock running behind ours, and a stage whose
 * events are drowned by other deletions in the workspace.
 */
import { describe, expect, it } from 'vitest'
import type { DeletionState } from '../../functions/contract/workflow.js'
import { checkStage, EVENTS_LIMIT } from '../../functions/core/deletion-steps.js'
import { DEFAULT_POLL_POLICY } from '../../functions/core/poll.js'
import { stageByName } from '../../functions/core/stages.js'
import type { SeamClient } from '../../functions/seam/index.js'

const ID = '4d5a1c3e-58b0-4c1c-9a1e-6f1f3f0a9b21'
const credentials = stageByName('acs_credentials')
const NOW = new Date('2026-03-01T12:00:00.000Z')
const STARTED = new Date(NOW.getTime() - 10_000)

interface SeamEvent {
  event_type: string
  acs_credential_id: string
  occurred_at: string
}

const deleted = (id: string, at: Date): SeamEvent => ({
  event_type: 'acs_credential.deleted',
  acs_credential_id: id,
  occurred_at: at.toISOString(),
})

/** Seam as far as a credentials check sees it; every credential given stays listed. */
function seamWith(events: SeamEvent[], listed: string[]) {
  const queries: Record<string, unknown>[] = []
  const seam = {
    acsCredentials: {
      list: async () => listed.map((id) => ({ acs_credential_id: id, acs_system_id: 'sys' })),
      delete: async () => undefined,
    },
    events: {
      list: async (params: Record<string, unknown>) => {
        queries.push(params)
        const since = Date.parse(String(params.since))
        return events
          .filter((e) => Date.parse(e.occurred_at) >= since && e.event_type === params.event_type)
          .filter(
            (e) => !params.acs_credential_id || e.acs_credential_id === params.acs_credential_id,
          )
          .slice(0, EVENTS_LIMIT)
      },
    },
  } as unknown as SeamClient
  return { seam, queries }
}

const waiting = (ids: string[]): DeletionState => ({
  user_identity_id: ID,
  stages: {
    acs_credentials: {
      started_at: STARTED.toISOString(),
      deletes_done_at: STARTED.toISOString(),
      deleted: ids.length,
      pending: ids.map((id) => ({ id })),
      pending_count: ids.length,
      checks: 0,
      wait_seconds: 2,
      checks_left: true,
    },
  },
})

const check = (seam: SeamClient, ids: string[]) =>
  checkStage(seam, credentials, waiting(ids), DEFAULT_POLL_POLICY, { now: () => NOW })

describe('a check reading events', () => {
  it("confirms a delete whose event Seam dated 30 s before the stage began (Seam's clock behind)", async () => {
    const behind = new Date(STARTED.getTime() - 30_000)
    const { seam } = seamWith([deleted('cred-1', behind)], ['cred-1'])
    const progress = (await check(seam, ['cred-1'])).stages?.acs_credentials
    expect(progress?.pending_count).toBe(0)
  })

  it('asks per credential when the stage-wide read hit the 500-event cap, and confirms from that', async () => {
    // 500 deletions elsewhere in the workspace fill the stage-wide answer; ours are not among them.
    const noise = Array.from({ length: EVENTS_LIMIT }, (_, i) => deleted(`other-${i}`, NOW))
    const ours = [deleted('cred-1', NOW), deleted('cred-2', NOW)]
    // Seam still lists both (its list lags its events): only the per-id events can confirm them.
    const { seam, queries } = seamWith([...noise, ...ours], ['cred-1', 'cred-2'])
    const progress = (await check(seam, ['cred-1', 'cred-2'])).stages?.acs_credentials
    expect(progress?.pending_count).toBe(0)
    expect(queries.map((q) => q.acs_credential_id).filter(Boolean)).toEqual(['cred-1', 'cred-2'])
  })
})

describe('a check after a trusted Await timed out (its safety net)', () => {
  /** Seam deleted cred-1 and listed it no more, but never sent its event. */
  const { seam } = seamWith([], [])
  const afterAwait = (awaitSeconds: number): DeletionState => {
    const state = waiting(['cred-1'])
    const progress = state.stages?.acs_credentials
    if (!progress) throw new Error('no progress')
    return { ...state, stages: { acs_credentials: { ...progress, await_seconds: awaitSeconds } } }
  }
  const checkAfter = (awaitSeconds: number) =>
    checkStage(seam, credentials, afterAwait(awaitSeconds), DEFAULT_POLL_POLICY, { now: () => NOW })

  it('looks the stage up in its list at once: an event Seam never sent is as likely as a slow Seam', async () => {
    // The safety net (31 s) ran out: the first check lists, and finds the credential gone.
    const progress = (await checkAfter(31)).stages?.acs_credentials
    expect(progress?.pending_count).toBe(0)
  })

  it('after an untrusted Await (the poll wait), waits for the third check to list, as polling does', async () => {
    const progress = (await checkAfter(2)).stages?.acs_credentials
    expect(progress?.pending_count).toBe(1)
  })
})
