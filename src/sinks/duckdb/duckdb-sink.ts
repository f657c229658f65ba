/**
 * The DuckDB sink: the default sink, an embedded database file under the data directory.
 *
 *   write(batch) -> (worker thread) append to the open transaction -> group commit -> resolve
 *
 * Each write resolves only after the transaction holding its rows committed; a failed transaction
 * rejects all of its writes with IngestError('sink_failed') (a retryable 503) and nothing of them is
 * stored. The database runs in a worker thread by default (`thread: 'worker'`), so the main thread
 * only moves each batch's buffer there; `thread: 'main'` runs it in-process.
 *
 * Start the sink before the decode pool takes requests: start() loads the stored series into the
 * series index, so that ids survive restarts and no new series takes a stored id.
 */
import type { Registry } from 'prom-client'
import type { RowBatch } from '../../batch/row-batch.js'
import { IngestError } from '../../errors.js'
import type { SeriesIndex } from '../../series/series-index.js'
import type { BodyDecoder, ReceivedBody, Sink } from '../sink.js'
import type { LogFn, StoreFaults, StoreStats } from './duckdb-store.js'
export { DEFAULT_MEMORY_LIMIT } from './duckdb-store.js'
import type { CommitReport } from './group-commit.js'
import { duckDbMetrics, type DuckDbMetrics, type SinkFigures } from './metrics.js'
import { QueryGate } from './query-gate.js'
import { DEFAULT_QUERY_LIMITS, type PartWriter, type QueryLimits, type QuerySummary } from './query-guard.js'
import { queryRoutes } from './query-handler.js'
import { remoteReadRoutes } from '../../read/remote-read-route.js'
import { prometheusApiRoutes } from '../../read/prometheus-api.js'
import type { ReadQuery } from '../../read/read-request.js'
import type { StoreReadAnswer } from './remote-read.js'
import type { HttpRoute } from '../../receive/server.js'
import type { QueryFormat, QueryOutput } from './result-format.js'
import type { RetentionResult } from './retention.js'
import type { CompactRequest } from './blocks/block-maintenance.js'
import { compactRoutes } from './blocks/compact-route.js'
import type { CompactionResult } from './blocks/compaction.js'
import type { LoadedSeries } from './series-loader.js'
import { InProcessHost, WorkerHost, type StoreHost } from './store-host.js'
import { StoreLog, type Entry, type LogRange } from './store-log.js'
import { FailureProbe } from './failure-probe.js'

