/**
 * The emulator's named options for what Seam leaves undocumented: each reading does what README.md says,
 * set at start, with setBehaviours, or over the control route; reset() restores the start readings.
 */
import { readFileSync } from 'node:fs'
import type { SeamHttp } from '@seamapi/http/connect'
import { schemas } from '@seamapi/types/connect'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  BEHAVIOUR_READINGS,
  DEFAULT_BEHAVIOURS,
  OTHER_READINGS,
  type SeamEmulator,
} from '../../local/seam-emulator/index.js'
import { errorOf, parseWith, sdkFor, start, waitFor } from './helpers.js'

let emulator: SeamEmulator
let seam: SeamHttp

beforeAll(async () => {
  emulator = await start({ deleteDelayMs: 20 })
  seam = sdkFor(emulator)
})
afterAll(() => emulator.close())
beforeEach(() => emulator.reset())

const control = async (method: string, path: string, body?: unknown) => {
  const response = await fetch(`${emulator.url}/_emulator/${path}`, {
    method,
    headers: { authorization: `Bearer ${emulator.apiKey}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  return { status: response.status, json: (await response.json()) as Record<string, unknown> }
}

describe('setting the readings', () => {
  it('defaults to the first reading of each; the other readings are the second', () => {
    expect(emulator.behaviours).toEqual(DEFAULT_BEHAVIOURS)
    for (const [name, [first, second]] of Object.entries(BEHAVIOUR_READINGS)) {
      expect(DEFAULT_BEHAVIOURS).toHaveProperty(name, first)
      expect(OTHER_READINGS).toHaveProperty(name, second)
    }
  })

  it('at start, over the control route (named ones only), and back to the start readings on reset', async () => {
    const other = await start({ behaviours: { repeatDelete: 'refused' } })
    try {
      expect(other.behaviours.repeatDelete).toBe('refused')
      other.setBehaviours({ eventOrder: 'oldest_first' })
      expect(other.behaviours).toMatchObject({
        repeatDelete: 'refused',
        eventOrder: 'oldest_first',
      })
      other.reset()
      expect(other.behaviours).toEqual({ ...DEFAULT_BEHAVIOURS, repeatDelete: 'refused' })
    } finally {
      await other.close()
    }
    const set = await control('POST', 'behaviours', { deactivatedPhones: 'listed' })
    expect(set.status).toBe(200)
    expect(set.json.behaviours).toEqual({ ...DEFAULT_BEHAVIOURS, deactivatedPhones: 'listed' })
    expect((await control('GET', 'behaviours')).json.behaviours).toEqual(emulator.behaviours)
    expect((await control('POST', 'behaviours', { repeatDelete: 'maybe' })).status).toBe(400)
    expect((await control('POST', 'behaviours', { nonsense: 'ok' })).status).toBe(400)
  })
})

describe('repeatDelete', () => {
  it.each([
    ['ok', 200],
    ['refused', 400],
  ] as const)(
    '%s: a second delete of an item being deleted answers %i',
    async (reading, status) => {
      emulator.setBehaviours({ repeatDelete: reading })
      emulator.setDeleteDelayMs(60_000)
      const graph = emulator.seed.identityGraph({
        acsSystems: 1,
        credentialsPerUser: 1,
        enrollmentAutomations: 0,
        phones: 1,
      })
      const credential = graph.acsCredentialIds[0] as string
      const acsUser = graph.acsUserIds[0] as string
      const phone = graph.phoneIds[0] as string
      await seam.acs.credentials.delete({ acs_credential_id: credential })
      await seam.acs.users.delete({ acs_user_id: acsUser })
      await seam.phones.deactivate({ device_id: phone })
      await seam.userIdentities.delete({ user_identity_id: graph.userIdentityId })
      const again = [
        seam.acs.credentials.delete({ acs_credential_id: credential }),
        seam.acs.users.delete({ acs_user_id: acsUser }),
        seam.phones.deactivate({ device_id: phone }),
        seam.userIdentities.delete({ user_identity_id: graph.userIdentityId }),
      ]
      for (const call of again) {
        if (status === 200) await call
        else {
          const error = await errorOf(call)
          expect(error).toMatchObject({ statusCode: 400, code: 'already_being_deleted' })
        }
      }
      // Either way the deletions themselves go on.
      emulator.setDeleteDelayMs(20)
      await waitFor(() => emulator.inspect.remainingFor(graph.userIdentityId).isEmpty)
    },
  )
})

describe('linkLinkedAcsUser', () => {
  it.each(['moves', 'refused'] as const)('%s', async (reading) => {
    emulator.setBehaviours({ linkLinkedAcsUser: reading })
    const holder = emulator.seed.userIdentity()
    const other = emulator.seed.userIdentity()
    const system = emulator.seed.acsSystem()
    const acsUser = emulator.seed.acsUser({
      acsSystemId: system.acs_system_id,
      userIdentityId: holder.user_identity_id,
    }).acs_user_id
    const link = seam.userIdentities.addAcsUser({
      user_identity_id: other.user_identity_id,
      acs_user_id: acsUser,
    })
    if (reading === 'moves') await link
    else expect(await errorOf(link)).toMatchObject({ statusCode: 400 })
    const owner = reading === 'moves' ? other : holder
    expect(emulator.inspect.resource(acsUser)).toMatchObject({
      user_identity_id: owner.user_identity_id,
    })
    // Linking it to the identity that holds it is fine under both.
    await seam.userIdentities.addAcsUser({
      user_identity_id: owner.user_identity_id,
      acs_user_id: acsUser,
    })
  })
})

describe('deactivatedPhones', () => {
  it.each(['unlisted', 'listed'] as const)(
    '%s: phone.deactivated either way; listed keeps it in phones/list and phones/get',
    async (reading) => {
      emulator.setBehaviours({ deactivatedPhones: reading })
      const graph = emulator.seed.identityGraph({ phones: 2 })
      const [phone, kept] = graph.phoneIds as [string, string]
      await seam.phones.deactivate({ device_id: phone })
      await waitFor(() => emulator.inspect.events({ eventType: 'phone.deactivated' }).length === 1)
      const listed = await seam.phones.list({ owner_user_identity_id: graph.userIdentityId })
      for (const p of listed) parseWith(schemas.device, p)
      expect(listed.map((p) => p.device_id).sort()).toEqual(
        reading === 'listed' ? [phone, kept].sort() : [kept],
      )
      if (reading === 'listed') await seam.phones.get({ device_id: phone })
      else
        expect(await errorOf(seam.phones.get({ device_id: phone }))).toMatchObject({
          statusCode: 404,
        })
      // The emulator's view of what is left counts only phones not deactivated.
      expect(emulator.inspect.remainingFor(graph.userIdentityId).phoneIds).toEqual([kept])
    },
  )
})

describe('enrollmentAutomationRoutes', () => {
  it('gone: every enrollment-automation route answers as an unknown route does; none can be seeded', async () => {
    const identity = emulator.seed.userIdentity()
    emulator.setBehaviours({ enrollmentAutomationRoutes: 'gone' })
    for (const path of ['list', 'get', 'delete']) {
      const response = await fetch(
        `${emulator.url}/user_identities/enrollment_automations/${path}`,
        {
          method: 'POST',
          headers: {
            authorization: `Bearer ${emulator.apiKey}`,
            'content-type': 'application/json',
          },
          body: JSON.stringify({ user_identity_id: identity.user_identity_id }),
        },
      )
      expect(response.status).toBe(404)
      expect(((await response.json()) as { error: { type: string } }).error.type).toBe('not_found')
    }
    expect(() =>
      emulator.seed.enrollmentAutomation({ userIdentityId: identity.user_identity_id }),
    ).toThrow(/gone/)
    expect(
      emulator.seed.identityGraph({ enrollmentAutomations: 2 }).enrollmentAutomationIds,
    ).toEqual([])
  })
})

describe('duplicateCreateError and emailUniqueness', () => {
  it.each([
    ['user_identity_already_exists', { field: 'user_identity_key' }],
    ['invalid_input', undefined],
  ] as const)('%s', async (reading, data) => {
    emulator.setBehaviours({ duplicateCreateError: reading })
    const first = await seam.userIdentities.create({ user_identity_key: 'dup' })
    const error = await errorOf(seam.userIdentities.create({ user_identity_key: 'dup' }))
    expect(error).toMatchObject({ statusCode: 400, code: reading })
    if (data) {
      expect(error.data).toEqual({ ...data, user_identity_id: first.user_identity_id })
    } else expect(error.data).toBeUndefined()
  })

  it.each([
    ['case_insensitive', 1],
    ['case_sensitive', 2],
  ] as const)('%s: emails differing in case make %i identities', async (reading, count) => {
    emulator.setBehaviours({ emailUniqueness: reading })
    await seam.userIdentities.create({ email_address: 'someone@example.com' })
    const second = seam.userIdentities.create({ email_address: 'SomeOne@example.com' })
    if (count === 2) await second
    else expect(await errorOf(second)).toMatchObject({ statusCode: 400 })
    expect(emulator.inspect.counts().userIdentities).toBe(count)
    // The exact same address collides under both.
    expect(
      await errorOf(seam.userIdentities.create({ email_address: 'someone@example.com' })),
    ).toMatchObject({ statusCode: 400 })
  })
})

describe('eventOrder and notFoundTypes', () => {
  it.each(['newest_first', 'oldest_first'] as const)('%s', async (reading) => {
    emulator.setBehaviours({ eventOrder: reading })
    const graph = emulator.seed.identityGraph({ clientSessions: 3 })
    for (const id of graph.clientSessionIds) {
      await seam.clientSessions.delete({ client_session_id: id })
    }
    const events = await seam.events.list({ since: new Date(Date.now() - 60_000).toISOString() })
    const ids = events.map((e) => (e as { client_session_id?: string }).client_session_id)
    expect(ids).toEqual(
      reading === 'newest_first' ? [...graph.clientSessionIds].reverse() : graph.clientSessionIds,
    )
  })

  it.each([
    ['per_resource', 'acs_user_not_found'],
    ['generic', 'not_found'],
  ] as const)('%s: a missing ACS user is 404 %s', async (reading, type) => {
    emulator.setBehaviours({ notFoundTypes: reading })
    const error = await errorOf(
      seam.acs.users.get({ acs_user_id: '00000000-0000-4000-8000-000000000000' }),
    )
    expect(error).toMatchObject({ statusCode: 404, code: type })
  })
})

describe('README', () => {
  it('lists every behaviour with its default and its other reading', () => {
    const readme = readFileSync(
      new URL('../../local/seam-emulator/README.md', import.meta.url),
      'utf8',
    )
    for (const [name, [first, second]] of Object.entries(BEHAVIOUR_READINGS)) {
      const row = readme.split('\n').find((line) => line.startsWith(`| \`${name}\` |`))
      expect(row, name).toBeDefined()
      const [, defaultCell, otherCell, source] = row?.split(' | ') ?? []
      expect(defaultCell, name).toContain(`\`${first}\``)
      expect(otherCell, name).toContain(`\`${second}\``)
      expect(source, name).toMatch(/\w/)
    }
  })
})
