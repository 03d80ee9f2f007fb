// Runs a JSONPath state machine definition (the one CDK synthesizes) on this machine with
// aws-local-stepfunctions, each Lambda task bound to a local handler, behind a facade shaped like
// the part of @aws-sdk/client-sfn the route handlers use (StartExecution, DescribeExecution,
// GetExecutionHistory, StopExecution), as methods and through `send(command)`.
//
// What this layer adds to the interpreter, and why:
// - every Task is bound at construction; an unbound one is refused, never skipped;
// - lambda:invoke is emulated: the `{ ExecutedVersion, Payload, … StatusCode: 200 }` result, and a
//   thrown error as Error = its name, Cause = `{"errorMessage","errorType","trace"}` (as AWS Lambda);
// - the context object (`$$.Execution.Id`, `$$.State.Name`, …) is filled in per execution and state;
// - waits, retry intervals and the execution timeout are scaled by `waitScale`;
// - the execution's TimeoutSeconds (TIMED_OUT), StopExecution (ABORTED) and the history-size limit
//   (FAILED, States.Runtime) end an execution as AWS does, and the history is AWS-shaped.

import { randomUUID } from 'node:crypto'
import {
  DescribeExecutionCommand,
  type DescribeExecutionInput,
  type DescribeExecutionOutput,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  type ExecutionStatus,
  GetExecutionHistoryCommand,
  type GetExecutionHistoryInput,
  type GetExecutionHistoryOutput,
  type HistoryEvent,
  InvalidArn,
  InvalidExecutionInput,
  InvalidName,
  InvalidToken,
  SendTaskFailureCommand,
  type SendTaskFailureInput,
  type SendTaskFailureOutput,
  SendTaskHeartbeatCommand,
  type SendTaskHeartbeatInput,
  type SendTaskHeartbeatOutput,
  SendTaskSuccessCommand,
  type SendTaskSuccessInput,
  type SendTaskSuccessOutput,
  type SFNClient,
  StartExecutionCommand,
  type StartExecutionCommandOutput,
  type StartExecutionInput,
  type StartExecutionOutput,
  StateMachineDoesNotExist,
  StopExecutionCommand,
  type StopExecutionInput,
  type StopExecutionOutput,
} from '@aws-sdk/client-sfn'
import aslValidator from 'asl-validator'
import {
  ExecutionError,
  type RunOptions,
  StateMachine,
  type StateMachineDefinition,
} from 'aws-local-stepfunctions'
import {
  type AslDefinition,
  type AslState,
  asAslDefinition,
  assertRunnableJsonPath,
  forEachState,
  isObject,
  UnsupportedDefinitionError,
} from './asl.js'
import {
  CALLBACK_RESOURCE,
  type CallbackOutcome,
  callbackEvent,
  clientError,
  ok,
  passesTaskToken,
  TaskTokens,
} from './callback.js'
import {
  distributedMapTask,
  isDistributedMap,
  MapRuns,
  withoutDistributedMaps,
} from './distributed-map.js'
import { type HistoryDraft, HistoryRecorder, type LibraryEvent, type TaskKind } from './history.js'
import {
  type FunctionRef,
  invokeHandler,
  invokeReserved,
  isLambdaFunctionArn,
  lambdaInvokeResult,
  parseFunctionRef,
  TaskFailure,
  type TaskHandler,
} from './lambda.js'
import type { LocalIntegration } from './start-execution.js'

export type { LambdaLikeContext, TaskHandler } from './lambda.js'

/** A client the route handlers can be given: the real SFNClient or a LocalStepFunctions. */
export type SfnSendClient = Pick<SFNClient, 'send'>

export interface LambdaFunctionConfig {
  /** The function's timeout; past it the task fails with Sandbox.Timedout. Not scaled. */
  timeoutSeconds?: number
  memorySize?: number
  /** Reserved concurrency: invocations past it fail with Lambda.TooManyRequestsException. */
  reservedConcurrency?: number
}

export interface LocalStepFunctionsOptions {
  /** ASL JSON (object or string), e.g. `extractStateMachine(template).definition`. JSONPath only. */
  definition: AslDefinition | string
  /** `arn:aws:states:<region>:<account>:stateMachine:<name>`; executions are named under it. */
  stateMachineArn: string
  /** Handler for each Lambda the definition invokes, keyed by function ARN (or function name). */
  taskHandlers: Record<string, TaskHandler>
  /** Multiplies every Wait, Retry interval / MaxDelaySeconds and the execution TimeoutSeconds. */
  waitScale?: number
  /** Called for each history event as it is written. */
  onEvent?: (executionArn: string, event: HistoryEvent) => void
  /** Events after which an execution fails with States.Runtime, as AWS does at 25,000. */
  maxHistoryEvents?: number
  /** Per function ARN (same keys as taskHandlers): timeout and memory, as the template sets them. */
  lambdaFunctions?: Record<string, LambdaFunctionConfig>
  /** Service integrations run locally, by Task Resource (e.g. startExecution.sync:2, see start-execution.ts). */
  integrations?: Record<string, LocalIntegration>
}

/** Step Functions' payload limit for execution input, task results and outputs (256 KiB). */
const MAX_PAYLOAD_BYTES = 256 * 1024
/** The longest delay setTimeout honours (it fires at once past it). */
const MAX_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000)
const LOCAL_WAIT_RESOURCE = 'arn:aws:states:::local:wait'
/** Where a callback state's TimeoutSecondsPath value travels from Parameters to runTask. */
const TIMEOUT_FIELD = '__localTimeoutSeconds'
const STATE_MACHINE_ARN = /^arn:(aws[a-z-]*):states:([a-z0-9-]+):(\d{12}):stateMachine:([^:]+)$/
const EXECUTION_ARN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:[^:]+:[^:]+$/
// AWS: 1–80 characters; no whitespace, brackets, wildcards, special or control characters.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it rejects
const INVALID_NAME_CHAR = /[\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]/

interface HandlerTarget {
  key: string
  ref: FunctionRef
  handler: TaskHandler
  config: LambdaFunctionConfig
}

interface TaskBinding {
  kind: TaskKind
  state: AslState
  target: HandlerTarget
  /** The Resource (direct Lambda ARN) or the Parameters.FunctionName (lambda:invoke). */
  functionName: string
}

interface Terminal {
  status: Exclude<ExecutionStatus, 'RUNNING' | 'PENDING_REDRIVE'>
  error?: string
  cause?: string
  output?: string
}

