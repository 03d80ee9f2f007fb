import { randomBytes, randomUUID } from 'node:crypto'
import type { SeamEvent } from '@seamapi/types/connect'
import { DeletionScheduler } from './deletions.js'
import { invalidInput, notFound, SeamApiError } from './errors.js'
import type {
  DeleteDelayRange,
  DeletionKind,
  SeamBehaviours,
  UserIdentityDeleteMode,
} from './types.js'
import { WebhookHub } from './webhooks.js'

/** Runtime settings shared by the store and the server; the emulator's setters mutate them. */
export interface Settings {
  pageSize: number
  delays: Record<DeletionKind, number>
  userIdentityDeleteMode: UserIdentityDeleteMode
  behaviours: SeamBehaviours
  /** When set, each deletion draws its own delay from this range (instead of its kind's). */
  delayRange?: DeleteDelayRange | undefined
  /** The random source of those draws (seedable). */
  random?: () => number
}

interface Base {
  id: string
  /** Insertion order: the stable sort key of lists and page cursors. */
  seq: number
  createdAt: string
}

/** Set when an asynchronous deletion was requested; rendered as a `being_deleted` warning. */
interface Deletable {
  deletionRequestedAt: string | null
}

export interface UserIdentityRecord extends Base, Deletable {
  key: string | null
  email: string | null
  phone: string | null
  fullName: string | null
}

export interface AcsSystemRecord extends Base {
  name: string
  connectedAccountId: string
  isCredentialManager: boolean
}

export interface AcsUserRecord extends Base, Deletable {
  acsSystemId: string
  userIdentityId: string | null
  fullName: string | null
  email: string | null
  phone: string | null
}

export type AccessMethod = 'code' | 'card' | 'mobile_key' | 'cloud_key'

export interface AcsCredentialRecord extends Base, Deletable {
  acsUserId: string
  acsSystemId: string
  accessMethod: AccessMethod
  displayName: string
  code: string | null
  isMultiPhoneSyncCredential: boolean
}

export interface ClientSessionRecord extends Base {
  token: string
  userIdentifierKey: string | null
  userIdentityId: string | null
  expiresAt: string
  connectedAccountIds: string[]
  connectWebviewIds: string[]
}

export interface EnrollmentAutomationRecord extends Base, Deletable {
  userIdentityId: string
  credentialManagerAcsSystemId: string
}

export interface PhoneRecord extends Base, Deletable {
  ownerUserIdentityId: string | null
  deviceType: 'ios_phone' | 'android_phone'
  displayName: string
  connectedAccountId: string
  acsCredentialIds: string[]
  /** Set once deactivated; with deactivatedPhones `listed` the record stays (and is listed). */
  deactivatedAt: string | null
}

export interface EventRecord {
  seq: number
  createdAtMs: number
  event: SeamEvent
  /**
   * Ids the event relates to without carrying them (e.g. the user identity of a deleted ACS
   * user): events/list filters match an event's own fields or these.
   */
  related: Record<string, string>
}

const nowIso = (): string => new Date().toISOString()

/** In-memory state of one Seam workspace, and the domain rules that change it. */
export class Store {
  readonly workspaceId = randomUUID()
  readonly userIdentities = new Map<string, UserIdentityRecord>()
  readonly acsSystems = new Map<string, AcsSystemRecord>()
  readonly acsUsers = new Map<string, AcsUserRecord>()
  readonly acsCredentials = new Map<string, AcsCredentialRecord>()
  readonly clientSessions = new Map<string, ClientSessionRecord>()
  readonly enrollmentAutomations = new Map<string, EnrollmentAutomationRecord>()
  readonly phones = new Map<string, PhoneRecord>()
  readonly events: EventRecord[] = []
  readonly deletions: DeletionScheduler
  /** Registered webhooks; every recorded event is published to them. */
  readonly webhooks = new WebhookHub()
  private seq = 0
  private settling = false

  constructor(readonly settings: Settings) {
    this.deletions = new DeletionScheduler(
      (kind) => this.settings.delays[kind],
      () => this.settle(),
      () => {
        const range = this.settings.delayRange
        if (!range) return undefined
        return range.minMs + (this.settings.random ?? Math.random)() * (range.maxMs - range.minMs)
      },
    )
  }

