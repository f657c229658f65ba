/**
 * The store: one DuckDB database file, written by one thread (the sink worker, or the main thread
 * when the sink runs in-process). It owns the writer connection, the appenders, the stored-series
 * set, the group committer, retention, and the reader connections for read-only queries (one per
 * query that may run at once).
 */
import { statSync } from 'node:fs'
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api'
import type { RowBatch, LabelSource } from '../../batch/row-batch.js'
import { IngestError } from '../../errors.js'
import { BatchAppender, type SeriesLabelBytes } from './batch-appender.js'
import { GroupCommitter, type CommitReport, type TransactionWriter, type Txn } from './group-commit.js'
import { MetadataUpsert } from './metadata-upsert.js'
import { databaseFile, ensureSchema, openDatabase } from './open-database.js'
import { streamReadOnlyQuery, DEFAULT_QUERY_LIMITS, type PartWriter, type QueryLimits, type QuerySummary } from './query-guard.js'
import type { QueryFormat, QueryOutput } from './result-format.js'
import { applyRetention, retentionInterval, type RetentionResult } from './retention.js'
import { loadKnownSeries, type LoadedSeries, type SeriesIndexLoader } from './series-loader.js'
import { StoredSeries } from './stored-series.js'

/** What the store needs of the process' series index (src/series/series-index.ts has all of it). */
export type StoreIndex = SeriesIndexLoader & SeriesLabelBytes & LabelSource

/** Failures on purpose, for tests: they take the real failure path (a DuckDB error inside the transaction). */
export interface StoreFaults {
  /** The next N commits fail. */
  failCommits?: number
  /** The sink worker thread exits when its Nth write arrives (worker mode only). */
  exitWorkerAtWrite?: number
}

export type LogFn = (level: 'debug' | 'info' | 'warn' | 'error', msg: string, obj?: Record<string, unknown>) => void

export interface StoreOptions {
  dataDir: string
  /** Longest a group-commit transaction stays open, ms. */
  commitInterval: number
  /** Rows after which a transaction commits at once. */
  commitMaxRows: number
  /** Commit once no batch arrived for this long, ms (default 2; see group-commit.ts). */
  commitQuiet?: number
  /** Delete rows older than this, ms; 0 keeps everything. */
  retentionMs: number
  /** How often retention runs, ms (default: a tenth of the retention, 1 s to 10 min). */
  retentionIntervalMs?: number
  /** DuckDB memory limit (default '96MB', see DEFAULT_MEMORY_LIMIT). */
  memoryLimit?: string
  /** DuckDB threads (default: DuckDB's, one per core). */
  threads?: number
  /** WAL size that triggers a checkpoint (default '16MB': smaller checkpoints, shorter commit stalls, less memory). */
  checkpointThreshold?: string
  index?: StoreIndex
  queryLimits?: QueryLimits
  /** Reader connections: queries that may run at once (default 1; more wait for a free one). */
  queryConcurrency?: number
  faults?: StoreFaults
  log?: LogFn
}

export interface StoreStats {
  readonly seriesStored: number
  readonly commits: number
  readonly failedCommits: number
  readonly rowsCommitted: number
  readonly waiting: number
  readonly fileBytes: number
  readonly walBytes: number
  /** JavaScript heap of the thread that runs the store (the sink worker, or the main thread). */
  readonly heapUsedBytes: number
  /** Memory outside the JavaScript heap held by that thread's objects (batch buffers). */
  readonly externalBytes: number
}

/**
 * DuckDB's buffer pool: blocks it caches (mostly clean, already on disk) and the data not yet
 * checkpointed (at most about checkpoint-threshold of WAL). Measured on the e2e load (160,000 series,
 * 1.2M samples/s): DuckDB's own allocations outside the pool add ~150 MB, so 96 MB keeps the service
 * under 500 MB RSS without costing throughput (128 MB: peak ~540 MB; 256 MB: ~600 MB and growing as
 * the cache fills). Raise it for large series counts or heavy queries.
 */
export const DEFAULT_MEMORY_LIMIT = '96MB'

/** Writer connections: a transaction commits on one while the next takes batches on the other. */
const LANES = 2

/** One writer connection and its appenders (made again after a failed transaction). */
interface Lane {
  readonly connection: DuckDBConnection
  appender: BatchAppender | undefined
  spoiled: boolean
}

