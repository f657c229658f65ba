/**
 * DuckDB's mark in the store log (duckdb-ack log, store-log.ts): the log position before which every
 * record is committed to DuckDB. It lives in the table `store_log` and moves in the same transaction
 * as the rows it covers, so a replay after any crash starts exactly where DuckDB's commits end.
 *
 * Each batch arrives with its record's range of log positions, in log order; a record that cannot be
 * stored (refused when decoded again) arrives as a range without a batch. A transaction moves the mark
 * over the ranges that follow it without a gap and whose batches are committed or in the transaction.
 * The first range that is neither (a batch of a failed transaction, or one still waiting) stops it: the
 * mark never passes a record DuckDB does not hold. A replay starts the queue afresh (`restart`).
 */
import type { DuckDBConnection } from '@duckdb/node-api'

/** A batch's (or a passed-over record's) place in the store log. */
export interface MarkRange {
  readonly from: number
  readonly to: number
}

/** The table, created with the schema (one row). */
export const STORE_LOG_TABLE = 'CREATE TABLE store_log (committed_to BIGINT NOT NULL)'
export const STORE_LOG_ROW = 'INSERT INTO store_log VALUES (0)'

/** A range in log order; `seq` is its batch's write (NO_BATCH: nothing to commit). */
interface Pending {
  readonly seq: number
  readonly from: number
  readonly to: number
  committed: boolean
}

const NO_BATCH = -1

export class LogMark {
  private queue: Pending[] = []
  private head = 0
  private readonly bySeq = new Map<number, Pending>()

  /** `committed`: the mark as stored in DuckDB. */
  constructor (private committedTo: number) {}

  static async read (c: DuckDBConnection): Promise<LogMark> {
    const r = await c.runAndReadAll('SELECT max(committed_to) FROM store_log')
    return new LogMark(Number(r.getRows()[0]?.[0] ?? 0))
  }

  /** The mark as committed. */
  get position (): number { return this.committedTo }

  /** Write `seq` carries the record at `range`. */
  add (seq: number, range: MarkRange): void {
    const p: Pending = { seq, from: range.from, to: range.to, committed: false }
    this.queue.push(p)
    this.bySeq.set(seq, p)
  }

  /** The record at `range` will never be stored (it cannot be decoded again): the mark may pass it. */
  pass (range: MarkRange): void {
    this.queue.push({ seq: NO_BATCH, from: range.from, to: range.to, committed: true })
  }

  /**
   * Where a transaction holding the writes `seqs` takes the mark (for its UPDATE, before its COMMIT);
   * undefined when it does not move it.
   */
  target (seqs: readonly number[]): number | undefined {
    if (this.head === this.queue.length) return undefined
    const inTxn = new Set(seqs)
    let to = this.committedTo
    for (let i = this.head; i < this.queue.length; i++) {
      const p = this.queue[i]!
      if (p.from !== to || !(p.committed || inTxn.has(p.seq))) break
      to = p.to
    }
    return to === this.committedTo ? undefined : to
  }

  /** The transaction holding `seqs` committed, with the mark at `to` (undefined: not moved). */
  committed (seqs: readonly number[], to: number | undefined): void {
    for (const seq of seqs) {
      const p = this.bySeq.get(seq)
      if (p === undefined) continue
      p.committed = true
      this.bySeq.delete(seq)
    }
    if (to === undefined) return
    this.committedTo = to
    while (this.head < this.queue.length && this.queue[this.head]!.to <= to) this.head++
    // Dropped in slices, not one by one: shift() on a long array is a copy each time.
    if (this.head > 1024 && this.head * 2 > this.queue.length) { this.queue = this.queue.slice(this.head); this.head = 0 }
  }

  /**
   * A replay begins (nothing is in flight): the ranges queued so far are dropped (the replay stores
   * their records again). The mark moves up to the log's cursor (everything before it is committed),
   * and down to the log's head when it is past it (the log was removed: positions start again).
   * Returns where the replay starts, and whether the mark changed (to be written now).
   */
  restart (cursor: number, head: number): { from: number, changed: boolean } {
    this.queue = []
    this.head = 0
    this.bySeq.clear()
    const from = Math.max(Math.min(this.committedTo, head), cursor)
    const changed = from !== this.committedTo
    this.committedTo = from
    return { from, changed }
  }
}

export function markStatement (to: number): string {
  return `UPDATE store_log SET committed_to = ${Math.trunc(to)}`
}
