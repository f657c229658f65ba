/**
 * The protobuf walk shared by both protocol versions: a cursor over the decompressed body, the
 * series resolution (labels -> series id through the shared index) and the readers of the messages
 * whose rows go into the batch (Sample, Histogram, exemplar labels). rw1.ts and rw2.ts walk the
 * request-level messages with it.
 *
 * Nothing here makes a JavaScript object or string per label or per sample: the body is read as
 * bytes (`u8`, and `d` for multi-byte loads), rows are written into the builder's typed arrays.
 * Borrowed data: `u8`/`d` view the body (a slot or the snappy buffer) for the length of one walk.
 */
import { IngestError, type ErrorCode, type WireError } from '../errors.js'
import { appendBytes, type BatchBuilder } from '../batch/batch-builder.js'
import { HISTOGRAM_FLOAT, HISTOGRAM_INT } from '../batch/layout.js'
import { hashLabels } from '../series/label-hash.js'
import type { SeriesIndex, TenantKey } from '../series/series-index.js'
import { formatSeries } from '../series/labels.js'
import { LabelScratch, type LabelRules } from './label-scratch.js'

const TWO_32 = 4294967296

/** Field numbers a message's schema defines, as bit masks (bit n = field n): see `unknown`. */
export function fields (...numbers: number[]): number { return numbers.reduce((m, n) => m | (1 << n), 0) }
const SAMPLE_FIELDS_V1 = fields(1, 2)
const SAMPLE_FIELDS_V2 = fields(1, 2, 3)
const HISTOGRAM_FIELDS_V1 = fields(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16)
const HISTOGRAM_FIELDS_V2 = HISTOGRAM_FIELDS_V1 | fields(17)
const SPAN_FIELDS = fields(1, 2)

export interface WalkerOptions extends LabelRules {
  partial: boolean
}

export class Walker {
  u8: Uint8Array = new Uint8Array(0)
  d: DataView = new DataView(new ArrayBuffer(0))
  pos = 0
  /** Low and high 32 bits of the last 64-bit varint read by `varint64`. */
  lo = 0
  hi = 0
  /** Ordinal (1-based) of the TimeSeries being walked, for error messages. */
  seriesOrdinal = 0
  firstError: WireError | undefined = undefined
  tk!: TenantKey
  opts!: WalkerOptions
  readonly labels = new LabelScratch()
  readonly exemplarLabels = new LabelScratch()

  // One histogram's spans and buckets before they are checked and appended (negative, then positive).
  private negSpanOffsets = new Int32Array(64)
  private negSpanLengths = new Uint32Array(64)
  private negSpanCount = 0
  private posSpanOffsets = new Int32Array(64)
  private posSpanLengths = new Uint32Array(64)
  private posSpanCount = 0
  private negBuckets = new Float64Array(256)
  private negBucketCount = 0
  private posBuckets = new Float64Array(256)
  private posBucketCount = 0
  private customValues = new Float64Array(64)
  private customValueCount = 0

  constructor (readonly builder: BatchBuilder, readonly index: SeriesIndex) {}

  /** Points the walker at a body; `u8` and `d` view the same bytes. */
  begin (u8: Uint8Array, d: DataView, tk: TenantKey, opts: WalkerOptions): void {
    this.u8 = u8
    this.d = d
    this.pos = 0
    this.seriesOrdinal = 0
    this.firstError = undefined
    this.tk = tk
    this.opts = opts
  }

  // ---- wire format ----

  malformed (what: string, at: number): never {
    throw new IngestError('protobuf_malformed', `malformed protobuf: ${what} at byte ${at} of ${this.u8.length}`, { at })
  }

  /** A varint of up to 32 significant bits (tags, lengths, enums, uint32 fields). */
  varint (limit: number): number {
    const b = this.u8
    let p = this.pos
    // Unrolled: tags and lengths are one or two bytes nearly always.
    let c = b[p++]!
    let v = c & 0x7f
    if (c > 0x7f) {
      c = b[p++]!; v |= (c & 0x7f) << 7
      if (c > 0x7f) {
        c = b[p++]!; v |= (c & 0x7f) << 14
        if (c > 0x7f) {
          c = b[p++]!; v |= (c & 0x7f) << 21
          if (c > 0x7f) {
            c = b[p++]!; v += (c & 0x0f) * 0x10000000
            // Bytes 6 to 10 of a 64-bit varint (negative int32 values are sign-extended): bits above 32 are dropped.
            for (let i = 0; c > 0x7f; i++) {
              if (i === 5) this.malformed('varint longer than 10 bytes', this.pos)
              c = b[p++]!
            }
          }
        }
      }
    }
    if (p > limit) this.malformed('truncated varint', this.pos)
    this.pos = p
    return v
  }

