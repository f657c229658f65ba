/**
 * The forward queue (and the store's log, duckdb-ack log: src/sinks/duckdb/store-log.ts): ONE append-only log of accepted requests under `<data-dir>/forward/`, written
 * once however many destinations there are, with one cursor (read position) per destination, in
 * the manner of Kafka or Apache Iggy. Payloads are opaque bytes; the forwarder defines them.
 * Reference: docs/forward-queue.md (format, recovery rules, what a crash can and cannot lose).
 *
 *   <dir>/00000000000000000000.seg   segments, named by the log position of their first byte
 *   <dir>/00000000000067108912.seg   (records: src/queue/record.ts; index in memory: segment.ts)
 *   <dir>/cursors/<name>             one file per destination (src/queue/cursor-file.ts)
 *
 * Appends are grouped (src/queue/group-fsync.ts): one vectored write and one fdatasync per group,
 * and an append resolves only when its group is durable. A new segment is started when the current
 * one would pass `segmentBytes` (a larger record gets a segment of its own); the directory is
 * fsync'd before a record in a new segment is acknowledged.
 *
 * Open reads every segment back (src/queue/segment-scan.ts): a torn tail of the last segment (the
 * bytes after its last intact record) is truncated; a damaged stretch anywhere else is skipped,
 * counted and logged, and everything after it kept. A segment is deleted once every cursor is past
 * it; the segment being written is never deleted, so the head never goes back. One released segment's
 * file is kept (SPARE_FILE) and renamed to be the next segment, so that appends overwrite blocks the
 * file has instead of growing it; recovery cuts off the stale records past the head of such a file
 * without counting them (docs/forward-queue.md, "Recycled segments").
 */
import { closeSync, fdatasyncSync, fsyncSync, ftruncateSync, openSync, readdirSync, readFileSync, unlinkSync, writeSync, writevSync } from 'node:fs'
import { mkdir, open, readdir, rename, unlink, type FileHandle } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { IngestError } from '../errors.js'
import { CURSOR_FILE_BYTES, cursorFileName, cursorNameOf, decodeCursorFile, encodeSlot, slotOffset } from './cursor-file.js'
import { GroupFsync, type GroupWriter, type PendingAppend } from './group-fsync.js'
import { Cursor, type CursorHost } from './log-cursor.js'
import { LogRing } from './log-ring.js'
import { HEADER_BYTES, MAX_PAYLOAD_BYTES, encodeHeader } from './record.js'
import { scanSegment, tornPart, type Stretch } from './segment-scan.js'
import { Segment, locateIn, segmentBase, segmentFileName } from './segment.js'

export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024
/**
 * A segment every cursor is past is kept under this name (one at most) and renamed to be the next
 * segment: appends then overwrite blocks the file already has, and an fdatasync that does not change
 * the file's size does not commit the file system's journal (docs/forward-queue.md, "Recycled segments").
 */
export const SPARE_FILE = 'spare.recycle'

/** What the log writes its lines to. */
export interface LogLines {
  info(obj: object, msg: string): void
  warn(obj: object, msg: string): void
  error(obj: object, msg: string): void
}

export interface DurableLogOptions {
  /** The queue's directory, `<data-dir>/forward`; created when missing. */
  dir: string
  /** A new segment starts when the current one would pass this (default 64 MiB); a larger record gets a segment of its own. */
  segmentBytes?: number
  /** Damaged records, torn tails and cursor fallbacks are logged here (pino's Logger, or the store's SinkLogger). */
  logger?: LogLines
  /** Group-fsync window after the first waiting append, ms (default 0: as soon as the previous group is durable). */
  fsyncDelayMs?: number
  /** What the log is, in its errors and log lines (default 'forward queue'; the store's log: 'store log'). */
  name?: string
}

export interface LogRecord {
  /** The record's log position (byte offset in the whole log). */
  readonly position: number
  /** Position of the record after it: commit this once the record is delivered. */
  readonly next: number
  /** A view of the cursor's read buffer; valid until the next read() of the same cursor. */
  readonly payload: Uint8Array
  /** Wall-clock ms when the record was appended. */
  readonly appendedAtMs: number
}

