/**
 * The coordination table: one DynamoDB table, items keyed by kind (`pk` = `<kind>#<id>`):
 *   waitset#<set id>        one waiting stage attempt: its task token, its pending resource ids,
 *                           `settled` (set once, by a conditional write, by whoever resumes it)
 *   waiter#<resource id>    resource → the wait set waiting for it
 *   event#<resource id>     the Seam event received for it (type, time)
 *   delivery#<svix id>      a webhook delivery already processed (repeats are acknowledged only)
 *   lease#<kind>#<id>       a lease held by one owner until it expires (e.g. one create per ACS user)
 *   rate#<key>#<window>     requests counted in one window of a deployment-wide rate (takeRateSlot)
 *   deliveries#health       the deployment's record of Seam's deliveries: when one last came, when one
 *                           was last found lost (each only ever moved later, by a conditional write)
 * Every item carries `expires_at` (epoch seconds), the table's TTL attribute. DynamoDB deletes
 * expired items only eventually, so every reader also ignores an item past its `expires_at`.
 *
 * Correctness rests on conditional writes and strongly consistent reads, nothing else (no
 * transactions): a waiter is written before its events are read, an event before its waiter is read,
 * so whichever of the two comes last sees the other; both may see a complete set, and the
 * conditional `settled` write lets exactly one of them resume the task.
 */
import { createHash } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  type DynamoDBClientConfig,
} from '@aws-sdk/client-dynamodb'
import {
  InvalidToken,
  SendTaskSuccessCommand,
  type SFNClient,
  TaskTimedOut,
} from '@aws-sdk/client-sfn'
import {
  BatchGetCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb'
import { logger } from '../telemetry/powertools.js'
import { STAGES } from './stages.js'

/** The key schema and TTL attribute, shared by the stack's table and the local one. */
export const COORDINATION_TABLE = { partitionKey: 'pk', timeToLiveAttribute: 'expires_at' } as const
export const COORDINATION_TABLE_ENV = 'COORDINATION_TABLE_NAME'

/** Seam event type → the field carrying the id of the item it confirms gone (the stage table's). */
export const CONFIRMING_EVENTS: ReadonlyMap<string, string> = new Map(
  STAGES.flatMap((stage) =>
    typeof stage.confirmation === 'object'
      ? [[stage.confirmation.eventType, stage.confirmation.idField] as const]
      : [],
  ),
)

/** The event types a webhook subscribes to: exactly those that confirm a stage's deletes. */
export const WEBHOOK_EVENT_TYPES: readonly string[] = [...CONFIRMING_EVENTS.keys()]

/** How long waiters, events and delivery marks are kept: far beyond any stage's wait. */
export const RECORD_TTL_SECONDS = 7 * 24 * 60 * 60
/** How long a rate window's count is kept past its end (TTL deletes it; nothing reads it again). */
const RATE_RECORD_TTL_SECONDS = 60 * 60
/** DynamoDB's BatchGetItem limit. */
const BATCH_GET_KEYS = 100

export interface CoordinationOptions {
  client: DynamoDBDocumentClient
  tableName: string
  now?: () => Date
}

export interface ReceivedEvent {
  resourceId: string
  eventType: string
  occurredAt: string
}

/**
 * What the deployment has seen of Seam's webhook deliveries (epoch ms of the stage task's clock; absent:
 * never, or expired): `arrivedAt`, a stage task found some of its items delivered; `lostAt`, a stage task
 * found an item still undelivered well after Seam had finished it (deliveries.ts trustDeliveries).
 */
export interface DeliveryHealth {
  arrivedAt?: number
  lostAt?: number
}

/** The one item the stage functions write (their IAM policy names it: dynamodb:LeadingKeys). */
export const DELIVERY_HEALTH_KEY = 'deliveries#health'

/** Key patterns of kinds of item, for IAM policies limited to them (`*`: any id). */
export const KEY_PATTERNS = {
  event: 'event#*',
  rate: 'rate#*',
  deliveryHealth: DELIVERY_HEALTH_KEY,
} as const

export interface WaitSet {
  setId: string
  taskToken: string
  deletionId: string
  stage: string
  pendingIds: string[]
  settled: boolean
}

/** A DocumentClient for the coordination table; `config` adds the endpoint locally. */
export function coordinationClient(config: DynamoDBClientConfig = {}): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient(config), {
    marshallOptions: { removeUndefinedValues: true },
  })
}

