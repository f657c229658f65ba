/**
 * One destination's read position in the forward queue (the API is `LogCursor`, in
 * src/queue/durable-log.ts; this is its implementation).
 *
 * Two positions: `position`, the committed one (everything before it is delivered or dropped;
 * persisted in the cursor file, src/queue/cursor-file.ts), and the read position, where the next
 * `read()` starts. Each read moves the read position past what it returned, so a forwarder can have
 * several reads in flight before it commits; `rewind()` goes back to the committed position.
 *
 * Reading is bounded: one buffer per cursor, reused and grown to the largest read asked for
 * (maxBytes, or one record when a single record is larger). Payload views are valid until the
 * cursor's next `read()`. Each record's CRC is checked again as it is read; a record damaged on disk
 * since the log was opened is skipped, counted and logged, like damage found at open.
 */
import { closeSync, fdatasyncSync, writeSync } from 'node:fs'
import { encodeSlot, slotOffset } from './cursor-file.js'
import type { LogCursor, LogRecord } from './durable-log.js'
import { HEADER_BYTES, recordIntact, type HeaderFields } from './record.js'
import type { Segment } from './segment.js'

/** What a cursor needs of its log. */
export interface CursorHost {
  readonly head: number
  readonly tail: number
  readonly closed: boolean
  /** The segments in order (the array changes as segments are added and removed). */
  readonly segments: readonly Segment[]
  /** Where the first indexed record at or after `position` is, or undefined when there is none. */
  locate(position: number): { s: number, i: number } | undefined
  /** Ordinal of the first indexed record at or after `position` (the next ordinal when none). */
  ordinalAt(position: number): number
  /** Ordinal the next appended record will get. */
  readonly nextOrdinal: number
  /** A record found damaged while reading: count and log it. */
  damagedOnRead(segment: Segment, position: number, bytes: number, cursor: string): void
  /** A cursor moved: remove the segments every cursor is past. */
  release(): Promise<void>
  /** Resolves when the head moves (or the log closes). */
  headMoved(): Promise<void>
  /**
   * A host whose cursors are persisted elsewhere (the forward worker's mirror: the main thread owns the
   * cursor files) takes each commit here instead of a cursor file.
   */
  persistCommit?(name: string, position: number): void
  /**
   * The payload of the record at `position` when it is still in memory (src/queue/log-ring.ts): a view
   * that stays unchanged until this cursor commits past it. undefined: read it from the file.
   */
  ringPayload?(position: number, length: number): Uint8Array | undefined
}

export class Cursor implements LogCursor {
  private readPosition: number
  private sequence: number
  private buffer = new Uint8Array(0)
  private reading = false
  private fd: number | undefined
  private dirty = false
  private readonly slot = new Uint8Array(32)
  private readonly header: HeaderFields = { crc: 0, length: 0, position: 0, appendedAtMs: 0 }

  constructor (
    readonly name: string,
    private readonly host: CursorHost,
    /** The cursor file; undefined when the host persists commits (persistCommit). */
    fd: number | undefined,
    private committed: number,
    sequence: number
  ) {
    this.fd = fd
    this.sequence = sequence
    this.readPosition = committed
  }

  get position (): number { return this.committed }
  /** Where the next read() starts. */
  get nextRead (): number { return this.readPosition }
  get pendingBytes (): number { return Math.max(0, this.host.head - this.committed) }
  get pendingRecords (): number { return this.host.nextOrdinal - this.host.ordinalAt(this.committed) }

  oldestPendingAppendedAtMs (): number | undefined {
    const at = this.host.locate(this.committed)
    return at === undefined ? undefined : this.host.segments[at.s]!.appendedAtMs(at.i)
  }

  rewind (): void { this.readPosition = this.committed }

  async read (maxRecords: number, maxBytes: number): Promise<LogRecord[]> {
    if (this.reading) throw new Error(`cursor ${this.name}: read() called while a read is in progress (payload views share one buffer)`)
    if (this.host.closed || maxRecords < 1) return []
    this.reading = true
    try {
      return await this.readRuns(maxRecords, maxBytes)
    } finally {
      this.reading = false
    }
  }

