// What the `arn:aws:states:::lambda:invoke` integration (and a bare Lambda ARN as Resource) does
// around a handler: the Lambda-like context it receives, the JSON round trip of event and result,
// the `{ ExecutedVersion, Payload, SdkHttpMetadata, SdkResponseMetadata, StatusCode }` envelope,
// and how a thrown error becomes the task's Error / Cause.

import { randomBytes, randomUUID } from 'node:crypto'
import type { Context } from 'aws-lambda'

/** The context a Lambda handler receives (aws-lambda's Context), so real handlers run unchanged. */
export type LambdaLikeContext = Context

/**
 * A Lambda handler bound to a task. Declared as a method so handlers typed with a narrower event
 * (e.g. a middy handler of `StageEvent`) can be bound without a cast.
 */
export type TaskHandler = {
  handler(event: unknown, context: LambdaLikeContext): Promise<unknown> | unknown
}['handler']

/** The body Lambda returns for an unhandled error, in the key order Step Functions shows as Cause. */
export interface LambdaErrorPayload {
  errorMessage: string
  errorType: string
  /** Absent when the runtime, not the handler, ended the invocation (e.g. Sandbox.Timedout). */
  trace?: string[]
}

/** Longest a local handler may take when no function timeout is configured (Lambda's maximum). */
export const MAX_LAMBDA_TIMEOUT_SECONDS = 900

/** A parsed function reference: a name, partial ARN or full ARN, with an optional qualifier. */
export interface FunctionRef {
  functionName: string
  qualifier?: string
  arn?: string
}

const FUNCTION_ARN =
  /^arn:(aws[a-z-]*):lambda:([a-z0-9-]+):(\d{12}):function:([A-Za-z0-9_-]{1,140})(?::([A-Za-z0-9_$-]+))?$/
const PARTIAL_ARN = /^(\d{12}):function:([A-Za-z0-9_-]{1,140})(?::([A-Za-z0-9_$-]+))?$/
const NAME = /^([A-Za-z0-9_-]{1,140})(?::([A-Za-z0-9_$-]+))?$/

/** Parses a FunctionName the way Lambda's Invoke accepts it; undefined when it is none of them. */
export function parseFunctionRef(value: string): FunctionRef | undefined {
  const full = FUNCTION_ARN.exec(value)
  if (full) {
    const [, partition, region, account, name, qualifier] = full
    return {
      functionName: name as string,
      arn: `arn:${partition}:lambda:${region}:${account}:function:${name}`,
      ...(qualifier ? { qualifier } : {}),
    }
  }
  const partial = PARTIAL_ARN.exec(value) ?? NAME.exec(value)
  if (!partial) return undefined
  const [name, qualifier] = partial.length === 4 ? partial.slice(2) : partial.slice(1)
  return { functionName: name as string, ...(qualifier ? { qualifier } : {}) }
}

export function isLambdaFunctionArn(value: string): boolean {
  return FUNCTION_ARN.test(value)
}

/** What Lambda's Node.js runtime reports for a thrown value. */
export function lambdaErrorPayload(thrown: unknown): LambdaErrorPayload {
  if (thrown instanceof Error) {
    return {
      errorMessage: thrown.message,
      errorType: thrown.name || 'Error',
      trace: (thrown.stack ?? `${thrown.name}: ${thrown.message}`).split('\n'),
    }
  }
  return { errorMessage: String(thrown), errorType: typeof thrown, trace: [] }
}

/**
 * The error a failed invocation raises inside the interpreter: its `name` is the task's Error (what
 * Retry/Catch `ErrorEquals` match) and its `message` the Cause (what a Catch puts in `Cause`).
 */
export class TaskFailure extends Error {
  /** Read by aws-local-stepfunctions: whether Retry / Catch may match this error. */
  readonly isRetryable: boolean
  readonly isCatchable: boolean
  constructor(error: string, cause: string, { retryable = true, catchable = true } = {}) {
    super(cause)
    this.name = error
    this.isRetryable = retryable
    this.isCatchable = catchable
  }
}

export interface InvocationOptions {
  functionName: string
  invokedFunctionArn: string
  functionVersion: string
  /** The function's timeout; the handler fails with Sandbox.Timedout past it. */
  timeoutMs?: number
  memorySize?: number
  signal?: AbortSignal
}

export type InvocationResult =
  | { ok: true; requestId: string; payload: unknown }
  | { ok: false; requestId: string; error: LambdaErrorPayload }

/**
 * Invokes `handler` as Lambda would for a RequestResponse invocation: a JSON copy of the event, a
 * Lambda-like context, the result serialized to JSON (undefined → null), a thrown error reported as
 * `{ errorMessage, errorType, trace }`, and `Sandbox.Timedout` past the function's timeout.
 */