export interface CursorOptions {
  /**
   * Where a cursor with no file on disk starts (default 'tail': the oldest record still on disk, so
   * that a cursor file lost or damaged never skips an acknowledged record). 'head': only records
   * appended from now on.
   */
  start?: 'tail' | 'head'
}

export interface LogCursor {
  readonly name: string
  /** The committed position: everything before it is delivered or dropped. */
  readonly position: number
  /** Where the next read() starts: the committed position, moved on by each read(). */
  readonly nextRead: number
  /**
   * Up to maxRecords records, and at most maxBytes payload bytes (but at least one record when any
   * exists), from the read position on; [] at the head. Moves the read position past them. One read
   * at a time per cursor.
   */
  read(maxRecords: number, maxBytes: number): Promise<LogRecord[]>
  /** Sets the read position back to the committed position (to read again what was not committed). */
  rewind(): void
  /** Resolves when there is a record at or after the read position (or the log closes). */
  waitForData(): Promise<void>
  /** Everything before `position` is delivered or dropped; persisted. Segments every cursor is past are deleted. */
  commit(position: number): Promise<void>
  /** head - position. */
  readonly pendingBytes: number
  /** Records at or after the committed position. */
  readonly pendingRecords: number
  /** Append time of the oldest record at or after the committed position. */
  oldestPendingAppendedAtMs(): number | undefined
  /** Drop-oldest mode: commits past the oldest records until pendingBytes <= targetBytes; returns what was skipped. */
  dropOldest(targetBytes: number): Promise<{ records: number, bytes: number }>
}

export interface DurableLogStats {
  /** Segment files. */
  segments: number
  /** Bytes in the segment files. */
  bytes: number
  /** Intact records on disk. */
  records: number
  /** Damaged stretches skipped (each held at least one record), at open and while reading. */
  damagedRecords: number
  /** Bytes in those stretches. */
  damagedBytes: number
  /** Bytes cut from the end of the last segment at open (a record torn by a crash). */
  tornTailBytes: number
  /** fdatasync/fsync calls made to acknowledge appends (segments and the directory). */
  fsyncs: number
  /** Groups of appends written (one vectored write and one fdatasync each). */
  appendGroups: number
  /** Segments started in a recycled file (SPARE_FILE) rather than a new one. */
  recycledSegments: number
}

/** What another reader of the log (the forward worker's mirror, src/queue/log-mirror.ts) is told. */
export interface LogWatcher {
  /**
   * A group became durable: the segments it started, and its records as [position, length, appendedAtMs]
   * triples; with a ring (keepInMemory), the records from `ringFrom` on are in it.
   */
  appended(segments: ReadonlyArray<{ base: number, file: string }>, records: Float64Array, ringFrom?: number): void
  /** Segments before `tail` were deleted. */
  released(tail: number): void
  /**
   * The lowest position the watcher's reader may still read (its last commit as heard here). A segment
   * is recycled (its file overwritten) only when it ends at or before this; otherwise it is deleted,
   * and a reader holding it open still reads the old bytes.
   */
  floor?(): number
}

/** The log's segments and index at one moment (to start a mirror in another thread). */
export interface LogSnapshot {
  readonly segments: Array<{ base: number, file: string, size: number, firstOrdinal: number, index: Float64Array }>
  readonly nextOrdinal: number
}

const NOOP = (): void => {}

/** Queue directories open in this process (a second open of one would interleave appends). */
const openDirs = new Set<string>()

function processAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Takes `<dir>/lock` (our pid, created exclusively): two processes appending to one queue would
 * overwrite each other's records. A lock left by a process that is gone is taken over; so is one
 * holding our own pid that this process did not take (a container restarted: pid 1 again).
 */
