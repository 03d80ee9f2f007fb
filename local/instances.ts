/**
 * Lambda instances of one function, simulated in this process: an instance serves one invocation at a
 * time and is reused once free (a new one starts only when every one is busy), and each brings its own
 * Seam pacer, as each deployed instance is its own process with its own pace (infra/capacity.ts). What is
 * emulated: the pace per instance and, through `throttled`, the reserved concurrency of an API route
 * (the workflow runner refuses invocations past it itself). Not emulated: cold starts, instance recycling.
 */
import { createSeamPacer, type SeamPacer, withSeamPacer } from '../functions/seam/index.js'
import type { FunctionCapacity } from '../infra/capacity.js'

export function asInstances<E, C, R>(
  handler: (event: E, context: C) => Promise<R>,
  capacity: FunctionCapacity | undefined,
  /** The answer past the reserved concurrency; without it the caller enforces that itself. */
  throttled?: (event: E) => R,
): (event: E, context: C) => Promise<R> {
  if (!capacity) return handler
  const idle: SeamPacer[] = []
  let busy = 0
  return async (event, context) => {
    if (throttled && busy >= capacity.reservedConcurrency) return throttled(event)
    const pacer = idle.pop() ?? createSeamPacer(capacity.instanceRequestsPerSecond)
    busy++
    try {
      return await withSeamPacer(pacer, () => handler(event, context))
    } finally {
      busy--
      idle.push(pacer)
    }
  }
}
