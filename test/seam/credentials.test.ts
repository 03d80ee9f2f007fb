import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager'
import { mockClient } from 'aws-sdk-client-mock'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  parseApiKeySecret,
  resetSeamClientCache,
  SeamConfigurationError,
  SeamError,
  seamClientFromEnvironment,
} from '../../functions/seam/index.js'
import { json, type StubServer, startStubServer } from './stub-server.js'

const secrets = mockClient(SecretsManagerClient)
let server: StubServer

beforeAll(async () => {
  server = await startStubServer((_req, res) =>
    json(res, 200, { user_identity: { user_identity_id: 'ui_1' } }),
  )
})
afterAll(() => server.close())

beforeEach(() => {
  secrets.reset()
  resetSeamClientCache()
  for (const name of ['SEAM_API_KEY', 'SEAM_ENDPOINT', 'SEAM_API_KEY_SECRET_NAME']) {
    vi.stubEnv(name, undefined)
  }
})
afterEach(() => {
  vi.unstubAllEnvs()
})

async function failure(): Promise<SeamError> {
  const err = await seamClientFromEnvironment().catch((e: unknown) => e)
  expect(err).toBeInstanceOf(SeamError)
  return err as SeamError
}

describe('seamClientFromEnvironment', () => {
  it('uses SEAM_API_KEY and SEAM_ENDPOINT when set, without touching Secrets Manager', async () => {
    vi.stubEnv('SEAM_API_KEY', 'seam_env_key_1')
    vi.stubEnv('SEAM_ENDPOINT', server.url)
    vi.stubEnv('SEAM_API_KEY_SECRET_NAME', 'seam/ignored')
    const seam = await seamClientFromEnvironment()
    await seam.userIdentities.get({ user_identity_id: 'ui_1' })
    expect(server.requests.at(-1)?.authorization).toBe('Bearer seam_env_key_1')
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(0)
  })

  it('reads a plain-text secret once per cold start, across many calls', async () => {
    vi.stubEnv('SEAM_API_KEY_SECRET_NAME', 'seam/test/api-key')
    vi.stubEnv('SEAM_ENDPOINT', server.url)
    secrets.on(GetSecretValueCommand).resolves({ SecretString: 'seam_from_secret_1\n' })

    const [a, b] = await Promise.all([seamClientFromEnvironment(), seamClientFromEnvironment()])
    const c = await seamClientFromEnvironment()
    expect(b).toBe(a)
    expect(c).toBe(a)
    await c.userIdentities.get({ user_identity_id: 'ui_1' })

    const calls = secrets.commandCalls(GetSecretValueCommand)
    expect(calls).toHaveLength(1)
    expect(calls[0]?.args[0].input).toMatchObject({ SecretId: 'seam/test/api-key' })
    expect(server.requests.at(-1)?.authorization).toBe('Bearer seam_from_secret_1')
  })

  it('reads a JSON secret {"api_key": ...}', async () => {
    vi.stubEnv('SEAM_API_KEY_SECRET_NAME', 'seam/test/json')
    vi.stubEnv('SEAM_ENDPOINT', server.url)
    secrets
      .on(GetSecretValueCommand)
      .resolves({ SecretString: JSON.stringify({ api_key: 'seam_from_json_2' }) })
    const seam = await seamClientFromEnvironment()
    await seam.userIdentities.get({ user_identity_id: 'ui_1' })
    expect(server.requests.at(-1)?.authorization).toBe('Bearer seam_from_json_2')
  })

  it('says exactly which env var to set when nothing is configured', async () => {
    const err = await failure()
    expect(err).toMatchObject({
      name: SeamConfigurationError,
      type: 'seam_not_configured',
      retryable: false,
    })
    expect(err.message).toContain('SEAM_API_KEY')
    expect(err.message).toContain('SEAM_API_KEY_SECRET_NAME')
  })

  it('names the secret when it cannot be read, and does not cache the failure', async () => {
    vi.stubEnv('SEAM_API_KEY_SECRET_NAME', 'seam/missing')
    secrets.on(GetSecretValueCommand).rejectsOnce(
      new ResourceNotFoundException({
        message: "Secrets Manager can't find the specified secret.",
        $metadata: {},
      }),
    )
    const err = await failure()
    expect(err).toMatchObject({ name: SeamConfigurationError, type: 'seam_secret_unavailable' })
    expect(err.message).toContain('seam/missing')
    expect(err.message).toContain('ResourceNotFoundException')

    secrets.on(GetSecretValueCommand).resolves({ SecretString: 'seam_now_there' })
    await expect(seamClientFromEnvironment()).resolves.toBeDefined()
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(2)
  })

  it('rejects a secret without a key, never echoing its content', async () => {
    vi.stubEnv('SEAM_API_KEY_SECRET_NAME', 'seam/bad')
    secrets
      .on(GetSecretValueCommand)
      .resolves({ SecretString: JSON.stringify({ apiKey: 'seam_wrong_field_secret' }) })
    const err = await failure()
    expect(err).toMatchObject({ name: SeamConfigurationError, type: 'seam_secret_invalid' })
    expect(err.message).toContain('seam/bad')
    expect(err.message).toContain('api_key')
    expect(err.message).not.toContain('seam_wrong_field_secret')
  })

  it('rejects a malformed key without printing it', async () => {
    vi.stubEnv('SEAM_API_KEY', 'sk_live_not_seam_format')
    const err = await failure()
    expect(err).toMatchObject({ name: SeamConfigurationError, type: 'seam_invalid_api_key' })
    expect(err.message).not.toContain('sk_live_not_seam_format')
  })
})

describe('parseApiKeySecret', () => {
  it.each([
    ['seam_plain', 'seam_plain'],
    ['  seam_padded \n', 'seam_padded'],
    ['{"api_key":"seam_json"}', 'seam_json'],
    [new TextEncoder().encode('seam_binary'), 'seam_binary'],
    ['', undefined],
    ['{"api_key":""}', undefined],
    ['{"api_key":', undefined],
    ['{"other":"x"}', undefined],
    [undefined, undefined],
  ])('%j -> %j', (input, expected) => {
    expect(parseApiKeySecret(input)).toBe(expected)
  })
})
