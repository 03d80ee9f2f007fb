/**
 * The deletion stages, as data. One entry per stage says how to list what remains of a user identity
 * (every page), how to delete one item, and — for asynchronous deletes — which Seam event confirms it.
 * The CDK construct iterates this table to build the state machine; the stage task handler reads the same
 * entry. Adding or reordering a stage is one edit here.
 *
 * Order follows Seam's guide: sessions first (so the app stops acting for the user), then credentials
 * (the keys to doors), then the ACS users holding them, then enrollment automations, then phones.
 */
import type { SeamClient } from '../seam/index.js'

export type StageName =
  | 'client_sessions'
  | 'acs_credentials'
  | 'acs_users'
  | 'enrollment_automations'
  | 'phones'

/** One thing a stage deletes: its id, plus the ACS system it lives in where Seam says so (for messages). */
export interface StageItem {
  readonly id: string
  readonly acs_system_id?: string
}

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
  /** Human words for state names and messages: "Delete ACS credentials". */
  readonly title: string
  /** Past-tense verb for the summary: "deleted" or "deactivated". */
  readonly verb: 'deleted' | 'deactivated'
  /** Key in the Deletion summary (api-contract.md). */
  readonly summaryKey: string
  /** Everything of this kind that remains for the identity, every page. */
  list(seam: SeamClient, userIdentityId: string): Promise<StageItem[]>
  /** Delete (or deactivate) one item. A not-found error means it is already gone. */
  remove(seam: SeamClient, id: string): Promise<void>
  /** Undefined for synchronous deletes (done when the call returns). */
  readonly confirmation?: Confirmation
}

export const STAGES: readonly StageDefinition[] = [
  {
    name: 'client_sessions',
    title: 'client sessions',
    verb: 'deleted',
    summaryKey: 'client_sessions_deleted',
    list: async (seam, user_identity_id) =>
      (await seam.clientSessions.list({ user_identity_id })).map((s) => ({
        id: s.client_session_id,
      })),
    remove: (seam, id) => seam.clientSessions.delete(id),
  },
  {
    name: 'acs_credentials',
    title: 'ACS credentials',
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
    name: 'acs_users',
    title: 'ACS users',
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
    name: 'enrollment_automations',
    title: 'enrollment automations',
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
    name: 'phones',
    title: 'phones',
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

/** The last step, after every stage: the identity itself. Named like a stage in Deletion.stage. */
export const USER_IDENTITY_STAGE = 'user_identity'

export function stageByName(name: string): StageDefinition {
  const stage = STAGES.find((s) => s.name === name)
  if (!stage) {
    throw new Error(
      `Unknown deletion stage "${name}"; known: ${STAGES.map((s) => s.name).join(', ')}`,
    )
  }
  return stage
}

/**
 * State names, in one place: the construct names its states with these, and the status route and the
 * local progress lines map a state name back to its stage.
 */
export function stateNames(stage: Pick<StageDefinition, 'title'>) {
  const title = stage.title.charAt(0).toUpperCase() + stage.title.slice(1)
  return {
    delete: `Delete ${stage.title}`,
    check: `Check ${stage.title}`,
    done: `${title} done?`,
    wait: `Wait for ${stage.title}`,
    stuck: `${title} stuck`,
    explainFailure: `Explain ${stage.title} failure`,
    failed: `${title} failed`,
  }
}

export const USER_IDENTITY_STATE_NAMES = {
  delete: 'Delete user identity',
  explainFailure: 'Explain user identity failure',
  failed: 'User identity failed',
  succeeded: 'Deleted',
} as const

/** The stage a state belongs to, or undefined for states of no stage. */
export function stageOfState(stateName: string): string | undefined {
  for (const stage of STAGES) {
    if (Object.values(stateNames(stage)).includes(stateName)) return stage.name
  }
  return (Object.values(USER_IDENTITY_STATE_NAMES) as string[]).includes(stateName)
    ? USER_IDENTITY_STAGE
    : undefined
}