export class DuckDbStore implements TransactionWriter {
  private readonly stored = new StoredSeries()
  private readonly metadata = new MetadataUpsert()
  private readonly committer: GroupCommitter
  readonly lanes = LANES
  private retentionTimer: NodeJS.Timeout | undefined
  private commits = 0
  private failedCommits = 0
  private rowsCommitted = 0
  private closed = false
  /** Reader connections not running a query, and queries waiting for one. */
  private readonly freeReaders: DuckDBConnection[]
  private readonly readerWaiters: Array<(c: DuckDBConnection) => void> = []
  private readonly faults: StoreFaults

  /** Opens the file, creates the schema, loads the known series, and is ready for writes. */
  static async open (o: StoreOptions, onSettled: (report: CommitReport) => void): Promise<{ store: DuckDbStore, loaded: LoadedSeries }> {
    const instance = await openDatabase(o.dataDir, {
      memoryLimit: o.memoryLimit ?? DEFAULT_MEMORY_LIMIT,
      checkpointThreshold: o.checkpointThreshold ?? '16MB',
      ...(o.threads !== undefined ? { threads: o.threads } : {})
    })
    const connections: DuckDBConnection[] = []
    try {
      const readers = Math.max(1, o.queryConcurrency ?? 1)
      for (let i = 0; i < LANES + readers; i++) connections.push(await instance.connect())
      const writers = connections.slice(0, LANES)
      await ensureSchema(writers[0]!)
      const store = new DuckDbStore(o, instance, writers.map(w => ({ connection: w, appender: undefined, spoiled: false })), connections.slice(LANES), onSettled)
      const loaded = await loadKnownSeries(writers[0]!, o.index, store.stored)
      store.scheduleRetention()
      return { store, loaded }
    } catch (err) {
      for (const c of connections) c.closeSync()
      instance.closeSync()
      throw err instanceof IngestError ? err : new IngestError('sink_failed', `opening the DuckDB store failed: ${(err as Error).message.split('\n')[0]}`)
    }
  }

  private constructor (
    private readonly o: StoreOptions,
    private readonly instance: DuckDBInstance,
    private readonly writers: Lane[],
    private readonly readers: readonly DuckDBConnection[],
    private readonly onSettled: (report: CommitReport) => void
  ) {
    this.faults = { ...o.faults }
    this.freeReaders = [...readers]
    this.committer = new GroupCommitter(this, { commitInterval: o.commitInterval, commitMaxRows: o.commitMaxRows, ...(o.commitQuiet !== undefined ? { commitQuiet: o.commitQuiet } : {}) }, report => {
      if (report.error === undefined) {
        this.commits++
        this.rowsCommitted += report.rows
      } else if (report.rows > 0 || report.seqs.length > 1) {
        this.failedCommits++
        this.o.log?.('warn', 'DuckDB transaction failed and was rolled back', { writes: report.seqs.length, rows: report.rows, reason: report.error.message })
      }
      onSettled(report)
    })
  }

  /** Hands a batch to the group committer; the report for `seq` comes through onSettled. */
  submit (seq: number, batch: RowBatch): void {
    if (this.closed) {
      const error = new IngestError('sink_failed', 'the DuckDB store is closed')
      setImmediate(() => this.onSettled({ seqs: [seq], rows: 0, transactionMs: 0, commitMs: 0, error }))
      return
    }
    this.committer.submit(seq, batch)
  }

  /**
   * Runs a read-only query on a free reader connection (waiting for one when all run queries) and
   * writes its answer in parts (query-guard.ts). The sink in front bounds how many wait.
   */
  async streamQuery (sql: string, format: QueryFormat, write: PartWriter, signal?: AbortSignal): Promise<QuerySummary> {
    if (this.closed) throw new IngestError('sink_failed', 'the DuckDB store is closed')
    const reader = this.freeReaders.pop() ?? await new Promise<DuckDBConnection>(resolve => this.readerWaiters.push(resolve))
    try {
      return await streamReadOnlyQuery(reader, sql, format, this.o.queryLimits ?? DEFAULT_QUERY_LIMITS, write, signal)
    } finally {
      const next = this.readerWaiters.shift()
      if (next !== undefined) next(reader)
      else this.freeReaders.push(reader)
    }
  }

  /** Runs a read-only query and returns its whole answer. */
  async query (sql: string, format: QueryFormat): Promise<QueryOutput> {
    const parts: string[] = []
    const summary = await this.streamQuery(sql, format, text => { parts.push(text) })
    return { body: parts.join(''), contentType: summary.contentType, rowCount: summary.rowCount, truncated: summary.truncated }
  }

