// The registration custom resource against the emulator's webhooks routes: create stores the
// secret, an unchanged update does nothing, a changed one registers anew, delete removes the webhook
// (also when it is gone already, or when the create never made one).
import type { CloudFormationCustomResourceEvent } from 'aws-lambda'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createHandler } from '../../functions/seam/webhook-registration.js'
import type { SeamEmulator } from '../../local/seam-emulator/index.js'
import { sdkFor, start } from '../emulator/helpers.js'

let emulator: SeamEmulator
beforeAll(async () => {
  emulator = await start()
})
afterAll(() => emulator.close())

const props = (Url: string, EventTypes = ['acs_user.deleted']) => ({
  ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:provider',
  Url,
  EventTypes,
  SecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:webhook',
})
const base = {
  ServiceToken: 'token',
  ResponseURL: 'https://example.invalid',
  StackId: 'stack',
  RequestId: 'request',
  LogicalResourceId: 'SeamWebhook',
  ResourceType: 'Custom::SeamWebhook',
}

describe('the webhook registration custom resource', () => {
  it('registers, keeps, re-registers on a change and deletes the Seam webhook', async () => {
    const stored: string[] = []
    const handle = createHandler({
      seam: async () => sdkFor(emulator),
      storeSecret: async (_arn, secret) => {
        stored.push(secret)
      },
    })
    const created = await handle({
      ...base,
      RequestType: 'Create',
      ResourceProperties: props('https://api.example/webhooks/seam'),
    } as CloudFormationCustomResourceEvent)
    const first = emulator.webhooks.webhooks.get(created.PhysicalResourceId)
    expect(first).toMatchObject({
      url: 'https://api.example/webhooks/seam',
      event_types: ['acs_user.deleted'],
    })
    expect(stored).toEqual([first?.secret])

    const unchanged = await handle({
      ...base,
      RequestType: 'Update',
      PhysicalResourceId: created.PhysicalResourceId,
      ResourceProperties: props('https://api.example/webhooks/seam'),
      OldResourceProperties: props('https://api.example/webhooks/seam'),
    } as CloudFormationCustomResourceEvent)
    expect(unchanged.PhysicalResourceId).toBe(created.PhysicalResourceId)
    expect(emulator.webhooks.webhooks.size).toBe(1)

    const moved = await handle({
      ...base,
      RequestType: 'Update',
      PhysicalResourceId: created.PhysicalResourceId,
      ResourceProperties: props('https://api2.example/webhooks/seam'),
      OldResourceProperties: props('https://api.example/webhooks/seam'),
    } as CloudFormationCustomResourceEvent)
    expect(moved.PhysicalResourceId).not.toBe(created.PhysicalResourceId)
    expect(stored).toHaveLength(2)

    for (const id of [
      created.PhysicalResourceId,
      moved.PhysicalResourceId,
      moved.PhysicalResourceId,
    ]) {
      await handle({
        ...base,
        RequestType: 'Delete',
        PhysicalResourceId: id,
        ResourceProperties: props('x'),
      } as CloudFormationCustomResourceEvent)
    }
    expect(emulator.webhooks.webhooks.size).toBe(0)
    // A failed create's placeholder physical id is not sent to Seam.
    await expect(
      handle({
        ...base,
        RequestType: 'Delete',
        PhysicalResourceId: 'request-id-of-a-failed-create',
        ResourceProperties: props('x'),
      } as CloudFormationCustomResourceEvent),
    ).resolves.toEqual({ PhysicalResourceId: 'request-id-of-a-failed-create' })
  })
})
