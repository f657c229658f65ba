/**
 * The store: one DuckDB database file, written by one thread (the sink worker, or the main thread
 * when the sink runs in-process). It owns the writer connection, the appenders, the stored-series
 * set, the group committer, retention, and the reader connections for read-only queries (one per
 * query that may run at once).
 */
import { statSync } from 'node:fs'
import type { DuckDBConnection, DuckDBExtractedStatements, DuckDBInstance, DuckDBPreparedStatement } from '@duckdb/node-api'
import type { RowBatch, LabelSource } from '../../batch/row-batch.js'
import { IngestError } from '../../errors.js'
import { BatchAppender, type SeriesLabelBytes } from './batch-appender.js'
import { BlockMaintenance, blockMaxRows, DEFAULT_BLOCK_WINDOW_MS, DEFAULT_COMPACTION_INTERVAL_MS, type CompactionFigures, type CompactRequest } from './blocks/block-maintenance.js'
import { reconcileBlocks } from './blocks/block-reconcile.js'
import type { CompactionResult } from './blocks/compaction.js'
import { GroupCommitter, type CommitReport, type TransactionWriter, type Txn } from './group-commit.js'
import { MetadataUpsert } from './metadata-upsert.js'
import { databaseFile, ensureSchema, openDatabase } from './open-database.js'
import { streamReadOnlyQuery, DEFAULT_QUERY_LIMITS, type PartWriter, type QueryLimits, type QuerySummary } from './query-guard.js'
import type { QueryFormat, QueryOutput } from './result-format.js'
import { remoteRead, type StoreReadAnswer, type StoreReadRequest } from './remote-read.js'
import { applyRetention, retentionInterval, type RetentionResult } from './retention.js'
import { isOutOfMemory, loadKnownSeries, type LoadedSeries, type SeriesIndexLoader } from './series-loader.js'
import { LogMark, markStatement, type MarkRange } from './store-log-mark.js'
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
  /** Time window of a block, ms (default 2 h; setting block-window). */
  blockWindowMs?: number
  /** How often compaction runs, ms; 0: only on demand (default 1 min; setting compaction-interval). */
  compactionIntervalMs?: number
  /** DuckDB memory limit (default DEFAULT_MEMORY_LIMIT). */
  memoryLimit?: string
  /** DuckDB threads (default DEFAULT_THREADS; 0: DuckDB's, one per core). */
  threads?: number
  /** WAL size that triggers a checkpoint (default DEFAULT_CHECKPOINT_THRESHOLD). */
  checkpointThreshold?: string
  index?: StoreIndex
  queryLimits?: QueryLimits
  /** Reader connections: queries that may run at once (default 1; more wait for a free one). */
  queryConcurrency?: number
  faults?: StoreFaults
  log?: LogFn
  /**
   * DuckDB invalidated the database after a fatal error (a failed rollback): nothing more can be
   * done with this instance. The host closes the store and starts it again (the file is reopened).
   */
  onInvalidated?: (error: IngestError) => void
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
  /** Transactions run again after DuckDB ran out of memory. */
  readonly memoryRetries: number
  /** Queries stopped to free memory for a transaction. */
  readonly queriesStopped: number
  readonly compaction: CompactionFigures
}

/**
 * DuckDB's buffer pool: the rows not yet checkpointed (up to about 1.6 times checkpoint-threshold of
 * WAL), the blocks the checkpoint reads back (the table's last row groups), and otherwise blocks of
 * the file that DuckDB keeps cached because there is room: ingest never reads those again. Measured
 * on the e2e load (bench/README.md, "The store's memory: DuckDB's side"): at 96 MB the pool filled
 * to the limit within 30 s, two thirds of it cached blocks; at 48 MB it holds 25 to 45 MiB, the
 * service's RSS is ~30 MiB lower (average and peak) and CPU per sample unchanged (evicting a clean
 * block costs nothing). Raise it for large series counts or heavy queries (they spill to disk first).
 */
