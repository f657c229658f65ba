/**
 * Native histograms: reads one Histogram message (the same in both protocol versions, 2.0 rc.4 adds
 * start_timestamp), checks it as Prometheus validates histograms, and appends it to the batch.
 *
 *   message Histogram {
 *     oneof count { uint64 count_int = 1; double count_float = 2; }
 *     double sum = 3;
 *     sint32 schema = 4;                       // -4..8 exponential (-9..52 accepted), -53 custom buckets
 *     double zero_threshold = 5;
 *     oneof zero_count { uint64 zero_count_int = 6; double zero_count_float = 7; }
 *     repeated BucketSpan negative_spans = 8;
 *     repeated sint64 negative_deltas = 9;     // integer histograms: count deltas
 *     repeated double negative_counts = 10;    // float histograms: absolute counts
 *     repeated BucketSpan positive_spans = 11;
 *     repeated sint64 positive_deltas = 12;
 *     repeated double positive_counts = 13;
 *     ResetHint reset_hint = 14;               // 0 unknown, 1 yes, 2 no, 3 gauge
 *     int64 timestamp = 15;
 *     repeated double custom_values = 16;      // upper bounds of custom buckets (schema -53)
 *     int64 start_timestamp = 17;              // Remote Write 2.0 rc.4
 *   }
 *   message BucketSpan { sint32 offset = 1; uint32 length = 2; }
 *
 * Repeated numbers may come packed or not; both are read. Spans and buckets are kept in this reader's
 * arrays until the histogram is found valid, so an invalid one leaves nothing in the batch.
 */
import type { BatchBuilder } from '../batch/batch-builder.js'
import { HISTOGRAM_FLOAT, HISTOGRAM_INT } from '../batch/layout.js'
import type { ErrorCode } from '../errors.js'
import { fields, type WireReader } from './wire-reader.js'

// Tags (field number << 3 | wire type) of the Histogram fields. Wire types: 0 varint, 1 fixed64, 2 length-delimited.
const COUNT_INT = 0x08 //              1, varint
const COUNT_FLOAT = 0x11 //            2, fixed64
const SUM = 0x19 //                    3, fixed64
const SCHEMA = 0x20 //                 4, varint (zigzag)
const ZERO_THRESHOLD = 0x29 //         5, fixed64
const ZERO_COUNT_INT = 0x30 //         6, varint
const ZERO_COUNT_FLOAT = 0x39 //       7, fixed64
const NEGATIVE_SPANS = 0x42 //         8, length-delimited
const NEGATIVE_DELTA = 0x48 //         9, varint (zigzag), one unpacked
const NEGATIVE_DELTAS = 0x4a //        9, packed
const NEGATIVE_COUNT = 0x51 //        10, fixed64, one unpacked
const NEGATIVE_COUNTS = 0x52 //       10, packed
const POSITIVE_SPANS = 0x5a //        11, length-delimited
const POSITIVE_DELTA = 0x60 //        12, varint (zigzag), one unpacked
const POSITIVE_DELTAS = 0x62 //       12, packed
const POSITIVE_COUNT = 0x69 //        13, fixed64, one unpacked
const POSITIVE_COUNTS = 0x6a //       13, packed
const RESET_HINT = 0x70 //            14, varint
const TIMESTAMP = 0x78 //             15, varint
const CUSTOM_VALUE = 0x81 //          16, fixed64, one unpacked
const CUSTOM_VALUES = 0x82 //         16, packed
const START_TIMESTAMP = 0x88 //       17, varint (2.0 only)
// BucketSpan.
const SPAN_OFFSET = 0x08 //            1, varint (zigzag)
const SPAN_LENGTH = 0x10 //            2, varint

const HISTOGRAM_FIELDS_V1 = fields(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16)
const HISTOGRAM_FIELDS_V2 = HISTOGRAM_FIELDS_V1 | fields(17)
const SPAN_FIELDS = fields(1, 2)

/** What is wrong with a histogram: its code and the reason. */
export type HistogramProblem = [code: ErrorCode, reason: string]

export class HistogramReader {
  // The histogram last read.
  kind = HISTOGRAM_INT
  count = 0
  /** Where the sum's 8 bytes are in the body (-1: none sent, 0); copied as bits (stale NaN). */
  sumAt = -1
  schema = 0
  zeroThreshold = 0
  zeroCount = 0
  resetHint = 0
  timestamp = 0
  startTimestamp = 0
  private sawDeltas = false
  private sawCounts = false

  // Its spans and buckets before they are checked and appended (negative, then positive).
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

