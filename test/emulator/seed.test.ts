import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { SeamHttp } from '@seamapi/http/connect'
import { schemas } from '@seamapi/types/connect'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { IdentityGraph, SeamEmulator } from '../../local/seam-emulator/index.js'
import { errorOf, expectOpenApiSchema, parseWith, sdkFor, start } from './helpers.js'

let emulator: SeamEmulator

beforeAll(async () => {
  emulator = await start()
})
afterAll(() => emulator.close())
beforeEach(() => emulator.reset())

describe('seeding', () => {
  it('seeds an identity graph of the given shape, all of it visible through the SDK', async () => {
    const seam = sdkFor(emulator)
    const graph = emulator.seed.identityGraph({
      userIdentity: { fullName: 'Graph User', phoneNumber: '+15555550123' },
      clientSessions: 2,
      acsSystems: 2,
      credentialsPerUser: 3,
      enrollmentAutomations: 1,
      phones: 2,
    })
    expect(graph.clientSessionIds).toHaveLength(2)
    expect(graph.acsSystemIds).toHaveLength(2)
    expect(graph.acsUserIds).toHaveLength(2)
    expect(graph.acsCredentialIds).toHaveLength(6)
    expect(graph.enrollmentAutomationIds).toHaveLength(1)
    expect(graph.credentialManagerAcsSystemIds).toHaveLength(1)
    expect(graph.phoneIds).toHaveLength(2)

    const identity = parseWith(
      schemas.user_identity,
      await seam.userIdentities.get({ user_identity_id: graph.userIdentityId }),
    )
    expect(identity).toMatchObject({ full_name: 'Graph User', phone_number: '+15555550123' })
    expect([...identity.acs_user_ids].sort()).toEqual([...graph.acsUserIds].sort())
    const ids = <T>(items: T[], key: keyof T) => items.map((item) => item[key]).sort()
    const mine = { user_identity_id: graph.userIdentityId }
    expect(ids(await seam.clientSessions.list(mine), 'client_session_id')).toEqual(
      [...graph.clientSessionIds].sort(),
    )
    expect(ids(await seam.acs.users.list(mine), 'acs_user_id')).toEqual(
      [...graph.acsUserIds].sort(),
    )
    expect(ids(await seam.acs.credentials.list(mine), 'acs_credential_id')).toEqual(
      [...graph.acsCredentialIds].sort(),
    )
    expect(
      ids(await seam.phones.list({ owner_user_identity_id: graph.userIdentityId }), 'device_id'),
    ).toEqual([...graph.phoneIds].sort())

    expect(emulator.inspect.remainingFor(graph.userIdentityId)).toMatchObject({
      clientSessionIds: graph.clientSessionIds,
      acsUserIds: graph.acsUserIds,
      acsCredentialIds: graph.acsCredentialIds,
      enrollmentAutomationIds: graph.enrollmentAutomationIds,
      phoneIds: graph.phoneIds,
      isEmpty: false,
    })
    expect(emulator.requests).toHaveLength(5)
  })

  it('seeds single resources that parse with their schemas', () => {
    const identity = parseWith(schemas.user_identity, emulator.seed.userIdentity())
    const system = parseWith(schemas.acs_system, emulator.seed.acsSystem({ name: 'Doors' }))
    const acsUser = parseWith(
      schemas.acs_user,
      emulator.seed.acsUser({
        acsSystemId: system.acs_system_id,
        userIdentityId: identity.user_identity_id,
      }),
    )
    expect(acsUser.user_identity_id).toBe(identity.user_identity_id)
    const credential = parseWith(
      schemas.acs_credential,
      emulator.seed.acsCredential({
        acsUserId: acsUser.acs_user_id,
        accessMethod: 'code',
        code: '1234',
      }),
    )
    expect(credential).toMatchObject({ access_method: 'code', code: '1234' })
    parseWith(
      schemas.client_session,
      emulator.seed.clientSession({ userIdentityId: identity.user_identity_id }),
    )
    const automation = emulator.seed.enrollmentAutomation({
      userIdentityId: identity.user_identity_id,
    })
    expectOpenApiSchema('enrollment_automation', automation)
    const phone = parseWith(
      schemas.device,
      emulator.seed.phone({
        ownerUserIdentityId: identity.user_identity_id,
        deviceType: 'android_phone',
      }),
    )
    expect(phone.device_type).toBe('android_phone')
    expect(emulator.inspect.resource(phone.device_id)).toEqual(phone)
    expect(emulator.inspect.exists(automation.enrollment_automation_id)).toBe(true)
    expect(emulator.inspect.resource(crypto.randomUUID())).toBeNull()
  })

  it('refuses references to missing resources and duplicate identities', () => {
    expect(() => emulator.seed.acsUser({ acsSystemId: crypto.randomUUID() })).toThrow(
      /ACS system not found/,
    )
    expect(() => emulator.seed.acsCredential({ acsUserId: crypto.randomUUID() })).toThrow(
      /ACS user not found/,
    )
    emulator.seed.userIdentity({ userIdentityKey: 'same' })
    expect(() => emulator.seed.userIdentity({ userIdentityKey: 'same' })).toThrow(/already exists/)
  })
})

