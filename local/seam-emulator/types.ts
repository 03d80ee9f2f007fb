import type {
  AcsCredential,
  AcsSystem,
  AcsUser,
  ClientSession,
  Device,
  SeamEvent,
  UserIdentity,
} from '@seamapi/types/connect'
import type { DrawnDelay } from './deletions.js'
import type { WebhookFaults, WebhookHub } from './webhooks.js'

/** Resources whose deletion Seam completes asynchronously (after the API call returned). */
export type DeletionKind =
  | 'acs_credential'
  | 'acs_user'
  | 'enrollment_automation'
  | 'phone'
  | 'user_identity'

/** Each deletion's delay drawn uniformly from [minMs, maxMs] (the emulator's random source). */
export interface DeleteDelayRange {
  minMs: number
  maxMs: number
}

/** A delay for every kind (`default`), optionally overridden per kind. */
export type DeleteDelays = { default?: number } & Partial<Record<DeletionKind, number>>

/**
 * `cascade` (Seam today): user_identities/delete marks the identity `being_deleted` and removes it
 * later together with its ACS credentials, ACS users and client sessions.
 * `documented` (the guide's precondition): user_identities/delete refuses while the identity still
 * has ACS credentials, enrollment automations or phones, and otherwise deletes it at once.
 */
export type UserIdentityDeleteMode = 'cascade' | 'documented'

/**
 * Behaviours Seam does not document, each with both readings (the first is the default). See
 * README.md, "Undocumented behaviours", for what each reading does and where it comes from.
 */
export interface SeamBehaviours {
  /** Deleting (deactivating) an item already being deleted, or a phone already deactivated. */
  repeatDelete: 'ok' | 'refused'
  /** user_identities/add_acs_user for an ACS user linked to another identity. */
  linkLinkedAcsUser: 'moves' | 'refused'
  /** A deactivated phone in phones/list and phones/get. */
  deactivatedPhones: 'unlisted' | 'listed'
  /** The user_identities/enrollment_automations/* routes. */
  enrollmentAutomationRoutes: 'present' | 'gone'
  /** The error user_identities/create answers for a duplicate key, email or phone. */
  duplicateCreateError: 'user_identity_already_exists' | 'invalid_input'
  /** Whether email addresses differing only in case collide. */
  emailUniqueness: 'case_insensitive' | 'case_sensitive'
  /** The order of events/list. */
  eventOrder: 'newest_first' | 'oldest_first'
  /** error.type of a 404 for a missing resource: `<resource>_not_found`, or `not_found`. */
  notFoundTypes: 'per_resource' | 'generic'
}

export interface FaultOptions {
  /** Probability (0..1) that a Seam API request is answered with 429 Too Many Requests. */
  throttleRate: number
  /** Probability (0..1) that a Seam API request is answered with 503 Service Unavailable. */
  unavailableRate: number
  /** Probability (0..1) that a 503 carries an HTML gateway page instead of a JSON error. */
  nonJsonErrorRate: number
  /** Value of the `Retry-After` header (seconds) on 429 responses. */
  retryAfterSeconds: number
  /** Latency (ms) added to every Seam API request before it is answered. */
  latencyMs: number
  /**
   * Workspace-wide rate limit: at most this many Seam API requests answered in any one second; beyond it
   * 429 with a Retry-After saying when the oldest of them leaves the window. 0 or absent: no limit. It
   * applies to every path (`paths` does not narrow it).
   */
  rateLimitPerSecond?: number
  /** Limit faults and latency to these API paths (e.g. `/events/list`); all paths when absent. */
  paths?: readonly string[]
}

export type FaultKind = 'throttled' | 'unavailable' | 'unavailable_non_json'

