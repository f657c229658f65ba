/**
 * The store's log (setting duckdb-ack log): a write-ahead log in front of DuckDB, under
 * `<data-dir>/store-log/`. A request is acknowledged once its body is fsync'd here (one fdatasync per
 * group of requests, src/queue/group-fsync.ts), and DuckDB commits the batches behind it in large
 * transactions: a DuckDB COMMIT costs 0.65 µs per row at 13,000 rows and 0.45 at 500,000 (bench/README.md),
 * and with the acknowledgement waiting for it, four senders never fill more than four requests' worth.
 *
 * The log is the durable copy until DuckDB has committed the rows: its one cursor ('duckdb') moves past
 * a record only when the record's batch, and every batch before it, is committed. On start (and after a
 * failed transaction) the records from the cursor on are decoded again and stored again (`replay`):
 * a request that got its 204 is in DuckDB or in this log, whatever happened to the process.
 *
 * The cursor is a file, written after DuckDB's COMMIT; a process killed between the two would store
 * the records in between twice. So DuckDB keeps its own mark, in the same transaction as the rows
 * (`store_log.committed_to`, store-log-mark.ts): a batch goes to DuckDB only once its record is
 * fsync'd, with the record's range of log positions, and a transaction moves the mark over the
 * ranges that follow it without a gap (a record that cannot be stored again is passed as a range
 * without a batch). `replay(from)` starts at the later of the two marks: records before it are not
 * stored again. A record can still be stored twice after a failed transaction (the mark stops at its
 * gap, and transactions after it may have committed); the `samples` views show each (series,
 * timestamp) once all the same.
 *
 * Records are the forward queue's (src/forward/record.ts: version, tenant, counts, then the body as
 * received), in the same segment files (src/queue/durable-log.ts: CRC-32C, torn tails cut, damaged
 * records skipped and counted).
 */
