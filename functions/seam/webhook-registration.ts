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

/** webhooks/create: the new webhook's id and its signing secret (never log the secret). */
export async function createSeamWebhook(
  seam: Pick<SeamHttp, 'webhooks'>,
  url: string,
  eventTypes: readonly string[],
): Promise<{ webhookId: string; secret: string }> {
  const webhook = await seam.webhooks.create({ url, event_types: [...eventTypes] })
  if (!webhook.secret) throw new Error(`Seam returned no secret for webhook ${webhook.webhook_id}`)
  return { webhookId: webhook.webhook_id, secret: webhook.secret }
}

/** webhooks/delete; a webhook already gone counts as deleted. */
export async function deleteSeamWebhook(
  seam: Pick<SeamHttp, 'webhooks'>,
  webhookId: string,
): Promise<void> {
  try {
    await seam.webhooks.delete({ webhook_id: webhookId })
  } catch (err) {
    const code = (err as { code?: unknown }).code
    if (code !== 'webhook_not_found' && code !== 'not_found') throw err
  }
}

/** A Seam client for the registration calls (the other calls go through functions/seam/client.ts). */
export function webhookRegistrationClient(credentials: {
  apiKey: string
  endpoint?: string | undefined
}): Pick<SeamHttp, 'webhooks'> {
  const { apiKey, endpoint } = credentials
  return SeamHttp.fromApiKey(apiKey, endpoint ? { endpoint } : {})
}

export function createHandler(deps: WebhookRegistrationDeps) {
  const register = async (props: WebhookRegistrationProps): Promise<ProviderResult> => {
    const webhook = await createSeamWebhook(await deps.seam(), props.Url, props.EventTypes)
    await deps.storeSecret(props.SecretArn, webhook.secret)
    logger.info('Seam webhook registered', {
      webhook_id: webhook.webhookId,
      event_types: props.EventTypes,
    })
    return { PhysicalResourceId: webhook.webhookId, Data: { WebhookId: webhook.webhookId } }
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
        await deleteSeamWebhook(await deps.seam(), event.PhysicalResourceId)
        logger.info('Seam webhook deleted', { webhook_id: event.PhysicalResourceId })
        return { PhysicalResourceId: event.PhysicalResourceId }
      }
    }
  }
}

export const handler = createHandler({
  seam: async () => webhookRegistrationClient(await resolveSeamCredentials(process.env)),
  storeSecret: async (secretArn, secret) => {
    await new SecretsManagerClient({}).send(
      new PutSecretValueCommand({ SecretId: secretArn, SecretString: secret }),
    )
  },
})
