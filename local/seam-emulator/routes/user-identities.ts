import { invalidInput, notFound } from '../errors.js'
import { paginate } from '../pagination.js'
import type { Params } from '../params.js'
import { renderUserIdentity } from '../resources.js'
import type { Store, UserIdentityRecord } from '../store.js'
import { createdBefore, matchesSearch, type Route } from './types.js'

const emailPattern = /^[^\s@]+@[^\s@]+\.[^\s@]+$/
const e164Pattern = /^\+[1-9]\d{1,14}$/

const readIdentityFields = (params: Params) => {
  const key = params.optionalString('user_identity_key') ?? null
  const email = params.optionalString('email_address') ?? null
  const phone = params.optionalString('phone_number') ?? null
  if (email !== null && !emailPattern.test(email)) {
    throw invalidInput('email_address must be a valid email address', 'email_address')
  }
  if (phone !== null && !e164Pattern.test(phone)) {
    throw invalidInput('phone_number must be in E.164 format, e.g. +15555550100', 'phone_number')
  }
  return { key, email, phone, fullName: params.optionalString('full_name') ?? null }
}

/** user_identity_id or user_identity_key (Seam's oneOf); the id wins when both are given. */
const resolveIdentity = (store: Store, params: Params): UserIdentityRecord => {
  const id = params.optionalUuid('user_identity_id')
  if (id !== undefined) return store.requireUserIdentity(id)
  const key = params.optionalString('user_identity_key')
  if (key === undefined) {
    throw invalidInput(
      'Either user_identity_id or user_identity_key is required',
      'user_identity_id',
    )
  }
  const record = store.findUserIdentityByKey(key)
  if (!record) throw notFound('user_identity', key)
  return record
}

export const userIdentityRoutes: Route[] = [
  {
    path: '/user_identities/create',
    methods: ['POST'],
    handle: ({ params, store }) => {
      const record = store.createUserIdentity({
        ...readIdentityFields(params),
        acsSystemIds: params.optionalUuidArray('acs_system_ids') ?? [],
      })
      return { user_identity: renderUserIdentity(store, record) }
    },
  },
  {
    path: '/user_identities/get',
    methods: ['GET', 'POST'],
    handle: ({ params, store }) => ({
      user_identity: renderUserIdentity(store, resolveIdentity(store, params)),
    }),
  },
  {
    path: '/user_identities/list',
    methods: ['GET', 'POST'],
    handle: ({ params, store, pageUrl }) => {
      const ids = params.optionalUuidArray('user_identity_ids')
      const search = params.optionalString('search')
      const before = params.optionalDate('created_before')
      const credentialManager = params.optionalUuid('credential_manager_acs_system_id')
      const matching = [...store.userIdentities.values()].filter(
        (r) =>
          (ids === undefined || ids.includes(r.id)) &&
          matchesSearch(search, [r.fullName, r.email, r.phone, r.key, r.id]) &&
          createdBefore(before, r.createdAt) &&
          (credentialManager === undefined ||
            store.acsUsersOf(r.id).some((u) => u.acsSystemId === credentialManager) ||
            store
              .enrollmentAutomationsOf(r.id)
              .some((a) => a.credentialManagerAcsSystemId === credentialManager)),
      )
      const { page, pagination } = paginate(matching, params, store.settings.pageSize, pageUrl)
      return { user_identities: page.map((r) => renderUserIdentity(store, r)), pagination }
    },
  },
  {
    path: '/user_identities/delete',
    methods: ['DELETE', 'POST'],
    handle: ({ params, store }) => {
      store.deleteUserIdentity(params.requiredUuid('user_identity_id'))
      return {}
    },
  },
  {
    path: '/user_identities/add_acs_user',
    methods: ['PUT', 'POST'],
    handle: ({ params, store }) => {
      const acsUserId = params.requiredUuid('acs_user_id')
      store.requireAcsUser(acsUserId)
      const id = params.optionalUuid('user_identity_id')
      const key = params.optionalString('user_identity_key')
      let identityId: string
      if (id !== undefined) {
        identityId = store.requireUserIdentity(id).id
      } else if (key !== undefined) {
        // Seam creates the identity when no identity has this key yet.
        identityId = (
          store.findUserIdentityByKey(key) ??
          store.createUserIdentity({ key, email: null, phone: null, fullName: null })
        ).id
      } else {
        throw invalidInput(
          'Either user_identity_id or user_identity_key is required',
          'user_identity_id',
        )
      }
      store.linkAcsUser(acsUserId, identityId)
      return {}
    },
  },
  {
    path: '/user_identities/remove_acs_user',
    methods: ['DELETE', 'POST'],
    handle: ({ params, store }) => {
      const acsUserId = params.requiredUuid('acs_user_id')
      const identityId = store.requireUserIdentity(params.requiredUuid('user_identity_id')).id
      store.unlinkAcsUser(acsUserId, identityId)
      return {}
    },
  },
]