interface Execution {
  arn: string
  name: string
  input: string
  startDate: Date
  stopDate?: Date
  status: ExecutionStatus
  outcome?: Terminal
  /** Set when something outside the interpreter ends the execution (stop, timeout, limit). */
  ending?: Terminal
  controller: AbortController
  abortRun: () => void
  history: HistoryRecorder
  tracker: StateTracker
  context: Record<string, unknown>
  timeout?: NodeJS.Timeout
  done: Promise<void>
}

/** What `$$.State` shows, kept current as states are entered (shared by reference with the run). */
class StateTracker {
  readonly contextState = { Name: '', EnteredTime: '', RetryCount: 0 }
  current: AslState | undefined
  /** Called on each entry, before the state's Parameters are evaluated (sets `$$.Task`). */
  onEnter: (name: string) => void = () => {}
  private readonly entries = new Map<string, number>()

  enter(name: string, state: AslState): void {
    this.onEnter(name)
    this.current = state
    this.contextState.Name = name
    this.contextState.EnteredTime = new Date().toISOString()
    this.contextState.RetryCount = 0
    this.entries.set(name, (this.entries.get(name) ?? 0) + 1)
  }

  entryOf(name: string): number {
    return this.entries.get(name) ?? 0
  }
}

export class LocalStepFunctions {
  readonly stateMachineArn: string
  readonly stateMachineName: string
  readonly definition: AslDefinition
  private readonly region: string
  private readonly account: string
  private readonly partition: string
  private readonly waitScale: number
  private readonly maxHistoryEvents: number
  private readonly onEvent: LocalStepFunctionsOptions['onEvent']
  private readonly bindings = new Map<string, TaskBinding>()
  private readonly waits = new Map<string, AslState>()
  private readonly stateTypes = new Map<string, string>()
  private readonly taskKinds = new Map<string, TaskKind>()
  private readonly executions = new Map<string, Execution>()
  /** Names of the `lambda:invoke.waitForTaskToken` states. */
  private readonly callbackStates = new Set<string>()
  private readonly tokens = new TaskTokens()
  private readonly running = new Set<Execution>()
  private closed = false
  private readonly options: LocalStepFunctionsOptions
  private readonly integrationStates = new Map<string, LocalIntegration>()
  /** The Map Runs of this state machine's distributed Maps (distributed-map.ts). */
  readonly mapRuns = new MapRuns()

  constructor(options: LocalStepFunctionsOptions) {
    const raw: unknown =
      typeof options.definition === 'string' ? parseJson(options.definition) : options.definition
    this.definition = asAslDefinition(structuredClone(raw))
    this.options = options
    assertRunnableJsonPath(withoutDistributedMaps(this.definition))
    // The validator writes QueryLanguage into each state it visits: give it a copy.
    const validation = aslValidator(structuredClone(this.definition), {
      checkPaths: true,
      checkArn: true,
    })
    if (!validation.isValid) {
      throw new UnsupportedDefinitionError(
        `The state machine definition is not valid ASL:\n  ${validation.errorsText('\n  ')}`,
      )
    }

    const arn = STATE_MACHINE_ARN.exec(options.stateMachineArn)
    if (!arn) {
      throw new TypeError(
        `stateMachineArn must look like arn:aws:states:<region>:<account>:stateMachine:<name>, got ${options.stateMachineArn}`,
      )
    }
    this.stateMachineArn = options.stateMachineArn
    ;[, this.partition = 'aws', this.region = '', this.account = '', this.stateMachineName = ''] =
      arn

    this.waitScale = options.waitScale ?? 1
    if (!(this.waitScale > 0) || !Number.isFinite(this.waitScale)) {
      throw new RangeError(
        `waitScale must be a positive number (1 = real time), got ${options.waitScale}`,
      )
    }
    this.maxHistoryEvents = options.maxHistoryEvents ?? 25_000
    if (!Number.isInteger(this.maxHistoryEvents) || this.maxHistoryEvents < 3) {
      throw new RangeError(
        `maxHistoryEvents must be an integer >= 3, got ${options.maxHistoryEvents}`,
      )
    }
    this.onEvent = options.onEvent
    this.bindTasks(options.taskHandlers, options.lambdaFunctions ?? {})
  }

  // ---------------------------------------------------------------- SFN API subset

