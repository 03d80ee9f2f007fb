/**
 * POST /user-identities, the logic without HTTP: check the ACS users, create the identity in Seam, tell a
 * duplicate from other rejections, link the ACS users, undo the identity when linking fails for good or
 * Seam is too slow for the request's deadline. Throws ApiError for the client's mistakes (and for the
 * deadline) and lets SeamError through for Seam's (http.ts maps both); once the identity exists, every
 * failure that leaves it behind names it (error.user_identity_id) and says what a repeat does.
 *
 * An ACS user is never moved from another identity, however many creates race for it: a create with
 * ACS users holds a lease on each (AcsUserLeases, the coordination table) from the check through the
 * link and its verification to the end of any undo, so this service's creates take turns per ACS user;
 * after linking, Seam must report every ACS user on this identity, else 409 acs_user_already_linked
 * (what linked it elsewhere was outside the leases). A refused link is answered the same way.
 *
 * Seam calls on the happy path: one acs/users/get per ACS user (so an unknown ACS user, or one linked
 * to another identity, never costs a create and an asynchronous delete), user_identities/create, one
 * add_acs_user per ACS user, one acs/users/get per ACS user to verify. Nothing else: the duplicate
 * lookups run only after Seam rejected the create, the holder lookups only for an ACS user that is
 * already linked. Repeating a call Seam may not have answered is the Seam client's business
 * (functions/seam/retry-policy.ts), the create included. The undo asks Seam what is linked
 * (acs/users/list), unlinks it, asks again, then deletes (undoCreate). When Seam may have acted
 * unanswered (a create or link sent, no answer), the error says so (may_have_taken_effect), names the
 * key and the id where known, and that repeating the same request settles it.
 */

import { randomUUID } from 'node:crypto'
import type { Logger } from '@aws-lambda-powertools/logger'
import { ApiError, mapSeamError, seamLogFields, seamStateOf } from '../contract/errors.js'
import { type CreateUserIdentityInput, UNIQUE_FIELDS, type UniqueField } from '../contract/http.js'
import {
  isNotFound,
  isSeamError,
  isTransient,
  type SeamClient,
  type SeamError,
  SeamThrottledError,
  SeamUnauthorizedError,
  SeamUnavailableError,
  type UserIdentity,
  withSeamDeadline,
} from '../seam/index.js'
import { forEachLimited } from './concurrency.js'
import type { Coordination } from './coordination.js'

/** What the core logs through (the Powertools logger): ids and counts only, never an email, phone or key. */
export type Log = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>

/** Of the time before the deadline, the last part kept for undoing what the request created. */
export const DEFAULT_UNDO_RESERVE_MS = 4_000

export interface CreateOptions {
  /**
   * Epoch ms by which createUserIdentity must have returned, undo included (the handler derives it
   * from the Lambda's remaining time). Seam calls stop `undoReserveMs` before it; what this request
   * created is then undone in the time left. Undefined: only the Seam client's per-call limits.
   */
  deadline?: number | undefined
  /** Default DEFAULT_UNDO_RESERVE_MS. */
  undoReserveMs?: number | undefined
  now?: () => number
  /**
   * The per-ACS-user leases (the coordination table) that serialize creates linking the same ACS
   * user: held from the check through the link and its verification to the end of any undo. The
   * handler always passes them; without them, concurrent creates for one ACS user are not
   * serialized (only the verification after linking catches a move).
   */
  leases?: LeaseStore | undefined
  /** This request's name as a lease owner; default a random UUID (every request its own). */
  leaseOwner?: string | undefined
  /** Longest wait for another request's leases (default: half the time left before the deadline). */
  leaseWaitMs?: number | undefined
}

/** The lease operations of the coordination table a create uses. */
export type LeaseStore = Pick<Coordination, 'acquireLease' | 'releaseLease'>

/** The lease kind: `lease#acs_user#<acs_user_id>`. */
export const ACS_USER_LEASE = 'acs_user'
/**
 * A lease outlives its create's deadline by this much (lease expiry = deadline + margin): the
 * Lambda stops at its timeout, just after the deadline, so a lease never expires under a running
 * create; the margin covers the answer's last steps and clock skew between Lambdas.
 */
export const LEASE_MARGIN_SECONDS = 15
/** A lease's length when the create has no deadline (tests, scripts). */
export const DEFAULT_LEASE_SECONDS = 60
/** Without a deadline, the longest wait for another request's lease. */
export const DEFAULT_LEASE_WAIT_MS = 10_000

export interface CreateResult {
  userIdentity: UserIdentity
  /** False when a previous attempt of this same request had created it (a retry after a lost response). */
  created: boolean
}

/** How far the request got, for the answer when its time runs out. */
interface Progress {
  phase: 'checking' | 'creating' | 'linking'
  userIdentityId?: string
  created: boolean
  /**
   * user_identities/create was sent and may have taken effect unanswered (a 5xx, a timeout, a broken
   * connection), or Seam rejected it because an identity with these fields exists.
   */
  createInDoubt?: boolean
  /** ACS users this request linked (Seam confirmed it). */
  linked: string[]
  /**
   * The ACS user whose add_acs_user may have taken effect unconfirmed (some attempt got a 5xx, a
   * timeout or a broken connection, SeamError.mayHaveTakenEffect): Seam may have linked it, or may
   * still link it.
   */
  inDoubt?: string
}

