/**
 * The bodies of one flush's INSERTs, in ClickHouse's RowBinary format, written straight from the
 * batches' typed arrays (no row objects).
 *
 * RowBinary (little-endian, no header): UInt64/Int64/Float64 as 8 bytes, Date as UInt16 days since
 * 1970-01-01, String as varint(length) bytes, Array(T) as varint(count) then the elements, Map(K, V)
 * as varint(count) then key, value pairs.
 *
 *   samples row:    fingerprint UInt64 | timestamp_ms Int64 (DateTime64(3) on 22.x: the same 8 bytes) | value Float64
 *   series row:     fingerprint UInt64 | metric_name String | label_names Array(String) | label_values Array(String)
 *                   (22.x: labels Map(String, String)) | tenant String | day Date
 *   histogram row:  fingerprint UInt64 | timestamp_ms Int64 | start_timestamp_ms Int64 | kind Enum8 | count Float64
 *                   | sum Float64 | schema Int32 | zero_threshold Float64 | zero_count Float64 | reset_hint Enum8
 *                   | negative_span_offsets Array(Int32) | negative_span_lengths Array(UInt32) | negative_buckets Array(Float64)
 *                   | positive_span_offsets Array(Int32) | positive_span_lengths Array(UInt32) | positive_buckets Array(Float64)
 *                   | custom_values Array(Float64)
 *   exemplar row:   fingerprint UInt64 | timestamp_ms Int64 | value Float64 | label_names Array(String)
 *                   | label_values Array(String) (22.x: labels Map(String, String))
 *   metadata row:   tenant String | metric_family String | type Enum8 | help String | unit String | last_seen DateTime
 *
 * Every Float64 is copied as its 8 bytes, never read as a number: stale markers (a NaN with a
 * payload) keep their bits. Int32/UInt32/Float64 arrays are the batch's column bytes as they are
 * (the batch and RowBinary are both little-endian).
 */
import type { RowBatch } from '../../batch/row-batch.js'
import { readVarint, writeVarint } from '../../series/varint.js'

const TWO_32 = 4294967296
const SAMPLE_BYTES = 24

/** The samples body: 24 bytes a row, 8-aligned, so that it is written through a Uint32Array. */
export class SampleRows {
  private words = new Uint32Array(SAMPLE_BYTES / 4 * 1024)
  /** The rows in sorted order are written here, then the two arrays swap (sort). */
  private sortedWords = new Uint32Array(0)
  /** Scratch of sort: row order, the next pass's, and the fingerprint halves in row order. */
  private order = new Uint32Array(0)
  private orderNext = new Uint32Array(0)
  private keyLo = new Uint32Array(0)
  private keyHi = new Uint32Array(0)
  /** Rows written. */
  rows = 0
  /** The rows are in sort() order (a retried INSERT does not sort them again). */
  private sorted = true

