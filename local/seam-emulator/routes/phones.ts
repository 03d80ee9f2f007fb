import { renderPhone } from '../resources.js'
import type { Route } from './types.js'

export const phoneRoutes: Route[] = [
  {
    path: '/phones/list',
    methods: ['GET', 'POST'],
    handle: ({ params, store }) => {
      const owner = params.optionalUuid('owner_user_identity_id')
      const acsCredentialId = params.optionalUuid('acs_credential_id')
      const phones = [...store.phones.values()].filter(
        (p) =>
          (owner === undefined || p.ownerUserIdentityId === owner) &&
          (acsCredentialId === undefined || p.acsCredentialIds.includes(acsCredentialId)),
      )
      return { phones: phones.map((p) => renderPhone(store, p)) }
    },
  },
  {
    path: '/phones/get',
    methods: ['GET', 'POST'],
    handle: ({ params, store }) => ({
      phone: renderPhone(store, store.requirePhone(params.requiredUuid('device_id'))),
    }),
  },
  {
    path: '/phones/deactivate',
    methods: ['DELETE', 'POST'],
    handle: ({ params, store }) => {
      store.requestPhoneDeactivation(params.requiredUuid('device_id'))
      return {}
    },
  },
]
