/**
 * POST /user-identities through the local API (the create Lambda's handler behind the local API Gateway
 * adapter) against the same create made directly with SeamHttp: the same Seam calls the handler makes
 * on its happy path (acs/users/get per ACS user, user_identities/create, add_acs_user per ACS user).
 */
import { randomBytes } from 'node:crypto'
import { SeamHttp } from '@seamapi/http/connect'
import type { LocalRuntime } from '../local/runtime.js'
import type { SeamEmulator } from '../local/seam-emulator/index.js'
import { HTTP_TIMEOUT_MS } from './deletions.js'
import { quantile, round } from './stats.js'

export interface CreateOptions {
  /** Measured creates per path (after `warmup` unmeasured ones). */
  readonly samples: number
  readonly warmup: number
  readonly concurrentClients: number
  /** Total requests the concurrent clients make together. */
  readonly concurrentRequests: number
}

export interface LatencySummary {
  readonly p50Ms: number
  readonly p95Ms: number
  readonly samples: number
}

export interface CreateResult {
  readonly acsUsersPerCreate: 1
  readonly api: LatencySummary
  readonly direct: LatencySummary
  readonly ratioP50: number
  readonly ratioP95: number
  readonly concurrent: {
    readonly clients: number
    readonly requests: number
    readonly elapsedMs: number
    readonly throughputPerSecond: number
    readonly errors: number
    readonly p50Ms: number
    readonly p95Ms: number
    /** Seam requests the concurrent creates made, per create. */
    readonly seamRequestsPerCreate: number
  }
}

interface Input {
  user_identity_key: string
  email_address: string
  full_name: string
  acs_user_ids: string[]
}

function inputs(emulator: SeamEmulator, count: number): Input[] {
  const system = emulator.seed.acsSystem({ name: 'Bench access system' })
  return Array.from({ length: count }, (_, i) => {
    const tag = `${i}-${randomBytes(4).toString('hex')}`
    const acsUser = emulator.seed.acsUser({ acsSystemId: system.acs_system_id })
    return {
      user_identity_key: `bench-${tag}`,
      email_address: `bench-${tag}@example.com`,
      full_name: `Bench User ${tag}`,
      acs_user_ids: [acsUser.acs_user_id],
    }
  })
}

async function createThroughApi(url: string, input: Input): Promise<number> {
  const started = performance.now()
  const response = await fetch(`${url}/user-identities`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(input),
    signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
  })
  await response.arrayBuffer()
  if (response.status !== 201) throw new Error(`POST /user-identities answered ${response.status}`)
  return performance.now() - started
}

async function createDirectly(seam: SeamHttp, input: Input): Promise<number> {
  const started = performance.now()
  for (const acs_user_id of input.acs_user_ids) await seam.acs.users.get({ acs_user_id })
  const identity = await seam.userIdentities.create({
    user_identity_key: input.user_identity_key,
    email_address: input.email_address,
    full_name: input.full_name,
  })
  for (const acs_user_id of input.acs_user_ids) {
    await seam.userIdentities.addAcsUser({
      user_identity_id: identity.user_identity_id,
      acs_user_id,
    })
  }
  return performance.now() - started
}

const summary = (values: readonly number[]): LatencySummary => ({
  p50Ms: round(quantile(values, 0.5)),
  p95Ms: round(quantile(values, 0.95)),
  samples: values.length,
})

export async function measureCreate(
  runtime: LocalRuntime,
  emulator: SeamEmulator,
  options: CreateOptions,
): Promise<CreateResult> {
  const seam = SeamHttp.fromApiKey(emulator.apiKey, { endpoint: emulator.url })
  const total = options.warmup + options.samples
  const apiInputs = inputs(emulator, total)
  const directInputs = inputs(emulator, total)
  const api: number[] = []
  const direct: number[] = []
  // Alternate the two so drift in machine load hits both alike.
  for (let i = 0; i < total; i++) {
    const a = await createThroughApi(runtime.url, apiInputs[i] as Input)
    const d = await createDirectly(seam, directInputs[i] as Input)
    if (i >= options.warmup) {
      api.push(a)
      direct.push(d)
    }
  }

  const concurrentInputs = inputs(emulator, options.concurrentRequests)
  const latencies: number[] = []
  let next = 0
  let errors = 0
  const from = emulator.requests.length
  const started = performance.now()
  await Promise.all(
    Array.from({ length: options.concurrentClients }, async () => {
      while (next < concurrentInputs.length) {
        const input = concurrentInputs[next++] as Input
        try {
          latencies.push(await createThroughApi(runtime.url, input))
        } catch {
          errors++
        }
      }
    }),
  )
  const elapsedMs = performance.now() - started
  const seamRequests = emulator.requests.length - from

  const apiSummary = summary(api)
  const directSummary = summary(direct)
  return {
    acsUsersPerCreate: 1,
    api: apiSummary,
    direct: directSummary,
    ratioP50: round(apiSummary.p50Ms / directSummary.p50Ms),
    ratioP95: round(apiSummary.p95Ms / directSummary.p95Ms),
    concurrent: {
      clients: options.concurrentClients,
      requests: options.concurrentRequests,
      elapsedMs: round(elapsedMs),
      throughputPerSecond: round((options.concurrentRequests / elapsedMs) * 1000),
      errors,
      p50Ms: round(quantile(latencies, 0.5)),
      p95Ms: round(quantile(latencies, 0.95)),
      seamRequestsPerCreate: round(seamRequests / options.concurrentRequests),
    },
  }
}
