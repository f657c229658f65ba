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
import { refLabelsValid, symbolInfo } from './label-check.js'
import type { LabelProblem } from './label-scratch.js'
import { isValidUtf8 } from './utf8.js'
import { GATEWAY_SERIES, type Walker } from './series-walker.js'
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
/** Gateway mode: per symbol of the request, what it is as label text (label-check.ts `symbolInfo`). */
let info = new Int32Array(1024)
/** Per symbol of the request: its id in the thread's dictionary (valid when `symbolIds` is true). */
let ids = new Int32Array(1024)
/** ids[idsTop, ...) are 0 (what `matchesPacked` needs past the table). */
let idsTop = 0
let symbolIds = false
/** The packed refs of the current series when it was found without reading them (-1: read, or none). */
let stillPacked = -1
let stillPackedEnd = -1
let tenantNumber = 0

/**
 * Each symbol of the request once through the thread's dictionary (ids[ref]), so that known series
 * are recognised by integers (series-symbols.ts). Off while an HA replica label is left out.
 */
function translateSymbols (w: Walker): void {
  symbolIds = false
  if (w.labels.dropName !== undefined || w.validateOnly) return
  if (ids.length < symbols.count) { ids = new Int32Array(symbols.starts.length); idsTop = 0 }
  const dictionary = w.symbolDictionary
  for (let attempt = 0; attempt < 2; attempt++) {
    let i = 0
    for (; i < symbols.count; i++) {
      const start = symbols.starts[i]!
      const length = symbols.lengths[i]!
      // A sender that sends the same series in the same order writes the same table: first try the
      // id this position had last time (ids[i], 0 past the last table), checked by its bytes.
      if (dictionary.is(ids[i]!, w.d, start, length)) continue
      const id = dictionary.idOf(w.d, start, length)
      if (id === 0) break
      ids[i] = id
    }
    if (idsTop < i) idsTop = i
    if (i === symbols.count) {
      ids.fill(0, i, idsTop) // refs past this request's table must read 0
      idsTop = i
      symbolIds = true
      tenantNumber = w.seriesSymbols.tenantNumber(w.tk)
      return
    }
    // The dictionary is full: start both over (the records hold ids that are about to change).
    dictionary.clear()
    w.seriesSymbols.clear()
  }
}

/** Gateway mode: each symbol of the request checked once as label text, so that a series' labels are checked by its references. */
function checkSymbols (w: Walker): void {
  if (info.length < symbols.count) info = new Int32Array(symbols.starts.length)
  const legacy = w.opts.legacyNames
  for (let i = 0; i < symbols.count; i++) info[i] = symbolInfo(w.u8, symbols.starts[i]!, symbols.lengths[i]!, legacy)
}