export interface SeamEmulatorOptions {
  /** TCP port on 127.0.0.1; 0 (default) picks a free port. */
  port?: number
  /** Bearer token clients must send; default a generated `seam_test_…` key. */
  apiKey?: string
  /** Default and maximum page size of the paginated lists (default 500, Seam's default). */
  pageSize?: number
  /** Delay before an asynchronous deletion completes (default 2000 ms), or per kind. */
  deleteDelayMs?: number | DeleteDelays
  /** Each deletion draws its own delay from this range instead (seeded by `delayRandom`). */
  deleteDelayRangeMs?: DeleteDelayRange
  /**
   * Random source of the delays drawn from deleteDelayRangeMs (default: `random`). Its own stream, so
   * that runs differing only in faults (which draw from `random`) draw the same delays.
   */
  delayRandom?: () => number
  /** Behaviour of user_identities/delete (default `cascade`). */
  userIdentityDeleteMode?: UserIdentityDeleteMode
  /** Readings of what Seam leaves undocumented (default: the first reading of each). */
  behaviours?: Partial<SeamBehaviours>
  faults?: Partial<FaultOptions>
  /** Random source for fault injection (default Math.random); inject one for deterministic tests. */
  random?: () => number
  /** Webhook delivery faults (drop, duplicate, delay), drawn from `random` too. */
  webhookFaults?: Partial<WebhookFaults>
}

export interface RequestLogEntry {
  method: string
  /** URL path without the query string, e.g. `/acs/users/list`. */
  path: string
  /** Query-string and JSON-body parameters, merged. */
  params: Record<string, unknown>
  status: number
  faultInjected: boolean
  fault: FaultKind | null
  /** seam-request-id of the response. */
  requestId: string
  /** ISO timestamp at which the request arrived. */
  time: string
  durationMs: number
}

/** Seam's enrollment automation (only an OpenAPI schema exists for it in @seamapi/types). */
export interface EnrollmentAutomation {
  enrollment_automation_id: string
  credential_manager_acs_system_id: string
  user_identity_id: string
  created_at: string
  workspace_id: string
}

export interface SeedUserIdentityInput {
  userIdentityKey?: string | null
  emailAddress?: string | null
  phoneNumber?: string | null
  fullName?: string | null
}

export interface SeedAcsSystemInput {
  name?: string
  isCredentialManager?: boolean
}

export interface SeedAcsUserInput {
  acsSystemId: string
  userIdentityId?: string
  fullName?: string
  emailAddress?: string
  phoneNumber?: string
}

export interface SeedAcsCredentialInput {
  acsUserId: string
  accessMethod?: 'code' | 'card' | 'mobile_key' | 'cloud_key'
  displayName?: string
  code?: string
  isMultiPhoneSyncCredential?: boolean
}

export interface SeedClientSessionInput {
  userIdentityId?: string
  userIdentifierKey?: string
}

export interface SeedEnrollmentAutomationInput {
  userIdentityId: string
  /** Default: a new credential-manager ACS system. */
  credentialManagerAcsSystemId?: string
}

export interface SeedPhoneInput {
  ownerUserIdentityId?: string
  deviceType?: 'ios_phone' | 'android_phone'
  displayName?: string
  /** Credentials issued to this phone (phones/list?acs_credential_id=… finds it). */
  acsCredentialIds?: readonly string[]
}

/** Shape of a seeded identity graph: one ACS user per ACS system, as Seam allows. */
export interface IdentityGraphShape {
  userIdentity?: SeedUserIdentityInput
  clientSessions?: number
  acsSystems?: number
  credentialsPerUser?: number
  enrollmentAutomations?: number
  phones?: number
}

export interface IdentityGraph {
  userIdentityId: string
  clientSessionIds: string[]
  acsSystemIds: string[]
  acsUserIds: string[]
  acsCredentialIds: string[]
  enrollmentAutomationIds: string[]
  /** The credential-manager ACS system of each enrollment automation. */
  credentialManagerAcsSystemIds: string[]
  /** device_id of each phone. */
  phoneIds: string[]
}

export interface SeamEmulatorSeed {
  userIdentity(input?: SeedUserIdentityInput): UserIdentity
  acsSystem(input?: SeedAcsSystemInput): AcsSystem
  acsUser(input: SeedAcsUserInput): AcsUser
  acsCredential(input: SeedAcsCredentialInput): AcsCredential
  clientSession(input?: SeedClientSessionInput): ClientSession
  enrollmentAutomation(input: SeedEnrollmentAutomationInput): EnrollmentAutomation
  phone(input?: SeedPhoneInput): Device
  /** A user identity with everything the deletion workflow has to remove. */
  identityGraph(shape?: IdentityGraphShape): IdentityGraph
}