function takeLock (dir: string): void {
  const path = join(dir, 'lock')
  if (openDirs.has(dir)) throw new IngestError('config_invalid', `the forward queue in ${dir} is already open in this process`)
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(path, 'wx')
      try { writeSync(fd, `${process.pid}\n`) } finally { closeSync(fd) }
      openDirs.add(dir)
      return
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err
    }
    let holder = NaN
    try { holder = Number(readFileSync(path, 'utf8').trim()) } catch { /* gone meanwhile: try again */ }
    if (Number.isSafeInteger(holder) && holder > 0 && holder !== process.pid && processAlive(holder)) {
      throw new IngestError('config_invalid', `the forward queue in ${dir} is in use by process ${holder} (${path}); two processes cannot share a queue directory`)
    }
    try { unlinkSync(path) } catch { /* removed by its owner meanwhile */ }
  }
}

function releaseLock (dir: string): void {
  openDirs.delete(dir)
  try { unlinkSync(join(dir, 'lock')) } catch { /* already gone */ }
}

export class DurableLog implements CursorHost {
  readonly segments: Segment[] = []
  closed = false
  nextOrdinal = 0
  private readonly cursors = new Map<string, Cursor>()
  private readonly group: GroupFsync
  private readonly cursorDir: string
  private readonly segmentBytes: number
  private readonly log: { warn: (o: object, m: string) => void, error: (o: object, m: string) => void, info: (o: object, m: string) => void }
  private counters = { damagedRecords: 0, damagedBytes: 0, tornTailBytes: 0, fsyncs: 0, recycledSegments: 0 }
  private waiters: Array<() => void> = []
  private readonly watchers = new Set<LogWatcher>()
  private releasing: Promise<void> = Promise.resolve()
  /** The newest records in memory, for the forward worker (keepInMemory). */
  private ring: { ring: LogRing, floor: () => number } | undefined
  /** Set when a failed group could not be taken back out of the file: appends are refused until reopen. */
  private broken: Error | undefined
  /** A released segment's file, open, kept to be the next segment (SPARE_FILE). */
  private spare: { handle: FileHandle, bytes: number } | undefined

  /** The log's name in errors and log lines. */
  private readonly what: string

  private constructor (readonly options: DurableLogOptions) {
    this.what = options.name ?? 'forward queue'
    this.cursorDir = join(options.dir, 'cursors')
    this.segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES
    const l = options.logger
    this.log = l === undefined
      ? { warn: NOOP, error: NOOP, info: NOOP }
      : { warn: (o, m) => l.warn(o, m), error: (o, m) => l.error(o, m), info: (o, m) => l.info(o, m) }
    const writer: GroupWriter = { persist: async group => await this.persist(group) }
    this.group = new GroupFsync(writer, { delayMs: options.fsyncDelayMs ?? 0, what: this.what })
  }

  /** Opens (or creates) the log in `options.dir`, recovering what is on disk; see the file comment. */
  static async open (options: DurableLogOptions): Promise<DurableLog> {
    if (options.segmentBytes !== undefined && !(Number.isSafeInteger(options.segmentBytes) && options.segmentBytes >= 1024)) {
      throw new IngestError('config_invalid', `${options.name ?? 'forward queue'} segment size must be a whole number of bytes >= 1024, got ${options.segmentBytes}`)
    }
    const dir = resolve(options.dir)
    await mkdir(join(dir, 'cursors'), { recursive: true })
    takeLock(dir)
    const log = new DurableLog({ ...options, dir })
    try {
      await log.recover()
    } catch (err) {
      await log.closeFiles()
      releaseLock(dir)
      throw err
    }
    return log
  }

  get head (): number { return this.segments[this.segments.length - 1]!.end }
  get tail (): number { return this.segments[0]!.base }
  private get active (): Segment { return this.segments[this.segments.length - 1]! }

  // ---- open ----

