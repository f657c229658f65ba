/**
 * Remote Write 1.0 bodies built from a row batch (the schema is quoted in test/fixtures/encode.ts and
 * src/decode/rw1.ts):
 *
 *   WriteRequest   1 timeseries: repeated TimeSeries   3 metadata: repeated MetricMetadata
 *   TimeSeries     1 labels: repeated Label   2 samples: repeated Sample   3 exemplars   4 histograms
 *   Label          1 name   2 value           Sample 1 value: double   2 timestamp: int64
 *   Exemplar       1 labels   2 value: double   3 timestamp: int64
 *   Histogram      1 count_int | 2 count_float   3 sum   4 schema: sint32   5 zero_threshold
 *                  6 zero_count_int | 7 zero_count_float   8 negative_spans   9 negative_deltas (packed sint64)
 *                  10 negative_counts (packed double)   11 positive_spans   12 positive_deltas   13 positive_counts
 *                  14 reset_hint   15 timestamp   16 custom_values (packed double)
 *   BucketSpan     1 offset: sint32   2 length: uint32
 *   MetricMetadata 1 type   2 metric_family_name   4 help   5 unit
 *
 * Each run of consecutive rows of one series becomes one TimeSeries; requests hold at most `maxSamples`
 * samples and histograms and about `maxBytes` of protobuf, and are snappy-compressed with our encoder.
 * What Remote Write 1.0 cannot carry is left out: start timestamps of 2.0 samples, and 2.0 per-series
 * metadata become 1.0 family metadata.
 *
 * Values are copied as their 8 bytes (stale markers keep their NaN payload).
 */
import type { RowBatch } from '../batch/row-batch.js'
import { HISTOGRAM_INT } from '../batch/layout.js'
import type { Labels } from '../series/labels.js'
import { ProtoWriter } from './proto-writer.js'
import { snappyCompress } from './snappy-encode.js'

export const MAX_SAMPLES_PER_REQUEST = 10_000
export const MAX_BYTES_PER_REQUEST = 8 << 20

export interface EncodedRequest {
  /** Snappy-compressed Remote Write 1.0 WriteRequest. */
  readonly body: Uint8Array
  readonly samples: number
  readonly histograms: number
  readonly exemplars: number
  /** The route's answer for the series in it (-1 without a route). */
  readonly target: number
}

export interface EncodeOptions {
  readonly maxSamples?: number
  readonly maxBytes?: number
  /** Which destination a series goes to (shard mode); a request holds series of one destination only. */
  readonly route?: (seriesId: number) => number
  /**
   * The labels to write for a series instead of its own (a forward destination's relabeling rules);
   * undefined leaves the series' rows out of the requests.
   */
  readonly labelsOf?: (seriesId: number) => Labels | undefined
}

/** One request being filled (per destination in shard mode). */
class Pending {
  readonly w = new ProtoWriter()
  samples = 0
  histograms = 0
  exemplars = 0
  constructor (readonly target: number) {}
}

