// Webhooks as Seam sends them, through Svix: each event the emulator records goes to every webhook
// subscribed to its type, as one message with a stable `svix-id`, signed `v1,<base64 HMAC-SHA256 of
// "<svix-id>.<svix-timestamp>.<body>">` with the base64 secret after `whsec_`. A delivery counts
// only on a 2xx; others are retried on Svix's schedule (immediately, 5 s, 5 min, … — the emulator
// keeps the first `retryDelaysMs`). Delivery faults, drawn from the emulator's (seedable) random
// source: drop a share of messages (never delivered), duplicate a share (delivered twice, same
// svix-id), delay each copy by a random time up to `maxDelayMs` (so deliveries arrive reordered).
import { createHmac, randomBytes, randomUUID } from 'node:crypto'

export interface WebhookFaults {
  /** Share of messages never delivered (0..1). */
  dropRate: number
  /** Share of messages delivered twice, with the same svix-id (0..1). */
  duplicateRate: number
  /** Each delivered copy waits a random time in [0, maxDelayMs] first. */
  maxDelayMs: number
  /** Delays before retries of a failed attempt (Svix: 0, 5 s, 5 min, 30 min, …). */
  retryDelaysMs: number[]
}

export const NO_WEBHOOK_FAULTS: WebhookFaults = {
  dropRate: 0,
  duplicateRate: 0,
  maxDelayMs: 0,
  retryDelaysMs: [0, 5_000],
}

export interface WebhookRecord {
  webhook_id: string
  url: string
  event_types: string[]
  secret: string
}

export interface DeliveryRecord {
  webhook_id: string
  svix_id: string
  event_type: string
  /** What happened to this copy: dropped (fault), delivered (2xx), or failed after every retry. */
  outcome: 'dropped' | 'delivered' | 'failed'
  attempts: number
  status?: number
}

/** The Svix signature headers for `body`, as Seam's deliveries carry them. */
export function signWebhook(
  secret: string,
  body: string,
  id = `msg_${randomBytes(12).toString('hex')}`,
  timestamp = new Date(),
): Record<'svix-id' | 'svix-timestamp' | 'svix-signature', string> {
  const seconds = String(Math.floor(timestamp.getTime() / 1000))
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64')
  const signature = createHmac('sha256', key).update(`${id}.${seconds}.${body}`).digest('base64')
  return { 'svix-id': id, 'svix-timestamp': seconds, 'svix-signature': `v1,${signature}` }
}

export function newWebhookSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`
}

export class WebhookHub {
  readonly webhooks = new Map<string, WebhookRecord>()
  readonly deliveries: DeliveryRecord[] = []
  private faults: WebhookFaults = { ...NO_WEBHOOK_FAULTS }
  private random: () => number = Math.random
  private readonly timers = new Set<NodeJS.Timeout>()
  private readonly inFlight = new Set<Promise<void>>()
  /** Webhooks `reset` keeps: the local runtime's own registration. */
  private readonly pinned = new Set<string>()

  configure(options: { random?: () => number; faults?: Partial<WebhookFaults> }): void {
    if (options.random) this.random = options.random
    if (options.faults) this.setFaults(options.faults)
  }

  setFaults(faults: Partial<WebhookFaults>): void {
    const next = { ...NO_WEBHOOK_FAULTS, ...faults }
    for (const key of ['dropRate', 'duplicateRate'] as const) {
      if (!(next[key] >= 0 && next[key] <= 1)) {
        throw new RangeError(`${key} must be within 0..1, got ${next[key]}`)
      }
    }
    if (!(next.maxDelayMs >= 0)) throw new RangeError('maxDelayMs must be >= 0')
    this.faults = next
  }

  create(url: string, eventTypes: string[] | undefined): WebhookRecord {
    const webhook: WebhookRecord = {
      webhook_id: randomUUID(),
      url,
      event_types: eventTypes ?? ['*'],
      secret: newWebhookSecret(),
    }
    this.webhooks.set(webhook.webhook_id, webhook)
    return webhook
  }

  /** Sends `event` to every subscribed webhook (in the background; see `idle`). */
  publish(event: { event_type: string }): void {
    const body = JSON.stringify(event)
    for (const webhook of this.webhooks.values()) {
      const types = webhook.event_types
      if (!types.includes('*') && !types.includes(event.event_type)) continue
      const svixId = `msg_${randomBytes(12).toString('hex')}`
      const record = {
        webhook_id: webhook.webhook_id,
        svix_id: svixId,
        event_type: event.event_type,
      }
      if (this.faults.dropRate > 0 && this.random() < this.faults.dropRate) {
        this.deliveries.push({ ...record, outcome: 'dropped', attempts: 0 })
        continue
      }
      const copies =
        this.faults.duplicateRate > 0 && this.random() < this.faults.duplicateRate ? 2 : 1
      for (let copy = 0; copy < copies; copy += 1) {
        const delay = this.faults.maxDelayMs > 0 ? this.random() * this.faults.maxDelayMs : 0
        this.later(delay, () => this.deliver(webhook, record, body, 0))
      }
    }
  }

  /** Resolves once no delivery is scheduled or in flight. */
  async idle(): Promise<void> {
    while (this.timers.size > 0 || this.inFlight.size > 0) {
      await Promise.all([...this.inFlight])
      if (this.timers.size > 0) await new Promise((r) => setTimeout(r, 5))
    }
  }

  /** Keeps the webhook `webhookId` through `reset` (until it is deleted). */
  pin(webhookId: string): void {
    this.pinned.add(webhookId)
  }

  /** Cancels every pending delivery and forgets every webhook but the pinned ones. */
  reset(): void {
    for (const timer of this.timers) clearTimeout(timer)
    this.timers.clear()
    for (const id of this.webhooks.keys()) if (!this.pinned.has(id)) this.webhooks.delete(id)
    this.deliveries.length = 0
    this.faults = { ...NO_WEBHOOK_FAULTS }
  }

  private later(ms: number, run: () => Promise<void>): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer)
      const running = run().finally(() => this.inFlight.delete(running))
      this.inFlight.add(running)
    }, ms)
    timer.unref()
    this.timers.add(timer)
  }

  private async deliver(
    webhook: WebhookRecord,
    record: Omit<DeliveryRecord, 'outcome' | 'attempts'>,
    body: string,
    attempt: number,
  ): Promise<void> {
    // A webhook deleted meanwhile gets nothing more.
    if (!this.webhooks.has(webhook.webhook_id)) return
    let status: number | undefined
    try {
      const response = await fetch(webhook.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...signWebhook(webhook.secret, body, record.svix_id),
        },
        body,
        // Svix counts a delivery only if answered within 15 s.
        signal: AbortSignal.timeout(15_000),
      })
      status = response.status
      await response.arrayBuffer()
    } catch {
      status = undefined
    }
    const ok = status !== undefined && status >= 200 && status < 300
    const retryIn = this.faults.retryDelaysMs[attempt]
    if (!ok && retryIn !== undefined) {
      this.later(retryIn, () => this.deliver(webhook, record, body, attempt + 1))
      return
    }
    this.deliveries.push({
      ...record,
      outcome: ok ? 'delivered' : 'failed',
      attempts: attempt + 1,
      ...(status === undefined ? {} : { status }),
    })
  }
}