/** A pino-like logger. */
export interface SinkLogger {
  debug(obj: object, msg?: string): void
  info(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
  error(obj: object, msg?: string): void
}

export interface DuckDbSinkOptions {
  /** Directory of the database file (created if missing). */
  dataDir: string
  /** Longest a group-commit transaction stays open, ms (setting commit-interval, default 50). */
  commitInterval: number
  /** Rows after which a transaction commits at once (setting commit-max-rows, default 1,000,000). */
  commitMaxRows: number
  /**
   * Commit once no batch arrived for this long, ms (default 2): senders waiting for their answers
   * send nothing more, so waiting out commitInterval would only add latency. commitInterval or more: off.
   */
  commitQuiet?: number
  /** Delete rows older than this, ms; 0 keeps everything (setting retention). */
  retentionMs: number
  /** The process' series index: stored series are loaded into it at start. */
  index?: SeriesIndex
  logger?: SinkLogger
  /** Where DuckDB runs: a dedicated worker thread (default) or the calling thread. */
  thread?: 'worker' | 'main'
  /** How often retention runs, ms (default: a tenth of the retention, 1 s to 10 min). */
  retentionIntervalMs?: number
  /** Time window of a block, ms (setting block-window, default 2 h). */
  blockWindowMs?: number
  /** How often compaction runs, ms; 0: on demand only (setting compaction-interval, default 1 min). */
  compactionIntervalMs?: number
  /** DuckDB memory limit (default DEFAULT_MEMORY_LIMIT in duckdb-store.ts). */
  memoryLimit?: string
  /** DuckDB threads (default DEFAULT_THREADS, 1; 0: one per core). */
  threads?: number
  /** WAL size that triggers a checkpoint (default DEFAULT_CHECKPOINT_THRESHOLD). */
  checkpointThreshold?: string
  /** V8 young-generation bytes of the store's worker thread (0 or absent: V8's default). */
  youngGenerationBytes?: number
  /** Bounds of /api/v1/query answers (rows, bytes, time). */
  queryLimits?: QueryLimits
  /** Queries that run at once (default 3: a short query does not wait behind two long ones). */
  queryConcurrency?: number
  /** Queries that may wait for a turn (default 16); more get 503 query_queue_full. */
  queryQueue?: number
  /** Bytes of an answer held before its status is sent (default 1 MiB; see query-handler.ts). */
  queryHoldBytes?: number
  /** Remote read (docs/remote-read.md): most samples per query (default 5,000,000), reads at once (default 2; as many may wait). */
  readMaxSamples?: number
  readMaxConcurrency?: number
  /** The tenant header (lower case; '' disables tenants): remote reads and the metadata API read that tenant. Default x-scope-orgid. */
  tenantHeader?: string
  /** Retry-After seconds of the metadata API's retryable errors (default 5). */
  retryAfterSeconds?: number
  /** Registry for the sink's metrics (default: the process registry). */
  registry?: Registry
  /** Failures on purpose (tests). */
  faults?: StoreFaults
  /**
   * ready() turns false while every commit has failed for this long, ms (setting sink-unready-after,
   * default 30 s; 0: never for this reason). See docs/readiness.md.
   */
  unreadyAfterMs?: number
  /**
   * When a write is acknowledged (setting duckdb-ack, whose default is 'log'; absent here: 'commit'): 'commit' once DuckDB committed its
   * rows; 'log' once its body is fsync'd in the store's log (store-log.ts), DuckDB committing behind it
   * in transactions of up to LOG_TRANSACTION_ROWS. Reads wait for the commit of what was acknowledged before them.
   */
  ack?: DuckDbAck
}

export type DuckDbAck = 'commit' | 'log'

/**
 * duckdb-ack log: a transaction gathers batches for at least this long (commit-interval when longer)
 * and at most LOG_TRANSACTION_ROWS rows. The acknowledgement does not wait for it, and a larger
 * transaction costs DuckDB less per row; beyond about 60,000 rows the gain is small and the memory
 * grows (bench/README.md, "Acknowledged at the log": 50 ms gave 1.6 to 2.1M samples/s, 100 to 200 ms
 * 2.0 to 2.3M; 60,000 to 100,000 rows per transaction the same speed as 500,000, and less RSS).
 */
export const LOG_COMMIT_INTERVAL_MS = 100
export const LOG_TRANSACTION_ROWS = 60_000

export interface DuckDbSink extends Sink {
  readonly dataDir: string
  /** GET and POST /api/v1/query (read-only SQL), for the service's server to mount behind its auth. */
  readonly routes: readonly HttpRoute[]
  /** Series found in the file at start (undefined before start). */
  readonly loaded: LoadedSeries | undefined
  /**
   * With duckdb-ack log: stores again what the store's log holds beyond DuckDB (after a crash), and
   * keeps `decode` for doing so after a failed transaction. Called once the decode pool runs, before
   * the service listens; writes are refused until it is done. Without the log: nothing to do.
   */
  replay(decode: BodyDecoder): Promise<void>
  /** Runs one read-only statement (see query-guard.ts) and returns its whole answer. */
  query(sql: string, format: QueryFormat): Promise<QueryOutput>
  /** Runs one read-only statement; `write` gets the answer in parts, each awaited before the next. */
  streamQuery(sql: string, format: QueryFormat, write: PartWriter, signal?: AbortSignal): Promise<QuerySummary>
  /** Bytes of an answer the query route holds before it sends the status. */
  readonly queryHoldBytes: number
  /** Answers a remote-read request (src/sinks/duckdb/remote-read.ts), at most read-max-concurrency at once. */
  remoteRead(request: { tenant: string, queries: readonly ReadQuery[], responseType: number }): Promise<StoreReadAnswer>
  /** Runs retention now (normally on a schedule). */
  retention(nowMs?: number): Promise<RetentionResult>
  /** Compacts the head into blocks now (normally on a schedule; also POST /api/v1/admin/compact). */
  compact(request?: CompactRequest): Promise<CompactionResult>
  stats(): Promise<StoreStats>
}

type State = 'new' | 'starting' | 'running' | 'restarting' | 'closing' | 'closed'

const RESTART_DELAYS_MS = [100, 1_000, 5_000, 30_000]

export const DEFAULT_UNREADY_AFTER_MS = 30_000

/**
 * duckdb-ack log: rows acknowledged and not committed yet above which acknowledgements wait for
 * commits: DuckDB falling behind slows the senders down instead of piling up batches (each row held
 * costs about 100 bytes of RSS: 800,000 rows measured 50 MiB more than 300,000, and 200,000 with
 * 60,000-row transactions 10 to 14 MiB less than 300,000 with 100,000-row ones, at 1.9 to 2.1×
 * VictoriaMetrics' samples/s either way), and the rate a sender sees stays the rate DuckDB stores.
 */
export const LOG_BACKLOG_ROWS = 200_000

class DuckDbSinkImpl implements DuckDbSink {
  readonly name = 'duckdb'
  readonly routes: readonly HttpRoute[]
  /** duckdb-ack log: the body goes into the store's log. */
  readonly wantsBody: boolean
  loaded: LoadedSeries | undefined
  private state: State = 'new'
  private host: StoreHost | undefined
  private nextSeq = 1
  private readonly pending = new Map<number, { resolve: () => void, reject: (e: IngestError) => void }>()
  private readonly metrics: DuckDbMetrics
  private readonly figures: SinkFigures
  private readonly gate: QueryGate
  private readonly readGate: QueryGate
  private readonly log: LogFn
  private restarts = 0
  private restartTimer: NodeJS.Timeout | undefined
  /** Commits failing (readiness), with the probe transaction that finds when they work again. */
  private readonly commits: FailureProbe
  /** duckdb-ack log: the store's log, open while the sink runs. */
  private storeLog: StoreLog | undefined
  private decoder: BodyDecoder | undefined
  /** duckdb-ack log: the log is being stored again (or replay() was not called yet): writes are refused meanwhile. */
  private replaying = false
  /** duckdb-ack log: store log appends not settled yet. */
  private readonly appending = new Set<Promise<void>>()
  /** duckdb-ack log: rows handed to DuckDB and not committed yet. */
  private uncommittedRows = 0
  private backlogWaiters: Array<() => void> = []
  /** Reads waiting for the commit of every write before theirs (duckdb-ack log). */
  private readWaiters: Array<{ seq: number, resolve: () => void }> = []
  /** duckdb-ack log: appends to the store's log failing (a full disk), with a probe file that finds when they work again. */
  private logAppends: FailureProbe | undefined
  /** Reads waiting for the end of a replay. */
  private replayWaiters: Array<() => void> = []

