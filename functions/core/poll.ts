/**
 * How a stage waits for Seam to confirm its asynchronous deletes: bounded in time, with backoff.
 * Pure functions; the state machine's Choice reads what they return, and the construct's props set the
 * policy (see infra/constructs/deletion-workflow.ts).
 */

export interface PollPolicy {
  /** The first wait after a stage's deletes, sized to how long Seam typically takes. */
  readonly firstWaitSeconds: number
  /** Each later wait is the previous one times this. */
  readonly backoffRate: number
  /** No single wait is longer than this. */
  readonly maxWaitSeconds: number
  /** The longest a stage may wait for confirmations before the deletion fails, naming what is stuck. */
  readonly stageTimeoutSeconds: number
  /** A hard cap on checks per stage, so no loop can approach the 25,000-event execution history. */
  readonly maxChecks: number
}

export const DEFAULT_POLL_POLICY: PollPolicy = {
  firstWaitSeconds: 2,
  backoffRate: 1.5,
  maxWaitSeconds: 30,
  stageTimeoutSeconds: 600,
  maxChecks: 60,
}

/** Reject a policy that could loop without bound or wait zero seconds; messages name the field. */
export function validatePollPolicy(policy: PollPolicy): PollPolicy {
  const problems: string[] = []
  if (!(policy.firstWaitSeconds >= 1)) problems.push('firstWaitSeconds must be at least 1')
  if (!(policy.backoffRate >= 1)) problems.push('backoffRate must be at least 1')
  if (!(policy.maxWaitSeconds >= policy.firstWaitSeconds)) {
    problems.push('maxWaitSeconds must be at least firstWaitSeconds')
  }
  if (!(policy.stageTimeoutSeconds >= 1)) problems.push('stageTimeoutSeconds must be at least 1')
  if (!(Number.isInteger(policy.maxChecks) && policy.maxChecks >= 1 && policy.maxChecks <= 500)) {
    problems.push('maxChecks must be an integer between 1 and 500')
  }
  if (problems.length > 0) throw new Error(`Invalid poll policy: ${problems.join('; ')}`)
  return policy
}

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