export function encodeBatchRw1 (batch: RowBatch, options: EncodeOptions = {}): EncodedRequest[] {
  const maxSamples = options.maxSamples ?? MAX_SAMPLES_PER_REQUEST
  const maxBytes = options.maxBytes ?? MAX_BYTES_PER_REQUEST
  const route = options.route
  const out: EncodedRequest[] = []
  const pending = new Map<number, Pending>()
  const labelCache = new Map<number, Uint8Array>()
  const ts = new ProtoWriter()
  const child = new ProtoWriter(256)
  const valueBytes = new Uint8Array(batch.values.buffer, batch.values.byteOffset, batch.values.byteLength)
  const labelsFor = options.labelsOf ?? ((id: number) => batch.labelsOf(id))
  const left = options.labelsOf === undefined ? undefined : (id: number): boolean => options.labelsOf!(id) === undefined
  /** The end of the run of `id` that starts at i (rows of a series left out are skipped whole). */
  const runEnd = (a: Uint32Array, i: number, id: number): number => { let e = i + 1; while (e < a.length && a[e] === id) e++; return e }

  const flush = (p: Pending): void => {
    if (p.w.pos === 0) return
    out.push({ body: snappyCompress(p.w.bytes.subarray(0, p.w.pos)), samples: p.samples, histograms: p.histograms, exemplars: p.exemplars, target: p.target })
    p.w.reset()
    p.samples = p.histograms = p.exemplars = 0
  }
  const requestFor = (seriesId: number): Pending => {
    const target = route === undefined ? -1 : route(seriesId)
    let p = pending.get(target)
    if (p === undefined) { p = new Pending(target); pending.set(target, p) }
    return p
  }
  const labelsOf = (seriesId: number): Uint8Array => {
    // The canonical label bytes are the 1.0 wire form of `repeated Label labels = 1`: written as they are,
    // unless the caller gives the labels (relabeling rules of a destination).
    const canonical = options.labelsOf === undefined ? batch.labelBytesOf(seriesId) : undefined
    if (canonical !== undefined) return canonical
    let l = labelCache.get(seriesId)
    if (l === undefined) {
      const w = new ProtoWriter(256)
      for (const [name, value] of labelsFor(seriesId) ?? []) {
        child.reset(); child.string(1, name); child.string(2, value)
        w.message(1, child)
      }
      l = w.finish()
      labelCache.set(seriesId, l)
    }
    return l
  }
  /** Adds the TimeSeries in `ts` to the series' request, first sending the request if it is full. */
  const add = (p: Pending, samples: number, histograms: number, exemplars: number): void => {
    if (p.w.pos > 0 && (p.samples + p.histograms + samples + histograms > maxSamples || p.w.pos + ts.pos + 10 > maxBytes)) flush(p)
    p.w.message(1, ts)
    p.samples += samples
    p.histograms += histograms
    p.exemplars += exemplars
  }

  // Float samples: runs of one series, cut at maxSamples.
  const ids = batch.seriesIds
  const times = batch.timestamps
  for (let i = 0; i < ids.length;) {
    const id = ids[i]!
    if (left?.(id) === true) { i = runEnd(ids, i, id); continue }
    const p = requestFor(id)
    if (p.samples + p.histograms >= maxSamples) flush(p)
    // A run fills what is left of the request; the rest of it goes on in the next one.
    const room = maxSamples - p.samples - p.histograms
    let end = i + 1
    while (end < ids.length && ids[end] === id && end - i < room) end++
    ts.reset()
    writeRaw(ts, labelsOf(id))
    for (let k = i; k < end; k++) {
      child.reset()
      child.tag(1, 1); child.raw8(valueBytes, 8 * k)
      child.tag(2, 0); child.int64(times[k]!)
      ts.message(2, child)
    }
    add(p, end - i, 0, 0)
    i = end
  }

  // Exemplars: runs of one series, in TimeSeries of their own.
  const exIds = batch.exemplarSeriesIds
  const exValues = new Uint8Array(batch.exemplarValues.buffer, batch.exemplarValues.byteOffset, batch.exemplarValues.byteLength)
  for (let i = 0; i < exIds.length;) {
    const id = exIds[i]!
    if (left?.(id) === true) { i = runEnd(exIds, i, id); continue }
    let end = i + 1
    while (end < exIds.length && exIds[end] === id) end++
    ts.reset()
    writeRaw(ts, labelsOf(id))
    for (let k = i; k < end; k++) {
      child.reset()
      const lb = batch.exemplarLabelBytes.subarray(batch.exemplarLabelOffsets[k], batch.exemplarLabelOffsets[k + 1])
      if (lb.length > 0) {
        const lw = new ProtoWriter(128)
        for (const [name, value] of batch.exemplarLabels(k)) { lw.string(1, name); lw.string(2, value); child.message(1, lw); lw.reset() }
      }
      child.tag(2, 1); child.raw8(exValues, 8 * k)
      child.tag(3, 0); child.int64(batch.exemplarTimestamps[k]!)
      ts.message(3, child)
    }
    add(requestFor(id), 0, 0, end - i)
    i = end
  }

  // Native histograms: one TimeSeries per run.
  const hIds = batch.histogramSeriesIds
  for (let i = 0; i < hIds.length;) {
    const id = hIds[i]!
    if (left?.(id) === true) { i = runEnd(hIds, i, id); continue }
    let end = i + 1
    while (end < hIds.length && hIds[end] === id && end - i < maxSamples) end++
    ts.reset()
    writeRaw(ts, labelsOf(id))
    for (let k = i; k < end; k++) {
      writeHistogram(child, batch, k)
      ts.message(4, child)
    }
    add(requestFor(id), 0, end - i, 0)
    i = end
  }

  // Metadata (families): with every destination's first request, or a request of their own.
  if (batch.metadataCount > 0) {
    const targets = route === undefined ? [-1] : [...new Set([...pending.keys()])]
    if (targets.length === 0) targets.push(route === undefined ? -1 : 0)
    for (const target of targets) {
      let p = pending.get(target)
      if (p === undefined) { p = new Pending(target); pending.set(target, p) }
      for (let m = 0; m < batch.metadataCount; m++) {
        const md = batch.metadata(m)
        child.reset()
        child.tag(1, 0); child.varint(batch.metadataTypes[m]!)
        child.string(2, md.family !== '' ? md.family : metricNameOf(batch, md.seriesId))
        if (md.help !== '') child.string(4, md.help)
        if (md.unit !== '') child.string(5, md.unit)
        p.w.message(3, child)
      }
    }
  }

  for (const p of pending.values()) flush(p)
  return out
}

