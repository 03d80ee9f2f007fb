// webhooks/create|get|list|update|delete, shaped as @seamapi/types' `webhook`. The secret is
// returned by create only: whether Seam's get/list repeat it is not documented, so nothing here
// (nor in the service) relies on reading it back.
import { notFound } from '../errors.js'
import type { Params } from '../params.js'
import type { Store } from '../store.js'
import type { WebhookRecord } from '../webhooks.js'
import type { Route } from './types.js'

const render = ({ webhook_id, url, event_types }: WebhookRecord) => ({
  webhook_id,
  url,
  event_types,
})

const requireWebhook = (params: Params, store: Store): WebhookRecord => {
  const id = params.requiredString('webhook_id')
  const webhook = store.webhooks.webhooks.get(id)
  if (!webhook) throw notFound('webhook', id)
  return webhook
}

export const webhookRoutes: Route[] = [
  {
    path: '/webhooks/create',
    methods: ['POST'],
    handle: ({ params, store }) => {
      const webhook = store.webhooks.create(
        params.requiredString('url'),
        params.optionalStringArray('event_types'),
      )
      return { webhook: { ...render(webhook), secret: webhook.secret } }
    },
  },
  {
    path: '/webhooks/get',
    methods: ['GET', 'POST'],
    handle: ({ params, store }) => ({ webhook: render(requireWebhook(params, store)) }),
  },
  {
    path: '/webhooks/list',
    methods: ['GET', 'POST'],
    handle: ({ store }) => ({ webhooks: [...store.webhooks.webhooks.values()].map(render) }),
  },
  {
    path: '/webhooks/update',
    methods: ['PUT', 'POST'],
    handle: ({ params, store }) => {
      const webhook = requireWebhook(params, store)
      webhook.event_types = params.optionalStringArray('event_types') ?? webhook.event_types
      return {}
    },
  },
  {
    path: '/webhooks/delete',
    methods: ['DELETE', 'POST'],
    handle: ({ params, store }) => {
      store.webhooks.webhooks.delete(requireWebhook(params, store).webhook_id)
      return {}
    },
  },
]