export function walkRequestV2 (w: Walker, start: number, end: number): void {
  w.fillLabels = fillScratch
  // Pass 1: the symbols table (it may come after the series in the body), and where the series start.
  symbols.count = 0
  let seriesFrom = end
  const u8 = w.u8
  let p = start
  while (p < end) {
    // Fast path: a one-byte tag and a one-byte length (symbols and most series are under 128 bytes).
    const tag = u8[p]!
    if ((tag === 0x22 || tag === 0x2a) && p + 1 < end && u8[p + 1]! < 0x80) {
      const e = p + 2 + u8[p + 1]!
      if (e > end) w.malformed(`${tag === 0x22 ? 'symbol' : 'timeseries'} of ${u8[p + 1]} bytes overruns its message`, p + 1)
      if (tag === 0x22) symbols.add(p + 2, e - p - 2)
      else if (seriesFrom === end) seriesFrom = p
      p = e
      continue
    }
    w.pos = p
    const t = w.varint(end)
    if (t === 0x22) {
      const e = w.lengthDelimited(end, 'symbol')
      symbols.add(w.pos, e - w.pos)
      w.pos = e
    } else if (t === 0x2a) {
      if (seriesFrom === end) seriesFrom = p
      w.pos = w.lengthDelimited(end, 'timeseries')
    } else {
      w.unknown(t, end, REQUEST_FIELDS)
    }
    p = w.pos
  }
  if (symbols.count > 0 && symbols.lengths[0] !== 0) {
    throw new IngestError('symbol_zero_not_empty', `the first symbol of the request must be the empty string, it is ${symbols.lengths[0]} bytes long`)
  }
  translateSymbols(w)
  if (w.validateOnly) checkSymbols(w)

  // Pass 2: the series, from the first one on (the symbols usually all come before it). Every
  // request-level field's framing was checked in pass 1, so the fast path checks nothing again.
  p = seriesFrom
  while (p < end) {
    if (u8[p] === 0x2a && u8[p + 1]! < 0x80) {
      const e = p + 2 + u8[p + 1]!
      timeSeries(w, p + 2, e)
      p = e
      continue
    }
    w.pos = p
    const t = w.varint(end)
    if (t === 0x2a) {
      const e = w.lengthDelimited(end, 'timeseries')
      timeSeries(w, w.pos, e)
      p = e
    } else {
      w.skip(t, end, false)
      p = w.pos
    }
  }
  w.pos = end
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

/** Reads the packed refs in bytes [start, end) into symbols.refs; the cursor is left at `end`. */
function unpack (w: Walker, start: number, end: number): void {
  const u8 = w.u8
  let p = start
  while (p < end) {
    // Refs below 16,384 (one or two bytes) read in place; longer ones, or a cut one, through the varint reader.
    const c = u8[p]!
    if (c < 0x80) { symbols.addRef(c); p++; continue }
    const c2 = u8[p + 1]!
    if (c2 < 0x80 && p + 2 <= end) { symbols.addRef((c & 0x7f) | (c2 << 7)); p += 2; continue }
    w.pos = p
    symbols.addRef(w.varint(end))
    p = w.pos
  }
  w.pos = p
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
  // Pass 1: label refs, counts of rows, metadata, created timestamp. The usual one packed labels_refs
  // field is only located here; other shapes are read into symbols.refs as they come.
  symbols.refCount = 0
  stillPacked = -1
  let packedStart = -1
  let packedEnd = -1
  let refFields = 0
  let rowsFrom = start // where pass 2 starts: after the refs when they come first
  let rowsEnd = start // where pass 2 stops: after the last row (metadata usually follows the rows)
  let samples = 0
  let sampleAt = 0 // the first sample's bytes: the usual one sample is written without pass 2's loop
  let sampleEnd = 0
  let histograms = 0
  let exemplars = 0
  meta.present = false
  meta.type = meta.helpRef = meta.unitRef = 0
  let createdTimestamp = 0
  const u8 = w.u8
  let p = start
  while (p < end) {
    // Fast path: a one-byte tag of a length-delimited field 1 to 5 and a one-byte length (refs,
    // samples and metadata are short); one range test instead of five comparisons before the dispatch.
    const tag = u8[p]!
    if (tag - 0x0a >>> 0 <= 0x20 && (tag & 7) === 2 && u8[p + 1]! < 0x80) {
      const e = p + 2 + u8[p + 1]!
      if (e > end) w.malformed(`field ${tag >>> 3} of ${u8[p + 1]} bytes overruns its message`, p)
      if (tag === 0x12) {
        if (samples++ === 0) { sampleAt = p + 2; sampleEnd = e }
        rowsEnd = e
      } else if (tag === 0x0a) {
        if (refFields === 0) {
          packedStart = p + 2; packedEnd = e
          if (p === start) rowsFrom = e
        } else {
          if (packedStart >= 0) { unpack(w, packedStart, packedEnd); packedStart = -1 }
          unpack(w, p + 2, e)
        }
        refFields++
      } else if (tag === 0x2a) {
        if (e > p + 2) readMetadata(w, p + 2, e) // empty (Prometheus writes it so): all defaults, nothing to merge
      } else if (tag === 0x1a) {
        histograms++; rowsEnd = e
      } else {
        exemplars++; rowsEnd = e
      }
      p = e
      continue
    }
    w.pos = p
    const t = w.varint(end)
    switch (t) {
      case 0x0a: case 0x08:
        if (packedStart >= 0) { unpack(w, packedStart, packedEnd); packedStart = -1; w.pos = p; w.varint(end) }
        refs(w, t, end); refFields++; break
      case 0x12: {
        const e = w.lengthDelimited(end, 'sample')
        if (samples++ === 0) { sampleAt = w.pos; sampleEnd = e }
        w.pos = rowsEnd = e
        break
      }
      case 0x1a: w.pos = rowsEnd = w.lengthDelimited(end, 'histogram'); histograms++; break
      case 0x22: w.pos = rowsEnd = w.lengthDelimited(end, 'exemplar'); exemplars++; break
      case 0x2a: { const e = w.lengthDelimited(end, 'metadata'); readMetadata(w, w.pos, e); w.pos = e; break }
      case 0x30: createdTimestamp = w.int64(end); break
      default: w.unknown(t, end, TIME_SERIES_FIELDS)
    }
    p = w.pos
  }
  w.seriesOrdinal++
  w.labels.reset()

  // The series that came after the previous one last time, checked by the thread's symbol ids of its
  // references, read from the body as they are compared: no canonical copy, no hash, no probe.
  // With HA deduplication the scratch path decides (rw1.ts).
  let id = 0
  let guessed = 0
  const guessing = refFields > 0 && !(samples > 0 && histograms > 0) && !w.validateOnly && (w.labels.dropName === undefined || (w.seriesOrdinal > 1 && w.haReplica === ''))
  if (guessing) {
    guessed = w.guess()
    if (guessed !== 0 && symbolIds && packedStart >= 0 && w.seriesSymbols.matchesPacked(guessed, tenantNumber, u8, packedStart, packedEnd, ids)) {
      id = guessed
      // Left packed: read only if the labels are wanted after all (metadata, messages: fillScratch).
      stillPacked = packedStart
      stillPackedEnd = packedEnd
    }
  }
  if (id === 0 && packedStart >= 0) unpack(w, packedStart, packedEnd)
  // Gateway: the labels checked by their references in place, with the ranges and pairs (checkRefs'
  // rules); a series that passes has none of the problems below. No index.
  if (w.validateOnly && !(samples > 0 && histograms > 0) && refLabelsValid(u8, symbols.refs, symbols.refCount, symbols.count, symbols.starts, symbols.lengths, info, w.opts, w.tk.prefix.length)) {
    id = GATEWAY_SERIES
  }
  if (id === 0) {
    const refProblem = checkRefs(0)
    if (refProblem !== undefined) {
      w.invalid(refProblem.code, refProblem.reason)
      return
    }
    if (samples > 0 && histograms > 0) {
      fillScratch(w)
      w.invalid('series_samples_and_histograms', `${w.labels.describe()}: has ${samples} samples and ${histograms} histograms; a 2.0 series carries one kind`)
      return
    }
    if (guessing && guessed !== 0 && refsMatch(w, guessed)) id = guessed
    else {
      fillScratch(w)
      id = w.resolveScratch()
      if (id === 0) return
    }
    if (symbolIds) w.seriesSymbols.record(id, tenantNumber, symbols.refs, symbols.refCount, ids)
  }
  if (!w.validateOnly) w.resolved(id, guessed)
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
  if (samples === 1 && histograms + exemplars === 0) {
    w.sample(sampleAt, sampleEnd, id, createdTimestamp, true) // the usual shape: found in pass 1, no second walk
  } else if (samples + histograms + exemplars > 0) {
    // Every field up to rowsEnd was framed and checked in pass 1; what follows the last row is not read again.
    w.pos = rowsFrom
    while (w.pos < rowsEnd) {
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

/** The series' labels, from its refs, in canonical form in the label scratch (for new series, misses and messages). */
function fillScratch (w: Walker): void {
  const u8 = w.u8
  const s = w.labels
  if (s.count > 0) return
  if (stillPacked >= 0) {
    // Called before any exemplar's refs are read (metadata comes before the rows): the series' refs start the scratch.
    const at = w.pos
    symbols.refCount = 0
    unpack(w, stillPacked, stillPackedEnd)
    stillPacked = -1
    w.pos = at
  }
  for (let i = 0; i < symbols.refCount; i += 2) {
    const n = symbols.refs[i]!
    const v = symbols.refs[i + 1]!
    s.add(u8, w.d, symbols.starts[n]!, symbols.lengths[n]!, symbols.starts[v]!, symbols.lengths[v]!)
  }
}

/**
 * True when the label refs of the series (symbols.refs) spell the stored key of series `id`: each
 * pair compared in place with the canonical label at the key's cursor (series/labels.ts). Labels of
 * 120 bytes or more (multi-byte lengths) answer false and go through the scratch, as do refs out of
 * name order: the key is sorted, the comparison is not.
 */
function refsMatch (w: Walker, id: number): boolean {
  const index = w.index
  let q = index.labelsAt(id, w.tk)
  if (q < 0) return false
  const end = index.labelsEnd
  const a = index.arena
  const av = index.arenaView
  const d = w.d
  const refs = symbols.refs
  const starts = symbols.starts
  const lengths = symbols.lengths
  for (let i = 0; i < symbols.refCount; i += 2) {
    const n = refs[i]!
    const v = refs[i + 1]!
    const nl = lengths[n]!
    const vl = lengths[v]!
    // One-byte lengths only (the label under 128 bytes): the header is four fixed bytes.
    const inner = 2 + nl + (vl > 0 ? 2 + vl : 0)
    if (inner > 127 || vl > 127 || q + 4 + inner - 2 > end) return false
    if (a[q] !== 0x0a || a[q + 1] !== inner || a[q + 2] !== 0x0a || a[q + 3] !== nl) return false
    q += 4
    if (!sameBytes(av, q, d, starts[n]!, nl)) return false
    q += nl
    if (vl > 0) {
      if (a[q] !== 0x12 || a[q + 1] !== vl) return false
      q += 2
      if (!sameBytes(av, q, d, starts[v]!, vl)) return false
      q += vl
    }
  }
  return q === end
}

/** Bytes [at, at + n) of `a` equal [bt, bt + n) of `b`; four at a time: label text is short. */
function sameBytes (a: DataView, at: number, b: DataView, bt: number, n: number): boolean {
  let i = 0
  for (; i + 4 <= n; i += 4) if (a.getInt32(at + i, true) !== b.getInt32(bt + i, true)) return false
  for (; i < n; i++) if (a.getUint8(at + i) !== b.getUint8(bt + i)) return false
  return true
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
    w.invalid(problem.code, `${w.seriesText(id)}: exemplar ${problem.reason}`)
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
    w.invalid('metadata_invalid', `${w.seriesText(id)}: metadata ${helpRef >= symbols.count ? 'help' : 'unit'} reference is outside the symbols table of ${symbols.count} symbols`)
    return false
  }
  const u8 = w.u8
  const hs = symbols.starts[helpRef]!
  const hl = symbols.lengths[helpRef]!
  const us = symbols.starts[unitRef]!
  const ul = symbols.lengths[unitRef]!
  if (type === 0 && hl === 0 && ul === 0) return true // nothing said: the sender had no metadata
  if (w.opts.strictUtf8 && !(isValidUtf8(u8, hs, hs + hl) && isValidUtf8(u8, us, us + ul))) {
    w.invalid('metadata_invalid', `${w.seriesText(id)}: metadata help or unit is not valid UTF-8`)
    return false
  }
  fillScratch(w) // the family is the series' metric name
  const [nameAt, nameLength] = w.labels.metricName()
  w.builder.addMetadata(id, type, w.labels.view, nameAt, nameLength, w.d, hs, hl, us, ul)
  return true
}
