import { schemas } from '@seamapi/types/connect'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { SeamEmulator } from '../../local/seam-emulator/index.js'
import { parseWith, sdkFor, start } from './helpers.js'

describe('smoke', () => {
  let emulator: SeamEmulator
  beforeAll(async () => {
    emulator = await start()
  })
  afterAll(() => emulator.close())

  it('creates and gets a user identity', async () => {
    const seam = sdkFor(emulator)
    const created = await seam.userIdentities.create({ email_address: 'a@example.com' })
    parseWith(schemas.user_identity, created)
    const got = await seam.userIdentities.get({ user_identity_id: created.user_identity_id })
    expect(got).toEqual(created)
    const graph = emulator.seed.identityGraph({
      clientSessions: 2,
      acsSystems: 2,
      credentialsPerUser: 3,
      enrollmentAutomations: 1,
      phones: 2,
    })
    const creds = await seam.acs.credentials.list({ user_identity_id: graph.userIdentityId })
    expect(creds).toHaveLength(6)
    for (const c of creds) parseWith(schemas.acs_credential, c)
    for (const u of await seam.acs.users.list({ user_identity_id: graph.userIdentityId }))
      parseWith(schemas.acs_user, u)
    for (const s of await seam.acs.systems.list()) parseWith(schemas.acs_system, s)
    for (const s of await seam.clientSessions.list({ user_identity_id: graph.userIdentityId }))
      parseWith(schemas.client_session, s)
    for (const p of await seam.phones.list({ owner_user_identity_id: graph.userIdentityId }))
      parseWith(schemas.device, p)
  })
})
