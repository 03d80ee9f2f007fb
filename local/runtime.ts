/**
 * The whole service on one machine: the Seam emulator (or a real Seam workspace), the state machine
 * definition synthesized from the CDK stack and run by aws-local-stepfunctions with each Lambda task bound
 * to the handler module it deploys, and the HTTP API calling the same route handlers. `npm start` and the
 * end-to-end tests both start it through startLocalRuntime().
 */
import { App } from 'aws-cdk-lib'
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda'
import { ROUTES, type RouteDefinition, WEBHOOK_ROUTE } from '../functions/api/routes.js'
import { createHandler as createWebhookHandler } from '../functions/api/seam-webhook.js'
import type { HandlerDeps } from '../functions/contract/handler-deps.js'
import { buildOpenApiDocument } from '../functions/contract/openapi.js'
import { stageOfState } from '../functions/contract/workflow.js'
import { Coordination, WEBHOOK_EVENT_TYPES } from '../functions/core/coordination.js'
import type { PollPolicy } from '../functions/core/poll.js'
import {
  type AwaitTaskDeps,
  createHandler as createAwaitHandler,
} from '../functions/deletion/await-task.js'
import {
  createSeamClient,
  resetSeamClientCache,
  type SeamClient,
  type SeamClientOptions,
  seamClientFromEnvironment,
} from '../functions/seam/index.js'
import {
  createSeamWebhook,
  deleteSeamWebhook,
  webhookRegistrationClient,
} from '../functions/seam/webhook-registration.js'
import type { FunctionCapacity } from '../infra/capacity.js'
import { UserIdentityLifecycleStack } from '../infra/stack.js'
import {
  bindFunctions,
  extractOf,
  LOCAL_ENV,
  localBulkBackend,
  startBulkWorkflow,
} from './bulk-runtime.js'
import { startLocalDynamoDb } from './dynamodb.js'
import {
  type SeamEmulator,
  type SeamEmulatorOptions,
  startSeamEmulator,
} from './seam-emulator/index.js'
import { type Handler, type LocalServerOptions, startLocalServer } from './server.js'
import { fakeLambdaArn } from './stepfunctions/definition.js'
import { LocalStepFunctions, type TaskHandler } from './stepfunctions/runner.js'

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
  /**
   * Seam's webhooks resume waiting stages: on by default with the embedded emulator, and with `seam`
   * when `webhookUrl` is given; false: polling only (the state machine of `-c seamWebhooks=false`).
   */
  readonly webhooks?: boolean
  /** With `seam`: the URL at which that endpoint reaches POST /webhooks/seam (SEAM_WEBHOOK_URL). */
  readonly webhookUrl?: string
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

/** The webhook registered at start (deleted at close). */
export interface LocalWebhook {
  readonly url: string
  readonly webhookId: string
}

export interface LocalRuntime {
  readonly url: string
  /** Present when the runtime started the Seam emulator. */
  readonly emulator?: SeamEmulator
  readonly seamEndpoint: string
  readonly stepFunctions: LocalStepFunctions
  /** The bulk deletion workflow (its Map Runs: bulkDeletions.mapRuns). */
  readonly bulkDeletions: LocalStepFunctions
  /** The webhook registered with the Seam endpoint, when webhooks are on. */
  readonly webhook?: LocalWebhook
  /** Every route the server answers (the webhook's included when on). */
  readonly routes: readonly RouteDefinition[]
  close(): Promise<void>
}

