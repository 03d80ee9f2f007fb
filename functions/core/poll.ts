/**
 * How a stage waits for Seam to confirm its asynchronous deletes: bounded in time, with backoff.
 * Pure functions; the state machine's Choice reads what they return, and the construct's props set the
 * policy (see infra/constructs/deletion-workflow.ts).
 */
import type { PollPolicy } from '../contract/workflow.js'
import { DEFAULT_RETRY_POLICY, DEFAULT_TIMEOUT_MS } from '../seam/retry-policy.js'
import { DELETION_STAGES } from './stages.js'

export type { PollPolicy }

export const DEFAULT_POLL_POLICY: PollPolicy = {
  firstWaitSeconds: 2,
  backoffRate: 1.5,
  maxWaitSeconds: 30,
  stageTimeoutSeconds: 600,
  maxChecks: 60,
}

/** Step Functions' hard limit on the events of one execution's history. */
export const HISTORY_EVENT_LIMIT = 25_000
/** The longest a stage may wait: seconds to minutes, not hours. */
export const MAX_STAGE_TIMEOUT_SECONDS = 1800
/** The execution's time beyond its stages' bounds (stageTimeBound): state transitions, cold starts. */
export const EXECUTION_TIMEOUT_MARGIN_SECONDS = 5 * 60

/**
 * How Step Functions retries a task that failed with a transient error, every retrier alike (the
 * construct's Retry): the first retry after intervalSeconds, each next one backoffRate times later,
 * none later than maxDelaySeconds (full jitter draws each delay below that).
 */
export const TASK_RETRY_BACKOFF = {
  intervalSeconds: 2,
  backoffRate: 2,
  maxDelaySeconds: 10,
} as const

/** A stage task Lambda's timeout: a task's Seam work (taskSeconds) ends well before it. */
export const STAGE_TASK_TIMEOUT_SECONDS = 300
/** The longest one task state may call Seam, every attempt included (see stageTimeBound). */
export const MAX_TASK_SECONDS = 240

/** The longest one call to Seam takes as the deployed client makes it: its timeout and its retries. */
export const LONGEST_SEAM_CALL_MS = DEFAULT_TIMEOUT_MS + DEFAULT_RETRY_POLICY.totalBudgetMs

export interface StageTimeBound {
  /** One Seam call, hanging included: an attempt's timeout plus the client's retry budget. */
  readonly seamCallSeconds: number
  /**
   * How long one task state (a Delete or a Check, all its attempts) may call Seam, counted from when it
   * was entered: a quarter of the stage's budget, at least one Seam call, at most MAX_TASK_SECONDS.
   * Past it no Seam call is sent, and a transient failure is final (StageOutOfTime, never retried).
   */
  readonly taskSeconds: number
  /** A task state's longest time: taskSeconds, plus one retry delay after which it fails at once. */
  readonly taskStateSeconds: number
  /**
   * The stated margin beyond the stage's budget: the Delete task state before the budget starts
   * counting and the last Check after it ends (each at most taskStateSeconds), and 1 s for a Wait's
   * whole seconds.
   */
  readonly marginSeconds: number
  /** stageTimeoutSeconds + marginSeconds: no stage runs longer, whatever Seam does. */
  readonly totalSeconds: number
}

/**
 * The bound of one stage's time under the policy, Seam hanging included. `longestSeamCallSeconds` is
 * the client's (timeout + retry budget), in the state machine's seconds.
 */
export function stageTimeBound(
  policy: PollPolicy,
  longestSeamCallSeconds = LONGEST_SEAM_CALL_MS / 1000,
): StageTimeBound {
  const taskSeconds = Math.max(
    longestSeamCallSeconds,
    Math.min(MAX_TASK_SECONDS, policy.stageTimeoutSeconds / 4),
  )
  const taskStateSeconds = taskSeconds + TASK_RETRY_BACKOFF.maxDelaySeconds
  const marginSeconds = 2 * taskStateSeconds + 1
  return {
    seamCallSeconds: longestSeamCallSeconds,
    taskSeconds,
    taskStateSeconds,
    marginSeconds,
    totalSeconds: policy.stageTimeoutSeconds + marginSeconds,
  }
}

/**
 * How often the state machine retries one task, per kind of error (the construct's Retry fields; each
 * retrier counts on its own): Lambda's other transient errors, Seam's throttled/unavailable errors,
 * anything else (a crash, a timeout). Permanent Seam errors are not retried. Lambda's throttling is
 * retried as long as the task may call Seam: throttleRetries.
 */