/** The wait set id of a task token: stable for the token, short, and reveals nothing of it. */
export function waitSetId(taskToken: string): string {
  return createHash('sha256').update(taskToken).digest('base64url')
}

export class Coordination {
  private readonly client: DynamoDBDocumentClient
  private readonly table: string
  private readonly now: () => Date

  constructor(options: CoordinationOptions) {
    this.client = options.client
    this.table = options.tableName
    this.now = options.now ?? (() => new Date())
  }

  // ------------------------------------------------------------------ waiters and events

  /**
   * Registers a stage attempt waiting for events of `pendingIds`, then returns whether all of them
   * have been received already (the caller then tries `settle`).
   */
  async registerWaiter(input: {
    taskToken: string
    deletionId: string
    stage: string
    pendingIds: string[]
  }): Promise<{ setId: string; complete: boolean }> {
    const setId = waitSetId(input.taskToken)
    const pendingIds = [...new Set(input.pendingIds)]
    await this.put({
      pk: `waitset#${setId}`,
      task_token: input.taskToken,
      deletion_id: input.deletionId,
      stage: input.stage,
      pending_ids: pendingIds,
      settled: false,
    })
    await Promise.all(pendingIds.map((id) => this.put({ pk: `waiter#${id}`, set_id: setId })))
    return { setId, complete: await this.allReceived(pendingIds) }
  }

  /**
   * Records that Seam reported `eventType` for `resourceId`, then returns the wait set waiting for
   * it if that set is now complete (the caller then tries `settle`).
   */
  async recordEvent(event: ReceivedEvent): Promise<WaitSet | undefined> {
    await this.put({
      pk: `event#${event.resourceId}`,
      event_type: event.eventType,
      occurred_at: event.occurredAt,
    })
    const waiter = await this.get(`waiter#${event.resourceId}`)
    if (typeof waiter?.set_id !== 'string') return undefined
    const set = await this.waitSet(waiter.set_id)
    if (!set || set.settled) return undefined
    return (await this.allReceived(set.pendingIds)) ? set : undefined
  }

  async waitSet(setId: string): Promise<WaitSet | undefined> {
    const item = await this.get(`waitset#${setId}`)
    if (!item) return undefined
    return {
      setId,
      taskToken: String(item.task_token),
      deletionId: String(item.deletion_id),
      stage: String(item.stage),
      pendingIds: Array.isArray(item.pending_ids) ? item.pending_ids.map(String) : [],
      settled: item.settled === true,
    }
  }