// ---------------------------------------------------------------------------------------------------
// The flow

export async function createUserIdentity(
  seam: SeamClient,
  input: CreateUserIdentityInput,
  log: Log,
  options: CreateOptions = {},
): Promise<CreateResult> {
  const now = options.now ?? Date.now
  const { deadline } = options
  const workDeadline =
    deadline === undefined
      ? undefined
      : deadline - (options.undoReserveMs ?? DEFAULT_UNDO_RESERVE_MS)
  const progress: Progress = { phase: 'checking', created: false, linked: [] }
  const acsUserIds = [...new Set(input.acs_user_ids ?? [])]
  const leases =
    options.leases && acsUserIds.length > 0
      ? new AcsUserLeases(options.leases, acsUserIds, options.leaseOwner ?? randomUUID(), log, {
          now,
          deadline,
          waitUntil: leaseWaitUntil(now(), workDeadline, options.leaseWaitMs),
        })
      : undefined
  try {
    return await withSeamDeadline(workDeadline, () =>
      createAndLink(seam, input, acsUserIds, log, progress, deadline, leases),
    )
  } catch (err) {
    if (workDeadline !== undefined && now() >= workDeadline && isTransient(err)) {
      throw await answerOutOfTime(seam, input, progress, log, deadline)
    }
    throw failedWhileLinking(err, input, progress)
  } finally {
    // Only now, after any undo: until then another create could see this request's half-done work.
    await leases?.release()
  }
}

async function createAndLink(
  seam: SeamClient,
  input: CreateUserIdentityInput,
  acsUserIds: readonly string[],
  log: Log,
  progress: Progress,
  deadline: number | undefined,
  leases: AcsUserLeases | undefined,
): Promise<CreateResult> {
  // 1. Every ACS user must exist and be free (or already this request's): checked before anything is
  //    created, so nothing needs undoing; under the ACS users' leases, so that no other create of
  //    this service links them between this check and this request's link.
  const linkedToOwn = leases
    ? await leases.acquireChecked(() => checkAcsUsers(seam, input, acsUserIds, log))
    : await checkAcsUsers(seam, input, acsUserIds, log)

  // 2. Create, or recognize this request's own identity from an earlier attempt.
  progress.phase = 'creating'
  const params = createParams(input)
  let identity: UserIdentity
  let created = true
  try {
    identity = await seam.userIdentities.create(params)
  } catch (err) {
    if (mayHaveTakenEffect(err) || isSeamRejection(err)) progress.createInDoubt = true
    if (!isSeamRejection(err)) throw err
    identity = await explainRejection(seam, input, err, log)
    created = false
  }
  const userIdentityId = identity.user_identity_id
  Object.assign(progress, { phase: 'linking', userIdentityId, created })
  log.info(created ? 'User identity created' : 'User identity already created by this request', {
    user_identity_id: userIdentityId,
    acs_user_count: acsUserIds.length,
  })

  // 3. Link, except what an earlier attempt of this request already linked to this identity.
  const already = acsUserIds.filter((id) => linkedToOwn.get(id) === userIdentityId)
  const { linked } = progress
  for (const acsUserId of acsUserIds.filter((id) => !already.includes(id))) {
    try {
      await seam.userIdentities.addAcsUser({
        user_identity_id: userIdentityId,
        acs_user_id: acsUserId,
      })
      linked.push(acsUserId)
    } catch (err) {
      const ids = { user_identity_id: userIdentityId, acs_user_id: acsUserId }
      // An ACS user that no longer exists cannot be lost to the identity's delete, whatever Seam did.
      if (mayHaveTakenEffect(err) && !isAcsUserGone(err)) progress.inDoubt = acsUserId
      if (!isNotFound(err) && !isSeamRejection(err)) {
        // Seam unavailable: the identity stays (failedWhileLinking names it); repeating the request
        // finds it (same fields) and finishes. Seam too slow for the deadline: see answerOutOfTime.
        log.warn('Linking an ACS user failed: Seam unavailable or too slow', {
          ...ids,
          seam: isSeamError(err) ? seamLogFields(err) : undefined,
          may_have_taken_effect: progress.inDoubt === acsUserId,
        })
        throw err
      }
      if (isNotFound(err) && !isAcsUserGone(err)) throw identityGone(userIdentityId, created)
      // Refused: where Seam does not move a linked ACS user, someone linked it since the check.
      const holder = isNotFound(err) ? undefined : await holderOf(seam, acsUserId)
      const remains = await withSeamDeadline(deadline, () => undoOrKeep(seam, progress, log))
      if (isNotFound(err)) throw acsUserGone(acsUserId, userIdentityId, progress, remains)
      if (typeof holder === 'string' && holder !== userIdentityId) {
        throw linkedElsewhere(
          [{ acs_user_id: acsUserId, user_identity_id: holder }],
          progress,
          remains,
        )
      }
      throw linkRejected(err as SeamError, acsUserId, userIdentityId, progress, remains)
    }
  }

  // 4. Verify: Seam reports every ACS user on this identity. Not so when something outside this
  //    service's leases linked one elsewhere meanwhile (where Seam moves linked ACS users, that may
  //    even be a link of ours Seam applied late): then this request answers 409 and undoes.
  const lost = await linksLost(seam, acsUserIds, userIdentityId)
  if (lost.length > 0) {
    log.warn('ACS users not on the user identity after linking', {
      user_identity_id: userIdentityId,
      lost_acs_users: lost,
    })
    const remains = await withSeamDeadline(deadline, () => undoOrKeep(seam, progress, log))
    throw linkedElsewhere(lost, progress, remains)
  }
  log.info('User identity ready', {
    user_identity_id: userIdentityId,
    acs_user_ids: acsUserIds,
    already_linked: already.length,
  })

  // Linking does not change the identity's fields; its acs_user_ids now include the linked users.
  const acsUserIdsNow = [...new Set([...(identity.acs_user_ids ?? []), ...already, ...linked])]
  return { userIdentity: { ...identity, acs_user_ids: acsUserIdsNow }, created }
}

