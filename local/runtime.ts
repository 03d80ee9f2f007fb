/**
 * The whole service on one machine: the Seam emulator (or a real Seam workspace), the state machine
 * definition synthesized from the CDK stack and run by aws-local-stepfunctions with each Lambda task bound
 * to the handler module it deploys, and the HTTP API calling the same route handlers. `npm start` and the
 * end-to-end tests both start it through startLocalRuntime().
 */
import { App } from 'aws-cdk-lib'
import type { RouteDefinition } from '../functions/api/routes.js'
import type { HandlerDeps } from '../functions/contract/handler-deps.js'
import { buildOpenApiDocument } from '../functions/contract/openapi.js'
import { stageOfState } from '../functions/contract/workflow.js'
import type { PollPolicy } from '../functions/core/poll.js'
import {
  createSeamClient,
  resetSeamClientCache,
  type SeamClient,
  type SeamClientOptions,
  seamClientFromEnvironment,
} from '../functions/seam/index.js'
import type { FunctionCapacity } from '../infra/capacity.js'
import { UserIdentityLifecycleStack } from '../infra/stack.js'
import {
  bindFunctions,
  extractOf,
  LOCAL_ENV,
  localBulkBackend,
  startBulkWorkflow,
} from './bulk-runtime.js'
import {
  type SeamEmulator,
  type SeamEmulatorOptions,
  startSeamEmulator,
} from './seam-emulator/index.js'
import { type LocalServer, type LocalServerOptions, startLocalServer } from './server.js'
import { LocalStepFunctions } from './stepfunctions/runner.js'

export interface LocalRuntimeOptions {
  /** HTTP port on 127.0.0.1; 0 picks a free one. */
  readonly port?: number
  /** A real Seam workspace (or any Seam-compatible server); without it the emulator starts. */
  readonly seam?: { readonly apiKey: string; readonly endpoint?: string | undefined }
  readonly emulator?: SeamEmulatorOptions
  /** The Seam client's timeouts and retries (default: the deployed client's, DEFAULT_TIMEOUT_MS…). */
  readonly seamClient?: SeamClientOptions
  /** How deletion stages wait for Seam (synthesized into the definition, as a deploy would). */
  readonly pollPolicy?: Partial<PollPolicy>
  /** Multiplies every Wait and retry interval of the state machine (1 = real time). */
  readonly waitScale?: number
  /** One line per stage transition of each deletion, and per finished deletion. */
  readonly onProgress?: (line: string) => void
  readonly onRequest?: LocalServerOptions['onRequest']
  /** MaxConcurrency of a bulk deletion (BULK_DELETION_CONCURRENCY). Default 10. */
  readonly bulkDeletionConcurrency?: number
  /** Reserved concurrency of each Seam-calling workflow function, enforced locally too. */
  readonly seamConcurrency?: number
  /**
   * The Seam budget (SEAM_REQUESTS_PER_SECOND), divided as the stack divides it (infra/capacity.ts);
   * each simulated Lambda instance paces its Seam requests as a deployed one (local/instances.ts).
   */
  readonly seamRequestsPerSecond?: number
  /** With seamRequestsPerSecond: reserved concurrency of each Seam-calling API route (503 past it). */
  readonly seamApiConcurrency?: number
}

export interface LocalRuntime {
  readonly url: string
  /** Present when the runtime started the Seam emulator. */
  readonly emulator?: SeamEmulator
  readonly seamEndpoint: string
  readonly stepFunctions: LocalStepFunctions
  /** The bulk deletion workflow (its Map Runs: bulkDeletions.mapRuns). */
  readonly bulkDeletions: LocalStepFunctions
  close(): Promise<void>
}

export async function startLocalRuntime(options: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
  const emulator = options.seam ? undefined : await startSeamEmulator(options.emulator)
  const seam = options.seam ?? { apiKey: emulator?.apiKey ?? '', endpoint: emulator?.url }
  // The handlers' Seam client reads its credentials from the environment, exactly as in Lambda.
  process.env.SEAM_API_KEY = seam.apiKey
  if (seam.endpoint) process.env.SEAM_ENDPOINT = seam.endpoint
  else delete process.env.SEAM_ENDPOINT
  resetSeamClientCache()
  let client: SeamClient | undefined
  const seamClientOptions = options.seamClient
  // Every handler, API route and stage task alike, is bound to these (createHandler(deps)).
  const deps: HandlerDeps = {
    // The process's client, configured from that environment as in Lambda; or one with other timing.
    seam: seamClientOptions
      ? async () => {
          client ??= createSeamClient(seam, seamClientOptions)
          return client
        }
      : seamClientFromEnvironment,
    deletions: () => ({
      executions: stepFunctions,
      stateMachineArn: stepFunctions.stateMachineArn,
    }),
    bulk: () => localBulkBackend(bulkDeletions, stepFunctions),
    now: () => new Date(),
    // The stage tasks measure time in the state machine's seconds: how fast waits run here.
    timeScale: options.waitScale ?? 1,
  }
  const { stepFunctions, bulkDeletions, apiCapacity } = synthesizeAndBind(options, deps)
  let server: LocalServer
  try {
    server = await startLocalServer({
      deps,
      openapi: buildOpenApiDocument(),
      seamCapacity: apiCapacity,
      ...(options.port !== undefined ? { port: options.port } : {}),
      ...(options.onRequest ? { onRequest: options.onRequest } : {}),
    })
  } catch (error) {
    await bulkDeletions.close()
    await stepFunctions.close()
    await emulator?.close()
    throw error
  }
  return {
    url: server.url,
    ...(emulator ? { emulator } : {}),
    seamEndpoint: seam.endpoint ?? 'https://connect.getseam.com',
    stepFunctions,
    bulkDeletions,
    close: async () => {
      await server.close()
      await bulkDeletions.close()
      await stepFunctions.close()
      await emulator?.close()
    },
  }
}

