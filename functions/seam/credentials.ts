/**
 * Where the Seam API key comes from, read once per cold start:
 *   1. SEAM_API_KEY (+ optional SEAM_ENDPOINT): local runs, tests, any Seam-compatible server;
 *   2. else SEAM_API_KEY_SECRET_NAME: the Secrets Manager secret holding the key (deployed Lambdas),
 *      either the key as plain text or JSON {"api_key": "seam_..."}.
 * The key itself is never logged nor put in an error message.
 */
import { Logger } from '@aws-lambda-powertools/logger'
import { clearCaches } from '@aws-lambda-powertools/parameters'
import { getSecret } from '@aws-lambda-powertools/parameters/secrets'
import { recordSeamRequest, seamOutcome } from '../telemetry/metrics.js'
import { createSeamClient, type SeamClientOptions } from './client.js'
import { SeamConfigurationError, SeamError } from './errors.js'
import { currentSeamPacer, pacerFromEnvironment } from './pacer.js'
import type { SeamClient } from './types.js'

export const SEAM_API_KEY_ENV = 'SEAM_API_KEY'
export const SEAM_ENDPOINT_ENV = 'SEAM_ENDPOINT'
export const SEAM_API_KEY_SECRET_NAME_ENV = 'SEAM_API_KEY_SECRET_NAME'

/** The key changes only by rotation, which comes with a redeploy or a cold start. */
const SECRET_MAX_AGE_SECONDS = 24 * 60 * 60

const logger = new Logger({
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'seam-user-identities',
})

let cachedClient: Promise<SeamClient> | undefined

/**
 * The client for this process, configured from the environment on first use and reused by every later
 * invocation of a warm Lambda. A failure is not cached: the next invocation tries again.
 */
export function seamClientFromEnvironment(): Promise<SeamClient> {
  cachedClient ??= clientFromEnvironment(process.env).catch((err: unknown) => {
    cachedClient = undefined
    throw err
  })
  return cachedClient
}

/** Tests only: forget the cached client and the cached secret. */
export function resetSeamClientCache(): void {
  cachedClient = undefined
  clearCaches()
}

export interface SeamCredentials {
  apiKey: string
  endpoint?: string | undefined
  /** Where the key came from, for logs. */
  source: 'env' | 'secrets_manager'
}

/** Reads the credentials the environment points at (the secret, if that is where the key is). */
export async function resolveSeamCredentials(
  env: Record<string, string | undefined>,
): Promise<SeamCredentials> {
  const endpoint = nonEmpty(env[SEAM_ENDPOINT_ENV])
  const apiKey = nonEmpty(env[SEAM_API_KEY_ENV])
  if (apiKey) return { apiKey, endpoint, source: 'env' }
  const secretName = nonEmpty(env[SEAM_API_KEY_SECRET_NAME_ENV])
  if (secretName) {
    return { apiKey: await readApiKeySecret(secretName), endpoint, source: 'secrets_manager' }
  }
  throw configurationError(
    'seam_not_configured',
    `Seam is not configured: set ${SEAM_API_KEY_ENV} to a Seam API key (and optionally ${SEAM_ENDPOINT_ENV}), or, in Lambda, ${SEAM_API_KEY_SECRET_NAME_ENV} to the name of the Secrets Manager secret holding it.`,
  )
}

async function clientFromEnvironment(env: Record<string, string | undefined>): Promise<SeamClient> {
  const credentials = await resolveSeamCredentials(env)
  // One Lambda instance = one process: its pace (set by the stack) is this process's.
  const instancePacer = pacerFromEnvironment(env)
  const options: SeamClientOptions = {
    pacer: () => currentSeamPacer() ?? instancePacer,
    onRetry: (info) => logger.warn('Retrying a Seam call', { seam: info }),
    onRequest: ({ route, ms, status, failure }) =>
      recordSeamRequest({ route, ms, outcome: seamOutcome({ status, failure }) }),
  }
  const client = createSeamClient(
    { apiKey: credentials.apiKey, endpoint: credentials.endpoint },
    options,
  )
  logger.debug('Seam client configured', {
    seam: { source: credentials.source, endpoint: credentials.endpoint ?? 'default' },
  })
  return client
}

async function readApiKeySecret(secretName: string): Promise<string> {
  let value: unknown
  try {
    value = await getSecret(secretName, { maxAge: SECRET_MAX_AGE_SECONDS })
  } catch (err) {
    // AWS error messages name the secret and the problem, never its value.
    const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err
    const what = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause)
    throw configurationError(
      'seam_secret_unavailable',
      `Could not read the Seam API key from Secrets Manager secret "${secretName}" (${SEAM_API_KEY_SECRET_NAME_ENV}): ${what}. Check that the secret exists in this region and that the function's role may call secretsmanager:GetSecretValue on it.`,
    )
  }
  const apiKey = parseApiKeySecret(value)
  if (!apiKey) {
    throw configurationError(
      'seam_secret_invalid',
      `The Secrets Manager secret "${secretName}" (${SEAM_API_KEY_SECRET_NAME_ENV}) holds no Seam API key: store the key as plain text, or as JSON {"api_key": "seam_..."}.`,
    )
  }
  return apiKey
}

/** The key from a secret's value: the plain string, or the api_key field of a JSON object. */
export function parseApiKeySecret(value: unknown): string | undefined {
  const text =
    value instanceof Uint8Array
      ? new TextDecoder().decode(value)
      : typeof value === 'string'
        ? value
        : undefined
  const trimmed = text?.trim()
  if (!trimmed) return undefined
  if (!trimmed.startsWith('{')) return trimmed
  try {
    const parsed: unknown = JSON.parse(trimmed)
    const key =
      typeof parsed === 'object' && parsed !== null
        ? (parsed as Record<string, unknown>).api_key
        : undefined
    return typeof key === 'string' ? nonEmpty(key) : undefined
  } catch {
    return undefined
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim()
  return trimmed ? trimmed : undefined
}

function configurationError(type: string, message: string): SeamError {
  return new SeamError({ name: SeamConfigurationError, type, message, retryable: false })
}