function createParams(input: CreateUserIdentityInput) {
  const params: {
    user_identity_key?: string
    email_address?: string
    phone_number?: string
    full_name?: string
  } = {}
  if (input.user_identity_key != null) params.user_identity_key = input.user_identity_key
  if (input.email_address != null) params.email_address = input.email_address
  if (input.phone_number != null) params.phone_number = input.phone_number
  if (input.full_name != null) params.full_name = input.full_name
  return params
}

// ---------------------------------------------------------------------------------------------------
// The ACS users

/**
 * acs/users/get for each id, four at a time: the first unknown one → 404 acs_user_not_found. An ACS
 * user linked to another user identity → 409 acs_user_already_linked: a create never takes an ACS user
 * (a door credential holder) away from another account, and Seam's add_acs_user would move it without
 * a word. One linked to an identity with this request's fields (an earlier attempt of it created and
 * linked it) is fine. Returns those, each with its identity.
 */
async function checkAcsUsers(
  seam: SeamClient,
  input: CreateUserIdentityInput,
  acsUserIds: readonly string[],
  log: Log,
): Promise<Map<string, string>> {
  const missing: string[] = []
  const linkedTo = new Map<string, string>()
  await forEachLimited(acsUserIds, 4, async (id) => {
    try {
      const acsUser = await seam.acsUsers.get(id)
      if (acsUser.user_identity_id) linkedTo.set(id, acsUser.user_identity_id)
    } catch (err) {
      if (!isNotFound(err)) throw err
      missing.push(id)
    }
  })
  const firstMissing = acsUserIds.find((id) => missing.includes(id))
  if (firstMissing !== undefined) throw acsUserNotFound(firstMissing, missing.length)
  if (linkedTo.size === 0) return linkedTo

  // Whose are they? Only an identity that is this request's own may keep them.
  const own = new Set<string>()
  const deleting = new Set<string>()
  await forEachLimited([...new Set(linkedTo.values())], 4, async (holderId) => {
    let holder: UserIdentity
    try {
      holder = await seam.userIdentities.get({ user_identity_id: holderId })
    } catch (err) {
      if (!isNotFound(err)) throw err
      // A link to an identity that no longer exists takes nothing away from anyone.
      for (const [acsUserId, id] of linkedTo) if (id === holderId) linkedTo.delete(acsUserId)
      return
    }
    if (isBeingDeleted(holder)) deleting.add(holderId)
    else if (isSameIdentity(holder, input)) own.add(holderId)
  })
  const taken = acsUserIds.flatMap((acsUserId) => {
    const holderId = linkedTo.get(acsUserId)
    return holderId === undefined || own.has(holderId)
      ? []
      : [{ acs_user_id: acsUserId, user_identity_id: holderId }]
  })
  if (taken.length > 0) {
    log.info('ACS users already linked to other user identities', { linked_acs_users: taken })
    throw acsUserAlreadyLinked(taken, deleting)
  }
  return linkedTo
}

/** The identity Seam reports an ACS user linked to: null for none, undefined when it is gone. */
async function holderOf(seam: SeamClient, acsUserId: string): Promise<string | null | undefined> {
  try {
    return (await seam.acsUsers.get(acsUserId)).user_identity_id ?? null
  } catch (err) {
    if (isNotFound(err)) return undefined
    throw err
  }
}

interface LostLink {
  acs_user_id: string
  /** Where Seam reports it instead (null: on no identity). */
  user_identity_id: string | null
}

/** The ACS users Seam does not report on `userIdentityId` (one acs/users/get each, four at a time). */
async function linksLost(
  seam: SeamClient,
  acsUserIds: readonly string[],
  userIdentityId: string,
): Promise<LostLink[]> {
  const lost: LostLink[] = []
  await forEachLimited(acsUserIds, 4, async (acsUserId) => {
    const holder = await holderOf(seam, acsUserId)
    // Deleted meanwhile: nobody else holds it, and the identity's delete cannot take it.
    if (holder !== undefined && holder !== userIdentityId) {
      lost.push({ acs_user_id: acsUserId, user_identity_id: holder })
    }
  })
  return acsUserIds.flatMap((id) => lost.filter((l) => l.acs_user_id === id))
}

