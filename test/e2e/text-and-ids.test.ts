/**
 * Text and ids as the contract defines them, end to end: text is normalized to NFC before Seam sees it
 * (so NFC and NFD spellings are one identity), and UUIDs in any case are lower-cased before anything is
 * named after them (so case variants of one id are one deletion). The refusals of text that is not text
 * are in test/hardening/hostile-input.test.ts.
 */
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { executionArnFor } from '../../functions/core/deletions.js'
import { type LocalRuntime, startLocalRuntime } from '../../local/runtime.js'
import type { SeamEmulator } from '../../local/seam-emulator/index.js'
import { call, waitForDeletion } from './helpers.js'

let runtime: LocalRuntime
let seam: SeamEmulator

beforeAll(async () => {
  runtime = await startLocalRuntime({
    port: 0,
    emulator: { deleteDelayMs: 20 },
    waitScale: 0.02,
    pollPolicy: { stageTimeoutSeconds: 250 },
  })
  seam = runtime.emulator as SeamEmulator
})
afterAll(() => runtime?.close())

const post = (body: unknown) => call(runtime.url, 'POST', '/user-identities', body)

describe('text is normalized to NFC before use', () => {
  it('an NFD key is the same identity as its NFC spelling: a replay, not a second identity', async () => {
    const suffix = randomUUID()
    const nfc = `caf\u00e9-${suffix}`
    const nfd = `cafe\u0301-${suffix}`
    expect(nfc).not.toBe(nfd)
    const before = seam.inspect.counts().userIdentities

    const first = await post({ user_identity_key: nfd, full_name: 'Zoe\u0308' })
    expect(first.status, JSON.stringify(first.json)).toBe(201)
    const identity = first.json.user_identity as Record<string, string>
    expect(identity).toMatchObject({ user_identity_key: nfc, full_name: 'Zo\u00eb' })
    expect(seam.inspect.resource(identity.user_identity_id as string)).toMatchObject({
      user_identity_key: nfc,
      full_name: 'Zo\u00eb',
    })

    const again = await post({ user_identity_key: nfc, full_name: 'Zo\u00eb' })
    expect(again.status, JSON.stringify(again.json)).toBe(201)
    expect(again.headers.get('x-replayed')).toBe('true')
    expect((again.json.user_identity as Record<string, string>).user_identity_id).toBe(
      identity.user_identity_id,
    )
    expect(seam.inspect.counts().userIdentities).toBe(before + 1)
  })
})

describe('ids are lower-cased before anything is named after them', () => {
  it('an uppercase ACS user id links the ACS user', async () => {
    const system = seam.seed.acsSystem()
    const acsUser = seam.seed.acsUser({ acsSystemId: system.acs_system_id }).acs_user_id
    const created = await post({
      user_identity_key: `upper-${randomUUID()}`,
      acs_user_ids: [acsUser.toUpperCase()],
    })
    expect(created.status, JSON.stringify(created.json)).toBe(201)
    expect((created.json.user_identity as { acs_user_ids: string[] }).acs_user_ids).toEqual([
      acsUser,
    ])
  })

  it('DELETE with an uppercase id and with the lowercase id: one deletion, readable in any case', async () => {
    const identity = seam.seed.userIdentity({ userIdentityKey: `upper-del-${randomUUID()}` })
    const id = identity.user_identity_id
    const upper = await call(runtime.url, 'DELETE', `/user-identities/${id.toUpperCase()}`)
    expect(upper.status, JSON.stringify(upper.json)).toBe(202)
    const deletion = upper.json.deletion as { deletion_id: string; user_identity_id: string }
    expect(deletion).toMatchObject({ deletion_id: `${id}--1`, user_identity_id: id })

    const lower = await call(runtime.url, 'DELETE', `/user-identities/${id}`)
    expect(lower.status).toBe(202)
    expect((lower.json.deletion as { deletion_id: string }).deletion_id).toBe(deletion.deletion_id)

    const read = await call(runtime.url, 'GET', `/deletions/${deletion.deletion_id.toUpperCase()}`)
    expect(read.status).toBe(200)
    expect((read.json.deletion as { deletion_id: string }).deletion_id).toBe(deletion.deletion_id)

    const done = await waitForDeletion(runtime.url, deletion.deletion_id)
    expect(done.status).toBe('SUCCEEDED')
    // No execution was ever named after the uppercase spelling.
    const { stepFunctions } = runtime
    const upperArn = executionArnFor(stepFunctions.stateMachineArn, `${id.toUpperCase()}--1`)
    await expect(stepFunctions.describeExecution({ executionArn: upperArn })).rejects.toMatchObject(
      { name: 'ExecutionDoesNotExist' },
    )
  })
})