  reset(): void {
    this.deletions.clear()
    for (const map of [
      this.userIdentities,
      this.acsSystems,
      this.acsUsers,
      this.acsCredentials,
      this.clientSessions,
      this.enrollmentAutomations,
      this.phones,
    ]) {
      map.clear()
    }
    this.events.length = 0
    this.webhooks.reset()
    this.seq = 0
  }

  private base(): Base {
    return { id: randomUUID(), seq: ++this.seq, createdAt: nowIso() }
  }

  // ---- lookups ------------------------------------------------------------------------------

  requireUserIdentity(id: string): UserIdentityRecord {
    const record = this.userIdentities.get(id)
    if (!record) throw notFound('user_identity', id)
    return record
  }

  findUserIdentityByKey(key: string): UserIdentityRecord | undefined {
    for (const record of this.userIdentities.values()) if (record.key === key) return record
    return undefined
  }

  requireAcsSystem(id: string): AcsSystemRecord {
    const record = this.acsSystems.get(id)
    if (!record) throw notFound('acs_system', id)
    return record
  }

  requireAcsUser(id: string): AcsUserRecord {
    const record = this.acsUsers.get(id)
    if (!record) throw notFound('acs_user', id)
    return record
  }

  requireAcsCredential(id: string): AcsCredentialRecord {
    const record = this.acsCredentials.get(id)
    if (!record) throw notFound('acs_credential', id)
    return record
  }

  requireClientSession(id: string): ClientSessionRecord {
    const record = this.clientSessions.get(id)
    if (!record) throw notFound('client_session', id)
    return record
  }

  requireEnrollmentAutomation(id: string): EnrollmentAutomationRecord {
    const record = this.enrollmentAutomations.get(id)
    if (!record) throw notFound('enrollment_automation', id)
    return record
  }

  requirePhone(id: string): PhoneRecord {
    const record = this.phones.get(id)
    if (!record) throw notFound('device', id)
    return record
  }

  acsUsersOf(userIdentityId: string): AcsUserRecord[] {
    return [...this.acsUsers.values()].filter((u) => u.userIdentityId === userIdentityId)
  }

  credentialsOfAcsUser(acsUserId: string): AcsCredentialRecord[] {
    return [...this.acsCredentials.values()].filter((c) => c.acsUserId === acsUserId)
  }

  credentialsOf(userIdentityId: string): AcsCredentialRecord[] {
    const acsUserIds = new Set(this.acsUsersOf(userIdentityId).map((u) => u.id))
    return [...this.acsCredentials.values()].filter((c) => acsUserIds.has(c.acsUserId))
  }

  clientSessionsOf(userIdentityId: string): ClientSessionRecord[] {
    return [...this.clientSessions.values()].filter((s) => s.userIdentityId === userIdentityId)
  }

  enrollmentAutomationsOf(userIdentityId: string): EnrollmentAutomationRecord[] {
    return [...this.enrollmentAutomations.values()].filter(
      (a) => a.userIdentityId === userIdentityId,
    )
  }

  /** The identity's phones that are not deactivated. */
  phonesOf(userIdentityId: string): PhoneRecord[] {
    return [...this.phones.values()].filter(
      (p) => p.ownerUserIdentityId === userIdentityId && p.deactivatedAt === null,
    )
  }

  /** The user identity an ACS user is linked to, if any. */
  userIdentityOfAcsUser(acsUserId: string): UserIdentityRecord | undefined {
    const id = this.acsUsers.get(acsUserId)?.userIdentityId
    return id ? this.userIdentities.get(id) : undefined
  }

  // ---- creation -----------------------------------------------------------------------------