function acsUserNotFound(acsUserId: string, count = 1): ApiError {
  const others = count > 1 ? ` (and ${count - 1} more of the acs_user_ids)` : ''
  return new ApiError(
    404,
    'acs_user_not_found',
    `ACS user ${acsUserId} does not exist${others}; no user identity was created.`,
    { extras: { acs_user_id: acsUserId } },
  )
}

function acsUserAlreadyLinked(
  taken: readonly { acs_user_id: string; user_identity_id: string }[],
  deleting: ReadonlySet<string>,
): ApiError {
  const first = taken[0] as { acs_user_id: string; user_identity_id: string }
  const beingDeleted = deleting.has(first.user_identity_id) ? ' (which is being deleted)' : ''
  const others =
    taken.length > 1
      ? ` (and ${taken.length - 1} more of the acs_user_ids to other user identities)`
      : ''
  return new ApiError(
    409,
    'acs_user_already_linked',
    `ACS user ${first.acs_user_id} is already linked to user identity ${first.user_identity_id}${beingDeleted}${others}; an ACS user is never moved from another identity. No user identity was created.`,
    {
      extras: {
        acs_user_id: first.acs_user_id,
        user_identity_id: first.user_identity_id,
        linked_acs_users: taken,
      },
    },
  )
}

// ---------------------------------------------------------------------------------------------------
// Leases: one create at a time per ACS user

/** When a create stops waiting for other requests' leases: half its working time, or `waitMs`. */
function leaseWaitUntil(now: number, workDeadline: number | undefined, waitMs?: number): number {
  const half = workDeadline === undefined ? DEFAULT_LEASE_WAIT_MS : (workDeadline - now) / 2
  return now + Math.max(0, Math.min(half, waitMs ?? half))
}

/**
 * The leases `lease#acs_user#<id>` of one create's ACS users, all or none: taken in id order, given
 * back at once when one is held by another request (so two creates with overlapping ACS users never
 * wait on each other in a cycle). Each expires LEASE_MARGIN_SECONDS after the create's deadline, so
 * it outlives the create that holds it, and a crashed holder blocks others only until then.
 */
class AcsUserLeases {
  private readonly ids: readonly string[]
  private held: string[] = []

  constructor(
    private readonly store: LeaseStore,
    acsUserIds: readonly string[],
    readonly owner: string,
    private readonly log: Log,
    private readonly time: { now: () => number; deadline?: number | undefined; waitUntil: number },
  ) {
    this.ids = [...acsUserIds].sort()
  }

  /**
   * Takes the leases, then runs `check` (which throws this request's answer when an ACS user is
   * unknown or linked elsewhere). While another request holds one, `check` runs without them (an ACS
   * user that request has linked meanwhile is answered 409 at once), then this waits and tries again,
   * until `waitUntil`: then 409 acs_user_busy. Returns `check`'s result, run under all the leases.
   */
  async acquireChecked<T>(check: () => Promise<T>): Promise<T> {
    for (let round = 0; ; round++) {
      const busy = await this.tryAcquire()
      const checked = await check()
      if (busy === undefined) return checked
      const delay = Math.min(500, 25 * 2 ** round) * (0.5 + Math.random() / 2)
      if (this.time.now() + delay >= this.time.waitUntil) {
        this.log.info('ACS user lease held by another request until this one gave up', {
          acs_user_id: busy,
          rounds: round + 1,
        })
        throw acsUserBusy(busy)
      }
      await new Promise((resolve) => setTimeout(resolve, delay))
    }
  }

  /** Gives back what this request holds. A lease that cannot be deleted just expires. */
  async release(): Promise<void> {
    const held = this.held.splice(0)
    await Promise.all(
      held.map((id) =>
        this.store.releaseLease(ACS_USER_LEASE, id, this.owner).catch((err: unknown) => {
          this.log.warn('ACS user lease not released; it expires on its own', {
            acs_user_id: id,
            error: err instanceof Error ? err.name : String(err),
          })
        }),
      ),
    )
  }

  /** Takes every lease, or none: undefined when all are held, else the first ACS user busy. */
  private async tryAcquire(): Promise<string | undefined> {
    const { deadline } = this.time
    const seconds =
      deadline === undefined
        ? DEFAULT_LEASE_SECONDS
        : Math.ceil(Math.max(0, deadline - this.time.now()) / 1000) + LEASE_MARGIN_SECONDS
    for (const id of this.ids) {
      if (this.held.includes(id)) continue
      if (!(await this.store.acquireLease(ACS_USER_LEASE, id, this.owner, seconds))) {
        await this.release()
        return id
      }
      this.held.push(id)
    }
    return undefined
  }
}

function acsUserBusy(acsUserId: string): ApiError {
  return new ApiError(
    409,
    'acs_user_busy',
    `Another request is linking ACS user ${acsUserId} to a user identity right now; no user identity was created. Repeat this request in a few seconds: it then answers 201, or 409 acs_user_already_linked if the other request linked it.`,
    { extras: { acs_user_id: acsUserId }, headers: { 'Retry-After': '2' } },
  )
}

