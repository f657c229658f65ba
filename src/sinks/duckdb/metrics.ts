/**
 * The DuckDB sink's own metrics, beside the code they count. One set per registry (the process
 * registry, or a test's own), shared by the sinks registered on it; gauges read the live sinks at
 * scrape time.
 */
import { statSync } from 'node:fs'
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import type { CompactionFigures } from './blocks/block-maintenance.js'
import { registry as processRegistry } from '../../metrics/registry.js'
import { join } from 'node:path'
import { blocksDir, listBlockDir } from './blocks/block-files.js'
import { databaseFile } from './open-database.js'

export const METRIC = {
  transactions: 'prom_ingest_duckdb_transactions_total',
  transactionDuration: 'prom_ingest_duckdb_transaction_duration_seconds',
  commitDuration: 'prom_ingest_duckdb_commit_duration_seconds',
  rowsCommitted: 'prom_ingest_duckdb_rows_committed_total',
  writesWaiting: 'prom_ingest_duckdb_writes_waiting',
  logPendingBytes: 'prom_ingest_duckdb_log_pending_bytes',
  fileBytes: 'prom_ingest_duckdb_file_bytes',
  workerRestarts: 'prom_ingest_duckdb_worker_restarts_total',
  queriesRunning: 'prom_ingest_duckdb_queries_running',
  queriesWaiting: 'prom_ingest_duckdb_queries_waiting',
  blockBytes: 'prom_ingest_duckdb_block_bytes',
  compactedRanges: 'prom_ingest_duckdb_compacted_ranges_total',
  compactedRows: 'prom_ingest_duckdb_compacted_rows_total',
  compactionFailures: 'prom_ingest_duckdb_compaction_failures_total',
  compactionInterrupts: 'prom_ingest_duckdb_compaction_interrupts_total',
  readRequests: 'prom_ingest_read_requests_total',
  readSamples: 'prom_ingest_read_samples_total'
} as const

const NO_COMPACTION: CompactionFigures = { compactions: 0, compactedRows: 0, failures: 0, interrupts: 0 }

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]

/** What the gauges read from a live sink. */
export interface SinkFigures {
  readonly dataDir: string
  readonly waitingWrites: number
  /** Bytes of the store log (duckdb-ack log) not yet committed to DuckDB; 0 without it. */
  readonly logPendingBytes: number
  /** Queries running now, and waiting for a turn (query-gate.ts). */
  readonly queriesRunning: number
  readonly queriesWaiting: number
  /** What compaction did, from the store's thread (a round trip: read once per scrape). */
  compaction (): Promise<CompactionFigures>
}

export class DuckDbMetrics {
  readonly transactions: Counter<'result'>
  readonly transactionDuration: Histogram
  readonly commitDuration: Histogram
  readonly rowsCommitted: Counter
  readonly workerRestarts: Counter
  /** Remote reads answered, by response type (samples, streamed). */
  readonly readRequests: Counter<'response_type'>
  readonly readSamples: Counter
  readonly sinks = new Set<SinkFigures>()

