/**
 * The bodies of one flush's INSERTs, in ClickHouse's RowBinary format, written straight from the
 * batches' typed arrays (no row objects).
 *
 * RowBinary (little-endian, no header): UInt64/Int64/Float64 as 8 bytes, Date as UInt16 days since
 * 1970-01-01, String as varint(length) bytes, Array(T) as varint(count) then the elements, Map(K, V)
 * as varint(count) then key, value pairs.
 *
 *   samples row: fingerprint UInt64 | timestamp_ms Int64 (DateTime64(3) on 22.x: the same 8 bytes) | value Float64
 *   series row:  fingerprint UInt64 | metric_name String | label_names Array(String) | label_values Array(String)
 *                (22.x: labels Map(String, String)) | tenant String | day Date
 *
 * Sample values are copied as their two 32-bit words, never read as numbers: stale markers (a NaN
 * with a payload) keep their bits.
 */
import { readVarint, writeVarint } from '../../series/varint.js'

const TWO_32 = 4294967296
const SAMPLE_BYTES = 24

/** The samples body: 24 bytes a row, 8-aligned, so that it is written through a Uint32Array. */
export class SampleRows {
  private words = new Uint32Array(SAMPLE_BYTES / 4 * 1024)
  /** Rows written. */
  rows = 0

  /**
   * Appends samples [0, n) of a batch: fingerprints by series id from fpLo/fpHi, timestamps, and
   * the value words (valueWords: the batch's values column viewed as 2n uint32 words).
   */
  append (n: number, seriesIds: Uint32Array, timestamps: Float64Array, valueWords: Uint32Array, fpLo: Uint32Array, fpHi: Uint32Array): void {
    this.reserve(n)
    const w = this.words
    let o = this.rows * (SAMPLE_BYTES / 4)
    for (let i = 0; i < n; i++) {
      const id = seriesIds[i]!
      const ts = timestamps[i]!
      // Int64 from an integral double: high word by floor division (right for negative times too).
      const hi = Math.floor(ts / TWO_32)
      w[o] = fpLo[id]!
      w[o + 1] = fpHi[id]!
      w[o + 2] = (ts - hi * TWO_32) >>> 0
      w[o + 3] = hi >>> 0
      w[o + 4] = valueWords[2 * i]!
      w[o + 5] = valueWords[2 * i + 1]!
      o += 6
    }
    this.rows += n
  }

  /** The body (a view, valid until the next append or reset). */
  bytes (): Uint8Array { return new Uint8Array(this.words.buffer, 0, this.rows * SAMPLE_BYTES) }

  reset (): void { this.rows = 0 }

  private reserve (n: number): void {
    const need = (this.rows + n) * (SAMPLE_BYTES / 4)
    if (need <= this.words.length) return
    let size = this.words.length * 2
    while (size < need) size *= 2
    const grown = new Uint32Array(size)
    grown.set(this.words.subarray(0, this.rows * (SAMPLE_BYTES / 4)))
    this.words = grown
  }
}

/** How label sets go into the series table: two arrays (18.16) or a Map (22.x and newer). */
export type LabelColumns = 'arrays' | 'map'

const NAME = new TextEncoder().encode('__name__')

/** The series body: rows of varying length in a growing byte buffer. */
export class SeriesRows {
  private b = new Uint8Array(4096)
  private at = 0
  rows = 0
  // Scratch: where each label's name and value are in the canonical bytes being written.
  private starts = new Uint32Array(64)

  constructor (private readonly labelColumns: LabelColumns) {}

