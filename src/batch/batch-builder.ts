/**
 * Builds row batches: the decoder appends rows into growable columns, `finish` packs them into one
 * ArrayBuffer in the layout of layout.ts (ready to be moved to another thread) and `reset` starts
 * the next batch while keeping every column's capacity (one builder per worker, reused per request).
 */
import { BATCH_MAGIC, COLUMNS, columnLength, columnOffsets, H, HEADER_WORDS, type ColumnName, type Counts } from './layout.js'

/** A growable typed-array column. Growth doubles; `reset` keeps capacity. */
class Column<A extends Uint8Array | Uint32Array | Int32Array | Float64Array> {
  a: A
  n = 0
  constructor (private readonly make: (n: number) => A, capacity = 64) { this.a = make(capacity) }
  /** Makes room for `extra` more entries. */
  ensure (extra: number): A {
    const need = this.n + extra
    if (need > this.a.length) {
      let cap = this.a.length * 2
      while (cap < need) cap *= 2
      const next = this.make(cap)
      next.set(this.a.subarray(0, this.n) as never)
      this.a = next
    }
    return this.a
  }
  push (v: number): void {
    if (this.n === this.a.length) this.ensure(1)
    this.a[this.n++] = v
  }
}

class U8 extends Column<Uint8Array> { constructor () { super(n => new Uint8Array(n), 1024) } }
class U32 extends Column<Uint32Array> { constructor () { super(n => new Uint32Array(n)) } }
class I32 extends Column<Int32Array> { constructor () { super(n => new Int32Array(n)) } }
class F64 extends Column<Float64Array> {
  private w = new Int32Array(this.a.buffer)
  constructor () { super(n => new Float64Array(n)) }
  /** Appends the 8 bytes at `at` of `d` as they are: NaN payloads (stale markers) survive. */
  pushBits (d: DataView, at: number): void {
    if (this.n === this.a.length) this.ensure(1)
    if (this.w.buffer !== this.a.buffer) this.w = new Int32Array(this.a.buffer)
    // Two integer moves: a double never passes through a float register, where V8 could quiet a signalling NaN.
    this.w[2 * this.n] = d.getInt32(at, true)
    this.w[2 * this.n + 1] = d.getInt32(at + 4, true)
    this.n++
  }
}

export class BatchBuilder {
  // Samples: the hot columns, written directly by the walkers after `ensureSamples`.
  sampleCount = 0
  seriesIds = new Uint32Array(1024)
  timestamps = new Float64Array(1024)
  startTimestamps = new Float64Array(1024)
  values = new Float64Array(1024)
  /** The values column as 32-bit words, for bit-exact copies. */
  valueWords = new Int32Array(this.values.buffer)

  readonly seriesRefs = new U32()
  readonly newSeriesIds = new U32()
  readonly newSeriesOffsets = new U32()
  readonly newSeriesBytes = new U8()
  readonly exemplarSeriesIds = new U32()
  readonly exemplarTimestamps = new F64()
  readonly exemplarValues = new F64()
  readonly exemplarLabelOffsets = new U32()
  readonly exemplarLabelBytes = new U8()
  readonly histogramSeriesIds = new U32()
  readonly histogramTimestamps = new F64()
  readonly histogramStartTimestamps = new F64()
  readonly histogramCounts = new F64()
  readonly histogramSums = new F64()
  readonly histogramZeroThresholds = new F64()
  readonly histogramZeroCounts = new F64()
  readonly histogramSchemas = new I32()
  readonly histogramKinds = new U8()
  readonly histogramResetHints = new U8()
  readonly spanStarts = new U32()
  readonly spanOffsets = new I32()
  readonly spanLengths = new U32()
  readonly bucketStarts = new U32()
  readonly buckets = new F64()
  readonly customValueStarts = new U32()
  readonly customValues = new F64()
  readonly metadataSeriesIds = new U32()
  readonly metadataTypes = new U8()
  readonly metadataOffsets = new U32()
  readonly metadataBytes = new U8()

