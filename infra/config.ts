/**
 * The deployment's settings, from CDK context values (`-c key=value` or cdk.json), checked with messages
 * that name the key and the accepted values. Pure: infra/app.ts reads the context and hands it in.
 */
import {
  DEFAULT_POLL_POLICY,
  MAX_STAGE_TIMEOUT_SECONDS,
  type PollPolicy,
  validatePollPolicy,
} from '../functions/core/poll.js'

export interface DeploymentConfig {
  readonly stageName: string
  readonly seamSecretName: string
  readonly pollPolicy: PollPolicy
  readonly throttling: { readonly rateLimit: number; readonly burstLimit: number }
  readonly alarmEmail?: string
  /** MaxConcurrency of the bulk deletion's distributed Map. */
  readonly bulkDeletionConcurrency?: number
  /** Reserved concurrency of each function that calls Seam in the deletion workflows. */
  readonly seamConcurrency?: number
  /** Seam's webhooks resume waiting stages (default true); false: polling only, no webhook resources. */
  readonly seamWebhooks: boolean
  /** The workspace's Seam requests per second this deployment may use (infra/capacity.ts). */
  readonly seamRequestsPerSecond?: number
  /** With seamRequestsPerSecond: reserved concurrency of each API route that calls Seam. */
  readonly seamApiConcurrency?: number
}

/** Every context key read, with what it means (README "Configuration" mirrors this). */
export const CONTEXT_KEYS = [
  'stageName',
  'seamSecretName',
  'stageTimeoutSeconds',
  'firstWaitSeconds',
  'maxWaitSeconds',
  'backoffRate',
  'maxChecks',
  'throttlingRateLimit',
  'throttlingBurstLimit',
  'alarmEmail',
  'bulkDeletionConcurrency',
  'seamConcurrency',
  'seamWebhooks',
  'seamRequestsPerSecond',
  'seamApiConcurrency',
] as const
export type ContextKey = (typeof CONTEXT_KEYS)[number]

/** API stage throttling when not configured; the API construct applies the same defaults. */
export const DEFAULT_THROTTLING = { rateLimit: 50, burstLimit: 100 } as const

/** Thrown for a bad context value; `message` lists every problem found. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError'
}

const STAGE_NAME = /^[A-Za-z][A-Za-z0-9-]{0,31}$/
/** Secrets Manager's name alphabet (1 to 512 characters). */
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/