  /**
   * Appends one series row: fingerprint (lo, hi), the label set from its canonical bytes (see
   * src/series/labels.ts; `__name__` becomes metric_name, the others the label columns, in order),
   * the tenant's UTF-8 bytes and the day (days since 1970-01-01).
   */
  append (fpLo: number, fpHi: number, labels: Uint8Array, tenant: Uint8Array, day: number): void {
    // Find each label's name and value: [nameStart, nameLength, valueStart, valueLength] per label.
    let count = 0
    let metric = -1
    for (let p = 0; p < labels.length;) {
      const inner = readVarint(labels, p + 1)
      p = skip(labels, p + 1)
      const end = p + inner
      const nameLength = readVarint(labels, p + 1)
      const nameStart = skip(labels, p + 1)
      let valueStart = nameStart + nameLength
      let valueLength = 0
      if (valueStart < end) { valueLength = readVarint(labels, valueStart + 1); valueStart = skip(labels, valueStart + 1) }
      if (4 * count + 4 > this.starts.length) { const s = new Uint32Array(this.starts.length * 2); s.set(this.starts); this.starts = s }
      const s = this.starts
      s[4 * count] = nameStart; s[4 * count + 1] = nameLength; s[4 * count + 2] = valueStart; s[4 * count + 3] = valueLength
      if (metric < 0 && equalsName(labels, nameStart, nameLength)) metric = count
      count++
      p = end
    }
    const s = this.starts
    const others = metric < 0 ? count : count - 1
    this.reserve(8 + 10 + 2 * labels.length + 3 * 10 + 10 + tenant.length + 2 + 10 * count)
    const b = this.b
    let o = this.at
    o = u32(b, o, fpLo); o = u32(b, o, fpHi)
    if (metric >= 0) o = this.bytesAt(o, labels, s[4 * metric + 2]!, s[4 * metric + 3]!)
    else b[o++] = 0
    if (this.labelColumns === 'map') {
      o = writeVarint(b, o, others)
      for (let i = 0; i < count; i++) {
        if (i === metric) continue
        o = this.bytesAt(o, labels, s[4 * i]!, s[4 * i + 1]!)
        o = this.bytesAt(o, labels, s[4 * i + 2]!, s[4 * i + 3]!)
      }
    } else {
      for (let part = 0; part < 2; part++) {
        o = writeVarint(b, o, others)
        for (let i = 0; i < count; i++) if (i !== metric) o = this.bytesAt(o, labels, s[4 * i + 2 * part]!, s[4 * i + 2 * part + 1]!)
      }
    }
    o = this.bytesAt(o, tenant, 0, tenant.length)
    b[o++] = day & 0xff
    b[o++] = (day >>> 8) & 0xff
    this.at = o
    this.rows++
  }

  /** Appends another body's rows (series rows of a failed flush, carried into the next one). */
  appendRows (other: SeriesRows): void {
    this.reserve(other.at)
    this.b.set(other.b.subarray(0, other.at), this.at)
    this.at += other.at
    this.rows += other.rows
  }

  bytes (): Uint8Array { return this.b.subarray(0, this.at) }

  reset (): void { this.at = 0; this.rows = 0 }

  private bytesAt (o: number, from: Uint8Array, start: number, length: number): number {
    o = writeVarint(this.b, o, length)
    this.b.set(from.subarray(start, start + length), o)
    return o + length
  }

  private reserve (n: number): void {
    if (this.at + n <= this.b.length) return
    let size = this.b.length * 2
    while (size < this.at + n) size *= 2
    const grown = new Uint8Array(size)
    grown.set(this.b.subarray(0, this.at))
    this.b = grown
  }
}

function skip (b: Uint8Array, p: number): number {
  while (b[p]! >= 0x80) p++
  return p + 1
}

function equalsName (b: Uint8Array, start: number, length: number): boolean {
  if (length !== NAME.length) return false
  for (let i = 0; i < length; i++) if (b[start + i] !== NAME[i]) return false
  return true
}

function u32 (b: Uint8Array, o: number, v: number): number {
  b[o] = v & 0xff; b[o + 1] = (v >>> 8) & 0xff; b[o + 2] = (v >>> 16) & 0xff; b[o + 3] = v >>> 24
  return o + 4
}
