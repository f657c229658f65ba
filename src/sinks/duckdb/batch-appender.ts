/**
 * Appends the rows of one RowBatch to the store's tables inside the open transaction: series rows
 * for series not stored yet, samples, exemplars and native histograms, each table through its own
 * appender, chunk by chunk, with bulk copies from the batch's typed arrays (vector-copy.ts).
 *
 * Per 2048-row chunk of samples the JavaScript work is four memcpy calls and one loop that turns
 * millisecond timestamps into microseconds; values go to DuckDB as the request's bytes.
 */
import type { DuckDBConnection } from '@duckdb/node-api'
import type { RowBatch } from '../../batch/row-batch.js'
import { HISTOGRAM_INT } from '../../batch/layout.js'
import { encodeLabels } from '../../series/labels.js'
import { IngestError } from '../../errors.js'
import { columnsOf, STORED_AS } from './schema.js'
import { TableChunk } from './table-chunk.js'
import type { StoredSeries } from './stored-series.js'
import {
  CHUNK_ROWS, ChunkScratch, copyColumn, copyTimestamps, copyTimestampsZeroAsNull, fillString, fillTimestamp,
  reserveListChild, setListSize, structChild, writeBytes, writeLabelMaps, writeListEntries
} from './vector-copy.js'

/** Where the canonical label bytes of a series the batch does not carry come from (the series index). */
export interface SeriesLabelBytes {
  labelBytes(id: number): Uint8Array | undefined
}

export interface AppendedRows {
  series: number
  samples: number
  exemplars: number
  histograms: number
}

const encoder = new TextEncoder()
const NO_KEY = new Uint8Array(0)

/**
 * Longest label key stored in `series.label_key`; a longer one is stored empty and rebuilt from
 * `labels` when the series are loaded (series-loader.ts). DuckDB 1.5 keeps a string of its block size
 * (256 KiB) or more in memory it cannot evict: at a 96 MB memory limit, about 40 rows of 256 KiB keys
 * made a commit fail, and the failed rollback invalidated the database. The labels themselves are
 * stored as one string per name and value, each far smaller.
 */
export const STORED_KEY_MAX = 64 * 1024

// Each table's vectors by column name, positions from the schema (schema.ts, TABLES).
const SERIES = columnsOf('series')
const SAMPLES = columnsOf('samples')
const EXEMPLARS = columnsOf('exemplars')
const HISTOGRAMS = columnsOf('histograms')

export class BatchAppender {
  private readonly scratch = new ChunkScratch()
  private readonly missingIds = new Uint32Array(CHUNK_ROWS)

  static async create (connection: DuckDBConnection, stored: StoredSeries, index?: SeriesLabelBytes): Promise<BatchAppender> {
    const [series, samples, exemplars, histograms] = await Promise.all(
      (['series', 'samples', 'exemplars', 'histograms'] as const).map(async t => await TableChunk.create(connection, STORED_AS[t])))
    return new BatchAppender(stored, index, series!, samples!, exemplars!, histograms!)
  }

  private constructor (
    private readonly stored: StoredSeries,
    private readonly index: SeriesLabelBytes | undefined,
    private readonly series: TableChunk,
    private readonly samples: TableChunk,
    private readonly exemplars: TableChunk,
    private readonly histograms: TableChunk
  ) {}

  /**
   * Appends every row of the batch. Returns an error (and appends nothing) when the batch references
   * a series whose labels cannot be found; throws when DuckDB fails, which spoils the transaction.
   */
  append (batch: RowBatch, nowMs: number, txn: number): { rows: AppendedRows, labelBytes: number } | { rejected: IngestError } {
    const missing = this.missingSeries(batch)
    let labelBytes: Uint8Array[] = []
    let labelByteCount = 0
    if (missing.length > 0) {
      const resolved = this.resolveLabels(batch, missing)
      if (resolved instanceof IngestError) return { rejected: resolved }
      labelBytes = resolved
      for (const b of labelBytes) labelByteCount += b.length
      for (const id of missing) this.stored.mark(id, txn)
      this.appendSeries(missing, labelBytes, batch.tenant, nowMs)
    }
    this.appendSamples(batch)
    this.appendExemplars(batch)
    this.appendHistograms(batch)
    return { rows: { series: missing.length, samples: batch.sampleCount, exemplars: batch.exemplarCount, histograms: batch.histogramCount }, labelBytes: labelByteCount }
  }