/**
 * After its create, an ACS user turned out linked to another identity (Seam refused the link, or
 * reported it elsewhere after linking): 409 acs_user_already_linked, after the undo.
 */
function linkedElsewhere(
  lost: readonly LostLink[],
  progress: Progress,
  remains: Remains | undefined,
): ApiError {
  const id = progress.userIdentityId as string
  const taken = lost.flatMap((l) =>
    l.user_identity_id === null ? [] : [{ ...l, user_identity_id: l.user_identity_id }],
  )
  const first = (taken[0] ?? lost[0]) as LostLink
  const where =
    first.user_identity_id === null
      ? 'on no user identity (it was unlinked while this request ran)'
      : `linked to user identity ${first.user_identity_id} (by someone else while this request ran)`
  const others = lost.length > 1 ? ` (and ${lost.length - 1} more of the acs_user_ids)` : ''
  const left =
    remains === undefined
      ? 'the user identity this request had created was deleted again, with no ACS user linked'
      : `${remainsClause(id, remains, progress)}, with the ACS users Seam reports on it`
  return new ApiError(
    409,
    'acs_user_already_linked',
    `Seam reports ACS user ${first.acs_user_id} ${where}${others}; an ACS user is never moved from another identity, so ${left}. Repeat the request without that ACS user, or once it is free.`,
    {
      extras: {
        acs_user_id: first.acs_user_id,
        ...(first.user_identity_id === null ? {} : { user_identity_id: first.user_identity_id }),
        linked_acs_users: taken,
        ...(remains === undefined ? {} : { kept_user_identity_id: id }),
      },
    },
  )
}

// ---------------------------------------------------------------------------------------------------
// Rejections and duplicates

/** A 4xx from Seam about the request itself (not auth, not throttling): the caller's input. */
function isSeamRejection(err: unknown): err is SeamError {
  if (!isSeamError(err)) return false
  if (err.name === SeamThrottledError || err.name === SeamUnauthorizedError) return false
  if (err.name === SeamUnavailableError) return false
  return typeof err.status === 'number' && err.status >= 400 && err.status < 500
}

interface Match {
  field: UniqueField
  identity: UserIdentity
}

/**
 * Seam rejected the create. Seam documents no error type for a duplicate, so look: by key, then by
 * email / phone (list + search, compared exactly: search matches substrings). Returns this request's
 * own identity (same key/email/phone/name, not being deleted); throws 409 for someone else's; else
 * passes Seam's rejection on.
 */
async function explainRejection(
  seam: SeamClient,
  input: CreateUserIdentityInput,
  rejection: SeamError,
  log: Log,
): Promise<UserIdentity> {
  const matches = await findExisting(seam, input, log)
  if (matches.length === 0) {
    log.info('Seam rejected the create; no existing identity explains it', {
      seam: seamLogFields(rejection),
    })
    throw passOn(rejection, 'creating the user identity')
  }

  const ids = [...new Set(matches.map((m) => m.identity.user_identity_id))]
  const only = matches[0]?.identity
  if (ids.length === 1 && only && isSameIdentity(only, input) && !isBeingDeleted(only)) {
    return only
  }

  const first = matches[0] as Match
  const fields = [...new Set(matches.map((m) => m.field))]
  const conflicts = UNIQUE_FIELDS.flatMap((field) =>
    matches
      .filter((m) => m.field === field)
      .map((m) => ({ field, user_identity_id: m.identity.user_identity_id })),
  )
  log.info('User identity conflict', { conflicts })
  const named =
    ids.length === 1
      ? `user identity ${first.identity.user_identity_id}`
      : `user identities ${ids.join(', ')}`
  const deleting = matches.some((m) => isBeingDeleted(m.identity))
    ? ' It is being deleted; retry once it is gone.'
    : ''
  throw new ApiError(
    409,
    'user_identity_conflict',
    `The ${joinFields(fields)} ${fields.length > 1 ? 'are' : 'is'} already used by ${named} in this workspace.${deleting}`,
    {
      extras: {
        user_identity_id: first.identity.user_identity_id,
        field: first.field,
        conflicts,
      },
    },
  )
}

/** The identities holding the key, email or phone of the input, in UNIQUE_FIELDS order. */
async function findExisting(
  seam: SeamClient,
  input: CreateUserIdentityInput,
  log: Log,
): Promise<Match[]> {
  const lookups: Promise<Match[]>[] = []
  const key = input.user_identity_key
  if (key != null) {
    lookups.push(
      lookup(log, 'user_identity_key', async () => {
        try {
          return [await seam.userIdentities.get({ user_identity_key: key })]
        } catch (err) {
          if (isNotFound(err)) return []
          throw err
        }
      }).then((found) => matchesOf('user_identity_key', found, (i) => i.user_identity_key === key)),
    )
  }
  const email = input.email_address
  if (email != null) {
    lookups.push(
      lookup(log, 'email_address', () => seam.userIdentities.list({ search: email })).then(
        (found) => {
          // Seam documents no case rule for emails: an identity with this exact email is what
          // collided; only when none has it, one differing in case did (Seam compared case-blind).
          const exact = found.filter((i) => i.email_address === email)
          return exact.length > 0
            ? matchesOf('email_address', exact, () => true)
            : matchesOf('email_address', found, (i) => sameEmail(i.email_address, email))
        },
      ),
    )
  }
  const phone = input.phone_number
  if (phone != null) {
    lookups.push(
      lookup(log, 'phone_number', () => seam.userIdentities.list({ search: phone })).then((found) =>
        matchesOf('phone_number', found, (i) => i.phone_number === phone),
      ),
    )
  }
  return (await Promise.all(lookups)).flat()
}

