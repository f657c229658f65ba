/**
 * One segment file of the forward queue and the in-memory index of the records in it.
 *
 * A segment is named by its base position (`00000000000000000000.seg`, 20 decimal digits): the log
 * position of its first byte. Its records lie back to back from offset 0; a damaged stretch found
 * at open is left in place and simply has no index entries (src/queue/segment-scan.ts).
 *
 * The index holds three numbers per record (position, payload length, append time): 24 bytes per
 * record in memory, so a queue of 1 GiB in 100 KiB requests costs about 250 KB. Payloads stay on disk.
 */
import type { FileHandle } from 'node:fs/promises'

export const SEGMENT_SUFFIX = '.seg'
const NAME = /^(\d{20})\.seg$/

export function segmentFileName (base: number): string {
  return `${String(base).padStart(20, '0')}${SEGMENT_SUFFIX}`
}

/** The base position named by a segment file name, or undefined when it is not one. */
export function segmentBase (fileName: string): number | undefined {
  const m = NAME.exec(fileName)
  if (m === null) return undefined
  const base = Number(m[1])
  return Number.isSafeInteger(base) ? base : undefined
}

/** Stride of the index: [position, payload length, appendedAtMs] per record. */
const STRIDE = 3

export class Segment {
  /** Bytes of the file that belong to the log (for the segment being written: what is fsync'd). */
  size: number
  /** Records in the index. */
  count = 0
  /** Set when the segment is taken out of the log (every cursor was past it). */
  removed = false
  /**
   * Length of the file. More than `size` while the segment being written is a recycled file: the
   * bytes past `size` are an older segment's, and appends overwrite them instead of growing the file.
   */
  fileBytes: number
  private entries: Float64Array

  constructor (
    readonly base: number,
    readonly file: string,
    readonly handle: FileHandle,
    size: number,
    /** Ordinal (log-wide record number) of the first record in the index. */
    public firstOrdinal: number
  ) {
    this.size = size
    this.fileBytes = size
    this.entries = new Float64Array(STRIDE * 64)
  }

  /** Log position after the segment's last byte. */
  get end (): number { return this.base + this.size }

  add (position: number, length: number, appendedAtMs: number): void {
    if ((this.count + 1) * STRIDE > this.entries.length) {
      const grown = new Float64Array(this.entries.length * 2)
      grown.set(this.entries)
      this.entries = grown
    }
    const k = this.count * STRIDE
    this.entries[k] = position
    this.entries[k + 1] = length
    this.entries[k + 2] = appendedAtMs
    this.count++
  }

  position (i: number): number { return this.entries[i * STRIDE]! }
  length (i: number): number { return this.entries[i * STRIDE + 1]! }
  appendedAtMs (i: number): number { return this.entries[i * STRIDE + 2]! }

  /** The index entries as [position, length, appendedAtMs] triples (a copy: for another thread's mirror). */
  indexCopy (): Float64Array { return this.entries.slice(0, this.count * STRIDE) }

  /** Adds `triples` ([position, length, appendedAtMs] each), as indexCopy() gives them. */
  addAll (triples: Float64Array): void {
    for (let k = 0; k + 2 < triples.length; k += STRIDE) this.add(triples[k]!, triples[k + 1]!, triples[k + 2]!)
  }

  /** Index of the first record at or after `position` (count when none). */
  lowerBound (position: number): number {
    let lo = 0
    let hi = this.count
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.entries[mid * STRIDE]! < position) lo = mid + 1
      else hi = mid
    }
    return lo
  }
}

/** Where the first indexed record at or after `position` is in `segs` (in order), or undefined when there is none. */
export function locateIn (segs: readonly Segment[], position: number): { s: number, i: number } | undefined {
  if (segs.length === 0) return undefined
  // The last segment whose base is <= position (or the first).
  let lo = 0
  let hi = segs.length - 1
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1
    if (segs[mid]!.base <= position) lo = mid
    else hi = mid - 1
  }
  for (let s = lo, i = segs[lo]!.lowerBound(position); s < segs.length; s++, i = 0) {
    if (i < segs[s]!.count) return { s, i }
  }
  return undefined
}