export const TASK_RETRIES = {
  lambdaTransient: 1,
  /**
   * SeamThrottledError / SeamUnavailableError that reach the task: a Seam that did not answer (a stage
   * keeps a 429/5xx answer for its next check itself), after the client's own retries.
   */
  seamTransient: 1,
  other: 2,
} as const

/**
 * How Step Functions retries a task Lambda refused for lack of a slot (Lambda.TooManyRequestsException:
 * past seamConcurrency, the functions' reserved concurrency, a task waits its turn): short delays
 * (full jitter under each), so that a slot another task frees is taken soon and often.
 */
export const THROTTLE_RETRY_BACKOFF = {
  intervalSeconds: 1,
  backoffRate: 1.5,
  maxDelaySeconds: 5,
} as const

/** The fewest Lambda.TooManyRequestsException retries a task gets, whatever the policy. */
export const MIN_THROTTLE_RETRIES = 10

/**
 * Lambda.TooManyRequestsException retries of one task: as many as fit, delays at their longest, in the
 * time the task state may call Seam (stageTimeBound's taskSeconds, counted from when it was entered)
 * less one Seam call's, so a task waits for a slot about as long as it would wait for Seam itself: many
 * deletions at once slow down rather than fail, the stage's time bound holds, and a task that gets its
 * slot on its last retry still has time for a call. Fewer when that many would let an execution reach
 * the history limit (a policy with long stages and many checks), never fewer than
 * MIN_THROTTLE_RETRIES. With the default policy: 28, about 2 minutes of delays at their longest (about
 * a minute on average under full jitter).
 */
export function throttleRetries(
  policy: PollPolicy,
  longestSeamCallSeconds = LONGEST_SEAM_CALL_MS / 1000,
  shape: WorkflowShape = {},
): number {
  // A task that gets its slot on its last retry still has one Seam call's time left.
  const { taskSeconds, seamCallSeconds } = stageTimeBound(policy, longestSeamCallSeconds)
  const { intervalSeconds, backoffRate, maxDelaySeconds } = THROTTLE_RETRY_BACKOFF
  let fit = 0
  for (let total = 0; ; fit++) {
    const delay = Math.min(maxDelaySeconds, intervalSeconds * backoffRate ** fit)
    if (total + delay > taskSeconds - seamCallSeconds) break
    total += delay
  }
  let retries = Math.max(MIN_THROTTLE_RETRIES, fit)
  while (
    retries > MIN_THROTTLE_RETRIES &&
    worstCaseHistoryEvents(policy, retries + otherRetries(), shape) >= HISTORY_EVENT_LIMIT
  ) {
    retries--
  }
  return retries
}

function otherRetries(): number {
  return TASK_RETRIES.lambdaTransient + TASK_RETRIES.seamTransient + TASK_RETRIES.other
}

/**
 * History events per state, as the definition makes them. A Task: TaskStateEntered, TaskScheduled,
 * TaskStarted, TaskSucceeded (or TaskFailed), TaskStateExited; each retry adds TaskFailed (or
 * TaskTimedOut), TaskScheduled, TaskStarted. A Wait, a Choice or a Pass: entered, exited. The execution:
 * ExecutionStarted and its end; the last states: `Deleted` (a Pass), or `Explain … failure` (a Pass)
 * and a Fail (entered only).
 */
export const HISTORY_EVENTS = {
  task: 5,
  retry: 3,
  wait: 2,
  choice: 2,
  execution: 2,
  end: 3,
  /** A callback task (`Await <stage>`): entered, scheduled, started, submitted, its end, exited. */
  await: 6,
} as const

/** How often an `Await <stage>` is retried when Lambda refuses to start it (infra/constructs/await-stage.ts). */
export const AWAIT_RETRIES = 2

/**
 * Where Seam's webhooks resume the stages they confirm, each of their waits is an `Await <stage>`
 * (a callback task, TimeoutSeconds from awaitSeconds) instead of a Wait, and a resumed stage leaves
 * through its `confirmed?` Choice: more history events per wait.
 */
export interface WorkflowShape {
  readonly awaits?: boolean
}

/** One loop of a stage: its Wait, its Check task (every retry taken) and its `done?` Choice. */
export function historyEventsPerCheck(
  policy: PollPolicy,
  longestSeamCallSeconds = LONGEST_SEAM_CALL_MS / 1000,
  shape: WorkflowShape = {},
): number {
  return (
    HISTORY_EVENTS.wait +
    taskEvents(totalRetries(policy, longestSeamCallSeconds, shape)) +
    HISTORY_EVENTS.choice
  )
}

