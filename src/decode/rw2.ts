/**
 * Remote Write 2.0: walks an `io.prometheus.write.v2.Request` and writes its rows into the batch.
 *
 *   message Request    { reserved 1 to 3; repeated string symbols = 4; repeated TimeSeries timeseries = 5; }
 *   message TimeSeries { repeated uint32 labels_refs = 1; repeated Sample samples = 2; repeated Histogram histograms = 3;
 *                        repeated Exemplar exemplars = 4; Metadata metadata = 5; int64 created_timestamp = 6 (rc.3) }
 *   message Sample     { double value = 1; int64 timestamp = 2; int64 start_timestamp = 3 (rc.4) }
 *   message Exemplar   { repeated uint32 labels_refs = 1; double value = 2; int64 timestamp = 3; }
 *   message Metadata   { MetricType type = 1; uint32 help_ref = 3; uint32 unit_ref = 4; }
 *   (Histogram: see histogram-reader.ts; rc.4 adds int64 start_timestamp = 17.)
 *
 * Symbols are located once per request (offsets into the body, no strings). A series' labels are
 * made canonical in the label scratch by copying symbol bytes, then hashed and looked up: the same
 * label set gets the same id whichever protocol version brought it.
 */
import { IngestError } from '../errors.js'
import type { LabelProblem } from './label-scratch.js'
import { isValidUtf8 } from './utf8.js'
import type { Walker } from './series-walker.js'
import { fields } from './wire-reader.js'

const REQUEST_FIELDS = fields(4, 5)
const TIME_SERIES_FIELDS = fields(1, 2, 3, 4, 5, 6)
const EXEMPLAR_FIELDS = fields(1, 2, 3)
const METADATA_FIELDS = fields(1, 3, 4)

/** Symbol table and label-ref scratch of one thread, reused across requests. */
class Symbols {
  starts = new Uint32Array(1024)
  lengths = new Uint32Array(1024)
  count = 0
  refs = new Uint32Array(256)
  refCount = 0

  add (start: number, length: number): void {
    if (this.count === this.starts.length) {
      const s = new Uint32Array(this.count * 2); s.set(this.starts); this.starts = s
      const l = new Uint32Array(this.count * 2); l.set(this.lengths); this.lengths = l
    }
    this.starts[this.count] = start
    this.lengths[this.count++] = length
  }

  addRef (ref: number): void {
    if (this.refCount === this.refs.length) { const r = new Uint32Array(this.refCount * 2); r.set(this.refs); this.refs = r }
    this.refs[this.refCount++] = ref
  }
}

const symbols = new Symbols()

export function walkRequestV2 (w: Walker, start: number, end: number): void {
  // Pass 1: the symbols table (it may come after the series in the body).
  symbols.count = 0
  w.pos = start
  while (w.pos < end) {
    const tag = w.varint(end)
    if (tag === 0x22) {
      const e = w.lengthDelimited(end, 'symbol')
      symbols.add(w.pos, e - w.pos)
      w.pos = e
    } else if (tag === 0x2a) {
      w.pos = w.lengthDelimited(end, 'timeseries')
    } else {
      w.unknown(tag, end, REQUEST_FIELDS)
    }
  }
  if (symbols.count > 0 && symbols.lengths[0] !== 0) {
    throw new IngestError('symbol_zero_not_empty', `the first symbol of the request must be the empty string, it is ${symbols.lengths[0]} bytes long`)
  }

  // Pass 2: the series.
  w.pos = start
  while (w.pos < end) {
    const tag = w.varint(end)
    if (tag === 0x2a) {
      const e = w.lengthDelimited(end, 'timeseries')
      timeSeries(w, w.pos, e)
      w.pos = e
    } else {
      w.skip(tag, end, false)
    }
  }
}

/** Reads labels_refs (packed or not) at the cursor into symbols.refs. */
function refs (w: Walker, tag: number, limit: number): void {
  if (tag === 0x0a) {
    const e = w.lengthDelimited(limit, 'label refs')
    while (w.pos < e) symbols.addRef(w.varint(e))
  } else {
    symbols.addRef(w.varint(limit))
  }
}

/** Checks symbols.refs from `from` on: an even count, every ref inside the table. Returns the problem or undefined. */
function checkRefs (from: number): LabelProblem | undefined {
  const n = symbols.refCount - from
  if (n % 2 !== 0) return { code: 'label_refs_odd', reason: `has ${n} label references, an odd number` }
  for (let i = from; i < symbols.refCount; i++) {
    const r = symbols.refs[i]!
    if (r >= symbols.count) return { code: 'symbol_ref_out_of_range', reason: `label reference ${r} (position ${i - from}) is outside the symbols table of ${symbols.count} symbols` }
  }
  return undefined
}

