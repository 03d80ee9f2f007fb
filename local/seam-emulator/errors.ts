/** An error the emulator answers in Seam's shape: `{ ok: false, error: { type, message, ... } }`. */
export class SeamApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    /** Extra fields of the error object (e.g. `validation_errors`, `data`). */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message)
    this.name = 'SeamApiError'
  }
}

/** 400 invalid_input, with Seam's per-parameter `validation_errors` when a parameter is named. */
export const invalidInput = (message: string, param?: string): SeamApiError =>
  new SeamApiError(
    400,
    'invalid_input',
    message,
    param === undefined ? {} : { validation_errors: { [param]: { _errors: [message] } } },
  )

export type ResourceName =
  | 'user_identity'
  | 'acs_user'
  | 'acs_credential'
  | 'acs_system'
  | 'client_session'
  | 'device'
  | 'enrollment_automation'
  | 'webhook'

const labels: Record<ResourceName, string> = {
  user_identity: 'User identity',
  acs_user: 'ACS user',
  acs_credential: 'ACS credential',
  acs_system: 'ACS system',
  client_session: 'Client session',
  device: 'Device',
  enrollment_automation: 'Enrollment automation',
  webhook: 'Webhook',
}

/** 404 `<resource>_not_found`, as Seam answers for an unknown id. */
export const notFound = (resource: ResourceName, id: string): SeamApiError =>
  new SeamApiError(404, `${resource}_not_found`, `${labels[resource]} not found: ${id}`)
