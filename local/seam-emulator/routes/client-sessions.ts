import { renderClientSession } from '../resources.js'
import type { Route } from './types.js'

export const clientSessionRoutes: Route[] = [
  {
    path: '/client_sessions/create',
    methods: ['POST', 'PUT'],
    handle: ({ params, store }) => {
      const ids = params.optionalUuidArray('user_identity_ids') ?? []
      const record = store.createClientSession({
        userIdentityId: params.optionalUuid('user_identity_id') ?? ids[0] ?? null,
        userIdentifierKey: params.optionalString('user_identifier_key') ?? null,
        connectedAccountIds: params.optionalUuidArray('connected_account_ids') ?? [],
        connectWebviewIds: params.optionalUuidArray('connect_webview_ids') ?? [],
        ...(params.has('expires_at') ? { expiresAt: params.requiredString('expires_at') } : {}),
      })
      return { client_session: renderClientSession(store, record) }
    },
  },
  {
    path: '/client_sessions/get',
    methods: ['GET', 'POST'],
    handle: ({ params, store }) => ({
      client_session: renderClientSession(
        store,
        store.requireClientSession(params.requiredUuid('client_session_id')),
      ),
    }),
  },
  {
    path: '/client_sessions/list',
    methods: ['GET', 'POST'],
    handle: ({ params, store }) => {
      const clientSessionId = params.optionalUuid('client_session_id')
      const userIdentityId = params.optionalUuid('user_identity_id')
      const userIdentifierKey = params.optionalString('user_identifier_key')
      const connectWebviewId = params.optionalUuid('connect_webview_id')
      const withoutKey = params.optionalBoolean('without_user_identifier_key')
      const sessions = [...store.clientSessions.values()].filter(
        (s) =>
          (clientSessionId === undefined || s.id === clientSessionId) &&
          (userIdentityId === undefined || s.userIdentityId === userIdentityId) &&
          (userIdentifierKey === undefined || s.userIdentifierKey === userIdentifierKey) &&
          (connectWebviewId === undefined || s.connectWebviewIds.includes(connectWebviewId)) &&
          (withoutKey !== true || s.userIdentifierKey === null),
      )
      return { client_sessions: sessions.map((s) => renderClientSession(store, s)) }
    },
  },
  {
    path: '/client_sessions/delete',
    methods: ['DELETE', 'POST'],
    handle: ({ params, store }) => {
      store.deleteClientSession(params.requiredUuid('client_session_id'))
      return {}
    },
  },
]
