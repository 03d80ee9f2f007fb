/**
 * Deletions as the API shows them, derived from Step Functions executions: how an execution is named
 * for an identity (so a second DELETE finds the running one), and how an execution becomes a Deletion
 * object (the contract's Deletion). Pure; the routes feed it what DescribeExecution and the history
 * return.
 */
import type { Deletion, DeletionStatus } from '../contract/http.js'
import { type DeletionSummary, stageOfState, userIdentityIdSchema } from '../contract/workflow.js'
import { STAGES, USER_IDENTITY_STAGE } from './stages.js'

export type { Deletion, DeletionStatus } from '../contract/http.js'

/** What the routes read of an execution (the fields of DescribeExecution they use). */
export interface ExecutionView {
  name: string
  status: string
  startDate: Date
  stopDate?: Date | undefined
  input?: string | undefined
  output?: string | undefined
  error?: string | undefined
  cause?: string | undefined
}

/**
 * Seam's user_identity_id is a UUID (Seam answers invalid_input to anything else); anything that is not
 * one is refused here with a 400 before Seam is asked. A UUID also fits an execution name (at most 80 of
 * [A-Za-z0-9-_]) and cannot escape a path.
 */
export function isValidUserIdentityId(id: string): boolean {
  return userIdentityIdSchema.safeParse(id).success
}

/** Attempt n (1, 2, …) of deleting an identity runs as the execution named `<id>--<n>`. */
export function executionName(userIdentityId: string, attempt: number): string {
  return `${userIdentityId}--${attempt}`
}

/** Why no further attempt is started: every one of the MAX_ATTEMPTS failed. */
export function tooManyAttemptsMessage(userIdentityId: string): string {
  return `User identity ${userIdentityId} has failed to delete ${MAX_ATTEMPTS} times; an operator must look at the failed executions first.`
}

/** The deletion id is the execution name; undefined when it is not one of ours. */
export function parseDeletionId(
  deletionId: string,
): { userIdentityId: string; attempt: number } | undefined {
  const match = /^([0-9a-fA-F-]{36})--([1-9][0-9]{0,3})$/.exec(deletionId)
  if (!match?.[1] || !match[2] || !isValidUserIdentityId(match[1])) return undefined
  return { userIdentityId: match[1], attempt: Number(match[2]) }
}

/** Attempts per identity before DELETE refuses to start another (each failed attempt needs a look). */
export const MAX_ATTEMPTS = 50

export function executionArnFor(stateMachineArn: string, name: string): string {
  // arn:aws:states:<region>:<account>:stateMachine:<name> → …:execution:<name>:<execution name>
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`
}

/**
 * The Deletion object for an execution; `lastStateName` is the last state of the workflow it entered
 * (history); before any, the deletion is in its first stage.
 */
export function toDeletion(execution: ExecutionView, lastStateName: string | undefined): Deletion {
  const parsed = parseDeletionId(execution.name)
  // PENDING_REDRIVE: an operator redrove the execution and it is about to run again.
  const status = (
    execution.status === 'PENDING_REDRIVE' ? 'RUNNING' : execution.status
  ) as DeletionStatus
  const deletion: Deletion = {
    deletion_id: execution.name,
    user_identity_id: parsed?.userIdentityId ?? inputUserIdentityId(execution.input) ?? '',
    status,
    stage:
      status === 'SUCCEEDED'
        ? USER_IDENTITY_STAGE
        : ((lastStateName === undefined ? undefined : stageOfState(lastStateName)) ??
          STAGES[0]?.name ??
          USER_IDENTITY_STAGE),
    started_at: execution.startDate.toISOString(),
  }
  if (execution.stopDate) deletion.stopped_at = execution.stopDate.toISOString()
  if (status === 'SUCCEEDED') {
    const output = parseJson(execution.output) as { summary?: DeletionSummary } | undefined
    if (output?.summary) deletion.summary = { ...output.summary }
  }
  if (status === 'FAILED' || status === 'TIMED_OUT' || status === 'ABORTED') {
    deletion.error = describeFailure(status, execution.error, execution.cause, deletion.stage)
  }
  return deletion
}

function describeFailure(
  status: 'FAILED' | 'TIMED_OUT' | 'ABORTED',
  error: string | undefined,
  cause: string | undefined,
  stage: string,
): { type: string; message: string } {
  if (status === 'TIMED_OUT') {
    return {
      type: 'deletion_timed_out',
      message: `The deletion ran past its time limit during stage ${stage}. DELETE the user identity again to resume.`,
    }
  }
  if (status === 'ABORTED') {
    return {
      type: 'deletion_aborted',
      message: `The deletion was stopped by an operator during stage ${stage}. DELETE the user identity again to resume.`,
    }
  }
  const clean = cause ? withoutLambdaErrorJson(cause) : ''
  return {
    type: error === 'StageStuck' ? 'deletion_stuck' : 'deletion_failed',
    message:
      clean || `The deletion failed during stage ${stage} with ${error ?? 'an unknown error'}.`,
  }
}

/**
 * A failed Lambda task's Cause is the runtime's JSON, `{"errorType","errorMessage","trace":[…]}`, and
 * the state machine's Fail Cause quotes it whole. The API gives callers the message, never the trace:
 * each such JSON object in the text is replaced by its errorMessage (its errorType when it has none).
 * One pass over the text: a Cause is up to 32 KB, and its text is not ours to trust.
 */
export function withoutLambdaErrorJson(text: string): string {
  const start = /\{\s*"error(Type|Message)"/g
  let out = ''
  let from = 0
  for (let match = start.exec(text); match; match = start.exec(text)) {
    if (match.index < from) continue
    const end = closingBrace(text, match.index)
    if (end < 0) {
      // Cut short (or not JSON after all): keep what it says, drop everything from it on.
      return out + text.slice(from, match.index) + errorWords(text.slice(match.index))
    }
    const parsed = parseJson(text.slice(match.index, end + 1))
    out += text.slice(from, match.index)
    out +=
      parsed && typeof parsed === 'object' ? errorWords(parsed) : text.slice(match.index, end + 1)
    from = end + 1
    start.lastIndex = from
  }
  return out + text.slice(from)
}

/** The index of the `}` closing the object that opens at `open`, skipping strings; -1 if none. */
function closingBrace(text: string, open: number): number {
  let depth = 0
  let inString = false
  for (let i = open; i < text.length; i++) {
    const c = text[i]
    if (inString) {
      if (c === '\\') i++
      else if (c === '"') inString = false
    } else if (c === '"') inString = true
    else if (c === '{') depth++
    else if (c === '}' && --depth === 0) return i
  }
  return -1
}

/** errorMessage, else errorType, of a parsed error object or of a cut-short one's text. */
function errorWords(error: object | string): string {
  const field = (name: string): string | undefined => {
    if (typeof error === 'object') {
      const value = (error as Record<string, unknown>)[name]
      return typeof value === 'string' ? value : undefined
    }
    const found = new RegExp(`"${name}"\\s*:\\s*("(?:[^"\\\\]|\\\\.)*")`).exec(error)?.[1]
    const decoded = found === undefined ? undefined : parseJson(found)
    return typeof decoded === 'string' ? decoded : undefined
  }
  return (field('errorMessage') || field('errorType') || '').replace(/\.$/, '')
}

function inputUserIdentityId(input: string | undefined): string | undefined {
  const parsed = parseJson(input) as { user_identity_id?: unknown } | undefined
  return typeof parsed?.user_identity_id === 'string' ? parsed.user_identity_id : undefined
}

function parseJson(text: string | undefined): unknown {
  if (!text) return undefined
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}
