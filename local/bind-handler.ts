/**
 * Locally, a Lambda's handler module is bound the way its own `handler` export binds it, with the local
 * runtime's deps instead of the AWS defaults: `createHandler(deps)`, imported on first use.
 */
import { pathToFileURL } from 'node:url'
import { awsBulkBackend } from '../functions/api/bulk-deletions.js'
import { awsDeletionBackend } from '../functions/api/deletion-executions.js'
import type { HandlerDeps } from '../functions/contract/handler-deps.js'
import { coordinationFromEnvironment } from '../functions/core/coordination.js'
import { seamClientFromEnvironment } from '../functions/seam/index.js'
import { REPO_ROOT } from '../infra/repo-root.js'

/** What a deployed handler uses: the Seam client and Step Functions the environment names, real time. */
export const ENVIRONMENT_DEPS: HandlerDeps = {
  seam: seamClientFromEnvironment,
  coordination: coordinationFromEnvironment,
  deletions: awsDeletionBackend,
  bulk: awsBulkBackend,
  now: () => new Date(),
  timeScale: 1,
}

/** The handler of the module at `entry` (relative to the repository root), on `deps`. */
export function bindHandler<E, C, R>(
  entry: string,
  deps: HandlerDeps,
): (event: E, context: C) => Promise<R> {
  let bound: Promise<(event: E, context: C) => Promise<R>> | undefined
  return async (event, context) => {
    bound ??= import(pathToFileURL(`${REPO_ROOT}${entry}`).href).then((m) => {
      if (typeof m.createHandler !== 'function') {
        throw new Error(`${entry} exports no createHandler(deps)`)
      }
      return m.createHandler(deps)
    })
    return (await bound)(event, context)
  }
}
