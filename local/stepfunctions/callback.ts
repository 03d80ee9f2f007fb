// The callback pattern (`arn:aws:states:::lambda:invoke.waitForTaskToken`) for the local runner:
// task tokens issued as a callback state is entered (`$$.Task.Token`), and SendTaskSuccess /
// SendTaskFailure / SendTaskHeartbeat answered as Step Functions answers them — InvalidToken for a
// token it never issued, TaskTimedOut for one whose task is no longer waiting (it succeeded,
// failed, timed out, or its execution ended), InvalidOutput for an output that is not JSON.

import { randomBytes, randomUUID } from 'node:crypto'
import {
  InvalidOutput,
  InvalidToken,
  type SendTaskFailureInput,
  type SendTaskHeartbeatInput,
  type SendTaskSuccessInput,
  type StartExecutionCommandOutput,
  TaskTimedOut,
} from '@aws-sdk/client-sfn'
import type { HistoryDraft } from './history.js'

export const CALLBACK_RESOURCE = /^arn:aws[a-z-]*:states:::lambda:invoke\.waitForTaskToken$/

/** Step Functions' payload limit, which SendTaskSuccess's output is held to as well. */
const MAX_OUTPUT_BYTES = 256 * 1024

type ResponseMetadata = StartExecutionCommandOutput['$metadata']

export function ok(): ResponseMetadata {
  return { httpStatusCode: 200, requestId: randomUUID(), attempts: 1, totalRetryDelay: 0 }
}

export function clientError(message: string): { message: string; $metadata: ResponseMetadata } {
  return { message, $metadata: { ...ok(), httpStatusCode: 400 } }
}

/** How a callback task's wait ended. */
export type CallbackOutcome =
  | { kind: 'success'; output: string }
  | { kind: 'failure'; error: string; cause: string }
  | { kind: 'timeout'; error: 'States.Timeout' | 'States.HeartbeatTimeout' }
  | { kind: 'ended' }

export interface IssuedToken {
  readonly executionArn: string
  readonly stateName: string
  /** True until the task this token belongs to has an outcome. */
  open: boolean
  /** Resolves with the first outcome given (by a Send* call, a timer or the execution's end). */
  readonly outcome: Promise<CallbackOutcome>
  settle(outcome: CallbackOutcome): void
  /** Re-arms the heartbeat timer of the attempt waiting on this token (no-op before it waits). */
  heartbeat: () => void
}

export class TaskTokens {
  private readonly tokens = new Map<string, IssuedToken>()
  private readonly byExecution = new Map<string, Set<string>>()

  /** A fresh token for one attempt of a callback state (AWS tokens are opaque base64 too). */
  issue(executionArn: string, stateName: string): string {
    const token = randomBytes(96).toString('base64')
    let resolve: (outcome: CallbackOutcome) => void = () => {}
    const issued: IssuedToken = {
      executionArn,
      stateName,
      open: true,
      outcome: new Promise<CallbackOutcome>((r) => {
        resolve = r
      }),
      settle: (outcome) => {
        if (!issued.open) return
        issued.open = false
        resolve(outcome)
      },
      heartbeat: () => {},
    }
    this.tokens.set(token, issued)
    const own = this.byExecution.get(executionArn) ?? new Set<string>()
    own.add(token)
    this.byExecution.set(executionArn, own)
    return token
  }

  get(token: string): IssuedToken | undefined {
    return this.tokens.get(token)
  }

  succeed(input: SendTaskSuccessInput): void {
    const issued = this.waiting(input.taskToken)
    const output = input.output ?? ''
    try {
      JSON.parse(output)
    } catch {
      throw new InvalidOutput(clientError(`Invalid Output: '${output.slice(0, 200)}'`))
    }
    if (Buffer.byteLength(output) > MAX_OUTPUT_BYTES) {
      throw new InvalidOutput(clientError(`The output exceeds the ${MAX_OUTPUT_BYTES}-byte limit`))
    }
    issued.settle({ kind: 'success', output })
  }

  fail(input: SendTaskFailureInput): void {
    this.waiting(input.taskToken).settle({
      kind: 'failure',
      error: input.error ?? '',
      cause: input.cause ?? '',
    })
  }

  heartbeat(input: SendTaskHeartbeatInput): void {
    this.waiting(input.taskToken).heartbeat()
  }

  /** The execution has ended: every token it was given is answered with TaskTimedOut from now. */
  closeExecution(executionArn: string): void {
    for (const token of this.byExecution.get(executionArn) ?? []) {
      this.tokens.get(token)?.settle({ kind: 'ended' })
    }
  }

  private waiting(token: string | undefined): IssuedToken {
    const issued = token === undefined ? undefined : this.tokens.get(token)
    if (!issued) throw new InvalidToken(clientError('Invalid Token: the task token is not valid'))
    if (!issued.open) {
      throw new TaskTimedOut(clientError('Task Timed Out: Provided task does not exist anymore'))
    }
    return issued
  }
}

/** A task event of a callback Lambda task, as AWS writes it (resource `invoke.waitForTaskToken`). */
export function callbackEvent(
  type: 'TaskScheduled' | 'TaskStarted' | 'TaskSubmitted' | 'TaskSucceeded' | 'TaskFailed',
  details: Record<string, unknown>,
): HistoryDraft {
  const key = `${type[0]?.toLowerCase()}${type.slice(1)}EventDetails`
  return {
    type,
    [key]: { resourceType: 'lambda', resource: 'invoke.waitForTaskToken', ...details },
  } as HistoryDraft
}

/** Whether a Parameters object hands `$$.Task.Token` to the task somewhere (AWS requires it). */
export function passesTaskToken(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(passesTaskToken)
  if (typeof value !== 'object' || value === null) return false
  return Object.entries(value).some(
    ([key, item]) =>
      (key.endsWith('.$') && item === '$$.Task.Token') || passesTaskToken(item as unknown),
  )
}