  async startExecution(input: StartExecutionInput): Promise<StartExecutionOutput & Meta> {
    if (this.closed) throw new Error('LocalStepFunctions is closed')
    if (input.stateMachineArn !== this.stateMachineArn) {
      if (!STATE_MACHINE_ARN.test(input.stateMachineArn ?? '')) {
        throw new InvalidArn(clientError(`Invalid Arn: '${input.stateMachineArn}'`))
      }
      throw new StateMachineDoesNotExist(
        clientError(`State Machine Does Not Exist: '${input.stateMachineArn}'`),
      )
    }
    const name = input.name ?? randomUUID()
    if (name.length < 1 || name.length > 80 || INVALID_NAME_CHAR.test(name)) {
      throw new InvalidName(clientError(`Invalid Name: '${name}'`))
    }
    const text = input.input ?? '{}'
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      throw new InvalidExecutionInput(
        clientError(`Invalid State Machine Execution Input: '${text}'`),
      )
    }
    if (Buffer.byteLength(text) > MAX_PAYLOAD_BYTES) {
      throw new InvalidExecutionInput(
        clientError(`The execution input exceeds the ${MAX_PAYLOAD_BYTES}-byte limit`),
      )
    }
    const arn = `arn:${this.partition}:states:${this.region}:${this.account}:execution:${this.stateMachineName}:${name}`
    const existing = this.executions.get(arn)
    if (existing) {
      // Same name and input while RUNNING is the same request again; anything else is a conflict.
      if (existing.status === 'RUNNING' && !existing.ending && existing.input === text) {
        return { executionArn: arn, startDate: existing.startDate, $metadata: ok() }
      }
      throw new ExecutionAlreadyExists(clientError(`Execution Already Exists: '${arn}'`))
    }
    const execution = this.launch(arn, name, text, parsed)
    return { executionArn: arn, startDate: execution.startDate, $metadata: ok() }
  }

  async describeExecution(input: DescribeExecutionInput): Promise<DescribeExecutionOutput & Meta> {
    const e = this.find(input.executionArn)
    const closed = e.outcome
    return {
      executionArn: e.arn,
      stateMachineArn: this.stateMachineArn,
      name: e.name,
      status: e.status,
      startDate: e.startDate,
      ...(e.stopDate ? { stopDate: e.stopDate } : {}),
      input: e.input,
      inputDetails: { included: true },
      ...(closed?.output === undefined
        ? {}
        : { output: closed.output, outputDetails: { included: true } }),
      ...(closed?.error === undefined ? {} : { error: closed.error }),
      ...(closed?.cause === undefined ? {} : { cause: closed.cause }),
      redriveCount: 0,
      redriveStatus:
        e.status === 'RUNNING' || e.status === 'SUCCEEDED' ? 'NOT_REDRIVABLE' : 'REDRIVABLE',
      $metadata: ok(),
    }
  }

  async getExecutionHistory(
    input: GetExecutionHistoryInput,
  ): Promise<GetExecutionHistoryOutput & Meta> {
    const e = this.find(input.executionArn)
    const all = e.history.events
    // The token is the id of the next event to return, so pages stay put while events are added.
    const token = input.nextToken === undefined ? undefined : Number(input.nextToken)
    if (token !== undefined && (!Number.isInteger(token) || token < 1 || token > all.length)) {
      throw new InvalidToken(clientError(`Invalid Token: '${input.nextToken}'`))
    }
    const ordered = input.reverseOrder
      ? all.slice(0, token ?? all.length).reverse()
      : all.slice((token ?? 1) - 1)
    const size = Math.min(input.maxResults || 100, 1000)
    const page = ordered.slice(0, size).map((event) => structuredClone(event))
    if (input.includeExecutionData === false) page.forEach(stripExecutionData)
    const next = ordered[size]
    return {
      events: page,
      ...(next ? { nextToken: String(next.id) } : {}),
      $metadata: ok(),
    }
  }

  async stopExecution(input: StopExecutionInput): Promise<StopExecutionOutput & Meta> {
    const e = this.find(input.executionArn)
    if (e.status === 'RUNNING') {
      this.end(e, {
        status: 'ABORTED',
        ...(input.error === undefined ? {} : { error: input.error }),
        ...(input.cause === undefined ? {} : { cause: input.cause }),
      })
      await e.done
    }
    return { stopDate: e.stopDate ?? new Date(), $metadata: ok() }
  }

  /** Ends the waiting callback task of `taskToken` with `output` as its result. */
  async sendTaskSuccess(input: SendTaskSuccessInput): Promise<SendTaskSuccessOutput & Meta> {
    this.tokens.succeed(input)
    return { $metadata: ok() }
  }

  /** Fails the waiting callback task of `taskToken` with `error` / `cause` (Retry / Catch apply). */
  async sendTaskFailure(input: SendTaskFailureInput): Promise<SendTaskFailureOutput & Meta> {
    this.tokens.fail(input)
    return { $metadata: ok() }
  }

  /** Restarts the HeartbeatSeconds clock of the waiting callback task of `taskToken`. */
  async sendTaskHeartbeat(input: SendTaskHeartbeatInput): Promise<SendTaskHeartbeatOutput & Meta> {
    this.tokens.heartbeat(input)
    return { $metadata: ok() }
  }

  /**
   * `SFNClient.send` for the commands above, so code written against the real client runs
   * unchanged (typed as the real method; the callback forms are honoured too).
   */
  readonly send: SFNClient['send'] = ((command: unknown, ...rest: unknown[]) => {
    const callback = rest.find((arg) => typeof arg === 'function') as
      | ((error: unknown, data?: unknown) => void)
      | undefined
    const result = this.dispatch(command)
    if (!callback) return result
    result.then(
      (data) => callback(null, data),
      (error) => callback(error),
    )
    return undefined
  }) as unknown as SFNClient['send']

  // ---------------------------------------------------------------- test and lifecycle helpers

  /** Resolves with the final DescribeExecution once the execution has ended. */
  async waitForExecution(executionArn: string): Promise<DescribeExecutionOutput & Meta> {
    await this.find(executionArn).done
    return this.describeExecution({ executionArn })
  }

  /** Resolves when no execution is running. */
  async whenIdle(): Promise<void> {
    while (this.running.size > 0) {
      await Promise.all([...this.running].map((execution) => execution.done))
    }
  }

  /** Aborts every running execution (ABORTED) and refuses new ones. */
  async close(): Promise<void> {
    this.closed = true
    for (const execution of this.running) {
      this.end(execution, {
        status: 'ABORTED',
        cause: 'The local Step Functions runner was closed',
      })
    }
    await this.whenIdle()
  }

  // ---------------------------------------------------------------- binding

  private bindTasks(
    handlers: Record<string, TaskHandler>,
    configs: Record<string, LambdaFunctionConfig>,
  ): void {
    const byName = new Map<string, HandlerTarget>()
    for (const [key, handler] of Object.entries(handlers)) {
      const ref = parseFunctionRef(key)
      if (!ref) throw new TypeError(`taskHandlers key ${key} is not a Lambda function ARN or name`)
      if (typeof handler !== 'function')
        throw new TypeError(`taskHandlers[${key}] is not a function`)
      const clash = byName.get(ref.functionName)
      if (clash) {
        throw new TypeError(`taskHandlers ${clash.key} and ${key} name the same function`)
      }
      const config =
        configs[key] ??
        Object.entries(configs).find(
          ([configKey]) => parseFunctionRef(configKey)?.functionName === ref.functionName,
        )?.[1] ??
        {}
      byName.set(ref.functionName, { key, ref, handler, config })
    }

    const problems: string[] = []
    const lookup = (functionName: string, where: string): HandlerTarget | undefined => {
      const ref = parseFunctionRef(functionName)
      const target = ref ? byName.get(ref.functionName) : undefined
      if (!ref) problems.push(`${where}: ${functionName} is not a Lambda function name or ARN`)
      else if (!target) problems.push(`${where}: no handler for ${functionName}`)
      else if (ref.arn && target.ref.arn && ref.arn !== target.ref.arn) {
        problems.push(`${where}: ${functionName} is not ${target.key} (other account or region)`)
      }
      return target
    }

    forEachState(this.definition, (name, state, path) => {
      this.stateTypes.set(name, state.Type)
      if (state.Type === 'Wait') this.waits.set(name, state)
      if (state.Type !== 'Task') return
      const resource = String(state.Resource)
      const where = `Task "${name}" (${path})`
      const callback = CALLBACK_RESOURCE.test(resource)
      const heartbeat = 'HeartbeatSeconds' in state || 'HeartbeatSecondsPath' in state
      if (callback) {
        const why = callbackProblem(state, path)
        if (why) {
          problems.push(`${where}: ${why}`)
          return
        }
        this.callbackStates.add(name)
      } else if (heartbeat) {
        problems.push(
          `${where}: HeartbeatSeconds applies to callback (.waitForTaskToken) tasks only`,
        )
        return
      }
      if (callback || /^arn:aws[a-z-]*:states:::lambda:invoke$/.test(resource)) {
        const kind: TaskKind = callback ? 'callback' : 'invoke'
        const params = isObject(state.Parameters) ? state.Parameters : {}
        if ('FunctionName.$' in params) {
          problems.push(
            `${where}: FunctionName.$ is chosen at run time; bind a literal FunctionName`,
          )
          return
        }
        const invocationType = params.InvocationType ?? 'RequestResponse'
        if (invocationType !== 'RequestResponse' || 'InvocationType.$' in params) {
          problems.push(`${where}: only InvocationType RequestResponse is emulated`)
          return
        }
        if (typeof params.FunctionName !== 'string') {
          problems.push(`${where}: lambda:invoke without a FunctionName`)
          return
        }
        const target = lookup(params.FunctionName, where)
        if (target) {
          this.bindings.set(name, { kind, state, target, functionName: params.FunctionName })
          this.taskKinds.set(name, kind)
        }
      } else if (isLambdaFunctionArn(resource)) {
        const target = lookup(resource, where)
        if (target) {
          this.bindings.set(name, { kind: 'function', state, target, functionName: resource })
          this.taskKinds.set(name, 'function')
        }
      } else if (this.options.integrations?.[resource]) {
        this.integrationStates.set(name, this.options.integrations[resource])
      } else {
        problems.push(
          `${where}: Resource ${resource} is not emulated locally (only lambda:invoke, lambda:invoke.waitForTaskToken and Lambda ARNs)`,
        )
      }
    })
    if (problems.length > 0) {
      throw new UnsupportedDefinitionError(
        `Every Task must be bound to a local handler; these are not:\n  - ${problems.join('\n  - ')}\n` +
          `Handlers given: ${Object.keys(handlers).join(', ') || 'none'}`,
      )
    }
  }

  // ---------------------------------------------------------------- running

  private launch(arn: string, name: string, text: string, input: unknown): Execution {
    const startDate = new Date()
    const tracker = new StateTracker()
    const controller = new AbortController()
    let resolveDone = () => {}
    const execution: Execution = {
      arn,
      name,
      input: text,
      startDate,
      status: 'RUNNING',
      controller,
      abortRun: () => {},
      tracker,
      context: {
        Execution: {
          Id: arn,
          Name: name,
          Input: input,
          StartTime: startDate.toISOString(),
          RoleArn: `arn:${this.partition}:iam::${this.account}:role/LocalStepFunctionsRole`,
          RedriveCount: 0,
        },
        StateMachine: { Id: this.stateMachineArn, Name: this.stateMachineName },
        State: tracker.contextState,
        // Mutated in place, never replaced: the interpreter copies the context object shallowly.
        Task: {},
      },
      history: new HistoryRecorder({
        stateTypes: this.stateTypes,
        taskKinds: this.taskKinds,
        executionInput: text,
        roleArn: `arn:${this.partition}:iam::${this.account}:role/LocalStepFunctionsRole`,
        maxEvents: this.maxHistoryEvents,
        onAppend: (event) => this.emit(arn, event),
        onLimitReached: () =>
          this.end(execution, {
            status: 'FAILED',
            error: 'States.Runtime',
            cause: `The execution reached the maximum number of history events (${this.maxHistoryEvents}).`,
          }),
      }),
      done: new Promise<void>((resolve) => {
        resolveDone = resolve
      }),
    }
    this.executions.set(arn, execution)
    this.running.add(execution)
    // `$$.Task.Token` exists only in a callback state, with a fresh token for each entry.
    tracker.onEnter = (state) => {
      if (this.callbackStates.has(state)) this.newTaskToken(execution, state)
      else delete this.taskContext(execution).Token
    }

    const machine = new StateMachine(this.runtimeDefinition(tracker), {
      validationOptions: { noValidate: true },
    })
    const overrides: Record<string, (input: JsonValueOf) => Promise<JsonValueOf>> = {}
    for (const [state, binding] of this.bindings) {
      overrides[state] = (value) => this.runTask(execution, state, binding, value)
    }
    for (const [state, wait] of this.waits) {
      overrides[state] = (value) => this.runWait(execution, wait, value)
    }
    const { signal } = controller
    for (const [state, integration] of this.integrationStates) {
      overrides[state] = async (value) =>
        (await integration(value, { executionArn: arn, signal })) as JsonValueOf
    }
    forEachState(this.definition, (name, state) => {
      if (!isDistributedMap(state)) return
      overrides[name] = async (value) => {
        const results = await this.mapRuns.run(name, state, value, {
          executionArn: arn,
          stateMachineArn: this.stateMachineArn,
          signal,
          children: (definition, stateMachineArn) =>
            new LocalStepFunctions({ ...this.options, definition, stateMachineArn }),
        })
        const tooLarge = dataLimitExceeded(execution, name, JSON.stringify(results))
        if (tooLarge) throw tooLarge
        return results as JsonValueOf
      }
    })
    const run = machine.run(input as JsonValueOf, {
      overrides: { taskResourceLocalHandlers: overrides },
      context: execution.context,
    } satisfies RunOptions)
    execution.abortRun = run.abort

    const timeoutSeconds = this.definition.TimeoutSeconds
    if (timeoutSeconds !== undefined) {
      execution.timeout = setTimeout(
        () => this.end(execution, { status: 'TIMED_OUT' }),
        Math.min(timeoutSeconds * 1000 * this.waitScale, 2 ** 31 - 1),
      )
    }

    const drained = (async () => {
      try {
        for await (const event of run.eventLogs) this.record(execution, event)
      } catch (error) {
        // A fault of this runner, not of the workflow: end the execution rather than hang it.
        this.end(execution, {
          status: 'FAILED',
          error: 'States.Runtime',
          cause: `Local runner error: ${error instanceof Error ? error.message : String(error)}`,
        })
      }
    })()
    const settled = run.result.then(
      (output) => ({ ok: true as const, output }),
      (error: unknown) => ({ ok: false as const, error }),
    )
    void Promise.all([settled, drained]).then(([result]) => {
      try {
        this.finish(execution, result)
      } finally {
        this.running.delete(execution)
        resolveDone()
      }
    })
    return execution
  }

  /** The definition handed to the interpreter for one execution (see comments inside). */
  private runtimeDefinition(tracker: StateTracker): StateMachineDefinition {
    const scale = this.waitScale
    const transformMachine = (machine: AslDefinition, top: boolean): AslDefinition => {
      const { TimeoutSeconds: _executionTimeout, ...rest } = machine
      // The runner enforces the execution timeout itself (scaled, TIMED_OUT) instead of the library.
      const out: AslDefinition = { ...(top ? rest : machine), States: {} }
      for (const [name, state] of Object.entries(machine.States)) {
        const runtime = transformState(state)
        // The interpreter reads States[name] right before entering a state: that read keeps
        // $$.State current, which the library itself never sets.
        Object.defineProperty(out.States, name, {
          enumerable: true,
          get: () => {
            tracker.enter(name, state)
            return runtime
          },
        })
      }
      return out
    }
    const transformState = (state: AslState): AslState => {
      const out: AslState = { ...state }
      if (Array.isArray(state.Retry)) {
        out.Retry = state.Retry.map((retrier: Record<string, unknown>) => ({
          ...retrier,
          IntervalSeconds:
            (typeof retrier.IntervalSeconds === 'number' ? retrier.IntervalSeconds : 1) * scale,
          ...(typeof retrier.MaxDelaySeconds === 'number'
            ? { MaxDelaySeconds: retrier.MaxDelaySeconds * scale }
            : {}),
        }))
      }
      if (state.Type === 'Task' && CALLBACK_RESOURCE.test(String(state.Resource))) {
        // A callback task's timeout is a wait like any other, scaled, and runCallback enforces it:
        // the interpreter's own timer is set past it. A TimeoutSecondsPath is read from the state's
        // input by the interpreter's Parameters processing, into a field runTask takes out again.
        const { TimeoutSecondsPath, ...kept } = out
        const params = isObject(state.Parameters) ? state.Parameters : {}
        return {
          ...kept,
          TimeoutSeconds: MAX_TIMER_SECONDS,
          ...(typeof TimeoutSecondsPath === 'string'
            ? { Parameters: { ...params, [`${TIMEOUT_FIELD}.$`]: TimeoutSecondsPath } }
            : {}),
        }
      } else if (state.Type === 'Task') {
        // The library defaults a task timeout to 60 s (AWS: 99999999 s), and overflows setTimeout
        // past 24.8 days. Task timeouts bound handler run time, which is real time: not scaled.
        if (state.TimeoutSecondsPath === undefined) {
          out.TimeoutSeconds = Math.min(
            typeof state.TimeoutSeconds === 'number' ? state.TimeoutSeconds : MAX_TIMER_SECONDS,
            MAX_TIMER_SECONDS,
          )
        }
      }
      if (state.Type === 'Wait') {
        // Run as a task whose local handler waits the scaled time: the library's own Wait cannot
        // scale SecondsPath / Timestamp waits. Same InputPath / OutputPath, same transitions.
        const { Seconds, SecondsPath, Timestamp, TimestampPath, ...kept } = out
        return {
          ...kept,
          Type: 'Task',
          Resource: LOCAL_WAIT_RESOURCE,
          TimeoutSeconds: MAX_TIMER_SECONDS,
        }
      }
      if (state.Type === 'Pass' && 'Result' in state && !state.Result) {
        // The library ignores a falsy Result (0, false, "", null); Parameters has the same effect.
        const { Result, ...kept } = out
        return { ...kept, Parameters: Result }
      }
      if (state.Type === 'Parallel' && Array.isArray(state.Branches)) {
        out.Branches = state.Branches.map((branch) =>
          transformMachine(asAslDefinition(branch), false),
        )
      }
      if (isDistributedMap(state)) return distributedMapTask(out, MAX_TIMER_SECONDS)
      if (state.Type === 'Map') {
        for (const key of ['ItemProcessor', 'Iterator'] as const) {
          if (state[key] !== undefined)
            out[key] = transformMachine(asAslDefinition(state[key]), false)
        }
      }
      return out
    }
    return transformMachine(this.definition, true) as unknown as StateMachineDefinition
  }

  /** One attempt of a Lambda task: the lambda:invoke integration around the bound handler. */
  private async runTask(
    e: Execution,
    stateName: string,
    binding: TaskBinding,
    input: JsonValueOf,
  ): Promise<JsonValueOf> {
    const entry = e.tracker.entryOf(stateName)
    if (e.controller.signal.aborted) throw executionEnded()
    const { target, kind } = binding
    let timeoutSeconds: unknown
    if (kind === 'callback' && isObject(input) && TIMEOUT_FIELD in input) {
      const { [TIMEOUT_FIELD]: read, ...rest } = input
      timeoutSeconds = read
      input = rest
    }
    const params = kind !== 'function' && isObject(input) ? input : {}
    const payload = kind !== 'function' ? ('Payload' in params ? params.Payload : {}) : input
    const invoked = parseFunctionRef(binding.functionName) ?? target.ref
    const qualifier = invoked.qualifier
    const baseArn =
      invoked.arn ??
      target.ref.arn ??
      `arn:${this.partition}:lambda:${this.region}:${this.account}:function:${invoked.functionName}`
    const invokedArn = qualifier ? `${baseArn}:${qualifier}` : baseArn
    const version = qualifier && /^\d+$/.test(qualifier) ? qualifier : '$LATEST'
    const functionTimeoutSeconds = target.config.timeoutSeconds
    const record = (draft: Parameters<HistoryRecorder['task']>[2]) =>
      e.history.task(stateName, entry, draft)

    if (kind === 'callback') {
      record(
        callbackEvent('TaskScheduled', {
          region: this.region,
          parameters: JSON.stringify(input),
          timeoutInSeconds: binding.state.TimeoutSeconds,
          heartbeatInSeconds: binding.state.HeartbeatSeconds,
        }),
      )
      record(callbackEvent('TaskStarted', {}))
    } else if (kind === 'invoke') {
      record({
        type: 'TaskScheduled',
        taskScheduledEventDetails: {
          resourceType: 'lambda',
          resource: 'invoke',
          region: this.region,
          parameters: JSON.stringify(input),
        },
      })
      record({
        type: 'TaskStarted',
        taskStartedEventDetails: { resourceType: 'lambda', resource: 'invoke' },
      })
    } else {
      record({
        type: 'LambdaFunctionScheduled',
        lambdaFunctionScheduledEventDetails: {
          resource: binding.functionName,
          input: JSON.stringify(input),
          inputDetails: { truncated: false },
        },
      })
      record({ type: 'LambdaFunctionStarted' })
    }

    const invocation = invokeReserved(baseArn, target.config.reservedConcurrency, () =>
      invokeHandler(target.handler, payload, {
        functionName: invoked.functionName,
        invokedFunctionArn: invokedArn,
        functionVersion: version,
        ...(functionTimeoutSeconds === undefined
          ? {}
          : { timeoutMs: functionTimeoutSeconds * 1000 }),
        ...(target.config.memorySize === undefined ? {} : { memorySize: target.config.memorySize }),
      }),
    )
    if (kind === 'callback') {
      const seconds = timeoutSeconds ?? binding.state.TimeoutSeconds ?? 99_999_999
      if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 1) {
        throw runtimeError(
          `TimeoutSecondsPath must give a positive integer, got ${JSON.stringify(seconds)}`,
        )
      }
      const timeoutMs = Math.min(seconds * 1000 * this.waitScale, MAX_TIMER_SECONDS * 1000)
      return this.runCallback(e, stateName, binding.state, timeoutMs, invocation, version, record)
    }
    // The interpreter times the task out (States.Timeout, with its own Retry/Catch semantics) on a
    // timer armed just after this one: record the timeout here and leave this attempt unsettled,
    // so a late result is neither recorded nor mistaken for a later attempt's.
    const timeoutMs = taskTimeoutMs(binding.state, input, e.context)
    let timer: NodeJS.Timeout | undefined
    const timedOut = new Promise<'timeout'>((resolve) => {
      if (timeoutMs !== undefined) timer = setTimeout(() => resolve('timeout'), timeoutMs)
    })
    const result = await Promise.race([invocation, timedOut]).finally(() => clearTimeout(timer))
    if (result === 'timeout') {
      record(
        kind === 'invoke'
          ? {
              type: 'TaskTimedOut',
              taskTimedOutEventDetails: {
                resourceType: 'lambda',
                resource: 'invoke',
                error: 'States.Timeout',
              },
            }
          : {
              type: 'LambdaFunctionTimedOut',
              lambdaFunctionTimedOutEventDetails: { error: 'States.Timeout' },
            },
      )
      return new Promise<never>(() => {})
    }
    // Stopped or timed out meanwhile: AWS would not record the late result, nor retry.
    if (e.controller.signal.aborted) throw executionEnded()

    if (!result.ok) {
      const error = result.error.errorType
      const cause = JSON.stringify(result.error)
      record(taskFailedEvent(kind, error, cause))
      e.tracker.contextState.RetryCount += 1
      throw new TaskFailure(error, cause)
    }

    const output =
      kind === 'invoke'
        ? lambdaInvokeResult(result.payload, result.requestId, version)
        : result.payload
    const text = JSON.stringify(output)
    const tooLarge = dataLimitExceeded(e, stateName, text)
    if (tooLarge) {
      record(taskFailedEvent(kind, tooLarge.name, tooLarge.message))
      throw tooLarge
    }
    record(
      kind === 'invoke'
        ? {
            type: 'TaskSucceeded',
            taskSucceededEventDetails: {
              resourceType: 'lambda',
              resource: 'invoke',
              output: text,
              outputDetails: { truncated: false },
            },
          }
        : {
            type: 'LambdaFunctionSucceeded',
            lambdaFunctionSucceededEventDetails: {
              output: text,
              outputDetails: { truncated: false },
            },
          },
    )
    return output as JsonValueOf
  }

  private newTaskToken(e: Execution, stateName: string): string {
    const token = this.tokens.issue(e.arn, stateName)
    this.taskContext(e).Token = token
    return token
  }

  /** `$$.Task` of an execution (its Token is set only while a callback state runs). */
  private taskContext(e: Execution): { Token?: string } {
    return e.context.Task as { Token?: string }
  }

  /**
   * After the invocation of a callback task: waits for SendTaskSuccess / SendTaskFailure on the
   * token the Parameters were given, the timeout, a missed heartbeat, a failed invocation, or the
   * end of the execution — whichever comes first. Its timers are armed before anything is awaited,
   * so this runner's TimeoutSeconds timer fires just before the interpreter's own (same length).
   */
  private async runCallback(
    e: Execution,
    stateName: string,
    state: AslState,
    timeoutMs: number,
    invocation: ReturnType<typeof invokeHandler>,
    version: string,
    record: (draft: HistoryDraft) => void,
  ): Promise<JsonValueOf> {
    const issued = this.tokens.get(String(this.taskContext(e).Token))
    if (!issued) throw runtimeError(`No task token was issued for ${stateName}`)
    const timers: NodeJS.Timeout[] = []
    const after = (ms: number, outcome: CallbackOutcome) =>
      timers.push(setTimeout(() => issued.settle(outcome), ms))
    after(timeoutMs, { kind: 'timeout', error: 'States.Timeout' })
    if (typeof state.HeartbeatSeconds === 'number') {
      const heartbeatMs = state.HeartbeatSeconds * 1000 * this.waitScale
      let heartbeat: NodeJS.Timeout | undefined
      issued.heartbeat = () => {
        clearTimeout(heartbeat)
        heartbeat = setTimeout(
          () => issued.settle({ kind: 'timeout', error: 'States.HeartbeatTimeout' }),
          heartbeatMs,
        )
        timers.push(heartbeat)
      }
      issued.heartbeat()
    }
    const onAbort = () => issued.settle({ kind: 'ended' })
    e.controller.signal.addEventListener('abort', onAbort, { once: true })
    void invocation.then((result) => {
      if (!result.ok) {
        issued.settle({
          kind: 'failure',
          error: result.error.errorType,
          cause: JSON.stringify(result.error),
        })
      } else if (issued.open) {
        const output = lambdaInvokeResult(result.payload, result.requestId, version)
        record(
          callbackEvent('TaskSubmitted', {
            output: JSON.stringify(output),
            outputDetails: { truncated: false },
          }),
        )
      }
    })

    const outcome = await issued.outcome
    for (const timer of timers) clearTimeout(timer)
    e.controller.signal.removeEventListener('abort', onAbort)
    // A Retry re-evaluates the Parameters: the next attempt gets a token of its own.
    this.newTaskToken(e, stateName)
    switch (outcome.kind) {
      case 'ended':
        throw executionEnded()
      case 'success':
        record(
          callbackEvent('TaskSucceeded', {
            output: outcome.output,
            outputDetails: { truncated: false },
          }),
        )
        return JSON.parse(outcome.output) as JsonValueOf
      case 'failure':
        record(callbackEvent('TaskFailed', { error: outcome.error, cause: outcome.cause }))
        e.tracker.contextState.RetryCount += 1
        throw new TaskFailure(outcome.error, outcome.cause)
      case 'timeout':
        record({
          type: 'TaskTimedOut',
          taskTimedOutEventDetails: {
            resourceType: 'lambda',
            resource: 'invoke.waitForTaskToken',
            error: outcome.error,
          },
        })
        // States.Timeout as the interpreter's own error (States.TaskFailed must not match it); a
        // missed heartbeat is an ordinary task error.
        if (outcome.error === 'States.Timeout') throw await statesTimeoutError()
        throw new TaskFailure(outcome.error, outcome.error)
    }
  }

  /** A Wait state (run as a task, see runtimeDefinition): waits the scaled time, passes input on. */
  private async runWait(e: Execution, wait: AslState, input: JsonValueOf): Promise<JsonValueOf> {
    if (e.controller.signal.aborted) throw executionEnded()
    const seconds = (value: unknown, field: string): number => {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
        throw runtimeError(`${field} must be a non-negative integer, got ${JSON.stringify(value)}`)
      }
      return value
    }
    const until = (value: unknown, field: string): number => {
      const time = typeof value === 'string' ? Date.parse(value) : Number.NaN
      if (Number.isNaN(time))
        throw runtimeError(`${field} is not an ISO 8601 timestamp: ${JSON.stringify(value)}`)
      return Math.max(0, (time - Date.now()) / 1000)
    }
    let delaySeconds = 0
    if (wait.Seconds !== undefined) delaySeconds = seconds(wait.Seconds, 'Seconds')
    else if (wait.Timestamp !== undefined) delaySeconds = until(wait.Timestamp, 'Timestamp')
    else if (typeof wait.SecondsPath === 'string') {
      delaySeconds = seconds(
        readPath(wait.SecondsPath, input, e.context),
        `SecondsPath ${wait.SecondsPath}`,
      )
    } else if (typeof wait.TimestampPath === 'string') {
      delaySeconds = until(
        readPath(wait.TimestampPath, input, e.context),
        `TimestampPath ${wait.TimestampPath}`,
      )
    }
    await sleep(delaySeconds * 1000 * this.waitScale, e.controller.signal)
    return input
  }

  /** Ends an execution from outside the interpreter (stop, timeout, history limit). */
  private end(e: Execution, how: Terminal): void {
    if (e.ending || e.outcome) return
    e.ending = how
    e.controller.abort()
    e.abortRun()
  }

  private record(e: Execution, event: LibraryEvent): void {
    if (e.outcome) return
    e.history.library(event)
  }

  private finish(
    e: Execution,
    result: { ok: true; output: unknown } | { ok: false; error: unknown },
  ): void {
    clearTimeout(e.timeout)
    this.tokens.closeExecution(e.arn)
    if (!e.history.sealed) e.history.flushAll()
    let outcome: Terminal
    if (e.ending) outcome = e.ending
    else if (result.ok) {
      const output = JSON.stringify(result.output) ?? 'null'
      outcome =
        Buffer.byteLength(output) > MAX_PAYLOAD_BYTES
          ? {
              status: 'FAILED',
              error: 'States.DataLimitExceeded',
              cause: 'The state machine output exceeds the maximum number of bytes service limit.',
            }
          : { status: 'SUCCEEDED', output }
    } else outcome = { status: 'FAILED', ...this.failureOf(result.error, e) }

    const stopDate = new Date()
    const details = {
      ...(outcome.error === undefined ? {} : { error: outcome.error }),
      ...(outcome.cause === undefined ? {} : { cause: outcome.cause }),
    }
    switch (outcome.status) {
      case 'SUCCEEDED':
        e.history.terminal({
          type: 'ExecutionSucceeded',
          timestamp: stopDate,
          executionSucceededEventDetails: {
            output: outcome.output ?? 'null',
            outputDetails: { truncated: false },
          },
        })
        break
      case 'FAILED':
        e.history.terminal({
          type: 'ExecutionFailed',
          timestamp: stopDate,
          executionFailedEventDetails: details,
        })
        break
      case 'ABORTED':
        e.history.terminal(
          { type: 'ExecutionAborted', timestamp: stopDate, executionAbortedEventDetails: details },
          0,
        )
        break
      case 'TIMED_OUT':
        // DescribeExecution shows neither error nor cause for a timeout; the event carries the error.
        e.history.terminal(
          {
            type: 'ExecutionTimedOut',
            timestamp: stopDate,
            executionTimedOutEventDetails: { error: 'States.Timeout' },
          },
          0,
        )
        break
    }
    e.outcome = outcome
    e.status = outcome.status
    e.stopDate = stopDate
  }

  /** Error and cause of a failed run, as AWS reports them. */
  private failureOf(thrown: unknown, e: Execution): { error?: string; cause?: string } {
    const inner = thrown instanceof ExecutionError ? thrown.cause : thrown
    if (!(inner instanceof Error)) return { error: 'States.Runtime', cause: String(inner) }
    const state = e.tracker.current
    if (state?.Type === 'Fail') {
      // A Fail state without Error / Cause leaves them out (the library would say FailStateError).
      return {
        ...('Error' in state || 'ErrorPath' in state ? { error: inner.name } : {}),
        ...('Cause' in state || 'CausePath' in state ? { cause: inner.message } : {}),
      }
    }
    if (inner instanceof TaskFailure || inner.name.startsWith('States.')) {
      return {
        error: inner.name,
        ...(inner.message === inner.name ? {} : { cause: inner.message }),
      }
    }
    // An error of the interpreter itself (a bug or an unsupported construct).
    return { error: 'States.Runtime', cause: `${inner.name}: ${inner.message}` }
  }

  private emit(arn: string, event: HistoryEvent): void {
    if (!this.onEvent) return
    try {
      this.onEvent(arn, event)
    } catch (error) {
      // A failing listener must not break the execution it observes.
      console.error('LocalStepFunctions onEvent listener threw', error)
    }
  }

  private find(executionArn: string | undefined): Execution {
    const execution = this.executions.get(executionArn ?? '')
    if (execution) return execution
    if (!EXECUTION_ARN.test(executionArn ?? '')) {
      throw new InvalidArn(clientError(`Invalid Arn: '${executionArn}'`))
    }
    throw new ExecutionDoesNotExist(clientError(`Execution Does Not Exist: '${executionArn}'`))
  }

  private dispatch(command: unknown): Promise<unknown> {
    if (command instanceof StartExecutionCommand) return this.startExecution(command.input)
    if (command instanceof DescribeExecutionCommand) return this.describeExecution(command.input)
    if (command instanceof GetExecutionHistoryCommand)
      return this.getExecutionHistory(command.input)
    if (command instanceof StopExecutionCommand) return this.stopExecution(command.input)
    if (command instanceof SendTaskSuccessCommand) return this.sendTaskSuccess(command.input)
    if (command instanceof SendTaskFailureCommand) return this.sendTaskFailure(command.input)
    if (command instanceof SendTaskHeartbeatCommand) return this.sendTaskHeartbeat(command.input)
    const name = isObject(command) ? command.constructor.name : typeof command
    return Promise.reject(new Error(`LocalStepFunctions does not implement ${name}`))
  }
}

