/**
 * @seamapi/types declares zod 3 as its peer while this project uses zod 4: local/seam-types gives it its
 * own zod 3. Its schemas must still validate for real, or every emulator test that parses with them
 * would pass whatever the emulator returns.
 */
import { createRequire } from 'node:module'
import { schemas } from '@seamapi/types/connect'
import { describe, expect, it } from 'vitest'
import { parseWith, sdkFor, start } from './helpers.js'

const require = createRequire(import.meta.url)

describe('@seamapi/types with its own zod 3', () => {
  it('runs on zod 3 while the project runs on zod 4', () => {
    const upstream = require.resolve('seam-types-upstream/connect', {
      paths: [require.resolve('@seamapi/types/connect')],
    })
    const zodOfSeamTypes = createRequire(upstream)('zod/package.json') as { version: string }
    expect(zodOfSeamTypes.version).toMatch(/^3\./)
    expect((require('zod/package.json') as { version: string }).version).toMatch(/^4\./)
  })

  it("accepts the emulator's user identity and refuses a broken one", async () => {
    const emulator = await start()
    try {
      const { user_identity_id } = emulator.seed.userIdentity({ userIdentityKey: 'zod3' })
      const identity = await sdkFor(emulator).userIdentities.get({ user_identity_id })
      expect(parseWith(schemas.user_identity, identity).user_identity_id).toBe(user_identity_id)
      for (const broken of [
        { ...identity, created_at: 42 },
        { ...identity, acs_user_ids: 'none' },
        { ...identity, user_identity_id: undefined },
      ]) {
        expect(schemas.user_identity.safeParse(broken).success, JSON.stringify(broken)).toBe(false)
      }
    } finally {
      await emulator.close()
    }
  })
})