  private async recover (): Promise<void> {
    const dir = this.options.dir
    const stored = this.readCursorFiles()
    const names = await readdir(dir)
    if (names.includes(SPARE_FILE)) await this.adoptSpare()
    const bases = names.map(segmentBase).filter((b): b is number => b !== undefined).sort((a, b) => a - b)
    const window = new Uint8Array(1 << 20)
    // The segments since the last one holding records whose last bytes hold no intact record. Their
    // torn parts are the torn tail of the log when nothing but empty (or only stale) segments follows
    // (a crash in a group that started a new segment), and damage when a later segment holds records.
    // `torn` is what lies before the stale records of a recycled file (undefined: only stale bytes).
    let unfinished: Array<{ seg: Segment, torn: Stretch | undefined, validEnd: number }> = []
    for (let k = 0; k < bases.length; k++) {
      const base = bases[k]!
      const file = join(dir, segmentFileName(base))
      const handle = await open(file, 'r+')
      try {
        const fileSize = (await handle.stat()).size
        // A segment ends where the next begins; bytes beyond that are not the log's.
        const limit = k === bases.length - 1 ? fileSize : Math.min(fileSize, bases[k + 1]! - base)
        if (limit < fileSize) this.log.warn({ segment: file, fileSize, next: bases[k + 1] }, `${this.what}: segment overlaps the next one; its bytes beyond the next segment's base are ignored`)
        const seg = new Segment(base, file, handle, limit, this.nextOrdinal)
        seg.fileBytes = fileSize
        const scan = await scanSegment(handle, base, limit, (p, len, t) => seg.add(p, len, t), window)
        this.nextOrdinal += seg.count
        const torn = scan.tail === undefined ? undefined : await tornPart(handle, base, scan.tail.from, limit, window)
        if (seg.count > 0 || scan.damaged.length > 0 || torn !== undefined) {
          for (const u of unfinished) if (u.torn !== undefined) this.noteDamaged(u.seg, u.torn.from, u.torn.to, 'open')
          unfinished = []
        }
        for (const d of scan.damaged) this.noteDamaged(seg, d.from, d.to, 'open')
        if (scan.tail !== undefined) unfinished.push({ seg, torn, validEnd: scan.validEnd })
        this.segments.push(seg)
      } catch (err) {
        await handle.close()
        throw err
      }
    }
    for (const { seg, torn, validEnd } of unfinished) {
      // The record being written when the process stopped: torn by the crash (never acknowledged,
      // since acknowledgement waits for fdatasync), or damage in the log's very last bytes. Stale
      // records of a recycled file after it are cut off too, and not counted: they were never this log's.
      await seg.handle.truncate(validEnd)
      await seg.handle.datasync()
      seg.size = validEnd
      seg.fileBytes = validEnd
      if (torn === undefined) {
        this.log.info({ segment: seg.file, offset: validEnd }, `${this.what}: stale bytes of a recycled segment file cut off after the last record`)
        continue
      }
      const bytes = torn.to - torn.from
      this.counters.tornTailBytes += bytes
      this.log.warn({ segment: seg.file, offset: torn.from, bytes }, `${this.what}: torn tail of the last segment truncated (a record not completely written before the process stopped)`)
    }
    if (this.segments.length === 0) {
      // A new log, or one whose segments are gone: start where the cursors are, so positions never go back.
      const base = Math.max(0, ...[...stored.values()].map(s => s?.position ?? 0))
      this.segments.push(await this.createSegment(base))
      await this.syncDir()
    }
    for (const [name, state] of stored) this.loadCursor(name, state)
    await this.release()
  }

  /** Cursor files on disk: name -> newest intact state, or undefined when the file is damaged. */
  private readCursorFiles (): Map<string, { sequence: number, position: number } | undefined> {
    const out = new Map<string, { sequence: number, position: number } | undefined>()
    for (const file of readdirSync(this.cursorDir)) {
      const name = cursorNameOf(file)
      if (name === undefined) continue
      out.set(name, decodeCursorFile(new Uint8Array(readFileSync(join(this.cursorDir, file)))))
    }
    return out
  }