type JsonValueOf = Parameters<StateMachine['run']>[0]
type ResponseMetadata = StartExecutionCommandOutput['$metadata']
type Meta = { $metadata: ResponseMetadata }

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new UnsupportedDefinitionError(`The definition is not JSON: ${(error as Error).message}`)
  }
}

/**
 * A state's result past 256 KiB (a Lambda's payload, a distributed Map's results): States.DataLimitExceeded,
 * which States.ALL / States.TaskFailed do not match, only a Catch naming it.
 */
function dataLimitExceeded(e: Execution, stateName: string, text: string): TaskFailure | undefined {
  if (Buffer.byteLength(text) <= MAX_PAYLOAD_BYTES) return undefined
  const error = 'States.DataLimitExceeded'
  const catchers = e.tracker.current?.Catch
  const named = Array.isArray(catchers)
    ? catchers.some(
        (c: Record<string, unknown>) =>
          Array.isArray(c.ErrorEquals) && c.ErrorEquals.includes(error),
      )
    : false
  return new TaskFailure(
    error,
    `The state/task '${stateName}' returned a result with a size exceeding the maximum number of bytes service limit.`,
    { retryable: false, catchable: named },
  )
}

function runtimeError(message: string): TaskFailure {
  return new TaskFailure('States.Runtime', message, { retryable: false, catchable: false })
}