/** A lookup that Seam itself rejects explains nothing; an outage must not become a wrong answer. */
async function lookup(
  log: Log,
  field: UniqueField,
  run: () => Promise<UserIdentity[]>,
): Promise<UserIdentity[]> {
  try {
    return await run()
  } catch (err) {
    if (isSeamRejection(err)) {
      log.warn('Duplicate lookup rejected by Seam', { field, seam: seamLogFields(err) })
      return []
    }
    throw err
  }
}

function matchesOf(
  field: UniqueField,
  found: UserIdentity[],
  same: (identity: UserIdentity) => boolean,
): Match[] {
  return found.filter(same).map((identity) => ({ field, identity }))
}

/** Email addresses compare case-insensitively (Seam's uniqueness check does). */
function sameEmail(a: string | null | undefined, b: string | null | undefined): boolean {
  return (a ?? null)?.toLowerCase() === (b ?? null)?.toLowerCase()
}

/** The identity this very request asked for: all four fields equal (absent = null). */
export function isSameIdentity(identity: UserIdentity, input: CreateUserIdentityInput): boolean {
  return (
    (identity.user_identity_key ?? null) === (input.user_identity_key ?? null) &&
    sameEmail(identity.email_address, input.email_address) &&
    (identity.phone_number ?? null) === (input.phone_number ?? null) &&
    (identity.full_name ?? null) === (input.full_name ?? null)
  )
}

function isBeingDeleted(identity: UserIdentity): boolean {
  const warnings: ReadonlyArray<{ warning_code?: string }> = identity.warnings ?? []
  return warnings.some((w) => w.warning_code === 'being_deleted')
}

function joinFields(fields: readonly string[]): string {
  if (fields.length <= 1) return fields[0] ?? ''
  return `${fields.slice(0, -1).join(', ')} and ${fields[fields.length - 1]}`
}

/**
 * Seam's 4xx, passed on as a 4xx: invalid_input stays 400; other types keep Seam's 4xx status.
 * `then` is appended to the message (what was left behind), `extras` to the error's fields.
 */
function passOn(
  err: SeamError,
  doing: string,
  then = '',
  extras: Record<string, unknown> = {},
): ApiError {
  const status =
    err.status !== undefined && err.status >= 400 && err.status < 500 ? err.status : 400
  const type = err.type === 'invalid_input' ? 'invalid_input' : err.type
  return new ApiError(
    type === 'invalid_input' ? 400 : status,
    type,
    `Seam rejected ${doing}: ${err.message}${then}`,
    {
      extras: { ...(err.requestId ? { seam_request_id: err.requestId } : {}), ...extras },
    },
  )
}

// ---------------------------------------------------------------------------------------------------
// Undo, and the answers that say what was left behind

/** Whether a failed call may have taken effect in Seam unconfirmed; anything but a SeamError may. */
function mayHaveTakenEffect(err: unknown): boolean {
  return !isSeamError(err) || err.mayHaveTakenEffect === true
}

/** add_acs_user's not-found about the ACS user (not about the identity). */
function isAcsUserGone(err: unknown): boolean {
  return isNotFound(err) && (err as SeamError).type !== 'user_identity_not_found'
}

/**
 * Why an identity this request worked on remains in Seam after the request failed:
 * - earlier_attempt: an earlier attempt of this request created it; it is the caller's, never undone.
 * - in_doubt: a link Seam did not confirm may have taken effect, or may still: the identity's delete
 *   would cascade to that ACS user, and a link Seam applies after the undo looked cannot be unlinked.
 * - shared: Seam shows ACS users linked to it that this request did not link (an identical request
 *   running at the same time took the identity for its own), or links came back while it was undone.
 * - undo_failed: listing or unlinking its ACS users, or the delete, failed (or ran out of time).
 */
type Remains = 'earlier_attempt' | 'in_doubt' | 'shared' | 'undo_failed'

/** Deletes the identity again when this request created it and may; else says why it remains. */
async function undoOrKeep(
  seam: SeamClient,
  progress: Progress,
  log: Log,
): Promise<Remains | undefined> {
  const id = progress.userIdentityId as string
  if (!progress.created) {
    log.warn('User identity created by an earlier attempt of this request kept', {
      user_identity_id: id,
    })
    return 'earlier_attempt'
  }
  if (progress.inDoubt !== undefined) {
    log.warn('User identity kept: Seam may still link an ACS user to it', {
      user_identity_id: id,
      acs_user_id: progress.inDoubt,
    })
    return 'in_doubt'
  }
  return undoCreate(seam, id, progress.linked, log)
}

