/**
 * A bulk deletion where hundreds of identities fail: enough that a failed child's ~1 KB {Error, Cause}
 * per item would take the Map's output past Step Functions' 256 KiB (States.DataLimitExceeded, which the
 * local distributed Map enforces too, and a FAILED status with no failures listed). Each item catches its
 * error as a small result, so the bulk deletion ends FAILED with every failure counted and listed.
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import type { BulkDeletion } from '../../functions/contract/http.js'
import { DEFAULT_POLL_POLICY } from '../../functions/core/poll.js'
import { BULK_STATES } from '../../infra/constructs/bulk-workflow.js'
import { type LocalRuntime, startLocalRuntime } from '../../local/runtime.js'
import type { SeamEmulator } from '../../local/seam-emulator/index.js'
import { call } from './helpers.js'

/** ~1.09 KB per failed item in the old shape: 300 of them are past 262,144 bytes. */
const FAILED = 300

let runtime: LocalRuntime
let seam: SeamEmulator

beforeAll(async () => {
  runtime = await startLocalRuntime({
    emulator: { deleteDelayMs: 0 },
    waitScale: 0.01,
    pollPolicy: { ...DEFAULT_POLL_POLICY, stageTimeoutSeconds: 150 },
    bulkDeletionConcurrency: 125,
  })
  seam = runtime.emulator as SeamEmulator
})
afterAll(() => runtime?.close())

it(`${FAILED} stuck identities and one that deletes: FAILED, every failure listed as far as the list goes, the Map output small`, async () => {
  const shape = {
    clientSessions: 0,
    acsSystems: 1,
    credentialsPerUser: 1,
    enrollmentAutomations: 0,
    phones: 0,
  }
  const stuck = Array.from({ length: FAILED }, () => seam.seed.identityGraph(shape))
  for (const graph of stuck) seam.stickDeletion(graph.acsCredentialIds[0] as string)
  const fine = seam.seed.identityGraph(shape)
  const ids = [...stuck, fine].map((g) => g.userIdentityId)
  const started = await call(runtime.url, 'POST', '/bulk-deletions', { user_identity_ids: ids })
  expect(started.status).toBe(202)
  const id = (started.json.bulk_deletion as BulkDeletion).bulk_deletion_id
  let bulk: BulkDeletion
  for (;;) {
    bulk = (await call(runtime.url, 'GET', `/bulk-deletions/${id}`)).json
      .bulk_deletion as BulkDeletion
    if (bulk.status !== 'RUNNING') break
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  expect(bulk).toMatchObject({
    status: 'FAILED',
    total: FAILED + 1,
    counts: { pending: 0, running: 0, succeeded: 1, failed: FAILED, not_found: 0 },
  })
  // The first 100 failures, in request order, each with its deletion and that deletion's error.
  expect(bulk.failures).toHaveLength(100)
  expect(bulk.failures?.map((f) => f.user_identity_id)).toEqual(ids.slice(0, 100))
  for (const failure of bulk.failures ?? []) {
    expect(failure).toMatchObject({
      deletion_id: `${failure.user_identity_id}--1`,
      error: { type: 'deletion_stuck' },
    })
  }
  const history = await runtime.bulkDeletions.getExecutionHistory({
    executionArn: `${runtime.bulkDeletions.stateMachineArn.replace(':stateMachine:', ':execution:')}:${id}`,
  })
  const exited = history.events?.find((e) => e.stateExitedEventDetails?.name === BULK_STATES.map)
  const output = exited?.stateExitedEventDetails?.output ?? ''
  expect(Buffer.byteLength(output)).toBeLessThan(256 * 1024)
  // The old shape: the Map's entry for a failed item was the child's {Error: States.TaskFailed, Cause: the
  // deletion's DescribeExecution JSON}; so many of them are past the limit.
  const deletion = await runtime.stepFunctions.describeExecution({
    executionArn: `${runtime.stepFunctions.stateMachineArn.replace(':stateMachine:', ':execution:')}:${ids[0]}--1`,
  })
  const described = {
    ExecutionArn: deletion.executionArn,
    Input: JSON.parse(deletion.input ?? 'null'),
    InputDetails: { Included: true },
    Name: deletion.name,
    RedriveCount: 0,
    StartDate: deletion.startDate?.getTime(),
    StateMachineArn: deletion.stateMachineArn,
    Status: deletion.status,
    StopDate: deletion.stopDate?.getTime(),
    Error: deletion.error,
    Cause: deletion.cause,
  }
  const oldEntry = JSON.stringify({ Error: 'States.TaskFailed', Cause: JSON.stringify(described) })
  expect(FAILED * Buffer.byteLength(oldEntry)).toBeGreaterThan(256 * 1024)
}, 240_000)