function executionEnded(): TaskFailure {
  return runtimeError('The execution has ended')
}

/** The task timeout the interpreter applies (see runtimeDefinition), or undefined if unknown. */
function taskTimeoutMs(state: AslState, input: unknown, context: unknown): number | undefined {
  if (typeof state.TimeoutSecondsPath === 'string') {
    try {
      const seconds = readPath(state.TimeoutSecondsPath, input, context)
      return typeof seconds === 'number' && seconds >= 1
        ? Math.min(seconds, MAX_TIMER_SECONDS) * 1000
        : undefined
    } catch {
      return undefined
    }
  }
  const seconds =
    typeof state.TimeoutSeconds === 'number' ? state.TimeoutSeconds : MAX_TIMER_SECONDS
  return Math.min(seconds, MAX_TIMER_SECONDS) * 1000
}

/** Value at an ASL reference path (`$.a.b`, `$['a'][0]`, `$$.Execution.Input.x`). */
function readPath(path: string, input: unknown, context: unknown): unknown {
  let target: unknown = path.startsWith('$$') ? context : input
  const rest = path.slice(path.startsWith('$$') ? 2 : 1)
  if (!path.startsWith('$')) throw runtimeError(`${path} is not a reference path`)
  const step = /\.([^.[\]]+)|\[\s*'([^']*)'\s*\]|\[\s*"([^"]*)"\s*\]|\[\s*(\d+)\s*\]/y
  let at = 0
  while (at < rest.length) {
    step.lastIndex = at
    const match = step.exec(rest)
    if (!match) throw runtimeError(`${path} is not a reference path`)
    at = step.lastIndex
    const key = match[1] ?? match[2] ?? match[3] ?? Number(match[4])
    if (typeof target !== 'object' || target === null || !(key in target)) {
      throw runtimeError(`The path ${path} could not be found in the input`)
    }
    target = (target as Record<string | number, unknown>)[key]
  }
  return target
}

