import { isSeamHttpApiError, isSeamHttpUnauthorizedError, SeamHttp } from '@seamapi/http/connect'
import { afterEach, describe, expect, it } from 'vitest'
import type { SeamEmulator, SeamEmulatorOptions } from '../../local/seam-emulator/index.js'
import { errorOf, sdkFor, sleep, start } from './helpers.js'

/** A random source that replays `values` in order (then repeats the last one). */
const scripted = (...values: number[]) => {
  let i = 0
  return () => values[Math.min(i++, values.length - 1)] ?? 0
}

let emulator: SeamEmulator | undefined
const boot = async (options: SeamEmulatorOptions = {}) => {
  emulator = await start(options)
  return { emulator, seam: sdkFor(emulator) }
}
afterEach(async () => {
  await emulator?.close()
  emulator = undefined
})

describe('auth', () => {
  it('answers 401 unauthorized without the right Bearer key', async () => {
    const { emulator } = await boot()
    const wrongKey = SeamHttp.fromApiKey('seam_wrong_key', {
      endpoint: emulator.url,
      axiosRetryOptions: { retries: 0 },
    })
    const error = await errorOf(wrongKey.userIdentities.list())
    expect(isSeamHttpUnauthorizedError(error)).toBe(true)
    const noHeader = await fetch(`${emulator.url}/user_identities/list`)
    expect(noHeader.status).toBe(401)
    const body = (await noHeader.json()) as { error: { request_id: string } }
    expect(body).toMatchObject({ ok: false, error: { type: 'unauthorized' } })
    expect(body.error.request_id).toBe(noHeader.headers.get('seam-request-id'))
    expect(emulator.requests.map((r) => r.status)).toEqual([401, 401])
  })
})

describe('fault injection (deterministic random source)', () => {
  it('throttles with 429 and a Retry-After header', async () => {
    const { emulator, seam } = await boot({
      faults: { throttleRate: 0.5, retryAfterSeconds: 7 },
      random: scripted(0.9, 0.1, 0.9, 0.2),
    })
    await seam.acs.systems.list()
    const error = await errorOf(seam.acs.systems.list())
    expect(isSeamHttpApiError(error)).toBe(true)
    expect(error).toMatchObject({ statusCode: 429, code: 'too_many_requests' })
    await seam.acs.systems.list()
    const response = await fetch(`${emulator.url}/acs/systems/list`, {
      headers: { authorization: `Bearer ${emulator.apiKey}` },
    })
    expect(response.status).toBe(429)
    expect(response.headers.get('retry-after')).toBe('7')
    expect(response.headers.get('seam-request-id')).toBeTruthy()
    expect(emulator.requests.map((r) => [r.status, r.fault])).toEqual([
      [200, null],
      [429, 'throttled'],
      [200, null],
      [429, 'throttled'],
    ])
  })

  it('answers 503 with a JSON error, or with an HTML gateway page', async () => {
    const { emulator, seam } = await boot({
      faults: { unavailableRate: 1, nonJsonErrorRate: 0.5 },
      // One draw per request picks the 503; a second picks JSON (>= 0.5) or HTML (< 0.5).
      random: scripted(0.3, 0.7, 0.3, 0.2),
    })
    const json = await errorOf(seam.userIdentities.list())
    expect(isSeamHttpApiError(json)).toBe(true)
    expect(json).toMatchObject({ statusCode: 503, code: 'service_unavailable' })

    // Not Seam's error shape, so the SDK passes on the raw (axios) HTTP error.
    const html = await errorOf(seam.userIdentities.list())
    expect(isSeamHttpApiError(html)).toBe(false)
    const { response } = html as { response?: { status: number; headers: object; data: unknown } }
    expect(response?.status).toBe(503)
    expect(response?.headers).toMatchObject({ 'content-type': 'text/html' })
    expect(String(response?.data)).toContain('<h1>503 Service Temporarily Unavailable</h1>')
    expect(emulator.requests.map((r) => r.fault)).toEqual(['unavailable', 'unavailable_non_json'])
  })

  it('lets the SDK recover from a 429 when it retries (Retry-After 0)', async () => {
    const { emulator } = await boot({
      faults: { throttleRate: 0.5, retryAfterSeconds: 0 },
      random: scripted(0.1, 0.9),
    })
    const retrying = SeamHttp.fromApiKey(emulator.apiKey, {
      endpoint: emulator.url,
      axiosRetryOptions: { retries: 2 },
    })
    expect(await retrying.acs.systems.list()).toEqual([])
    expect(emulator.requests.map((r) => r.status)).toEqual([429, 200])
  })

  it('adds latency, limits faults to the given paths, and is reconfigurable at runtime', async () => {
    const { emulator, seam } = await boot({ random: scripted(0) })
    emulator.setFaults({ latencyMs: 150, throttleRate: 1, paths: ['/events/list'] })
    const started = Date.now()
    const error = await errorOf(seam.events.list({ since: new Date().toISOString() }))
    expect(Date.now() - started).toBeGreaterThanOrEqual(145)
    expect(error).toMatchObject({ statusCode: 429 })
    const quick = Date.now()
    await seam.acs.systems.list()
    expect(Date.now() - quick).toBeLessThan(145)
    emulator.setFaults({})
    await seam.events.list({ since: new Date().toISOString() })
    expect(emulator.requests.map((r) => [r.path, r.status])).toEqual([
      ['/events/list', 429],
      ['/acs/systems/list', 200],
      ['/events/list', 200],
    ])
  })

  it('never faults seeding, inspection or the control API', async () => {
    const { emulator } = await boot({ faults: { unavailableRate: 1, latencyMs: 2000 } })
    const graph = emulator.seed.identityGraph()
    expect(emulator.inspect.remainingFor(graph.userIdentityId).userIdentity).not.toBeNull()
    const started = Date.now()
    const control = await fetch(
      `${emulator.url}/_emulator/inspect/remaining?user_identity_id=${graph.userIdentityId}`,
      { headers: { authorization: `Bearer ${emulator.apiKey}` } },
    )
    expect(control.status).toBe(200)
    expect(Date.now() - started).toBeLessThan(1000)
    expect(emulator.requests).toEqual([])
  })

  it('rejects rates outside 0..1', async () => {
    const { emulator } = await boot()
    expect(() => emulator.setFaults({ throttleRate: 2 })).toThrow(RangeError)
    expect(() => emulator.setFaults({ throttleRate: 0.6, unavailableRate: 0.6 })).toThrow(
      RangeError,
    )
  })
})

