/**
 * The byte layout of a row batch: one ArrayBuffer that a worker fills and moves to the main thread
 * through the transfer list (one transfer, no clone).
 *
 * The buffer starts with a header of HEADER_WORDS uint32 words (the counts below); the columns follow
 * in COLUMNS order, each starting at a multiple of 8 bytes so that every typed array view is aligned.
 * A column's length is a function of the counts, so the header alone locates every column: the
 * receiver builds views, never objects per row (the Apache Iggy layout: an index vector beside raw bytes).
 */

/** Header words, in order. Written by the worker's BatchBuilder, read by RowBatch. */
export const H = {
  magic: 0, //              BATCH_MAGIC, guards against reading a foreign buffer
  version: 1, //            1 = Remote Write 1.0, 2 = Remote Write 2.0
  seriesCount: 2, //        TimeSeries accepted from the request (invalid ones are not counted)
  sampleCount: 3,
  newSeriesCount: 4, //     series this batch was first to see in the process
  newSeriesBytes: 5, //     bytes of their canonical label encodings
  exemplarCount: 6,
  exemplarLabelBytes: 7,
  histogramCount: 8,
  spanCount: 9, //          bucket spans of all histograms, negative and positive
  bucketCount: 10, //       bucket values of all histograms, negative and positive
  customValueCount: 11,
  metadataCount: 12,
  metadataBytes: 13,
  invalidSeriesCount: 14, //TimeSeries rejected by validation (the batch holds none of their rows)
  ignoredFieldCount: 15, // fields present in the body that the batch does not carry (unknown fields)
  decompressedBytes: 16, // size of the protobuf body after snappy
  compressedBytes: 17, //    size of the body as received
  limitedSeriesCount: 18, // new series refused because the series index is full (also in invalidSeriesCount)
  rowsOmitted: 19 //        1: a gateway decode's batch (docs/forwarding.md): the counts above, no columns
} as const

export const HEADER_WORDS = 20
export const BATCH_MAGIC = 0x50524f4d // 'PROM'

export type Counts = Record<keyof typeof H, number>

type Kind = 'u8' | 'u32' | 'i32' | 'f64'

export interface ColumnSpec {
  readonly name: ColumnName
  readonly kind: Kind
  readonly length: (c: Counts) => number
}

export const BYTES_PER: Record<Kind, number> = { u8: 1, u32: 4, i32: 4, f64: 8 }

/**
 * Every column of the batch. Ranges into a flat column are given by a start-index column with one
 * extra entry at the end (`offsets[i]..offsets[i + 1]`).
 */