  constructor (private readonly o: DuckDbSinkOptions) {
    this.wantsBody = o.ack === 'log'
    const unreadyAfter = o.unreadyAfterMs ?? DEFAULT_UNREADY_AFTER_MS
    this.commits = new FailureProbe(unreadyAfter, async () => {
      const host = this.state === 'running' ? this.host : undefined
      if (host === undefined) throw new IngestError('sink_failed', 'the DuckDB store is not running')
      await host.call({ kind: 'probe' })
    }, failedForMs => this.log('info', 'the DuckDB store commits again', { failedForMs }))
    this.metrics = duckDbMetrics(o.registry)
    const pending = this.pending
    const timeoutMs = (o.queryLimits ?? DEFAULT_QUERY_LIMITS).timeoutMs
    const gate = new QueryGate({ concurrency: this.queryConcurrency, queue: o.queryQueue ?? 16, waitMs: timeoutMs })
    this.gate = gate
    this.readGate = new QueryGate({
      concurrency: this.readConcurrency,
      queue: this.readConcurrency,
      waitMs: timeoutMs,
      refusal: { code: 'read_queue_full', one: 'remote read', many: 'remote reads', setting: 'read-max-concurrency', queueSetting: 'waiting' }
    })
    const tenantHeader = o.tenantHeader ?? 'x-scope-orgid'
    this.routes = [
      ...queryRoutes(this),
      ...compactRoutes(this),
      ...remoteReadRoutes(this, { tenantHeader }),
      ...prometheusApiRoutes(this, { tenantHeader, retryAfterSeconds: o.retryAfterSeconds ?? 5 })
    ]
    const logPending = (): number => this.storeLog?.pendingBytes ?? 0
    this.figures = {
      dataDir: o.dataDir,
      get waitingWrites () { return pending.size },
      get logPendingBytes () { return logPending() },
      get queriesRunning () { return gate.running },
      get queriesWaiting () { return gate.waiting },
      compaction: async () => (await this.stats()).compaction
    }
    const logger = o.logger
    this.log = logger === undefined ? () => {} : (level, msg, obj) => logger[level]({ sink: 'duckdb', ...obj }, msg)
  }