/** The config for these context values (undefined or '' = the default). */
export function parseConfig(context: Partial<Record<ContextKey, unknown>>): DeploymentConfig {
  const problems: string[] = []
  const text = (key: ContextKey): string | undefined => {
    const value = context[key]
    if (value === undefined || value === null || value === '') return undefined
    if (typeof value !== 'string') {
      problems.push(`${key} must be a string, got ${JSON.stringify(value)}`)
      return undefined
    }
    return value
  }
  const number = (key: ContextKey, check: (n: number) => boolean, what: string) => {
    const value = context[key]
    if (value === undefined || value === null || value === '') return undefined
    const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN
    if (!Number.isFinite(n) || !check(n)) {
      problems.push(`${key} must be ${what}, got ${JSON.stringify(value)}`)
      return undefined
    }
    return n
  }
  const positiveInteger = (n: number) => Number.isInteger(n) && n >= 1

  const stageName = text('stageName') ?? 'dev'
  if (!STAGE_NAME.test(stageName)) {
    problems.push(
      `stageName must start with a letter and hold at most 32 letters, digits or "-" (it names the stack and the API stage), got ${JSON.stringify(stageName)}`,
    )
  }
  const seamSecretName = text('seamSecretName') ?? `seam/${stageName}/api-key`
  if (!SECRET_NAME.test(seamSecretName)) {
    problems.push(
      `seamSecretName must be a Secrets Manager secret name (1 to 512 of A-Z a-z 0-9 / _ + = . @ -), got ${JSON.stringify(seamSecretName)}`,
    )
  }

  const poll: Partial<Record<keyof PollPolicy, number>> = {}
  const pollKeys = {
    stageTimeoutSeconds: [
      (n: number) => positiveInteger(n) && n <= MAX_STAGE_TIMEOUT_SECONDS,
      `a whole number of seconds from 1 to ${MAX_STAGE_TIMEOUT_SECONDS}`,
    ],
    firstWaitSeconds: [positiveInteger, 'a whole number of seconds, at least 1'],
    maxWaitSeconds: [positiveInteger, 'a whole number of seconds, at least 1'],
    backoffRate: [(n: number) => n >= 1, 'a number of at least 1'],
    maxChecks: [(n: number) => positiveInteger(n) && n <= 500, 'a whole number from 1 to 500'],
  } as const
  for (const [key, [check, what]] of Object.entries(pollKeys) as [
    keyof typeof pollKeys,
    (typeof pollKeys)[keyof typeof pollKeys],
  ][]) {
    const n = number(key, check, what)
    if (n !== undefined) poll[key] = n
  }
  const rateLimit = number(
    'throttlingRateLimit',
    (n) => n > 0 && n <= 10_000,
    'requests per second, more than 0 and at most 10000',
  )
  const burstLimit = number(
    'throttlingBurstLimit',
    (n) => positiveInteger(n) && n <= 5_000,
    'a whole number of requests from 1 to 5000',
  )
  const bulkDeletionConcurrency = number(
    'bulkDeletionConcurrency',
    (n) => positiveInteger(n) && n <= 10_000,
    'a whole number from 1 to 10000',
  )
  const seamConcurrency = number(
    'seamConcurrency',
    (n) => positiveInteger(n) && n <= 1_000,
    'a whole number from 1 to 1000',
  )
  const seamRequestsPerSecond = number(
    'seamRequestsPerSecond',
    (n) => n > 0 && n <= 100_000,
    'requests per second, more than 0 and at most 100000',
  )
  const seamApiConcurrency = number(
    'seamApiConcurrency',
    (n) => positiveInteger(n) && n <= 1_000,
    'a whole number from 1 to 1000',
  )
  if (seamRequestsPerSecond !== undefined && seamConcurrency === undefined) {
    problems.push(
      'seamRequestsPerSecond needs seamConcurrency: the budget is divided among the instances that can run at once, and only a reserved concurrency bounds them (e.g. -c seamConcurrency=10)',
    )
  }
  const alarmEmail = text('alarmEmail')
  if (alarmEmail !== undefined && !EMAIL.test(alarmEmail)) {
    problems.push(`alarmEmail must be an email address, got ${JSON.stringify(alarmEmail)}`)
  }

  const webhooksValue = context.seamWebhooks
  let seamWebhooks = true
  if (webhooksValue === false || webhooksValue === 'false') seamWebhooks = false
  else if (!(webhooksValue === undefined || webhooksValue === null || webhooksValue === '')) {
    if (webhooksValue !== true && webhooksValue !== 'true') {
      problems.push(`seamWebhooks must be true or false, got ${JSON.stringify(webhooksValue)}`)
    }
  }

  let pollPolicy: PollPolicy = { ...DEFAULT_POLL_POLICY, ...poll }
  if (problems.length === 0) {
    try {
      pollPolicy = validatePollPolicy(pollPolicy, undefined, { awaits: seamWebhooks })
    } catch (error) {
      problems.push((error as Error).message)
    }
  }
  if (problems.length > 0) {
    throw new ConfigError(`Invalid CDK context:\n  - ${problems.join('\n  - ')}`)
  }
  return {
    stageName,
    seamSecretName,
    pollPolicy,
    throttling: {
      rateLimit: rateLimit ?? DEFAULT_THROTTLING.rateLimit,
      burstLimit: burstLimit ?? DEFAULT_THROTTLING.burstLimit,
    },
    ...(alarmEmail ? { alarmEmail } : {}),
    ...(bulkDeletionConcurrency === undefined ? {} : { bulkDeletionConcurrency }),
    ...(seamConcurrency === undefined ? {} : { seamConcurrency }),
    seamWebhooks,
    ...(seamRequestsPerSecond === undefined ? {} : { seamRequestsPerSecond }),
    ...(seamApiConcurrency === undefined ? {} : { seamApiConcurrency }),
  }
}