export const DEFAULT_MEMORY_LIMIT = '48MB'

/**
 * DuckDB's threads (setting duckdb-threads). The writer's work (appending, COMMIT, the checkpoint a
 * COMMIT runs) happens on the thread that calls DuckDB whatever this says; more threads only run
 * checkpoint compression and queries in parallel. On the e2e load (bench/README.md, the store
 * against VictoriaMetrics) one thread took 6 to 15% less CPU per sample than one per core, whose
 * extra threads only compete with the decode workers and HTTP for the same cores.
 */
export const DEFAULT_THREADS = 1

/**
 * Write-ahead log size at which a COMMIT runs a checkpoint (setting duckdb-checkpoint-threshold).
 * The rows logged since the last checkpoint stay in DuckDB's memory until then, and the commit that
 * runs the checkpoint (and the other lane's, which waits for it) takes as long as the checkpoint:
 * that commit is the service's latency tail (bench/README.md).
 */
export const DEFAULT_CHECKPOINT_THRESHOLD = '16MiB'

/**
 * Label bytes of new series after which a transaction commits without waiting for more batches:
 * a series row holds its labels twice (the MAP and the key), and DuckDB holds a transaction's rows
 * in its buffer pool until they are checkpointed. Measured with 384 KB label sets at 96 MB: commits
 * of 8 MB of labels ran on for ever; 23 MB failed the third time, and the failed rollback invalidated
 * the database. A single batch larger than this still goes in one transaction of its own.
 */
export function transactionLabelBudget (memoryLimitBytes: number): number {
  return Math.max(1 << 20, Math.floor(memoryLimitBytes / 12))
}

/** Bytes of a DuckDB size text ('96MB', '1GiB', '100663296B'); undefined when not understood. */
export function duckDbBytes (text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text)
  if (m === null) return undefined
  const units: Record<string, number> = { '': 1, b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40 }
  const unit = units[m[2]!.toLowerCase()]
  return unit === undefined ? undefined : Math.floor(Number(m[1]) * unit)
}

/** Memory limits tried at start: the setting, then twice and four times it (see `open`). */
const START_LIMIT_FACTORS = [1, 2, 4]

/**
 * The reader connection as a query sees it: every statement it prepares is noted in `made`. A failed
 * query's memory stays allocated in DuckDB until its prepared statement is destroyed, which the
 * garbage collector does only when it gets round to it: three failed 64 MB queries in a row held
 * 87 MiB of a 96 MB limit, and every commit failed meanwhile. The store destroys them at once.
 */
function noting (connection: DuckDBConnection, made: DuckDBPreparedStatement[]): DuckDBConnection {
  const note = async (p: Promise<DuckDBPreparedStatement>): Promise<DuckDBPreparedStatement> => { const s = await p; made.push(s); return s }
  return new Proxy(connection, {
    get (target, key) {
      if (key === 'prepare') return async (sql: string) => await note(target.prepare(sql))
      if (key === 'extractStatements') {
        return async (sql: string) => {
          const extracted = await target.extractStatements(sql)
          return new Proxy(extracted, {
            get (t, k) {
              if (k === 'prepare') return async (index: number) => await note(t.prepare(index))
              const v = Reflect.get(t, k, t) as unknown
              return typeof v === 'function' ? v.bind(t) : v
            }
          }) satisfies DuckDBExtractedStatements
        }
      }
      const v = Reflect.get(target, key, target) as unknown
      return typeof v === 'function' ? v.bind(target) : v
    }
  })
}

