/**
 * The deployment's Seam budget (seamRequestsPerSecond) divided among the instances that can call Seam,
 * with no shared state: a Lambda instance serves one invocation at a time, so a function with reserved
 * concurrency R runs at most R instances at once, and if each paces its requests at share ÷ R
 * (functions/seam/pacer.ts), the function stays within its share. The shares add up to the budget:
 *
 *   stages    every deletion stage runs in ONE function (reserved seamConcurrency): a deletion is in one
 *             stage at a time, and a function per stage would let stages × seamConcurrency run at once;
 *   bulk      the bulk deletion's item task (reserved seamConcurrency): one lookup per identity. Its
 *             calls are one quick request per invocation, and Lambda gives the next item the instance it
 *             just used, so a share split over R instances made every other item wait for that instance's
 *             next token: its lookups instead take slots of one deployment-wide count in the
 *             coordination table (Coordination.takeRateSlot), and each instance may use the whole share;
 *   api       each API route that calls Seam (reserved seamApiConcurrency), its share of the API's share.
 *
 * Without seamRequestsPerSecond nothing is paced (seamConcurrency alone still bounds invocations).
 */
export interface SeamCapacityInput {
  /** The workspace's Seam requests per second this deployment may use. */
  readonly requestsPerSecond: number
  /** Reserved concurrency of the stage function and of the bulk item task. */
  readonly seamConcurrency: number
  /** Reserved concurrency of each API route that calls Seam. */
  readonly apiConcurrency?: number
  /** Fractions of the budget (default DEFAULT_SEAM_SHARES); the stages get the rest. */
  readonly shares?: Partial<Omit<SeamShares, 'stages'>>
  /** The ids of the API routes that call Seam; they split the API's share by SEAM_API_ROUTE_WEIGHTS. */
  readonly apiRoutes: readonly string[]
}

interface SeamShares {
  readonly api: number
  readonly bulk: number
  readonly stages: number
}

/** What one function is given: its reserved concurrency and each instance's pace. */
export interface FunctionCapacity {
  readonly reservedConcurrency: number
  readonly instanceRequestsPerSecond: number
  /**
   * The function's whole share, counted deployment-wide in the coordination table (the bulk task):
   * its instances together send at most this, however many run.
   */
  readonly sharedRequestsPerSecond?: number
}

export interface SeamCapacityPlan {
  readonly requestsPerSecond: number
  readonly stages: FunctionCapacity
  readonly bulk: FunctionCapacity
  /** Each Seam-calling API route, by route id. */
  readonly apiRoutes: Readonly<Record<string, FunctionCapacity>>
}

/**
 * What a Seam-calling route answers (503) past its reserved concurrency, locally and on API Gateway. On
 * API Gateway it is the integration-failure response, which also covers a handler that failed after it
 * ran: so it does not claim that nothing was changed.
 */
export const SEAM_BUSY_RETRY_AFTER_SECONDS = 1
export const SEAM_BUSY_MESSAGE =
  'This service is using all of its Seam capacity (seamRequestsPerSecond), or could not run its handler, right now. Retry after the Retry-After seconds.'

const DEFAULT_SEAM_SHARES = { api: 0.08, bulk: 0.05 } as const
const DEFAULT_SEAM_API_CONCURRENCY = 2
/**
 * How the API routes split the API's share (a route not named weighs 1): a DELETE is one lookup and may
 * come in hundreds at once (an offboarding without a bulk deletion); creates and plans are rarer.
 */
const SEAM_API_ROUTE_WEIGHTS: Readonly<Record<string, number>> = { StartDeletion: 2 }

/** The plan for `input`; throws when the shares do not fit within the budget. */
export function planSeamCapacity(input: SeamCapacityInput): SeamCapacityPlan {
  const api = input.shares?.api ?? DEFAULT_SEAM_SHARES.api
  const bulk = input.shares?.bulk ?? DEFAULT_SEAM_SHARES.bulk
  const stages = 1 - api - bulk
  const apiConcurrency = input.apiConcurrency ?? DEFAULT_SEAM_API_CONCURRENCY
  const problems: string[] = []
  if (!(input.requestsPerSecond > 0)) problems.push('seamRequestsPerSecond must be more than 0')
  if (!(api > 0 && bulk > 0 && stages > 0)) {
    problems.push(
      `the API's share (${api}) and the bulk task's (${bulk}) must be more than 0 and leave the stages more than 0`,
    )
  }
  if (problems.length > 0) throw new RangeError(`Seam capacity: ${problems.join('; ')}`)
  const weight = (id: string) => SEAM_API_ROUTE_WEIGHTS[id] ?? 1
  const totalWeight = input.apiRoutes.reduce((sum, id) => sum + weight(id), 0)
  const plan: SeamCapacityPlan = {
    requestsPerSecond: input.requestsPerSecond,
    stages: capacity(input.requestsPerSecond * stages, input.seamConcurrency),
    bulk: sharedCapacity(input.requestsPerSecond * bulk, input.seamConcurrency),
    apiRoutes: Object.fromEntries(
      input.apiRoutes.map((id) => [
        id,
        capacity((input.requestsPerSecond * api * weight(id)) / totalWeight, apiConcurrency),
      ]),
    ),
  }
  // The invariant the whole design rests on, checked rather than assumed.
  const total = planRequestsPerSecond(plan)
  if (total > input.requestsPerSecond * (1 + 1e-9)) {
    throw new RangeError(
      `Seam capacity: the functions' paces add up to ${total} requests per second, over the budget of ${input.requestsPerSecond}`,
    )
  }
  return plan
}

/** The most requests per second every instance together can send under `plan`. */
export function planRequestsPerSecond(plan: SeamCapacityPlan): number {
  const most = (f: FunctionCapacity) =>
    f.sharedRequestsPerSecond ?? f.reservedConcurrency * f.instanceRequestsPerSecond
  const api = Object.values(plan.apiRoutes).reduce((sum, route) => sum + most(route), 0)
  return most(plan.stages) + most(plan.bulk) + api
}

/** A share counted deployment-wide: every instance may send all of it, together no more. */
function sharedCapacity(share: number, reservedConcurrency: number): FunctionCapacity {
  const { instanceRequestsPerSecond } = capacity(share, 1)
  return {
    reservedConcurrency,
    instanceRequestsPerSecond,
    sharedRequestsPerSecond: instanceRequestsPerSecond,
  }
}

function capacity(share: number, reservedConcurrency: number): FunctionCapacity {
  // Rounded down (to 1/1000), so that rounding never takes the total over the budget.
  const pace = Math.floor((share / reservedConcurrency) * 1000) / 1000
  if (pace <= 0) {
    throw new RangeError(
      `Seam capacity: a share of ${share} requests per second over ${reservedConcurrency} instances leaves each less than 0.001 per second; raise seamRequestsPerSecond or lower the concurrency`,
    )
  }
  return { reservedConcurrency, instanceRequestsPerSecond: pace }
}
