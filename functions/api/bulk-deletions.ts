/**
 * What the bulk deletion routes do: start the bulk workflow (a Standard state machine whose distributed
 * Map runs the deletion workflow once per identity), and report one from its execution, its Map Run and,
 * for the failures, the deletions of the identities that failed.
 */
import { randomUUID } from 'node:crypto'
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandInput,
  type DescribeExecutionCommandOutput,
  DescribeMapRunCommand,
  type DescribeMapRunCommandInput,
  type DescribeMapRunCommandOutput,
  ListMapRunsCommand,
  type ListMapRunsCommandInput,
  type ListMapRunsCommandOutput,
  SFNClient,
  StartExecutionCommand,
  type StartExecutionCommandInput,
  type StartExecutionCommandOutput,
} from '@aws-sdk/client-sfn'
import { ApiError } from '../contract/errors.js'
import type { BulkDeletion, BulkFailure } from '../contract/http.js'
import { baseBulkDeletion, countsOf, summaryOf } from '../core/bulk.js'
import {
  type ExecutionView,
  executionArnFor,
  isValidUserIdentityId,
  toDeletion,
} from '../core/deletions.js'
import { awsDeletionBackend, type DeletionBackend } from './deletion-executions.js'
import { deletionAttempts } from './deletions.js'

type Out<T> = Promise<Omit<T, '$metadata'>>

export interface BulkExecutions {
  startExecution(input: StartExecutionCommandInput): Out<StartExecutionCommandOutput>
  describeExecution(input: DescribeExecutionCommandInput): Out<DescribeExecutionCommandOutput>
  listMapRuns(input: ListMapRunsCommandInput): Out<ListMapRunsCommandOutput>
  describeMapRun(input: DescribeMapRunCommandInput): Out<DescribeMapRunCommandOutput>
}

export interface BulkBackend {
  readonly executions: BulkExecutions
  readonly stateMachineArn: string
  /** Where the identities' own deletions run (their errors are the failures' errors). */
  readonly deletions: DeletionBackend
}

let aws: BulkBackend | undefined

/** The deployed backend, from BULK_DELETION_STATE_MACHINE_ARN (built once per cold start). */
export function awsBulkBackend(): BulkBackend {
  if (aws) return aws
  const stateMachineArn = process.env.BULK_DELETION_STATE_MACHINE_ARN
  if (!stateMachineArn) {
    throw new Error(
      'BULK_DELETION_STATE_MACHINE_ARN is not set: the bulk routes need the state machine',
    )
  }
  const client = new SFNClient({})
  aws = {
    stateMachineArn,
    deletions: awsDeletionBackend(),
    executions: {
      startExecution: (input) => client.send(new StartExecutionCommand(input)),
      describeExecution: (input) => client.send(new DescribeExecutionCommand(input)),
      listMapRuns: (input) => client.send(new ListMapRunsCommand(input)),
      describeMapRun: (input) => client.send(new DescribeMapRunCommand(input)),
    },
  }
  return aws
}

export async function startBulkDeletion(
  backend: BulkBackend,
  userIdentityIds: string[],
): Promise<BulkDeletion> {
  const name = randomUUID()
  const started = await backend.executions.startExecution({
    stateMachineArn: backend.stateMachineArn,
    name,
    input: JSON.stringify({ user_identity_ids: userIdentityIds }),
  })
  return baseBulkDeletion(
    name,
    { status: 'RUNNING', startDate: started.startDate },
    userIdentityIds.length,
    countsOf(userIdentityIds.length, undefined, undefined),
  )
}

export async function getBulkDeletion(
  backend: BulkBackend,
  bulkDeletionId: string,
): Promise<BulkDeletion> {
  const notFound = () =>
    new ApiError(
      404,
      'bulk_deletion_not_found',
      `There is no bulk deletion ${bulkDeletionId.slice(0, 100)}.`,
    )
  if (!isValidUserIdentityId(bulkDeletionId)) throw notFound()
  const executionArn = executionArnFor(backend.stateMachineArn, bulkDeletionId)
  let execution: Awaited<ReturnType<BulkExecutions['describeExecution']>>
  try {
    execution = await backend.executions.describeExecution({ executionArn })
  } catch (error) {
    if ((error as { name?: string }).name === 'ExecutionDoesNotExist') throw notFound()
    throw error
  }
  const ids = inputIds(execution.input)
  const summary = summaryOf(execution.status === 'SUCCEEDED' ? execution.output : execution.cause)
  const items = summary ? undefined : await mapRunItems(backend, executionArn)
  const bulk = baseBulkDeletion(
    bulkDeletionId,
    execution,
    ids.length,
    countsOf(ids.length, summary, items),
  )
  if (bulk.status !== 'RUNNING') {
    bulk.failures = await Promise.all(
      (summary?.failed_user_identity_ids ?? []).map((id) => failureOf(backend.deletions, id)),
    )
  }
  return bulk
}

async function mapRunItems(backend: BulkBackend, executionArn: string) {
  const runs = await backend.executions.listMapRuns({ executionArn })
  const mapRunArn = runs.mapRuns?.[0]?.mapRunArn
  if (!mapRunArn) return undefined
  return (await backend.executions.describeMapRun({ mapRunArn })).itemCounts
}

/** The failure of one identity: its latest deletion (the highest attempt) and that deletion's error. */
async function failureOf(deletions: DeletionBackend, userIdentityId: string): Promise<BulkFailure> {
  let latest: ExecutionView | undefined
  for await (const { execution } of deletionAttempts(deletions, userIdentityId)) {
    if (!execution) break
    latest = execution
  }
  const deletion = latest ? toDeletion(latest, undefined) : undefined
  return {
    user_identity_id: userIdentityId,
    ...(deletion ? { deletion_id: deletion.deletion_id } : {}),
    error: deletion?.error ?? {
      type: deletion ? 'deletion_not_finished' : 'deletion_not_started',
      message: deletion
        ? `The deletion ${deletion.deletion_id} is ${deletion.status}; the bulk deletion stopped waiting for it.`
        : `No deletion of ${userIdentityId} was started: the item failed before (see the Map Run in the Step Functions console).`,
    },
  }
}

function inputIds(input: string | undefined): string[] {
  try {
    const parsed = JSON.parse(input ?? '{}') as { user_identity_ids?: unknown }
    return Array.isArray(parsed.user_identity_ids) ? parsed.user_identity_ids.map(String) : []
  } catch {
    return []
  }
}