  /**
   * Reads the Histogram in bytes [start, end) of the reader's body and checks it. `startTimestamp` is
   * the series' (2.0 rc.3 created_timestamp) unless the histogram sends its own. Returns the problem
   * of an invalid histogram; throws `protobuf_malformed` for a broken one.
   */
  read (w: WireReader, start: number, end: number, startTimestamp: number, v2: boolean): HistogramProblem | undefined {
    this.kind = HISTOGRAM_INT
    this.count = 0
    this.sumAt = -1
    this.schema = this.zeroThreshold = this.zeroCount = this.resetHint = this.timestamp = 0
    this.startTimestamp = startTimestamp
    this.sawDeltas = this.sawCounts = false
    this.negSpanCount = this.posSpanCount = this.negBucketCount = this.posBucketCount = this.customValueCount = 0
    const d = w.d
    w.pos = start
    while (w.pos < end) {
      const tag = w.varint(end)
      switch (tag) {
        case COUNT_INT: this.kind = HISTOGRAM_INT; this.count = w.uint64(end); break
        case COUNT_FLOAT: this.kind = HISTOGRAM_FLOAT; this.count = w.double(end); break
        case SUM: this.sumAt = w.pos; w.pos += 8; break
        case SCHEMA: this.schema = w.sint32(end); break
        case ZERO_THRESHOLD: this.zeroThreshold = w.double(end); break
        case ZERO_COUNT_INT: this.zeroCount = w.uint64(end); break
        case ZERO_COUNT_FLOAT: this.zeroCount = w.double(end); break
        case NEGATIVE_SPANS: this.span(w, end, false); break
        case POSITIVE_SPANS: this.span(w, end, true); break
        case NEGATIVE_DELTA: case POSITIVE_DELTA:
          this.sawDeltas = true
          this.pushBucket(tag === POSITIVE_DELTA, w.sint64(end))
          break
        case NEGATIVE_DELTAS: case POSITIVE_DELTAS: {
          this.sawDeltas = true
          const e = w.lengthDelimited(end, 'packed bucket deltas')
          while (w.pos < e) this.pushBucket(tag === POSITIVE_DELTAS, w.sint64(e))
          break
        }
        case NEGATIVE_COUNT: case POSITIVE_COUNT:
          this.sawCounts = true
          this.pushBucket(tag === POSITIVE_COUNT, w.double(end))
          break
        case NEGATIVE_COUNTS: case POSITIVE_COUNTS: {
          this.sawCounts = true
          const e = w.lengthDelimited(end, 'packed bucket counts')
          if ((e - w.pos) % 8 !== 0) w.malformed('packed bucket counts not a multiple of 8 bytes', w.pos)
          for (; w.pos < e; w.pos += 8) this.pushBucket(tag === POSITIVE_COUNTS, d.getFloat64(w.pos, true))
          break
        }
        case RESET_HINT: this.resetHint = w.varint(end); break
        case TIMESTAMP: this.timestamp = w.int64(end); break
        case CUSTOM_VALUE: this.pushCustom(w.double(end)); break
        case CUSTOM_VALUES: {
          const e = w.lengthDelimited(end, 'packed custom values')
          if ((e - w.pos) % 8 !== 0) w.malformed('packed custom values not a multiple of 8 bytes', w.pos)
          for (; w.pos < e; w.pos += 8) this.pushCustom(d.getFloat64(w.pos, true))
          break
        }
        default:
          if (tag === START_TIMESTAMP && v2) { const v = w.int64(end); if (v !== 0) this.startTimestamp = v } // 0 means unset
          else w.unknown(tag, end, v2 ? HISTOGRAM_FIELDS_V2 : HISTOGRAM_FIELDS_V1)
      }
    }
    if (w.pos > end) w.malformed('truncated histogram', start)
    return this.check(this.sumAt < 0 ? 0 : d.getFloat64(this.sumAt, true))
  }

  /** Appends the histogram last read (found valid) for series `id`; `d` is the body it was read from. */
  append (b: BatchBuilder, id: number, d: DataView): void {
    b.histogramSeriesIds.push(id)
    b.histogramTimestamps.push(this.timestamp)
    b.histogramStartTimestamps.push(this.startTimestamp)
    b.histogramCounts.push(this.count)
    if (this.sumAt >= 0) b.histogramSums.pushBits(d, this.sumAt)
    else b.histogramSums.push(0)
    b.histogramZeroThresholds.push(this.zeroThreshold)
    b.histogramZeroCounts.push(this.zeroCount)
    b.histogramSchemas.push(this.schema)
    b.histogramKinds.push(this.kind)
    b.histogramResetHints.push(this.resetHint <= 3 ? this.resetHint : 0)
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
  }

  /** BucketSpan {1: sint32 offset, 2: uint32 length}. */
  private span (w: WireReader, limit: number, positive: boolean): void {
    const end = w.lengthDelimited(limit, 'bucket span')
    let offset = 0
    let length = 0
    while (w.pos < end) {
      const tag = w.varint(end)
      if (tag === SPAN_OFFSET) offset = w.sint32(end)
      else if (tag === SPAN_LENGTH) length = w.varint(end) >>> 0
      else w.unknown(tag, end, SPAN_FIELDS)
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
  private check (sum: number): HistogramProblem | undefined {
    const { kind, count, schema, zeroCount } = this
    const custom = schema === -53
    if (!custom && (schema < -9 || schema > 52)) return ['histogram_invalid', `schema ${schema} is not -53 nor in -9..52`]
    if (kind === HISTOGRAM_INT && this.sawCounts) return ['histogram_invalid', 'an integer histogram (count_int) carries float bucket counts']
    if (kind === HISTOGRAM_FLOAT && this.sawDeltas) return ['histogram_invalid', 'a float histogram (count_float) carries integer bucket deltas']
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