  get dataDir (): string { return this.o.dataDir }
  get queryHoldBytes (): number { return this.o.queryHoldBytes ?? 1 << 20 }
  private get queryConcurrency (): number { return this.o.queryConcurrency ?? 3 }
  private get readConcurrency (): number { return this.o.readMaxConcurrency ?? 2 }

  async start (): Promise<void> {
    if (this.state !== 'new') throw new IngestError('internal', `the DuckDB sink was already started (${this.state})`)
    this.state = 'starting'
    try {
      await this.startHost()
      if (this.o.ack === 'log') {
        const storeLog = await StoreLog.open(this.o.dataDir, this.o.logger)
        this.storeLog = storeLog
        this.logAppends = new FailureProbe(this.o.unreadyAfterMs ?? DEFAULT_UNREADY_AFTER_MS, async () => await storeLog.probe(),
          failedForMs => this.log('info', 'the store log takes writes again', { failedForMs }))
        this.replaying = true
      }
    } catch (err) {
      await this.host?.close().catch(() => {})
      this.state = 'closed'
      throw err
    }
    this.state = 'running'
    this.metrics.sinks.add(this.figures)
    this.log('info', 'DuckDB sink started', { dataDir: this.o.dataDir, seriesLoaded: this.loaded?.count, thread: this.o.thread ?? 'worker' })
  }

  private async startHost (): Promise<void> {
    const o = this.o
    const options = {
      store: {
        dataDir: o.dataDir,
        // At the log, nothing waits for a commit but reads (which ask for it): large transactions, no quiet rule.
        commitInterval: o.ack === 'log' ? Math.max(o.commitInterval, LOG_COMMIT_INTERVAL_MS) : o.commitInterval,
        commitMaxRows: o.ack === 'log' ? Math.min(o.commitMaxRows, LOG_TRANSACTION_ROWS) : o.commitMaxRows,
        ...(o.ack === 'log' ? { commitQuiet: Infinity } : o.commitQuiet !== undefined ? { commitQuiet: o.commitQuiet } : {}),
        retentionMs: o.retentionMs,
        ...(o.blockWindowMs !== undefined ? { blockWindowMs: o.blockWindowMs } : {}),
        ...(o.compactionIntervalMs !== undefined ? { compactionIntervalMs: o.compactionIntervalMs } : {}),
        ...(o.retentionIntervalMs !== undefined ? { retentionIntervalMs: o.retentionIntervalMs } : {}),
        ...(o.memoryLimit !== undefined ? { memoryLimit: o.memoryLimit } : {}),
        ...(o.threads !== undefined ? { threads: o.threads } : {}),
        ...(o.checkpointThreshold !== undefined ? { checkpointThreshold: o.checkpointThreshold } : {}),
        ...(o.queryLimits !== undefined ? { queryLimits: o.queryLimits } : {}),
        // A reader connection for every query and every remote read that may run at once.
        queryConcurrency: this.queryConcurrency + this.readConcurrency,
        ...(o.faults !== undefined ? { faults: o.faults } : {})
      },
      index: o.index,
      youngGenerationBytes: o.youngGenerationBytes,
      log: this.log,
      onSettled: (r: CommitReport) => this.settled(r),
      onLost: (e: IngestError) => this.lost(e)
    }
    const host = o.thread === 'main' ? new InProcessHost(options) : new WorkerHost(options)
    this.loaded = await host.start()
    this.host = host
  }

