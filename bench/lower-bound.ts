/**
 * The fewest Seam requests any deletion of a given identity shape can make: one list call per
 * collection and page (a list that comes back empty is still one call), one call per resource deleted
 * or deactivated, one user_identities/delete, and one events/list per asynchronous stage (a stage's
 * confirmations read in one call after the last of its deletes could have completed) —
 * plus one user_identities/get confirming the identity's own deletion: Seam deletes it
 * asynchronously too (warning `being_deleted`) and sends no event for it, so a deletion that reports
 * the identity gone must look once.
 */

export interface BenchShape {
  readonly clientSessions: number
  /** One ACS user per ACS system, as Seam allows per user identity. */
  readonly acsSystems: number
  readonly credentialsPerUser: number
  readonly enrollmentAutomations: number
  readonly phones: number
}

/** The benchmark's fixed shape. */
export const FIXED_SHAPE: BenchShape = {
  clientSessions: 2,
  acsSystems: 2,
  credentialsPerUser: 3,
  enrollmentAutomations: 1,
  phones: 2,
}

export interface LowerBound {
  readonly lists: number
  readonly deletes: number
  readonly identityDelete: 1
  readonly eventChecks: number
  readonly identityLookup: 1
  /** Asynchronous deletes waited for: the stages with events, and the identity. */
  readonly asyncWaits: number
  readonly total: number
  /** The formula with this shape's numbers filled in. */
  readonly formula: string
}

/** Collections the deletion lists, each filtered by the identity, with whether its delete is async. */
export function collections(shape: BenchShape): { name: string; items: number; async: boolean }[] {
  return [
    { name: 'client_sessions', items: shape.clientSessions, async: false },
    { name: 'acs_credentials', items: shape.acsSystems * shape.credentialsPerUser, async: true },
    { name: 'acs_users', items: shape.acsSystems, async: true },
    { name: 'enrollment_automations', items: shape.enrollmentAutomations, async: true },
    { name: 'phones', items: shape.phones, async: true },
  ]
}

export function lowerBound(shape: BenchShape, pageSize: number): LowerBound {
  const all = collections(shape)
  const pages = all.map((c) => Math.max(1, Math.ceil(c.items / pageSize)))
  const lists = pages.reduce((a, b) => a + b, 0)
  const deletes = all.reduce((a, c) => a + c.items, 0)
  // A stage with nothing to delete has nothing to confirm: the workflow moves on without a check.
  const eventChecks = all.filter((c) => c.async && c.items > 0).length
  const total = lists + deletes + 1 + eventChecks + 1
  const formula =
    `Σ ceil(max(n,1)/page ${pageSize}) [${pages.join('+')}=${lists}] + Σ n ` +
    `[${all.map((c) => c.items).join('+')}=${deletes}] + 1 identity delete + ` +
    `${eventChecks} async stages with items + 1 identity lookup = ${total}`
  return {
    lists,
    deletes,
    identityDelete: 1,
    eventChecks,
    identityLookup: 1,
    asyncWaits: eventChecks + 1,
    total,
    formula,
  }
}
