/**
 * What a handler takes from outside, in one shape: every handler module exports
 * `createHandler(deps)` and `handler = createHandler(<the AWS defaults>)`; the local runtime and the
 * tests bind `createHandler` to their own (a local Step Functions, the emulator's client, a scaled
 * clock). Nothing else reaches a handler from outside.
 */
import type { BulkBackend } from '../api/bulk-deletions.js'
import type { DeletionBackend } from '../api/deletion-executions.js'
import type { Coordination } from '../core/coordination.js'
import type { SeamClient } from '../seam/index.js'

export interface HandlerDeps {
  /** The Seam client (in Lambda: built from the environment once per cold start). */
  readonly seam: () => Promise<SeamClient>
  /**
   * The coordination table (the create's per-ACS-user leases). In Lambda: the table the environment
   * names (COORDINATION_TABLE_NAME), one client per cold start; locally: dynalite.
   */
  readonly coordination: () => Coordination
  /** The deletion state machine and the Step Functions calls on it. */
  readonly deletions: () => DeletionBackend
  /** The bulk deletion state machine, its Map Runs, and where its children run. */
  readonly bulk: () => BulkBackend
  /** Real time now. */
  readonly now: () => Date
  /**
   * How fast the state machine's waits run against real time (1 in AWS; the local runtime may run
   * them faster, e.g. 0.02): the stage tasks measure durations in the state machine's seconds.
   */
  readonly timeScale: number
}
