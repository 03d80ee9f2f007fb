// The `arn:aws:states:::states:startExecution.sync:2` integration, emulated: the task starts an execution
// of another local state machine (a LocalStepFunctions of this process, so the child is a real execution
// that DescribeExecution and GetExecutionHistory show), waits for its end, and returns what AWS returns:
// DescribeExecution with Input and Output as JSON (the `:2` form). A child that does not succeed fails the
// task with States.TaskFailed and the DescribeExecution JSON as Cause; StartExecution's own errors keep
// their AWS names (StepFunctions.ExecutionAlreadyExistsException, …) for Retry / Catch. The same name and
// input as a RUNNING execution joins it, as StartExecution does. Stopping the parent stops the child.

import type {
  DescribeExecutionOutput,
  StartExecutionInput,
  StartExecutionOutput,
  StopExecutionInput,
} from '@aws-sdk/client-sfn'
import { isObject } from './asl.js'
import { TaskFailure } from './lambda.js'

export const START_EXECUTION_SYNC_2 = 'arn:aws:states:::states:startExecution.sync:2'

/** A task the runner runs in place of a service integration: gets the effective Parameters. */
export type LocalIntegration = (
  parameters: unknown,
  context: { executionArn: string; signal: AbortSignal },
) => Promise<unknown>

export interface LocalStateMachine {
  readonly stateMachineArn: string
  startExecution(input: StartExecutionInput): Promise<StartExecutionOutput>
  waitForExecution(executionArn: string): Promise<DescribeExecutionOutput>
  stopExecution(input: StopExecutionInput): Promise<unknown>
}

/** startExecution.sync:2 on these state machines (by ARN). */
export function startExecutionSync(targets: readonly LocalStateMachine[]): LocalIntegration {
  return async (parameters, { signal }) => {
    const params = isObject(parameters) ? parameters : {}
    const target = targets.find((t) => t.stateMachineArn === params.StateMachineArn)
    if (!target) {
      throw new TaskFailure(
        'StepFunctions.StateMachineDoesNotExistException',
        `State Machine Does Not Exist: '${String(params.StateMachineArn)}'`,
      )
    }
    const input =
      typeof params.Input === 'string' ? params.Input : JSON.stringify(params.Input ?? {})
    let started: StartExecutionOutput
    try {
      started = await target.startExecution({
        stateMachineArn: target.stateMachineArn,
        input,
        ...(typeof params.Name === 'string' ? { name: params.Name } : {}),
      })
    } catch (error) {
      const name = (error as Error).name.replace(/Exception$/, '')
      throw new TaskFailure(`StepFunctions.${name}Exception`, (error as Error).message)
    }
    const executionArn = started.executionArn as string
    const stop = () => void target.stopExecution({ executionArn }).catch(() => {})
    signal.addEventListener('abort', stop, { once: true })
    const ended = await target.waitForExecution(executionArn).finally(() => {
      signal.removeEventListener('abort', stop)
    })
    const described = {
      ExecutionArn: ended.executionArn,
      Input: parse(ended.input),
      InputDetails: { Included: true },
      Name: ended.name,
      ...(ended.output === undefined ? {} : { Output: parse(ended.output) }),
      ...(ended.output === undefined ? {} : { OutputDetails: { Included: true } }),
      RedriveCount: 0,
      StartDate: ended.startDate?.getTime(),
      StateMachineArn: ended.stateMachineArn,
      Status: ended.status,
      ...(ended.stopDate ? { StopDate: ended.stopDate.getTime() } : {}),
      ...(ended.error === undefined ? {} : { Error: ended.error }),
      ...(ended.cause === undefined ? {} : { Cause: ended.cause }),
    }
    if (ended.status !== 'SUCCEEDED') {
      throw new TaskFailure('States.TaskFailed', JSON.stringify(described))
    }
    return described
  }
}

function parse(text: string | undefined): unknown {
  try {
    return JSON.parse(text ?? 'null')
  } catch {
    return text
  }
}
