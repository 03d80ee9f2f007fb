import { randomBytes } from 'node:crypto'
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
import type { IdentityGraph, IdentityGraphShape, SeamEmulatorSeed } from './types.js'

const suffix = (): string => randomBytes(4).toString('hex')

/** Seeding helpers: create state directly (no HTTP, no faults, not in the request log). */
export const createSeed = (store: Store): SeamEmulatorSeed => {
  const seed: SeamEmulatorSeed = {
    userIdentity: (input = {}) => {
      const tag = suffix()
      const record = store.createUserIdentity({
        key: input.userIdentityKey === undefined ? `user-${tag}` : input.userIdentityKey,
        email: input.emailAddress === undefined ? `user-${tag}@example.com` : input.emailAddress,
        phone: input.phoneNumber ?? null,
        fullName: input.fullName === undefined ? `Emulated User ${tag}` : input.fullName,
      })
      return renderUserIdentity(store, record)
    },

    acsSystem: (input = {}) => renderAcsSystem(store, store.createAcsSystem(input)),

    acsUser: (input) => {
      const identity = input.userIdentityId
        ? store.requireUserIdentity(input.userIdentityId)
        : undefined
      const record = store.createAcsUser({
        acsSystemId: input.acsSystemId,
        userIdentityId: input.userIdentityId ?? null,
        fullName: input.fullName ?? identity?.fullName ?? `ACS user ${suffix()}`,
        email: input.emailAddress ?? identity?.email ?? null,
        phone: input.phoneNumber ?? identity?.phone ?? null,
      })
      return renderAcsUser(store, record)
    },

    acsCredential: (input) =>
      renderAcsCredential(
        store,
        store.createAcsCredential({
          acsUserId: input.acsUserId,
          ...(input.accessMethod ? { accessMethod: input.accessMethod } : {}),
          ...(input.displayName ? { displayName: input.displayName } : {}),
          ...(input.code ? { code: input.code } : {}),
          ...(input.isMultiPhoneSyncCredential === undefined
            ? {}
            : { isMultiPhoneSyncCredential: input.isMultiPhoneSyncCredential }),
        }),
      ),

    clientSession: (input = {}) =>
      renderClientSession(
        store,
        store.createClientSession({
          userIdentityId: input.userIdentityId ?? null,
          userIdentifierKey: input.userIdentifierKey ?? null,
        }),
      ),

    enrollmentAutomation: (input) =>
      renderEnrollmentAutomation(
        store,
        store.createEnrollmentAutomation({
          userIdentityId: input.userIdentityId,
          ...(input.credentialManagerAcsSystemId
            ? { credentialManagerAcsSystemId: input.credentialManagerAcsSystemId }
            : {}),
        }),
      ),

    phone: (input = {}) =>
      renderPhone(
        store,
        store.createPhone({
          ownerUserIdentityId: input.ownerUserIdentityId ?? null,
          ...(input.deviceType ? { deviceType: input.deviceType } : {}),
          ...(input.displayName ? { displayName: input.displayName } : {}),
          acsCredentialIds: input.acsCredentialIds ?? [],
        }),
      ),

    identityGraph: (shape: IdentityGraphShape = {}): IdentityGraph => {
      const count = (n: number | undefined): number => Math.max(0, Math.floor(n ?? 1))
      const identity = seed.userIdentity(shape.userIdentity)
      const userIdentityId = identity.user_identity_id
      const graph: IdentityGraph = {
        userIdentityId,
        clientSessionIds: [],
        acsSystemIds: [],
        acsUserIds: [],
        acsCredentialIds: [],
        enrollmentAutomationIds: [],
        credentialManagerAcsSystemIds: [],
        phoneIds: [],
      }
      for (let i = 0; i < count(shape.clientSessions); i++) {
        graph.clientSessionIds.push(seed.clientSession({ userIdentityId }).client_session_id)
      }
      for (let i = 0; i < count(shape.acsSystems); i++) {
        const system = seed.acsSystem({ name: `Emulated access system ${suffix()}` })
        graph.acsSystemIds.push(system.acs_system_id)
        const acsUser = seed.acsUser({ acsSystemId: system.acs_system_id, userIdentityId })
        graph.acsUserIds.push(acsUser.acs_user_id)
        for (let j = 0; j < count(shape.credentialsPerUser); j++) {
          const credential = seed.acsCredential({ acsUserId: acsUser.acs_user_id })
          graph.acsCredentialIds.push(credential.acs_credential_id)
        }
      }
      // With the enrollment-automation routes gone, no identity has any (the graph says so).
      const automations =
        store.settings.behaviours.enrollmentAutomationRoutes === 'gone'
          ? 0
          : count(shape.enrollmentAutomations)
      for (let i = 0; i < automations; i++) {
        const manager = seed.acsSystem({
          name: `Emulated credential manager ${suffix()}`,
          isCredentialManager: true,
        })
        graph.credentialManagerAcsSystemIds.push(manager.acs_system_id)
        const automation = seed.enrollmentAutomation({
          userIdentityId,
          credentialManagerAcsSystemId: manager.acs_system_id,
        })
        graph.enrollmentAutomationIds.push(automation.enrollment_automation_id)
      }
      for (let i = 0; i < count(shape.phones); i++) {
        const phone = seed.phone({
          ownerUserIdentityId: userIdentityId,
          deviceType: i % 2 === 0 ? 'ios_phone' : 'android_phone',
          acsCredentialIds: graph.acsCredentialIds,
        })
        graph.phoneIds.push(phone.device_id)
      }
      return graph
    },
  }
  return seed
}