  createUserIdentity(input: {
    key: string | null
    email: string | null
    phone: string | null
    fullName: string | null
    acsSystemIds?: readonly string[]
  }): UserIdentityRecord {
    this.assertUnique('user_identity_key', input.key, (r) => r.key)
    const email = (value: string | null): string | null =>
      value !== null && this.settings.behaviours.emailUniqueness === 'case_insensitive'
        ? value.toLowerCase()
        : value
    this.assertUnique('email_address', email(input.email), (r) => email(r.email))
    this.assertUnique('phone_number', input.phone, (r) => r.phone)
    const acsSystems = (input.acsSystemIds ?? []).map((id) => this.requireAcsSystem(id))
    const record: UserIdentityRecord = {
      ...this.base(),
      key: input.key,
      email: input.email,
      phone: input.phone,
      fullName: input.fullName,
      deletionRequestedAt: null,
    }
    this.userIdentities.set(record.id, record)
    // Seam creates the identity's ACS user in each system it names.
    for (const system of acsSystems) {
      this.createAcsUser({
        acsSystemId: system.id,
        userIdentityId: record.id,
        fullName: input.fullName,
        email: input.email,
        phone: input.phone,
      })
    }
    return record
  }

  private assertUnique(
    field: 'user_identity_key' | 'email_address' | 'phone_number',
    value: string | null,
    read: (record: UserIdentityRecord) => string | null,
  ): void {
    if (value === null) return
    for (const record of this.userIdentities.values()) {
      if (read(record) === value) {
        const message = `A user identity with this ${field} already exists in the workspace (${record.id}); ${field} must be unique.`
        if (this.settings.behaviours.duplicateCreateError === 'invalid_input') {
          throw invalidInput(message, field)
        }
        throw new SeamApiError(400, 'user_identity_already_exists', message, {
          data: { field, user_identity_id: record.id },
        })
      }
    }
  }

  createAcsSystem(input: { name?: string; isCredentialManager?: boolean }): AcsSystemRecord {
    const record: AcsSystemRecord = {
      ...this.base(),
      name: input.name ?? `Emulated access system ${this.acsSystems.size + 1}`,
      connectedAccountId: randomUUID(),
      isCredentialManager: input.isCredentialManager ?? false,
    }
    this.acsSystems.set(record.id, record)
    return record
  }

  createAcsUser(input: {
    acsSystemId: string
    userIdentityId?: string | null
    fullName?: string | null
    email?: string | null
    phone?: string | null
  }): AcsUserRecord {
    this.requireAcsSystem(input.acsSystemId)
    if (input.userIdentityId) this.requireUserIdentity(input.userIdentityId)
    const record: AcsUserRecord = {
      ...this.base(),
      acsSystemId: input.acsSystemId,
      userIdentityId: input.userIdentityId ?? null,
      fullName: input.fullName ?? null,
      email: input.email ?? null,
      phone: input.phone ?? null,
      deletionRequestedAt: null,
    }
    this.acsUsers.set(record.id, record)
    return record
  }

  /** user_identities/add_acs_user: links the ACS user to the identity. */
  linkAcsUser(acsUserId: string, userIdentityId: string): void {
    const acsUser = this.requireAcsUser(acsUserId)
    this.requireUserIdentity(userIdentityId)
    const holder = acsUser.userIdentityId
    if (
      holder !== null &&
      holder !== userIdentityId &&
      this.settings.behaviours.linkLinkedAcsUser === 'refused'
    ) {
      throw new SeamApiError(
        400,
        'acs_user_already_linked_to_user_identity',
        `ACS user ${acsUserId} is already linked to user identity ${holder}; remove it from that identity first`,
      )
    }
    acsUser.userIdentityId = userIdentityId
  }

  /** user_identities/remove_acs_user: unlinks the ACS user (which stays) from the identity. */
  unlinkAcsUser(acsUserId: string, userIdentityId: string): void {
    const acsUser = this.requireAcsUser(acsUserId)
    if (acsUser.userIdentityId === userIdentityId) acsUser.userIdentityId = null
  }

  createAcsCredential(input: {
    acsUserId: string
    accessMethod?: AccessMethod
    displayName?: string
    code?: string | null
    isMultiPhoneSyncCredential?: boolean
  }): AcsCredentialRecord {
    const acsUser = this.requireAcsUser(input.acsUserId)
    const accessMethod = input.accessMethod ?? 'mobile_key'
    const record: AcsCredentialRecord = {
      ...this.base(),
      acsUserId: acsUser.id,
      acsSystemId: acsUser.acsSystemId,
      accessMethod,
      displayName:
        input.displayName ?? `${accessMethod} credential ${this.acsCredentials.size + 1}`,
      code: input.code ?? null,
      isMultiPhoneSyncCredential: input.isMultiPhoneSyncCredential ?? accessMethod === 'mobile_key',
      deletionRequestedAt: null,
    }
    this.acsCredentials.set(record.id, record)
    return record
  }

