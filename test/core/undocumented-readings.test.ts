/**
 * The deletion steps against the Seam emulator under the readings of what Seam leaves undocumented: an
 * item Seam is already deleting, a refused repeat delete, the enrollment-automation routes gone, a
 * deactivated phone Seam still lists. Each test fails on the step logic it names.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { checkStage, type DeletionState, deleteStage } from '../../functions/core/deletion-steps.js'
import { DEFAULT_POLL_POLICY } from '../../functions/core/poll.js'
import { stageByName, USER_IDENTITY } from '../../functions/core/stages.js'
import { createSeamClient, type SeamClient } from '../../functions/seam/index.js'
import { logger } from '../../functions/telemetry/powertools.js'
import { type SeamEmulator, startSeamEmulator } from '../../local/seam-emulator/index.js'

let emulator: SeamEmulator
let seam: SeamClient
const policy = { ...DEFAULT_POLL_POLICY, stageTimeoutSeconds: 60 }
/** Deletions are held with a long delay, then let go by lowering it. */
const HOLD = 60_000

beforeAll(async () => {
  emulator = await startSeamEmulator({ deleteDelayMs: 20 })
  seam = createSeamClient({ apiKey: emulator.apiKey, endpoint: emulator.url })
})
afterAll(() => emulator?.close())
beforeEach(() => emulator.reset())

const calls = (path: string) => emulator.requests.filter((r) => r.path === path)
const until = async (probe: () => boolean) => {
  for (let i = 0; i < 400 && !probe(); i++) await new Promise((r) => setTimeout(r, 5))
  expect(probe()).toBe(true)
}

/** Delete, then check until the stage has nothing pending (or no checks left). */
async function runStage(name: string, start: DeletionState): Promise<DeletionState> {
  const stage = name === 'user_identity' ? USER_IDENTITY : stageByName(name)
  let state = await deleteStage(seam, stage, start, policy)
  for (let i = 0; i < 10; i++) {
    const progress = state.stages?.[stage.name as 'phones']
    if (!progress || progress.pending_count === 0 || !progress.checks_left) break
    await new Promise((r) => setTimeout(r, 30))
    state = await checkStage(seam, stage, state, policy)
  }
  return state
}

describe.each(['ok', 'refused'] as const)('repeatDelete %s', (repeatDelete) => {
  beforeEach(() => emulator.setBehaviours({ repeatDelete }))

  it('credentials and ACS users Seam lists as being_deleted are pending, not deleted again', async () => {
    emulator.setDeleteDelayMs(HOLD)
    const graph = emulator.seed.identityGraph({ acsSystems: 1, credentialsPerUser: 3 })
    const [first] = graph.acsCredentialIds as [string]
    await seam.acsCredentials.delete(first)
    const state = await deleteStage(
      seam,
      stageByName('acs_credentials'),
      { user_identity_id: graph.userIdentityId },
      policy,
    )
    const progress = state.stages?.acs_credentials
    expect(progress?.deleted).toBe(3)
    expect(progress?.pending.map((p) => p.id).sort()).toEqual([...graph.acsCredentialIds].sort())
    // The pending items carry nothing beyond the execution state's fields.
    for (const item of progress?.pending ?? []) {
      expect(Object.keys(item).sort()).toEqual(['acs_system_id', 'id'])
    }
    const deletes = calls('/acs/credentials/delete').map((r) => r.params.acs_credential_id)
    expect(deletes.filter((id) => id === first)).toHaveLength(1)
    emulator.setDeleteDelayMs(20)
    await until(() => !emulator.inspect.exists(first))
  })

  it('a user identity already being deleted: its stage waits for it, and succeeds', async () => {
    emulator.setDeleteDelayMs(HOLD)
    const graph = emulator.seed.identityGraph({
      clientSessions: 0,
      acsSystems: 0,
      enrollmentAutomations: 0,
      phones: 0,
    })
    await seam.userIdentities.delete(graph.userIdentityId)
    const started = await deleteStage(
      seam,
      USER_IDENTITY,
      { user_identity_id: graph.userIdentityId },
      policy,
    )
    expect(started.stages?.user_identity?.pending.map((p) => p.id)).toEqual([graph.userIdentityId])
    expect(calls('/user_identities/delete').map((r) => r.status)).toEqual(
      repeatDelete === 'ok' ? [200, 200] : [200, 400],
    )
    emulator.setDeleteDelayMs(20)
    await until(() => !emulator.inspect.exists(graph.userIdentityId))
    const checked = await checkStage(seam, USER_IDENTITY, started, policy)
    expect(checked.stages?.user_identity?.pending_count).toBe(0)
  })

  it('a phone whose deactivation Seam refuses as a repeat is pending until phone.deactivated', async () => {
    emulator.setDeleteDelayMs(HOLD)
    const graph = emulator.seed.identityGraph({ phones: 1, enrollmentAutomations: 0 })
    const [phone] = graph.phoneIds as [string]
    await seam.phones.deactivate(phone)
    const start = { user_identity_id: graph.userIdentityId }
    const stage = stageByName('phones')
    const state = await deleteStage(seam, stage, start, policy)
    expect(state.stages?.phones).toMatchObject({ deleted: 1, pending_count: 1 })
    emulator.setDeleteDelayMs(20)
    await until(() => emulator.inspect.events({ eventType: 'phone.deactivated' }).length === 1)
    const checked = await checkStage(seam, stage, state, policy)
    expect(checked.stages?.phones?.pending_count).toBe(0)
  })
})