  private async readRuns (maxRecords: number, maxBytes: number): Promise<LogRecord[]> {
    const start = this.host.locate(this.readPosition)
    if (start === undefined) {
      // Nothing but damaged stretches (if anything) up to the head: step past them.
      this.readPosition = Math.max(this.readPosition, this.host.head)
      return []
    }
    const inMemory = this.fromRing(start, maxRecords, maxBytes)
    if (inMemory.length > 0) return inMemory
    // Plan: runs of consecutive records, one per segment, read with one call each.
    const runs: Array<{ seg: Segment, from: number, to: number, bytes: number }> = []
    let count = 0
    let payload = 0
    let total = 0
    let full = false
    const segments = this.host.segments
    for (let s = start.s, i = start.i; s < segments.length && !full; s++, i = 0) {
      const seg = segments[s]!
      const from = i
      while (i < seg.count) {
        const len = seg.length(i)
        if (count >= maxRecords || (count > 0 && payload + len > maxBytes)) { full = true; break }
        count++
        payload += len
        i++
      }
      if (i > from) {
        const bytes = seg.position(i - 1) + HEADER_BYTES + seg.length(i - 1) - seg.position(from)
        runs.push({ seg, from, to: i, bytes })
        total += bytes
      }
    }
    if (total > this.buffer.length) this.buffer = new Uint8Array(new ArrayBuffer(Math.max(total, this.buffer.length * 2)))
    const buf = this.buffer
    const records: LogRecord[] = []
    let off = 0
    for (const run of runs) {
      const first = run.seg.position(run.from)
      if (run.seg.removed || !await this.readFully(run.seg, buf, off, run.bytes, first - run.seg.base)) break
      // Released during the read (every cursor is past it): its file may since be recycled, and overwritten.
      if (run.seg.removed) break
      for (let i = run.from; i < run.to; i++) {
        const position = run.seg.position(i)
        const length = run.seg.length(i)
        const at = off + position - first
        const next = position + HEADER_BYTES + length
        if (recordIntact(buf.subarray(0, at + HEADER_BYTES + length), at, position, this.header) && this.header.length === length) {
          records.push({ position, next, payload: buf.subarray(at + HEADER_BYTES, at + HEADER_BYTES + length), appendedAtMs: this.header.appendedAtMs })
        } else {
          this.host.damagedOnRead(run.seg, position, next - position, this.name)
        }
        // Never back: a commit or dropOldest during this read may have moved it further.
        if (next > this.readPosition) this.readPosition = next
      }
      off += run.bytes
    }
    return records
  }

  /**
   * The records from `start` on that are still in the host's ring, in order, as views (no read, no copy;
   * no CRC check either: these bytes never went through the disk); [] when the first one is not there.
   */
  private fromRing (start: { s: number, i: number }, maxRecords: number, maxBytes: number): LogRecord[] {
    const host = this.host
    const records: LogRecord[] = []
    if (host.ringPayload === undefined) return records
    let payloadBytes = 0
    const segments = host.segments
    for (let s = start.s, i = start.i; s < segments.length; s++, i = 0) {
      const seg = segments[s]!
      for (; i < seg.count; i++) {
        const position = seg.position(i)
        const length = seg.length(i)
        if (records.length >= maxRecords || (records.length > 0 && payloadBytes + length > maxBytes)) return records
        const payload = host.ringPayload(position, length)
        if (payload === undefined) return records
        records.push({ position, next: position + HEADER_BYTES + length, payload, appendedAtMs: seg.appendedAtMs(i) })
        payloadBytes += length
        this.readPosition = position + HEADER_BYTES + length
      }
    }
    return records
  }

  /** Reads `n` bytes of the segment at `at` into buf; false when the segment went away meanwhile. */
  private async readFully (seg: Segment, buf: Uint8Array, off: number, n: number, at: number): Promise<boolean> {
    let got = 0
    try {
      while (got < n) {
        const { bytesRead } = await seg.handle.read(buf, off + got, n - got, at + got)
        if (bytesRead === 0) throw new Error(`segment ${seg.file} ended ${n - got} bytes early at offset ${at + got}`)
        got += bytesRead
      }
    } catch (err) {
      if (seg.removed) return false
      throw err
    }
    return true
  }

  async waitForData (): Promise<void> {
    while (!this.host.closed && this.readPosition >= this.host.head) await this.host.headMoved()
  }

  async commit (position: number): Promise<void> {
    if (!Number.isSafeInteger(position) || position > this.host.head) throw new RangeError(`cursor ${this.name}: cannot commit position ${position}, past the head ${this.host.head}`)
    if (position <= this.committed) return
    this.committed = position
    if (this.readPosition < position) this.readPosition = position
    this.persist()
    await this.host.release()
  }

  async dropOldest (targetBytes: number): Promise<{ records: number, bytes: number }> {
    const head = this.host.head
    if (head - this.committed <= targetBytes) return { records: 0, bytes: 0 }
    // The first record that leaves at most targetBytes pending, or the head.
    const at = this.host.locate(Math.max(this.committed, head - Math.max(0, targetBytes)))
    const to = at === undefined ? head : this.host.segments[at.s]!.position(at.i)
    const records = this.host.ordinalAt(to) - this.host.ordinalAt(this.committed)
    const bytes = to - this.committed
    await this.commit(to)
    return { records, bytes }
  }

  /**
   * Moves the committed position on without persisting it: the owner of the cursor file moved it
   * (a mirror told of a drop-oldest in the main thread).
   */
  advance (position: number): void {
    if (position <= this.committed) return
    this.committed = position
    if (this.readPosition < position) this.readPosition = position
  }

  /** Writes the committed position into the next slot: a page-cache write, no fsync (see sync()). */
  private persist (): void {
    if (this.host.persistCommit !== undefined) { this.host.persistCommit(this.name, this.committed); return }
    if (this.fd === undefined) throw new Error(`cursor ${this.name} was deleted`)
    this.sequence++
    writeSync(this.fd, encodeSlot({ sequence: this.sequence, position: this.committed }, this.slot), 0, 32, slotOffset(this.sequence))
    this.dirty = true
  }

  /** Makes the last commit durable (at close; delivery is at least once, so lazily is enough). */
  sync (): void {
    if (this.fd !== undefined && this.dirty) {
      fdatasyncSync(this.fd)
      this.dirty = false
    }
  }

  /** Syncs and closes the cursor file. */
  close (): void {
    if (this.fd === undefined) return
    try { this.sync() } finally {
      closeSync(this.fd)
      this.fd = undefined
    }
  }
}