  private loadCursor (name: string, state: { sequence: number, position: number } | undefined): Cursor {
    const path = join(this.cursorDir, cursorFileName(name))
    let position: number
    let sequence = state?.sequence ?? 0
    if (state === undefined) {
      position = this.tail
      this.log.warn({ destination: name, file: path, position }, `${this.what}: cursor file damaged; the destination starts again at the oldest record (records may be sent twice)`)
    } else if (state.position > this.head) {
      position = this.head
      this.log.warn({ destination: name, file: path, stored: state.position, head: this.head }, `${this.what}: cursor is past the head of the log (segments lost?); moved to the head`)
    } else {
      position = Math.max(state.position, this.tail)
    }
    const fd = openSync(path, 'r+')
    const cursor = new Cursor(name, this, fd, position, sequence)
    this.cursors.set(name, cursor)
    if (state === undefined || position !== state.position) {
      sequence++
      writeSync(fd, encodeSlot({ sequence, position }), 0, 32, slotOffset(sequence))
      fdatasyncSync(fd)
    }
    return cursor
  }

  /** Takes the spare file left by the last run (SPARE_FILE) as this run's spare. */
  private async adoptSpare (): Promise<void> {
    const path = join(this.options.dir, SPARE_FILE)
    const handle = await open(path, 'r+')
    const bytes = (await handle.stat()).size
    if (bytes > this.segmentBytes) {
      await handle.close()
      await unlink(path)
      return
    }
    this.spare = { handle, bytes }
  }

  private noteDamaged (seg: Segment, from: number, to: number, when: 'open' | 'read'): void {
    this.counters.damagedRecords++
    this.counters.damagedBytes += to - from
    this.log.error({ segment: seg.file, offset: from, bytes: to - from, position: seg.base + from, when },
      `${this.what}: damaged record skipped (bad CRC, length or position); the records after it are kept`)
  }

  // ---- append ----

  /**
   * Appends one record whose payload is `parts` in turn (written with one vectored write, never
   * concatenated; the parts must stay unchanged until the promise settles). Resolves to the record's
   * position once its group is fsync'd; rejects with a retryable `sink_failed` when the group failed.
   */
  async append (parts: readonly Uint8Array[]): Promise<number> {
    if (this.closed) throw new IngestError('sink_failed', `the ${this.what} is closed`)
    let payloadBytes = 0
    for (const p of parts) payloadBytes += p.length
    if (payloadBytes > MAX_PAYLOAD_BYTES) throw new RangeError(`a ${this.what} record holds at most ${MAX_PAYLOAD_BYTES} bytes, got ${payloadBytes}`)
    return await this.group.append({ parts, payloadBytes, appendedAtMs: Date.now() })
  }