  /**
   * Appends samples [0, n) of a batch: fingerprints by series id from fpLo/fpHi, timestamps, and
   * the value words (valueWords: the batch's values column viewed as 2n uint32 words).
   */
  append (n: number, seriesIds: Uint32Array, timestamps: Float64Array, valueWords: Uint32Array, fpLo: Uint32Array, fpHi: Uint32Array): void {
    this.reserve(n)
    this.sorted = n === 0 && this.sorted
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

  /**
   * Sorts the rows by (fingerprint, timestamp), the samples table's ORDER BY. ClickHouse (18.16 too)
   * checks whether an inserted block is sorted before sorting it and skips the sort when it is
   * (MergeTreeDataWriterBlocksAlreadySorted): the sort costs less here, in one pass per byte that
   * differs, than in ClickHouse's comparison sort on the shared cores.
   *
   * An LSD radix sort of row numbers by the fingerprint's 8 bytes (stable: rows of one series keep
   * the order they came in, which is time order), then each run of one fingerprint whose timestamps
   * are not in order is sorted by timestamp (rare: requests that arrived out of time order).
   */
  sort (): void {
    const n = this.rows
    if (this.sorted || n < 2) { this.sorted = true; return }
    this.reserveSort(n)
    const w = this.words
    const kLo = this.keyLo
    const kHi = this.keyHi
    // One pass for the counts of all 8 digits (a byte each): digit d of row i in counts[256 d + byte].
    const counts = SORT_COUNTS
    counts.fill(0)
    for (let i = 0, o = 0; i < n; i++, o += 6) {
      const lo = w[o]!
      const hi = w[o + 1]!
      kLo[i] = lo
      kHi[i] = hi
      counts[lo & 0xff]!++; counts[256 + ((lo >>> 8) & 0xff)]!++; counts[512 + ((lo >>> 16) & 0xff)]!++; counts[768 + (lo >>> 24)]!++
      counts[1024 + (hi & 0xff)]!++; counts[1280 + ((hi >>> 8) & 0xff)]!++; counts[1536 + ((hi >>> 16) & 0xff)]!++; counts[1792 + (hi >>> 24)]!++
    }
    let from = this.order
    let to = this.orderNext
    for (let i = 0; i < n; i++) from[i] = i
    for (let d = 0; d < 8; d++) {
      const base = 256 * d
      // A digit every row shares does not reorder anything: skipped.
      let sum = 0
      let trivial = false
      for (let b = 0; b < 256; b++) {
        const c = counts[base + b]!
        if (c === n) { trivial = true; break }
        counts[base + b] = sum
        sum += c
      }
      if (trivial) continue
      const keys = d < 4 ? kLo : kHi
      const shift = 8 * (d & 3)
      for (let i = 0; i < n; i++) {
        const r = from[i]!
        to[counts[base + ((keys[r]! >>> shift) & 0xff)]!++] = r
      }
      const t = from; from = to; to = t
    }
    // Runs of one fingerprint: timestamps in order, else that run is sorted by timestamp.
    for (let a = 0; a < n;) {
      const ra = from[a]!
      let b = a + 1
      let inOrder = true
      while (b < n && kLo[from[b]!] === kLo[ra] && kHi[from[b]!] === kHi[ra]) {
        if (timestampBefore(w, from[b]!, from[b - 1]!)) inOrder = false
        b++
      }
      if (!inOrder) from.subarray(a, b).sort((x, y) => timestampBefore(w, x, y) ? -1 : timestampBefore(w, y, x) ? 1 : x - y)
      a = b
    }
    // The rows in that order, into the other array; then the arrays swap.
    const out = this.sortedWords
    for (let i = 0, o = 0; i < n; i++, o += 6) {
      const s = 6 * from[i]!
      out[o] = w[s]!; out[o + 1] = w[s + 1]!; out[o + 2] = w[s + 2]!; out[o + 3] = w[s + 3]!; out[o + 4] = w[s + 4]!; out[o + 5] = w[s + 5]!
    }
    this.sortedWords = w
    this.words = out
    this.sorted = true
  }

  /** Appends another body's rows (a flush merged into another). */
  appendRows (other: SampleRows): void {
    this.reserve(other.rows)
    this.words.set(other.words.subarray(0, other.rows * (SAMPLE_BYTES / 4)), this.rows * (SAMPLE_BYTES / 4))
    this.rows += other.rows
    this.sorted = other.rows === 0 && this.sorted
  }

  /** The body (a view, valid until the next append or reset). */
  bytes (): Uint8Array { return new Uint8Array(this.words.buffer, 0, this.rows * SAMPLE_BYTES) }

  reset (): void { this.rows = 0; this.sorted = true }

  /** Room to sort n rows: the other words array as long as this one, the scratch arrays n long. */
  private reserveSort (n: number): void {
    if (this.sortedWords.length < this.words.length) this.sortedWords = new Uint32Array(this.words.length)
    if (this.order.length >= n) return
    const size = this.words.length / (SAMPLE_BYTES / 4)
    this.order = new Uint32Array(size)
    this.orderNext = new Uint32Array(size)
    this.keyLo = new Uint32Array(size)
    this.keyHi = new Uint32Array(size)
  }

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

/** The radix sort's counts: 256 per digit, 8 digits (module state: one sort runs at a time). */
const SORT_COUNTS = new Uint32Array(8 * 256)

/** Whether row a's timestamp (Int64 at words 2, 3 of the row) is before row b's. */
function timestampBefore (w: Uint32Array, a: number, b: number): boolean {
  const ha = w[6 * a + 3]! | 0
  const hb = w[6 * b + 3]! | 0
  return ha < hb || (ha === hb && w[6 * a + 2]! < w[6 * b + 2]!)
}

/** How label sets go into the series table: two arrays (18.16) or a Map (22.x and newer). */
export type LabelColumns = 'arrays' | 'map'

const NAME = new TextEncoder().encode('__name__')

/** A body of rows of varying length in a growing byte buffer. */
class ByteRows {
  protected b = new Uint8Array(4096)
  protected at = 0
  /** Rows written. */
  rows = 0

  /** The body (a view, valid until the next append or reset). */
  bytes (): Uint8Array { return this.b.subarray(0, this.at) }

  reset (): void { this.at = 0; this.rows = 0 }

  /** Appends another body's rows (a flush's rows merged into another, or carried into the next one). */
  appendRows (other: ByteRows): void {
    this.reserve(other.at)
    this.b.set(other.b.subarray(0, other.at), this.at)
    this.at += other.at
    this.rows += other.rows
  }

  /** A String: varint(length) then bytes [start, start + length) of `from`. */
  protected bytesAt (o: number, from: Uint8Array, start: number, length: number): number {
    o = writeVarint(this.b, o, length)
    this.b.set(from.subarray(start, start + length), o)
    return o + length
  }

  /** An Array of fixed-size elements: varint(count) then `count * size` bytes of `raw` from `start` as they are. */
  protected rawArray (o: number, raw: Uint8Array, start: number, count: number, size: number): number {
    o = writeVarint(this.b, o, count)
    const n = count * size
    const b = this.b
    for (let k = 0; k < n; k++) b[o + k] = raw[start + k]!
    return o + n
  }

  protected reserve (n: number): void {
    if (this.at + n <= this.b.length) return
    let size = this.b.length * 2
    while (size < this.at + n) size *= 2
    const grown = new Uint8Array(size)
    grown.set(this.b.subarray(0, this.at))
    this.b = grown
  }
}

/**
 * Where each label's name and value are in a canonical label encoding (src/series/labels.ts):
 * [nameStart, nameLength, valueStart, valueLength] per label in `spans`; `labelCount` and `metricAt`
 * (the index of `__name__`, -1 when none) after `findLabels`. Module state: nothing allocated per call.
 */
let spans = new Uint32Array(64)
let labelCount = 0
let metricAt = -1

function findLabels (labels: Uint8Array): void {
  labelCount = 0
  metricAt = -1
  for (let p = 0; p < labels.length;) {
    const inner = readVarint(labels, p + 1)
    p = skip(labels, p + 1)
    const end = p + inner
    const nameLength = readVarint(labels, p + 1)
    const nameStart = skip(labels, p + 1)
    let valueStart = nameStart + nameLength
    let valueLength = 0
    if (valueStart < end) { valueLength = readVarint(labels, valueStart + 1); valueStart = skip(labels, valueStart + 1) }
    if (4 * labelCount + 4 > spans.length) { const grown = new Uint32Array(spans.length * 2); grown.set(spans); spans = grown }
    const i = 4 * labelCount
    spans[i] = nameStart; spans[i + 1] = nameLength; spans[i + 2] = valueStart; spans[i + 3] = valueLength
    if (metricAt < 0 && equalsName(labels, nameStart, nameLength)) metricAt = labelCount
    labelCount++
    p = end
  }
}

/** Label rows: the label set found by `findLabels`, but for label `skipAt`, as two arrays or a Map. */
class LabelRows extends ByteRows {
  constructor (protected readonly labelColumns: LabelColumns) { super() }

  protected labelsAt (o: number, labels: Uint8Array, skipAt: number): number {
    const others = skipAt < 0 ? labelCount : labelCount - 1
    if (this.labelColumns === 'map') {
      o = writeVarint(this.b, o, others)
      for (let i = 0; i < labelCount; i++) {
        if (i === skipAt) continue
        o = this.bytesAt(o, labels, spans[4 * i]!, spans[4 * i + 1]!)
        o = this.bytesAt(o, labels, spans[4 * i + 2]!, spans[4 * i + 3]!)
      }
    } else {
      for (let part = 0; part < 2; part++) {
        o = writeVarint(this.b, o, others)
        for (let i = 0; i < labelCount; i++) if (i !== skipAt) o = this.bytesAt(o, labels, spans[4 * i + 2 * part]!, spans[4 * i + 2 * part + 1]!)
      }
    }
    return o
  }

  /** Room for the labels of `labels` written by labelsAt. */
  protected static labelsBound (labels: Uint8Array): number { return 2 * labels.length + 20 + 10 * labelCount }
}

/** The series body. */
export class SeriesRows extends LabelRows {
  /**
   * Appends one series row: fingerprint (lo, hi), the label set from its canonical bytes (see
   * src/series/labels.ts; `__name__` becomes metric_name, the others the label columns, in order),
   * the tenant's UTF-8 bytes and the day (days since 1970-01-01).
   */
  append (fpLo: number, fpHi: number, labels: Uint8Array, tenant: Uint8Array, day: number): void {
    findLabels(labels)
    this.reserve(8 + 10 + LabelRows.labelsBound(labels) + 10 + tenant.length + 2)
    const b = this.b
    let o = this.at
    o = u32(b, o, fpLo); o = u32(b, o, fpHi)
    if (metricAt >= 0) o = this.bytesAt(o, labels, spans[4 * metricAt + 2]!, spans[4 * metricAt + 3]!)
    else b[o++] = 0
    o = this.labelsAt(o, labels, metricAt)
    o = this.bytesAt(o, tenant, 0, tenant.length)
    b[o++] = day & 0xff
    b[o++] = (day >>> 8) & 0xff
    this.at = o
    this.rows++
  }
}

/** The exemplars body. */
export class ExemplarRows extends LabelRows {
  /** Appends exemplar i of the batch (raw: the batch's buffer as bytes) for the series fingerprint (lo, hi). */
  append (batch: RowBatch, raw: Uint8Array, i: number, fpLo: number, fpHi: number): void {
    const o0 = batch.exemplarLabelOffsets[i]!
    const labels = batch.exemplarLabelBytes.subarray(o0, batch.exemplarLabelOffsets[i + 1])
    findLabels(labels)
    this.reserve(24 + LabelRows.labelsBound(labels))
    const b = this.b
    let o = this.at
    o = u32(b, o, fpLo); o = u32(b, o, fpHi)
    o = i64(b, o, batch.exemplarTimestamps[i]!)
    o = copy8(b, o, raw, batch.exemplarValues.byteOffset + 8 * i)
    o = this.labelsAt(o, labels, -1)
    this.at = o
    this.rows++
  }
}

/** The native histograms body. */
export class HistogramRows extends ByteRows {
  /** Appends histogram i of the batch (raw: the batch's buffer as bytes) for the series fingerprint (lo, hi). */
  append (batch: RowBatch, raw: Uint8Array, i: number, fpLo: number, fpHi: number): void {
    const ss = batch.spanStarts
    const bs = batch.bucketStarts
    const cs = batch.customValueStarts
    const spanCount = ss[2 * i + 2]! - ss[2 * i]!
    const bucketCount = bs[2 * i + 2]! - bs[2 * i]!
    const customCount = cs[i + 1]! - cs[i]!
    this.reserve(8 * 7 + 4 + 2 + 7 * 5 + 8 * spanCount + 8 * bucketCount + 8 * customCount)
    const b = this.b
    let o = this.at
    o = u32(b, o, fpLo); o = u32(b, o, fpHi)
    o = i64(b, o, batch.histogramTimestamps[i]!)
    o = i64(b, o, batch.histogramStartTimestamps[i]!)
    b[o++] = batch.histogramKinds[i]!
    o = copy8(b, o, raw, batch.histogramCounts.byteOffset + 8 * i)
    o = copy8(b, o, raw, batch.histogramSums.byteOffset + 8 * i)
    o = u32(b, o, batch.histogramSchemas[i]! >>> 0)
    o = copy8(b, o, raw, batch.histogramZeroThresholds.byteOffset + 8 * i)
    o = copy8(b, o, raw, batch.histogramZeroCounts.byteOffset + 8 * i)
    b[o++] = batch.histogramResetHints[i]!
    for (let side = 0; side < 2; side++) {
      const s0 = ss[2 * i + side]!
      const sn = ss[2 * i + side + 1]! - s0
      o = this.rawArray(o, raw, batch.spanOffsets.byteOffset + 4 * s0, sn, 4)
      o = this.rawArray(o, raw, batch.spanLengths.byteOffset + 4 * s0, sn, 4)
      const b0 = bs[2 * i + side]!
      o = this.rawArray(o, raw, batch.buckets.byteOffset + 8 * b0, bs[2 * i + side + 1]! - b0, 8)
    }
    o = this.rawArray(o, raw, batch.customValues.byteOffset + 8 * cs[i]!, customCount, 8)
    this.at = o
    this.rows++
  }
}

/** The metadata body. */
export class MetadataRows extends ByteRows {
  /** Appends metadata entry i of the batch, for the tenant (UTF-8), last seen at `seenSeconds`. */
  append (batch: RowBatch, i: number, tenant: Uint8Array, seenSeconds: number): void {
    const mo = batch.metadataOffsets
    const bytes = batch.metadataBytes
    this.reserve(tenant.length + (mo[3 * i + 3]! - mo[3 * i]!) + 4 * 5 + 1 + 4)
    let o = this.bytesAt(this.at, tenant, 0, tenant.length)
    for (let part = 0; part < 3; part++) {
      const start = mo[3 * i + part]!
      o = this.bytesAt(o, bytes, start, mo[3 * i + part + 1]! - start)
      // type goes after the family name
      if (part === 0) this.b[o++] = batch.metadataTypes[i]!
    }
    o = u32(this.b, o, seenSeconds)
    this.at = o
    this.rows++
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

/** Int64 from an integral double: high word by floor division (right for negative times too). */
function i64 (b: Uint8Array, o: number, v: number): number {
  const hi = Math.floor(v / TWO_32)
  o = u32(b, o, (v - hi * TWO_32) >>> 0)
  return u32(b, o, hi >>> 0)
}

/** The 8 bytes at `at` of `raw`, as they are (a Float64's bits). */
function copy8 (b: Uint8Array, o: number, raw: Uint8Array, at: number): number {
  for (let k = 0; k < 8; k++) b[o + k] = raw[at + k]!
  return o + 8
}