  /** Moves every appender's buffered rows into the open transaction (before COMMIT). */
  flush (): void {
    this.series.flush()
    this.samples.flush()
    this.exemplars.flush()
    this.histograms.flush()
  }

  /** Drops buffered rows (after a failure). */
  clear (): void {
    for (const t of [this.series, this.samples, this.exemplars, this.histograms]) {
      try { t.clear() } catch { /* the appender is being replaced anyway */ }
    }
  }

  close (): void {
    for (const t of [this.series, this.samples, this.exemplars, this.histograms]) t.close()
  }

  /** Ids referenced by the batch that have no series row yet, each once. */
  private missingSeries (batch: RowBatch): number[] {
    const out: number[] = []
    let seen: Set<number> | undefined
    const stored = this.stored
    for (const ids of [batch.seriesRefs, batch.seriesIds, batch.histogramSeriesIds, batch.exemplarSeriesIds]) {
      let previous = 0
      for (let i = 0; i < ids.length; i++) {
        const id = ids[i]!
        if (id === previous) continue // rows of one series come together
        previous = id
        if (id === 0 || stored.has(id)) continue
        seen ??= new Set()
        if (seen.has(id)) continue
        seen.add(id)
        out.push(id)
      }
    }
    return out
  }

  /** The canonical label bytes of each missing series, or an error naming the first one not found. */
  private resolveLabels (batch: RowBatch, ids: number[]): Uint8Array[] | IngestError {
    const carried = new Map<number, number>()
    for (let i = 0; i < batch.newSeriesIds.length; i++) carried.set(batch.newSeriesIds[i]!, i)
    const out: Uint8Array[] = []
    for (const id of ids) {
      const i = carried.get(id)
      let bytes = i !== undefined ? batch.newSeriesLabelBytes(i) : this.index?.labelBytes(id)
      if (bytes === undefined) {
        const labels = batch.labelsOf(id)
        if (labels !== undefined) bytes = encodeLabels(labels)
      }
      if (bytes === undefined) {
        return new IngestError('sink_failed', `series ${id} has no labels known to the DuckDB sink: the batch does not carry them and the series index does not know the id`, { seriesId: id })
      }
      out.push(bytes)
    }
    return out
  }

  private appendSeries (ids: number[], labelBytes: Uint8Array[], tenant: string, nowMs: number): void {
    const t = this.series
    const s = this.scratch
    const tenantBytes = encoder.encode(tenant)
    for (let start = 0; start < ids.length; start += CHUNK_ROWS) {
      const n = Math.min(CHUNK_ROWS, ids.length - start)
      for (let r = 0; r < n; r++) this.missingIds[r] = ids[start + r]!
      const v = t.begin()
      copyColumn(v[SERIES.id]!, this.missingIds, 0, n)
      writeLabelMaps(v[SERIES.labels]!, n, r => labelBytes[start + r]!, s, v[SERIES.metric]!) // labels, and metric from __name__
      fillString(v[SERIES.tenant]!, tenantBytes, n)
      fillTimestamp(v[SERIES.first_seen]!, nowMs, n, s)
      writeBytes(v[SERIES.label_key]!, n, r => { const key = labelBytes[start + r]!; return key.length < STORED_KEY_MAX ? key : NO_KEY })
      t.end(n)
    }
  }

  private appendSamples (batch: RowBatch): void {
    const t = this.samples
    const s = this.scratch
    const total = batch.sampleCount
    for (let start = 0; start < total; start += CHUNK_ROWS) {
      const n = Math.min(CHUNK_ROWS, total - start)
      const v = t.begin()
      copyColumn(v[SAMPLES.series_id]!, batch.seriesIds, start, n)
      copyTimestamps(v[SAMPLES.ts]!, batch.timestamps, start, n, s)
      copyColumn(v[SAMPLES.value]!, batch.values, start, n) // the request's bytes: stale markers keep their payload
      copyTimestampsZeroAsNull(v[SAMPLES.start_ts]!, batch.startTimestamps, start, n, s)
      t.end(n)
    }
  }

