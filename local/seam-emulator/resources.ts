import type {
  AcsCredential,
  AcsSystem,
  AcsUser,
  ClientSession,
  Device,
  UserIdentity,
} from '@seamapi/types/connect'
import type {
  AcsCredentialRecord,
  AcsSystemRecord,
  AcsUserRecord,
  ClientSessionRecord,
  EnrollmentAutomationRecord,
  PhoneRecord,
  Store,
  UserIdentityRecord,
} from './store.js'
import type { EnrollmentAutomation } from './types.js'

// Renders store records as the API returns them. Field names and required fields follow the
// resource schemas in @seamapi/types; the types below make the compiler check them too.

const beingDeleted = (
  requestedAt: string | null,
  message: string,
): Array<{ warning_code: 'being_deleted'; message: string; created_at: string }> =>
  requestedAt === null ? [] : [{ warning_code: 'being_deleted', message, created_at: requestedAt }]

export const renderUserIdentity = (store: Store, r: UserIdentityRecord): UserIdentity => ({
  user_identity_id: r.id,
  user_identity_key: r.key,
  email_address: r.email,
  phone_number: r.phone,
  display_name: r.fullName ?? r.email ?? r.phone ?? r.key ?? 'Unnamed user',
  full_name: r.fullName,
  created_at: r.createdAt,
  workspace_id: store.workspaceId,
  errors: [],
  warnings: beingDeleted(r.deletionRequestedAt, 'User identity is being deleted.'),
  acs_user_ids: store.acsUsersOf(r.id).map((u) => u.id),
})

export const renderAcsSystem = (store: Store, r: AcsSystemRecord): AcsSystem => ({
  acs_system_id: r.id,
  name: r.name,
  external_type: r.isCredentialManager ? 'assa_abloy_credential_service' : 'salto_space_system',
  external_type_display_name: r.isCredentialManager
    ? 'ASSA ABLOY Credential Service'
    : 'Salto Space system',
  is_credential_manager: r.isCredentialManager,
  location: { time_zone: null },
  created_at: r.createdAt,
  workspace_id: store.workspaceId,
  connected_account_ids: [r.connectedAccountId],
  connected_account_id: r.connectedAccountId,
  image_url: 'https://connect.getseam.com/assets/images/acs_systems/default.png',
  image_alt_text: r.name,
  errors: [],
  warnings: [],
  acs_user_count: [...store.acsUsers.values()].filter((u) => u.acsSystemId === r.id).length,
})

export const renderAcsUser = (store: Store, r: AcsUserRecord): AcsUser => {
  const identity = r.userIdentityId ? store.userIdentities.get(r.userIdentityId) : undefined
  const system = store.acsSystems.get(r.acsSystemId)
  return {
    acs_user_id: r.id,
    acs_system_id: r.acsSystemId,
    workspace_id: store.workspaceId,
    created_at: r.createdAt,
    display_name: r.fullName ?? r.email ?? r.phone ?? '',
    ...(r.fullName ? { full_name: r.fullName } : {}),
    ...(r.email ? { email_address: r.email } : {}),
    ...(r.phone ? { phone_number: r.phone } : {}),
    ...(r.userIdentityId
      ? {
          user_identity_id: r.userIdentityId,
          user_identity_full_name: identity?.fullName ?? null,
          user_identity_email_address: identity?.email ?? null,
          user_identity_phone_number: identity?.phone ?? null,
        }
      : {}),
    is_suspended: false,
    warnings: beingDeleted(
      r.deletionRequestedAt,
      'This access system user is being deleted from the access system. This is a temporary state, and the access system user will be deleted shortly.',
    ),
    errors: [],
    pending_mutations: [],
    last_successful_sync_at: r.createdAt,
    connected_account_id: system?.connectedAccountId ?? store.workspaceId,
    is_managed: true,
  }
}

export const renderAcsCredential = (store: Store, r: AcsCredentialRecord): AcsCredential => {
  const userIdentityId = store.acsUsers.get(r.acsUserId)?.userIdentityId
  const system = store.acsSystems.get(r.acsSystemId)
  return {
    acs_credential_id: r.id,
    acs_user_id: r.acsUserId,
    ...(userIdentityId ? { user_identity_id: userIdentityId } : {}),
    connected_account_id: system?.connectedAccountId ?? store.workspaceId,
    acs_system_id: r.acsSystemId,
    display_name: r.displayName,
    code: r.code,
    access_method: r.accessMethod,
    is_issued: true,
    issued_at: r.createdAt,
    created_at: r.createdAt,
    workspace_id: store.workspaceId,
    errors: [],
    warnings: beingDeleted(r.deletionRequestedAt, 'The credential is being deleted.'),
    is_multi_phone_sync_credential: r.isMultiPhoneSyncCredential,
    is_managed: true,
  }
}

export const renderClientSession = (store: Store, r: ClientSessionRecord): ClientSession => ({
  client_session_id: r.id,
  workspace_id: store.workspaceId,
  created_at: r.createdAt,
  expires_at: r.expiresAt,
  token: r.token,
  user_identifier_key: r.userIdentifierKey,
  device_count: 0,
  connected_account_ids: r.connectedAccountIds,
  connect_webview_ids: r.connectWebviewIds,
  user_identity_ids: r.userIdentityId ? [r.userIdentityId] : [],
  ...(r.userIdentityId ? { user_identity_id: r.userIdentityId } : {}),
})

export const renderEnrollmentAutomation = (
  store: Store,
  r: EnrollmentAutomationRecord,
): EnrollmentAutomation => ({
  enrollment_automation_id: r.id,
  credential_manager_acs_system_id: r.credentialManagerAcsSystemId,
  user_identity_id: r.userIdentityId,
  created_at: r.createdAt,
  workspace_id: store.workspaceId,
})

/**
 * A phone is a device of type ios_phone / android_phone. Seam's device warnings have no
 * `being_deleted` code, so a phone being deactivated shows no warning (see README).
 */
export const renderPhone = (store: Store, r: PhoneRecord): Device => ({
  device_id: r.id,
  device_type: r.deviceType,
  display_name: r.displayName,
  nickname: r.displayName,
  workspace_id: store.workspaceId,
  connected_account_id: r.connectedAccountId,
  created_at: r.createdAt,
  custom_metadata: {},
  errors: [],
  warnings: [],
  space_ids: [],
  capabilities_supported: [],
  is_managed: true,
  properties: {
    name: r.displayName,
    online: true,
    appearance: { name: r.displayName },
    model: {
      display_name: r.deviceType === 'ios_phone' ? 'iPhone' : 'Android phone',
      manufacturer_display_name: r.deviceType === 'ios_phone' ? 'Apple' : 'Google',
    },
    assa_abloy_credential_service_metadata: {
      has_active_endpoint: r.deletionRequestedAt === null,
      endpoints: [],
    },
  },
})