  /** Writes and fdatasyncs one group (GroupWriter); on failure takes all of it back out of the files. */
  private async persist (group: readonly PendingAppend[]): Promise<number[]> {
    if (this.broken !== undefined) throw this.broken
    const first = this.active
    const sizeBefore = first.size
    const touched: Array<{ seg: Segment, start: number, iov: Uint8Array[], bytes: number, records: Array<[number, number, number]> }> = []
    let cur = { seg: first, start: first.size, iov: [] as Uint8Array[], bytes: 0, records: [] as Array<[number, number, number]> }
    touched.push(cur)
    const positions: number[] = []
    // Kept only for the ring (keepInMemory), which copies each record whole.
    const headers: Uint8Array[] | undefined = this.ring === undefined ? undefined : []
    try {
      for (const item of group) {
        const recordBytes = HEADER_BYTES + item.payloadBytes
        const used = cur.start + cur.bytes
        if (used > 0 && used + recordBytes > this.segmentBytes) {
          // A recycled file is cut to the log's bytes when its segment is complete: scans at open then
          // see no stale bytes between segments. Durable with the directory fsync below.
          if (cur.seg.fileBytes > used) {
            ftruncateSync(cur.seg.handle.fd, used)
            cur.seg.fileBytes = used
          }
          const seg = await this.createSegment(cur.seg.base + used)
          this.counters.fsyncs++
          await this.syncDir()
          cur = { seg, start: 0, iov: [], bytes: 0, records: [] }
          touched.push(cur)
        }
        const position = cur.seg.base + cur.start + cur.bytes
        const header = new Uint8Array(HEADER_BYTES)
        encodeHeader(header, item.parts, item.payloadBytes, position, item.appendedAtMs)
        headers?.push(header)
        cur.iov.push(header)
        for (const p of item.parts) if (p.length > 0) cur.iov.push(p)
        cur.bytes += recordBytes
        cur.records.push([position, item.payloadBytes, item.appendedAtMs])
        positions.push(position)
      }
      for (const t of touched) {
        if (t.bytes === 0) continue
        // Synchronous: copying a group into the page cache takes well under a millisecond, while a hop
        // through libuv's thread pool costs milliseconds on a busy machine, and the 204 waits for it.
        const bytesWritten = writevSync(t.seg.handle.fd, t.iov, t.start)
        if (bytesWritten !== t.bytes) throw new Error(`short write to ${t.seg.file}: ${bytesWritten} of ${t.bytes} bytes`)
        if (t.start + t.bytes > t.seg.fileBytes) t.seg.fileBytes = t.start + t.bytes
      }
      for (const t of touched) {
        if (t.bytes === 0) continue
        this.counters.fsyncs++
        await t.seg.handle.datasync()
      }
    } catch (err) {
      await this.takeBack(first, sizeBefore, touched.slice(1).map(t => t.seg), err)
      throw err
    }
    // Durable: publish to readers.
    for (let k = 0; k < touched.length; k++) {
      const t = touched[k]!
      if (k > 0) {
        t.seg.firstOrdinal = this.nextOrdinal
        this.segments.push(t.seg)
      }
      for (const [p, len, at] of t.records) t.seg.add(p, len, at)
      t.seg.size = t.start + t.bytes
      this.nextOrdinal += t.records.length
    }
    const ring = this.ring
    if (ring !== undefined && headers !== undefined) {
      // A memory copy (tens of microseconds for a 10,000-sample body) instead of a read and a CRC check in the forward worker.
      const floor = ring.floor()
      for (let i = 0; i < group.length; i++) ring.ring.put(positions[i]!, headers[i]!, group[i]!.parts, group[i]!.payloadBytes, floor)
      ring.ring.publish()
    }
    if (this.watchers.size > 0) this.tellAppended(touched)
    const waiters = this.waiters
    this.waiters = []
    for (const w of waiters) w()
    return positions
  }

  private tellAppended (touched: ReadonlyArray<{ seg: Segment, records: Array<[number, number, number]> }>): void {
    const segments = touched.slice(1).map(t => ({ base: t.seg.base, file: t.seg.file }))
    let n = 0
    for (const t of touched) n += t.records.length
    const records = new Float64Array(n * 3)
    let k = 0
    for (const t of touched) {
      for (const [p, len, at] of t.records) { records[k++] = p; records[k++] = len; records[k++] = at }
    }
    const ringFrom = this.ring?.ring.from
    for (const w of this.watchers) w.appended(segments, records, ringFrom)
  }

  /**
   * Keeps the newest records in memory as well (src/queue/log-ring.ts), for readers in another thread
   * that keep up; `floor` is the lowest position any of them may still read. The ring starts empty, at
   * the head. Once per log.
   */
  keepInMemory (bytes: number, floor: () => number): LogRing {
    if (this.ring !== undefined) throw new Error(`the ${this.what} already keeps its newest records in memory`)
    const ring = LogRing.create(bytes, this.head)
    this.ring = { ring, floor }
    return ring
  }

  /** Tells `watcher` of every durable group and every release from now on; returns the way to stop. */
  watch (watcher: LogWatcher): () => void {
    this.watchers.add(watcher)
    return () => { this.watchers.delete(watcher) }
  }