/** Sleeps `ms` (any length; setTimeout alone overflows past 24.8 days), ending early on abort. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted || ms <= 0) return resolve()
    const end = Date.now() + ms
    let timer: NodeJS.Timeout | undefined
    const onAbort = () => {
      clearTimeout(timer)
      resolve()
    }
    const arm = () => {
      const left = end - Date.now()
      if (left <= 0) {
        signal.removeEventListener('abort', onAbort)
        resolve()
        return
      }
      timer = setTimeout(arm, Math.min(left, 2 ** 31 - 1))
    }
    signal.addEventListener('abort', onAbort, { once: true })
    arm()
  })
}

function stripExecutionData(event: HistoryEvent): void {
  for (const value of Object.values(event)) {
    if (isObject(value)) {
      for (const key of ['input', 'output', 'parameters', 'inputDetails', 'outputDetails']) {
        delete value[key]
      }
    }
  }
}

/** The history event of a failed task, as either Lambda integration records it. */
function taskFailedEvent(kind: TaskKind, error: string, cause: string): HistoryDraft {
  return kind === 'invoke'
    ? {
        type: 'TaskFailed',
        taskFailedEventDetails: { resourceType: 'lambda', resource: 'invoke', error, cause },
      }
    : { type: 'LambdaFunctionFailed', lambdaFunctionFailedEventDetails: { error, cause } }
}