  invalidSeriesCount = 0
  /** New series refused because the series index is full (counted in invalidSeriesCount too). */
  limitedSeriesCount = 0
  ignoredFieldCount = 0

  constructor () { this.reset() }

  /** Starts a new batch, keeping every column's capacity. */
  reset (): void {
    this.sampleCount = 0
    for (const name of COLUMN_NAMES) {
      if (name in SAMPLE_COLUMNS) continue
      this[name as Exclude<ColumnName, keyof typeof SAMPLE_COLUMNS>].n = 0
    }
    // Range columns start with their first boundary.
    this.newSeriesOffsets.push(0)
    this.exemplarLabelOffsets.push(0)
    this.spanStarts.push(0)
    this.bucketStarts.push(0)
    this.customValueStarts.push(0)
    this.metadataOffsets.push(0)
    this.invalidSeriesCount = 0
    this.limitedSeriesCount = 0
    this.ignoredFieldCount = 0
  }

  private readonly marks = new Uint32Array(COLUMNS.length + 1)
  private markedColumns: Column<Uint8Array | Uint32Array | Int32Array | Float64Array>[] | undefined

  /**
   * Remembers where every section ends now, so that the rows of a series found invalid half-way
   * (a bad histogram after good samples) can be taken back. New series stay: the index has them.
   */
  mark (): void {
    const cols = this.rollbackColumns()
    for (let i = 0; i < cols.length; i++) this.marks[i] = cols[i]!.n
    this.marks[cols.length] = this.sampleCount
  }

  /** Takes back every row added since `mark`. */
  rollback (): void {
    const cols = this.rollbackColumns()
    for (let i = 0; i < cols.length; i++) cols[i]!.n = this.marks[i]!
    this.sampleCount = this.marks[cols.length]!
  }

  private rollbackColumns (): Column<Uint8Array | Uint32Array | Int32Array | Float64Array>[] {
    if (this.markedColumns === undefined) {
      this.markedColumns = COLUMN_NAMES
        .filter(n => !(n in SAMPLE_COLUMNS) && !n.startsWith('newSeries'))
        .map(n => this[n as Exclude<ColumnName, keyof typeof SAMPLE_COLUMNS>] as Column<Uint8Array | Uint32Array | Int32Array | Float64Array>)
    }
    return this.markedColumns
  }

  /** Makes room for `extra` more samples. */
  ensureSamples (extra: number): void {
    const need = this.sampleCount + extra
    if (need <= this.seriesIds.length) return
    let cap = this.seriesIds.length * 2
    while (cap < need) cap *= 2
    const n = this.sampleCount
    const ids = new Uint32Array(cap); ids.set(this.seriesIds.subarray(0, n)); this.seriesIds = ids
    const ts = new Float64Array(cap); ts.set(this.timestamps.subarray(0, n)); this.timestamps = ts
    const st = new Float64Array(cap); st.set(this.startTimestamps.subarray(0, n)); this.startTimestamps = st
    const vw = new Int32Array(cap * 2); vw.set(this.valueWords.subarray(0, 2 * n)); this.valueWords = vw
    this.values = new Float64Array(vw.buffer)
  }

  /** Appends the canonical label bytes of a series seen for the first time. */
  addNewSeries (id: number, d: DataView, start: number, end: number): void {
    this.newSeriesIds.push(id)
    appendBytes(this.newSeriesBytes, d, start, end)
    this.newSeriesOffsets.push(this.newSeriesBytes.n)
  }

