/**
 * prom-ingest's library API.
 */
export { decodeWriteRequest, localSeriesIndex } from './decode/decode-write-request.js'
export { Decoder } from './decode/decoder.js'
export { DEFAULT_LIMITS, resolveDecodeOptions, type DecodeLimits, type DecodeOptions, type ProtocolVersion } from './decode/options.js'
export { RowBatch, type BatchMeta, type LabelSource } from './batch/row-batch.js'
export { COLUMNS, HISTOGRAM_FLOAT, HISTOGRAM_INT, METRIC_TYPES } from './batch/layout.js'
export { SeriesIndex, type SeriesIndexOptions, type SeriesIndexShared } from './series/series-index.js'
export { decodeLabels, encodeLabels, formatSeries, type Labels } from './series/labels.js'
export { CODES, IngestError, type ErrorCode, type WireError } from './errors.js'
export type { Sink } from './sinks/sink.js'
