import { isSeamHttpInvalidInputError, type SeamHttp } from '@seamapi/http/connect'
import { schemas } from '@seamapi/types/connect'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { IdentityGraph, SeamEmulator } from '../../local/seam-emulator/index.js'
import { EVENTS_LIMIT } from '../../local/seam-emulator/routes/events.js'
import { errorOf, parseWith, sdkFor, sleep, start, waitFor } from './helpers.js'

let emulator: SeamEmulator
let seam: SeamHttp

beforeAll(async () => {
  emulator = await start({ deleteDelayMs: 0 })
  seam = sdkFor(emulator)
})
afterAll(() => emulator.close())
beforeEach(() => emulator.reset())

const longAgo = '2020-01-01T00:00:00.000Z'

/** Deletes client sessions one by one, 2 ms apart, so each event has its own timestamp. */
const deleteSessions = async (ids: readonly string[]) => {
  for (const id of ids) {
    await seam.clientSessions.delete({ client_session_id: id })
    await sleep(2)
  }
}

describe('events/list', () => {
  it('requires exactly one of since and between', async () => {
    const neither = await errorOf(seam.events.list({ event_type: 'acs_user.deleted' }))
    expect(isSeamHttpInvalidInputError(neither)).toBe(true)
    expect(String(neither.message)).toContain('Must specify either since or between')
    const both = await errorOf(
      seam.events.list({ since: longAgo, between: [longAgo, new Date().toISOString()] }),
    )
    expect(isSeamHttpInvalidInputError(both)).toBe(true)
    expect(String(both.message)).toContain('Cannot specify both')
    const badDate = await errorOf(seam.events.list({ since: 'yesterday' }))
    expect(isSeamHttpInvalidInputError(badDate)).toBe(true)
    const badBetween = await errorOf(
      seam.client.get('/events/list', { params: { between: [longAgo] } }),
    )
    expect(isSeamHttpInvalidInputError(badBetween)).toBe(true)
  })

  it('treats since as exclusive and between as an exclusive interval; lists newest first', async () => {
    const sessions = [1, 2, 3].map(() => emulator.seed.clientSession().client_session_id)
    await deleteSessions(sessions)
    const all = await seam.events.list({ since: longAgo })
    for (const event of all) parseWith(schemas.seam_event, event)
    expect(all.map((e) => (e as { client_session_id: string }).client_session_id)).toEqual(
      [...sessions].reverse(),
    )
    const [third, second, first] = all
    if (!first || !second || !third) throw new Error('unreachable')
    expect((await seam.events.list({ since: first.created_at })).map((e) => e.event_id)).toEqual([
      third.event_id,
      second.event_id,
    ])
    const between = await seam.events.list({ between: [first.created_at, third.created_at] })
    expect(between.map((e) => e.event_id)).toEqual([second.event_id])
    const viaQueryArray = await seam.client.get('/events/list', {
      params: { between: [longAgo, second.created_at] },
    })
    expect(viaQueryArray.data.events).toHaveLength(1)
  })

  it('filters by event_type, event_types and the ids events carry or relate to', async () => {
    const shape = {
      clientSessions: 1,
      acsSystems: 1,
      credentialsPerUser: 2,
      enrollmentAutomations: 1,
      phones: 1,
    }
    const a = emulator.seed.identityGraph(shape)
    const b = emulator.seed.identityGraph(shape)
    const deleteEverything = async (g: IdentityGraph) => {
      await seam.userIdentities.delete({ user_identity_id: g.userIdentityId })
      await seam.phones.deactivate({ device_id: g.phoneIds[0] ?? '' })
      await seam.client.delete('/user_identities/enrollment_automations/delete', {
        params: { enrollment_automation_id: g.enrollmentAutomationIds[0] },
      })
    }
    await deleteEverything(a)
    await deleteEverything(b)
    await waitFor(() => emulator.inspect.counts().events === 12)

    const ofA = await seam.events.list({ since: longAgo, user_identity_id: a.userIdentityId })
    expect(ofA).toHaveLength(6)
    for (const event of ofA) parseWith(schemas.seam_event, event)

    const byType = await seam.events.list({ since: longAgo, event_type: 'acs_credential.deleted' })
    expect(byType).toHaveLength(4)
    const byTypes = await seam.events.list({
      since: longAgo,
      event_types: ['phone.deactivated', 'enrollment_automation.deleted'],
    })
    expect(byTypes.map((e) => e.event_type).sort()).toEqual([
      'enrollment_automation.deleted',
      'enrollment_automation.deleted',
      'phone.deactivated',
      'phone.deactivated',
    ])
    // acs_user_id matches the user's own event and its credentials' events.
    const byAcsUser = await seam.events.list({ since: longAgo, acs_user_id: a.acsUserIds[0] ?? '' })
    expect(byAcsUser.map((e) => e.event_type).sort()).toEqual([
      'acs_credential.deleted',
      'acs_credential.deleted',
      'acs_user.deleted',
    ])
    const byCredential = await seam.events.list({
      since: longAgo,
      acs_credential_id: a.acsCredentialIds[1] ?? '',
    })
    expect(byCredential).toHaveLength(1)
    expect(byCredential[0]).toMatchObject({ acs_credential_id: a.acsCredentialIds[1] })
    const byDevice = await seam.events.list({ since: longAgo, device_id: b.phoneIds[0] ?? '' })
    expect(byDevice).toEqual([expect.objectContaining({ event_type: 'phone.deactivated' })])
    const byDevices = await seam.events.list({
      since: longAgo,
      device_ids: [a.phoneIds[0] ?? '', b.phoneIds[0] ?? ''],
    })
    expect(byDevices).toHaveLength(2)
    const bySystem = await seam.events.list({
      since: longAgo,
      acs_system_id: b.acsSystemIds[0] ?? '',
    })
    expect(bySystem).toHaveLength(3)
    const combined = await seam.events.list({
      since: longAgo,
      user_identity_id: b.userIdentityId,
      event_type: 'acs_credential.deleted',
    })
    expect(combined).toHaveLength(2)
    const unknown = await errorOf(
      seam.client.get('/events/list', {
        params: { since: longAgo, event_type: 'acs_credentials.deleted' },
      }),
    )
    expect(isSeamHttpInvalidInputError(unknown)).toBe(true)
  })

  it('honours limit (newest first) and caps it at 500; no pagination', async () => {
    const sessions = Array.from(
      { length: EVENTS_LIMIT + 5 },
      () => emulator.seed.clientSession().client_session_id,
    )
    for (let i = 0; i < sessions.length; i += 50) {
      await Promise.all(
        sessions
          .slice(i, i + 50)
          .map((id) => seam.clientSessions.delete({ client_session_id: id })),
      )
    }
    const limited = await seam.client.get('/events/list', { params: { since: longAgo, limit: 3 } })
    expect(limited.data.events).toHaveLength(3)
    expect(limited.data).not.toHaveProperty('pagination')
    const newest = emulator.inspect.events().slice(-3).reverse()
    expect(limited.data.events.map((e: { event_id: string }) => e.event_id)).toEqual(
      newest.map((e) => e.event_id),
    )
    expect(await seam.events.list({ since: longAgo })).toHaveLength(EVENTS_LIMIT)
    expect(await seam.events.list({ since: longAgo, limit: 10_000 })).toHaveLength(EVENTS_LIMIT)
  })

  it('gets one event by id', async () => {
    const session = emulator.seed.clientSession()
    await seam.clientSessions.delete({ client_session_id: session.client_session_id })
    const [event] = emulator.inspect.events()
    if (!event) throw new Error('unreachable')
    expect(await seam.events.get({ event_id: event.event_id })).toEqual(event)
  })
})