function timeSeries (w: Walker, start: number, end: number): void {
  // Pass 1: label refs, counts of rows, metadata, created timestamp.
  symbols.refCount = 0
  let samples = 0
  let histograms = 0
  let exemplars = 0
  meta.present = false
  meta.type = meta.helpRef = meta.unitRef = 0
  let createdTimestamp = 0
  w.pos = start
  while (w.pos < end) {
    const tag = w.varint(end)
    switch (tag) {
      case 0x0a: case 0x08: refs(w, tag, end); break
      case 0x12: w.pos = w.lengthDelimited(end, 'sample'); samples++; break
      case 0x1a: w.pos = w.lengthDelimited(end, 'histogram'); histograms++; break
      case 0x22: w.pos = w.lengthDelimited(end, 'exemplar'); exemplars++; break
      case 0x2a: { const e = w.lengthDelimited(end, 'metadata'); readMetadata(w, w.pos, e); w.pos = e; break }
      case 0x30: createdTimestamp = w.int64(end); break
      default: w.unknown(tag, end, TIME_SERIES_FIELDS)
    }
  }
  w.seriesOrdinal++
  w.labels.reset()

  const refProblem = checkRefs(0)
  if (refProblem !== undefined) {
    w.invalid(refProblem.code, refProblem.reason)
    return
  }
  const u8 = w.u8
  for (let i = 0; i < symbols.refCount; i += 2) {
    const n = symbols.refs[i]!
    const v = symbols.refs[i + 1]!
    w.labels.add(u8, w.d, symbols.starts[n]!, symbols.lengths[n]!, symbols.starts[v]!, symbols.lengths[v]!)
  }
  if (samples > 0 && histograms > 0) {
    w.invalid('series_samples_and_histograms', `${w.labels.describe()}: has ${samples} samples and ${histograms} histograms; a 2.0 series carries one kind`)
    return
  }
  let id = w.resolveScratch()
  if (id === 0) return
  if (w.rules !== undefined) {
    id = w.rules.apply(w, id, samples + histograms + exemplars)
    if (id === 0) return
  }

  // Pass 2: the rows.
  const b = w.builder
  if (histograms + exemplars > 0) b.mark() // only these can be found invalid half-way
  b.seriesRefs.push(id)
  if (meta.present && !metadata(w, id)) { b.seriesRefs.n--; return } // checked before any row is written
  if (samples > 0) b.ensureSamples(samples)
  if (samples + histograms + exemplars > 0) {
    w.pos = start
    while (w.pos < end) {
      const tag = w.varint(end)
      if (tag === 0x12) {
        const e = w.lengthDelimited(end, 'sample')
        w.sample(w.pos, e, id, createdTimestamp, true)
        w.pos = e
      } else if (tag === 0x1a) {
        const e = w.lengthDelimited(end, 'histogram')
        if (!w.histogram(w.pos, e, id, createdTimestamp, true)) { b.rollback(); return }
        w.pos = e
      } else if (tag === 0x22) {
        const e = w.lengthDelimited(end, 'exemplar')
        if (!exemplar(w, w.pos, e, id)) { b.rollback(); return }
        w.pos = e
      } else {
        w.skip(tag, end, false)
      }
    }
  }
}

function exemplar (w: Walker, start: number, end: number, id: number): boolean {
  let valueAt = -1
  let ts = 0
  const from = symbols.refCount // the exemplar's refs follow the series' refs in the scratch
  w.pos = start
  while (w.pos < end) {
    const tag = w.varint(end)
    if (tag === 0x0a || tag === 0x08) refs(w, tag, end)
    else if (tag === 0x11) { valueAt = w.pos; w.pos += 8 } else if (tag === 0x18) ts = w.int64(end)
    else w.unknown(tag, end, EXEMPLAR_FIELDS)
  }
  if (w.pos > end) w.malformed('truncated exemplar', start)
  const problem = checkRefs(from)
  if (problem !== undefined) {
    symbols.refCount = from
    w.invalid(problem.code, `${w.labels.describe()}: exemplar ${problem.reason}`)
    return false
  }
  const s = w.exemplarLabels
  s.reset()
  for (let i = from; i + 1 < symbols.refCount; i += 2) {
    const n = symbols.refs[i]!
    const v = symbols.refs[i + 1]!
    s.add(w.u8, w.d, symbols.starts[n]!, symbols.lengths[n]!, symbols.starts[v]!, symbols.lengths[v]!)
  }
  symbols.refCount = from
  return w.exemplar(id, valueAt, ts)
}

/** The series' metadata, merged over every occurrence of the field (protobuf merges embedded messages: the last value of each field wins). */
const meta = { present: false, type: 0, helpRef: 0, unitRef: 0 }

function readMetadata (w: Walker, start: number, end: number): void {
  meta.present = true
  w.pos = start
  while (w.pos < end) {
    const tag = w.varint(end)
    if (tag === 0x08) meta.type = w.varint(end)
    else if (tag === 0x18) meta.helpRef = w.varint(end)
    else if (tag === 0x20) meta.unitRef = w.varint(end)
    else w.unknown(tag, end, METADATA_FIELDS)
  }
}

/** Metadata {1: type, 3: help_ref, 4: unit_ref} into the batch; the family is the series' metric name. */
function metadata (w: Walker, id: number): boolean {
  const { type, helpRef, unitRef } = meta
  if (type === 0 && helpRef === 0 && unitRef === 0) return true // all defaults: the sender had no metadata
  if (helpRef >= symbols.count || unitRef >= symbols.count) {
    w.invalid('metadata_invalid', `${w.labels.describe()}: metadata ${helpRef >= symbols.count ? 'help' : 'unit'} reference is outside the symbols table of ${symbols.count} symbols`)
    return false
  }
  const u8 = w.u8
  const hs = symbols.starts[helpRef]!
  const hl = symbols.lengths[helpRef]!
  const us = symbols.starts[unitRef]!
  const ul = symbols.lengths[unitRef]!
  if (type === 0 && hl === 0 && ul === 0) return true // nothing said: the sender had no metadata
  if (w.opts.strictUtf8 && !(isValidUtf8(u8, hs, hs + hl) && isValidUtf8(u8, us, us + ul))) {
    w.invalid('metadata_invalid', `${w.labels.describe()}: metadata help or unit is not valid UTF-8`)
    return false
  }
  const [nameAt, nameLength] = w.labels.metricName()
  w.builder.addMetadata(id, type, w.labels.view, nameAt, nameLength, w.d, hs, hl, us, ul)
  return true
}
