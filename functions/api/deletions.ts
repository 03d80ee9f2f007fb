/**
 * What the deletion routes do: start (or find) the deletion of a user identity, and report one.
 * A deletion is a Step Functions execution named `<user_identity_id>--<attempt>`: the execution name makes
 * a second DELETE find the running deletion instead of starting another, and a new attempt after a
 * failed one gets the next number.
 */
import { ExecutionDoesNotExist } from '@aws-sdk/client-sfn'
import { ApiError } from '../contract/errors.js'
import { type ExecutionInput, stageOfState } from '../contract/workflow.js'
import {
  type Deletion,
  type ExecutionView,
  executionArnFor,
  executionName,
  isValidUserIdentityId,
  MAX_ATTEMPTS,
  parseDeletionId,
  toDeletion,
  tooManyAttemptsMessage,
} from '../core/deletions.js'
import { isNotFound, isSeamError, type SeamClient } from '../seam/index.js'
import type { DeletionBackend } from './deletion-executions.js'

export async function startDeletion(
  seam: SeamClient,
  backend: DeletionBackend,
  userIdentityId: string,
): Promise<Deletion> {
  await lookUpUserIdentity(seam, userIdentityId)
  for await (const { name, execution: existing } of deletionAttempts(backend, userIdentityId)) {
    if (!existing) {
      const started = await start(backend, name, userIdentityId)
      if (started) return started
      // Another DELETE started this very execution a moment ago: report it.
      const raced = await findExecution(backend, name)
      if (raced) return report(backend, raced)
      continue
    }
    // A running (or redriven) deletion is this deletion; a finished one is final unless it failed.
    if (['RUNNING', 'PENDING_REDRIVE', 'SUCCEEDED'].includes(existing.status)) {
      return report(backend, existing)
    }
  }
  throw new ApiError(409, 'too_many_deletion_attempts', tooManyAttemptsMessage(userIdentityId))
}

/**
 * 400 unless the id is a UUID, 404 unless Seam has the identity: what DELETE, the deletion plan and the
 * bulk deletion's items ask first.
 */
export async function lookUpUserIdentity(seam: SeamClient, userIdentityId: string): Promise<void> {
  if (!isValidUserIdentityId(userIdentityId)) {
    throw new ApiError(
      400,
      'invalid_input',
      'user_identity_id must be a Seam user identity id (a UUID).',
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
    if (isSeamError(error) && error.type === 'invalid_input') {
      throw new ApiError(400, 'invalid_input', 'Seam does not accept this user_identity_id.')
    }
    throw error
  }
}

export async function getDeletion(backend: DeletionBackend, deletionId: string): Promise<Deletion> {
  if (!parseDeletionId(deletionId)) {
    throw new ApiError(
      404,
      'deletion_not_found',
      `There is no deletion ${deletionId.slice(0, 100)}.`,
    )
  }
  const execution = await findExecution(backend, deletionId)
  if (!execution) {
    throw new ApiError(404, 'deletion_not_found', `There is no deletion ${deletionId}.`)
  }
  return report(backend, execution)
}

/**
 * An identity's deletion attempts in order (executionName 1, 2, … up to MAX_ATTEMPTS), each with its
 * execution, or undefined where none was started; the caller stops where it has its answer.
 */
export async function* deletionAttempts(
  backend: DeletionBackend,
  userIdentityId: string,
): AsyncGenerator<{ name: string; execution: ExecutionView | undefined }> {
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const name = executionName(userIdentityId, attempt)
    yield { name, execution: await findExecution(backend, name) }
  }
}

/** The execution of that name, or undefined when there is none. */
export async function findExecution(
  backend: DeletionBackend,
  name: string,
): Promise<ExecutionView | undefined> {
  const executionArn = executionArnFor(backend.stateMachineArn, name)
  let execution: Awaited<ReturnType<DeletionBackend['executions']['describeExecution']>>
  try {
    execution = await backend.executions.describeExecution({ executionArn })
  } catch (error) {
    if (isExecutionMissing(error)) return undefined
    throw error
  }
  return {
    name: execution.name ?? name,
    status: execution.status ?? 'RUNNING',
    startDate: execution.startDate ?? new Date(),
    stopDate: execution.stopDate,
    input: execution.input,
    output: execution.output,
    error: execution.error,
    cause: execution.cause,
  }
}

/** The Deletion object of an execution: its history tells the stage. */
async function report(backend: DeletionBackend, execution: ExecutionView): Promise<Deletion> {
  const executionArn = executionArnFor(backend.stateMachineArn, execution.name)
  return toDeletion(execution, await lastStateEntered(backend, executionArn))
}

/** Pages of history read, newest first, to find the last state entered (task retries add events). */
const HISTORY_PAGES = 10

/** The newest state the execution entered: it tells the deletion's stage. */
async function lastStateEntered(
  backend: DeletionBackend,
  executionArn: string,
): Promise<string | undefined> {
  let nextToken: string | undefined
  for (let page = 0; page < HISTORY_PAGES; page++) {
    const history = await backend.executions.getExecutionHistory({
      executionArn,
      reverseOrder: true,
      maxResults: 100,
      includeExecutionData: false,
      ...(nextToken ? { nextToken } : {}),
    })
    // The newest state of this workflow's stages (stageOfState): every state it emits has one.
    const entered = history.events?.find((e) => {
      const name = e.stateEnteredEventDetails?.name
      return name !== undefined && stageOfState(name) !== undefined
    })
    if (entered) return entered.stateEnteredEventDetails?.name
    nextToken = history.nextToken
    if (!nextToken) return undefined
  }
  return undefined
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
      input: deletionInput(userIdentityId),
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

/** The execution input of every attempt: a bulk deletion's child starts with the very same text. */
export function deletionInput(userIdentityId: string): string {
  return JSON.stringify({ user_identity_id: userIdentityId } satisfies ExecutionInput)
}

function isExecutionMissing(error: unknown): boolean {
  return (
    error instanceof ExecutionDoesNotExist ||
    (error as { name?: string }).name === 'ExecutionDoesNotExist'
  )
}