export async function invokeHandler(
  handler: TaskHandler,
  event: unknown,
  options: InvocationOptions,
): Promise<InvocationResult> {
  const requestId = randomUUID()
  const timeoutMs = options.timeoutMs ?? MAX_LAMBDA_TIMEOUT_SECONDS * 1000
  const deadline = Date.now() + timeoutMs
  const context = lambdaContext(requestId, deadline, options)
  const copy: unknown = event === undefined ? {} : JSON.parse(JSON.stringify(event))

  let timer: NodeJS.Timeout | undefined
  const timedOut = new Promise<'timeout'>((resolve) => {
    if (options.timeoutMs !== undefined) timer = setTimeout(() => resolve('timeout'), timeoutMs)
  })
  try {
    const outcome = await Promise.race([
      Promise.resolve()
        .then(() => handler(copy, context))
        .then((value) => ({ value })),
      timedOut,
    ])
    if (outcome === 'timeout') {
      const seconds = (timeoutMs / 1000).toFixed(2)
      return {
        ok: false,
        requestId,
        error: {
          errorMessage: `RequestId: ${requestId} Error: Task timed out after ${seconds} seconds`,
          errorType: 'Sandbox.Timedout',
        },
      }
    }
    const serialized = JSON.stringify(outcome.value)
    return {
      ok: true,
      requestId,
      payload: serialized === undefined ? null : JSON.parse(serialized),
    }
  } catch (thrown) {
    return { ok: false, requestId, error: lambdaErrorPayload(thrown) }
  } finally {
    clearTimeout(timer)
  }
}

function lambdaContext(
  requestId: string,
  deadline: number,
  options: InvocationOptions,
): LambdaLikeContext {
  const day = new Date().toISOString().slice(0, 10).replaceAll('-', '/')
  const legacy = (what: string) => () => {
    throw new Error(`context.${what}() is not supported locally; return or throw from the handler`)
  }
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: options.functionName,
    functionVersion: options.functionVersion,
    invokedFunctionArn: options.invokedFunctionArn,
    memoryLimitInMB: String(options.memorySize ?? 128),
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${options.functionName}`,
    logStreamName: `${day}/[${options.functionVersion}]${randomBytes(16).toString('hex')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: legacy('done'),
    fail: legacy('fail'),
    succeed: legacy('succeed'),
  }
}

/** The result object of `lambda:invoke` as Step Functions hands it to ResultSelector / ResultPath. */
export function lambdaInvokeResult(
  payload: unknown,
  requestId: string,
  executedVersion: string,
): Record<string, unknown> {
  const body = JSON.stringify(payload)
  const date = new Date().toUTCString()
  const traceId = `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomBytes(12).toString('hex')};Sampled=0;Lineage=1:${randomBytes(4).toString('hex')}:0`
  const headers: Record<string, string> = {
    Connection: 'keep-alive',
    'Content-Length': String(Buffer.byteLength(body)),
    'Content-Type': 'application/json',
    Date: date,
    'X-Amz-Executed-Version': executedVersion,
    'x-amzn-Remapped-Content-Length': '0',
    'x-amzn-RequestId': requestId,
    'X-Amzn-Trace-Id': traceId,
  }
  return {
    ExecutedVersion: executedVersion,
    Payload: payload,
    SdkHttpMetadata: {
      AllHttpHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
      HttpHeaders: headers,
      HttpStatusCode: 200,
    },
    SdkResponseMetadata: { RequestId: requestId },
    StatusCode: 200,
  }
}

/** Invocations in flight per function, across every runner of the process (Lambda counts per function). */
const inFlight = new Map<string, number>()

/**
 * Lambda's reserved concurrency: past `reserved` invocations of the function in flight, the invocation is
 * refused as Lambda refuses it, with Lambda.TooManyRequestsException (what a Task's Retry then matches).
 */
export async function invokeReserved(
  functionArn: string,
  reserved: number | undefined,
  invoke: () => Promise<InvocationResult>,
): Promise<InvocationResult> {
  if (reserved === undefined) return invoke()
  const now = inFlight.get(functionArn) ?? 0
  if (now >= reserved) {
    return {
      ok: false,
      requestId: randomUUID(),
      error: {
        errorType: 'Lambda.TooManyRequestsException',
        errorMessage: `Rate Exceeded. (reserved concurrency ${reserved} of ${functionArn} in use)`,
      },
    }
  }
  inFlight.set(functionArn, now + 1)
  try {
    return await invoke()
  } finally {
    inFlight.set(functionArn, (inFlight.get(functionArn) ?? 1) - 1)
  }
}

/** Invocations of the function in flight now (tests and the bench). */
export function invocationsInFlight(functionArn: string): number {
  return inFlight.get(functionArn) ?? 0
}
