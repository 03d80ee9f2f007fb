import type { DeleteDelays, DeletionKind, PendingDeletion } from './types.js'

export const DEFAULT_DELETE_DELAY_MS = 2000

const kinds: readonly DeletionKind[] = [
  'acs_credential',
  'acs_user',
  'enrollment_automation',
  'phone',
  'user_identity',
]

/** Resolves `deleteDelayMs` (a number, or a default plus per-kind overrides) to one delay per kind. */
export const resolveDelays = (
  delay: number | DeleteDelays | undefined,
  base: Record<DeletionKind, number> = allKinds(DEFAULT_DELETE_DELAY_MS),
): Record<DeletionKind, number> => {
  if (delay === undefined) return { ...base }
  if (typeof delay === 'number') return allKinds(checkDelay(delay))
  const start = delay.default === undefined ? { ...base } : allKinds(checkDelay(delay.default))
  for (const kind of kinds) {
    const value = delay[kind]
    if (value !== undefined) start[kind] = checkDelay(value)
  }
  return start
}

const allKinds = (ms: number): Record<DeletionKind, number> => ({
  acs_credential: ms,
  acs_user: ms,
  enrollment_automation: ms,
  phone: ms,
  user_identity: ms,
})

const checkDelay = (ms: number): number => {
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`delete delay must be >= 0, got ${ms}`)
  return ms
}

interface Pending {
  kind: DeletionKind
  timer: NodeJS.Timeout | null
  due: boolean
  /** When the current delay started (the request, or the release of a stuck id). */
  startedAt: number
  /** This deletion's own delay, drawn when it was requested (a delay range is set). */
  drawnMs?: number | undefined
}

/** A deletion's delay as drawn from a delay range (for an ideal time computed after the fact). */
export interface DrawnDelay {
  id: string
  kind: DeletionKind
  delayMs: number
}

/**
 * Timers of the asynchronous deletions. A requested deletion becomes "due" after its kind's delay;
 * the store then completes it (or keeps it due while something still blocks it). Ids marked stuck
 * never become due until released; release restarts the normal delay.
 */
export class DeletionScheduler {
  private readonly pending = new Map<string, Pending>()
  private readonly stuck = new Set<string>()
  /** Every delay drawn from a range, in request order (until `clear`). */
  readonly drawn: DrawnDelay[] = []

  constructor(
    private readonly delayOf: (kind: DeletionKind) => number,
    private readonly onDue: (kind: DeletionKind, id: string) => void,
    private readonly draw: (kind: DeletionKind) => number | undefined = () => undefined,
  ) {}

  /** Starts the deletion of `id`; returns false when it is already under way. */
  request(kind: DeletionKind, id: string): boolean {
    if (this.pending.has(id)) return false
    const drawnMs = this.draw(kind)
    if (drawnMs !== undefined) this.drawn.push({ id, kind, delayMs: drawnMs })
    const entry: Pending = { kind, timer: null, due: false, startedAt: Date.now(), drawnMs }
    this.pending.set(id, entry)
    if (!this.stuck.has(id)) this.schedule(id, entry)
    return true
  }

  isPending(id: string): boolean {
    return this.pending.has(id)
  }

  isStuck(id: string): boolean {
    return this.stuck.has(id)
  }

  /** Forgets `id` (its resource is gone), cancelling its timer. */
  finish(id: string): void {
    const entry = this.pending.get(id)
    if (entry?.timer) clearTimeout(entry.timer)
    this.pending.delete(id)
  }

  /** Ids whose delay elapsed but which have not completed yet. */
  dueIds(): Array<{ id: string; kind: DeletionKind }> {
    return [...this.pending].filter(([, e]) => e.due).map(([id, e]) => ({ id, kind: e.kind }))
  }

  stick(id: string): void {
    this.stuck.add(id)
    const entry = this.pending.get(id)
    if (entry?.timer) {
      clearTimeout(entry.timer)
      entry.timer = null
    }
  }

  release(id: string): void {
    if (!this.stuck.delete(id)) return
    const entry = this.pending.get(id)
    if (entry && !entry.due && !entry.timer) {
      entry.startedAt = Date.now()
      this.schedule(id, entry)
    }
  }

  /**
   * Applies changed delays to deletions already under way: each completes `delay` after it
   * started (at once if that has passed), so a test can hold deletions with a long delay and
   * then let them finish by lowering it.
   */
  reschedule(): void {
    for (const [id, entry] of this.pending) {
      if (!entry.timer) continue
      clearTimeout(entry.timer)
      this.schedule(id, entry)
    }
  }

  list(): PendingDeletion[] {
    return [...this.pending].map(([id, e]) => ({
      id,
      kind: e.kind,
      stuck: this.stuck.has(id),
      due: e.due,
    }))
  }

  /** Cancels every timer and forgets pending deletions and stuck ids. */
  clear(): void {
    for (const entry of this.pending.values()) if (entry.timer) clearTimeout(entry.timer)
    this.pending.clear()
    this.stuck.clear()
    this.drawn.length = 0
  }

  private schedule(id: string, entry: Pending): void {
    const delay = entry.drawnMs ?? this.delayOf(entry.kind)
    const remaining = Math.max(0, entry.startedAt + delay - Date.now())
    entry.timer = setTimeout(() => {
      entry.timer = null
      entry.due = true
      this.onDue(entry.kind, id)
    }, remaining)
    // A pending deletion must not keep a process (e.g. the CLI) alive.
    entry.timer.unref()
  }
}
