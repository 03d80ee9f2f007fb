import type { FaultKind, FaultOptions } from './types.js'

export const NO_FAULTS: FaultOptions = {
  throttleRate: 0,
  unavailableRate: 0,
  nonJsonErrorRate: 0,
  retryAfterSeconds: 1,
  latencyMs: 0,
}

export const resolveFaults = (faults: Partial<FaultOptions> = {}): FaultOptions => {
  const resolved = { ...NO_FAULTS, ...faults }
  for (const key of ['throttleRate', 'unavailableRate', 'nonJsonErrorRate'] as const) {
    const rate = resolved[key]
    if (!(rate >= 0 && rate <= 1)) throw new RangeError(`${key} must be within 0..1, got ${rate}`)
  }
  if (resolved.throttleRate + resolved.unavailableRate > 1) {
    throw new RangeError('throttleRate + unavailableRate must not exceed 1')
  }
  if (!(resolved.retryAfterSeconds >= 0)) throw new RangeError('retryAfterSeconds must be >= 0')
  if (!(resolved.latencyMs >= 0)) throw new RangeError('latencyMs must be >= 0')
  const limit = resolved.rateLimitPerSecond
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 0)) {
    throw new RangeError(`rateLimitPerSecond must be a whole number >= 0, got ${limit}`)
  }
  return resolved
}

/**
 * A deterministic random source (mulberry32) for `SeamEmulatorOptions.random`: the same seed gives
 * the same fault draws on every run, so a test with injected faults does not depend on luck.
 */
export function seededRandom(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * Decides which fault, if any, a Seam API request gets. One draw from the random source picks
 * the outcome (below throttleRate: 429; below throttleRate + unavailableRate: 503); a 503 takes a
 * second draw for HTML-vs-JSON when 0 < nonJsonErrorRate < 1. No draw is taken when the rates make
 * the outcome certain, so a scripted random source maps one value to one request.
 */
export class FaultInjector {
  private faults: FaultOptions
  /** When the requests admitted in the last second were answered (the rate limit's window). */
  private readonly admitted: number[] = []
  /** Retry-After of the last 429 of the rate limit, in seconds. */
  private limitedRetryAfter: number | undefined

  constructor(
    faults: Partial<FaultOptions> | undefined,
    private readonly random: () => number,
  ) {
    this.faults = resolveFaults(faults)
  }

  set(faults: Partial<FaultOptions>): void {
    this.faults = resolveFaults(faults)
  }

  get current(): FaultOptions {
    return this.faults
  }

  appliesTo(path: string): boolean {
    return this.faults.paths === undefined || this.faults.paths.includes(path)
  }

  latencyFor(path: string): number {
    return this.appliesTo(path) ? this.faults.latencyMs : 0
  }

  /** The Retry-After (seconds) of the 429 just picked. */
  retryAfterSeconds(): number {
    return this.limitedRetryAfter ?? this.faults.retryAfterSeconds
  }

  /** The rate limit: true when this request is over it (then retryAfterSeconds() says for how long). */
  private overRateLimit(now: number): boolean {
    const limit = this.faults.rateLimitPerSecond ?? 0
    this.limitedRetryAfter = undefined
    if (limit === 0) return false
    while (this.admitted.length > 0 && (this.admitted[0] as number) <= now - 1000)
      this.admitted.shift()
    if (this.admitted.length < limit) {
      this.admitted.push(now)
      return false
    }
    this.limitedRetryAfter = Math.max(
      1,
      Math.ceil(((this.admitted[0] as number) + 1000 - now) / 1000),
    )
    return true
  }

  pick(path: string, now = Date.now()): FaultKind | null {
    if (this.overRateLimit(now)) return 'throttled'
    if (!this.appliesTo(path)) return null
    const { throttleRate, unavailableRate, nonJsonErrorRate } = this.faults
    if (throttleRate + unavailableRate === 0) return null
    const draw = this.random()
    if (draw < throttleRate) return 'throttled'
    if (draw >= throttleRate + unavailableRate) return null
    if (nonJsonErrorRate === 0) return 'unavailable'
    if (nonJsonErrorRate >= 1) return 'unavailable_non_json'
    return this.random() < nonJsonErrorRate ? 'unavailable_non_json' : 'unavailable'
  }
}
