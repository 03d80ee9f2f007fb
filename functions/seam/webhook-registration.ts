/**
 * The custom resource that registers this service's webhook with Seam (CloudFormation, through the
 * CDK Provider framework):
 *   Create  webhooks/create {url, event_types} → the returned secret into the stack's secret;
 *           physical id = the webhook_id
 *   Update  a new URL or new event types → a new webhook and secret (new physical id: CloudFormation
 *           then deletes the old one); nothing changed → nothing done
 *   Delete  webhooks/delete (already gone counts as deleted)
 * Between the new secret being stored and the old webhook deleted, a delivery signed with the old
 * secret is refused (401) and Svix retries it: a lost delivery costs time, never correctness.
 * The secret is never logged nor returned as data.
 */
import { PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import { SeamHttp } from '@seamapi/http/connect'
import type { CloudFormationCustomResourceEvent } from 'aws-lambda'
import { logger } from '../telemetry/powertools.js'
import { resolveSeamCredentials } from './credentials.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export interface WebhookRegistrationProps {
  Url: string
  EventTypes: string[]
  SecretArn: string
}

export interface WebhookRegistrationDeps {
  seam: () => Promise<Pick<SeamHttp, 'webhooks'>>
  storeSecret: (secretArn: string, secret: string) => Promise<void>
}

export interface ProviderResult {
  PhysicalResourceId: string
  Data?: Record<string, string>
}

export function createHandler(deps: WebhookRegistrationDeps) {
  const register = async (props: WebhookRegistrationProps): Promise<ProviderResult> => {
    const seam = await deps.seam()
    const webhook = await seam.webhooks.create({ url: props.Url, event_types: props.EventTypes })
    if (!webhook.secret) {
      throw new Error(`Seam returned no secret for webhook ${webhook.webhook_id}`)
    }
    await deps.storeSecret(props.SecretArn, webhook.secret)
    logger.info('Seam webhook registered', {
      webhook_id: webhook.webhook_id,
      event_types: props.EventTypes,
    })
    return { PhysicalResourceId: webhook.webhook_id, Data: { WebhookId: webhook.webhook_id } }
  }

  return async (event: CloudFormationCustomResourceEvent): Promise<ProviderResult> => {
    const props = event.ResourceProperties as unknown as WebhookRegistrationProps
    switch (event.RequestType) {
      case 'Create':
        return register(props)
      case 'Update': {
        const old = event.OldResourceProperties as unknown as WebhookRegistrationProps
        const same =
          old.Url === props.Url &&
          JSON.stringify([...old.EventTypes].sort()) ===
            JSON.stringify([...props.EventTypes].sort()) &&
          old.SecretArn === props.SecretArn
        if (same) return { PhysicalResourceId: event.PhysicalResourceId }
        return register(props)
      }
      case 'Delete': {
        // A Create that failed leaves a physical id that is no webhook id: nothing to delete.
        if (!UUID.test(event.PhysicalResourceId))
          return { PhysicalResourceId: event.PhysicalResourceId }
        const seam = await deps.seam()
        try {
          await seam.webhooks.delete({ webhook_id: event.PhysicalResourceId })
        } catch (err) {
          const code = (err as { code?: unknown }).code
          if (code !== 'webhook_not_found' && code !== 'not_found') throw err
        }
        logger.info('Seam webhook deleted', { webhook_id: event.PhysicalResourceId })
        return { PhysicalResourceId: event.PhysicalResourceId }
      }
    }
  }
}

export const handler = createHandler({
  seam: async () => {
    const { apiKey, endpoint } = await resolveSeamCredentials(process.env)
    return SeamHttp.fromApiKey(apiKey, endpoint ? { endpoint } : {})
  },
  storeSecret: async (secretArn, secret) => {
    await new SecretsManagerClient({}).send(
      new PutSecretValueCommand({ SecretId: secretArn, SecretString: secret }),
    )
  },
})
