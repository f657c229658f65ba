/**
 * INTERIM stand-in for H7's durable log (src/queue/durable-log.ts, API in the team's queue-api note),
 * so that the forwarder can be built and tested before the real log lands. Same exported API; replaced
 * by an import of src/queue/durable-log.js when it does (forward-sink.ts is the only user).
 *
 * Simplifications against the real log: one file (no segments, nothing is ever deleted), no CRC (a torn
 * tail is truncated on open; a damaged record in the middle is not detected), the index of record
 * positions lives in memory.
 *
 * Record on disk: [u32 payload length][u32 reserved][f64 appendedAtMs][payload]. Appends are grouped:
 * while one writev + fdatasync runs, new appends wait and go in the next group.
 */
import { mkdirSync, openSync, readFileSync, closeSync, ftruncateSync, fstatSync, readSync, existsSync, readdirSync, writeFileSync, renameSync, unlinkSync } from 'node:fs'
import { open, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from '../logger.js'

export interface DurableLogOptions {
  dir: string
  segmentBytes?: number
  logger?: Logger
  fsyncDelayMs?: number
}

export interface LogRecord {
  readonly position: number
  readonly next: number
  readonly payload: Uint8Array
  readonly appendedAtMs: number
}

export interface LogCursor {
  readonly name: string
  readonly position: number
  read(maxRecords: number, maxBytes: number): Promise<LogRecord[]>
  waitForData(): Promise<void>
  commit(position: number): Promise<void>
  readonly pendingBytes: number
  readonly pendingRecords: number
  oldestPendingAppendedAtMs(): number | undefined
  dropOldest(targetBytes: number): Promise<{ records: number, bytes: number }>
}

const HEADER = 16
const FILE = 'interim.log'

interface Pending { parts: readonly Uint8Array[], position: number, resolve: (p: number) => void, reject: (e: unknown) => void }

export class DurableLog {
  /** Record start positions and append times, in order (the in-memory index). */
  readonly positions: number[] = []
  readonly times: number[] = []
  private durableEnd: number
  private writeEnd: number
  private queue: Pending[] = []
  private flushing = false
  private closed = false
  private fsyncs = 0
  private waiters: Array<() => void> = []
  private readonly cursors = new Map<string, InterimCursor>()

  private constructor (readonly dir: string, readonly fh: FileHandle, readonly readFd: number, end: number) {
    this.durableEnd = end
    this.writeEnd = end
  }

  static async open (options: DurableLogOptions): Promise<DurableLog> {
    mkdirSync(join(options.dir, 'cursors'), { recursive: true })
    const path = join(options.dir, FILE)
    const fd = openSync(path, 'a+')
    const size = fstatSync(fd).size
    const positions: number[] = []
    const times: number[] = []
    const head = Buffer.alloc(HEADER)
    let at = 0
    while (at + HEADER <= size) {
      readSync(fd, head, 0, HEADER, at)
      const len = head.readUInt32LE(0)
      if (at + HEADER + len > size) break
      positions.push(at)
      times.push(head.readDoubleLE(8))
      at += HEADER + len
    }
    if (at < size) {
      options.logger?.warn({ bytes: size - at }, 'forward queue: torn record at the end of the log truncated')
      ftruncateSync(fd, at)
    }
    closeSync(fd)
    const fh = await open(path, 'a')
    const log = new DurableLog(options.dir, fh, openSync(path, 'r'), at)
    log.positions.push(...positions)
    log.times.push(...times)
    return log
  }

  get head (): number { return this.durableEnd }
  get tail (): number { return 0 }

  append (parts: readonly Uint8Array[]): Promise<number> {
    if (this.closed) return Promise.reject(new Error('the forward queue is closed'))
    let len = 0
    for (const p of parts) len += p.length
    const position = this.writeEnd
    this.writeEnd += HEADER + len
    return new Promise<number>((resolve, reject) => {
      this.queue.push({ parts, position, resolve, reject })
      if (!this.flushing) void this.flush()
    })
  }

  private async flush (): Promise<void> {
    this.flushing = true
    while (this.queue.length > 0) {
      const group = this.queue
      this.queue = []
      const buffers: Uint8Array[] = []
      const now = Date.now()
      for (const p of group) {
        const h = Buffer.alloc(HEADER)
        let len = 0
        for (const part of p.parts) len += part.length
        h.writeUInt32LE(len, 0)
        h.writeDoubleLE(now, 8)
        buffers.push(h, ...p.parts)
      }
      try {
        // writev takes at most IOV_MAX (1024) buffers per call.
        for (let i = 0; i < buffers.length; i += 1024) await this.fh.writev(buffers.slice(i, i + 1024))
        await this.fh.datasync()
        this.fsyncs++
      } catch (err) {
        for (const p of group) p.reject(err)
        continue
      }
      for (const p of group) {
        this.positions.push(p.position)
        this.times.push(now)
        let len = 0
        for (const part of p.parts) len += part.length
        this.durableEnd = p.position + HEADER + len
        p.resolve(p.position)
      }
      const w = this.waiters
      this.waiters = []
      for (const f of w) f()
    }
    this.flushing = false
  }

  cursor (name: string): LogCursor {
    let c = this.cursors.get(name)
    if (c === undefined) {
      const file = join(this.dir, 'cursors', name)
      const saved = existsSync(file) ? Number(readFileSync(file, 'utf8')) : NaN
      c = new InterimCursor(this, name, file, Number.isSafeInteger(saved) && saved >= 0 && saved <= this.head ? saved : this.head)
      this.cursors.set(name, c)
    }
    return c
  }

  cursorNames (): string[] { return readdirSync(join(this.dir, 'cursors')).filter(n => !n.endsWith('.tmp')) }
  async deleteCursor (name: string): Promise<void> { this.cursors.delete(name); try { unlinkSync(join(this.dir, 'cursors', name)) } catch {} }

  stats (): { segments: number, bytes: number, damagedRecords: number, fsyncs: number } {
    return { segments: 1, bytes: this.durableEnd, damagedRecords: 0, fsyncs: this.fsyncs }
  }

  /** Index of the first record at or after `position`. */
  indexOf (position: number): number {
    let lo = 0; let hi = this.positions.length
    while (lo < hi) { const mid = (lo + hi) >>> 1; if (this.positions[mid]! < position) lo = mid + 1; else hi = mid }
    return lo
  }

  waitForData (): Promise<void> {
    if (this.closed) return Promise.resolve()
    return new Promise(resolve => this.waiters.push(resolve))
  }

  readBytes (from: number, to: number): Buffer {
    const b = Buffer.allocUnsafe(to - from)
    let done = 0
    while (done < b.length) done += readSync(this.readFd, b, done, b.length - done, from + done)
    return b
  }

  async close (): Promise<void> {
    while (this.flushing || this.queue.length > 0) await new Promise(resolve => setTimeout(resolve, 1))
    this.closed = true
    for (const f of this.waiters.splice(0)) f()
    await this.fh.close()
    closeSync(this.readFd)
  }
}

class InterimCursor implements LogCursor {
  constructor (private readonly log: DurableLog, readonly name: string, private readonly file: string, public position: number) {}

  async read (maxRecords: number, maxBytes: number): Promise<LogRecord[]> {
    const log = this.log
    const first = log.indexOf(this.position)
    const head = log.head
    const out: LogRecord[] = []
    let last = first
    while (last < log.positions.length && log.positions[last]! < head && last - first < maxRecords) {
      const end = last + 1 < log.positions.length ? log.positions[last + 1]! : head
      if (last > first && end - log.positions[first]! > maxBytes) break
      last++
    }
    if (last === first) return out
    const from = log.positions[first]!
    const to = last < log.positions.length ? log.positions[last]! : head
    const bytes = log.readBytes(from, to)
    for (let i = first; i < last; i++) {
      const at = log.positions[i]! - from
      const len = bytes.readUInt32LE(at)
      out.push({ position: log.positions[i]!, next: log.positions[i]! + HEADER + len, payload: bytes.subarray(at + HEADER, at + HEADER + len), appendedAtMs: log.times[i]! })
    }
    return out
  }

  waitForData (): Promise<void> {
    if (this.log.head > this.position) return Promise.resolve()
    return this.log.waitForData()
  }

  async commit (position: number): Promise<void> {
    this.position = Math.max(this.position, position)
    writeFileSync(this.file + '.tmp', String(this.position))
    renameSync(this.file + '.tmp', this.file)
  }

  get pendingBytes (): number { return this.log.head - this.position }
  get pendingRecords (): number { return this.log.positions.length - this.log.indexOf(this.position) }
  oldestPendingAppendedAtMs (): number | undefined { return this.log.times[this.log.indexOf(this.position)] }

  async dropOldest (targetBytes: number): Promise<{ records: number, bytes: number }> {
    const start = this.position
    let i = this.log.indexOf(start)
    let records = 0
    while (this.log.head - (this.log.positions[i] ?? this.log.head) > targetBytes && i < this.log.positions.length) { i++; records++ }
    const next = this.log.positions[i] ?? this.log.head
    await this.commit(next)
    return { records, bytes: next - start }
  }
}