  /** Deletes what is older than the retention (now - retentionMs), between two group commits. */
  async retention (nowMs = Date.now()): Promise<RetentionResult> {
    if (this.o.retentionMs <= 0) throw new IngestError('config_invalid', 'retention is 0 (keep everything): nothing to delete')
    return await this.committer.exclusive(async () => {
      const result = await applyRetention(this.writers[0]!.connection, nowMs - this.o.retentionMs)
      for (const id of result.seriesIds) this.stored.unmark(id)
      if (result.metadata > 0) this.metadata.forget()
      return result
    })
  }

  stats (): StoreStats {
    const size = (f: string): number => { try { return statSync(f).size } catch { return 0 } }
    const file = databaseFile(this.o.dataDir)
    const memory = process.memoryUsage() // heap figures are this thread's own
    return {
      seriesStored: this.stored.size,
      commits: this.commits,
      failedCommits: this.failedCommits,
      rowsCommitted: this.rowsCommitted,
      waiting: this.committer.waiting,
      fileBytes: size(file),
      walBytes: size(`${file}.wal`),
      heapUsedBytes: memory.heapUsed,
      externalBytes: memory.external
    }
  }

  /** Commits what is pending, then closes the connections and the file. */
  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    if (this.retentionTimer !== undefined) clearInterval(this.retentionTimer)
    await this.committer.drain()
    for (let i = 0; i < this.readers.length; i++) {
      if (this.freeReaders.pop() === undefined) await new Promise<DuckDBConnection>(resolve => this.readerWaiters.push(resolve)) // a query still runs
    }
    for (const lane of this.writers) {
      lane.appender?.close()
      lane.connection.closeSync()
    }
    for (const reader of this.readers) reader.closeSync()
    this.instance.closeSync()
  }

  // TransactionWriter: called by the group committer only.

  async begin (txn: Txn): Promise<void> {
    const lane = this.writers[txn.lane]!
    if (lane.spoiled || lane.appender === undefined) {
      lane.appender?.close()
      lane.appender = await BatchAppender.create(lane.connection, this.stored, this.o.index)
      lane.spoiled = false
    }
    await lane.connection.run('BEGIN TRANSACTION')
  }

  append (txn: Txn, batch: RowBatch): number | IngestError {
    const now = Date.now()
    const result = this.writers[txn.lane]!.appender!.append(batch, now, txn.id)
    if ('rejected' in result) return result.rejected
    this.metadata.collect(batch, now, txn.id)
    return result.rows.samples + result.rows.histograms + result.rows.exemplars
  }

  async commit (txn: Txn): Promise<void> {
    const lane = this.writers[txn.lane]!
    lane.appender!.flush()
    if ((this.faults.failCommits ?? 0) > 0) {
      this.faults.failCommits!--
      await lane.connection.run("SELECT error('injected commit failure (StoreFaults.failCommits)')")
    }
    await lane.connection.run('COMMIT')
    this.stored.commit(txn.id)
    try {
      await this.metadata.write(lane.connection, Date.now(), txn.id)
    } catch (err) {
      this.o.log?.('warn', 'writing metric metadata failed; it is written again when next seen', { reason: (err as Error).message.split('\n')[0] })
    }
  }

  async rollback (txn: Txn): Promise<void> {
    const lane = this.writers[txn.lane]!
    lane.appender?.clear()
    lane.spoiled = true
    this.stored.rollback(txn.id)
    this.metadata.rollback(txn.id)
    await lane.connection.run('ROLLBACK')
  }

  private scheduleRetention (): void {
    if (this.o.retentionMs <= 0) return
    const every = this.o.retentionIntervalMs ?? retentionInterval(this.o.retentionMs)
    this.retentionTimer = setInterval(() => {
      this.retention().then(r => {
        if (r.samples + r.histograms + r.exemplars + r.seriesIds.length > 0) {
          this.o.log?.('info', 'retention deleted old rows', { cutoff: new Date(r.cutoffMs).toISOString(), samples: r.samples, histograms: r.histograms, exemplars: r.exemplars, series: r.seriesIds.length, ms: Math.round(r.durationMs) })
        }
      }, err => this.o.log?.('error', 'retention failed', { reason: (err as Error).message }))
    }, every)
    this.retentionTimer.unref()
  }
}