/** Every retrier of one task taken to its limit. */
function totalRetries(
  policy: PollPolicy,
  longestSeamCallSeconds = LONGEST_SEAM_CALL_MS / 1000,
  shape: WorkflowShape = {},
): number {
  return throttleRetries(policy, longestSeamCallSeconds, shape) + otherRetries()
}

function taskEvents(retries: number): number {
  return HISTORY_EVENTS.task + retries * HISTORY_EVENTS.retry
}

/**
 * The most checks one stage can make: maxChecks, or fewer when its waits use up stageTimeoutSeconds
 * first. Waits are whole seconds, at least 1 (the first may be Seam's measured pace, so 1 s here);
 * the time tasks take only makes the count smaller. At least one check follows the deletes.
 */
export function maxChecksPerStage(policy: PollPolicy): number {
  const start = new Date(0)
  let elapsedSeconds = 1
  for (let checks = 1; ; checks++) {
    const next = nextPoll(policy, checks, start, new Date(elapsedSeconds * 1000))
    if (!next.checksLeft) return checks
    elapsedSeconds += next.waitSeconds
  }
}

/**
 * The most history events one execution can have under the policy: every stage (each loops) making
 * its most checks, every task retried to its limit, ending in the longest of the last states.
 * `retriesPerTask` is there for tests that count a run without retries.
 */
export function worstCaseHistoryEvents(
  policy: PollPolicy,
  retriesPerTask?: number,
  shape: WorkflowShape = {},
): number {
  const retries = retriesPerTask ?? totalRetries(policy, undefined, shape)
  const stages = DELETION_STAGES.length
  const task = taskEvents(retries)
  // Counted as if every stage awaited: a bound for the identity's Waits too.
  const wait = shape.awaits
    ? HISTORY_EVENTS.await + AWAIT_RETRIES * HISTORY_EVENTS.retry
    : HISTORY_EVENTS.wait
  const perCheck = wait + task + HISTORY_EVENTS.choice
  const confirmed = shape.awaits ? HISTORY_EVENTS.choice : 0
  const perStage = task + HISTORY_EVENTS.choice + maxChecksPerStage(policy) * perCheck + confirmed
  return HISTORY_EVENTS.execution + stages * perStage + HISTORY_EVENTS.end
}

/**
 * The execution's TimeoutSeconds: every stage may run to its bound (all of them loop), plus a margin,
 * so a stage that waits too long fails as stuck, naming what is stuck, before the execution times out.
 * An `Await <stage>` times out within the stage's time (awaitSeconds; TimeoutSeconds counts its
 * Lambda's start too), so the bound holds with webhooks as without.
 */
export function executionTimeoutSeconds(policy: PollPolicy): number {
  return (
    DELETION_STAGES.length * Math.ceil(stageTimeBound(policy).totalSeconds) +
    EXECUTION_TIMEOUT_MARGIN_SECONDS
  )
}

/**
 * Reject a policy that could loop without bound, wait zero seconds, let a stage wait hours, give a
 * stage less time than one Seam call may take, or let an execution reach Step Functions' history
 * limit; messages name the field or the limit. `longestSeamCallSeconds`: as for stageTimeBound.
 */