/** Everything still present that belongs to a user identity (ids), for assertions. */
export interface RemainingResources {
  /** The identity itself, or null once it is gone. */
  userIdentity: UserIdentity | null
  clientSessionIds: string[]
  acsUserIds: string[]
  acsCredentialIds: string[]
  enrollmentAutomationIds: string[]
  /** Phones not deactivated (with deactivatedPhones `listed`, deactivated ones are still listed). */
  phoneIds: string[]
  /** True when nothing at all is left (identity included). */
  isEmpty: boolean
}

export interface PendingDeletion {
  id: string
  kind: DeletionKind
  /** Held back by stickDeletion(id). */
  stuck: boolean
  /** Its delay elapsed; it completes as soon as nothing blocks it. */
  due: boolean
}

export interface SeamEmulatorInspect {
  /** Everything still present for a user identity (the identity included). */
  remainingFor(userIdentityId: string): RemainingResources
  /** Recorded events, oldest first. */
  events(filter?: { eventType?: string }): SeamEvent[]
  pendingDeletions(): PendingDeletion[]
  /** Whether a resource with this id (of any kind) is still present. */
  exists(id: string): boolean
  /** The resource with this id as the API would return it, or null. */
  resource(id: string): unknown
  counts(): Record<
    | 'userIdentities'
    | 'acsSystems'
    | 'acsUsers'
    | 'acsCredentials'
    | 'clientSessions'
    | 'enrollmentAutomations'
    | 'phones'
    | 'events',
    number
  >
}

export interface SeamEmulator {
  /** Base URL, e.g. http://127.0.0.1:43123 — use as the SDK's `endpoint` / SEAM_ENDPOINT. */
  readonly url: string
  readonly apiKey: string
  close(): Promise<void>
  /** Clears all state, pending deletions, stuck ids, faults and the request log. */
  reset(): void
  /** Replaces the fault settings (unspecified fields: no fault). */
  setFaults(faults: Partial<FaultOptions>): void
  setUserIdentityDeleteMode(mode: UserIdentityDeleteMode): void
  /** Switches the named behaviours to the given readings (others keep theirs); reset() restores. */
  setBehaviours(behaviours: Partial<SeamBehaviours>): void
  /** The readings in effect. */
  readonly behaviours: SeamBehaviours
  /**
   * A number sets every kind; an object overrides only the kinds it names. Also applies to
   * deletions under way (each completes the new delay after it started, at once if passed).
   */
  setDeleteDelayMs(delay: number | DeleteDelays): void
  /** Each deletion requested from now on draws its delay from `range`; undefined: the kinds' delays. */
  setDeleteDelayRangeMs(range: DeleteDelayRange | undefined): void
  /** The delays drawn from a range since the last reset (id, kind, ms). */
  readonly drawnDelays: readonly DrawnDelay[]
  /** The deletion of this resource never completes (until releaseDeletion). */
  stickDeletion(id: string): void
  /** Lets a stuck deletion complete after the normal delay. */
  releaseDeletion(id: string): void
  /**
   * Runs `hook` once, when the next Seam API request to `path` (e.g. `/user_identities/add_acs_user`)
   * arrives: after its latency, before its fault draw, auth and handling. For races the code under
   * test must survive, e.g. an ACS user deleted between two of its calls, or a request Seam carries
   * out although its answer is lost (the hook does the work, an injected fault answers). Replaces a
   * hook already set for `path`; `reset()` drops them all.
   */
  beforeNextRequest(path: string, hook: () => void | Promise<void>): void
  readonly requests: readonly RequestLogEntry[]
  readonly seed: SeamEmulatorSeed
  readonly inspect: SeamEmulatorInspect
  /** Registered webhooks, their deliveries, and `setFaults` for delivery faults. */
  readonly webhooks: WebhookHub
}
