/**
 * Group fsync for the forward queue, in the manner of the store's group commit
 * (src/sinks/duckdb/group-commit.ts): appends that arrive while a group is being written and
 * fsync'd wait together, and become the next group: one vectored write and one fdatasync for all
 * of them. Each append's promise settles only when its group is durable (or failed).
 *
 * With `delayMs` 0 (the default) a group is taken as soon as the previous one is durable, together
 * with every append made in the same tick; with `delayMs` > 0 a group waits that long after its
 * first append, to gather more under light load. `drain()` takes what waits at once.
 *
 * A group fails as a whole: the writer has removed all of it from the log, and every append in it is
 * rejected with a retryable `sink_failed` (the sender retries; nothing was acknowledged). The next
 * group starts clean.
 */
import { IngestError } from '../errors.js'
import { GroupLoop } from '../group-loop.js'

/** One record waiting to be appended: its payload parts (unchanged until the append settles). */
export interface PendingAppend {
  readonly parts: readonly Uint8Array[]
  readonly payloadBytes: number
  readonly appendedAtMs: number
}

/** What the group fsync drives: the log's segment writer. */
export interface GroupWriter {
  /**
   * Writes the group (one vectored write per segment it touches) and fdatasyncs it; returns each
   * record's log position, in order. Throws when the group failed: then none of it is in the log.
   */
  persist(group: readonly PendingAppend[]): Promise<number[]>
}

export interface GroupFsyncOptions {
  /** How long a group waits for more appends after its first one, ms (default 0). */
  delayMs?: number
  /** The log's name in errors (default 'forward queue'). */
  what?: string
}

interface Waiting {
  readonly item: PendingAppend
  readonly resolve: (position: number) => void
  readonly reject: (err: Error) => void
}

export function queueFailed (err: unknown, what = 'forward queue'): IngestError {
  if (err instanceof IngestError) return err
  const message = err instanceof Error ? err.message : String(err)
  return new IngestError('sink_failed', `the ${what} could not store the request: ${message.split('\n')[0]}`)
}

export class GroupFsync {
  /** Groups persisted (successfully or not). */
  groups = 0
  private queue: Waiting[] = []
  private readonly group = new GroupLoop(async () => { await this.loop() }, () => this.queue.length > 0)
  private firstArrival = 0

  constructor (private readonly writer: GroupWriter, private readonly options: GroupFsyncOptions = {}) {}

  /** Appends not settled yet. */
  get waiting (): number { return this.queue.length + this.inGroup }
  private inGroup = 0

  append (item: PendingAppend): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      if (this.queue.length === 0) this.firstArrival = performance.now()
      this.queue.push({ item, resolve, reject })
      this.group.start()
    })
  }

  /** Persists what waits without the delay; resolves when nothing is waiting. */
  async drain (): Promise<void> {
    await this.group.drain()
  }

  private async loop (): Promise<void> {
    // Yield once, so that appends made in the same tick as the first join its group.
    await Promise.resolve()
    while (this.queue.length > 0) {
      const delay = this.options.delayMs ?? 0
      if (delay > 0 && !this.group.urgent) {
        const left = this.firstArrival + delay - performance.now()
        if (left > 0) await this.group.sleep(left)
      }
      const group = this.queue.splice(0)
      this.inGroup = group.length
      this.groups++
      let positions: number[] | undefined
      let error: Error | undefined
      try {
        positions = await this.writer.persist(group.map(w => w.item))
      } catch (err) {
        error = queueFailed(err, this.options.what)
      }
      this.inGroup = 0
      for (let i = 0; i < group.length; i++) {
        if (error === undefined) group[i]!.resolve(positions![i]!)
        else group[i]!.reject(error)
      }
    }
  }
}