  private appendExemplars (batch: RowBatch): void {
    const t = this.exemplars
    const s = this.scratch
    const total = batch.exemplarCount
    const o = batch.exemplarLabelOffsets
    const bytes = batch.exemplarLabelBytes
    for (let start = 0; start < total; start += CHUNK_ROWS) {
      const n = Math.min(CHUNK_ROWS, total - start)
      const v = t.begin()
      copyColumn(v[EXEMPLARS.series_id]!, batch.exemplarSeriesIds, start, n)
      copyTimestamps(v[EXEMPLARS.ts]!, batch.exemplarTimestamps, start, n, s)
      copyColumn(v[EXEMPLARS.value]!, batch.exemplarValues, start, n)
      writeLabelMaps(v[EXEMPLARS.labels]!, n, r => bytes.subarray(o[start + r], o[start + r + 1]), s)
      t.end(n)
    }
  }

  private appendHistograms (batch: RowBatch): void {
    const t = this.histograms
    const s = this.scratch
    const total = batch.histogramCount
    const spanStarts = batch.spanStarts
    const bucketStarts = batch.bucketStarts
    const cvStarts = batch.customValueStarts
    for (let h0 = 0; h0 < total; h0 += CHUNK_ROWS) {
      const n = Math.min(CHUNK_ROWS, total - h0)
      const v = t.begin()
      const H = HISTOGRAMS
      copyColumn(v[H.series_id]!, batch.histogramSeriesIds, h0, n)
      copyTimestamps(v[H.ts]!, batch.histogramTimestamps, h0, n, s)
      copyTimestampsZeroAsNull(v[H.start_ts]!, batch.histogramStartTimestamps, h0, n, s)
      copyColumn(v[H.kind]!, batch.histogramKinds, h0, n) //        ENUM of < 256 values: stored as uint8 codes
      copyColumn(v[H.count]!, batch.histogramCounts, h0, n)
      copyColumn(v[H.sum]!, batch.histogramSums, h0, n) //          bits kept (stale histograms)
      copyColumn(v[H.schema]!, batch.histogramSchemas, h0, n)
      copyColumn(v[H.zero_threshold]!, batch.histogramZeroThresholds, h0, n)
      copyColumn(v[H.zero_count]!, batch.histogramZeroCounts, h0, n)
      copyColumn(v[H.reset_hint]!, batch.histogramResetHints, h0, n)

      // Spans: both list columns share one child range (all spans of these histograms, negative and
      // positive interleaved as in the batch); each row's entry points at its own part of it.
      const spanBase = spanStarts[2 * h0]!
      const spanCount = spanStarts[2 * (h0 + n)]! - spanBase
      for (const [col, side] of [[H.negative_spans, 0], [H.positive_spans, 1]] as const) {
        const child = reserveListChild(v[col]!, spanCount)
        copyColumn(structChild(child, 0), batch.spanOffsets, spanBase, spanCount)
        copyColumn(structChild(child, 1), batch.spanLengths, spanBase, spanCount)
        setListSize(v[col]!, spanCount)
        writeListEntries(v[col]!, spanStarts, 2 * h0 + side, 2, n, spanBase, s)
      }

      // Bucket counts, absolute: integer histograms carry deltas, summed here per side.
      const bucketBase = bucketStarts[2 * h0]!
      const bucketCount = bucketStarts[2 * (h0 + n)]! - bucketBase
      const counts = s.doublesFor(bucketCount)
      const buckets = batch.buckets
      const kinds = batch.histogramKinds
      for (let h = h0; h < h0 + n; h++) {
        for (let side = 0; side < 2; side++) {
          const a = bucketStarts[2 * h + side]!
          const b = bucketStarts[2 * h + side + 1]!
          if (kinds[h] === HISTOGRAM_INT) {
            let acc = 0
            for (let k = a; k < b; k++) { acc += buckets[k]!; counts[k - bucketBase] = acc }
          } else {
            counts.set(buckets.subarray(a, b), a - bucketBase) // same-type set: a byte copy
          }
        }
      }
      for (const [col, side] of [[H.negative_counts, 0], [H.positive_counts, 1]] as const) {
        const child = reserveListChild(v[col]!, bucketCount)
        copyColumn(child, counts, 0, bucketCount)
        setListSize(v[col]!, bucketCount)
        writeListEntries(v[col]!, bucketStarts, 2 * h0 + side, 2, n, bucketBase, s)
      }

      const cvBase = cvStarts[h0]!
      const cvCount = cvStarts[h0 + n]! - cvBase
      const cv = v[H.custom_values]!
      const cvChild = reserveListChild(cv, cvCount)
      copyColumn(cvChild, batch.customValues, cvBase, cvCount)
      setListSize(cv, cvCount)
      writeListEntries(cv, cvStarts, h0, 1, n, cvBase, s)
      t.end(n)
    }
  }
}