  /**
   * Appends one metadata entry, the same for both protocol versions: a 1.0 MetricMetadata (series id
   * 0, it names a family) or a 2.0 series' metadata (the family is the series' metric name). The
   * family name is bytes [familyAt, +familyLength) of `family`; help and unit are ranges of `text`.
   * Types outside the MetricType enum are stored as unknown (0).
   */
  addMetadata (seriesId: number, type: number, family: DataView, familyAt: number, familyLength: number,
    text: DataView, helpAt: number, helpLength: number, unitAt: number, unitLength: number): void {
    this.metadataSeriesIds.push(seriesId)
    this.metadataTypes.push(type <= 7 ? type : 0)
    appendBytes(this.metadataBytes, family, familyAt, familyAt + familyLength)
    this.metadataOffsets.push(this.metadataBytes.n)
    appendBytes(this.metadataBytes, text, helpAt, helpAt + helpLength)
    this.metadataOffsets.push(this.metadataBytes.n)
    appendBytes(this.metadataBytes, text, unitAt, unitAt + unitLength)
    this.metadataOffsets.push(this.metadataBytes.n)
  }

  /**
   * Packs the batch into one ArrayBuffer (layout.ts). The builder can be reset afterwards. With
   * `countsOnly` (the gateway decode) the buffer is the header alone: the counts, no columns.
   */
  finish (version: 1 | 2, decompressedBytes: number, compressedBytes: number, countsOnly = false): ArrayBuffer {
    const c: Counts = {
      magic: BATCH_MAGIC,
      version,
      seriesCount: this.seriesRefs.n,
      sampleCount: this.sampleCount,
      newSeriesCount: this.newSeriesIds.n,
      newSeriesBytes: this.newSeriesBytes.n,
      exemplarCount: this.exemplarSeriesIds.n,
      exemplarLabelBytes: this.exemplarLabelBytes.n,
      histogramCount: this.histogramSeriesIds.n,
      spanCount: this.spanOffsets.n,
      bucketCount: this.buckets.n,
      customValueCount: this.customValues.n,
      metadataCount: this.metadataSeriesIds.n,
      metadataBytes: this.metadataBytes.n,
      invalidSeriesCount: this.invalidSeriesCount,
      limitedSeriesCount: this.limitedSeriesCount,
      ignoredFieldCount: this.ignoredFieldCount,
      decompressedBytes,
      compressedBytes,
      rowsOmitted: countsOnly ? 1 : 0
    }
    const { offsets, byteLength } = columnOffsets(c)
    // A fresh ArrayBuffer (never a pooled Buffer) so that it can be moved through the transfer list.
    const out = new ArrayBuffer(byteLength)
    const header = new Uint32Array(out, 0, HEADER_WORDS)
    for (const [key, word] of Object.entries(H)) header[word] = c[key as keyof Counts]
    const bytes = new Uint8Array(out)
    COLUMNS.forEach((col, i) => {
      const n = columnLength(col, c)
      if (n === 0) return
      const src = this.columnArray(col.name)
      bytes.set(new Uint8Array(src.buffer, src.byteOffset, n * src.BYTES_PER_ELEMENT), offsets[i]!)
    })
    return out
  }

  private columnArray (name: ColumnName): Uint8Array | Uint32Array | Int32Array | Float64Array {
    switch (name) {
      case 'seriesIds': return this.seriesIds
      case 'timestamps': return this.timestamps
      case 'startTimestamps': return this.startTimestamps
      case 'values': return this.values
      default: return this[name].a
    }
  }
}

const SAMPLE_COLUMNS = { seriesIds: 1, timestamps: 1, startTimestamps: 1, values: 1 } as const
const COLUMN_NAMES: readonly ColumnName[] = COLUMNS.map(c => c.name)

/** Appends bytes [start, end) of `d` to a byte column. */
export function appendBytes (col: Column<Uint8Array>, d: DataView, start: number, end: number): void {
  const a = col.ensure(end - start)
  const n = end - start
  let o = col.n
  // Short strings (help, units, label text) copy fastest in a loop; long ones through memcpy.
  if (n < 64) {
    for (let i = start; i < end; i++) a[o++] = d.getUint8(i)
  } else {
    a.set(new Uint8Array(d.buffer, d.byteOffset + start, n), o)
    o += n
  }
  col.n = o
}

export type ByteColumn = Column<Uint8Array>
export type NumberColumn = Column<Uint32Array> | Column<Int32Array> | Column<Float64Array>
export { F64 as Float64Column }