/**
 * Deletes again an identity this request created. What is linked to it is read from Seam (acs/users/
 * list, every page), never taken from what this request believes it linked: Seam's user_identities/
 * delete cascades to the identity's ACS users, and those are the caller's. Each is unlinked first
 * (user_identities/remove_acs_user) and the list read again; any failure stops the undo before the
 * delete. An ACS user this request did not link means another request with the same fields took the
 * identity for its own (the replay rule): the identity is left to it, linked as it is.
 *
 * The ACS users' leases close this race for a request with the same ACS users (it waits for this one's
 * leases, held until the undo is over, then finds the identity gone or kept). Nothing closes it for a
 * request with the same fields but other ACS users: one that recognized the identity before the delete
 * but links only after the last list loses that ACS user to Seam's cascade (a window of about one
 * call), or answers 201 naming an identity that is then deleted — its verification, run before that
 * delete, cannot see it.
 */
async function undoCreate(
  seam: SeamClient,
  userIdentityId: string,
  linked: readonly string[],
  log: Log,
): Promise<'shared' | 'undo_failed' | undefined> {
  const ids = { user_identity_id: userIdentityId }
  const ours = new Set(linked)
  try {
    const acsUsers = await seam.acsUsers.list({ user_identity_id: userIdentityId })
    const theirs = acsUsers.map((u) => u.acs_user_id).filter((id) => !ours.has(id))
    if (theirs.length > 0) {
      log.warn('User identity kept: another request linked ACS users to it', {
        ...ids,
        acs_user_ids: theirs,
      })
      return 'shared'
    }
    if (acsUsers.length > 0) {
      for (const { acs_user_id } of acsUsers) {
        try {
          await seam.userIdentities.removeAcsUser({ user_identity_id: userIdentityId, acs_user_id })
        } catch (err) {
          if (!isNotFound(err)) throw err
        }
      }
      const again = await seam.acsUsers.list({ user_identity_id: userIdentityId })
      if (again.length > 0) {
        log.warn('User identity kept: ACS users were linked to it again while it was undone', {
          ...ids,
          acs_user_ids: again.map((u) => u.acs_user_id),
        })
        return 'shared'
      }
    }
    try {
      await seam.userIdentities.delete(userIdentityId)
    } catch (err) {
      if (!isNotFound(err)) throw err
    }
    log.info('User identity deleted again', { ...ids, acs_users_unlinked: acsUsers.length })
    return undefined
  } catch (err) {
    log.error('Could not delete the user identity again', {
      ...ids,
      seam: isSeamError(err) ? seamLogFields(err) : undefined,
    })
    return 'undo_failed'
  }
}

/** "user identity X, <how it came to be>, <why it remains>", for the answers below. */
function remainsClause(id: string, remains: Remains, progress: Progress): string {
  switch (remains) {
    case 'earlier_attempt':
      return `user identity ${id}, created by an earlier attempt of this request, is kept`
    case 'in_doubt':
      return `user identity ${id}, which this request created, is kept: Seam may still link ACS user ${progress.inDoubt} to it, and deleting the identity would delete that ACS user too`
    case 'shared':
      return `user identity ${id}, which this request created, is kept: another request with the same fields is linking ACS users to it`
    case 'undo_failed':
      return `user identity ${id}, which this request created, could not be deleted again`
  }
}

const capitalized = (text: string) => `${text.charAt(0).toUpperCase()}${text.slice(1)}`

/** The ACS user vanished between its check and its link (404 from add_acs_user). */
function acsUserGone(
  acsUserId: string,
  userIdentityId: string,
  progress: Progress,
  remains: Remains | undefined,
): ApiError {
  const gone = `ACS user ${acsUserId} does not exist (it was deleted while this request ran)`
  if (remains === undefined) {
    return new ApiError(
      404,
      'acs_user_not_found',
      `${gone}; the user identity this request had created was deleted again, with no ACS user linked.`,
      { extras: { acs_user_id: acsUserId } },
    )
  }
  return new ApiError(
    404,
    'acs_user_not_found',
    `${gone}; ${remainsClause(userIdentityId, remains, progress)}. It may have some of the other ACS users linked. Repeating the request without that ACS user is safe: it answers with that identity and links the others.`,
    { extras: { acs_user_id: acsUserId, user_identity_id: userIdentityId } },
  )
}

/** Seam rejected a link (a 4xx other than 404). */
function linkRejected(
  err: SeamError,
  acsUserId: string,
  userIdentityId: string,
  progress: Progress,
  remains: Remains | undefined,
): ApiError {
  const doing = `linking ACS user ${acsUserId}`
  if (remains === undefined) {
    return passOn(
      err,
      doing,
      ' The user identity this request had created was deleted again, with no ACS user linked.',
    )
  }
  return passOn(
    err,
    doing,
    ` ${capitalized(remainsClause(userIdentityId, remains, progress))}. It may have some of the other ACS users linked. Repeating the request with the same fields and acs_user_ids Seam accepts is safe: it answers with that identity and links them.`,
    { user_identity_id: userIdentityId },
  )
}