  write (batch: RowBatch, body?: ReceivedBody): Promise<void> {
    if (this.state !== 'running' || this.host === undefined) {
      return Promise.reject(new IngestError('sink_failed', this.state === 'restarting' ? 'the DuckDB sink is restarting after a failure' : `the DuckDB sink is not running (${this.state})`))
    }
    if (batch.buffer.byteLength === 0) return Promise.reject(new IngestError('internal', 'the batch buffer is detached: it was handed to another sink or thread'))
    if (this.storeLog !== undefined) return this.writeThroughLog(this.storeLog, batch, body)
    const seq = this.nextSeq++
    return new Promise<void>((resolve, reject) => {
      this.pending.set(seq, { resolve, reject })
      try {
        this.host!.submit(seq, batch)
      } catch (err) {
        this.pending.delete(seq)
        reject(new IngestError('sink_failed', `handing the batch to DuckDB failed: ${(err as Error).message}`))
      }
    })
  }

  /**
   * duckdb-ack log: the body goes into the store's log, and once its record is fsync'd the batch goes
   * to DuckDB with the record's place (store-log-mark.ts). The write resolves then (and, while DuckDB
   * is LOG_BACKLOG_ROWS behind, when it caught up). A body the log could not take is not stored at all.
   */
  private writeThroughLog (storeLog: StoreLog, batch: RowBatch, body: ReceivedBody | undefined): Promise<void> {
    if (this.replaying) return Promise.reject(new IngestError('sink_failed', 'the DuckDB sink is storing its log again (after a restart or a failed transaction); try again shortly'))
    if (body === undefined) return Promise.reject(new IngestError('internal', 'duckdb-ack log: the DuckDB sink got a batch without the body it logs'))
    const counts = { samples: batch.sampleCount, histograms: batch.histogramCount, exemplars: batch.exemplarCount }
    const entry = storeLog.track()
    // A log that cannot be written turns readiness as failed commits do (FailureProbe).
    const appended = storeLog.append(entry, body, counts).then(range => {
      this.logAppends?.worked()
      this.submitLogged(storeLog, batch, entry, range)
      return this.uncommittedRows > LOG_BACKLOG_ROWS ? this.backlogShrunk() : undefined
    }, (err: unknown) => {
      this.logAppends?.failed()
      throw err
    })
    const tracked = appended.catch(() => {}).finally(() => this.appending.delete(tracked))
    this.appending.add(tracked)
    return appended
  }

  /** A logged batch to DuckDB; while a replay runs or comes, the replay stores the record instead. */
  private submitLogged (storeLog: StoreLog, batch: RowBatch, entry: Entry, range: LogRange): void {
    if (this.replaying || this.state !== 'running' || this.host === undefined) return
    const rows = batch.sampleCount + batch.histogramCount + batch.exemplarCount
    const seq = this.nextSeq++
    this.pending.set(seq, {
      resolve: () => { this.committedRows(rows); storeLog.stored(entry) },
      reject: e => { this.committedRows(rows); this.logNotStored(e) }
    })
    this.uncommittedRows += rows
    try {
      this.host.submit(seq, batch, range)
    } catch (err) {
      // Not in DuckDB: the record alone keeps it, and the next replay stores it (the sender gets its 204 all the same).
      this.pending.get(seq)!.reject(new IngestError('sink_failed', `handing the batch to DuckDB failed: ${(err as Error).message}`))
      this.pending.delete(seq)
    }
  }

