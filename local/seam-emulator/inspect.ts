import {
  renderAcsCredential,
  renderAcsSystem,
  renderAcsUser,
  renderClientSession,
  renderEnrollmentAutomation,
  renderPhone,
  renderUserIdentity,
} from './resources.js'
import type { Store } from './store.js'
import type { RemainingResources, SeamEmulatorInspect } from './types.js'

/** Read-only views of the emulator's state for assertions. */
export const createInspect = (store: Store): SeamEmulatorInspect => ({
  remainingFor: (userIdentityId) => {
    const identity = store.userIdentities.get(userIdentityId)
    const acsUserIds = store.acsUsersOf(userIdentityId).map((u) => u.id)
    const remaining: RemainingResources = {
      userIdentity: identity ? renderUserIdentity(store, identity) : null,
      clientSessionIds: store.clientSessionsOf(userIdentityId).map((s) => s.id),
      acsUserIds,
      acsCredentialIds: store.credentialsOf(userIdentityId).map((c) => c.id),
      enrollmentAutomationIds: store.enrollmentAutomationsOf(userIdentityId).map((a) => a.id),
      phoneIds: store.phonesOf(userIdentityId).map((p) => p.id),
      isEmpty: false,
    }
    remaining.isEmpty =
      remaining.userIdentity === null &&
      [
        remaining.clientSessionIds,
        remaining.acsUserIds,
        remaining.acsCredentialIds,
        remaining.enrollmentAutomationIds,
        remaining.phoneIds,
      ].every((ids) => ids.length === 0)
    return remaining
  },

  events: (filter = {}) =>
    store.events
      .filter((r) => filter.eventType === undefined || r.event.event_type === filter.eventType)
      .map((r) => r.event),

  pendingDeletions: () => store.deletions.list(),

  exists: (id) => createInspect(store).resource(id) !== null,

  resource: (id) => {
    const identity = store.userIdentities.get(id)
    if (identity) return renderUserIdentity(store, identity)
    const system = store.acsSystems.get(id)
    if (system) return renderAcsSystem(store, system)
    const acsUser = store.acsUsers.get(id)
    if (acsUser) return renderAcsUser(store, acsUser)
    const credential = store.acsCredentials.get(id)
    if (credential) return renderAcsCredential(store, credential)
    const session = store.clientSessions.get(id)
    if (session) return renderClientSession(store, session)
    const automation = store.enrollmentAutomations.get(id)
    if (automation) return renderEnrollmentAutomation(store, automation)
    const phone = store.phones.get(id)
    if (phone) return renderPhone(store, phone)
    return null
  },

  counts: () => ({
    userIdentities: store.userIdentities.size,
    acsSystems: store.acsSystems.size,
    acsUsers: store.acsUsers.size,
    acsCredentials: store.acsCredentials.size,
    clientSessions: store.clientSessions.size,
    enrollmentAutomations: store.enrollmentAutomations.size,
    phones: store.phones.size,
    events: store.events.length,
  }),
})
