/**
 * The facade the rest of the project codes against. Every method goes through the retry policy, every
 * list returns every page, every failure is a SeamError (errors.ts).
 */
import type {
  AcsCredential,
  AcsSystem,
  AcsUser,
  ClientSession,
  Phone,
  SeamEvent,
  UserIdentity,
} from '@seamapi/http/connect'

export type {
  AcsCredential,
  AcsSystem,
  AcsUser,
  ClientSession,
  Phone,
  SeamEvent,
  UserIdentity,
} from '@seamapi/http/connect'

/**
 * components.schemas.enrollment_automation of Seam's OpenAPI spec (@seamapi/types). The routes are
 * x-undocumented ("Will be removed.") and were dropped from @seamapi/http 2.0, hence this local type.
 */
export interface EnrollmentAutomation {
  enrollment_automation_id: string
  /** The ACS system acting as credential manager. */
  credential_manager_acs_system_id: string
  user_identity_id: string
  /** ISO 8601. */
  created_at: string
  workspace_id: string
}

export interface CreateUserIdentityParams {
  user_identity_key?: string
  email_address?: string
  /** E.164. */
  phone_number?: string
  full_name?: string
}

export type GetUserIdentityParams = { user_identity_id: string } | { user_identity_key: string }

export interface ListUserIdentitiesParams {
  search?: string
  user_identity_ids?: string[]
  /** ISO 8601. */
  created_before?: string
}

export interface ListEventsParams {
  /** ISO 8601; Seam requires `since` or `between`. */
  since?: string
  /** Exclusive interval of two ISO 8601 timestamps. */
  between?: [string, string]
  event_type?: string
  event_types?: string[]
  acs_user_id?: string
  acs_credential_id?: string
  device_id?: string
  user_identity_id?: string
  /** Seam's default (and the most one call returns) is 500; events/list has no cursor. */
  limit?: number
}

export interface SeamClientStats {
  /** HTTP attempts made, retries included. */
  requests: number
  /** Attempts that were repeats of a failed one. */
  retries: number
}

export interface SeamClient {
  userIdentities: {
    create(p: CreateUserIdentityParams): Promise<UserIdentity>
    get(p: GetUserIdentityParams): Promise<UserIdentity>
    /** All pages. */
    list(p?: ListUserIdentitiesParams): Promise<UserIdentity[]>
    delete(user_identity_id: string): Promise<void>
    addAcsUser(p: { user_identity_id: string; acs_user_id: string }): Promise<void>
    /** Unlinks the ACS user from the identity; the ACS user itself stays. */
    removeAcsUser(p: { user_identity_id: string; acs_user_id: string }): Promise<void>
  }
  clientSessions: {
    list(p: { user_identity_id: string }): Promise<ClientSession[]>
    delete(client_session_id: string): Promise<void>
  }
  acsUsers: {
    /** All pages. */
    list(p: { user_identity_id?: string; acs_system_id?: string }): Promise<AcsUser[]>
    get(acs_user_id: string): Promise<AcsUser>
    delete(acs_user_id: string): Promise<void>
  }
  acsCredentials: {
    /** All pages. */
    list(p: {
      user_identity_id?: string
      acs_user_id?: string
      acs_system_id?: string
    }): Promise<AcsCredential[]>
    get(acs_credential_id: string): Promise<AcsCredential>
    delete(acs_credential_id: string): Promise<void>
  }
  /** Raw routes /user_identities/enrollment_automations/{list,get,delete}: not in the SDK since 2.0. */
  enrollmentAutomations: {
    list(p: { user_identity_id: string }): Promise<EnrollmentAutomation[]>
    get(enrollment_automation_id: string): Promise<EnrollmentAutomation>
    delete(enrollment_automation_id: string): Promise<void>
  }
  phones: {
    list(p: { owner_user_identity_id: string }): Promise<Phone[]>
    get(device_id: string): Promise<Phone>
    deactivate(device_id: string): Promise<void>
  }
  events: {
    /** One call (events/list has no cursor): at most `limit` (default 500) events. */
    list(p: ListEventsParams): Promise<SeamEvent[]>
  }
  acsSystems: {
    list(): Promise<AcsSystem[]>
  }
  /** The workspace of the API key: the cheapest call that proves the endpoint and the key. */
  workspaces: {
    get(): Promise<{ workspace_id: string; name: string; is_sandbox: boolean }>
  }
  /** Live counters, for the benchmark and logs. */
  readonly stats: SeamClientStats
  /** The longest one call may take, hanging Seam included: attempt timeout plus retry budget (ms). */
  readonly longestCallMs?: number
}