  private committedRows (rows: number): void {
    this.uncommittedRows -= rows
    if (this.uncommittedRows > LOG_BACKLOG_ROWS || this.backlogWaiters.length === 0) return
    const waiters = this.backlogWaiters
    this.backlogWaiters = []
    for (const w of waiters) w()
  }

  private async backlogShrunk (): Promise<void> {
    await new Promise<void>(resolve => this.backlogWaiters.push(resolve))
  }

  /** duckdb-ack log: an acknowledged batch was not committed. Its record still is in the log: the log is stored again. */
  private logNotStored (error: IngestError): void {
    if (this.replaying || this.state !== 'running') return // a replay runs or comes (the restart after a lost worker runs one)
    this.replaying = true
    this.log('error', 'DuckDB did not commit batches already acknowledged; the store log is stored again', { reason: error.message })
    void this.replayUntilStored()
  }

  /** Replays the log once every write in flight settled, again after a delay while it fails; gives up to a worker restart. */
  private async replayUntilStored (): Promise<void> {
    for (let attempt = 0; this.state === 'running'; attempt++) {
      await this.allSettled()
      if (this.state !== 'running') return
      try {
        await this.replayNow()
        return
      } catch (err) {
        this.commits.failed()
        this.log('error', 'storing the store log again failed; trying again', { reason: (err as Error).message, attempt: attempt + 1 })
        await new Promise(resolve => setTimeout(resolve, RESTART_DELAYS_MS[Math.min(attempt, RESTART_DELAYS_MS.length - 1)]))
      }
    }
  }

  private async allSettled (): Promise<void> {
    if (this.pending.size === 0) return
    await new Promise<void>(resolve => this.readWaiters.push({ seq: this.nextSeq - 1, resolve }))
  }

  async replay (decode: BodyDecoder): Promise<void> {
    if (this.storeLog === undefined) return
    this.decoder = decode
    await this.replayNow()
  }

  /**
   * Decodes every record from the log's cursor on and stores its batch again; resolves when all of
   * them are committed (the cursor then moves past them), rejects when one was not.
   */
  private async replayNow (): Promise<void> {
    const storeLog = this.storeLog!
    const decode = this.decoder
    if (decode === undefined) throw new IngestError('internal', 'duckdb-ack log: the store log cannot be read back before replay() gave a decoder')
    this.replaying = true
    // Appends in flight finish first: their records are read back below (their batches are not submitted meanwhile).
    while (this.appending.size > 0) await Promise.all(this.appending)
    const started = performance.now()
    const waiting = storeLog.pendingRecords
    const from = await this.runningHost().call({ kind: 'log-start', cursor: storeLog.cursorPosition, head: storeLog.head })
    let records = 0
    let failed: IngestError | undefined
    const committed: Array<Promise<void>> = []
    for await (const r of storeLog.replay(from)) {
      const host = this.host
      if (host === undefined) throw new IngestError('sink_failed', 'the DuckDB store stopped while its log was stored again')
      let batch: RowBatch
      try {
        batch = await decode(r.body, r.version, r.tenant)
      } catch (err) {
        // Acknowledged records were decoded once already; one refused whole now cannot become rows.
        this.log('error', 'a record of the store log could not be decoded again; skipped', { reason: (err as Error).message, tenant: r.tenant })
        host.passLog(r.range)
        storeLog.stored(r.entry)
        continue
      }
      records++
      const rows = batch.sampleCount + batch.histogramCount + batch.exemplarCount
      const seq = this.nextSeq++
      committed.push(new Promise<void>(resolve => {
        this.pending.set(seq, {
          resolve: () => { this.committedRows(rows); storeLog.stored(r.entry); resolve() },
          reject: e => { this.committedRows(rows); failed ??= e; resolve() }
        })
      }))
      this.uncommittedRows += rows
      host.submit(seq, batch, r.range)
      if (this.uncommittedRows > LOG_BACKLOG_ROWS) await this.backlogShrunk()
    }
    if (committed.length > 0) this.host?.call({ kind: 'commit-now' }).catch(() => {})
    await Promise.all(committed)
    if (failed !== undefined) throw failed
    this.replaying = false
    this.replayEnded()
    if (waiting > 0) this.log('info', 'store log read back into DuckDB', { records, ms: Math.round(performance.now() - started) })
  }