/**
 * Synthesize the stack in-process (bundling skipped), take the state machine definition out of the
 * template, and bind every Lambda it invokes to the handler module of that Lambda's construct.
 */
function synthesizeAndBind(
  options: LocalRuntimeOptions,
  deps: HandlerDeps,
): {
  stepFunctions: LocalStepFunctions
  bulkDeletions: LocalStepFunctions
  apiCapacity: (route: RouteDefinition) => FunctionCapacity | undefined
} {
  const app = new App({
    context: { 'aws:cdk:bundling-stacks': [] },
    // CDK's CloudFormation rule check takes ~10 s and `cdk synth` runs it anyway.
    builtinCloudFormationValidation: false,
  })
  const stack = new UserIdentityLifecycleStack(app, 'SeamUserIdentities-local', {
    stageName: 'local',
    seamSecretName: 'seam/local/api-key',
    env: LOCAL_ENV,
    ...(options.pollPolicy ? { pollPolicy: options.pollPolicy } : {}),
    ...(options.bulkDeletionConcurrency === undefined
      ? {}
      : { bulkDeletionConcurrency: options.bulkDeletionConcurrency }),
    ...(options.seamConcurrency === undefined ? {} : { seamConcurrency: options.seamConcurrency }),
    ...(options.seamRequestsPerSecond === undefined
      ? {}
      : { seamRequestsPerSecond: options.seamRequestsPerSecond }),
    ...(options.seamApiConcurrency === undefined
      ? {}
      : { seamApiConcurrency: options.seamApiConcurrency }),
  })
  const template = app.synth().getStackByName(stack.stackName).template
  const extracted = extractOf(template, stack, stack.deletion.stateMachine)
  const stepFunctions = new LocalStepFunctions({
    definition: extracted.definition,
    stateMachineArn: extracted.stateMachineArn,
    ...bindFunctions(stack, stack.deletion.functions, extracted, deps),
    waitScale: options.waitScale ?? 1,
    ...(options.onProgress ? { onEvent: progressPrinter(options.onProgress) } : {}),
  })
  const bulkDeletions = startBulkWorkflow(
    template,
    stack,
    stepFunctions,
    deps,
    options.waitScale ?? 1,
  )
  const apiCapacity = (route: RouteDefinition) => stack.api.functions[route.id]?.seamCapacity
  return { stepFunctions, bulkDeletions, apiCapacity }
}

/** One line when a deletion enters a new stage, and one when it ends. */
function progressPrinter(print: (line: string) => void) {
  const stageOf = new Map<string, string>()
  return (
    executionArn: string,
    event: {
      type?: string
      stateEnteredEventDetails?: { name?: string }
      executionFailedEventDetails?: { error?: string; cause?: string }
    },
  ) => {
    const deletionId = executionArn.split(':').at(-1) ?? executionArn
    const stateName = event.stateEnteredEventDetails?.name
    if (stateName) {
      const stage = stageOfState(stateName)
      if (stage && stageOf.get(executionArn) !== stage) {
        stageOf.set(executionArn, stage)
        print(`deletion ${deletionId}: stage ${stage} (${stateName})`)
      }
      return
    }
    switch (event.type) {
      case 'ExecutionSucceeded':
        print(`deletion ${deletionId}: SUCCEEDED`)
        stageOf.delete(executionArn)
        break
      case 'ExecutionFailed':
        print(
          `deletion ${deletionId}: FAILED ${event.executionFailedEventDetails?.error ?? ''}: ${event.executionFailedEventDetails?.cause ?? ''}`,
        )
        stageOf.delete(executionArn)
        break
      case 'ExecutionTimedOut':
      case 'ExecutionAborted':
        print(
          `deletion ${deletionId}: ${event.type === 'ExecutionTimedOut' ? 'TIMED_OUT' : 'ABORTED'}`,
        )
        stageOf.delete(executionArn)
        break
    }
  }
}