/**
 * Why a `.waitForTaskToken` state cannot run faithfully here, or undefined. Its timeouts are waits
 * (scaled by waitScale) and need literal values; its token lives in the execution's one `$$.Task`,
 * which concurrent Map / Parallel iterations would share.
 */
function callbackProblem(state: AslState, path: string): string | undefined {
  if (!passesTaskToken(state.Parameters)) {
    return 'a .waitForTaskToken task must pass $$.Task.Token in its Parameters (AWS refuses it too)'
  }
  if ('HeartbeatSecondsPath' in state) {
    return 'HeartbeatSecondsPath is not emulated: give HeartbeatSeconds'
  }
  if (/\.(Branches\[\d+\]|ItemProcessor|Iterator)\./.test(path)) {
    return 'a callback task inside a Map or Parallel state is not emulated (concurrent iterations would share $$.Task.Token)'
  }
  return undefined
}

let statesTimeout: Promise<Error> | undefined
/**
 * An instance of the interpreter's own States.Timeout error, which Retry / Catch match as AWS does
 * (`States.TaskFailed` does not match it). aws-local-stepfunctions does not export the class: one
 * tiny run that times out yields it, once per process.
 */
async function statesTimeoutError(): Promise<Error> {
  statesTimeout ??= (async () => {
    const probe = new StateMachine(
      {
        StartAt: 'T',
        States: {
          T: {
            Type: 'Task',
            Resource: 'arn:aws:lambda:us-east-1:123456789012:function:probe',
            TimeoutSeconds: 0.001,
            End: true,
          },
        },
      } as unknown as StateMachineDefinition,
      { validationOptions: { noValidate: true } },
    )
    const run = probe.run(
      {},
      { overrides: { taskResourceLocalHandlers: { T: () => new Promise(() => {}) } } },
    )
    const thrown = await run.result.then(
      () => undefined,
      (error: unknown) => (error instanceof ExecutionError ? error.cause : error),
    )
    if (!(thrown instanceof Error) || thrown.name !== 'States.Timeout') {
      throw new Error('aws-local-stepfunctions no longer raises States.Timeout as expected')
    }
    return thrown
  })()
  const error = await statesTimeout
  return Object.create(Object.getPrototypeOf(error), {
    name: { value: 'States.Timeout', writable: true, configurable: true },
    message: { value: 'States.Timeout', writable: true, configurable: true },
  }) as Error
}