it('a refusal that is not a repeat stays a permanent failure (user_identities/delete, documented mode)', async () => {
  emulator.setUserIdentityDeleteMode('documented')
  emulator.setBehaviours({ repeatDelete: 'refused' })
  const graph = emulator.seed.identityGraph({ acsSystems: 1, credentialsPerUser: 1, phones: 0 })
  await expect(
    deleteStage(seam, USER_IDENTITY, { user_identity_id: graph.userIdentityId }, policy),
  ).rejects.toMatchObject({ type: 'user_identity_has_associated_resources' })
})

it('enrollment-automation routes gone: nothing to delete, warned once', async () => {
  emulator.setBehaviours({ enrollmentAutomationRoutes: 'gone' })
  const warn = vi.spyOn(logger, 'warn').mockImplementation(() => undefined)
  try {
    const stage = stageByName('enrollment_automations')
    for (const graph of [emulator.seed.identityGraph(), emulator.seed.identityGraph()]) {
      const state = await deleteStage(
        seam,
        stage,
        { user_identity_id: graph.userIdentityId },
        policy,
      )
      expect(state.stages?.enrollment_automations).toMatchObject({ deleted: 0, pending_count: 0 })
    }
    expect(calls('/user_identities/enrollment_automations/list').map((r) => r.status)).toEqual([
      404, 404,
    ])
    const gone = warn.mock.calls.filter(([message]) =>
      /enrollment-automation routes/.test(String(message)),
    )
    expect(gone).toHaveLength(1)
  } finally {
    warn.mockRestore()
  }
})

it('a 404 naming a resource is not a route gone: no warning, still nothing to delete', async () => {
  const warn = vi.spyOn(logger, 'warn').mockImplementation(() => undefined)
  try {
    const state = await deleteStage(
      seam,
      stageByName('enrollment_automations'),
      { user_identity_id: '00000000-0000-4000-8000-000000000000' },
      policy,
    )
    expect(state.stages?.enrollment_automations?.deleted).toBe(0)
    expect(warn).not.toHaveBeenCalled()
  } finally {
    warn.mockRestore()
  }
})

describe('deactivatedPhones listed', () => {
  beforeEach(() => emulator.setBehaviours({ deactivatedPhones: 'listed' }))

  it('a phone confirmed by phone.deactivated is done although Seam still lists it', async () => {
    const graph = emulator.seed.identityGraph({ phones: 2, enrollmentAutomations: 0 })
    const start = { user_identity_id: graph.userIdentityId }
    const first = await runStage('phones', start)
    expect(first.stages?.phones).toMatchObject({ deleted: 2, pending_count: 0 })
    const listed = await seam.phones.list({ owner_user_identity_id: graph.userIdentityId })
    expect(listed).toHaveLength(2)
    // A new deletion (a re-run) finds nothing left to deactivate, under either repeatDelete reading.
    for (const repeatDelete of ['ok', 'refused'] as const) {
      emulator.setBehaviours({ repeatDelete })
      const again = await runStage('phones', start)
      expect(again.stages?.phones).toMatchObject({ deleted: 0, pending_count: 0 })
    }
    expect(calls('/phones/deactivate')).toHaveLength(2)
  })
})

describe.each(['newest_first', 'oldest_first'] as const)('eventOrder %s', (eventOrder) => {
  it('confirms the stage at its first check past 500 older events of the same type', async () => {
    emulator.setBehaviours({ eventOrder })
    emulator.setDeleteDelayMs(0)
    // 510 credentials of another identity, deleted first: 510 acs_credential.deleted events.
    const other = emulator.seed.identityGraph({ acsSystems: 1, credentialsPerUser: 0 })
    const noise = Array.from(
      { length: 510 },
      () =>
        emulator.seed.acsCredential({ acsUserId: other.acsUserIds[0] as string }).acs_credential_id,
    )
    for (let i = 0; i < noise.length; i += 30) {
      await Promise.all(noise.slice(i, i + 30).map((id) => seam.acsCredentials.delete(id)))
    }
    await until(
      () => emulator.inspect.events({ eventType: 'acs_credential.deleted' }).length === 510,
    )
    const graph = emulator.seed.identityGraph({ acsSystems: 1, credentialsPerUser: 2 })
    const stage = stageByName('acs_credentials')
    const started = await deleteStage(
      seam,
      stage,
      { user_identity_id: graph.userIdentityId },
      policy,
    )
    await until(
      () => emulator.inspect.events({ eventType: 'acs_credential.deleted' }).length === 512,
    )
    const checked = await checkStage(seam, stage, started, policy)
    expect(checked.stages?.acs_credentials).toMatchObject({ checks: 1, pending_count: 0 })
  })
})
