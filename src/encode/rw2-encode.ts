/**
 * Remote Write 2.0 bodies built from a row batch (the schema is test/fixtures/proto/remote-write-2.proto,
 * read by src/decode/rw2.ts):
 *
 *   Request     4 symbols: repeated string ("" first)   5 timeseries: repeated TimeSeries
 *   TimeSeries  1 labels_refs: packed uint32   2 samples   3 histograms   4 exemplars   5 metadata
 *               6 created_timestamp: int64 (rc.3)
 *   Sample      1 value: double   2 timestamp: int64   3 start_timestamp: int64 (rc.4)
 *   Exemplar    1 labels_refs: packed uint32   2 value: double   3 timestamp: int64
 *   Metadata    1 type   3 help_ref   4 unit_ref
 *   Histogram   the fields of 1.0 (rw1-encode.ts)   17 start_timestamp: int64 (rc.4)
 *
 * Every request has its own symbols table (symbol-table.ts), with "" as ref 0, keyed by bytes: a series'
 * label refs are looked up straight from its canonical label bytes (the batch's or the series index's),
 * with no string made per label; strings are made only for metadata and exemplar labels.
 * Requests hold at most `maxSamples` samples and histograms and about `maxBytes` of protobuf (symbols
 * included), and are snappy-compressed with our encoder.
 *
 * Each run of consecutive rows of one series becomes one TimeSeries (samples or histograms: a 2.0 series
 * carries one kind). A series' exemplars and metadata ride on its first TimeSeries (a series with only
 * exemplars or metadata gets a TimeSeries of its own). Start timestamps go on each sample and histogram
 * (rc.4); when every row of a TimeSeries has the same one, it is also written as the series' rc.3
 * created_timestamp, so receivers of either draft get it. Remote Write 1.0 family metadata (no series)
 * goes on the series of that family in each request (`__name__` equal to the family, or with the suffixes
 * of its type: _bucket, _count, _sum, _total, _created); a family with no series in the batch is left out.
 *
 * Values are copied as their 8 bytes (stale markers keep their NaN payload).
 */
import type { RowBatch } from '../batch/row-batch.js'
import type { Labels } from '../series/labels.js'
import { ProtoWriter } from './proto-writer.js'
import { SymbolTable } from './symbol-table.js'
import { MAX_BYTES_PER_REQUEST, MAX_SAMPLES_PER_REQUEST, writeHistogram, type EncodedRequest, type EncodeOptions } from './rw1-encode.js'
import { snappyCompress } from './snappy-encode.js'

/** One request being filled (per destination in shard mode), with its own symbols table. */
class Pending {
  /** The TimeSeries fields (5) of the request. */
  readonly w = new ProtoWriter()
  /** The symbols; its `out` holds the symbols fields (4), written as symbols are added. */
  readonly symbols = new SymbolTable()
  /** Series whose 1.0 family metadata this request carries already. */
  readonly familyDone = new Set<number>()
  samples = 0
  histograms = 0
  exemplars = 0
  constructor (readonly target: number) { this.clear() }

  clear (): void {
    this.w.reset()
    this.symbols.clear()
    this.familyDone.clear()
    this.samples = this.histograms = this.exemplars = 0
  }

  ref (s: string): number { return this.symbols.refOfString(s) }

  get symbolBytes (): ProtoWriter { return this.symbols.out }

  get bytes (): number { return this.w.pos + this.symbols.out.pos }
}

/** What a TimeSeries being built took from the series' exemplars and metadata (kept only if it is added). */
interface Attached { exemplars: number, seriesMetadata: boolean, family: boolean }

const FAMILY_SUFFIXES: Record<string, readonly string[]> = {
  counter: ['_total', '_created'],
  histogram: ['_bucket', '_count', '_sum', '_created'],
  gaugehistogram: ['_bucket', '_count', '_sum', '_gcount', '_gsum'],
  summary: ['_count', '_sum', '_created']
}
const ALL_SUFFIXES = [...new Set(Object.values(FAMILY_SUFFIXES).flat())]