export const COLUMNS = [
  // One entry per accepted TimeSeries, in request order: its series id.
  { name: 'seriesRefs', kind: 'u32', length: c => c.seriesCount },

  // Samples (float samples: one row each).
  { name: 'seriesIds', kind: 'u32', length: c => c.sampleCount },
  { name: 'timestamps', kind: 'f64', length: c => c.sampleCount }, //        ms since epoch
  { name: 'values', kind: 'f64', length: c => c.sampleCount }, //            bits copied from the body: stale markers keep their payload
  { name: 'startTimestamps', kind: 'f64', length: c => c.sampleCount }, //   RW2 start_timestamp (rc.4) or created_timestamp (rc.3); 0 = none

  // Series seen for the first time by this process: canonical label bytes, one range each.
  { name: 'newSeriesIds', kind: 'u32', length: c => c.newSeriesCount },
  { name: 'newSeriesOffsets', kind: 'u32', length: c => c.newSeriesCount + 1 },
  { name: 'newSeriesBytes', kind: 'u8', length: c => c.newSeriesBytes },

  // Exemplars: the series they belong to, their own labels as canonical bytes.
  { name: 'exemplarSeriesIds', kind: 'u32', length: c => c.exemplarCount },
  { name: 'exemplarTimestamps', kind: 'f64', length: c => c.exemplarCount },
  { name: 'exemplarValues', kind: 'f64', length: c => c.exemplarCount },
  { name: 'exemplarLabelOffsets', kind: 'u32', length: c => c.exemplarCount + 1 },
  { name: 'exemplarLabelBytes', kind: 'u8', length: c => c.exemplarLabelBytes },

  // Native histograms, one row each.
  { name: 'histogramSeriesIds', kind: 'u32', length: c => c.histogramCount },
  { name: 'histogramTimestamps', kind: 'f64', length: c => c.histogramCount },
  { name: 'histogramStartTimestamps', kind: 'f64', length: c => c.histogramCount },
  { name: 'histogramCounts', kind: 'f64', length: c => c.histogramCount }, //        count_int or count_float
  { name: 'histogramSums', kind: 'f64', length: c => c.histogramCount }, //          bits copied (stale histograms carry a stale NaN sum)
  { name: 'histogramZeroThresholds', kind: 'f64', length: c => c.histogramCount },
  { name: 'histogramZeroCounts', kind: 'f64', length: c => c.histogramCount },
  { name: 'histogramSchemas', kind: 'i32', length: c => c.histogramCount },
  { name: 'histogramKinds', kind: 'u8', length: c => c.histogramCount }, //          HISTOGRAM_INT or HISTOGRAM_FLOAT
  { name: 'histogramResetHints', kind: 'u8', length: c => c.histogramCount }, //     0 unknown, 1 yes, 2 no, 3 gauge
  // Histogram i: negative spans spanStarts[2i]..spanStarts[2i+1], positive spans ..spanStarts[2i+2].
  { name: 'spanStarts', kind: 'u32', length: c => 2 * c.histogramCount + 1 },
  { name: 'spanOffsets', kind: 'i32', length: c => c.spanCount },
  { name: 'spanLengths', kind: 'u32', length: c => c.spanCount },
  // Histogram i: negative buckets bucketStarts[2i]..bucketStarts[2i+1], positive ..bucketStarts[2i+2].
  // Integer histograms carry deltas (as sent), float histograms absolute counts.
  { name: 'bucketStarts', kind: 'u32', length: c => 2 * c.histogramCount + 1 },
  { name: 'buckets', kind: 'f64', length: c => c.bucketCount },
  { name: 'customValueStarts', kind: 'u32', length: c => c.histogramCount + 1 },
  { name: 'customValues', kind: 'f64', length: c => c.customValueCount },

  // Metadata: RW1 MetricMetadata entries (series id 0) and RW2 per-series metadata.
  // Metadata i: family name, help and unit are the byte ranges 3i..3i+1, 3i+1..3i+2, 3i+2..3i+3 of metadataOffsets.
  { name: 'metadataSeriesIds', kind: 'u32', length: c => c.metadataCount },
  { name: 'metadataTypes', kind: 'u8', length: c => c.metadataCount },
  { name: 'metadataOffsets', kind: 'u32', length: c => 3 * c.metadataCount + 1 },
  { name: 'metadataBytes', kind: 'u8', length: c => c.metadataBytes }
] as const satisfies readonly { name: string, kind: Kind, length: (c: Counts) => number }[]

export type ColumnName = (typeof COLUMNS)[number]['name']

export const HISTOGRAM_INT = 0
export const HISTOGRAM_FLOAT = 1

/** Prometheus metric types, as numbered in both protocol versions. */
export const METRIC_TYPES = ['unknown', 'counter', 'gauge', 'histogram', 'gaugehistogram', 'summary', 'info', 'stateset'] as const

export function align8 (n: number): number {
  return (n + 7) & ~7
}

/** Entries of a column for the given counts: none when the batch carries counts only. */
export function columnLength (col: ColumnSpec, c: Counts): number {
  return c.rowsOmitted === 1 ? 0 : col.length(c)
}

/** Byte offset of each column and the total size, for the given counts. */
export function columnOffsets (c: Counts): { offsets: number[], byteLength: number } {
  const offsets: number[] = []
  let at = align8(HEADER_WORDS * 4)
  for (const col of COLUMNS) {
    offsets.push(at)
    at = align8(at + columnLength(col, c) * BYTES_PER[col.kind])
  }
  return { offsets, byteLength: at }
}
