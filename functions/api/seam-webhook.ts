/**
 * POST /webhooks/seam: Seam's webhook deliveries (Svix format). The signature is the authentication
 * (no IAM on this route): `SeamWebhook.verify` on the raw body, exactly as it arrived.
 *   401 invalid_webhook_signature  missing / wrong signature, another secret, a stale timestamp,
 *                                  a tampered body: nothing is recorded
 *   400 invalid_input              correctly signed, but not a Seam event
 *   204                            accepted: also an event type the service does not use, and a
 *                                  repeated svix-id (processed once; Svix retries with the same id)
 * An accepted event confirming a delete is recorded by resource id; if it completes a waiting stage's
 * pending set, this Lambda resumes it (SendTaskSuccess). A late resume (TaskTimedOut, InvalidToken:
 * the stage stopped waiting and polls) is logged and dropped: polling stays the authority.
 */
import { getSecret } from '@aws-lambda-powertools/parameters/secrets'
import { SFNClient } from '@aws-sdk/client-sfn'
import { SeamInvalidWebhookPayloadError, SeamWebhook } from '@seamapi/webhook'
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda'
import { ApiError } from '../contract/errors.js'
import {
  CONFIRMING_EVENTS,
  type Coordination,
  coordinationFromEnvironment,
  resumeWaitSet,
} from '../core/coordination.js'
import { logger } from '../telemetry/powertools.js'
import { errorResponse, requestIdOf } from './http.js'

export const SEAM_WEBHOOK_SECRET_ENV = 'SEAM_WEBHOOK_SECRET'
export const SEAM_WEBHOOK_SECRET_NAME_ENV = 'SEAM_WEBHOOK_SECRET_NAME'

export interface SeamWebhookDeps {
  coordination: Coordination
  sfn: Pick<SFNClient, 'send'>
  /** The endpoint's signing secret (`whsec_…`), e.g. read from Secrets Manager once. */
  secret: () => Promise<string>
}

type WebhookEvent = Pick<
  APIGatewayProxyEvent,
  'body' | 'isBase64Encoded' | 'headers' | 'requestContext'
>

export function createHandler(deps: SeamWebhookDeps) {
  return async (event: WebhookEvent, context?: Context): Promise<APIGatewayProxyResult> => {
    const requestId = requestIdOf(event, context)
    try {
      await accept(deps, event, requestId)
      return { statusCode: 204, headers: {}, body: '' }
    } catch (err) {
      return errorResponse(err, requestId)
    }
  }
}

async function accept(deps: SeamWebhookDeps, event: WebhookEvent, requestId: string) {
  const raw = rawBody(event)
  const headers: Record<string, string> = Object.fromEntries(
    Object.entries(event.headers ?? {}).flatMap(([k, v]) =>
      v === undefined ? [] : [[k.toLowerCase(), v]],
    ),
  )
  let seamEvent: Record<string, unknown>
  try {
    seamEvent = new SeamWebhook(await deps.secret()).verify(raw, headers) as unknown as Record<
      string,
      unknown
    >
  } catch (err) {
    if (err instanceof SeamInvalidWebhookPayloadError) {
      throw new ApiError(400, 'invalid_input', 'The signed webhook payload is not a Seam event.')
    }
    if (err instanceof Error && err.name === 'WebhookVerificationError') {
      throw new ApiError(
        401,
        'invalid_webhook_signature',
        'The webhook signature is missing or invalid, or its timestamp is more than 5 minutes away.',
      )
    }
    throw err
  }
  const svixId = String(headers['svix-id'])
  const eventType = String(seamEvent.event_type)
  const idField = CONFIRMING_EVENTS.get(eventType)
  const resourceId = idField === undefined ? undefined : seamEvent[idField]
  const log = { request_id: requestId, svix_id: svixId, event_id: seamEvent.event_id, eventType }
  if (typeof resourceId !== 'string') {
    logger.info('Webhook event not used', log)
    return
  }
  if (await deps.coordination.deliverySeen(svixId)) {
    logger.info('Webhook delivery repeated', log)
    return
  }
  const ready = await deps.coordination.recordEvent({
    resourceId,
    eventType,
    occurredAt: String(seamEvent.occurred_at ?? new Date().toISOString()),
  })
  if (ready) await resumeWaitSet(deps, ready, 'webhook')
  await deps.coordination.markDelivery(svixId)
  logger.info('Webhook event recorded', { ...log, resource_id: resourceId, resumed: !!ready })
}

function rawBody(event: WebhookEvent): string {
  const body = event.body ?? ''
  return event.isBase64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body
}

/** The secret from SEAM_WEBHOOK_SECRET (local), else the Secrets Manager secret it is kept in. */
export async function webhookSecretFromEnvironment(
  env: Record<string, string | undefined>,
): Promise<string> {
  const direct = env[SEAM_WEBHOOK_SECRET_ENV]?.trim()
  if (direct) return direct
  const name = env[SEAM_WEBHOOK_SECRET_NAME_ENV]?.trim()
  if (!name) {
    throw new Error(
      `The webhook secret is not configured: set ${SEAM_WEBHOOK_SECRET_ENV}, or ${SEAM_WEBHOOK_SECRET_NAME_ENV} to the Secrets Manager secret holding it.`,
    )
  }
  const value = await getSecret(name, { maxAge: 300 })
  const text = typeof value === 'string' ? value : new TextDecoder().decode(value as Uint8Array)
  return text.trim()
}

/** The deployed Lambda: clients from its environment, built once per cold start. */
let deployed: ReturnType<typeof createHandler> | undefined
export const handler = (event: APIGatewayProxyEvent, context?: Context) => {
  deployed ??= createHandler({
    coordination: coordinationFromEnvironment(),
    sfn: new SFNClient({}),
    secret: () => webhookSecretFromEnvironment(process.env),
  })
  return deployed(event, context)
}
