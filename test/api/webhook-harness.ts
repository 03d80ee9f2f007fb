// What the webhook tests share: a dynalite coordination table per test file, and a local runner
// whose AwaitFn is the real await task, beside the real webhook handler, both resuming tasks on it.
import { afterAll, afterEach, beforeAll, vi } from 'vitest'
import { createHandler as createWebhookHandler } from '../../functions/api/seam-webhook.js'
import { Coordination } from '../../functions/core/coordination.js'
import { createHandler as createAwaitHandler } from '../../functions/deletion/await-task.js'
import { type LocalDynamoDb, startLocalDynamoDb } from '../../local/dynamodb.js'
import { LocalStepFunctions, type TaskHandler } from '../../local/stepfunctions/runner.js'
import type { Built } from '../stepfunctions/helpers.js'

/** Registers the file's hooks; `coordination` is set once the table is up. */
export function useCoordinationTable() {
  const harness = { coordination: undefined as unknown as Coordination }
  const runners: LocalStepFunctions[] = []
  let db: LocalDynamoDb | undefined
  beforeAll(async () => {
    db = await startLocalDynamoDb()
    harness.coordination = new Coordination({ client: db.documentClient, tableName: db.tableName })
  })
  afterAll(() => db?.close())
  afterEach(async () => {
    vi.restoreAllMocks()
    await Promise.all(runners.splice(0).map((r) => r.close()))
  })

  /** A runner for `built` (AwaitFn = the await task, plus `handlers` by construct id). */
  const start = (
    built: Built,
    options: {
      waitScale: number
      secret: () => Promise<string>
      handlers?: Record<string, TaskHandler>
    },
  ) => {
    const { coordination } = harness
    let runner: LocalStepFunctions | undefined
    const client = { send: ((c: never) => runner?.send(c)) as LocalStepFunctions['send'] }
    const awaitTask = createAwaitHandler({ coordination, sfn: client })
    /** What each await task invocation returned, once it has (its waiter is then registered). */
    const registered: unknown[] = []
    const byArn = Object.fromEntries(
      Object.entries(options.handlers ?? {}).map(([id, h]) => [built.arns[id] as string, h]),
    )
    runner = new LocalStepFunctions({
      definition: built.extracted.definition,
      stateMachineArn: built.extracted.stateMachineArn,
      taskHandlers: {
        ...byArn,
        [built.arns.AwaitFn as string]: (async (event: never) => {
          const result = await awaitTask(event)
          registered.push(result)
          return result
        }) as never,
      },
      waitScale: options.waitScale,
    })
    runners.push(runner)
    const webhook = createWebhookHandler({ coordination, sfn: client, secret: options.secret })
    return { runner, webhook, registered }
  }
  return { harness, start }
}
