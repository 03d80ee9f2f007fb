import { invalidInput, notFound } from '../errors.js'
import { paginate } from '../pagination.js'
import type { Params } from '../params.js'
import { renderAcsCredential, renderAcsSystem, renderAcsUser } from '../resources.js'
import type { AcsUserRecord, Store } from '../store.js'
import { createdBefore, matchesSearch, type Route } from './types.js'

/** acs_user_id, or user_identity_id + acs_system_id (an identity has one ACS user per system). */
const resolveAcsUser = (store: Store, params: Params): AcsUserRecord => {
  const acsUserId = params.optionalUuid('acs_user_id')
  if (acsUserId !== undefined) return store.requireAcsUser(acsUserId)
  const userIdentityId = params.optionalUuid('user_identity_id')
  const acsSystemId = params.optionalUuid('acs_system_id')
  if (userIdentityId === undefined || acsSystemId === undefined) {
    throw invalidInput(
      'Either acs_user_id or both user_identity_id and acs_system_id are required',
      'acs_user_id',
    )
  }
  const record = store.acsUsersOf(userIdentityId).find((u) => u.acsSystemId === acsSystemId)
  if (!record) throw notFound('acs_user', `${userIdentityId} in ${acsSystemId}`)
  return record
}

export const acsRoutes: Route[] = [
  {
    path: '/acs/systems/list',
    methods: ['GET', 'POST'],
    handle: ({ params, store }) => {
      const connectedAccountId = params.optionalUuid('connected_account_id')
      const search = params.optionalString('search')
      const systems = [...store.acsSystems.values()].filter(
        (s) =>
          (connectedAccountId === undefined || s.connectedAccountId === connectedAccountId) &&
          matchesSearch(search, [s.name, s.id]),
      )
      return { acs_systems: systems.map((s) => renderAcsSystem(store, s)) }
    },
  },
  {
    path: '/acs/systems/get',
    methods: ['GET', 'POST'],
    handle: ({ params, store }) => ({
      acs_system: renderAcsSystem(
        store,
        store.requireAcsSystem(params.requiredUuid('acs_system_id')),
      ),
    }),
  },
  {
    path: '/acs/users/create',
    methods: ['POST'],
    handle: ({ params, store }) => {
      const record = store.createAcsUser({
        acsSystemId: params.requiredUuid('acs_system_id'),
        fullName: params.requiredString('full_name'),
        email: params.optionalString('email_address') ?? params.optionalString('email') ?? null,
        phone: params.optionalString('phone_number') ?? null,
        userIdentityId: params.optionalUuid('user_identity_id') ?? null,
      })
      return { acs_user: renderAcsUser(store, record) }
    },
  },
  {
    path: '/acs/users/list',
    methods: ['GET', 'POST'],
    handle: ({ params, store, pageUrl }) => {
      const userIdentityId = params.optionalUuid('user_identity_id')
      const acsSystemId = params.optionalUuid('acs_system_id')
      const email = params.optionalString('user_identity_email_address')
      const phone = params.optionalString('user_identity_phone_number')
      const search = params.optionalString('search')
      const before = params.optionalDate('created_before')
      const matching = [...store.acsUsers.values()].filter((u) => {
        const identity = u.userIdentityId ? store.userIdentities.get(u.userIdentityId) : undefined
        return (
          (userIdentityId === undefined || u.userIdentityId === userIdentityId) &&
          (acsSystemId === undefined || u.acsSystemId === acsSystemId) &&
          (email === undefined || identity?.email === email) &&
          (phone === undefined || identity?.phone === phone) &&
          matchesSearch(search, [u.fullName, u.email, u.phone, u.id]) &&
          createdBefore(before, u.createdAt)
        )
      })
      const { page, pagination } = paginate(matching, params, store.settings.pageSize, pageUrl)
      return { acs_users: page.map((u) => renderAcsUser(store, u)), pagination }
    },
  },
  {
    path: '/acs/users/get',
    methods: ['GET', 'POST'],
    handle: ({ params, store }) => ({
      acs_user: renderAcsUser(store, resolveAcsUser(store, params)),
    }),
  },
  {
    path: '/acs/users/delete',
    methods: ['DELETE', 'POST'],
    handle: ({ params, store }) => {
      store.requestAcsUserDeletion(resolveAcsUser(store, params).id)
      return {}
    },
  },
  {
    path: '/acs/credentials/list',
    methods: ['GET', 'POST'],
    handle: ({ params, store, pageUrl }) => {
      const userIdentityId = params.optionalUuid('user_identity_id')
      const acsUserId = params.optionalUuid('acs_user_id')
      const acsSystemId = params.optionalUuid('acs_system_id')
      const multiPhone = params.optionalBoolean('is_multi_phone_sync_credential')
      const search = params.optionalString('search')
      const before = params.optionalDate('created_before')
      const matching = [...store.acsCredentials.values()].filter(
        (c) =>
          (userIdentityId === undefined ||
            store.acsUsers.get(c.acsUserId)?.userIdentityId === userIdentityId) &&
          (acsUserId === undefined || c.acsUserId === acsUserId) &&
          (acsSystemId === undefined || c.acsSystemId === acsSystemId) &&
          (multiPhone === undefined || c.isMultiPhoneSyncCredential === multiPhone) &&
          matchesSearch(search, [c.displayName, c.code, c.acsUserId, c.id]) &&
          createdBefore(before, c.createdAt),
      )
      const { page, pagination } = paginate(matching, params, store.settings.pageSize, pageUrl)
      return { acs_credentials: page.map((c) => renderAcsCredential(store, c)), pagination }
    },
  },
  {
    path: '/acs/credentials/get',
    methods: ['GET', 'POST'],
    handle: ({ params, store }) => ({
      acs_credential: renderAcsCredential(
        store,
        store.requireAcsCredential(params.requiredUuid('acs_credential_id')),
      ),
    }),
  },
  {
    path: '/acs/credentials/delete',
    methods: ['DELETE', 'POST'],
    handle: ({ params, store }) => {
      store.requestAcsCredentialDeletion(params.requiredUuid('acs_credential_id'))
      return {}
    },
  },
]
