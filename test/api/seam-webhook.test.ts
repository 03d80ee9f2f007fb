// POST /webhooks/seam and the await task together, on real parts: dynalite for the coordination
// table, the local Step Functions runner for the callback task, the emulator's Svix signing (an
// implementation independent of the verifier) and its deliveries with faults.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Duration } from 'aws-cdk-lib'
import * as sfn from 'aws-cdk-lib/aws-stepfunctions'
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks'
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  type SeamEmulator,
  seededRandom,
  startSeamEmulator,
} from '../../local/seam-emulator/index.js'
import { newWebhookSecret, signWebhook } from '../../local/seam-emulator/webhooks.js'
import type { LocalStepFunctions } from '../../local/stepfunctions/runner.js'
import { sdkFor } from '../emulator/helpers.js'
import { synth } from '../stepfunctions/helpers.js'
import { useCoordinationTable } from './webhook-harness.js'

const SECRET = newWebhookSecret()
const { harness, start } = useCoordinationTable()

/** Await (callback, timeout scaled) → Succeed; a timeout is caught into "Poll" (today's loop). */
const built = synth((stack, fn) => {
  const wait = new tasks.LambdaInvoke(stack, 'Await ACS credentials', {
    lambdaFunction: fn('AwaitFn'),
    integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
    payload: sfn.TaskInput.fromObject({
      task_token: sfn.JsonPath.taskToken,
      deletion_id: sfn.JsonPath.executionName,
      stage: 'acs_credentials',
      'pending.$': '$.pending',
    }),
    taskTimeout: sfn.Timeout.duration(Duration.seconds(1000)),
    resultPath: '$.awaited',
  })
  wait.addCatch(new sfn.Pass(stack, 'Poll'), { errors: ['States.Timeout'], resultPath: '$.polled' })
  return { definition: wait }
})

const setup = (waitScale = 0.001, secret = async () => SECRET) =>
  start(built, { waitScale, secret })

const newId = () => crypto.randomUUID()

const credentialDeleted = (acs_credential_id: string) => ({
  event_id: crypto.randomUUID(),
  event_type: 'acs_credential.deleted',
  acs_credential_id,
  acs_system_id: crypto.randomUUID(),
  workspace_id: crypto.randomUUID(),
  created_at: new Date().toISOString(),
  occurred_at: new Date().toISOString(),
})

function request(body: string, headers: Record<string, string>, isBase64Encoded = false) {
  return {
    body,
    headers,
    isBase64Encoded,
    requestContext: { requestId: `req-${Math.random()}` },
  } as never
}

function signed(event: unknown, options: { secret?: string; at?: Date; id?: string } = {}) {
  const body = JSON.stringify(event)
  return request(body, signWebhook(options.secret ?? SECRET, body, options.id, options.at))
}

async function startAwait(runner: LocalStepFunctions, pending: string[]) {
  const { executionArn } = await runner.startExecution({
    stateMachineArn: runner.stateMachineArn,
    input: JSON.stringify({ pending }),
  })
  return executionArn as string
}

describe('POST /webhooks/seam: the signature is the authentication', () => {
  it('answers 401 invalid_webhook_signature and records nothing for every bad signature', async () => {
    const { webhook } = setup()
    const id = newId()
    const event = credentialDeleted(id)
    const body = JSON.stringify(event)
    const good = signWebhook(SECRET, body)
    const cases = {
      'missing headers': request(body, {}),
      'wrong signature': request(body, { ...good, 'svix-signature': 'v1,AAAA' }),
      'another secret': signed(event, { secret: newWebhookSecret() }),
      'stale timestamp': signed(event, { at: new Date(Date.now() - 10 * 60_000) }),
      'tampered body': request(body.replace(id, newId()), good),
    }
    for (const [name, req] of Object.entries(cases)) {
      const response = await webhook(req)
      expect(response.statusCode, name).toBe(401)
      const error = JSON.parse(response.body).error
      expect(error, name).toEqual({
        type: 'invalid_webhook_signature',
        message: expect.any(String),
        request_id: expect.any(String),
      })
    }
    expect(await harness.coordination.missingEvents([id])).toEqual([id])
  })

  it('answers 400 invalid_input for a signed body that is not a Seam event', async () => {
    const { webhook } = setup()
    for (const body of ['{"hello":"world"}', 'not json']) {
      const response = await webhook(request(body, signWebhook(SECRET, body)))
      expect(response.statusCode).toBe(400)
      expect(JSON.parse(response.body).error.type).toBe('invalid_input')
    }
  })

  it('answers 204 for an event type it does not use, and for a repeated svix-id (processed once)', async () => {
    const { webhook } = setup()
    const unused = { ...credentialDeleted(newId()), event_type: 'device.connected' }
    expect((await webhook(signed(unused))).statusCode).toBe(204)

    const id = newId()
    const record = vi.spyOn(harness.coordination, 'recordEvent')
    const delivery = signed(credentialDeleted(id), { id: 'msg_repeated_1' })
    expect((await webhook(delivery)).statusCode).toBe(204)
    expect((await webhook(delivery)).statusCode).toBe(204)
    expect(record).toHaveBeenCalledTimes(1)
    expect(await harness.coordination.missingEvents([id])).toEqual([])
  })

  it('verifies a base64-encoded body as the raw bytes it encodes', async () => {
    const { webhook } = setup()
    const id = newId()
    const body = JSON.stringify(credentialDeleted(id))
    const response = await webhook(
      request(Buffer.from(body).toString('base64'), signWebhook(SECRET, body), true),
    )
    expect(response.statusCode).toBe(204)
    expect(await harness.coordination.missingEvents([id])).toEqual([])
  })
})

