/**
 * What the deletion routes do: start (or find) the deletion of a user identity, and report one.
 * A deletion is a Step Functions execution named `<user_identity_id>--<attempt>`: the execution name makes
 * a second DELETE find the running deletion instead of starting another, and a new attempt after a
 * failed one gets the next number.
 */
import { ExecutionDoesNotExist } from '@aws-sdk/client-sfn'
import {
  type Deletion,
  executionArnFor,
  executionName,
  isValidUserIdentityId,
  MAX_ATTEMPTS,
  parseDeletionId,
  toDeletion,
} from '../core/deletions.js'
import { isNotFound, type SeamClient } from '../seam/index.js'
import type { DeletionBackend } from './deletion-executions.js'
import { ApiError } from './http.js'

export async function startDeletion(
  seam: SeamClient,
  backend: DeletionBackend,
  userIdentityId: string,
): Promise<Deletion> {
  if (!isValidUserIdentityId(userIdentityId)) {
    throw new ApiError(
      400,
      'invalid_input',
      'user_identity_id must be a Seam id: 1 to 64 letters, digits, "-" or "_".',
    )
  }
  try {
    await seam.userIdentities.get({ user_identity_id: userIdentityId })
  } catch (error) {
    if (isNotFound(error)) {
      throw new ApiError(
        404,
        'user_identity_not_found',
        `Seam has no user identity ${userIdentityId}.`,
      )
    }
    throw error
  }
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const name = executionName(userIdentityId, attempt)
    const existing = await describe(backend, name)
    if (!existing) {
      const started = await start(backend, name, userIdentityId)
      if (started) return started
      // Another DELETE started this very execution a moment ago: report it.
      const raced = await describe(backend, name)
      if (raced) return raced
      continue
    }
    // A running deletion is this deletion; a finished one is final unless it failed.
    if (existing.status === 'RUNNING' || existing.status === 'SUCCEEDED') return existing
  }
  throw new ApiError(
    409,
    'too_many_deletion_attempts',
    `User identity ${userIdentityId} has failed to delete ${MAX_ATTEMPTS} times; an operator must look at the failed executions first.`,
  )
}

export async function getDeletion(backend: DeletionBackend, deletionId: string): Promise<Deletion> {
  if (!parseDeletionId(deletionId)) {
    throw new ApiError(
      404,
      'deletion_not_found',
      `There is no deletion ${deletionId.slice(0, 100)}.`,
    )
  }
  const deletion = await describe(backend, deletionId)
  if (!deletion)
    throw new ApiError(404, 'deletion_not_found', `There is no deletion ${deletionId}.`)
  return deletion
}

async function describe(backend: DeletionBackend, name: string): Promise<Deletion | undefined> {
  const executionArn = executionArnFor(backend.stateMachineArn, name)
  let execution: Awaited<ReturnType<DeletionBackend['executions']['describeExecution']>>
  try {
    execution = await backend.executions.describeExecution({ executionArn })
  } catch (error) {
    if (isExecutionMissing(error)) return undefined
    throw error
  }
  // The newest state entered tells the stage; one short history page suffices.
  const history = await backend.executions.getExecutionHistory({
    executionArn,
    reverseOrder: true,
    maxResults: 25,
    includeExecutionData: false,
  })
  const entered = history.events?.find((e) => e.stateEnteredEventDetails?.name)
  return toDeletion(
    {
      name: execution.name ?? name,
      status: execution.status ?? 'RUNNING',
      startDate: execution.startDate ?? new Date(),
      stopDate: execution.stopDate,
      input: execution.input,
      output: execution.output,
      error: execution.error,
      cause: execution.cause,
    },
    entered?.stateEnteredEventDetails?.name,
  )
}

async function start(
  backend: DeletionBackend,
  name: string,
  userIdentityId: string,
): Promise<Deletion | undefined> {
  try {
    const started = await backend.executions.startExecution({
      stateMachineArn: backend.stateMachineArn,
      name,
      // The same input for every attempt: StartExecution is idempotent for the same name and input.
      input: JSON.stringify({ user_identity_id: userIdentityId }),
    })
    return toDeletion(
      { name, status: 'RUNNING', startDate: started.startDate ?? new Date() },
      undefined,
    )
  } catch (error) {
    if ((error as { name?: string }).name === 'ExecutionAlreadyExists') return undefined
    throw error
  }
}

function isExecutionMissing(error: unknown): boolean {
  return (
    error instanceof ExecutionDoesNotExist ||
    (error as { name?: string }).name === 'ExecutionDoesNotExist'
  )
}