  /** The segments and their index now (what a watcher added now builds on). */
  snapshot (): LogSnapshot {
    return {
      segments: this.segments.map(s => ({ base: s.base, file: s.file, size: s.size, firstOrdinal: s.firstOrdinal, index: s.indexCopy() })),
      nextOrdinal: this.nextOrdinal
    }
  }

  /** Removes a failed group from the files; when that fails too, the log refuses appends until reopened. */
  private async takeBack (first: Segment, sizeBefore: number, created: Segment[], cause: unknown): Promise<void> {
    try {
      await first.handle.truncate(sizeBefore)
      first.fileBytes = sizeBefore
      for (const seg of created) {
        await seg.handle.close()
        await unlink(seg.file)
      }
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err)
      this.broken = new IngestError('sink_failed', `the ${this.what} failed and could not remove a failed write (${message}); it takes no more requests until restarted`)
      this.log.error({ err: message, cause: String(cause) }, `${this.what}: a failed append could not be taken back; appends refused until restart`)
    }
  }

  /** A new segment: the spare file renamed when there is one (the caller fsyncs the directory), else a new file. */
  private async createSegment (base: number): Promise<Segment> {
    const file = join(this.options.dir, segmentFileName(base))
    const spare = this.spare
    if (spare !== undefined) {
      this.spare = undefined
      try {
        await rename(join(this.options.dir, SPARE_FILE), file)
        const seg = new Segment(base, file, spare.handle, 0, this.nextOrdinal)
        seg.fileBytes = spare.bytes
        this.counters.recycledSegments++
        return seg
      } catch (err) {
        await spare.handle.close().catch(() => {})
        this.log.warn({ err: (err as Error).message, segment: file }, `${this.what}: the spare segment file could not be recycled; a new file is used`)
      }
    }
    const handle = await open(file, 'w+')
    return new Segment(base, file, handle, 0, this.nextOrdinal)
  }

  private async syncDir (): Promise<void> {
    const d = await open(this.options.dir, 'r')
    try { await d.sync() } finally { await d.close() }
  }

  // ---- cursors ----

  /** The cursor of one destination; created (and its file fsync'd) the first time, at the tail unless told. */
  cursor (name: string, options: CursorOptions = {}): LogCursor {
    const known = this.cursors.get(name)
    if (known !== undefined) return known
    if (this.closed) throw new Error(`the ${this.what} is closed`)
    if (name.length === 0 || cursorFileName(name).length > 240) throw new RangeError(`a ${this.what} cursor name must have 1 to about 200 characters, got ${JSON.stringify(name)}`)
    const position = options.start === 'head' ? this.head : this.tail
    const path = join(this.cursorDir, cursorFileName(name))
    const fd = openSync(path, 'w+')
    try {
      writeSync(fd, new Uint8Array(CURSOR_FILE_BYTES), 0, CURSOR_FILE_BYTES, 0)
      writeSync(fd, encodeSlot({ sequence: 1, position }), 0, 32, slotOffset(1))
      fdatasyncSync(fd)
      const dir = openSync(this.cursorDir, 'r')
      try { fsyncSync(dir) } finally { closeSync(dir) }
    } catch (err) {
      closeSync(fd)
      throw err
    }
    const cursor = new Cursor(name, this, fd, position, 1)
    this.cursors.set(name, cursor)
    this.log.info({ destination: name, position, start: options.start ?? 'tail' }, `${this.what}: cursor created`)
    return cursor
  }

  /** Names of the cursors on disk (a destination removed from the config can be deleted). */
  cursorNames (): string[] { return [...this.cursors.keys()] }

  async deleteCursor (name: string): Promise<void> {
    const cursor = this.cursors.get(name)
    if (cursor === undefined) return
    this.cursors.delete(name)
    cursor.close()
    await unlink(join(this.cursorDir, cursorFileName(name)))
    await this.release()
  }

  // ---- CursorHost ----

  locate (position: number): { s: number, i: number } | undefined {
    return locateIn(this.segments, position)
  }

  ordinalAt (position: number): number {
    const at = this.locate(position)
    return at === undefined ? this.nextOrdinal : this.segments[at.s]!.firstOrdinal + at.i
  }

  damagedOnRead (segment: Segment, position: number, bytes: number, cursor: string): void {
    this.noteDamaged(segment, position - segment.base, position - segment.base + bytes, 'read')
    this.log.error({ destination: cursor, position }, `${this.what}: record damaged on disk since open; skipped`)
  }

  /** A reader in another thread (src/queue/log-mirror.ts) found a damaged record in `file`: counted and logged here. */
  damagedElsewhere (file: string, position: number, bytes: number, cursor: string): void {
    const seg = this.segments.find(s => s.file === file)
    if (seg !== undefined) { this.damagedOnRead(seg, position, bytes, cursor); return }
    this.counters.damagedRecords++
    this.counters.damagedBytes += bytes
    this.log.error({ destination: cursor, segment: file, position, bytes }, `${this.what}: record damaged on disk since open; skipped`)
  }

  async headMoved (): Promise<void> {
    if (this.closed) return
    await new Promise<void>(resolve => this.waiters.push(resolve))
  }

  /** Deletes the segments every cursor is past (never the segment being written); one pass at a time. */
  async release (): Promise<void> {
    const run = this.releasing.then(async () => await this.releaseNow())
    this.releasing = run.catch(() => {})
    await run
  }

  private async releaseNow (): Promise<void> {
    if (this.cursors.size === 0) return // nobody has read anything: keep it all
    let min = Infinity
    for (const c of this.cursors.values()) min = Math.min(min, c.position)
    let released = false
    while (this.segments.length > 1 && this.segments[0]!.end <= min) {
      const seg = this.segments.shift()!
      seg.removed = true
      released = true
      if (this.spare === undefined && seg.fileBytes <= this.segmentBytes && seg.end <= this.readersFloor()) {
        // Kept to be overwritten as a later segment. A crash before the rename is durable leaves the
        // segment under its own name: read back at open and released again.
        try {
          await rename(seg.file, join(this.options.dir, SPARE_FILE))
          this.spare = { handle: seg.handle, bytes: seg.fileBytes }
          continue
        } catch (err) {
          this.log.warn({ err: (err as Error).message, segment: seg.file }, `${this.what}: a released segment could not be kept for recycling; deleted`)
        }
      }
      await seg.handle.close()
      await unlink(seg.file)
    }
    if (released) for (const w of this.watchers) w.released(this.tail)
  }

  /** The lowest position a watcher's reader may still read (Infinity without such readers). */
  private readersFloor (): number {
    let min = Infinity
    for (const w of this.watchers) {
      const f = w.floor?.()
      if (f !== undefined && f < min) min = f
    }
    return min
  }

  // ---- the rest ----

  stats (): DurableLogStats {
    let bytes = 0
    for (const s of this.segments) bytes += s.size
    const first = this.segments[0]!.firstOrdinal
    return { segments: this.segments.length, bytes, records: this.nextOrdinal - first, ...this.counters, appendGroups: this.group.groups }
  }

  /** Waits for the appends in flight, then closes the files; reads return [] and waiters resolve. */
  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.group.drain()
    await this.releasing
    const waiters = this.waiters
    this.waiters = []
    for (const w of waiters) w()
    const last = this.active
    if (last.fileBytes > last.size) {
      // A recycled file's stale bytes past the head are cut off, so that a clean restart scans none.
      try { await last.handle.truncate(last.size) } catch { /* then the next open finds them, as after a crash */ }
    }
    await this.closeFiles()
    releaseLock(this.options.dir)
  }

  private async closeFiles (): Promise<void> {
    for (const c of this.cursors.values()) c.close()
    for (const s of this.segments) await s.handle.close()
    if (this.spare !== undefined) {
      await this.spare.handle.close()
      this.spare = undefined
    }
  }
}