  /** A 64-bit varint into `lo`/`hi`. */
  varint64 (limit: number): void {
    const b = this.u8
    let p = this.pos
    let c = b[p++]!
    let lo = c & 0x7f
    let hi = 0
    if (c > 0x7f) {
      c = b[p++]!; lo |= (c & 0x7f) << 7
      if (c > 0x7f) {
        c = b[p++]!; lo |= (c & 0x7f) << 14
        if (c > 0x7f) {
          c = b[p++]!; lo |= (c & 0x7f) << 21
          if (c > 0x7f) {
            c = b[p++]!; lo |= (c & 0x7f) << 28; hi = (c & 0x7f) >>> 4
            if (c > 0x7f) {
              c = b[p++]!; hi |= (c & 0x7f) << 3
              if (c > 0x7f) {
                c = b[p++]!; hi |= (c & 0x7f) << 10
                if (c > 0x7f) {
                  c = b[p++]!; hi |= (c & 0x7f) << 17
                  if (c > 0x7f) {
                    c = b[p++]!; hi |= (c & 0x7f) << 24
                    if (c > 0x7f) {
                      c = b[p++]!; hi |= (c & 0x01) << 31
                      if (c > 0x7f) this.malformed('varint longer than 10 bytes', this.pos)
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
    if (p > limit) this.malformed('truncated varint', this.pos)
    this.pos = p
    this.lo = lo
    this.hi = hi
  }

  /** An int64 field as a number (exact below 2^53; timestamps in ms are). */
  int64 (limit: number): number {
    this.varint64(limit)
    return (this.hi | 0) * TWO_32 + (this.lo >>> 0)
  }

  uint64 (limit: number): number {
    this.varint64(limit)
    return (this.hi >>> 0) * TWO_32 + (this.lo >>> 0)
  }

  /** A zigzag-encoded sint64 as a number. */
  sint64 (limit: number): number {
    this.varint64(limit)
    const lo = this.lo >>> 0
    const hi = this.hi >>> 0
    const n = (hi >>> 1) * TWO_32 + (((lo >>> 1) | ((hi & 1) << 31)) >>> 0)
    return (lo & 1) === 1 ? -n - 1 : n
  }

  /** A double (fixed64) read as a number, after checking that its 8 bytes are inside the message. */
  double (limit: number): number {
    if (this.pos + 8 > limit) this.malformed('truncated double', this.pos)
    const v = this.d.getFloat64(this.pos, true)
    this.pos += 8
    return v
  }

  /** Reads a length prefix and checks that the bytes it announces are there; returns their end. */
  lengthDelimited (limit: number, what: string): number {
    const at = this.pos
    const n = this.varint(limit)
    const end = this.pos + n
    if (end > limit) this.malformed(`${what} of ${n} bytes overruns its message`, at)
    return end
  }

  /** Skips a field this walker does not read; counts it as ignored when `count`. */
  skip (tag: number, limit: number, count: boolean): void {
    const at = this.pos
    if (tag >>> 3 === 0) this.malformed('field number 0', at)
    switch (tag & 7) {
      case 0: this.varint64(limit); break
      case 1: this.pos += 8; break
      case 2: this.pos = this.lengthDelimited(limit, `field ${tag >>> 3}`); break
      case 5: this.pos += 4; break
      case 3: this.skipGroup(tag >>> 3, limit, 0); break
      default: this.malformed(`wire type ${tag & 7} of field ${tag >>> 3}`, at)
    }
    if (this.pos > limit) this.malformed(`truncated field ${tag >>> 3}`, at)
    if (count) this.builder.ignoredFieldCount++
  }

  /**
   * A field the reader did not take: an unknown field number is skipped and counted as ignored; a
   * field number the schema defines (`known`, a `fields(...)` mask) arriving with another wire type
   * is malformed, as protobuf decoders reject it (its value would otherwise be lost).
   */
  unknown (tag: number, limit: number, known: number): void {
    const field = tag >>> 3
    if (field < 31 && (known & (1 << field)) !== 0) this.malformed(`field ${field} arrived with wire type ${tag & 7}, which its schema does not allow`, this.pos)
    this.skip(tag, limit, true)
  }

  private skipGroup (field: number, limit: number, depth: number): void {
    if (depth > 32) this.malformed('groups nested too deep', this.pos)
    while (this.pos < limit) {
      const tag = this.varint(limit)
      if ((tag & 7) === 4) {
        if (tag >>> 3 !== field) this.malformed(`end of group ${tag >>> 3} inside group ${field}`, this.pos)
        return
      }
      if ((tag & 7) === 3) this.skipGroup(tag >>> 3, limit, depth + 1)
      else this.skip(tag, limit, false)
    }
    this.malformed(`unterminated group ${field}`, this.pos)
  }

  // ---- series ----

  /**
   * The id of the series whose canonical labels are in `labels` (the scratch): found in the index,
   * or validated and stored as a new series (its bytes go into the batch). Returns 0 when the label
   * set is invalid (the error is recorded, or thrown when not partial).
   */
  resolveScratch (): number {
    const s = this.labels
    hashLabels(s.view, 0, s.length, this.tk.seed)
    let id = this.index.find(s.view, 0, s.length, this.tk)
    if (id !== 0) return id
    const problem = s.validate(this.opts) // may sort the labels: hash again below
    if (problem !== undefined) {
      this.invalid(problem.code, `${s.describe()}: ${problem.reason}`)
      return 0
    }
    const keyBytes = this.tk.prefix.length + s.length
    if (keyBytes > this.opts.maxSeriesKeyBytes) {
      this.invalid('series_key_too_large', `${s.describe()}: the series key (labels${this.tk.prefix.length > 0 ? ' and tenant' : ''}) is ${keyBytes} bytes, more than the limit of ${this.opts.maxSeriesKeyBytes} (max-series-key-bytes)`)
      return 0
    }
    hashLabels(s.view, 0, s.length, this.tk.seed)
    id = this.index.findOrInsert(s.view, 0, s.length, this.tk)
    if (id === 0) {
      this.builder.limitedSeriesCount++
      this.invalid('series_limit', `${s.describe()}: new series refused: ${this.index.refusal}`)
      return 0
    }
    if (this.index.created) this.builder.addNewSeries(id, s.view, 0, s.length)
    return id
  }

  /** The current series in Prometheus text form, for error messages only. */
  seriesText (id: number): string {
    if (this.labels.count > 0) return this.labels.describe()
    const labels = this.index.labelsOf(id)
    return labels === undefined ? '' : formatSeries(labels)
  }

  /** Rejects the current series (or a metadata entry): throws, or records it when partial. */
  invalid (code: ErrorCode, what: string): void {
    const message = what.startsWith('metadata') ? what : `series ${this.seriesOrdinal} ${what}`
    if (!this.opts.partial) throw new IngestError(code, message, { series: this.seriesOrdinal })
    this.builder.invalidSeriesCount++
    if (this.firstError === undefined) this.firstError = { code, message, detail: { series: this.seriesOrdinal } }
  }

  // ---- rows ----

  /** Appends one Sample {1: double value, 2: int64 timestamp, 3: int64 start_timestamp (2.0 rc.4)}. Room was ensured. */
  sample (start: number, end: number, id: number, startTimestamp: number, v2: boolean): void {
    let valueAt = -1
    let ts = 0
    let st = startTimestamp
    const u8 = this.u8
    if (u8[start] === 0x09 && u8[start + 9] === 0x10 && start + 10 < end) {
      // The shape every encoder writes (value, then timestamp): no tag loop for those two.
      valueAt = start + 1
      this.pos = start + 10
      ts = this.int64(end)
    } else {
      this.pos = start
    }
    while (this.pos < end) {
      const tag = this.varint(end)
      if (tag === 0x09) { valueAt = this.pos; this.pos += 8 } else if (tag === 0x10) ts = this.int64(end)
      else if (tag === 0x18 && v2) { const v = this.int64(end); if (v !== 0) st = v } // 0 means unset (proto3): keep the rc.3 created_timestamp
      else this.unknown(tag, end, v2 ? SAMPLE_FIELDS_V2 : SAMPLE_FIELDS_V1)
    }
    if (this.pos > end) this.malformed('truncated sample', start)
    const b = this.builder
    const n = b.sampleCount
    b.seriesIds[n] = id
    b.timestamps[n] = ts
    b.startTimestamps[n] = st
    // The value's 8 bytes are copied as two integers: stale markers (signalling NaN) keep their exact bits.
    if (valueAt >= 0) {
      b.valueWords[2 * n] = this.d.getInt32(valueAt, true)
      b.valueWords[2 * n + 1] = this.d.getInt32(valueAt + 4, true)
    } else {
      b.valueWords[2 * n] = 0
      b.valueWords[2 * n + 1] = 0
    }
    b.sampleCount = n + 1
  }

  /** Appends the exemplar whose labels are in `exemplarLabels`; `valueAt` < 0 means value 0. */
  exemplar (id: number, valueAt: number, ts: number): boolean {
    const s = this.exemplarLabels
    const problem = s.validateExemplar(this.opts)
    if (problem !== undefined) {
      this.invalid('exemplar_invalid', `${this.seriesText(id)}: exemplar ${problem}`)
      return false
    }
    const b = this.builder
    b.exemplarSeriesIds.push(id)
    b.exemplarTimestamps.push(ts)
    if (valueAt >= 0) b.exemplarValues.pushBits(this.d, valueAt)
    else b.exemplarValues.push(0)
    appendBytes(b.exemplarLabelBytes, s.view, 0, s.length)
    b.exemplarLabelOffsets.push(b.exemplarLabelBytes.n)
    return true
  }

  /**
   * Reads one native Histogram (same fields in both versions; 17 = start_timestamp in 2.0 rc.4),
   * checks it and appends it. Returns false when it is invalid (error recorded).
   */
  histogram (start: number, end: number, id: number, startTimestamp: number, v2: boolean): boolean {
    let kind = HISTOGRAM_INT
    let count = 0
    let sumAt = -1
    let schema = 0
    let zeroThreshold = 0
    let zeroCount = 0
    let resetHint = 0
    let ts = 0
    let st = startTimestamp
    this.negSpanCount = this.posSpanCount = this.negBucketCount = this.posBucketCount = this.customValueCount = 0
    let sawDeltas = false
    let sawCounts = false
    const d = this.d
    this.pos = start
    while (this.pos < end) {
      const tag = this.varint(end)
      switch (tag) {
        case 0x08: kind = HISTOGRAM_INT; count = this.uint64(end); break
        case 0x11: kind = HISTOGRAM_FLOAT; count = this.double(end); break
        case 0x19: sumAt = this.pos; this.pos += 8; break
        case 0x20: { const z = this.varint(end) >>> 0; schema = (z >>> 1) ^ -(z & 1); break }
        case 0x29: zeroThreshold = this.double(end); break
        case 0x30: zeroCount = this.uint64(end); break
        case 0x39: zeroCount = this.double(end); break
        case 0x42: this.span(end, false); break
        case 0x5a: this.span(end, true); break
        case 0x48: sawDeltas = true; this.pushBucket(false, this.sint64(end)); break
        case 0x60: sawDeltas = true; this.pushBucket(true, this.sint64(end)); break
        case 0x4a: case 0x62: {
          sawDeltas = true
          const e = this.lengthDelimited(end, 'packed bucket deltas')
          while (this.pos < e) this.pushBucket(tag === 0x62, this.sint64(e))
          break
        }
        case 0x51: case 0x69:
          sawCounts = true
          if (this.pos + 8 > end) this.malformed('truncated bucket count', this.pos)
          this.pushBucket(tag === 0x69, d.getFloat64(this.pos, true)); this.pos += 8
          break
        case 0x52: case 0x6a: {
          sawCounts = true
          const e = this.lengthDelimited(end, 'packed bucket counts')
          if ((e - this.pos) % 8 !== 0) this.malformed('packed bucket counts not a multiple of 8 bytes', this.pos)
          for (; this.pos < e; this.pos += 8) this.pushBucket(tag === 0x6a, d.getFloat64(this.pos, true))
          break
        }
        case 0x70: resetHint = this.varint(end); break
        case 0x78: ts = this.int64(end); break
        case 129: // custom_values (field 16), unpacked
          if (this.pos + 8 > end) this.malformed('truncated custom value', this.pos)
          this.pushCustom(d.getFloat64(this.pos, true)); this.pos += 8
          break
        case 130: { // custom_values (field 16), packed
          const e = this.lengthDelimited(end, 'packed custom values')
          if ((e - this.pos) % 8 !== 0) this.malformed('packed custom values not a multiple of 8 bytes', this.pos)
          for (; this.pos < e; this.pos += 8) this.pushCustom(d.getFloat64(this.pos, true))
          break
        }
        default:
          if (tag === 136 && v2) { const v = this.int64(end); if (v !== 0) st = v } // start_timestamp (field 17), 2.0 rc.4; 0 means unset
          else this.unknown(tag, end, v2 ? HISTOGRAM_FIELDS_V2 : HISTOGRAM_FIELDS_V1)
      }
    }
    if (this.pos > end) this.malformed('truncated histogram', start)

    const problem = this.checkHistogram(kind, count, sumAt < 0 ? 0 : d.getFloat64(sumAt, true), schema, zeroCount, sawDeltas, sawCounts)
    if (problem !== undefined) {
      this.invalid(problem[0], `${this.seriesText(id)}: histogram at ${ts}: ${problem[1]}`)
      return false
    }
    const b = this.builder
    b.histogramSeriesIds.push(id)
    b.histogramTimestamps.push(ts)
    b.histogramStartTimestamps.push(st)
    b.histogramCounts.push(count)
    if (sumAt >= 0) b.histogramSums.pushBits(d, sumAt)
    else b.histogramSums.push(0)
    b.histogramZeroThresholds.push(zeroThreshold)
    b.histogramZeroCounts.push(zeroCount)
    b.histogramSchemas.push(schema)
    b.histogramKinds.push(kind)
    b.histogramResetHints.push(resetHint <= 3 ? resetHint : 0)
    for (let i = 0; i < this.negSpanCount; i++) { b.spanOffsets.push(this.negSpanOffsets[i]!); b.spanLengths.push(this.negSpanLengths[i]!) }
    b.spanStarts.push(b.spanOffsets.n)
    for (let i = 0; i < this.posSpanCount; i++) { b.spanOffsets.push(this.posSpanOffsets[i]!); b.spanLengths.push(this.posSpanLengths[i]!) }
    b.spanStarts.push(b.spanOffsets.n)
    for (let i = 0; i < this.negBucketCount; i++) b.buckets.push(this.negBuckets[i]!)
    b.bucketStarts.push(b.buckets.n)
    for (let i = 0; i < this.posBucketCount; i++) b.buckets.push(this.posBuckets[i]!)
    b.bucketStarts.push(b.buckets.n)
    for (let i = 0; i < this.customValueCount; i++) b.customValues.push(this.customValues[i]!)
    b.customValueStarts.push(b.customValues.n)
    return true
  }

  /** BucketSpan {1: sint32 offset, 2: uint32 length}. */
  private span (limit: number, positive: boolean): void {
    const end = this.lengthDelimited(limit, 'bucket span')
    let offset = 0
    let length = 0
    while (this.pos < end) {
      const tag = this.varint(end)
      if (tag === 0x08) { const z = this.varint(end) >>> 0; offset = (z >>> 1) ^ -(z & 1) } else if (tag === 0x10) length = this.varint(end) >>> 0
      else this.unknown(tag, end, SPAN_FIELDS)
    }
    if (positive) {
      if (this.posSpanCount === this.posSpanOffsets.length) { this.posSpanOffsets = grow(this.posSpanOffsets); this.posSpanLengths = grow(this.posSpanLengths) }
      this.posSpanOffsets[this.posSpanCount] = offset
      this.posSpanLengths[this.posSpanCount++] = length
    } else {
      if (this.negSpanCount === this.negSpanOffsets.length) { this.negSpanOffsets = grow(this.negSpanOffsets); this.negSpanLengths = grow(this.negSpanLengths) }
      this.negSpanOffsets[this.negSpanCount] = offset
      this.negSpanLengths[this.negSpanCount++] = length
    }
  }

  private pushBucket (positive: boolean, v: number): void {
    if (positive) {
      if (this.posBucketCount === this.posBuckets.length) this.posBuckets = grow(this.posBuckets)
      this.posBuckets[this.posBucketCount++] = v
    } else {
      if (this.negBucketCount === this.negBuckets.length) this.negBuckets = grow(this.negBuckets)
      this.negBuckets[this.negBucketCount++] = v
    }
  }

  private pushCustom (v: number): void {
    if (this.customValueCount === this.customValues.length) this.customValues = grow(this.customValues)
    this.customValues[this.customValueCount++] = v
  }

  /** The checks of Prometheus' histogram validation: schema, spans against buckets, counts. */
  private checkHistogram (kind: number, count: number, sum: number, schema: number, zeroCount: number, sawDeltas: boolean, sawCounts: boolean): [ErrorCode, string] | undefined {
    const custom = schema === -53
    if (!custom && (schema < -9 || schema > 52)) return ['histogram_invalid', `schema ${schema} is not -53 nor in -9..52`]
    if (kind === HISTOGRAM_INT && sawCounts) return ['histogram_invalid', 'an integer histogram (count_int) carries float bucket counts']
    if (kind === HISTOGRAM_FLOAT && sawDeltas) return ['histogram_invalid', 'a float histogram (count_float) carries integer bucket deltas']
    if (custom) {
      if (this.negSpanCount > 0 || this.negBucketCount > 0) return ['histogram_invalid', 'a custom-bucket histogram (schema -53) has negative buckets']
      for (let i = 1; i < this.customValueCount; i++) {
        if (!(this.customValues[i]! > this.customValues[i - 1]!)) return ['histogram_invalid', `custom values are not strictly increasing at index ${i}`]
      }
    } else if (this.customValueCount > 0) {
      return ['histogram_invalid', `custom values on an exponential histogram (schema ${schema})`]
    }
    const spanProblem = checkSpans(this.negSpanOffsets, this.negSpanLengths, this.negSpanCount, this.negBucketCount, 'negative') ??
      checkSpans(this.posSpanOffsets, this.posSpanLengths, this.posSpanCount, this.posBucketCount, 'positive')
    if (spanProblem !== undefined) return ['histogram_invalid', spanProblem]
    if (custom) {
      // Positive spans index custom_values (or +Inf one past the last).
      let next = 0
      for (let i = 0; i < this.posSpanCount; i++) next += this.posSpanOffsets[i]! + this.posSpanLengths[i]!
      if (this.posSpanCount > 0 && this.posSpanOffsets[0]! < 0) return ['histogram_invalid', `a custom-bucket histogram's first span has a negative offset ${this.posSpanOffsets[0]}`]
      if (this.posBucketCount > 0 && next - 1 > this.customValueCount) return ['histogram_invalid', `a custom-bucket span reaches bucket ${next - 1}, but there are only ${this.customValueCount} custom values`]
    }
    let total = zeroCount
    if (kind === HISTOGRAM_INT) {
      let running = 0
      for (let i = 0; i < this.negBucketCount; i++) {
        running += this.negBuckets[i]!
        if (running < 0) return ['histogram_invalid', `negative bucket ${i} has a negative count (${running})`]
        total += running
      }
      running = 0
      for (let i = 0; i < this.posBucketCount; i++) {
        running += this.posBuckets[i]!
        if (running < 0) return ['histogram_invalid', `positive bucket ${i} has a negative count (${running})`]
        total += running
      }
      if (Number.isNaN(sum) ? total > count : total !== count) return ['histogram_count_mismatch', `count ${count} disagrees with the buckets and zero bucket, which add up to ${total}`]
    } else {
      for (let i = 0; i < this.negBucketCount; i++) { const c = this.negBuckets[i]!; if (!(c >= 0)) return ['histogram_invalid', `negative bucket ${i} has count ${c}`]; total += c }
      for (let i = 0; i < this.posBucketCount; i++) { const c = this.posBuckets[i]!; if (!(c >= 0)) return ['histogram_invalid', `positive bucket ${i} has count ${c}`]; total += c }
      // Float counts are sums of floats: allow rounding, never a count smaller than its buckets.
      if (total > count * (1 + 1e-9) + 1e-9) return ['histogram_count_mismatch', `count ${count} is smaller than the buckets and zero bucket, which add up to ${total}`]
    }
    return undefined
  }
}

function checkSpans (offsets: Int32Array, lengths: Uint32Array, spans: number, buckets: number, side: string): string | undefined {
  let total = 0
  for (let i = 0; i < spans; i++) {
    if (i > 0 && offsets[i]! < 0) return `${side} span ${i} has a negative offset ${offsets[i]}`
    total += lengths[i]!
  }
  if (total !== buckets) return `${side} spans cover ${total} buckets, but ${buckets} ${side} buckets were sent`
  return undefined
}

function grow<A extends Int32Array | Uint32Array | Float64Array> (a: A): A {
  const next = new (a.constructor as new (n: number) => A)(a.length * 2)
  next.set(a as never)
  return next
}
