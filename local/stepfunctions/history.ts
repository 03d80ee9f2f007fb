// Builds an execution's history in the shape of GetExecutionHistory (HistoryEvent of
// @aws-sdk/client-sfn) from two sources: the event log of aws-local-stepfunctions (state entered /
// exited / failed / caught …), read asynchronously, and the task events the runner records itself
// while it invokes a handler (TaskScheduled, TaskStarted, TaskSucceeded / TaskFailed). Task events
// are held per state and written when the interpreter reports that state's attempt as over, so the
// history reads in the order things happened. It also enforces the history-size limit.

import type { HistoryEvent, HistoryEventType } from '@aws-sdk/client-sfn'
import type { StateMachine } from 'aws-local-stepfunctions'

/** An event of aws-local-stepfunctions' log (the type is not exported by the package). */
export type LibraryEvent =
  ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never

/** A history event before it gets its id, previous id and (if not given) timestamp. */
export type HistoryDraft = Omit<HistoryEvent, 'id' | 'previousEventId' | 'timestamp' | 'type'> & {
  type: HistoryEventType
  timestamp?: Date
}

/** How a Task calls Lambda: lambda:invoke, its .waitForTaskToken form, or a function ARN. */
export type TaskKind = 'invoke' | 'callback' | 'function'

export interface HistoryRecorderOptions {
  /** State name → Type in the definition as written (the runner executes Wait states as tasks). */
  stateTypes: ReadonlyMap<string, string>
  /** State name → how its Task calls Lambda, for task timeout events. */
  taskKinds: ReadonlyMap<string, TaskKind>
  executionInput: string
  roleArn: string
  maxEvents: number
  onAppend: (event: HistoryEvent) => void
  /** Called once when one more event would leave no room for the terminal event. */
  onLimitReached: () => void
}

/** History event types that end a task, either integration. */
export const TASK_OUTCOMES: ReadonlySet<string> = new Set<string>([
  'TaskSucceeded',
  'TaskFailed',
  'TaskTimedOut',
  'LambdaFunctionSucceeded',
  'LambdaFunctionFailed',
  'LambdaFunctionTimedOut',
])

function json(value: unknown): string {
  return JSON.stringify(value) ?? 'null'
}

export class HistoryRecorder {
  readonly events: HistoryEvent[] = []
  /** True once the limit is reached: only the terminal event may still be written. */
  sealed = false
  private readonly pendingTask = new Map<string, { entry: number; draft: HistoryDraft }[]>()
  /** How many times the log has shown each state entered, to pair task events with their entry. */
  private readonly entries = new Map<string, number>()

  constructor(private readonly options: HistoryRecorderOptions) {}

  /**
   * Records an event of the task run for the `entry`-th entry (1-based) into `stateName`; it is
   * written when the log reports that entry's attempt as over. The log is read asynchronously, so
   * a later entry's task events may arrive before the earlier entry's exit has been read.
   */
  task(stateName: string, entry: number, draft: HistoryDraft): void {
    const queue = this.pendingTask.get(stateName) ?? []
    queue.push({ entry, draft: { ...draft, timestamp: draft.timestamp ?? new Date() } })
    this.pendingTask.set(stateName, queue)
  }

