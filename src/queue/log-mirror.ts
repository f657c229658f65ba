/**
 * A read-only view of the forward queue's log in another thread (the forward worker,
 * src/forward/send-worker.ts): it opens the segment files itself and reads them through ordinary
 * cursors (src/queue/log-cursor.ts), so the reading, the CRC checks and the sending stay off the thread
 * that receives requests.
 *
 * The thread that owns the log (src/queue/durable-log.ts) stays the only writer: it starts the mirror
 * from a snapshot, then tells it of each durable group (new segments, the records' index entries) and
 * of each release (segments deleted). The mirror never writes: its cursors' commits go back to the
 * owner (`persistCommit`), which writes the cursor files and deletes segments every cursor is past.
 *
 * A segment the owner deleted while the mirror still reads it stays readable through the mirror's open
 * handle; one deleted before the mirror opened it reads as removed (the records were dropped).
 *
 * With the owner's ring (src/queue/log-ring.ts), the cursors take the records that are still in memory
 * from there, and read only the others from the files.
 */
import { open } from 'node:fs/promises'
import { HEADER_BYTES } from './record.js'
import { Cursor, type CursorHost } from './log-cursor.js'
import { RingReader, type RingShare } from './log-ring.js'
import type { LogSnapshot } from './durable-log.js'
import { Segment, locateIn } from './segment.js'

export interface MirrorHooks {
  /** A cursor committed `position`: the owner persists it. */
  committed(name: string, position: number): void
  /** A record found damaged on read: the owner counts and logs it. */
  damaged(segmentFile: string, position: number, bytes: number, cursor: string): void
}

export class LogMirror implements CursorHost {
  readonly segments: Segment[] = []
  closed = false
  nextOrdinal: number
  private waiters: Array<() => void> = []
  private readonly cursors = new Map<string, Cursor>()
  private readonly ring: RingReader | undefined

  private constructor (private readonly hooks: MirrorHooks, nextOrdinal: number, ring: RingShare | undefined) {
    this.nextOrdinal = nextOrdinal
    this.ring = ring === undefined ? undefined : new RingReader(ring)
  }

  static async open (snapshot: LogSnapshot, hooks: MirrorHooks, ring?: RingShare): Promise<LogMirror> {
    const m = new LogMirror(hooks, snapshot.nextOrdinal, ring)
    for (const s of snapshot.segments) {
      const seg = await m.openSegment(s.base, s.file, s.firstOrdinal)
      seg.addAll(s.index)
      seg.size = s.size
      m.segments.push(seg)
    }
    return m
  }

  private async openSegment (base: number, file: string, firstOrdinal: number): Promise<Segment> {
    try {
      return new Segment(base, file, await open(file, 'r'), 0, firstOrdinal)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
      // Deleted by the owner before we got to it (every cursor was past it): nothing to read there.
      const gone = new Segment(base, file, undefined as never, 0, firstOrdinal)
      gone.removed = true
      return gone
    }
  }

  /** A cursor at the owner's committed `position`. */
  cursor (name: string, position: number): Cursor {
    const c = new Cursor(name, this, undefined, Math.max(position, this.tail), 0)
    this.cursors.set(name, c)
    return c
  }

  /** The owner made a group durable (see LogWatcher.appended). */
  async appended (segments: ReadonlyArray<{ base: number, file: string }>, records: Float64Array, ringFrom?: number): Promise<void> {
    if (ringFrom !== undefined) this.ring?.moved(ringFrom)
    let k = 0
    let seg = this.segments[this.segments.length - 1]!
    for (let r = 0; r < records.length; r += 3) {
      const position = records[r]!
      while (k < segments.length && segments[k]!.base <= position) {
        seg = await this.openSegment(segments[k]!.base, segments[k]!.file, this.nextOrdinal)
        this.segments.push(seg)
        k++
      }
      seg.add(position, records[r + 1]!, records[r + 2]!)
      seg.size = position + HEADER_BYTES + records[r + 1]! - seg.base
      this.nextOrdinal++
    }
    // Segments started with no record of their own (never so today; kept for completeness).
    for (; k < segments.length; k++) this.segments.push(await this.openSegment(segments[k]!.base, segments[k]!.file, this.nextOrdinal))
    const waiters = this.waiters
    this.waiters = []
    for (const w of waiters) w()
  }

  /** The owner deleted the segments before `tail`. */
  async released (tail: number): Promise<void> {
    while (this.segments.length > 1 && this.segments[0]!.base < tail) {
      const seg = this.segments.shift()!
      const wasOpen = !seg.removed
      seg.removed = true
      if (wasOpen) await seg.handle.close().catch(() => {})
    }
  }

  /** The owner moved a cursor on (drop-oldest). */
  moved (name: string, position: number): void {
    this.cursors.get(name)?.advance(position)
  }

  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    const waiters = this.waiters
    this.waiters = []
    for (const w of waiters) w()
    for (const s of this.segments) if (!s.removed) await s.handle.close().catch(() => {})
  }

  // ---- CursorHost ----

  get head (): number { return this.segments[this.segments.length - 1]!.end }
  get tail (): number { return this.segments[0]!.base }

  locate (position: number): { s: number, i: number } | undefined { return locateIn(this.segments, position) }

  ordinalAt (position: number): number {
    const at = this.locate(position)
    return at === undefined ? this.nextOrdinal : this.segments[at.s]!.firstOrdinal + at.i
  }

  damagedOnRead (segment: Segment, position: number, bytes: number, cursor: string): void {
    this.hooks.damaged(segment.file, position, bytes, cursor)
  }

  persistCommit (name: string, position: number): void { this.hooks.committed(name, position) }

  ringPayload (position: number, length: number): Uint8Array | undefined { return this.ring?.payload(position, length) }

  async release (): Promise<void> {}

  async headMoved (): Promise<void> {
    if (this.closed) return
    await new Promise<void>(resolve => this.waiters.push(resolve))
  }
}