  createClientSession(input: {
    userIdentityId?: string | null
    userIdentifierKey?: string | null
    expiresAt?: string
    connectedAccountIds?: string[]
    connectWebviewIds?: string[]
  }): ClientSessionRecord {
    if (input.userIdentityId) this.requireUserIdentity(input.userIdentityId)
    const base = this.base()
    const record: ClientSessionRecord = {
      ...base,
      token: `seam_cst1${randomBytes(16).toString('hex')}`,
      userIdentifierKey: input.userIdentifierKey ?? null,
      userIdentityId: input.userIdentityId ?? null,
      expiresAt:
        input.expiresAt ?? new Date(Date.parse(base.createdAt) + 24 * 3600_000).toISOString(),
      connectedAccountIds: input.connectedAccountIds ?? [],
      connectWebviewIds: input.connectWebviewIds ?? [],
    }
    this.clientSessions.set(record.id, record)
    return record
  }

  createEnrollmentAutomation(input: {
    userIdentityId: string
    credentialManagerAcsSystemId?: string
  }): EnrollmentAutomationRecord {
    this.requireUserIdentity(input.userIdentityId)
    if (this.settings.behaviours.enrollmentAutomationRoutes === 'gone') {
      throw new Error('No enrollment automations exist with enrollmentAutomationRoutes "gone"')
    }
    const systemId =
      input.credentialManagerAcsSystemId ?? this.createAcsSystem({ isCredentialManager: true }).id
    this.requireAcsSystem(systemId)
    const record: EnrollmentAutomationRecord = {
      ...this.base(),
      userIdentityId: input.userIdentityId,
      credentialManagerAcsSystemId: systemId,
      deletionRequestedAt: null,
    }
    this.enrollmentAutomations.set(record.id, record)
    return record
  }

  createPhone(input: {
    ownerUserIdentityId?: string | null
    deviceType?: 'ios_phone' | 'android_phone'
    displayName?: string
    acsCredentialIds?: readonly string[]
  }): PhoneRecord {
    if (input.ownerUserIdentityId) this.requireUserIdentity(input.ownerUserIdentityId)
    for (const id of input.acsCredentialIds ?? []) this.requireAcsCredential(id)
    const deviceType = input.deviceType ?? 'ios_phone'
    const record: PhoneRecord = {
      ...this.base(),
      ownerUserIdentityId: input.ownerUserIdentityId ?? null,
      deviceType,
      displayName:
        input.displayName ?? `${deviceType === 'ios_phone' ? 'iPhone' : 'Android phone'}`,
      connectedAccountId: randomUUID(),
      acsCredentialIds: [...(input.acsCredentialIds ?? [])],
      deletionRequestedAt: null,
      deactivatedAt: null,
    }
    this.phones.set(record.id, record)
    return record
  }

  // ---- deletion -----------------------------------------------------------------------------

  /** client_sessions/delete: synchronous, records client_session.deleted. */
  deleteClientSession(id: string): void {
    this.requireClientSession(id)
    this.removeClientSession(id)
  }

  requestAcsCredentialDeletion(id: string): void {
    this.requestDeletion('acs_credential', this.requireAcsCredential(id))
  }

  requestAcsUserDeletion(id: string): void {
    this.requestDeletion('acs_user', this.requireAcsUser(id))
  }

  requestEnrollmentAutomationDeletion(id: string): void {
    this.requestDeletion('enrollment_automation', this.requireEnrollmentAutomation(id))
  }

  requestPhoneDeactivation(id: string): void {
    const phone = this.requirePhone(id)
    if (phone.deactivatedAt !== null) this.repeatedDelete('Phone', id)
    else this.requestDeletion('phone', phone)
  }

