/**
 * The bulk deletion workflow, locally: its state machine taken out of the same synthesized template, its
 * Lambda bound to the handler module it deploys, its distributed Map run inline by the local runner, and
 * its `startExecution.sync:2` children run by the deletion workflow's own LocalStepFunctions.
 */
import type { CfnFunction, Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda'
import type { CfnStateMachine } from 'aws-cdk-lib/aws-stepfunctions'
import type { BulkBackend } from '../functions/api/bulk-deletions.js'
import type { HandlerDeps } from '../functions/contract/handler-deps.js'
import type { FunctionCapacity } from '../infra/capacity.js'
import type { UserIdentityLifecycleStack } from '../infra/stack.js'
import { bindHandler } from './bind-handler.js'
import { asInstances } from './instances.js'
import {
  type ExtractedStateMachine,
  extractStateMachine,
  fakeLambdaArn,
} from './stepfunctions/definition.js'
import type { LambdaFunctionConfig, TaskHandler } from './stepfunctions/runner.js'
import { LocalStepFunctions, type LocalStepFunctionsOptions } from './stepfunctions/runner.js'
import { START_EXECUTION_SYNC_2, startExecutionSync } from './stepfunctions/start-execution.js'

export const LOCAL_ENV = { account: '123456789012', region: 'us-east-1' }

/** The state machine of that construct, every token resolved. */
export function extractOf(
  template: unknown,
  stack: UserIdentityLifecycleStack,
  stateMachine: { node: { defaultChild?: unknown } },
): ExtractedStateMachine {
  return extractStateMachine(template, {
    ...LOCAL_ENV,
    accountId: LOCAL_ENV.account,
    logicalId: stack.getLogicalId(stateMachine.node.defaultChild as CfnStateMachine),
  })
}

/** Each function a state machine invokes, bound to its handler module, with its template settings. */
export function bindFunctions(
  stack: UserIdentityLifecycleStack,
  functions: readonly {
    function: LambdaFunction
    entry: string
    seamCapacity?: FunctionCapacity | undefined
  }[],
  extracted: ExtractedStateMachine,
  deps: HandlerDeps,
): Pick<LocalStepFunctionsOptions, 'taskHandlers' | 'lambdaFunctions'> {
  const taskHandlers: Record<string, TaskHandler> = {}
  const lambdaFunctions: Record<string, LambdaFunctionConfig> = {}
  for (const fn of functions) {
    const logicalId = stack.getLogicalId(fn.function.node.defaultChild as CfnFunction)
    const arn = fakeLambdaArn(logicalId, { region: LOCAL_ENV.region, accountId: LOCAL_ENV.account })
    // Reserved concurrency is the runner's to enforce (invokeReserved); the pace is each instance's.
    taskHandlers[arn] = asInstances(bindHandler(fn.entry, deps), fn.seamCapacity)
    const info = extracted.lambdaFunctions[arn]
    lambdaFunctions[arn] = {
      ...(info?.timeoutSeconds === undefined ? {} : { timeoutSeconds: info.timeoutSeconds }),
      ...(info?.reservedConcurrency === undefined
        ? {}
        : { reservedConcurrency: info.reservedConcurrency }),
    }
  }
  const unbound = Object.keys(extracted.lambdaArns).filter((arn) => !taskHandlers[arn])
  if (unbound.length > 0) {
    throw new Error(
      `The state machine invokes Lambdas with no handler module: ${unbound.join(', ')}`,
    )
  }
  return { taskHandlers, lambdaFunctions }
}

/** The bulk workflow's runner; its children run on `deletions`. */
export function startBulkWorkflow(
  template: unknown,
  stack: UserIdentityLifecycleStack,
  deletions: LocalStepFunctions,
  deps: HandlerDeps,
  waitScale: number,
): LocalStepFunctions {
  const extracted = extractOf(template, stack, stack.bulk.stateMachine)
  return new LocalStepFunctions({
    definition: extracted.definition,
    stateMachineArn: extracted.stateMachineArn,
    ...bindFunctions(stack, stack.bulk.functions, extracted, deps),
    waitScale,
    integrations: { [START_EXECUTION_SYNC_2]: startExecutionSync([deletions]) },
  })
}

/** The bulk routes' backend on the local runners. */
export function localBulkBackend(
  bulk: LocalStepFunctions,
  deletions: LocalStepFunctions,
): BulkBackend {
  return {
    stateMachineArn: bulk.stateMachineArn,
    deletions: { executions: deletions, stateMachineArn: deletions.stateMachineArn },
    executions: {
      startExecution: (input) => bulk.startExecution(input),
      describeExecution: (input) => bulk.describeExecution(input),
      listMapRuns: (input) => bulk.mapRuns.listMapRuns(input),
      describeMapRun: (input) => bulk.mapRuns.describeMapRun(input),
    },
  }
}