  /**
   * duckdb-ack log: resolves once every write made before now is committed (stored again from the log,
   * when its transaction failed), so that a read sees what was acknowledged; refuses the read when that
   * takes longer than a query may.
   */
  private async committedSoFar (): Promise<void> {
    if (this.storeLog === undefined || (this.pending.size === 0 && !this.replaying)) return
    const seq = this.nextSeq - 1
    const limitMs = (this.o.queryLimits ?? DEFAULT_QUERY_LIMITS).timeoutMs
    const deadline = performance.now() + limitMs
    for (;;) {
      if (this.pending.size > 0) {
        this.host?.call({ kind: 'commit-now' }).catch(() => {})
        await this.withinDeadline(new Promise<void>(resolve => this.readWaiters.push({ seq, resolve })), deadline)
      }
      if (!this.replaying) return
      await this.withinDeadline(new Promise<void>(resolve => this.replayWaiters.push(resolve)), deadline)
    }
  }

  private async withinDeadline (p: Promise<void>, deadline: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new IngestError('sink_failed', `acknowledged writes were not all committed to DuckDB within the query timeout (${(this.o.queryLimits ?? DEFAULT_QUERY_LIMITS).timeoutMs} ms${this.replaying ? '; the store log is being stored again' : ''}); the read would miss them, try again shortly`)), Math.max(0, deadline - performance.now()))
    })
    try {
      await Promise.race([p, late])
    } finally {
      clearTimeout(timer)
    }
  }

  private replayEnded (): void {
    const waiters = this.replayWaiters
    this.replayWaiters = []
    for (const w of waiters) w()
  }

  /** Wakes the reads whose writes all settled (pending holds seqs in increasing order). */
  private wakeReaders (): void {
    if (this.readWaiters.length === 0) return
    let lowest = Infinity
    for (const seq of this.pending.keys()) { lowest = seq; break }
    const still: Array<{ seq: number, resolve: () => void }> = []
    for (const w of this.readWaiters) {
      if (w.seq < lowest) w.resolve()
      else still.push(w)
    }
    this.readWaiters = still
  }

  /**
   * Ready: started, not restarting, and not failing every commit for longer than unreadyAfterMs.
   * While commits fail the sink checks now and then (a probe transaction) whether they work again,
   * since a sink that is not ready may get no writes to find out.
   */
  ready (): boolean {
    if (this.state !== 'running' || this.replaying) return false
    const now = performance.now()
    return !this.commits.unready(now) && this.logAppends?.unready(now) !== true
  }

  async query (sql: string, format: QueryFormat): Promise<QueryOutput> {
    const parts: string[] = []
    const summary = await this.streamQuery(sql, format, text => { parts.push(text) })
    return { body: parts.join(''), contentType: summary.contentType, rowCount: summary.rowCount, truncated: summary.truncated }
  }

  async streamQuery (sql: string, format: QueryFormat, write: PartWriter, signal?: AbortSignal): Promise<QuerySummary> {
    this.runningHost()
    await this.committedSoFar()
    const leave = await this.gate.enter(signal)
    try {
      return await this.runningHost().streamQuery(sql, format, write, signal)
    } finally {
      leave()
    }
  }

  async remoteRead (request: { tenant: string, queries: readonly ReadQuery[], responseType: number }): Promise<StoreReadAnswer> {
    this.runningHost()
    await this.committedSoFar()
    const leave = await this.readGate.enter()
    try {
      const limits = this.o.queryLimits ?? DEFAULT_QUERY_LIMITS
      const answer = await this.runningHost().call({ kind: 'read', request: { ...request, maxSamples: this.o.readMaxSamples ?? 5_000_000, timeoutMs: limits.timeoutMs } })
      this.metrics.readRequests.inc({ response_type: request.responseType === 1 ? 'streamed' : 'samples' })
      this.metrics.readSamples.inc(answer.samples)
      return answer
    } finally {
      leave()
    }
  }

  async retention (nowMs = Date.now()): Promise<RetentionResult> {
    return await this.runningHost().call({ kind: 'retention', nowMs })
  }

  async compact (request: CompactRequest = {}): Promise<CompactionResult> {
    return await this.runningHost().call({ kind: 'compact', request })
  }

  async stats (): Promise<StoreStats> {
    return await this.runningHost().call({ kind: 'stats' })
  }

  async close (): Promise<void> {
    if (this.state === 'closed' || this.state === 'closing') return
    const wasRunning = this.state === 'running'
    this.state = 'closing'
    if (this.restartTimer !== undefined) clearTimeout(this.restartTimer)
    this.commits.stop()
    this.logAppends?.stop()
    try {
      if (wasRunning) await this.host?.close()
    } finally {
      this.rejectAll(new IngestError('sink_failed', 'the DuckDB sink closed before the write was committed'))
      this.replayEnded()
      await this.storeLog?.close().catch(err => this.log('error', 'closing the store log failed', { reason: (err as Error).message }))
      this.metrics.sinks.delete(this.figures)
      this.state = 'closed'
      this.log('info', 'DuckDB sink closed', {})
    }
  }

  private runningHost (): StoreHost {
    if (this.state !== 'running' || this.host === undefined) throw new IngestError('sink_failed', `the DuckDB sink is not running (${this.state})`)
    return this.host
  }

  private settled (r: CommitReport): void {
    const m = this.metrics
    // A batch refused alone (no transaction) tells nothing about the store.
    if (r.error === undefined) this.commits.worked()
    else if (r.rows > 0 || r.seqs.length > 1) this.commits.failed()
    if (r.seqs.length > 0 && (r.rows > 0 || r.error === undefined)) {
      m.transactions.inc({ result: r.error === undefined ? 'committed' : 'failed' })
      if (r.error === undefined) {
        m.transactionDuration.observe(r.transactionMs / 1000)
        m.commitDuration.observe(r.commitMs / 1000)
        m.rowsCommitted.inc(r.rows)
      }
    }
    for (const seq of r.seqs) {
      const p = this.pending.get(seq)
      if (p === undefined) continue
      this.pending.delete(seq)
      if (r.error === undefined) p.resolve()
      else p.reject(r.error)
    }
    this.wakeReaders()
  }

  private rejectAll (error: IngestError): void {
    const all = [...this.pending.values()]
    this.pending.clear()
    for (const p of all) p.reject(error)
    this.wakeReaders()
  }

  /** The worker died: answer every waiting write (their transaction is gone), then start again. */
  private lost (error: IngestError): void {
    this.log('error', 'DuckDB sink worker lost', { reason: error.message })
    // duckdb-ack log: what the worker held is in the store log; it is stored again once the worker runs again.
    if (this.storeLog !== undefined) this.replaying = true
    this.rejectAll(error)
    if (this.state !== 'running' && this.state !== 'restarting') return
    this.state = 'restarting'
    this.host = undefined
    const delay = RESTART_DELAYS_MS[Math.min(this.restarts, RESTART_DELAYS_MS.length - 1)]!
    this.restarts++
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined
      this.startHost().then(() => {
        if (this.state !== 'restarting') { void this.host?.close(); return }
        this.state = 'running'
        this.metrics.workerRestarts.inc()
        this.log('info', 'DuckDB sink worker started again', { seriesLoaded: this.loaded?.count })
        if (this.storeLog !== undefined && this.decoder !== undefined) void this.replayUntilStored()
      }, err => this.lost(err instanceof IngestError ? err : new IngestError('sink_failed', String(err))))
    }, delay)
    this.restartTimer.unref()
  }
}

export function createDuckDbSink (options: DuckDbSinkOptions): DuckDbSink {
  return new DuckDbSinkImpl(options)
}
