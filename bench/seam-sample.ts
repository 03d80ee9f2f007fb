/**
 * Seam's sample algorithm from "Managing Mobile App User Accounts with User Identities"
 * (Seam's guide of that name), ported from Python to TypeScript for the benchmark
 * only. It is kept as written — sequential lists and deletes, one wait per ACS user's credentials, a
 * busy loop on events/list with no sleep, the filter applied on our side — except for what it needs to
 * run at all:
 *
 * 1. `since` on events/list: Seam (and the emulator) reject events/list without `since` or `between`.
 *    It is the moment the deletion began.
 * 2. `wait_for_phone_deactivated` is called but never defined in the guide; it is written like its
 *    siblings (event `phone.deactivated`, id field `device_id`).
 * 3. @seamapi/http has no enrollment-automation routes any more; they go through the same SeamHttp
 *    instance's own HTTP client (`seam.client`), as the raw Seam API.
 * 4. A bound on every wait loop (polls and time), so the benchmark cannot hang; hitting it is reported
 *    (`boundHits`) and the algorithm goes on as if the event had arrived.
 *
 * The guide's lists read one page (the SDK's `list` returns the first page); so does this port.
 */
import { SeamHttp } from '@seamapi/http/connect'

export interface SampleBound {
  /** Most events/list calls one wait loop may make. */
  readonly maxPolls: number
  /** Longest one wait loop may spin (ms). */
  readonly maxWaitMs: number
}

export interface SampleRun {
  readonly wallMs: number
  /** Seam requests this run made, as counted by the port (the emulator log is the reference). */
  readonly requests: number
  readonly eventPolls: number
  /** Wait loops that stopped at the bound instead of seeing their event. */
  readonly boundHits: number
}

interface SeamEventLike {
  readonly event_type: string
  readonly [field: string]: unknown
}

/** Delete a user identity the way Seam's guide does. */
export async function deleteUserIdentityLikeTheGuide(
  config: { apiKey: string; endpoint: string },
  userIdentityId: string,
  bound: SampleBound,
): Promise<SampleRun> {
  // The guide's client as it comes: SeamHttp with its defaults.
  const seam = SeamHttp.fromApiKey(config.apiKey, { endpoint: config.endpoint })
  const started = performance.now()
  const since = new Date().toISOString()
  let requests = 0
  let eventPolls = 0
  let boundHits = 0
  const counted = <T>(request: PromiseLike<T>): Promise<T> => {
    requests++
    return Promise.resolve(request)
  }

  const waitForEvent = async (
    eventType: string,
    eventFilter: (event: SeamEventLike) => boolean,
  ): Promise<void> => {
    const deadline = performance.now() + bound.maxWaitMs
    for (let poll = 0; ; poll++) {
      if (poll >= bound.maxPolls || performance.now() > deadline) {
        boundHits++
        return
      }
      eventPolls++
      const events = (await counted(
        seam.events.list({ event_type: eventType, since } as Parameters<
          typeof seam.events.list
        >[0]),
      )) as unknown as SeamEventLike[]
      if (events.some(eventFilter)) return
    }
  }
  const waitForAcsUserDeleted = (acsUser: { acs_user_id: string }) =>
    waitForEvent(
      'acs_user.deleted',
      (event) => 'acs_user_id' in event && event.acs_user_id === acsUser.acs_user_id,
    )
  const waitForEnrollmentAutomationDeleted = (automation: { enrollment_automation_id: string }) =>
    waitForEvent(
      'enrollment_automation.deleted',
      (event) =>
        'enrollment_automation_id' in event &&
        event.enrollment_automation_id === automation.enrollment_automation_id,
    )
  const waitForAcsCredentialDeleted = (credential: { acs_credential_id: string }) =>
    waitForEvent(
      'acs_credential.deleted',
      (event) =>
        'acs_credential_id' in event && event.acs_credential_id === credential.acs_credential_id,
    )
  // Not defined in the guide (see 2. above).
  const waitForPhoneDeactivated = (phone: { device_id: string }) =>
    waitForEvent(
      'phone.deactivated',
      (event) => 'device_id' in event && event.device_id === phone.device_id,
    )

  // Delete the client sessions.
  const clientSessions = await counted(
    seam.clientSessions.list({ user_identity_id: userIdentityId }),
  )
  for (const session of clientSessions) {
    await counted(seam.clientSessions.delete({ client_session_id: session.client_session_id }))
  }

  // Delete the ACS users and credentials.
  const acsUsers = await counted(seam.acs.users.list({ user_identity_id: userIdentityId }))
  for (const acsUser of acsUsers) {
    const credentials = await counted(
      seam.acs.credentials.list({ acs_user_id: acsUser.acs_user_id }),
    )
    for (const credential of credentials) {
      await counted(
        seam.acs.credentials.delete({ acs_credential_id: credential.acs_credential_id }),
      )
    }
    await Promise.all(credentials.map((credential) => waitForAcsCredentialDeleted(credential)))
    await counted(seam.acs.users.delete({ acs_user_id: acsUser.acs_user_id }))
  }
  await Promise.all(acsUsers.map((acsUser) => waitForAcsUserDeleted(acsUser)))

  // Delete the enrollment automations.
  const listed = await counted(
    seam.client.get<{ enrollment_automations: { enrollment_automation_id: string }[] }>(
      '/user_identities/enrollment_automations/list',
      { params: { user_identity_id: userIdentityId } },
    ),
  )
  const enrollmentAutomations = listed.data.enrollment_automations
  for (const automation of enrollmentAutomations) {
    await counted(
      seam.client.post('/user_identities/enrollment_automations/delete', {
        enrollment_automation_id: automation.enrollment_automation_id,
      }),
    )
  }
  await Promise.all(
    enrollmentAutomations.map((automation) => waitForEnrollmentAutomationDeleted(automation)),
  )

  // Delete the phones.
  const phones = await counted(seam.phones.list({ owner_user_identity_id: userIdentityId }))
  for (const phone of phones) {
    await counted(seam.phones.deactivate({ device_id: phone.device_id }))
  }
  await Promise.all(phones.map((phone) => waitForPhoneDeactivated(phone)))

  // Finally, delete the user identity.
  await counted(seam.userIdentities.delete({ user_identity_id: userIdentityId }))

  return { wallMs: performance.now() - started, requests, eventPolls, boundHits }
}