/** add_acs_user found no identity: it was deleted while this request linked ACS users to it. */
function identityGone(userIdentityId: string, created: boolean): ApiError {
  const whose = created
    ? 'which this request created'
    : 'created by an earlier attempt of this request'
  return new ApiError(
    409,
    'user_identity_conflict',
    `User identity ${userIdentityId}, ${whose}, was deleted while this request linked ACS users to it. Repeat the same request once it is gone: it then creates a new one.`,
    { extras: { user_identity_id: userIdentityId } },
  )
}

/**
 * What may exist in Seam after this request ended without knowing: for the error's extras. The key
 * (the caller's own) and the id where known; `may_have_taken_effect` marks the answer as "unsettled".
 */
function mayExist(input: CreateUserIdentityInput, progress: Progress): Record<string, unknown> {
  return {
    may_have_taken_effect: true,
    ...(input.user_identity_key == null ? {} : { user_identity_key: input.user_identity_key }),
    ...(progress.userIdentityId === undefined ? {} : { user_identity_id: progress.userIdentityId }),
  }
}

/** The sentence for a create Seam may have carried out without answering. */
const MAY_HAVE_CREATED =
  'Seam may have created the user identity without answering (with this request’s fields; error.user_identity_key names its key), and may still do so. Repeating the same request settles it: it answers 201 with that identity (X-Replayed: true), or creates it.'

/**
 * Seam failed (before any deadline) after the create was sent: the identity may exist (the create
 * unanswered), or exists (then partly linked), and the answer names it. Seam's failure keeps its
 * status and type (http.ts, mapSeamError). Anything else passes through unchanged.
 */
function failedWhileLinking(
  err: unknown,
  input: CreateUserIdentityInput,
  progress: Progress,
): unknown {
  const id = progress.userIdentityId
  if (!isSeamError(err)) return err
  const creating = progress.phase === 'creating' && progress.createInDoubt === true
  if (!creating && (progress.phase !== 'linking' || id === undefined)) return err
  const mapped = mapSeamError(err)
  const seamState = seamStateOf(err)
  const retry = (then: string) =>
    new ApiError(mapped.status, mapped.type, then, {
      extras: {
        ...mapped.extras,
        ...(creating || progress.inDoubt ? mayExist(input, progress) : {}),
        ...(id ? { user_identity_id: id } : {}),
      },
      headers: mapped.headers,
      cause: err,
    })
  if (creating) {
    const what = isTransient(err)
      ? `${seamState}, while this request created the user identity.`
      : mapped.message
    return retry(`${what} ${MAY_HAVE_CREATED}`)
  }
  const whose = progress.created
    ? 'which this request created'
    : 'created by an earlier attempt of this request'
  const inDoubt =
    progress.inDoubt === undefined
      ? ''
      : ` Seam may still link ACS user ${progress.inDoubt} to it without having answered.`
  const exists = `User identity ${id}, ${whose}, exists, but not every ACS user is linked to it yet.${inDoubt}`
  return retry(
    isTransient(err)
      ? `${seamState}, while this request linked ACS users. ${exists} Repeating the same request is safe: it answers with that identity and finishes the linking.`
      : `${mapped.message} ${exists} Once that is resolved, repeating the same request answers with that identity and finishes the linking.`,
  )
}

/**
 * Seam was too slow for the request to finish before its deadline: 504 request_timeout saying what was
 * left behind. An identity this request created is deleted again (in the time kept for it, see
 * undoCreate), unless a link Seam did not confirm may still take effect, or another request uses it;
 * when it is kept, or the undo cannot finish, the answer names it. A create sent and not answered may
 * still take effect: the answer says so and names its key. A repeat of the same request is always
 * safe and settles it: it recognizes an identity it created (same fields) and finishes the linking.
 */
async function answerOutOfTime(
  seam: SeamClient,
  input: CreateUserIdentityInput,
  progress: Progress,
  log: Log,
  deadline: number | undefined,
): Promise<ApiError> {
  const { phase, userIdentityId: id, created } = progress
  log.warn('Seam too slow for the deadline', { phase, user_identity_id: id, created })
  const slow = 'Seam answered too slowly for this request to finish in time'
  const timeout = (message: string, extras: Record<string, unknown> = {}) =>
    new ApiError(504, 'request_timeout', `${slow}: ${message}`, { extras })
  if (phase === 'checking' || (phase === 'creating' && !progress.createInDoubt)) {
    return timeout('no user identity was created. Retry later.')
  }
  if (phase === 'creating' || id === undefined) {
    return timeout(MAY_HAVE_CREATED, mayExist(input, progress))
  }
  const remains = await withSeamDeadline(deadline, () => undoOrKeep(seam, progress, log))
  if (remains === undefined) {
    return timeout(
      'the user identity it had created was deleted again, with no ACS user linked. Retry later (until Seam has finished deleting it, the same request answers 409 user_identity_conflict).',
    )
  }
  return timeout(
    `${remainsClause(id, remains, progress)}. It may have only some of the ACS users linked. Repeating the same request is safe: it answers with that identity and finishes the linking.`,
    remains === 'in_doubt' ? mayExist(input, progress) : { user_identity_id: id },
  )
}