import { open, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { ALL_DESTINATIONS, parseRecord, recordHeader } from '../../forward/record.js'
import { DurableLog, type LogCursor, type LogLines } from '../../queue/durable-log.js'
import { HEADER_BYTES } from '../../queue/record.js'
import type { ReceivedBody } from '../sink.js'

export const STORE_LOG_DIR = 'store-log'
const CURSOR = 'duckdb'
/** A record read back at a time, at most (a replayed batch is decoded and handed on before the next). */
const READ_RECORDS = 16
const READ_BYTES = 16 << 20

/** A record's place in the log: from its position to the position after it. */
export interface LogRange {
  readonly from: number
  readonly to: number
}

/** One request between its append and DuckDB's commit. */
export interface Entry {
  /** Position after its record once fsync'd; NOT_LOGGED when the append failed (the sender got an error). */
  next: number | undefined
  stored: boolean
}

const NOT_LOGGED = -1

/** A record read back, for the sink to decode and store again. */
export interface LoggedRequest {
  readonly version: '1.0' | '2.0'
  readonly tenant: string
  /** The compressed body: a view, valid until the next record is asked for. */
  readonly body: Uint8Array
  /** The entry to mark stored once the record's batch is committed. */
  readonly entry: Entry
  /** The record's place in the log. */
  readonly range: LogRange
}

export class StoreLog {
  /** Requests in log order (their appends resolve in order), from the oldest not yet committed. */
  private entries: Entry[] = []
  private first = 0
  /** The cursor's target: everything before it is committed to DuckDB. */
  private committedTo: number
  private moving: Promise<void> = Promise.resolve()
  /** False until the records found at open were stored again: until then the cursor must not move past them. */
  private replayed = false

  private constructor (private readonly dir: string, private readonly log: DurableLog, private readonly cursor: LogCursor) {
    this.committedTo = cursor.position
  }

  static async open (dataDir: string, logger?: LogLines): Promise<StoreLog> {
    const dir = join(dataDir, STORE_LOG_DIR)
    const log = await DurableLog.open({ dir, name: 'store log', ...(logger !== undefined ? { logger } : {}) })
    return new StoreLog(dir, log, log.cursor(CURSOR))
  }

  /**
   * Whether the log's directory takes writes again (after appends failed, e.g. a full disk): writes,
   * fdatasyncs and removes a 4 KiB file beside the segments. Rejects with the file system's error.
   */
  async probe (): Promise<void> {
    const file = join(this.dir, 'probe')
    const handle = await open(file, 'w')
    try {
      // A file size limit cuts the write short rather than failing it.
      const { bytesWritten } = await handle.write(new Uint8Array(4096), 0, 4096, 0)
      if (bytesWritten !== 4096) throw new Error(`short write to ${file}: ${bytesWritten} of 4096 bytes`)
      await handle.datasync()
    } finally {
      await handle.close()
      await unlink(file).catch(() => {})
    }
  }

  /** The committed position of the cursor (a file: it may lag DuckDB's own mark). */
  get cursorPosition (): number { return this.cursor.position }
  /** The position after the last record (where the next append goes). */
  get head (): number { return this.log.head }

  /** Records not yet committed to DuckDB, and their bytes. */
  get pendingRecords (): number { return this.cursor.pendingRecords }
  get pendingBytes (): number { return this.cursor.pendingBytes }

  /** A new request; append() its body next. */
  track (): Entry {
    const entry: Entry = { next: undefined, stored: false }
    this.entries.push(entry)
    return entry
  }

  /** Appends the body as a record; resolves with the record's range once it is fsync'd with its group. */
  async append (entry: Entry, body: ReceivedBody, counts: { samples: number, histograms: number, exemplars: number }): Promise<LogRange> {
    const header = recordHeader({ version: body.version, target: ALL_DESTINATIONS, tenant: body.tenant, ...counts })
    let range: LogRange
    try {
      const position = await this.log.append([header, body.bytes])
      range = { from: position, to: position + HEADER_BYTES + header.length + body.bytes.length }
      entry.next = range.to
    } catch (err) {
      entry.next = NOT_LOGGED
      this.advance()
      throw err
    }
    this.advance()
    return range
  }

  /** The entry's batch is committed to DuckDB. */
  stored (entry: Entry): void {
    entry.stored = true
    this.advance()
  }

  /** Forgets every request in flight: the records from the cursor on are read back by replay() instead. */
  forget (): void {
    this.entries = []
    this.first = 0
    this.replayed = false
  }

  /**
   * The records from `from` on (DuckDB's mark: what it may not hold), in order. The caller stores each
   * one's batch and marks its entry stored; once every entry is, the cursor moves on. Records between
   * the cursor and `from` are committed already: they are passed over, and the cursor moves past them.
   */
  async * replay (from: number): AsyncGenerator<LoggedRequest> {
    this.forget()
    this.cursor.rewind()
    for (;;) { // ends at the head: nothing is appended while the sink replays (it refuses writes)
      const records = await this.cursor.read(READ_RECORDS, READ_BYTES)
      if (records.length === 0) break
      for (const r of records) {
        const entry = this.track()
        entry.next = r.next
        if (r.next <= from) { entry.stored = true; continue }
        const parsed = parseRecord(r.payload)
        yield { version: parsed.version, tenant: parsed.tenant, body: parsed.body, entry, range: { from: r.position, to: r.next } }
      }
    }
    this.replayed = true
    this.advance()
  }

  /** Moves the cursor past the oldest requests whose records are fsync'd and whose batches are committed. */
  private advance (): void {
    if (!this.replayed) return
    const entries = this.entries
    let to = this.committedTo
    let i = this.first
    for (; i < entries.length; i++) {
      const e = entries[i]!
      if (e.next === NOT_LOGGED) continue
      if (e.next === undefined || !e.stored) break
      to = e.next
    }
    this.first = i
    // Dropped in slices, not one by one: shift() on a long array is a copy each time.
    if (i > 1024 && i * 2 > entries.length) { this.entries = entries.slice(i); this.first = 0 }
    if (to === this.committedTo) return
    this.committedTo = to
    this.moving = this.moving.then(async () => await this.cursor.commit(to)).catch(() => { /* the next commit writes the cursor again; replay reads what it missed */ })
  }

  /** Waits for the appends in flight and the cursor's last move, then closes the files. */
  async close (): Promise<void> {
    await this.moving
    await this.log.close()
  }
}