  /** user_identities/delete in the configured mode. */
  deleteUserIdentity(id: string): void {
    const identity = this.requireUserIdentity(id)
    if (identity.deletionRequestedAt !== null) {
      this.repeatedDelete('User identity', id)
      return
    }
    if (this.settings.userIdentityDeleteMode === 'documented') {
      this.deleteUserIdentityAsDocumented(identity)
      return
    }
    this.requestDeletion('user_identity', identity)
    for (const credential of this.credentialsOf(id)) {
      this.requestDeletion('acs_credential', credential, false)
    }
    for (const acsUser of this.acsUsersOf(id)) this.requestDeletion('acs_user', acsUser, false)
  }

  /** The guide's precondition: nothing that must be deleted first may remain. */
  private deleteUserIdentityAsDocumented(identity: UserIdentityRecord): void {
    const credentials = this.credentialsOf(identity.id).map((c) => c.id)
    const automations = this.enrollmentAutomationsOf(identity.id).map((a) => a.id)
    const phones = this.phonesOf(identity.id).map((p) => p.id)
    const remaining = [
      count(credentials.length, 'ACS credential'),
      count(automations.length, 'enrollment automation'),
      count(phones.length, 'active phone'),
    ].filter((part) => part !== '')
    if (remaining.length > 0) {
      throw new SeamApiError(
        400,
        'user_identity_has_associated_resources',
        `Cannot delete user identity ${identity.id}: it still has ${remaining.join(', ')}. Delete its ACS credentials and enrollment automations and deactivate its phones first.`,
        {
          data: {
            acs_credential_ids: credentials,
            enrollment_automation_ids: automations,
            device_ids: phones,
          },
        },
      )
    }
    for (const acsUser of this.acsUsersOf(identity.id)) acsUser.userIdentityId = null
    this.userIdentities.delete(identity.id)
  }

  /** A delete call for `record` (not the cascade's own requests): refused again while under way. */
  private requestDeletion(
    kind: DeletionKind,
    record: Deletable & { id: string },
    byCall = true,
  ): void {
    if (byCall && record.deletionRequestedAt !== null) {
      this.repeatedDelete(labelOf[kind], record.id)
      return
    }
    record.deletionRequestedAt ??= nowIso()
    this.deletions.request(kind, record.id)
  }

  /** A delete of what is already being deleted (or deactivated): harmless, or refused. */
  private repeatedDelete(label: string, id: string): void {
    if (this.settings.behaviours.repeatDelete === 'ok') return
    throw new SeamApiError(400, 'already_being_deleted', `${label} ${id} is already being deleted`)
  }

  /** Completes every due deletion that nothing blocks any more (repeats until stable). */
  settle(): void {
    if (this.settling) return
    this.settling = true
    try {
      let progress = true
      while (progress) {
        progress = false
        for (const { id, kind } of this.deletions.dueIds()) {
          if (this.complete(kind, id)) progress = true
        }
      }
    } finally {
      this.settling = false
    }
  }

  /** Completes one due deletion; false while something still blocks it. */
  private complete(kind: DeletionKind, id: string): boolean {
    switch (kind) {
      case 'acs_credential':
        this.removeAcsCredential(id)
        return true
      case 'acs_user': {
        // Deleting an ACS user invalidates its credentials; a stuck one holds the user back.
        const credentials = this.credentialsOfAcsUser(id)
        for (const c of credentials)
          if (!this.deletions.isStuck(c.id)) this.removeAcsCredential(c.id)
        if (this.credentialsOfAcsUser(id).length > 0) return false
        this.removeAcsUser(id)
        return true
      }
      case 'enrollment_automation':
        this.removeEnrollmentAutomation(id)
        return true
      case 'phone':
        this.removePhone(id)
        return true
      case 'user_identity': {
        // Cascade: waits for its credentials and ACS users (requesting any linked meanwhile).
        const children = [...this.credentialsOf(id), ...this.acsUsersOf(id)]
        for (const credential of this.credentialsOf(id)) {
          this.requestDeletion('acs_credential', credential, false)
        }
        for (const acsUser of this.acsUsersOf(id)) {
          this.requestDeletion('acs_user', acsUser, false)
        }
        if (children.length > 0) return false
        for (const session of this.clientSessionsOf(id)) this.removeClientSession(session.id)
        this.userIdentities.delete(id)
        this.deletions.finish(id)
        return true
      }
    }
  }