describe('control API over HTTP', () => {
  const control = (path: string, body?: unknown) =>
    fetch(`${emulator.url}/_emulator/${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${emulator.apiKey}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })

  it('seeds, inspects, configures and resets', async () => {
    const seeded = await control('seed/identity_graph', { acsSystems: 1, credentialsPerUser: 2 })
    expect(seeded.status).toBe(200)
    const { identity_graph: graph } = (await seeded.json()) as { identity_graph: IdentityGraph }
    expect(graph.acsCredentialIds).toHaveLength(2)
    const remaining = await control(`inspect/remaining?user_identity_id=${graph.userIdentityId}`)
    expect(await remaining.json()).toMatchObject({
      ok: true,
      remaining: { acsCredentialIds: graph.acsCredentialIds },
    })
    expect((await control('user_identity_delete_mode', { mode: 'documented' })).status).toBe(200)
    const seam = sdkFor(emulator)
    expect(
      await errorOf(seam.userIdentities.delete({ user_identity_id: graph.userIdentityId })),
    ).toMatchObject({ statusCode: 400 })
    expect((await control('faults', { throttleRate: 1 })).status).toBe(200)
    expect(await errorOf(seam.acs.systems.list())).toMatchObject({ statusCode: 429 })
    expect((await control('reset', {})).status).toBe(200)
    expect(emulator.inspect.counts().userIdentities).toBe(0)
    expect(await seam.acs.systems.list()).toEqual([])
    const unknown = await control('nope', {})
    expect(unknown.status).toBe(404)
    const noAuth = await fetch(`${emulator.url}/_emulator/reset`, { method: 'POST' })
    expect(noAuth.status).toBe(401)
  })
})

describe('CLI (npm run seam-emulator)', () => {
  it('prints the URL, key and env to set, seeds --demo, and stops cleanly on SIGINT', async () => {
    // The same Node as the tests (24), with tsx as the TypeScript loader, as `npm run` does.
    const args = ['--import', 'tsx', 'local/seam-emulator/cli.ts', '--demo']
    const child = spawn(process.execPath, args, {
      env: { ...process.env, SEAM_EMULATOR_PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString()
    })
    const deadline = Date.now() + 20_000
    while (!output.includes('Ctrl-C') && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    const url = /SEAM_ENDPOINT=(\S+)/.exec(output)?.[1]
    const key = /SEAM_API_KEY=(\S+)/.exec(output)?.[1]
    const demo = /Demo user identity: (\S+)/.exec(output)?.[1]
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(key).toMatch(/^seam_test_/)
    if (!url || !key || !demo) throw new Error(`unexpected CLI output:\n${output}`)
    const seam = SeamHttp.fromApiKey(key, { endpoint: url, axiosRetryOptions: { retries: 0 } })
    const identity = await seam.userIdentities.get({ user_identity_id: demo })
    expect(identity.acs_user_ids).toHaveLength(2)

    child.kill('SIGINT')
    const [code] = await once(child, 'exit')
    expect(code).toBe(0)
    expect(output).toContain('stopping the Seam emulator')
  })
})