  /** Marks the set settled; true for exactly one caller, who then resumes the task. */
  async settle(setId: string): Promise<boolean> {
    return conditionHeld(
      this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: `waitset#${setId}` },
          UpdateExpression: 'SET settled = :true',
          ConditionExpression: 'attribute_exists(pk) AND settled = :false',
          ExpressionAttributeValues: { ':true': true, ':false': false },
        }),
      ),
    )
  }

  /** Undoes `settle` when resuming the task failed for a reason worth another try. */
  async unsettle(setId: string): Promise<void> {
    await this.client.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: `waitset#${setId}` },
        UpdateExpression: 'SET settled = :false',
        ExpressionAttributeValues: { ':false': false },
      }),
    )
  }

  /** The ids among `resourceIds` whose event has not been received (or has expired). */
  async missingEvents(resourceIds: string[]): Promise<string[]> {
    const found = new Set((await this.receivedEvents(resourceIds)).map((e) => e.resourceId))
    return resourceIds.filter((id) => !found.has(id))
  }

  /** The events received for any of `resourceIds` (expired ones left out), strongly consistent. */
  private async receivedEvents(resourceIds: string[]): Promise<ReceivedEvent[]> {
    return (await this.lookup(resourceIds, false)).events
  }

  /**
   * A stage task's one lookup: the events received for any of `resourceIds`, and the deployment's
   * delivery health, in the same strongly consistent BatchGet; `abortSignal` cancels it.
   */
  async deliveries(
    resourceIds: string[],
    abortSignal?: AbortSignal,
  ): Promise<{ events: ReceivedEvent[]; health: DeliveryHealth }> {
    return this.lookup(resourceIds, true, abortSignal)
  }

  /**
   * Moves the deployment's `arrivedAt` or `lostAt` to `atMs`, unless it is later already: racing
   * writers leave the latest time, whatever their order. `abortSignal` cancels it.
   */
  async noteDelivery(
    kind: keyof DeliveryHealth,
    atMs: number,
    abortSignal?: AbortSignal,
  ): Promise<void> {
    await conditionHeld(
      this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: DELIVERY_HEALTH_KEY },
          UpdateExpression: 'SET #at = :at, expires_at = :expires',
          ConditionExpression: 'attribute_not_exists(#at) OR #at < :at',
          ExpressionAttributeNames: { '#at': kind === 'arrivedAt' ? 'arrived_at' : 'lost_at' },
          ExpressionAttributeValues: {
            ':at': atMs,
            ':expires': this.epochSeconds() + RECORD_TTL_SECONDS,
          },
        }),
        abortSignal ? { abortSignal } : {},
      ),
    )
  }

  /**
   * One strongly consistent BatchGet per 100 keys; keys DynamoDB leaves unprocessed (throttling) are
   * asked again after a growing pause, as DynamoDB advises, until `abortSignal` says to stop.
   */
  private async lookup(
    resourceIds: string[],
    withHealth: boolean,
    abortSignal?: AbortSignal,
  ): Promise<{ events: ReceivedEvent[]; health: DeliveryHealth }> {
    const events: ReceivedEvent[] = []
    const health: DeliveryHealth = {}
    const keys = resourceIds.map((id) => ({ pk: `event#${id}` }))
    if (withHealth) keys.push({ pk: DELIVERY_HEALTH_KEY })
    for (let i = 0; i < keys.length; i += BATCH_GET_KEYS) {
      let batch: Record<string, unknown>[] = keys.slice(i, i + BATCH_GET_KEYS)
      for (let attempt = 0; batch.length > 0; attempt++) {
        if (attempt > 0) {
          await sleep(Math.min(1_000, 25 * 2 ** attempt), undefined, { signal: abortSignal })
        }
        abortSignal?.throwIfAborted()
        const out = await this.client.send(
          new BatchGetCommand({
            RequestItems: { [this.table]: { Keys: batch, ConsistentRead: true } },
          }),
          abortSignal ? { abortSignal } : {},
        )
        for (const item of out.Responses?.[this.table] ?? []) {
          if (!this.live(item)) continue
          if (item.pk === DELIVERY_HEALTH_KEY) {
            if (typeof item.arrived_at === 'number') health.arrivedAt = item.arrived_at
            if (typeof item.lost_at === 'number') health.lostAt = item.lost_at
            continue
          }
          events.push({
            resourceId: String(item.pk).slice('event#'.length),
            eventType: String(item.event_type ?? ''),
            occurredAt: String(item.occurred_at ?? ''),
          })
        }
        batch = out.UnprocessedKeys?.[this.table]?.Keys ?? []
      }
    }
    return { events, health }
  }

  // ------------------------------------------------------------------ deliveries

  /** Whether the webhook delivery `svixId` was processed already. */
  async deliverySeen(svixId: string): Promise<boolean> {
    return (await this.get(`delivery#${svixId}`)) !== undefined
  }

  /** Marks the delivery processed (after its processing succeeded, so a failed one is redone). */
  async markDelivery(svixId: string): Promise<void> {
    await this.put({ pk: `delivery#${svixId}` })
  }

  // ------------------------------------------------------------------ leases

  /**
   * Takes the lease `lease#<kind>#<id>` for `owner` for `ttlSeconds`: true if it was free, expired,
   * or already `owner`'s (then extended); false while another owner holds it.
   */
  async acquireLease(
    kind: string,
    id: string,
    owner: string,
    ttlSeconds: number,
  ): Promise<boolean> {
    const now = this.epochSeconds()
    return conditionHeld(
      this.client.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: `lease#${kind}#${id}`, owner, expires_at: now + ttlSeconds },
          ConditionExpression: 'attribute_not_exists(pk) OR expires_at <= :now OR #owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':now': now, ':owner': owner },
        }),
      ),
    )
  }

  /** Gives the lease back if `owner` still holds it; true if it did. */
  async releaseLease(kind: string, id: string, owner: string): Promise<boolean> {
    return conditionHeld(
      this.client.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { pk: `lease#${kind}#${id}` },
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':owner': owner },
        }),
      ),
    )
  }

  // ------------------------------------------------------------------ rates

  /**
   * Takes one slot of the deployment-wide rate `key` (`perSecond`, counted in fixed windows of a second,
   * or of 1 ÷ perSecond seconds below one per second) by one conditional write: 0 when taken, else the
   * milliseconds until the next window, when the caller tries again. Every caller, whatever its Lambda
   * instance, shares the same count.
   */
  async takeRateSlot(key: string, perSecond: number): Promise<number> {
    const windowMs = Math.max(1000, Math.ceil(1000 / perSecond))
    const limit = Math.max(1, Math.floor((perSecond * windowMs) / 1000))
    const nowMs = this.now().getTime()
    const window = Math.floor(nowMs / windowMs)
    const taken = await conditionHeld(
      this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: `rate#${key}#${window}` },
          UpdateExpression: 'ADD used :one SET expires_at = :expires',
          ConditionExpression: 'attribute_not_exists(used) OR used < :limit',
          ExpressionAttributeValues: {
            ':one': 1,
            ':limit': limit,
            ':expires': Math.ceil(((window + 1) * windowMs) / 1000) + RATE_RECORD_TTL_SECONDS,
          },
        }),
      ),
    )
    return taken ? 0 : (window + 1) * windowMs - nowMs
  }

  // ------------------------------------------------------------------ helpers

  private async allReceived(resourceIds: string[]): Promise<boolean> {
    return (await this.missingEvents(resourceIds)).length === 0
  }

  private epochSeconds(): number {
    return Math.floor(this.now().getTime() / 1000)
  }

  private live(item: Record<string, unknown>): boolean {
    return typeof item.expires_at !== 'number' || item.expires_at > this.epochSeconds()
  }

  private async put(item: Record<string, unknown>): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.table,
        Item: { ...item, expires_at: this.epochSeconds() + RECORD_TTL_SECONDS },
      }),
    )
  }

  private async get(pk: string): Promise<Record<string, unknown> | undefined> {
    const out = await this.client.send(
      new GetCommand({ TableName: this.table, Key: { pk }, ConsistentRead: true }),
    )
    return out.Item && this.live(out.Item) ? out.Item : undefined
  }
}

