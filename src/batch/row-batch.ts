/**
 * A row batch: the rows of one remote-write request as columns (typed arrays over one ArrayBuffer),
 * built by a decode worker and moved to the main thread. Nothing per row is an object; labels become
 * strings only when someone asks for them (`labelsOf`).
 *
 * Lifetime: the views live as long as the batch; the buffer belongs to the batch alone (it was moved,
 * not shared), so sinks may keep it.
 */
import { BATCH_MAGIC, COLUMNS, columnLength, columnOffsets, H, HEADER_WORDS, METRIC_TYPES, type ColumnName, type Counts } from './layout.js'
import { decodeLabels, type Labels } from '../series/labels.js'
import { IngestError, type WireError } from '../errors.js'

/** What the batch needs to resolve labels of series it does not carry (series known before it). */
export interface LabelSource {
  labelsOf(seriesId: number): Labels | undefined
  /** The series' canonical label bytes (src/series/labels.ts), when the source keeps them. */
  labelBytes?(seriesId: number): Uint8Array | undefined
}

/** Strings and flags that travel beside the buffer. */
export interface BatchMeta {
  /** The tenant from the request's tenant header, '' when none. */
  readonly tenant: string
  /** The first invalid series, when some series were rejected (the batch holds the valid ones). */
  readonly firstError?: WireError | undefined
  /** Milliseconds the decode itself took in the worker (pool batches only). */
  readonly decodeMs?: number | undefined
  /** HA deduplication on: the first series' cluster and replica, and whether replica labels were left out. */
  readonly ha?: { readonly cluster: string, readonly replica: string, readonly labelsChanged: boolean } | undefined
  /** New series refused for the tenant's max-series (pool batches only). */
  readonly tenantLimitedSeries?: number | undefined
  /** The global relabeling rules dropped or changed some series: the received body no longer matches the batch. */
  readonly rulesChanged?: boolean | undefined
}

type ColumnView = {
  seriesRefs: Uint32Array
  seriesIds: Uint32Array
  timestamps: Float64Array
  values: Float64Array
  startTimestamps: Float64Array
  newSeriesIds: Uint32Array
  newSeriesOffsets: Uint32Array
  newSeriesBytes: Uint8Array
  exemplarSeriesIds: Uint32Array
  exemplarTimestamps: Float64Array
  exemplarValues: Float64Array
  exemplarLabelOffsets: Uint32Array
  exemplarLabelBytes: Uint8Array
  histogramSeriesIds: Uint32Array
  histogramTimestamps: Float64Array
  histogramStartTimestamps: Float64Array
  histogramCounts: Float64Array
  histogramSums: Float64Array
  histogramZeroThresholds: Float64Array
  histogramZeroCounts: Float64Array
  histogramSchemas: Int32Array
  histogramKinds: Uint8Array
  histogramResetHints: Uint8Array
  spanStarts: Uint32Array
  spanOffsets: Int32Array
  spanLengths: Uint32Array
  bucketStarts: Uint32Array
  buckets: Float64Array
  customValueStarts: Uint32Array
  customValues: Float64Array
  metadataSeriesIds: Uint32Array
  metadataTypes: Uint8Array
  metadataOffsets: Uint32Array
  metadataBytes: Uint8Array
}

// Compile-time check that ColumnView names exactly the columns of the layout.
type _Exact = [ColumnName] extends [keyof ColumnView] ? ([keyof ColumnView] extends [ColumnName] ? true : never) : never
const _exact: _Exact = true
void _exact

// ignoreBOM: text that starts with U+FEFF keeps it (the default would strip it as a byte-order mark).
const textDecoder = new TextDecoder('utf-8', { ignoreBOM: true })

export interface RowBatch extends ColumnView {}

export class RowBatch {
  /** The one buffer holding header and columns; move it (transfer list) to hand the batch on. */
  readonly buffer: ArrayBuffer
  readonly meta: BatchMeta
  readonly counts: Readonly<Counts>
  private labelSource: LabelSource | undefined
  private newSeriesIndex: Map<number, number> | undefined

  constructor (buffer: ArrayBuffer, meta: BatchMeta, labelSource?: LabelSource) {
    const header = new Uint32Array(buffer, 0, HEADER_WORDS)
    if (header[H.magic] !== BATCH_MAGIC) throw new IngestError('internal', 'row batch buffer has no batch header')
    const counts = {} as Counts
    for (const [key, word] of Object.entries(H)) counts[key as keyof Counts] = header[word]!
    this.buffer = buffer
    this.meta = meta
    this.counts = counts
    this.labelSource = labelSource
    const { offsets } = columnOffsets(counts)
    const self = this as unknown as Record<string, ArrayBufferView>
    COLUMNS.forEach((col, i) => {
      const at = offsets[i]!
      const n = columnLength(col, counts)
      switch (col.kind) {
        case 'u8': self[col.name] = new Uint8Array(buffer, at, n); break
        case 'u32': self[col.name] = new Uint32Array(buffer, at, n); break
        case 'i32': self[col.name] = new Int32Array(buffer, at, n); break
        case 'f64': self[col.name] = new Float64Array(buffer, at, n); break
      }
    })
  }