  /** Translates one event of the interpreter's log. */
  library(event: LibraryEvent): void {
    const at = new Date(event.timestamp)
    switch (event.type) {
      case 'ExecutionStarted':
        this.append({
          type: 'ExecutionStarted',
          timestamp: at,
          executionStartedEventDetails: {
            input: this.options.executionInput,
            inputDetails: { truncated: false },
            roleArn: this.options.roleArn,
          },
        })
        return
      case 'StateEntered': {
        const type = this.typeOf(event.state.name, event.state.type)
        const input = json(event.state.input)
        this.entries.set(event.state.name, (this.entries.get(event.state.name) ?? 0) + 1)
        this.append({
          type: `${type}StateEntered` as HistoryEventType,
          timestamp: at,
          stateEnteredEventDetails: {
            name: event.state.name,
            input,
            inputDetails: { truncated: false },
          },
        })
        if (type === 'Parallel' || type === 'Map') {
          this.append({ type: `${type}StateStarted` as HistoryEventType, timestamp: at })
        }
        return
      }
      case 'StateExited': {
        const type = this.typeOf(event.state.name, event.state.type)
        this.flushTask(event.state.name)
        if (type === 'Parallel' || type === 'Map') {
          this.append({ type: `${type}StateSucceeded` as HistoryEventType, timestamp: at })
        }
        if (type !== 'Fail') {
          this.append({
            type: `${type}StateExited` as HistoryEventType,
            timestamp: at,
            stateExitedEventDetails: {
              name: event.state.name,
              output: json(event.state.output),
              outputDetails: { truncated: false },
            },
          })
        }
        return
      }
      case 'StateFailed': {
        const type = this.typeOf(event.state.name, event.state.type)
        const flushed = this.flushTask(event.state.name)
        const kind = this.options.taskKinds.get(event.state.name)
        if (type === 'Task' && kind && event.Error === 'States.Timeout') {
          // The interpreter timed the task out; the handler never reported.
          if (!flushed.some((draft) => TASK_OUTCOMES.has(draft.type))) {
            this.append(
              kind !== 'function'
                ? {
                    type: 'TaskTimedOut',
                    timestamp: at,
                    taskTimedOutEventDetails: {
                      resourceType: 'lambda',
                      resource: kind === 'invoke' ? 'invoke' : 'invoke.waitForTaskToken',
                      error: 'States.Timeout',
                    },
                  }
                : {
                    type: 'LambdaFunctionTimedOut',
                    timestamp: at,
                    lambdaFunctionTimedOutEventDetails: { error: 'States.Timeout' },
                  },
            )
          }
        }
        if (type === 'Parallel' || type === 'Map') {
          this.append({ type: `${type}StateFailed` as HistoryEventType, timestamp: at })
        }
        return
      }
      case 'StateCaught':
        // The interpreter then reports StateExited with the Catch output, as AWS writes it.
        this.flushTask(event.state.name)
        return
      case 'MapIterationStarted':
      case 'MapIterationSucceeded':
      case 'MapIterationFailed': {
        const details = { name: event.parentState.name, index: event.index }
        const key = `${event.type[0]?.toLowerCase()}${event.type.slice(1)}EventDetails`
        this.append({ type: event.type, timestamp: at, [key]: details })
        return
      }
      default:
        // StateRetried has no AWS event (the next TaskScheduled shows the retry); parallel branch
        // events have none either. Execution outcomes are written by the runner via terminal().
        return
    }
  }

  /** Writes the events of a task still in flight (stopped or timed out) before the outcome. */
  flushAll(): void {
    for (const name of [...this.pendingTask.keys()]) this.flushTask(name, Number.POSITIVE_INFINITY)
  }

  /** Writes the execution's terminal event, past the limit if need be (it is the last one). */
  terminal(draft: HistoryDraft, previousEventId?: number): HistoryEvent {
    return this.write(draft, previousEventId)
  }

  private typeOf(name: string, reported: string): string {
    return this.options.stateTypes.get(name) ?? reported
  }

  private flushTask(stateName: string, upTo = this.entries.get(stateName) ?? 0): HistoryDraft[] {
    const queue = this.pendingTask.get(stateName) ?? []
    const due = queue.filter((item) => item.entry <= upTo).map((item) => item.draft)
    const later = queue.filter((item) => item.entry > upTo)
    if (later.length > 0) this.pendingTask.set(stateName, later)
    else this.pendingTask.delete(stateName)
    for (const draft of due) this.append(draft)
    return due
  }

  private append(draft: HistoryDraft): void {
    if (this.sealed) return
    if (this.events.length >= this.options.maxEvents - 1) {
      this.sealed = true
      this.options.onLimitReached()
      return
    }
    this.write(draft)
  }

  private write(draft: HistoryDraft, previousEventId?: number): HistoryEvent {
    const id = this.events.length + 1
    const { timestamp, ...rest } = draft
    const event: HistoryEvent = {
      ...rest,
      timestamp: timestamp ?? new Date(),
      id,
      previousEventId: previousEventId ?? id - 1,
    }
    this.events.push(event)
    this.options.onAppend(event)
    return event
  }
}
