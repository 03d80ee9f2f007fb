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
import type { SeamClient, SeamError } from '../seam/index.js'
import { isNotFound, isSeamError, SeamRequestError } from '../seam/index.js'
import { logger } from '../telemetry/powertools.js'

export type { StageItem, StageName }

/**
 * An item as a stage's list returns it: `being_deleted` when Seam shows it is already being deleted
 * (its `being_deleted` warning). Such an item is pending, not deleted again (deletion-steps.ts,
 * splitListed); the flag never enters the execution state.
 */
export interface ListedItem extends StageItem {
  readonly being_deleted?: true
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
  /** Human words for state names and messages (STAGE_TITLES): "ACS credentials". */
  readonly title: string
  /** Past-tense verb for the summary: "deleted" or "deactivated". */
  readonly verb: 'deleted' | 'deactivated'
  /** Everything of this kind that remains for the identity, every page. */
  list(seam: SeamClient, userIdentityId: string): Promise<ListedItem[]>
  /**
   * What the stage deletes when that is known without asking Seam (the identity itself): its Delete
   * then skips the list call, and a not-found answer to the delete says it is already gone.
   */
  known?(userIdentityId: string): StageItem[]
  /**
   * Delete (or deactivate) one item. A not-found error means it is already gone. Returning means Seam
   * accepted the delete or is already deleting the item (see removeOrPending): either way it is pending.
   */
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
      (await seam.acsCredentials.list({ user_identity_id })).map((c) =>
        listed(c.acs_credential_id, c, c.acs_system_id),
      ),
    remove: removeOrPending(
      (seam, id) => seam.acsCredentials.delete(id),
      async (seam, id) => isBeingDeleted(await seam.acsCredentials.get(id)),
    ),
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
      (await seam.acsUsers.list({ user_identity_id })).map((u) =>
        listed(u.acs_user_id, u, u.acs_system_id),
      ),
    remove: removeOrPending(
      (seam, id) => seam.acsUsers.delete(id),
      async (seam, id) => isBeingDeleted(await seam.acsUsers.get(id)),
    ),
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
    list: async (seam, user_identity_id) => {
      try {
        return (await seam.enrollmentAutomations.list({ user_identity_id })).map((a) => ({
          id: a.enrollment_automation_id,
        }))
      } catch (error) {
        // The routes are "will be removed" in Seam's spec. Once they are gone there is nothing of this
        // kind left to delete; an identity Seam no longer knows has none either.
        if (!isNotFound(error)) throw error
        if (isRouteGone(error as SeamError)) warnRoutesGone(error as SeamError)
        return []
      }
    },
    // Seam shows no being-deleted state for these: a refused repeat delete waits for the event.
    remove: removeOrPending((seam, id) => seam.enrollmentAutomations.delete(id)),
    confirmation: {
      eventType: 'enrollment_automation.deleted',
      idField: 'enrollment_automation_id',
    },
  },
  {
    ...named('phones'),
    verb: 'deactivated',
    summaryKey: 'phones_deactivated',
    list: async (seam, owner_user_identity_id) => {
      const phones = await seam.phones.list({ owner_user_identity_id })
      const deactivated = await deactivatedPhones(seam, phones)
      return phones.filter((p) => !deactivated.has(p.device_id)).map((p) => ({ id: p.device_id }))
    },
    // Seam shows no being-deactivated state for phones: a refused repeat waits for the event.
    remove: removeOrPending((seam, id) => seam.phones.deactivate(id)),
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
  remove: removeOrPending(
    (seam, id) => seam.userIdentities.delete(id),
    async (seam, id) => isBeingDeleted(await seam.userIdentities.get({ user_identity_id: id })),
  ),
  confirmation: 'lookup',
  waitsAfterDelete: true,
}

/**
 * A stage's listed items: those Seam is already deleting (pending: deleting them again may be refused,
 * and adds nothing), and the rest, to delete. Both as plain StageItems, for the execution state.
 */
export function splitListed(items: readonly ListedItem[]): {
  readonly toDelete: StageItem[]
  readonly beingDeleted: StageItem[]
} {
  const plain = ({ being_deleted: _flag, ...item }: ListedItem): StageItem => item
  return {
    toDelete: items.filter((item) => !item.being_deleted).map(plain),
    beingDeleted: items.filter((item) => item.being_deleted).map(plain),
  }
}

// ---------------------------------------------------------------------------------------------------
// What Seam leaves undocumented (the Seam emulator has both readings of each; README there).

type Remove = (seam: SeamClient, id: string) => Promise<void>