describe('beforeNextRequest (races)', () => {
  it('runs once, before the next request to its path is handled', async () => {
    const { emulator, seam } = await boot()
    const system = emulator.seed.acsSystem()
    const acsUser = emulator.seed.acsUser({ acsSystemId: system.acs_system_id })
    const identity = emulator.seed.userIdentity()
    const seen: string[] = []
    emulator.beforeNextRequest('/user_identities/add_acs_user', async () => {
      seen.push(`hook: ${emulator.requests.length} requests so far`)
      // The ACS user vanishes between the caller's check and its link.
      await sdkFor(emulator).acs.users.delete({ acs_user_id: acsUser.acs_user_id })
      emulator.setDeleteDelayMs(0)
      while (emulator.inspect.exists(acsUser.acs_user_id)) await sleep(1)
    })
    await seam.acs.users.get({ acs_user_id: acsUser.acs_user_id })
    const error = await errorOf(
      seam.userIdentities.addAcsUser({
        user_identity_id: identity.user_identity_id,
        acs_user_id: acsUser.acs_user_id,
      }),
    )
    expect(error).toMatchObject({ statusCode: 404, code: 'acs_user_not_found' })
    expect(seen).toEqual(['hook: 1 requests so far'])
    // Once only: the next request to the path is handled as usual.
    const other = emulator.seed.acsUser({ acsSystemId: emulator.seed.acsSystem().acs_system_id })
    await seam.userIdentities.addAcsUser({
      user_identity_id: identity.user_identity_id,
      acs_user_id: other.acs_user_id,
    })
    expect(seen).toHaveLength(1)
  })

  it('with an injected fault: Seam does the work, the caller gets a 503 (a lost answer)', async () => {
    const { emulator, seam } = await boot({
      faults: { unavailableRate: 1, paths: ['/user_identities/create'] },
    })
    emulator.beforeNextRequest('/user_identities/create', () => {
      emulator.seed.userIdentity({ userIdentityKey: 'lost-answer' })
    })
    const error = await errorOf(seam.userIdentities.create({ user_identity_key: 'lost-answer' }))
    expect(error).toMatchObject({ statusCode: 503 })
    expect(emulator.inspect.counts().userIdentities).toBe(1)
  })

  it('reset() drops hooks not yet run', async () => {
    const { emulator, seam } = await boot()
    let ran = false
    emulator.beforeNextRequest('/acs/systems/list', () => {
      ran = true
    })
    emulator.reset()
    await seam.acs.systems.list()
    expect(ran).toBe(false)
  })
})

describe('request log and reset', () => {
  it('logs method, path, params, status and time; reset clears state, faults, log and timers', async () => {
    const { emulator, seam } = await boot({ deleteDelayMs: 40, random: scripted(0.1) })
    const graph = emulator.seed.identityGraph({ acsSystems: 1, credentialsPerUser: 1 })
    await seam.acs.credentials.delete({ acs_credential_id: graph.acsCredentialIds[0] ?? '' })
    const [entry] = emulator.requests
    expect(entry).toMatchObject({
      method: 'DELETE',
      path: '/acs/credentials/delete',
      params: { acs_credential_id: graph.acsCredentialIds[0] },
      status: 200,
      faultInjected: false,
      fault: null,
    })
    expect(Date.parse(entry?.time ?? '')).toBeGreaterThan(Date.now() - 5000)

    emulator.setFaults({ throttleRate: 1 })
    emulator.setUserIdentityDeleteMode('documented')
    emulator.reset()
    expect(emulator.requests).toEqual([])
    expect(emulator.inspect.counts()).toEqual({
      userIdentities: 0,
      acsSystems: 0,
      acsUsers: 0,
      acsCredentials: 0,
      clientSessions: 0,
      enrollmentAutomations: 0,
      phones: 0,
      events: 0,
    })
    expect(emulator.inspect.pendingDeletions()).toEqual([])
    // Faults are off again and the delete mode is back to the start option (cascade).
    const identity = emulator.seed.userIdentity()
    await seam.userIdentities.delete({ user_identity_id: identity.user_identity_id })
    await sleep(80)
    // The pending credential deletion from before the reset never fires an event.
    expect(emulator.inspect.events()).toEqual([])
    expect(emulator.inspect.exists(identity.user_identity_id)).toBe(false)
  })

  it('close() cancels pending deletion timers', async () => {
    const { emulator, seam } = await boot({ deleteDelayMs: 60_000 })
    const graph = emulator.seed.identityGraph({ phones: 1 })
    await seam.phones.deactivate({ device_id: graph.phoneIds[0] ?? '' })
    expect(emulator.inspect.pendingDeletions()).toHaveLength(1)
    await emulator.close()
    expect(emulator.inspect.pendingDeletions()).toEqual([])
  })
})