export async function startLocalRuntime(options: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
  const webhooksOn = options.webhooks ?? (!options.seam || options.webhookUrl !== undefined)
  if (webhooksOn && options.seam && !options.webhookUrl) {
    throw new Error(
      'Webhooks against an external Seam endpoint need the URL at which it reaches this server: set SEAM_WEBHOOK_URL.',
    )
  }
  const emulator = options.seam ? undefined : await startSeamEmulator(options.emulator)
  const seam = options.seam ?? { apiKey: emulator?.apiKey ?? '', endpoint: emulator?.url }
  // The handlers' Seam client reads its credentials from the environment, exactly as in Lambda.
  process.env.SEAM_API_KEY = seam.apiKey
  if (seam.endpoint) process.env.SEAM_ENDPOINT = seam.endpoint
  else delete process.env.SEAM_ENDPOINT
  resetSeamClientCache()
  let client: SeamClient | undefined
  const seamClientOptions = options.seamClient
  // The runner, once built from the synthesized stack (the deps below are bound to it before).
  let runners: { stepFunctions: LocalStepFunctions; bulkDeletions: LocalStepFunctions } | undefined
  const started = () => {
    if (!runners) throw new Error('The local Step Functions runners are not started yet')
    return runners
  }
  const runner = () => started().stepFunctions
  // The coordination table (the create's leases, the stages' waiters) on dynalite, with the client
  // code deployed; set before any handler runs.
  let coordination: Coordination | undefined
  // Every handler, API route and stage task alike, is bound to these (createHandler(deps)).
  const deps: HandlerDeps = {
    // The process's client, configured from that environment as in Lambda; or one with other timing.
    seam: seamClientOptions
      ? async () => {
          client ??= createSeamClient(seam, seamClientOptions)
          return client
        }
      : seamClientFromEnvironment,
    deletions: () => ({ executions: runner(), stateMachineArn: runner().stateMachineArn }),
    bulk: () => localBulkBackend(started().bulkDeletions, runner()),
    coordination: () => {
      if (!coordination) throw new Error('The local coordination table is not started yet')
      return coordination
    },
    now: () => new Date(),
    // The stage tasks measure time in the state machine's seconds: how fast waits run here.
    timeScale: options.waitScale ?? 1,
  }
  const resources: { close(): Promise<void> }[] = []
  const closeAll = async () => {
    for (const resource of resources.splice(0).reverse()) await resource.close()
  }
  if (emulator) resources.push(emulator)
  try {
    const db = await startLocalDynamoDb()
    resources.push(db)
    coordination = new Coordination({ client: db.documentClient, tableName: db.tableName })
    // The await task and the webhook resume tasks on this runner, as the deployed ones on AWS.
    const sfn = {
      send: ((command: never) => runner().send(command)) as LocalStepFunctions['send'],
    }
    const { apiCapacity, ...started } = synthesizeAndBind(
      options,
      deps,
      webhooksOn ? { coordination, sfn } : undefined,
    )
    runners = started
    resources.push(runners.stepFunctions, runners.bulkDeletions)
    let secret: string | undefined
    const webhookHandler =
      webhooksOn &&
      (createWebhookHandler({
        coordination,
        sfn,
        secret: async () => {
          if (secret === undefined) throw new Error('The webhook is not registered yet')
          return secret
        },
      }) as Handler)
    const routes = webhookHandler ? [...ROUTES, WEBHOOK_ROUTE] : ROUTES
    const server = await startLocalServer({
      deps,
      routes,
      ...(webhookHandler ? { handlers: { [WEBHOOK_ROUTE.entry]: webhookHandler } } : {}),
      openapi: buildOpenApiDocument(),
      seamCapacity: apiCapacity,
      ...(options.port !== undefined ? { port: options.port } : {}),
      ...(options.onRequest ? { onRequest: options.onRequest } : {}),
    })
    resources.push(server)
    let webhook: LocalWebhook | undefined
    if (webhookHandler) {
      const url = options.webhookUrl ?? `${server.url}${WEBHOOK_ROUTE.path}`
      const registrar = webhookRegistrationClient(seam)
      const created = await createSeamWebhook(registrar, url, WEBHOOK_EVENT_TYPES)
      secret = created.secret
      webhook = { url, webhookId: created.webhookId }
      // The emulator's reset() (between tests) keeps it.
      emulator?.webhooks.pin(created.webhookId)
      resources.push({ close: () => deleteSeamWebhook(registrar, created.webhookId) })
    }
    return {
      url: server.url,
      ...(emulator ? { emulator } : {}),
      seamEndpoint: seam.endpoint ?? 'https://connect.getseam.com',
      ...runners,
      ...(webhook ? { webhook } : {}),
      routes,
      close: closeAll,
    }
  } catch (error) {
    await closeAll()
    throw error
  }
}

/**
 * Synthesize the stack in-process (bundling skipped), take the state machine definition out of the
 * template, and bind every Lambda it invokes to the handler module of that Lambda's construct.
 */
function synthesizeAndBind(
  options: LocalRuntimeOptions,
  deps: HandlerDeps,
  awaitDeps: AwaitTaskDeps | undefined,
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
    seamWebhooks: awaitDeps !== undefined,
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
  // The await task takes the table and the runner itself (AwaitTaskDeps), not HandlerDeps.
  const awaitFunction = stack.webhooks?.awaitFunction
  const awaitHandlers: Record<string, TaskHandler> = {}
  if (awaitFunction && awaitDeps) {
    const logicalId = stack.getLogicalId(awaitFunction.function.node.defaultChild as CfnFunction)
    const arn = fakeLambdaArn(logicalId, { region: LOCAL_ENV.region, accountId: LOCAL_ENV.account })
    awaitHandlers[arn] = createAwaitHandler(awaitDeps) as TaskHandler
  }
  const bound = bindFunctions(
    stack,
    [...stack.deletion.functions, ...(awaitFunction && awaitDeps ? [awaitFunction] : [])],
    extracted,
    deps,
  )
  const stepFunctions = new LocalStepFunctions({
    definition: extracted.definition,
    stateMachineArn: extracted.stateMachineArn,
    ...bound,
    taskHandlers: { ...bound.taskHandlers, ...awaitHandlers },
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
