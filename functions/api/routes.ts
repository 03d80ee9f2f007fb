/**
 * Every route of the HTTP API, in one place: the CDK API construct deploys one Lambda per entry, and the
 * local server (local/server.ts) dispatches to the same handler modules. Paths use API Gateway's
 * `{param}` syntax.
 */
export interface RouteDefinition {
  readonly method: 'GET' | 'POST' | 'DELETE'
  readonly path: string
  /** The handler module (exports `handler`), relative to the repository root. */
  readonly entry: string
  /** Construct id of its Lambda. */
  readonly id: string
  readonly description: string
  /** Does the handler call Seam (and so need the Seam key secret)? */
  readonly callsSeam: boolean
  /** Does the handler start or read deletion executions? */
  readonly deletions?: 'start' | 'read'
  /** Does the handler start or read bulk deletion executions (and their Map Runs)? */
  readonly bulk?: 'start' | 'read'
}

export const ROUTES: readonly RouteDefinition[] = [
  {
    method: 'POST',
    path: '/user-identities',
    entry: 'functions/api/create-user-identity.ts',
    id: 'CreateUserIdentity',
    description: 'Creates a Seam user identity and links its ACS users',
    callsSeam: true,
  },
  {
    method: 'DELETE',
    path: '/user-identities/{user_identity_id}',
    entry: 'functions/api/start-deletion.ts',
    id: 'StartDeletion',
    description: 'Starts (or finds) the staged deletion of a Seam user identity',
    callsSeam: true,
    deletions: 'start',
  },
  {
    method: 'GET',
    path: '/deletions/{deletion_id}',
    entry: 'functions/api/get-deletion.ts',
    id: 'GetDeletion',
    description: 'Reports the progress of a deletion',
    callsSeam: false,
    deletions: 'read',
  },
  {
    method: 'GET',
    path: '/user-identities/{user_identity_id}/deletion-plan',
    entry: 'functions/api/deletion-plan.ts',
    id: 'GetDeletionPlan',
    description: 'Lists what a deletion of the user identity would remove now',
    callsSeam: true,
  },
  {
    method: 'POST',
    path: '/bulk-deletions',
    entry: 'functions/api/start-bulk-deletion.ts',
    id: 'StartBulkDeletion',
    description: 'Starts deleting up to 1,000 user identities',
    callsSeam: false,
    bulk: 'start',
  },
  {
    method: 'GET',
    path: '/bulk-deletions/{bulk_deletion_id}',
    entry: 'functions/api/get-bulk-deletion.ts',
    id: 'GetBulkDeletion',
    description: 'Reports the progress of a bulk deletion',
    callsSeam: false,
    deletions: 'read',
    bulk: 'read',
  },
]