let fromEnvironment: Coordination | undefined
/** The deployed Lambdas' Coordination: the table COORDINATION_TABLE_NAME names, built once. */
export function coordinationFromEnvironment(): Coordination {
  const tableName = process.env[COORDINATION_TABLE_ENV]
  if (!tableName) {
    throw new Error(`${COORDINATION_TABLE_ENV} is not set: the function has no coordination table.`)
  }
  fromEnvironment ??= new Coordination({ client: coordinationClient(), tableName })
  return fromEnvironment
}

/** What a resumed await task returns to the state machine: nothing is pending any more. */
export interface AwaitResult {
  pending: []
  /** Who saw the set complete: the webhook Lambda, or the await task from events already received. */
  confirmed_by: 'webhook' | 'events_received'
}

/**
 * Resumes the stage waiting on `set` if this caller wins the conditional `settled` write. A task
 * that stopped waiting (TaskTimedOut, InvalidToken: it timed out into polling) is logged and
 * dropped; another failure un-settles the set and is thrown, so the caller's retry can resume it.
 */
export async function resumeWaitSet(
  deps: { coordination: Coordination; sfn: Pick<SFNClient, 'send'> },
  set: Pick<WaitSet, 'setId' | 'taskToken' | 'deletionId' | 'stage'>,
  confirmedBy: AwaitResult['confirmed_by'],
): Promise<boolean> {
  if (!(await deps.coordination.settle(set.setId))) return false
  const log = { deletion_id: set.deletionId, stage: set.stage, wait_set_id: set.setId }
  const output: AwaitResult = { pending: [], confirmed_by: confirmedBy }
  try {
    await deps.sfn.send(
      new SendTaskSuccessCommand({ taskToken: set.taskToken, output: JSON.stringify(output) }),
    )
  } catch (err) {
    if (err instanceof TaskTimedOut || err instanceof InvalidToken) {
      logger.info('Late resume dropped: the stage no longer waits (it polls)', {
        ...log,
        error: err.name,
      })
      return false
    }
    await deps.coordination.unsettle(set.setId)
    throw err
  }
  logger.info('Stage resumed', { ...log, confirmed_by: confirmedBy })
  return true
}

/** A conditional write: true when it was made, false when its condition did not hold. */
async function conditionHeld(write: Promise<unknown>): Promise<boolean> {
  try {
    await write
    return true
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) return false
    throw err
  }
}
