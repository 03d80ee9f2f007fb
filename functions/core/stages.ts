/**
 * The deletion stages, as data. One entry per stage says how to list what remains of a user identity
 * (every page), how to delete one item, and — for asynchronous deletes — how Seam confirms it. The CDK
 * construct iterates this table to build the state machine; the stage task handler reads the same
 * entry. Adding or reordering a stage is one edit here.
 *
 * Order follows Seam's guide: sessions first (so the app stops acting for the user), then credentials
 * (the keys to doors), then the ACS users holding them, then enrollment automations, then phones; the
 * identity itself last, so a failed deletion leaves it in place to be retried.
 */
import {
  type DeletionSummary,
  STAGE_TITLES,
  type StageItem,
  type StageName,
} from '../contract/workflow.js'
import type { SeamClient } from '../seam/index.js'
import { isNotFound } from '../seam/index.js'

export type { StageItem, StageName }

export interface Confirmation {
  /** The Seam event type that confirms one item is gone. */
  readonly eventType: string
  /** The event field carrying the item's id. */
  readonly idField: string
  /**
   * The events/list filter selecting events of one item, for when one call per pending id is cheaper
   * than one call for the whole stage (or the 500-event cap was reached). Undefined when Seam has none.
   */
  readonly perIdFilter?: 'acs_credential_id' | 'acs_user_id' | 'device_id'
}

export interface StageDefinition {
  readonly name: StageName
  /** Human words for state names and messages (STAGE_TITLES): "ACS credentials". */
  readonly title: string
  /** Past-tense verb for the summary: "deleted" or "deactivated". */
  readonly verb: 'deleted' | 'deactivated'
  /** Everything of this kind that remains for the identity, every page. */
  list(seam: SeamClient, userIdentityId: string): Promise<StageItem[]>
  /**
   * What the stage deletes when that is known without asking Seam (the identity itself): its Delete
   * then skips the list call, and a not-found answer to the delete says it is already gone.
   */
  known?(userIdentityId: string): StageItem[]
  /** Delete (or deactivate) one item. A not-found error means it is already gone. */
  remove(seam: SeamClient, id: string): Promise<void>
  /**
   * How Seam confirms an asynchronous delete: the event that says an item is gone (checks read
   * events/list, and look in the list only for what events did not confirm), or 'lookup' where Seam
   * sends no event (every check looks the item up: gone once no longer listed). Undefined for
   * synchronous deletes (done when the call returns).
   */
  readonly confirmation?: Confirmation | 'lookup'
  /**
   * The stage deletes one item that exists when it starts, whose delete Seam always finishes later: its
   * `Delete` goes straight to its first wait, without a `<Stage> done?` that would only cost a state
   * transition. (An item already gone is then confirmed by the first check.)
   */
  readonly waitsAfterDelete?: boolean
}

/** A stage of what the identity holds; what it deletes is counted in the Deletion summary. */
export interface DependantStage extends StageDefinition {
  /** Key in the Deletion summary. */
  readonly summaryKey: keyof DeletionSummary
}

/** A stage's name and title. */
function named(name: StageName): { name: StageName; title: string } {
  return { name, title: STAGE_TITLES[name] }
}

export const STAGES: readonly DependantStage[] = [
  {
    ...named('client_sessions'),
    verb: 'deleted',
    summaryKey: 'client_sessions_deleted',
    list: async (seam, user_identity_id) =>
      (await seam.clientSessions.list({ user_identity_id })).map((s) => ({
        id: s.client_session_id,
      })),
    remove: (seam, id) => seam.clientSessions.delete(id),
  },
  {
    ...named('acs_credentials'),
    verb: 'deleted',
    summaryKey: 'acs_credentials_deleted',
    list: async (seam, user_identity_id) =>
      (await seam.acsCredentials.list({ user_identity_id })).map((c) => ({
        id: c.acs_credential_id,
        acs_system_id: c.acs_system_id,
      })),
    remove: (seam, id) => seam.acsCredentials.delete(id),
    confirmation: {
      eventType: 'acs_credential.deleted',
      idField: 'acs_credential_id',
      perIdFilter: 'acs_credential_id',
    },
  },
  {
    ...named('acs_users'),
    verb: 'deleted',
    summaryKey: 'acs_users_deleted',
    list: async (seam, user_identity_id) =>
      (await seam.acsUsers.list({ user_identity_id })).map((u) => ({
        id: u.acs_user_id,
        acs_system_id: u.acs_system_id,
      })),
    remove: (seam, id) => seam.acsUsers.delete(id),
    confirmation: {
      eventType: 'acs_user.deleted',
      idField: 'acs_user_id',
      perIdFilter: 'acs_user_id',
    },
  },
  {
    ...named('enrollment_automations'),
    verb: 'deleted',
    summaryKey: 'enrollment_automations_deleted',
    list: async (seam, user_identity_id) =>
      (await seam.enrollmentAutomations.list({ user_identity_id })).map((a) => ({
        id: a.enrollment_automation_id,
      })),
    remove: (seam, id) => seam.enrollmentAutomations.delete(id),
    confirmation: {
      eventType: 'enrollment_automation.deleted',
      idField: 'enrollment_automation_id',
    },
  },
  {
    ...named('phones'),
    verb: 'deactivated',
    summaryKey: 'phones_deactivated',
    list: async (seam, owner_user_identity_id) =>
      (await seam.phones.list({ owner_user_identity_id })).map((p) => ({ id: p.device_id })),
    remove: (seam, id) => seam.phones.deactivate(id),
    confirmation: {
      eventType: 'phone.deactivated',
      idField: 'device_id',
      perIdFilter: 'device_id',
    },
  },
]

/** The name of the last stage, the identity itself (Deletion.stage). */
export const USER_IDENTITY_STAGE: StageName = 'user_identity'

/**
 * The identity itself, after every other stage. In Seam's cascade mode `user_identities/delete` only
 * marks it (warning `being_deleted`) and Seam deletes it later; Seam has no `user_identity.*` event, so
 * each check looks it up (`user_identities/get`): gone once not found.
 */
export const USER_IDENTITY: StageDefinition = {
  ...named(USER_IDENTITY_STAGE),
  verb: 'deleted',
  list: async (seam, user_identity_id) => {
    try {
      await seam.userIdentities.get({ user_identity_id })
      return [{ id: user_identity_id }]
    } catch (error) {
      if (isNotFound(error)) return []
      throw error
    }
  },
  // The DELETE route has just looked it up; the delete itself says so if it is gone since.
  known: (user_identity_id) => [{ id: user_identity_id }],
  remove: (seam, id) => seam.userIdentities.delete(id),
  confirmation: 'lookup',
  waitsAfterDelete: true,
}

/** Every stage the state machine runs, in order: what the identity holds, then the identity. */
export const DELETION_STAGES: readonly StageDefinition[] = [...STAGES, USER_IDENTITY]

export function stageByName(name: string): StageDefinition {
  const stage = DELETION_STAGES.find((s) => s.name === name)
  if (!stage) {
    throw new Error(
      `Unknown deletion stage "${name}"; known: ${DELETION_STAGES.map((s) => s.name).join(', ')}`,
    )
  }
  return stage
}
