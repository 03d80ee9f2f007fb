// Webhooks on the emulator: Seam's webhooks/* routes with Seam's shapes, Svix-signed deliveries that
// @seamapi/webhook verifies, and the delivery faults (drop, duplicate, delay) with a seeded source.
import type { SeamHttp } from '@seamapi/http/connect'
import { schemas } from '@seamapi/types/connect'
import { SeamWebhook } from '@seamapi/webhook'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type SeamEmulator, seededRandom } from '../../local/seam-emulator/index.js'
import { errorOf, parseWith, sdkFor, start, waitFor } from './helpers.js'
import { startReceiver } from './webhook-receiver.js'

let emulator: SeamEmulator
let seam: SeamHttp
let receiver: Awaited<ReturnType<typeof startReceiver>>

beforeAll(async () => {
  emulator = await start({ deleteDelayMs: 5, random: seededRandom(42) })
  seam = sdkFor(emulator)
})
afterAll(() => emulator.close())
beforeEach(async () => {
  emulator.reset()
  receiver = await startReceiver()
})
afterEach(() => receiver.close())

async function deleteCredentials(count: number): Promise<string[]> {
  const graph = emulator.seed.identityGraph({ acsSystems: 1, credentialsPerUser: count })
  for (const id of graph.acsCredentialIds)
    await seam.acs.credentials.delete({ acs_credential_id: id })
  return graph.acsCredentialIds
}

describe('webhooks routes', () => {
  it('creates, gets, lists, updates and deletes webhooks in the shapes of @seamapi/types', async () => {
    const created = await seam.webhooks.create({
      url: receiver.url,
      event_types: ['acs_credential.deleted'],
    })
    parseWith(schemas.webhook, created)
    expect(created).toMatchObject({
      url: receiver.url,
      event_types: ['acs_credential.deleted'],
      secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]+=*$/),
    })
    const fetched = parseWith(
      schemas.webhook,
      await seam.webhooks.get({ webhook_id: created.webhook_id }),
    )
    expect(fetched.webhook_id).toBe(created.webhook_id)
    expect((await seam.webhooks.list()).map((w) => w.webhook_id)).toEqual([created.webhook_id])

    await seam.webhooks.update({
      webhook_id: created.webhook_id,
      event_types: ['acs_user.deleted'],
    })
    expect((await seam.webhooks.get({ webhook_id: created.webhook_id })).event_types).toEqual([
      'acs_user.deleted',
    ])
    await seam.webhooks.delete({ webhook_id: created.webhook_id })
    expect(await seam.webhooks.list()).toEqual([])
    expect(await errorOf(seam.webhooks.get({ webhook_id: created.webhook_id }))).toMatchObject({
      code: 'webhook_not_found',
    })
  })
})

describe('deliveries', () => {
  it('delivers the events of subscribed types, Svix-signed: SeamWebhook verifies each', async () => {
    const { secret } = await seam.webhooks.create({
      url: receiver.url,
      event_types: ['acs_credential.deleted'],
    })
    const ids = await deleteCredentials(3)
    await waitFor(() => receiver.received.length === 3)
    await emulator.webhooks.idle()
    const verifier = new SeamWebhook(secret as string)
    const events = receiver.received.map(({ body, headers }) => verifier.verify(body, headers))
    for (const event of events) parseWith(schemas.seam_event, event)
    expect(events.map((e) => e.event_type)).toEqual(Array(3).fill('acs_credential.deleted'))
    expect(
      events.map((e) => (e as { acs_credential_id?: string }).acs_credential_id).sort(),
    ).toEqual([...ids].sort())
    // The ACS users' deletion is not subscribed to: only what was asked for is delivered.
    expect(receiver.received).toHaveLength(3)
    // Another secret does not verify them.
    const other = await seam.webhooks.create({ url: receiver.url })
    const [first] = receiver.received
    expect(() =>
      new SeamWebhook(other.secret as string).verify(first?.body ?? '', first?.headers ?? {}),
    ).toThrow()
  })

  it('drops, duplicates and delays deliveries as set, the same way for the same seed', async () => {
    emulator.webhooks.setFaults({ dropRate: 0.5, duplicateRate: 0.25, maxDelayMs: 30 })
    await seam.webhooks.create({ url: receiver.url, event_types: ['acs_credential.deleted'] })
    await deleteCredentials(40)
    await waitFor(() => emulator.webhooks.deliveries.length >= 40, 10_000)
    await emulator.webhooks.idle()
    const { deliveries } = emulator.webhooks
    const dropped = deliveries.filter((d) => d.outcome === 'dropped')
    const delivered = deliveries.filter((d) => d.outcome === 'delivered')
    const messages = new Set(deliveries.map((d) => d.svix_id))
    expect(messages.size).toBe(40)
    expect(dropped.length).toBeGreaterThan(5)
    expect(dropped.length).toBeLessThan(35)
    // A duplicated message reaches the endpoint twice with the same svix-id.
    const ids = receiver.received.map((r) => r.headers['svix-id'])
    expect(ids.length).toBe(delivered.length)
    expect(new Set(ids).size).toBeLessThan(ids.length)
    expect(new Set(ids).size + dropped.length).toBe(40)
  })

  it('retries a delivery the endpoint did not accept, with the same svix-id', async () => {
    await receiver.close()
    receiver = await startReceiver((n) => (n === 1 ? 500 : 204))
    emulator.webhooks.setFaults({ retryDelaysMs: [0] })
    await seam.webhooks.create({ url: receiver.url, event_types: ['acs_credential.deleted'] })
    await deleteCredentials(1)
    await waitFor(() => emulator.webhooks.deliveries.length === 1)
    expect(emulator.webhooks.deliveries[0]).toMatchObject({ outcome: 'delivered', attempts: 2 })
    const [a, b] = receiver.received
    expect(a?.headers['svix-id']).toBe(b?.headers['svix-id'])
  })
})