  private removeAcsCredential(id: string): void {
    this.deletions.finish(id)
    const record = this.acsCredentials.get(id)
    if (!record) return
    const acsUser = this.acsUsers.get(record.acsUserId)
    const connectedAccountId = this.acsSystems.get(record.acsSystemId)?.connectedAccountId
    this.acsCredentials.delete(id)
    for (const phone of this.phones.values()) {
      phone.acsCredentialIds = phone.acsCredentialIds.filter((c) => c !== id)
    }
    this.recordEvent(
      {
        event_type: 'acs_credential.deleted',
        acs_credential_id: id,
        acs_system_id: record.acsSystemId,
        ...(connectedAccountId ? { connected_account_id: connectedAccountId } : {}),
      },
      'An ACS credential was deleted.',
      compact({ acs_user_id: record.acsUserId, user_identity_id: acsUser?.userIdentityId }),
    )
  }

  private removeAcsUser(id: string): void {
    this.deletions.finish(id)
    const record = this.acsUsers.get(id)
    if (!record) return
    const connectedAccountId = this.acsSystems.get(record.acsSystemId)?.connectedAccountId
    this.acsUsers.delete(id)
    this.recordEvent(
      {
        event_type: 'acs_user.deleted',
        acs_user_id: id,
        acs_system_id: record.acsSystemId,
        ...(connectedAccountId ? { connected_account_id: connectedAccountId } : {}),
      },
      'An ACS user was deleted.',
      compact({ user_identity_id: record.userIdentityId }),
    )
  }

  private removeEnrollmentAutomation(id: string): void {
    this.deletions.finish(id)
    const record = this.enrollmentAutomations.get(id)
    if (!record) return
    this.enrollmentAutomations.delete(id)
    this.recordEvent(
      { event_type: 'enrollment_automation.deleted', enrollment_automation_id: id },
      'An enrollment automation was deleted.',
      {
        user_identity_id: record.userIdentityId,
        acs_system_id: record.credentialManagerAcsSystemId,
      },
    )
  }

  private removePhone(id: string): void {
    this.deletions.finish(id)
    const record = this.phones.get(id)
    if (!record || record.deactivatedAt !== null) return
    if (this.settings.behaviours.deactivatedPhones === 'listed') record.deactivatedAt = nowIso()
    else this.phones.delete(id)
    this.recordEvent(
      { event_type: 'phone.deactivated', device_id: id },
      'A phone was deactivated.',
      compact({ user_identity_id: record.ownerUserIdentityId }),
    )
  }

  private removeClientSession(id: string): void {
    const record = this.clientSessions.get(id)
    if (!record) return
    this.clientSessions.delete(id)
    this.recordEvent(
      { event_type: 'client_session.deleted', client_session_id: id },
      'A client session was deleted.',
      compact({ user_identity_id: record.userIdentityId }),
    )
  }

  // ---- events -------------------------------------------------------------------------------

  private recordEvent(
    fields: { event_type: SeamEvent['event_type'] } & Record<string, string>,
    description: string,
    related: Record<string, string>,
  ): void {
    const now = new Date()
    const created = now.toISOString()
    // Assembled from fields the event's schema demands; tests parse each with schemas.seam_event.
    const event = {
      event_id: randomUUID(),
      workspace_id: this.workspaceId,
      created_at: created,
      occurred_at: created,
      event_description: description,
      ...fields,
    } as SeamEvent
    this.events.push({ seq: ++this.seq, createdAtMs: now.getTime(), event, related })
    this.webhooks.publish(event)
  }
}

const labelOf: Record<DeletionKind, string> = {
  acs_credential: 'ACS credential',
  acs_user: 'ACS user',
  enrollment_automation: 'Enrollment automation',
  phone: 'Phone',
  user_identity: 'User identity',
}

const count = (n: number, noun: string): string =>
  n === 0 ? '' : `${n} ${noun}${n === 1 ? '' : 's'}`

const compact = (fields: Record<string, string | null | undefined>): Record<string, string> => {
  const result: Record<string, string> = {}
  for (const [key, value] of Object.entries(fields)) if (value) result[key] = value
  return result
}
