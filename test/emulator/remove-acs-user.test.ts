import { SeamHttp } from '@seamapi/http/connect'
import { schemas } from '@seamapi/types/connect'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type SeamEmulator, startSeamEmulator } from '../../local/seam-emulator/index.js'

let emulator: SeamEmulator
let seam: SeamHttp

beforeAll(async () => {
  emulator = await startSeamEmulator({ deleteDelayMs: 20 })
  seam = SeamHttp.fromApiKey(emulator.apiKey, {
    endpoint: emulator.url,
    axiosRetryOptions: { retries: 0 },
  })
})
afterAll(() => emulator?.close())

describe('user_identities/remove_acs_user', () => {
  it('unlinks the ACS user, which stays, so deleting the identity no longer cascades to it', async () => {
    const graph = emulator.seed.identityGraph({ acsSystems: 1, credentialsPerUser: 0 })
    const acsUserId = graph.acsUserIds[0] as string
    await seam.userIdentities.removeAcsUser({
      user_identity_id: graph.userIdentityId,
      acs_user_id: acsUserId,
    })
    const acsUser = schemas.acs_user.parse(await seam.acs.users.get({ acs_user_id: acsUserId }))
    expect(acsUser.user_identity_id ?? null).toBeNull()
    await seam.userIdentities.delete({ user_identity_id: graph.userIdentityId })
    await expect.poll(() => emulator.inspect.exists(graph.userIdentityId)).toBe(false)
    expect(emulator.inspect.exists(acsUserId)).toBe(true)
  })

  it('answers 404 for an unknown identity', async () => {
    const error = await seam.userIdentities
      .removeAcsUser({
        user_identity_id: '00000000-0000-4000-8000-000000000000',
        acs_user_id: '00000000-0000-4000-8000-000000000001',
      })
      .catch((e: unknown) => e)
    expect(error).toMatchObject({ statusCode: 404 })
  })
})