/** Whether a DuckDB error says the database can no longer be used in this process. */
function isFatal (err: unknown): boolean {
  return /FATAL Error|database has been invalidated/i.test(err instanceof Error ? err.message : String(err))
}

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
  /** Readers running a query, with the reason when the store stopped it (writes come first). */
  private readonly busyReaders = new Map<DuckDBConnection, IngestError | undefined>()
  /** Called once no query runs: a transaction run again for memory waits for stopped queries to let go. */
  private idleWaiters: Array<() => void> = []
  private memoryRetries = 0
  private queriesStopped = 0
  private invalidated = false
  private readonly labelBudget: number
  /** Label bytes of new series appended per open transaction. */
  private readonly labelBytes = new Map<number, number>()
  private readonly faults: StoreFaults

  /**
   * Opens the file, creates the schema, loads the known series, and is ready for writes.
   *
   * A start must not fail because of what the store accepted earlier: when DuckDB runs out of memory
   * while it opens the file (replaying the write-ahead log of a large transaction) or loads the
   * series, the store is opened again with twice, then four times the memory limit, and says so.
   */
  static async open (o: StoreOptions, onSettled: (report: CommitReport) => void): Promise<{ store: DuckDbStore, loaded: LoadedSeries }> {
    const limit = o.memoryLimit ?? DEFAULT_MEMORY_LIMIT
    const bytes = duckDbBytes(limit)
    for (let i = 0; ; i++) {
      const memoryLimit = i === 0 || bytes === undefined ? limit : `${bytes * START_LIMIT_FACTORS[i]!}B`
      try {
        const opened = await DuckDbStore.openWith({ ...o, memoryLimit }, onSettled)
        if (i > 0) o.log?.('warn', 'the DuckDB store needed more memory than duckdb-memory-limit to open; it runs with more', { memoryLimit: limit, runsWith: memoryLimit })
        return opened
      } catch (err) {
        if (bytes === undefined || i + 1 >= START_LIMIT_FACTORS.length || !isOutOfMemory(err)) throw err
        o.log?.('warn', 'opening the DuckDB store ran out of memory; trying with more', { memoryLimit, reason: (err as Error).message.split('\n')[0] })
      }
    }
  }

  private static async openWith (o: StoreOptions & { memoryLimit: string }, onSettled: (report: CommitReport) => void): Promise<{ store: DuckDbStore, loaded: LoadedSeries }> {
    const instance = await openDatabase(o.dataDir, {
      memoryLimit: o.memoryLimit,
      checkpointThreshold: o.checkpointThreshold ?? DEFAULT_CHECKPOINT_THRESHOLD,
      ...((o.threads ?? DEFAULT_THREADS) > 0 ? { threads: o.threads ?? DEFAULT_THREADS } : {})
    })
    const connections: DuckDBConnection[] = []
    try {
      const readers = Math.max(1, o.queryConcurrency ?? 1)
      for (let i = 0; i < LANES + readers + 1; i++) connections.push(await instance.connect())
      const writers = connections.slice(0, LANES)
      await ensureSchema(writers[0]!)
      await reconcileBlocks(writers[0]!, o.dataDir, o.log)
      const blocks = new BlockMaintenance(connections[LANES + readers]!, {
        dataDir: o.dataDir,
        windowMs: o.blockWindowMs ?? DEFAULT_BLOCK_WINDOW_MS,
        intervalMs: o.compactionIntervalMs ?? DEFAULT_COMPACTION_INTERVAL_MS,
        maxRows: blockMaxRows(duckDbBytes(o.memoryLimit) ?? 48e6),
        ...(o.log !== undefined ? { log: o.log } : {})
      })
      const logMark = await LogMark.read(writers[0]!)
      const store = new DuckDbStore(o, instance, writers.map(w => ({ connection: w, appender: undefined, spoiled: false })), connections.slice(LANES, LANES + readers), blocks, logMark, onSettled)
      const loaded = await loadKnownSeries(writers[0]!, o.index, store.stored)
      store.scheduleRetention()
      blocks.start()
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
    private readonly blocks: BlockMaintenance,
    private readonly logMark: LogMark,
    private readonly onSettled: (report: CommitReport) => void
  ) {
    this.faults = { ...o.faults }
    this.freeReaders = [...readers]
    this.labelBudget = transactionLabelBudget(duckDbBytes(o.memoryLimit ?? DEFAULT_MEMORY_LIMIT) ?? 48e6)
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

  /**
   * Hands a batch to the group committer; the report for `seq` comes through onSettled. `log`: the
   * store log record the batch was decoded from (duckdb-ack log), which its transaction marks committed.
   */
  submit (seq: number, batch: RowBatch, log?: MarkRange): void {
    if (this.closed) {
      const error = new IngestError('sink_failed', 'the DuckDB store is closed')
      setImmediate(() => this.onSettled({ seqs: [seq], rows: 0, transactionMs: 0, commitMs: 0, error }))
      return
    }
    if (log !== undefined) this.logMark.add(seq, log)
    this.committer.submit(seq, batch)
  }

  /** A store log record that will never be stored (it cannot be decoded again): the log mark may pass it. */
  passLog (range: MarkRange): void {
    this.logMark.pass(range)
  }

  /**
   * A replay of the store log begins (nothing is in flight): returns the position it starts from,
   * DuckDB's mark moved up to the log's cursor (or down to its head), written at once when it moved.
   */
  async logStart (cursor: number, head: number): Promise<number> {
    return await this.committer.exclusive(async () => {
      const was = this.logMark.position
      const { from, changed } = this.logMark.restart(cursor, head)
      if (was > head) this.o.log?.('warn', 'the store log ends before DuckDB\'s mark in it (its files were removed?); the mark moves back to the log\'s head', { mark: was, head })
      if (changed) {
        const c = this.writers[0]!.connection
        await c.run('BEGIN TRANSACTION')
        try {
          await c.run(markStatement(from))
          await c.run('COMMIT')
        } catch (err) {
          this.checkFatal(err)
          try { await c.run('ROLLBACK') } catch { /* already rolled back */ }
          throw new IngestError('sink_failed', `moving DuckDB's mark in the store log failed: ${(err as Error).message.split('\n')[0]}`)
        }
      }
      return from
    })
  }

  /**
   * Runs a read-only query on a free reader connection (waiting for one when all run queries) and
   * writes its answer in parts (query-guard.ts). The sink in front bounds how many wait. Queries may
   * fail, writes must not: a transaction that runs out of memory stops the queries running (see
   * `retry`), which then fail with `query_failed` and say why.
   */
  async streamQuery (sql: string, format: QueryFormat, write: PartWriter, signal?: AbortSignal): Promise<QuerySummary> {
    return await this.onReader(async reader => {
      const made: DuckDBPreparedStatement[] = []
      try {
        return await streamReadOnlyQuery(noting(reader, made), sql, format, this.o.queryLimits ?? DEFAULT_QUERY_LIMITS, write, signal)
      } catch (err) {
        // A failed query: give its memory back now (see `noting`), not when the garbage collector runs.
        for (const statement of made) { try { statement.destroySync() } catch { /* already gone */ } }
        throw err
      }
    })
  }

  /**
   * Runs `task` on a free reader connection, waiting for one. A reader stopped because a transaction
   * needed its memory fails with the reason kept in `busyReaders`, not DuckDB's interrupt message.
   */
  private async onReader<T> (task: (reader: DuckDBConnection) => Promise<T>): Promise<T> {
    if (this.closed) throw new IngestError('sink_failed', 'the DuckDB store is closed')
    const reader = this.freeReaders.pop() ?? await new Promise<DuckDBConnection>(resolve => this.readerWaiters.push(resolve))
    this.busyReaders.set(reader, undefined)
    try {
      return await task(reader)
    } catch (err) {
      throw this.busyReaders.get(reader) ?? err
    } finally {
      this.busyReaders.delete(reader)
      if (this.busyReaders.size === 0 && this.idleWaiters.length > 0) {
        const waiters = this.idleWaiters
        this.idleWaiters = []
        for (const resolve of waiters) resolve()
      }
      const next = this.readerWaiters.shift()
      if (next !== undefined) next(reader)
      else this.freeReaders.push(reader)
    }
  }

  /**
   * Answers a remote-read request (remote-read.ts) on a free reader connection, waiting for one as a
   * query does; like a query, it is stopped when a transaction needs its memory.
   */
  async remoteRead (req: StoreReadRequest): Promise<StoreReadAnswer> {
    return await this.onReader(async reader => await remoteRead(reader, req))
  }

  /** Runs a read-only query and returns its whole answer. */
  async query (sql: string, format: QueryFormat): Promise<QueryOutput> {
    const parts: string[] = []
    const summary = await this.streamQuery(sql, format, text => { parts.push(text) })
    return { body: parts.join(''), contentType: summary.contentType, rowCount: summary.rowCount, truncated: summary.truncated }
  }

  /** The open transaction commits without waiting for its interval (a reader waits for it). */
  commitNow (): void {
    this.committer.commitNow()
  }

  /** Deletes what is older than the retention (now - retentionMs), between two group commits. */
  async retention (nowMs = Date.now()): Promise<RetentionResult> {
    if (this.o.retentionMs <= 0) throw new IngestError('config_invalid', 'retention is 0 (keep everything): nothing to delete')
    return await this.blocks.serial(async () => await this.committer.exclusive(async () => {
      const result = await applyRetention(this.writers[0]!.connection, nowMs - this.o.retentionMs, this.o.dataDir)
      for (const id of result.seriesIds) this.stored.unmark(id)
      if (result.metadata > 0) this.metadata.forget()
      this.blocks.removeLater(result.droppedBlocks, this.queriesIdle())
      return result
    }))
  }

  /** Compacts the head's closed windows (or all of it) into blocks now (normally on a schedule). */
  async compact (req: CompactRequest = {}): Promise<CompactionResult> {
    if (this.closed) throw new IngestError('sink_failed', 'the DuckDB store is closed')
    return await this.blocks.compact(req)
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
      externalBytes: memory.external,
      memoryRetries: this.memoryRetries,
      queriesStopped: this.queriesStopped,
      compaction: this.blocks.figures
    }
  }

  /**
   * Proves that the store can commit: a transaction that really writes between two group commits.
   * It replaces the schema-version row with a copy of itself (an insert and a delete of a committed
   * row both go to the write-ahead log; `SET version = version` is skipped by DuckDB and proved
   * nothing). The sink runs it while commits fail, to see them work again.
   */
  async probe (): Promise<void> {
    await this.committer.exclusive(async () => {
      const c = this.writers[0]!.connection
      await c.run('BEGIN TRANSACTION')
      try {
        await c.run('INSERT INTO prom_ingest_schema SELECT max(version) FROM prom_ingest_schema')
        await c.run('DELETE FROM prom_ingest_schema WHERE rowid = (SELECT min(rowid) FROM prom_ingest_schema)')
        await c.run('COMMIT')
      } catch (err) {
        this.checkFatal(err)
        try { await c.run('ROLLBACK') } catch { /* already rolled back */ }
        throw new IngestError('sink_failed', `the DuckDB store cannot commit: ${(err as Error).message.split('\n')[0]}`)
      }
    })
  }

  /** Closes everything at once, committing nothing (after DuckDB invalidated the database). */
  abandon (): void {
    if (this.closed) return
    this.closed = true
    if (this.retentionTimer !== undefined) clearInterval(this.retentionTimer)
    this.blocks.abandon()
    for (const lane of this.writers) {
      try { lane.appender?.close() } catch { /* the instance is unusable anyway */ }
      try { lane.connection.closeSync() } catch { /* idem */ }
    }
    for (const reader of this.readers) { try { reader.closeSync() } catch { /* idem */ } }
    try { this.instance.closeSync() } catch { /* idem */ }
  }

  /** Commits what is pending, then closes the connections and the file. */
  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    if (this.retentionTimer !== undefined) clearInterval(this.retentionTimer)
    await this.blocks.close()
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
    this.labelBytes.delete(txn.id)
    try {
      await lane.connection.run('BEGIN TRANSACTION')
    } catch (err) {
      this.checkFatal(err)
      throw err
    }
  }

  append (txn: Txn, batch: RowBatch): number | IngestError {
    const now = Date.now()
    const result = this.writers[txn.lane]!.appender!.append(batch, now, txn.id)
    if ('rejected' in result) return result.rejected
    if (result.labelBytes > 0) this.labelBytes.set(txn.id, (this.labelBytes.get(txn.id) ?? 0) + result.labelBytes)
    this.metadata.collect(batch, now, txn.id)
    return result.rows.samples + result.rows.histograms + result.rows.exemplars
  }

  async commit (txn: Txn, seqs: readonly number[]): Promise<void> {
    const lane = this.writers[txn.lane]!
    lane.appender!.flush()
    if ((this.faults.failCommits ?? 0) > 0) {
      this.faults.failCommits!--
      await lane.connection.run("SELECT error('injected commit failure (StoreFaults.failCommits)')")
    }
    const mark = this.logMark.target(seqs)
    try {
      if (mark !== undefined) await lane.connection.run(markStatement(mark))
      await lane.connection.run('COMMIT')
    } catch (err) {
      this.checkFatal(err)
      throw err
    }
    this.logMark.committed(seqs, mark)
    this.labelBytes.delete(txn.id)
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
    this.labelBytes.delete(txn.id)
    try {
      await lane.connection.run('ROLLBACK')
    } catch (err) {
      this.checkFatal(err)
      throw err
    }
  }

  /** The transaction holds as many label bytes of new series as it should (see transactionLabelBudget). */
  full (txn: Txn): boolean {
    return (this.labelBytes.get(txn.id) ?? 0) >= this.labelBudget
  }

  /**
   * A transaction failed: run it again when DuckDB ran out of memory, after stopping the query that
   * holds memory (if one runs) and a short pause (20, 40, 80 ms ...) for memory to be given back.
   */
  async retry (_txn: Txn, error: IngestError, attempt: number): Promise<boolean> {
    if (this.invalidated || this.closed || !isOutOfMemory(error)) return false
    this.memoryRetries++
    const stopped = this.stopQuery()
    if (this.blocks.interrupt()) this.o.log?.('warn', 'compaction was stopped: a write ran out of memory, and writes come first; the next pass compacts the range again', {})
    this.o.log?.('warn', 'a DuckDB transaction ran out of memory; running it again', { attempt, queryStopped: stopped, reason: error.message })
    await Promise.race([this.queriesIdle(), new Promise(resolve => setTimeout(resolve, 5_000))])
    await new Promise(resolve => setTimeout(resolve, 20 << Math.min(attempt - 1, 6)))
    return true
  }

  /** Interrupts the queries that run, if any; each fails with query_failed. */
  private stopQuery (): boolean {
    if (this.busyReaders.size === 0) return false
    const reason = new IngestError('query_failed', 'the query was stopped: DuckDB ran out of memory, and writes come first (raise duckdb-memory-limit, or ask for less)')
    for (const reader of this.busyReaders.keys()) {
      this.busyReaders.set(reader, reason)
      this.queriesStopped++
      reader.interrupt()
    }
    return true
  }

  /** Resolves once no query runs. */
  private queriesIdle (): Promise<void> {
    if (this.busyReaders.size === 0) return Promise.resolve()
    return new Promise(resolve => this.idleWaiters.push(resolve))
  }

  /** After a fatal DuckDB error the instance is unusable: tell the host once, so it starts the store again. */
  private checkFatal (err: unknown): void {
    if (this.invalidated || !isFatal(err)) return
    this.invalidated = true
    const error = new IngestError('sink_failed', `DuckDB invalidated the database: ${(err instanceof Error ? err.message : String(err)).split('\n')[0]}`)
    this.o.log?.('error', 'DuckDB invalidated the database after a fatal error; the store starts again', { reason: error.message })
    setImmediate(() => this.o.onInvalidated?.(error))
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
