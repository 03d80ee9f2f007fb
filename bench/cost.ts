/**
 * AWS cost per million deletions at list prices (us-east-1): Step Functions Standard transitions and the
 * Lambda invocations of one deletion. Durations are the ones measured locally (the handler running in
 * this process against the emulator on 127.0.0.1) — a proxy: against real Seam each call waits on the
 * network, so real durations are longer.
 */

export const PRICES = {
  /** Step Functions Standard: $0.025 per 1,000 state transitions. */
  standardPerTransition: 0.025 / 1000,
  /** Lambda requests: $0.20 per 1M. */
  lambdaPerRequest: 0.2 / 1_000_000,
  /** Lambda duration on ARM (arm64), first tier: $0.0000133334 per GB-second. */
  lambdaArmPerGbSecond: 0.0000133334,
} as const

export interface CostInput {
  readonly transitions: number
  /** Invocations of the state machine's Lambdas per deletion. */
  readonly lambdaInvocations: number
  /** Duration of each of those invocations (ms), measured locally. */
  readonly lambdaDurationsMs: readonly number[]
  /** The DELETE route's Lambda: one invocation per deletion, its duration (ms). */
  readonly apiDurationMs: number
  readonly memoryMb: number
}

export interface CostPerMillion {
  readonly stepFunctions: number
  readonly lambdaRequests: number
  readonly lambdaDuration: number
  readonly total: number
  /** Billed GB-seconds per deletion (each invocation rounded up to 1 ms). */
  readonly gbSecondsPerDeletion: number
}

export function costPerMillionDeletions(input: CostInput): CostPerMillion {
  const million = 1_000_000
  const billedMs = [...input.lambdaDurationsMs, input.apiDurationMs].map((ms) =>
    Math.max(1, Math.ceil(ms)),
  )
  const gbSeconds = (billedMs.reduce((a, b) => a + b, 0) / 1000) * (input.memoryMb / 1024)
  const stepFunctions = input.transitions * PRICES.standardPerTransition * million
  const lambdaRequests = (input.lambdaInvocations + 1) * PRICES.lambdaPerRequest * million
  const lambdaDuration = gbSeconds * PRICES.lambdaArmPerGbSecond * million
  return {
    stepFunctions,
    lambdaRequests,
    lambdaDuration,
    total: stepFunctions + lambdaRequests + lambdaDuration,
    gbSecondsPerDeletion: gbSeconds,
  }
}