export function encodeBatchRw2 (batch: RowBatch, options: EncodeOptions = {}): EncodedRequest[] {
  const maxSamples = options.maxSamples ?? MAX_SAMPLES_PER_REQUEST
  const maxBytes = options.maxBytes ?? MAX_BYTES_PER_REQUEST
  const route = options.route
  const out: EncodedRequest[] = []
  const pending = new Map<number, Pending>()
  const labelCache = new Map<number, Labels>()
  const ts = new ProtoWriter()
  const child = new ProtoWriter(256)
  const refs = new ProtoWriter(256)
  const valueBytes = new Uint8Array(batch.values.buffer, batch.values.byteOffset, batch.values.byteLength)
  const exValues = new Uint8Array(batch.exemplarValues.buffer, batch.exemplarValues.byteOffset, batch.exemplarValues.byteLength)

  // Exemplars and metadata by series, taken by the series' first TimeSeries.
  const exemplarsOf = new Map<number, number[]>()
  for (let k = 0; k < batch.exemplarCount; k++) {
    const id = batch.exemplarSeriesIds[k]!
    const l = exemplarsOf.get(id)
    if (l === undefined) exemplarsOf.set(id, [k]); else l.push(k)
  }
  const metadataOf = new Map<number, number[]>()
  const families = new Map<string, number>()
  for (let m = 0; m < batch.metadataCount; m++) {
    const id = batch.metadataSeriesIds[m]!
    if (id === 0) { families.set(batch.metadata(m).family, m); continue } // 1.0: a family; the last entry wins
    const l = metadataOf.get(id)
    if (l === undefined) metadataOf.set(id, [m]); else l.push(m)
  }
  const familyOfSeries = new Map<number, number>()

  const flush = (p: Pending): void => {
    if (p.w.pos === 0) return
    // symbols (4) before timeseries (5), as Prometheus writes them.
    const body = new Uint8Array(p.bytes)
    body.set(p.symbolBytes.bytes.subarray(0, p.symbolBytes.pos), 0)
    body.set(p.w.bytes.subarray(0, p.w.pos), p.symbolBytes.pos)
    out.push({ body: snappyCompress(body), samples: p.samples, histograms: p.histograms, exemplars: p.exemplars, target: p.target })
    p.clear()
  }
  const requestFor = (seriesId: number): Pending => {
    const target = route === undefined ? -1 : route(seriesId)
    let p = pending.get(target)
    if (p === undefined) { p = new Pending(target); pending.set(target, p) }
    return p
  }
  const labelsOf = (seriesId: number): Labels => {
    let l = labelCache.get(seriesId)
    if (l === undefined) {
      l = (options.labelsOf ?? ((id: number) => batch.labelsOf(id)))(seriesId) ?? []
      labelCache.set(seriesId, l)
    }
    return l
  }
  /** Writes the series' packed label refs (field 1) into `ts`. */
  const writeLabelRefs = (p: Pending, seriesId: number): void => {
    refs.reset()
    // The batch's canonical bytes, unless the caller gives the labels (relabeling rules of a destination).
    const b = options.labelsOf === undefined ? batch.labelBytesOf(seriesId) : undefined
    if (b !== undefined) {
      // Canonical form per label: 0x0a len  0x0a nameLen name  [0x12 valueLen value] (no value: "").
      let o = 0
      // Lengths are varints, nearly always one byte: that case costs one compare.
      const len = (): number => {
        let c = b[o++]!
        if (c < 0x80) return c
        let v = c & 0x7f
        for (let m = 128; ; m *= 128) { c = b[o++]!; v += (c & 0x7f) * m; if (c < 0x80) return v }
      }
      while (o < b.length) {
        o++
        const inner = len()
        const end = o + inner
        o++
        const n = len()
        refs.varint(p.symbols.ref(b, o, n))
        o += n
        if (o < end) {
          o++
          const v = len()
          refs.varint(p.symbols.ref(b, o, v))
        } else {
          refs.varint(0)
        }
        o = end
      }
    } else {
      for (const [name, value] of labelsOf(seriesId)) { refs.varint(p.ref(name)); refs.varint(p.ref(value)) }
    }
    ts.message(1, refs)
  }
  /** The 1.0 family metadata entry of a series, or -1. */
  const familyOf = (seriesId: number): number => {
    if (families.size === 0) return -1
    let m = familyOfSeries.get(seriesId)
    if (m === undefined) {
      m = -1
      let name = ''
      for (const [n, v] of labelsOf(seriesId)) if (n === '__name__') name = v
      const exact = families.get(name)
      if (exact !== undefined) m = exact
      else {
        for (const suffix of ALL_SUFFIXES) {
          if (!name.endsWith(suffix)) continue
          const entry = families.get(name.slice(0, name.length - suffix.length))
          if (entry !== undefined && (FAMILY_SUFFIXES[batch.metadata(entry).type] ?? []).includes(suffix)) { m = entry; break }
        }
      }
      familyOfSeries.set(seriesId, m)
    }
    return m
  }
  const writeMetadata = (p: Pending, m: number): void => {
    const md = batch.metadata(m)
    child.reset()
    child.tag(1, 0); child.varint(batch.metadataTypes[m]!)
    child.tag(3, 0); child.varint(p.ref(md.help))
    child.tag(4, 0); child.varint(p.ref(md.unit))
    ts.message(5, child)
  }
  /**
   * Starts a TimeSeries of `seriesId` in `ts` with its label refs; `rows` writes its samples or
   * histograms. Exemplars and metadata the series still has are attached; `start` is the created
   * timestamp to write (0: none).
   */
  const build = (p: Pending, seriesId: number, rows: () => void, start: number): Attached => {
    ts.reset()
    writeLabelRefs(p, seriesId)
    rows()
    const attached: Attached = { exemplars: 0, seriesMetadata: false, family: false }
    const ex = exemplarsOf.get(seriesId)
    if (ex !== undefined) {
      for (const k of ex) {
        child.reset()
        const lb = batch.exemplarLabelBytes.subarray(batch.exemplarLabelOffsets[k], batch.exemplarLabelOffsets[k + 1])
        if (lb.length > 0) {
          refs.reset()
          for (const [name, value] of batch.exemplarLabels(k)) { refs.varint(p.ref(name)); refs.varint(p.ref(value)) }
          child.message(1, refs)
        }
        child.tag(2, 1); child.raw8(exValues, 8 * k)
        child.tag(3, 0); child.int64(batch.exemplarTimestamps[k]!)
        ts.message(4, child)
      }
      attached.exemplars = ex.length
    }
    const md = metadataOf.get(seriesId)
    if (md !== undefined && md.length > 0) {
      writeMetadata(p, md[0]!)
      attached.seriesMetadata = true
    } else if (!p.familyDone.has(seriesId)) {
      const m = familyOf(seriesId)
      if (m >= 0) { writeMetadata(p, m); attached.family = true }
    }
    if (start !== 0) { ts.tag(6, 0); ts.int64(start) }
    return attached
  }
  /**
   * Adds a TimeSeries to the series' request. When it does not fit in the bytes left, the request is sent
   * first and the TimeSeries built again (its refs must point into the next request's table).
   */
  const add = (seriesId: number, samples: number, histograms: number, rows: () => void, start: number): void => {
    if (options.labelsOf !== undefined && options.labelsOf(seriesId) === undefined) {
      // A series the destination's rules drop: none of its rows, exemplars or metadata.
      exemplarsOf.delete(seriesId)
      const md = metadataOf.get(seriesId)
      if (md !== undefined) md.length = 0
      return
    }
    const p = requestFor(seriesId)
    let attached = build(p, seriesId, rows, start)
    if (p.w.pos > 0 && p.bytes + ts.pos + 10 > maxBytes) {
      flush(p)
      attached = build(p, seriesId, rows, start)
    }
    p.w.message(5, ts)
    p.samples += samples
    p.histograms += histograms
    p.exemplars += attached.exemplars
    if (attached.exemplars > 0) exemplarsOf.delete(seriesId)
    if (attached.seriesMetadata) metadataOf.get(seriesId)!.shift()
    if (attached.family) p.familyDone.add(seriesId)
  }
  /** Makes room for at least one row in the series' request; returns how many rows fit. */
  const room = (seriesId: number): number => {
    const p = requestFor(seriesId)
    if (p.samples + p.histograms >= maxSamples) flush(p)
    return maxSamples - p.samples - p.histograms
  }
  /** The start timestamp all rows from..to share, or 0. */
  const commonStart = (starts: Float64Array, from: number, to: number): number => {
    const s = starts[from]!
    for (let k = from + 1; k < to; k++) if (starts[k] !== s) return 0
    return s
  }

  // Float samples: runs of one series, cut at the request's sample limit.
  const ids = batch.seriesIds
  const times = batch.timestamps
  const starts = batch.startTimestamps
  for (let i = 0; i < ids.length;) {
    const id = ids[i]!
    const fit = room(id)
    let end = i + 1
    while (end < ids.length && ids[end] === id && end - i < fit) end++
    const from = i
    const to = end
    add(id, to - from, 0, () => {
      for (let k = from; k < to; k++) {
        child.reset()
        child.tag(1, 1); child.raw8(valueBytes, 8 * k)
        child.tag(2, 0); child.int64(times[k]!)
        if (starts[k] !== 0) { child.tag(3, 0); child.int64(starts[k]!) }
        ts.message(2, child)
      }
    }, commonStart(starts, from, to))
    i = end
  }

  // Native histograms: runs of one series, likewise.
  const hIds = batch.histogramSeriesIds
  const hStarts = batch.histogramStartTimestamps
  for (let i = 0; i < hIds.length;) {
    const id = hIds[i]!
    const fit = room(id)
    let end = i + 1
    while (end < hIds.length && hIds[end] === id && end - i < fit) end++
    const from = i
    const to = end
    add(id, 0, to - from, () => {
      for (let k = from; k < to; k++) {
        writeHistogram(child, batch, k)
        if (hStarts[k] !== 0) { child.tag(17, 0); child.int64(hStarts[k]!) }
        ts.message(3, child)
      }
    }, commonStart(hStarts, from, to))
    i = end
  }

  // Series with exemplars or metadata left over (no rows of their own): a TimeSeries each.
  const noRows = (): void => {}
  for (const id of [...exemplarsOf.keys()]) add(id, 0, 0, noRows, 0)
  for (const [id, entries] of metadataOf) {
    while (entries.length > 0) add(id, 0, 0, noRows, 0)
  }

  for (const p of pending.values()) flush(p)
  return out
}