  get version (): '1.0' | '2.0' { return this.counts.version === 2 ? '2.0' : '1.0' }
  get tenant (): string { return this.meta.tenant }
  get seriesCount (): number { return this.counts.seriesCount }
  get sampleCount (): number { return this.counts.sampleCount }
  get exemplarCount (): number { return this.counts.exemplarCount }
  get histogramCount (): number { return this.counts.histogramCount }
  get metadataCount (): number { return this.counts.metadataCount }
  get newSeriesCount (): number { return this.counts.newSeriesCount }
  get invalidSeriesCount (): number { return this.counts.invalidSeriesCount }
  /** New series refused because the series index is full (part of invalidSeriesCount). */
  get limitedSeriesCount (): number { return this.counts.limitedSeriesCount }
  get ignoredFieldCount (): number { return this.counts.ignoredFieldCount }
  get firstError (): WireError | undefined { return this.meta.firstError }
  /**
   * A gateway decode's batch (docs/forwarding.md "Gateway decode"): the body was checked and its rows
   * counted, but no column was built, so every column is empty and no series has labels here. Only a
   * sink that forwards the received body takes such a batch.
   */
  get rowsOmitted (): boolean { return this.counts.rowsOmitted === 1 }

  /** Where labels of series not new in this batch come from (the process' series index). */
  setLabelSource (source: LabelSource): void { this.labelSource = source }

  /** The labels of any series in this batch (new or known before), as name/value strings. */
  labelsOf (seriesId: number): Labels | undefined {
    if (this.rowsOmitted) throw rowsOmittedError()
    if (this.newSeriesIndex === undefined) {
      this.newSeriesIndex = new Map()
      for (let i = 0; i < this.newSeriesIds.length; i++) this.newSeriesIndex.set(this.newSeriesIds[i]!, i)
    }
    const i = this.newSeriesIndex.get(seriesId)
    if (i !== undefined) return decodeLabels(this.newSeriesBytes, this.newSeriesOffsets[i], this.newSeriesOffsets[i + 1])
    return this.labelSource?.labelsOf(seriesId)
  }

  /**
   * The canonical label bytes (src/series/labels.ts) of any series in this batch, a view (no copy, no
   * strings): of the batch's new-series bytes, or of the label source's; undefined when neither has them.
   */
  labelBytesOf (seriesId: number): Uint8Array | undefined {
    if (this.rowsOmitted) throw rowsOmittedError()
    if (this.newSeriesIndex === undefined) {
      this.newSeriesIndex = new Map()
      for (let i = 0; i < this.newSeriesIds.length; i++) this.newSeriesIndex.set(this.newSeriesIds[i]!, i)
    }
    const i = this.newSeriesIndex.get(seriesId)
    if (i !== undefined) return this.newSeriesLabelBytes(i)
    return this.labelSource?.labelBytes?.(seriesId)
  }

  /** Canonical label bytes of new series i (a view, no copy). */
  newSeriesLabelBytes (i: number): Uint8Array {
    return this.newSeriesBytes.subarray(this.newSeriesOffsets[i], this.newSeriesOffsets[i + 1])
  }

  /** The labels of exemplar i (its own labels, such as trace_id). */
  exemplarLabels (i: number): Labels {
    return decodeLabels(this.exemplarLabelBytes, this.exemplarLabelOffsets[i], this.exemplarLabelOffsets[i + 1])
  }

  /** Metadata entry i as strings. `seriesId` is 0 for Remote Write 1.0 metadata (it names a family, not a series). */
  metadata (i: number): { seriesId: number, type: (typeof METRIC_TYPES)[number], family: string, help: string, unit: string } {
    const o = this.metadataOffsets
    const b = this.metadataBytes
    return {
      seriesId: this.metadataSeriesIds[i]!,
      type: METRIC_TYPES[this.metadataTypes[i]!] ?? 'unknown',
      family: textDecoder.decode(b.subarray(o[3 * i], o[3 * i + 1])),
      help: textDecoder.decode(b.subarray(o[3 * i + 1], o[3 * i + 2])),
      unit: textDecoder.decode(b.subarray(o[3 * i + 2], o[3 * i + 3]))
    }
  }

  /** The raw 8 bytes of sample i's value (stale markers keep their payload here). */
  valueBits (i: number): bigint {
    return new DataView(this.buffer, this.values.byteOffset + 8 * i, 8).getBigUint64(0, true)
  }
}

/** A gateway batch asked for its rows: a wiring mistake, never the sender's. */
function rowsOmittedError (): IngestError {
  return new IngestError('internal', 'this batch carries counts only (gateway decode): its rows and labels were not decoded')
}