function writeRaw (w: ProtoWriter, bytes: Uint8Array): void {
  // The cached labels are already whole `1: Label` fields.
  if (w.bytes.length < w.pos + bytes.length) { const n = new Uint8Array(Math.max(w.bytes.length * 2, w.pos + bytes.length)); n.set(w.bytes.subarray(0, w.pos)); w.bytes = n }
  w.bytes.set(bytes, w.pos)
  w.pos += bytes.length
}

function metricNameOf (batch: RowBatch, seriesId: number): string {
  for (const [n, v] of batch.labelsOf(seriesId) ?? []) if (n === '__name__') return v
  return ''
}

/** A 1.0 Histogram message of batch row k into `w` (2.0 uses the same fields and adds start_timestamp = 17). */
export function writeHistogram (w: ProtoWriter, b: RowBatch, k: number): void {
  w.reset()
  const isInt = b.histogramKinds[k] === HISTOGRAM_INT
  if (isInt) { w.tag(1, 0); w.varint(b.histogramCounts[k]!) } else { w.tag(2, 1); w.double(b.histogramCounts[k]!) }
  w.tag(3, 1); w.raw8(new Uint8Array(b.histogramSums.buffer, b.histogramSums.byteOffset + 8 * k, 8), 0)
  w.tag(4, 0); w.sint(b.histogramSchemas[k]!)
  w.tag(5, 1); w.double(b.histogramZeroThresholds[k]!)
  if (isInt) { w.tag(6, 0); w.varint(b.histogramZeroCounts[k]!) } else { w.tag(7, 1); w.double(b.histogramZeroCounts[k]!) }
  const span = new ProtoWriter(64)
  const spans = (field: number, from: number, to: number): void => {
    for (let s = from; s < to; s++) {
      span.reset()
      span.tag(1, 0); span.sint(b.spanOffsets[s]!)
      span.tag(2, 0); span.varint(b.spanLengths[s]!)
      w.message(field, span)
    }
  }
  const buckets = (field: number, from: number, to: number): void => {
    if (to === from) return
    span.reset()
    for (let s = from; s < to; s++) { if (isInt) span.sint(b.buckets[s]!); else span.double(b.buckets[s]!) }
    w.message(field, span)
  }
  spans(8, b.spanStarts[2 * k]!, b.spanStarts[2 * k + 1]!)
  buckets(isInt ? 9 : 10, b.bucketStarts[2 * k]!, b.bucketStarts[2 * k + 1]!)
  spans(11, b.spanStarts[2 * k + 1]!, b.spanStarts[2 * k + 2]!)
  buckets(isInt ? 12 : 13, b.bucketStarts[2 * k + 1]!, b.bucketStarts[2 * k + 2]!)
  if (b.histogramResetHints[k] !== 0) { w.tag(14, 0); w.varint(b.histogramResetHints[k]!) }
  w.tag(15, 0); w.int64(b.histogramTimestamps[k]!)
  const cv0 = b.customValueStarts[k]!
  const cv1 = b.customValueStarts[k + 1]!
  if (cv1 > cv0) {
    span.reset()
    for (let s = cv0; s < cv1; s++) span.double(b.customValues[s]!)
    w.message(16, span)
  }
}