  constructor (registry: Registry) {
    const registers = [registry]
    const sinks = this.sinks
    this.transactions = new Counter({ name: METRIC.transactions, help: 'Group-commit transactions of the DuckDB sink, by result (committed, failed).', labelNames: ['result'] as const, registers })
    this.transactionDuration = new Histogram({ name: METRIC.transactionDuration, help: 'Time from BEGIN to the end of COMMIT of a group-commit transaction.', buckets: BUCKETS, registers })
    this.commitDuration = new Histogram({ name: METRIC.commitDuration, help: 'Time COMMIT took (appender flush and metadata upsert included).', buckets: BUCKETS, registers })
    this.rowsCommitted = new Counter({ name: METRIC.rowsCommitted, help: 'Sample, histogram and exemplar rows committed to DuckDB.', registers })
    this.workerRestarts = new Counter({ name: METRIC.workerRestarts, help: 'Times the DuckDB sink worker died and was started again.', registers })
    this.readRequests = new Counter({ name: METRIC.readRequests, help: 'Remote-read requests answered from the store, by response type (samples, streamed).', labelNames: ['response_type'] as const, registers })
    this.readSamples = new Counter({ name: METRIC.readSamples, help: 'Samples sent in remote-read answers.', registers })
    new Gauge({ // eslint-disable-line no-new
      name: METRIC.writesWaiting,
      help: 'Writes handed to the DuckDB sink and not yet answered (waiting for their group commit).',
      registers,
      collect () { let n = 0; for (const s of sinks) n += s.waitingWrites; this.set(n) }
    })
    new Gauge({ // eslint-disable-line no-new
      name: METRIC.logPendingBytes,
      help: 'Bytes of the store log (duckdb-ack log) whose rows DuckDB has not committed yet: what a restart would store again. 0 without the log.',
      registers,
      collect () { let n = 0; for (const s of sinks) n += s.logPendingBytes; this.set(n) }
    })
    new Gauge({ // eslint-disable-line no-new
      name: METRIC.queriesRunning,
      help: 'Read-only queries running on the store now (at most query-concurrency).',
      registers,
      collect () { let n = 0; for (const s of sinks) n += s.queriesRunning; this.set(n) }
    })
    new Gauge({ // eslint-disable-line no-new
      name: METRIC.queriesWaiting,
      help: 'Read-only queries waiting for a turn (at most query-queue; more get 503 query_queue_full).',
      registers,
      collect () { let n = 0; for (const s of sinks) n += s.queriesWaiting; this.set(n) }
    })
    new Gauge({ // eslint-disable-line no-new
      name: METRIC.fileBytes,
      help: 'Size of the DuckDB database file and its write-ahead log.',
      registers,
      collect () {
        let n = 0
        for (const s of sinks) {
          const file = databaseFile(s.dataDir)
          for (const f of [file, `${file}.wal`]) { try { n += statSync(f).size } catch { /* not there yet */ } }
        }
        this.set(n)
      }
    })
    // The four compaction counters share one read of every sink's figures per scrape (the store runs
    // in a worker: one round trip, not four). A sink that cannot answer (restarting) counts nothing.
    let reading: Promise<CompactionFigures[]> | undefined
    const compactionFigures = async (): Promise<CompactionFigures[]> => {
      reading ??= Promise.all([...sinks].map(async s => await s.compaction().catch(() => NO_COMPACTION)))
        .finally(() => { reading = undefined })
      return await reading
    }
    const compactionCounter = (name: string, help: string, pick: (f: CompactionFigures) => number): void => {
      new Counter({ // eslint-disable-line no-new
        name,
        help,
        registers,
        async collect () {
          let n = 0
          for (const f of await compactionFigures()) n += pick(f)
          this.reset()
          this.inc(n)
        }
      })
    }
    compactionCounter(METRIC.compactedRanges, 'Time ranges the DuckDB store compacted into Parquet blocks.', f => f.compactions)
    compactionCounter(METRIC.compactedRows, 'Rows the DuckDB store moved from its head into Parquet blocks.', f => f.compactedRows)
    compactionCounter(METRIC.compactionFailures, 'Compaction passes that failed (the head keeps its rows; the next pass tries again).', f => f.failures)
    compactionCounter(METRIC.compactionInterrupts, 'Compactions of a range stopped because a write transaction needed the memory.', f => f.interrupts)
    new Gauge({ // eslint-disable-line no-new
      name: METRIC.blockBytes,
      help: 'Size of the Parquet blocks under data-dir/blocks (the dense tier, docs/store.md).',
      registers,
      collect () {
        let n = 0
        for (const s of sinks) {
          const dir = blocksDir(s.dataDir)
          for (const f of listBlockDir(dir)) { try { n += statSync(join(dir, f)).size } catch { /* removed meanwhile */ } }
        }
        this.set(n)
      }
    })
  }
}

const byRegistry = new WeakMap<Registry, DuckDbMetrics>()

export function duckDbMetrics (registry: Registry = processRegistry): DuckDbMetrics {
  let m = byRegistry.get(registry)
  if (m === undefined) {
    m = new DuckDbMetrics(registry)
    byRegistry.set(registry, m)
  }
  return m
}