export function validatePollPolicy(
  policy: PollPolicy,
  longestSeamCallSeconds = LONGEST_SEAM_CALL_MS / 1000,
  shape: WorkflowShape = {},
): PollPolicy {
  const problems: string[] = []
  if (!(policy.firstWaitSeconds >= 1)) problems.push('firstWaitSeconds must be at least 1')
  if (!(policy.backoffRate >= 1)) problems.push('backoffRate must be at least 1')
  if (!(policy.maxWaitSeconds >= policy.firstWaitSeconds)) {
    problems.push('maxWaitSeconds must be at least firstWaitSeconds')
  }
  if (
    !(policy.stageTimeoutSeconds >= 1 && policy.stageTimeoutSeconds <= MAX_STAGE_TIMEOUT_SECONDS)
  ) {
    problems.push(`stageTimeoutSeconds must be from 1 to ${MAX_STAGE_TIMEOUT_SECONDS} seconds`)
  }
  if (!(Number.isInteger(policy.maxChecks) && policy.maxChecks >= 1 && policy.maxChecks <= 500)) {
    problems.push('maxChecks must be an integer between 1 and 500')
  }
  if (problems.length === 0 && policy.stageTimeoutSeconds < longestSeamCallSeconds) {
    problems.push(
      `stageTimeoutSeconds must be at least ${longestSeamCallSeconds} s, the longest one Seam call ` +
        "may take (its timeout and the Seam client's retries): a hanging Seam would overrun a shorter stage",
    )
  }
  const bound = stageTimeBound(policy, longestSeamCallSeconds)
  if (problems.length === 0 && bound.taskSeconds > STAGE_TASK_TIMEOUT_SECONDS - 30) {
    problems.push(
      `one Seam call may take ${longestSeamCallSeconds} s, more than a stage task's ` +
        `${STAGE_TASK_TIMEOUT_SECONDS} s Lambda timeout leaves for it: shorten the Seam client's timeout or retries`,
    )
  }
  if (problems.length === 0) {
    const retries = totalRetries(policy, longestSeamCallSeconds, shape)
    const worst = worstCaseHistoryEvents(policy, retries, shape)
    if (worst >= HISTORY_EVENT_LIMIT) {
      problems.push(
        `one execution could reach ${count(worst)} history events (${DELETION_STAGES.length} stages × ` +
          `up to ${maxChecksPerStage(policy)} checks × ${historyEventsPerCheck(policy, longestSeamCallSeconds, shape)} events per check, ` +
          `every task retried to its limit), not below Step Functions' limit of ${count(HISTORY_EVENT_LIMIT)} ` +
          'events per execution: lower maxChecks or stageTimeoutSeconds, or raise firstWaitSeconds, ' +
          'maxWaitSeconds or backoffRate',
      )
    }
  }
  if (problems.length > 0) throw new Error(`Invalid poll policy: ${problems.join('; ')}`)
  return policy
}

const count = (n: number) => n.toLocaleString('en-US')

export interface PollDecision {
  /** Seconds to wait before the next check (whole seconds: a Wait state's SecondsPath takes integers). */
  readonly waitSeconds: number
  /** False when the stage has used its time or its checks: the deletion fails, naming what is stuck. */
  readonly checksLeft: boolean
}

/**
 * After check number `checksDone` (0 = right after the deletes), decide the next wait.
 * The wait grows by backoffRate up to maxWaitSeconds and is cut short so that the last check lands on
 * the stage's deadline rather than past it.
 */
export function nextPoll(
  policy: PollPolicy,
  checksDone: number,
  startedAt: Date,
  now: Date,
): PollDecision {
  const grown = policy.firstWaitSeconds * policy.backoffRate ** checksDone
  const wait = Math.min(policy.maxWaitSeconds, grown)
  const remaining = policy.stageTimeoutSeconds - (now.getTime() - startedAt.getTime()) / 1000
  if (remaining <= 0 || checksDone >= policy.maxChecks) return { waitSeconds: 0, checksLeft: false }
  return { waitSeconds: Math.max(1, Math.ceil(Math.min(wait, remaining))), checksLeft: true }
}

/**
 * With Seam's webhooks, how much longer than the poll's longest wait a trusted `Await <stage>` waits for
 * its events: a webhook comes a moment after Seam's delete is done.
 */
export const DELIVERY_GRACE_SECONDS = 1

/**
 * The next Await's timeout. Untrusted deliveries (deliveries.ts trustDeliveries): the poll's wait, so a
 * lost delivery costs no more time than polling. Trusted: the Await is a safety net, and a delivery
 * ends it early — the poll's longest wait (maxWaitSeconds) plus DELIVERY_GRACE_SECONDS, so Seam's pace
 * need not be known, and a delivery Svix retries after a quick failure still resumes it; never past
 * the stage's time (the stage's time bound holds as with Waits).
 */
export function awaitSeconds(
  policy: PollPolicy,
  waitSeconds: number,
  startedAt: Date,
  now: Date,
  deliveriesTrusted: boolean,
): number {
  if (!deliveriesTrusted) return waitSeconds
  const remaining = policy.stageTimeoutSeconds - (now.getTime() - startedAt.getTime()) / 1000
  const wanted = Math.max(waitSeconds, policy.maxWaitSeconds) + DELIVERY_GRACE_SECONDS
  return Math.max(waitSeconds, Math.min(wanted, Math.floor(remaining)))
}

/**
 * Seam's pace is taken a little under what was measured: a Wait lasts whole seconds and the check itself
 * comes a moment after the Wait ends, so 2.003 s of Seam work is a 2 s wait, not 3.
 */
export const PACE_TOLERANCE_SECONDS = 0.1
