/**
 * Every route of the HTTP API, in one place: the CDK API construct deploys one Lambda per entry, and the
 * local server (local/server.ts) dispatches to the same handler modules. Method, path and description
 * come from the contract's operation (functions/contract/http.ts); paths use API Gateway's `{param}`
 * syntax.
 */
import { OPERATIONS, type OperationId } from '../contract/http.js'

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

type Deployment = Omit<RouteDefinition, 'method' | 'path' | 'description'>

/** The operations deployed behind API Gateway (the others are the local server's own). */
type ApiOperationId = {
  [K in OperationId]: (typeof OPERATIONS)[K]['served'] extends 'api' | 'webhook' ? K : never
}[OperationId]

/** The route of a contract operation, served by `deployment`. */
function route(operationId: ApiOperationId, deployment: Deployment): RouteDefinition {
  const { method, path, summary } = OPERATIONS[operationId]
  return { method, path, description: summary, ...deployment }
}

/**
 * POST /webhooks/seam: deployed by the SeamWebhooks construct (no IAM; its own function), not with
 * ROUTES; the local server answers it beside them when webhooks are on.
 */
export const WEBHOOK_ROUTE: RouteDefinition = route('receiveSeamWebhook', {
  entry: 'functions/api/seam-webhook.ts',
  id: 'SeamWebhook',
  callsSeam: false,
})

export const ROUTES: readonly RouteDefinition[] = [
  route('createUserIdentity', {
    entry: 'functions/api/create-user-identity.ts',
    id: 'CreateUserIdentity',
    callsSeam: true,
  }),
  route('deleteUserIdentity', {
    entry: 'functions/api/start-deletion.ts',
    id: 'StartDeletion',
    callsSeam: true,
    deletions: 'start',
  }),
  route('getDeletion', {
    entry: 'functions/api/get-deletion.ts',
    id: 'GetDeletion',
    callsSeam: false,
    deletions: 'read',
  }),
  route('getDeletionPlan', {
    entry: 'functions/api/deletion-plan.ts',
    id: 'GetDeletionPlan',
    callsSeam: true,
  }),
  route('startBulkDeletion', {
    entry: 'functions/api/start-bulk-deletion.ts',
    id: 'StartBulkDeletion',
    callsSeam: false,
    bulk: 'start',
  }),
  route('getBulkDeletion', {
    entry: 'functions/api/get-bulk-deletion.ts',
    id: 'GetBulkDeletion',
    callsSeam: false,
    deletions: 'read',
    bulk: 'read',
  }),
]