describe('the await task resumed by events', () => {
  it('settles at once from events received before the waiter registered (the race)', async () => {
    const { runner, webhook } = setup()
    const ids = [newId(), newId()]
    for (const id of ids)
      expect((await webhook(signed(credentialDeleted(id)))).statusCode).toBe(204)
    const final = await runner.waitForExecution(await startAwait(runner, ids))
    expect(JSON.parse(final.output as string).awaited).toEqual({
      pending: [],
      confirmed_by: 'events_received',
    })
  })

  it('is resumed by the webhook when the event of the last pending id arrives', async () => {
    const { runner, webhook, registered } = setup(1)
    const ids = [newId(), newId(), newId()]
    const arn = await startAwait(runner, ids)
    // Once the waiter is registered (the await task returned), deliver in another order.
    await vi.waitFor(() => expect(registered).toEqual([{ registered: 3, settled: false }]))
    for (const id of [ids[2], ids[0], ids[1]] as string[]) {
      await webhook(signed(credentialDeleted(id)))
    }
    const final = await runner.waitForExecution(arn)
    expect(JSON.parse(final.output as string).awaited).toEqual({
      pending: [],
      confirmed_by: 'webhook',
    })
  })

  it('falls back to polling at the timeout; a late event is then acknowledged and dropped', async () => {
    const { runner, webhook } = setup()
    const ids = [newId()]
    const final = await runner.waitForExecution(await startAwait(runner, ids))
    expect(JSON.parse(final.output as string).polled.Error).toBe('States.Timeout')
    expect((await webhook(signed(credentialDeleted(ids[0] as string)))).statusCode).toBe(204)
  })

  it('never ends a stage on an unsigned, forged acs_credential.deleted', async () => {
    const { runner, webhook } = setup()
    const stuck = newId()
    const arn = await startAwait(runner, [stuck])
    const forged = JSON.stringify(credentialDeleted(stuck))
    expect(
      (await webhook(request(forged, { 'content-type': 'application/json' }))).statusCode,
    ).toBe(401)
    const final = await runner.waitForExecution(arn)
    expect(JSON.parse(final.output as string).polled.Error).toBe('States.Timeout')
  })
})

describe('deliveries from the emulator with faults', () => {
  let emulator: SeamEmulator
  let server: Server
  afterEach(async () => {
    await emulator?.close()
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
  })

  it('every stage ends, resumed or polled, with half the deliveries dropped, a quarter doubled, all reordered; bystanders untouched', async () => {
    emulator = await startSeamEmulator({
      deleteDelayMs: 5,
      random: seededRandom(7),
      webhookFaults: { dropRate: 0.5, duplicateRate: 0.25, maxDelayMs: 40 },
    })
    const seam = sdkFor(emulator)
    // The handler verifies with the secret the emulator returns for the webhook.
    let secret = ''
    const { runner, webhook } = setup(0.002, async () => secret)
    server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', async () => {
        const headers = Object.fromEntries(
          Object.entries(req.headers).filter(
            (e): e is [string, string] => typeof e[1] === 'string',
          ),
        )
        const out = await webhook(request(Buffer.concat(chunks).toString('utf8'), headers))
        res.writeHead(out.statusCode).end(out.body)
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/seam`
    const hook = await seam.webhooks.create({ url, event_types: ['acs_credential.deleted'] })
    secret = hook.secret as string

    const bystander = emulator.seed.identityGraph({ acsSystems: 1, credentialsPerUser: 2 })
    const graphs = Array.from({ length: 12 }, () =>
      emulator.seed.identityGraph({ acsSystems: 1, credentialsPerUser: 1 }),
    )
    const arns = await Promise.all(
      graphs.map(async (graph) => {
        for (const id of graph.acsCredentialIds) {
          await seam.acs.credentials.delete({ acs_credential_id: id })
        }
        return startAwait(runner, graph.acsCredentialIds)
      }),
    )
    const finals = await Promise.all(arns.map((arn) => runner.waitForExecution(arn)))
    expect(finals.map((f) => f.status)).toEqual(Array(12).fill('SUCCEEDED'))
    const outputs = finals.map((f) => JSON.parse(f.output as string))
    expect(outputs.some((o) => o.awaited)).toBe(true)
    for (const id of bystander.acsCredentialIds) expect(emulator.inspect.exists(id)).toBe(true)
  })
})
