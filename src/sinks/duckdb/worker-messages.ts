/**
 * Messages between the DuckDB sink (main thread) and its worker (the thread that owns the database).
 * Batches travel as their one ArrayBuffer in the transfer list (moved, not copied); errors travel as
 * WireError data and are rebuilt on the other side.
 */
import type { BatchMeta } from '../../batch/row-batch.js'
import type { WireError } from '../../errors.js'
import type { SeriesIndexShared } from '../../series/series-index.js'
import type { CompactRequest } from './blocks/block-maintenance.js'
import type { CompactionResult } from './blocks/compaction.js'
import type { StoreOptions, StoreStats } from './duckdb-store.js'
import type { MarkRange } from './store-log-mark.js'
import type { QuerySummary } from './query-guard.js'
import type { QueryFormat } from './result-format.js'
import type { StoreReadAnswer, StoreReadRequest } from './remote-read.js'
import type { RetentionResult } from './retention.js'
import type { LoadedSeries } from './series-loader.js'

export interface SinkWorkerData {
  readonly options: Omit<StoreOptions, 'index' | 'log'>
  /** The process' series index, attached in the worker (shared memory, not copied). */
  readonly index?: SeriesIndexShared | undefined
}

export type Call =
  | { readonly kind: 'retention', readonly nowMs: number }
  | { readonly kind: 'stats' }
  | { readonly kind: 'probe' }
  | { readonly kind: 'commit-now' }
  | { readonly kind: 'compact', readonly request: CompactRequest }
  | { readonly kind: 'read', readonly request: StoreReadRequest }
  /** A store log replay begins: where it starts (store-log-mark.ts). */
  | { readonly kind: 'log-start', readonly cursor: number, readonly head: number }

export interface CallResult {
  retention: RetentionResult
  stats: StoreStats
  probe: undefined
  'commit-now': undefined
  compact: CompactionResult
  read: StoreReadAnswer
  'log-start': number
}

export type ToWorker =
  // log: the store log record the batch came from (duckdb-ack log).
  | { readonly t: 'write', readonly seq: number, readonly buffer: ArrayBuffer, readonly meta: BatchMeta, readonly log?: MarkRange | undefined }
  /** A store log record that will never be stored: DuckDB's mark may pass it (in order with the writes). */
  | { readonly t: 'log-pass', readonly range: MarkRange }
  | { readonly t: 'call', readonly id: number, readonly call: Call }
  | { readonly t: 'close' }
  // A query's answer travels in parts (query-part); the worker sends at most QUERY_WINDOW parts ahead
  // of the query-pull messages that say a part was taken, and stops on query-cancel.
  | { readonly t: 'query', readonly id: number, readonly sql: string, readonly format: QueryFormat }
  | { readonly t: 'query-pull', readonly id: number }
  | { readonly t: 'query-cancel', readonly id: number }

export type FromWorker =
  | { readonly t: 'ready', readonly loaded: LoadedSeries }
  | { readonly t: 'start-failed', readonly error: WireError }
  | { readonly t: 'settled', readonly seqs: number[], readonly rows: number, readonly transactionMs: number, readonly commitMs: number, readonly error?: WireError | undefined }
  | { readonly t: 'reply', readonly id: number, readonly value?: unknown, readonly error?: WireError | undefined }
  | { readonly t: 'log', readonly level: 'debug' | 'info' | 'warn' | 'error', readonly msg: string, readonly obj?: Record<string, unknown> | undefined }
  | { readonly t: 'closed' }
  | { readonly t: 'query-part', readonly id: number, readonly text: string }
  | { readonly t: 'query-end', readonly id: number, readonly summary?: QuerySummary | undefined, readonly error?: WireError | undefined }

/** Parts of one answer the worker may send before the main thread took the first of them. */
export const QUERY_WINDOW = 2
