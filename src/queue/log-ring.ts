/**
 * The newest records of the forward queue's log, kept in memory for the forward worker: a
 * SharedArrayBuffer that mirrors the log's byte stream (record headers and payloads, log position p at
 * ring offset p mod size). A worker that keeps up sends each record from here, without reading it back
 * from the segment file: that saves a read syscall, a copy and the CRC check per record
 * (bench/README.md, "forward"). The file stays the truth: a record not in the ring is read from disk.
 *
 * One writer, the thread that owns the log (src/queue/durable-log.ts): `put` copies a record once its
 * group is durable, before the readers are told of it. The readers (src/queue/log-mirror.ts) take a
 * record from the ring when its position is at or after `from` and it does not wrap around the end.
 *
 * No reader ever sees bytes change under it: `put` overwrites the bytes of positions before
 * p + length - size, and does so only when every reader is past them (`floor`: the lowest position a
 * reader may still read, its last commit as the log's owner heard of it; a reader commits a record
 * only when it is done with its bytes). When a slow reader holds the floor back, the record is not
 * put (the readers read it from the file) and `from` moves past it: the records before `from` may
 * since have been overwritten.
 */
import { HEADER_BYTES } from './record.js'

/** Default size of the ring: about 75 requests of 10,000 samples, or a few tenths of a second of load. */
export const DEFAULT_RING_BYTES = 16 * 1024 * 1024

/** What a reader needs: the shared buffer (size + 4 bytes: the bytes, then a word to synchronise on). */
export interface RingShare {
  readonly buffer: SharedArrayBuffer
  readonly size: number
  /** Records at or after this position (and announced) are in the ring. */
  readonly from: number
}

export class LogRing {
  readonly size: number
  private readonly bytes: Uint8Array
  private readonly sync: Int32Array
  /** Every record from here up to `end` is in the ring (or behind every reader's floor). */
  from: number
  /** Log position after the last byte put. */
  private end: number
  /** Records put, and records left to the file (a reader held the floor back, or larger than the ring). */
  kept = 0
  skipped = 0

  constructor (readonly buffer: SharedArrayBuffer, position: number) {
    this.size = buffer.byteLength - 4
    this.bytes = new Uint8Array(buffer, 0, this.size)
    this.sync = new Int32Array(buffer, this.size, 1)
    this.from = position
    this.end = position
  }

  static create (size: number, position: number): LogRing {
    if (!Number.isSafeInteger(size) || size < 1024) throw new RangeError(`the forward queue's ring must hold at least 1024 bytes, got ${size}`)
    return new LogRing(new SharedArrayBuffer(size + 4), position)
  }

  share (): RingShare { return { buffer: this.buffer, size: this.size, from: this.from } }

  /**
   * Copies the record at `position` (its 24-byte log header, then `parts`) unless a reader may still
   * read the bytes it would overwrite (`floor`), or it is larger than the ring.
   */
  put (position: number, header: Uint8Array, parts: readonly Uint8Array[], payloadBytes: number, floor: number): void {
    const recordBytes = HEADER_BYTES + payloadBytes
    // Not right after the last record (the first put, or a group taken back): nothing before it is known to be here.
    if (position !== this.end) this.from = position
    if (recordBytes > this.size || position + recordBytes - this.size > floor) {
      this.from = this.end = position + recordBytes
      this.skipped++
      return
    }
    let at = position % this.size
    at = this.copy(header, at)
    for (const p of parts) at = this.copy(p, at)
    this.end = position + recordBytes
    this.kept++
  }

  /** Makes the bytes put so far visible to the readers (before they are told of the records). */
  publish (): void {
    Atomics.add(this.sync, 0, 1)
  }

  private copy (src: Uint8Array, at: number): number {
    const first = Math.min(src.length, this.size - at)
    this.bytes.set(first === src.length ? src : src.subarray(0, first), at)
    if (first < src.length) this.bytes.set(src.subarray(first), 0)
    return (at + src.length) % this.size
  }
}

/** The readers' side: views of payloads still in the ring. */
export class RingReader {
  private readonly bytes: Uint8Array
  private readonly sync: Int32Array
  private from: number

  constructor (share: RingShare) {
    this.bytes = new Uint8Array(share.buffer, 0, share.size)
    this.sync = new Int32Array(share.buffer, share.size, 1)
    this.from = share.from
  }

  /** The writer's `from` with the records it announced last. */
  moved (from: number): void { this.from = from }

  /**
   * A view of the payload of the announced record at `position` (valid until the reader commits past
   * it), or undefined when the record is not in the ring or wraps around its end (read the file).
   */
  payload (position: number, length: number): Uint8Array | undefined {
    if (position < this.from) return undefined
    const size = this.bytes.length
    const at = (position + HEADER_BYTES) % size
    if (at + length > size) return undefined
    // Pairs with publish(): the writer's copies happen before this read of them.
    Atomics.load(this.sync, 0)
    return this.bytes.subarray(at, at + length)
  }
}