/** A resource with Seam's warnings; `being_deleted` says Seam is deleting it. */
interface Warned {
  readonly warnings?: ReadonlyArray<{ readonly warning_code: string }> | undefined
}

function isBeingDeleted(resource: Warned): boolean {
  return (resource.warnings ?? []).some((w) => w.warning_code === 'being_deleted')
}

function listed(id: string, resource: Warned, acsSystemId: string): ListedItem {
  return {
    id,
    acs_system_id: acsSystemId,
    ...(isBeingDeleted(resource) ? { being_deleted: true as const } : {}),
  }
}

/**
 * Seam documents no answer to deleting what it is already deleting: `{ ok: true }`, or a refusal (a 4xx
 * other than 401/404/429). A refusal of that kind counts as pending, never as a permanent failure:
 * - where Seam shows a being-deleted state, `beingDeleted` looks the item up: being deleted → pending;
 *   not found → gone (the error propagates as such); otherwise the refusal stands (a real one);
 * - where it shows none (phones, enrollment automations), the item waits as pending: its event, or its
 *   leaving the list, confirms it, and if neither comes the stage ends stuck, naming it.
 */
function removeOrPending(
  remove: Remove,
  beingDeleted?: (seam: SeamClient, id: string) => Promise<boolean>,
): Remove {
  return async (seam, id) => {
    try {
      await remove(seam, id)
    } catch (error) {
      if (!isSeamError(error) || error.name !== SeamRequestError) throw error
      if (beingDeleted && !(await beingDeleted(seam, id))) throw error
      logger.warn('Seam refused a delete of an item it may already be deleting: waiting for it', {
        id,
        seam_error_type: error.type,
        seam_route: error.route,
        seam_request_id: error.requestId,
      })
    }
  }
}

/** The 404 types the enrollment-automation routes answer about a resource (not about a route). */
const ENROLLMENT_AUTOMATION_RESOURCE_404S: ReadonlySet<string> = new Set([
  'enrollment_automation_not_found',
  'user_identity_not_found',
])

/** A 404 that names no resource these routes know: the route itself is gone (or not found). */
function isRouteGone(error: SeamError): boolean {
  return !ENROLLMENT_AUTOMATION_RESOURCE_404S.has(error.type)
}

let routesGoneWarned = false

/** Logged once per process: every deletion meets it, and once says all there is to say. */
function warnRoutesGone(error: SeamError): void {
  if (routesGoneWarned) return
  routesGoneWarned = true
  logger.warn(
    "Seam has no enrollment-automation routes (any more): the stage deletes none. Seam's spec marks them as to be removed",
    { seam_error_type: error.type, seam_route: error.route, seam_request_id: error.requestId },
  )
}

/**
 * Listed phones Seam has confirmed deactivated (`phone.deactivated`): done, even where Seam still lists
 * them. One events/list for all of them, from just before the oldest was created (Seam's own clock on
 * both sides, so no skew to allow for).
 */
async function deactivatedPhones(
  seam: SeamClient,
  phones: ReadonlyArray<{ device_id: string; created_at: string }>,
): Promise<Set<string>> {
  if (phones.length === 0) return new Set()
  const oldest = Math.min(...phones.map((p) => Date.parse(p.created_at)))
  const since = new Date((Number.isFinite(oldest) ? oldest : 0) - 1).toISOString()
  // device_ids is a filter of Seam's events/list that the client's parameter type does not name.
  const params = {
    since,
    event_type: 'phone.deactivated',
    device_ids: phones.map((p) => p.device_id),
  }
  const events = await seam.events.list(params)
  return new Set(
    events.flatMap((event) => {
      const id = (event as { device_id?: unknown }).device_id
      return typeof id === 'string' ? [id] : []
    }),
  )
}

/** Every stage the state machine runs, in order: what the identity holds, then the identity. */
export const DELETION_STAGES: readonly StageDefinition[] = [...STAGES, USER_IDENTITY]

/** The stage that runs before `stage`; undefined for the first. */
export function previousStage(stage: StageDefinition): StageDefinition | undefined {
  const index = DELETION_STAGES.findIndex((s) => s.name === stage.name)
  return index > 0 ? DELETION_STAGES[index - 1] : undefined
}

export function stageByName(name: string): StageDefinition {
  const stage = DELETION_STAGES.find((s) => s.name === name)
  if (!stage) {
    throw new Error(
      `Unknown deletion stage "${name}"; known: ${DELETION_STAGES.map((s) => s.name).join(', ')}`,
    )
  }
  return stage
}
