import { describe, expect, it } from 'vitest'
import { FaultInjector } from '../../local/seam-emulator/faults.js'
import { start } from './helpers.js'

describe('workspace-wide rate limit', () => {
  it('answers at most rateLimitPerSecond requests in any second; beyond: 429 with Retry-After until the window frees', () => {
    const faults = new FaultInjector({ rateLimitPerSecond: 3 }, () => 1)
    const t0 = 1_000_000
    expect([0, 10, 20].map((dt) => faults.pick('/user_identities/get', t0 + dt))).toEqual([
      null,
      null,
      null,
    ])
    expect(faults.pick('/acs/users/list', t0 + 500)).toBe('throttled')
    expect(faults.retryAfterSeconds()).toBe(1)
    // The first request leaves the window one second after it: one more may go.
    expect(faults.pick('/acs/users/list', t0 + 1000)).toBe(null)
    expect(faults.pick('/acs/users/list', t0 + 1001)).toBe('throttled')
    // A refused request does not count: after the window, the full rate again.
    expect([2100, 2101, 2102].map((dt) => faults.pick('/x', t0 + dt))).toEqual([null, null, null])
  })

  it('is off by default and settable like the other faults, over HTTP too', async () => {
    const emulator = await start({ faults: { rateLimitPerSecond: 2 } })
    try {
      const get = () =>
        fetch(`${emulator.url}/user_identities/list`, {
          headers: { Authorization: `Bearer ${emulator.apiKey}` },
        })
      const answers = await Promise.all([get(), get(), get()])
      expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 429])
      const refused = answers.find((a) => a.status === 429)
      expect(Number(refused?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
      expect((await refused?.json()) as unknown).toMatchObject({
        error: { type: 'too_many_requests' },
      })
      emulator.setFaults({})
      await new Promise((resolve) => setTimeout(resolve, 1100))
      expect((await Promise.all([get(), get(), get()])).map((a) => a.status)).toEqual([
        200, 200, 200,
      ])
      expect(() => emulator.setFaults({ rateLimitPerSecond: -1 })).toThrow(RangeError)
    } finally {
      await emulator.close()
    }
  })
})
