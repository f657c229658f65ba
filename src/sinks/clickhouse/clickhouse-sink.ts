/**
 * The ClickHouse sink (`--sink clickhouse`): rows go to ClickHouse's series, samples, histograms,
 * exemplars and metadata tables (ddl.ts) in RowBinary INSERTs (row-binary.ts), keyed by the series
 * fingerprint (fingerprint.ts).
 *
 * Group commit across requests (the house model: duckdb/group-commit.ts). A write encodes its batch
 * into the open flush at once (the sink borrows batches: it reads them only inside `write`), and its
 * promise settles when the flush holding its rows was confirmed by ClickHouse or failed: a 204 only
 * after ClickHouse confirmed the INSERTs. A flush is one INSERT per table that has rows, series rows
 * first (TABLE_KINDS order); it starts when it holds flush-rows rows, flush-interval after its first
 * row, or once writes pause (QUIET_MS without a batch, senders wait for their answers), but never
 * sooner than flush-gap after the previous one started: ClickHouse wants few large inserts (each
 * makes a part; too many parts gets `Too many parts`). Up to MAX_IN_FLIGHT flushes run at once
 * (the next one fills meanwhile): a flush's INSERTs wait until the flush started before it has its
 * series rows in ClickHouse (or handed them on, failing), so series rows always go in before the rows
 * that refer to them. While a flush is being retried no other flush starts.
 *
 * A failed INSERT is sent again whole (RowBinary inserts are atomic) after a backoff, up to
 * MAX_ATTEMPTS; `Too many parts` (code 252) backs off longer. Before a retry, while none of the
 * flush's INSERTs went in yet and no flush started after it, the open flush is merged into it (its
 * rows and its waiters): one part instead of two. After the last attempt the flush's writes fail with
 * `sink_failed` (503, Retry-After) and nothing of them was acknowledged. The series rows of a failed
 * flush are carried into the next one, so that rows never lack their series row. An INSERT
 * whose answer was lost may have been applied: then its rows are stored twice (at least once).
 *
 * Series rows: one per series per day of its rows per process (the ReplacingMergeTree folds the
 * copies that several processes write). Metadata: an entry (tenant, family, type, help, unit) is
 * written again only when it changed or METADATA_REFRESH_MS after ClickHouse last confirmed it.
 *
 * Start: the sink connects, reads `version()` and creates the tables in the background, retrying with
 * a backoff (START_RETRY_MIN_MS doubling up to START_RETRY_MAX_MS, every failure logged) while
 * /readyz says not ready and writes get 503: ClickHouse may start after prom-ingest.
 */
import type { Registry } from 'prom-client'
import type { RowBatch } from '../../batch/row-batch.js'
import { IngestError } from '../../errors.js'
import type { Logger } from '../../logger.js'
import type { SeriesIndex } from '../../series/series-index.js'
import type { Sink } from '../sink.js'
import { ClickHouseClient } from './clickhouse-client.js'
import { CLUSTER_DDL_SETTINGS, createClusterTables, type ClusterDdlWay } from './cluster-tables.js'
import { ddlFor, TABLE_KINDS, type Ddl, type TableKind } from './ddl.js'
import { fingerprintOf, fingerprintOut, tenantPrefix } from './fingerprint.js'
import { clickHouseMetrics, type ClickHouseMetrics } from './metrics.js'
import { dropExpiredPartitions } from './retention.js'
import { ExemplarRows, HistogramRows, MetadataRows, SampleRows, SeriesRows, type LabelColumns } from './row-binary.js'

export interface ClickHouseSinkOptions {
  readonly urls: readonly string[]
  readonly database: string
  readonly user: string
  readonly password: string
  readonly tablePrefix: string
  readonly createTables: boolean
  /** Cluster of the servers' remote_servers: local tables on every server, Distributed tables over them. */
  readonly cluster?: string | undefined
  readonly flushRows: number
  readonly flushIntervalMs: number
  /** Shortest time between the starts of two flushes (default FLUSH_GAP_MS). */
  readonly flushGapMs?: number
  readonly retentionMs: number
  /** /readyz turns 503 once every flush failed for this long (0: never). */
  readonly unreadyAfterMs: number
  readonly index: SeriesIndex
  readonly logger: Logger
  /** Registry of the sink's metrics (default the process registry). */
  readonly registry?: Registry
}

/** Runs of one flush's INSERTs (the first and the retries). */
export const MAX_ATTEMPTS = 5
/** First wait before an INSERT is sent again; doubles per attempt. */
const RETRY_BACKOFF_MS = 100
/** The same after `Too many parts`: merges need time. */
const TOO_MANY_PARTS_BACKOFF_MS = 1000
/** ClickHouse's exception code TOO_MANY_PARTS. */
const TOO_MANY_PARTS = 252
/** A flush starts once no batch arrived for this long (senders wait for their answers). */
const QUIET_MS = 2
/** Flushes running at once: one fills while the other's INSERTs wait for ClickHouse. */
const MAX_IN_FLIGHT = 2
/**
 * Default shortest time between the starts of two flushes (--clickhouse-flush-gap): at most 50 parts
 * a second per table. A flush holds at most what the senders have in flight (their answers wait for
 * it), so this caps a replica at 50 times that: 2M samples/s for 4 senders of 10,000 samples (50 ms
 * capped them at 0.8M).
 */
export const FLUSH_GAP_MS = 20
/** How often expired day partitions are looked for (18.16: retention without TTL). */
const RETENTION_EVERY_MS = 3_600_000
/** Longest an INSERT may take. */
const STATEMENT_TIMEOUT_MS = 30_000
/** Start-up retries: first wait, and the most it grows to. */
const START_RETRY_MIN_MS = 250
const START_RETRY_MAX_MS = 10_000
/** A metadata entry ClickHouse confirmed is written again after this long (its last_seen moves on). */
const METADATA_REFRESH_MS = 3_600_000
/** Most metadata entries remembered (then forgotten all at once, and written again). */
const METADATA_MEMO_ENTRIES = 100_000
const DAY_MS = 86_400_000

interface Waiter { resolve(): void, reject(err: unknown): void }

interface Body { readonly rows: number, bytes(): Uint8Array }

class Flush {
  readonly series: SeriesRows
  readonly samples = new SampleRows()
  readonly histograms = new HistogramRows()
  readonly exemplars: ExemplarRows
  readonly metadata = new MetadataRows()
  /** Keys of the metadata entries written (remembered once confirmed). */
  readonly metadataKeys: number[] = []
  readonly waiters: Waiter[] = []
  firstAt = 0
  /** The flush started right after this one while this one ran (it waits for seriesSettled). */
  successor: Flush | undefined
  /** Settles once this flush's series rows are in ClickHouse, or were handed to the next flush (it failed). */
  seriesSettled!: Promise<void>
  seriesResolved = false
  private resolveSeriesSettled!: () => void
  constructor (labelColumns: LabelColumns) {
    this.series = new SeriesRows(labelColumns)
    this.exemplars = new ExemplarRows(labelColumns)
    this.armSeriesSettled()
  }

  settleSeries (): void {
    if (this.seriesResolved) return
    this.seriesResolved = true
    this.resolveSeriesSettled()
  }

  private armSeriesSettled (): void {
    this.seriesResolved = false
    this.seriesSettled = new Promise<void>(resolve => { this.resolveSeriesSettled = resolve })
  }

  /** The body of each table, in TABLE_KINDS order. */
  bodies (): Body[] { return [this.series, this.samples, this.histograms, this.exemplars, this.metadata] }
  get rows (): number { return this.series.rows + this.samples.rows + this.histograms.rows + this.exemplars.rows + this.metadata.rows }

  /** Moves every row and waiter of `other` into this flush; `other` is left empty. */
  absorb (other: Flush): void {
    this.series.appendRows(other.series)
    this.samples.appendRows(other.samples)
    this.histograms.appendRows(other.histograms)
    this.exemplars.appendRows(other.exemplars)
    this.metadata.appendRows(other.metadata)
    this.metadataKeys.push(...other.metadataKeys)
    this.waiters.push(...other.waiters)
    other.reset()
  }

  reset (): void {
    for (const b of [this.series, this.samples, this.histograms, this.exemplars, this.metadata]) b.reset()
    this.metadataKeys.length = 0
    this.waiters.length = 0
    this.successor = undefined
    this.armSeriesSettled()
  }
}

interface TenantBytes { readonly prefix: Uint8Array, readonly utf8: Uint8Array }

export class ClickHouseSink implements Sink {
  readonly name = 'clickhouse'
  readonly batchUse = 'borrows' as const
  private readonly client: ClickHouseClient
  private ddl: Ddl | undefined
  private open: Flush | undefined
  private readonly spares: Flush[] = []
  /** The flushes running, and the one started last (while it runs). */
  private readonly running = new Set<Promise<void>>()
  private last: Flush | undefined
  /** Flushes between a failed INSERT and their last attempt: no other flush starts meanwhile. */
  private retrying = 0
  private timer: NodeJS.Timeout | undefined
  private lastArrival = 0
  private lastFlushStart = -Infinity
  private started = false
  private closing = false
  private failingSince = 0
  private connecting: Promise<void> | undefined
  private wakeConnect: (() => void) | undefined
  // By series id (ids are dense, up to max-series): fingerprint halves, whether it is computed, and
  // the day (+1) of the last series row written for it (0: none).
  private readonly fpLo: Uint32Array
  private readonly fpHi: Uint32Array
  private readonly fpKnown: Uint8Array
  private readonly dayMark: Int32Array
  private readonly tenants = new Map<string, TenantBytes>()
  /** Metadata entries ClickHouse confirmed: key (metadataKey) → when. */
  private readonly metadataSeen = new Map<number, number>()
  private retentionTimer: NodeJS.Timeout | undefined
  /** With a cluster: how its tables were created (unknown with --clickhouse-create-tables=false: retention then runs per URL). */
  private clusterWay: ClusterDdlWay | undefined
  private readonly metrics: ClickHouseMetrics

  constructor (private readonly options: ClickHouseSinkOptions) {
    this.client = new ClickHouseClient({
      urls: options.urls,
      user: options.user,
      password: options.password,
      timeoutMs: STATEMENT_TIMEOUT_MS,
      // A cluster: an INSERT into a Distributed table answers once every shard has its rows (not
      // when they wait in the receiving server's queue), so that the 204 means stored.
      settings: options.cluster === undefined ? undefined : { insert_distributed_sync: '1', ...CLUSTER_DDL_SETTINGS }
    })
    this.metrics = clickHouseMetrics(options.registry)
    const n = options.index.maxSeries + 1
    this.fpLo = new Uint32Array(n)
    this.fpHi = new Uint32Array(n)
    this.fpKnown = new Uint8Array(n)
    this.dayMark = new Int32Array(n)
  }

  /** The DDL in use (once connected). */
  get tables (): Ddl | undefined { return this.ddl }

  /**
   * Connects and creates the tables. When the first attempt fails, start resolves anyway and the sink
   * keeps trying in the background (not ready meanwhile): ClickHouse may come up after prom-ingest.
   */
  async start (): Promise<void> {
    this.started = true
    try {
      await this.setUp()
      return
    } catch (err) {
      this.options.logger.warn({ sink: this.name, attempt: 1, retryInMs: START_RETRY_MIN_MS, err: (err as Error).message }, 'ClickHouse is not ready (connecting or creating the tables failed): trying again, /readyz says not ready meanwhile')
    }
    this.connecting = this.connectLoop()
  }

  /** Start-up retries after the first failure, until set up or closed. */
  private async connectLoop (): Promise<void> {
    let delay = START_RETRY_MIN_MS
    for (let attempt = 2; !this.closing; attempt++) {
      await new Promise<void>(resolve => {
        const t = setTimeout(resolve, delay)
        this.wakeConnect = () => { clearTimeout(t); resolve() }
      })
      this.wakeConnect = undefined
      if (this.closing) return
      delay = Math.min(2 * delay, START_RETRY_MAX_MS)
      try {
        await this.setUp()
        this.options.logger.info({ sink: this.name, attempt }, 'ClickHouse reached after retries')
        return
      } catch (err) {
        this.options.logger.warn({ sink: this.name, attempt, retryInMs: delay, err: (err as Error).message }, 'ClickHouse is not ready (connecting or creating the tables failed): trying again, /readyz says not ready meanwhile')
      }
    }
  }

  /** Reads the version, creates the tables (when asked), checks they answer; then writes are taken. */
  private async setUp (): Promise<void> {
    const version = (await this.client.run('SELECT version()')).trim()
    const names = { database: this.options.database, prefix: this.options.tablePrefix }
    const ddl = ddlFor(version, names, this.options.retentionMs, this.options.cluster)
    if (this.options.createTables) await this.createTables(ddl)
    // The tables must be there (created or not): a missing one keeps the sink not ready, not every write failing.
    for (const kind of TABLE_KINDS) await this.client.run(`SELECT count() FROM ${ddl.tables[kind]} WHERE 0`)
    if (this.closing) return
    this.ddl = ddl
    this.open = new Flush(ddl.labelColumns)
    this.options.logger.info({ sink: this.name, version, ddl: ddl.kind, cluster: ddl.cluster, tables: Object.values(ddl.tables) }, 'ClickHouse sink started')
    if (this.options.retentionMs > 0 && ddl.kind === 'legacy') {
      await this.applyRetention()
      this.retentionTimer = setInterval(() => { void this.applyRetention() }, RETENTION_EVERY_MS)
      this.retentionTimer.unref()
    }
  }

  /** Without a cluster: the statements on the server. With one: cluster-tables.ts (ON CLUSTER with ZooKeeper, else per server). */
  private async createTables (ddl: Ddl): Promise<void> {
    if (ddl.cluster !== undefined) { this.clusterWay = await createClusterTables(this.client, ddl, { urls: this.options.urls, logger: this.options.logger, sink: this.name }); return }
    for (const statement of ddl.statements) await this.client.run(statement)
  }

  write (batch: RowBatch): Promise<void> {
    const open = this.open
    if (this.closing) return Promise.reject(new IngestError('sink_failed', 'the ClickHouse sink is closing'))
    if (open === undefined) return Promise.reject(new IngestError('sink_failed', 'the ClickHouse sink has not reached ClickHouse yet (it keeps trying; see the log)'))
    if (batch.sampleCount + batch.histogramCount + batch.exemplarCount + batch.metadataCount === 0) return Promise.resolve()
    const before = open.rows
    this.encode(open, batch)
    // Nothing new to write (metadata ClickHouse already confirmed): stored already.
    if (open.rows === before) return Promise.resolve()
    if (open.waiters.length === 0) open.firstAt = performance.now()
    this.lastArrival = performance.now()
    const done = new Promise<void>((resolve, reject) => { open.waiters.push({ resolve, reject }) })
    this.kick()
    return done
  }

  ready (): boolean {
    if (!this.started || this.closing || this.open === undefined) return false
    const after = this.options.unreadyAfterMs
    return after === 0 || this.failingSince === 0 || performance.now() - this.failingSince < after
  }

  async close (): Promise<void> {
    if (this.closing) return
    this.closing = true
    clearTimeout(this.timer)
    clearInterval(this.retentionTimer)
    this.wakeConnect?.()
    await this.connecting
    // Flush what waits, one flush after the other, until nothing does.
    for (let rounds = 0; rounds < 1000; rounds++) {
      if (this.running.size > 0) { await Promise.all(this.running); continue }
      if (this.open === undefined || this.open.waiters.length === 0) break
      this.startFlush()
    }
    await this.client.close()
  }

  /** Drops day partitions older than retention (18.16; each server of a cluster); a failure is logged and tried again next time. */
  private async applyRetention (): Promise<void> {
    const servers = this.ddl!.cluster === undefined ? [undefined] : this.clusterWay === 'on-cluster' ? ['on-cluster' as const] : Array.from({ length: this.client.urlCount }, (_, i) => i)
    for (const server of servers) {
      try {
        const dropped = await dropExpiredPartitions(this.client, this.ddl!, this.options.database, this.options.retentionMs, Date.now(), server)
        if (dropped.length > 0) this.options.logger.info({ sink: this.name, dropped }, 'ClickHouse: dropped day partitions older than retention')
      } catch (err) {
        this.options.logger.warn({ sink: this.name, err: (err as Error).message }, 'ClickHouse: dropping partitions older than retention failed')
      }
    }
  }

  /** Encodes the batch's rows into the flush: series rows first seen today, then samples, histograms, exemplars, metadata. */
  private encode (f: Flush, batch: RowBatch): void {
    const tenant = this.tenantBytes(batch.tenant)
    const n = batch.sampleCount
    this.seriesRows(f, batch, batch.seriesIds, batch.timestamps, n, tenant)
    this.seriesRows(f, batch, batch.histogramSeriesIds, batch.histogramTimestamps, batch.histogramCount, tenant)
    this.seriesRows(f, batch, batch.exemplarSeriesIds, batch.exemplarTimestamps, batch.exemplarCount, tenant)
    if (n > 0) {
      // The values column viewed as words: copied bit for bit (stale markers keep their payload).
      const valueWords = new Uint32Array(batch.values.buffer, batch.values.byteOffset, 2 * n)
      f.samples.append(n, batch.seriesIds, batch.timestamps, valueWords, this.fpLo, this.fpHi)
    }
    if (batch.histogramCount + batch.exemplarCount + batch.metadataCount === 0) return
    // The batch's buffer as bytes: Float64 fields and arrays are copied from it as they are.
    const raw = new Uint8Array(batch.buffer)
    for (let i = 0; i < batch.histogramCount; i++) {
      const id = batch.histogramSeriesIds[i]!
      f.histograms.append(batch, raw, i, this.fpLo[id]!, this.fpHi[id]!)
    }
    for (let i = 0; i < batch.exemplarCount; i++) {
      const id = batch.exemplarSeriesIds[i]!
      f.exemplars.append(batch, raw, i, this.fpLo[id]!, this.fpHi[id]!)
    }
    const now = Date.now()
    for (let i = 0; i < batch.metadataCount; i++) {
      const key = metadataKey(batch, i, tenant.prefix)
      const seen = this.metadataSeen.get(key)
      if (seen !== undefined && now - seen < METADATA_REFRESH_MS) continue
      f.metadata.append(batch, i, tenant.utf8, Math.floor(now / 1000))
      f.metadataKeys.push(key)
    }
  }

  /** Series rows of the series of rows [0, n) (ids, timestamps) whose series has none for that day yet. */
  private seriesRows (f: Flush, batch: RowBatch, ids: Uint32Array, ts: Float64Array, n: number, tenant: TenantBytes): void {
    for (let i = 0; i < n; i++) {
      const id = ids[i]!
      const day = Math.floor(ts[i]! / DAY_MS)
      if (this.dayMark[id] !== day + 1 || this.fpKnown[id] === 0) this.seriesRow(f, batch, id, day, tenant)
    }
  }

  private seriesRow (f: Flush, batch: RowBatch, id: number, day: number, tenant: TenantBytes): void {
    const labels = this.options.index.labelBytes(id) ?? newSeriesBytes(batch, id)
    if (labels === undefined) throw new IngestError('internal', `series id ${id} has no labels in the series index`)
    if (this.fpKnown[id] === 0) {
      fingerprintOf(tenant.prefix, labels)
      this.fpLo[id] = fingerprintOut[0]!
      this.fpHi[id] = fingerprintOut[1]!
      this.fpKnown[id] = 1
    }
    f.series.append(this.fpLo[id]!, this.fpHi[id]!, labels, tenant.utf8, day)
    this.dayMark[id] = day + 1
  }

  private tenantBytes (tenant: string): TenantBytes {
    let t = this.tenants.get(tenant)
    if (t === undefined) {
      t = { prefix: tenantPrefix(tenant), utf8: new TextEncoder().encode(tenant) }
      if (this.tenants.size < 10_000) this.tenants.set(tenant, t)
    }
    return t
  }

  /** Starts the open flush if it is due; otherwise sets the timer for when it will be. */
  private kick (): void {
    const open = this.open
    if (this.running.size >= MAX_IN_FLIGHT || this.retrying > 0 || open === undefined || open.waiters.length === 0) return
    const now = performance.now()
    const gapOver = this.lastFlushStart + Math.min(this.options.flushGapMs ?? FLUSH_GAP_MS, this.options.flushIntervalMs)
    const dueAt = Math.min(open.firstAt + this.options.flushIntervalMs, Math.max(this.lastArrival + QUIET_MS, gapOver))
    if (this.closing || open.rows >= this.options.flushRows || now >= dueAt) { this.startFlush(); return }
    clearTimeout(this.timer)
    this.timer = setTimeout(() => { this.timer = undefined; this.kick() }, Math.max(1, Math.ceil(dueAt - now)))
  }

  private startFlush (): void {
    clearTimeout(this.timer)
    const f = this.open!
    this.open = this.spares.pop() ?? new Flush(this.ddl!.labelColumns)
    const previous = this.last
    if (previous !== undefined) previous.successor = f
    this.last = f
    this.lastFlushStart = performance.now()
    const run: Promise<void> = this.runFlush(f, previous).finally(() => {
      if (this.last === f) this.last = undefined
      this.running.delete(run)
      f.reset()
      this.spares.push(f)
      if (!this.closing) this.kick()
    })
    this.running.add(run)
  }

  /** One INSERT per table with rows, series first; each retried whole. Settles the flush's writes. */
  private async runFlush (f: Flush, previous: Flush | undefined): Promise<void> {
    // Rows of this flush may refer to series rows of the previous one (or carried from it, failed).
    if (previous !== undefined && !previous.seriesResolved) {
      this.metrics.flushesWaited.inc()
      await previous.seriesSettled
    }
    const ddl = this.ddl!
    const bodies = f.bodies()
    const done = bodies.map(b => b.rows === 0)
    if (done[0]) f.settleSeries()
    let error: IngestError | undefined
    const t0 = performance.now()
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (attempt > 0) {
        const tooManyParts = error?.detail?.clickhouseCode === TOO_MANY_PARTS
        await new Promise(resolve => setTimeout(resolve, (tooManyParts ? TOO_MANY_PARTS_BACKOFF_MS : RETRY_BACKOFF_MS) * 2 ** (attempt - 1)))
        // Nothing of this flush went in yet and none started after it: the rows that arrived meanwhile
        // join it (one part, not two). Not when its series were settled and the open rows bring series
        // rows: a flush started later would not wait for them.
        const open = this.open
        if (done.every((d, t) => !d || bodies[t]!.rows === 0) && f.successor === undefined && open !== undefined && open.waiters.length > 0 &&
          !(f.seriesResolved && open.series.rows > 0)) {
          f.absorb(open)
          this.metrics.flushesMerged.inc()
          for (let t = 0; t < bodies.length; t++) done[t] = bodies[t]!.rows === 0
        }
      }
      try {
        for (let t = 0; t < TABLE_KINDS.length; t++) {
          if (done[t]) continue
          const kind: TableKind = TABLE_KINDS[t]!
          // Sorted by the table's ORDER BY, so that ClickHouse finds the block sorted and skips its own sort
          // (once: a retry sorts again only when rows joined the flush).
          if (kind === 'samples') f.samples.sort()
          await this.client.run(`INSERT INTO ${ddl.tables[kind]} FORMAT RowBinary`, bodies[t]!.bytes())
          done[t] = true
          if (t === 0) f.settleSeries()
          this.metrics.rowsInserted.inc({ table: kind }, bodies[t]!.rows)
        }
        if (error !== undefined) this.retrying--
        error = undefined
        break
      } catch (err) {
        if (error === undefined) this.retrying++
        error = err instanceof IngestError ? err : new IngestError('sink_failed', `ClickHouse: ${(err as Error).message}`)
        this.metrics.insertFailures.inc()
        this.options.logger.warn({ sink: this.name, attempt: attempt + 1, rows: f.rows, err: error.message }, 'ClickHouse INSERT failed')
      }
    }
    if (error !== undefined) this.retrying--
    this.metrics.flushDuration.observe((performance.now() - t0) / 1000)
    this.metrics.flushes.inc({ result: error === undefined ? 'confirmed' : 'failed' })
    if (error === undefined) {
      this.failingSince = 0
      this.rememberMetadata(f)
      for (const w of f.waiters) w.resolve()
      return
    }
    if (this.failingSince === 0) this.failingSince = performance.now()
    // The next flush writes these series rows again (before its rows, which may need them): the one
    // started after this one (waiting for this), else the open one.
    const next = f.successor ?? this.open
    if (!done[0] && next !== undefined) next.series.appendRows(f.series)
    f.settleSeries()
    const failed = new IngestError('sink_failed', `ClickHouse did not confirm the INSERT after ${MAX_ATTEMPTS} attempts: ${error.message}`)
    for (const w of f.waiters) w.reject(failed)
  }

  private rememberMetadata (f: Flush): void {
    if (f.metadataKeys.length === 0) return
    if (this.metadataSeen.size + f.metadataKeys.length > METADATA_MEMO_ENTRIES) this.metadataSeen.clear()
    const now = Date.now()
    for (const key of f.metadataKeys) this.metadataSeen.set(key, now)
  }
}

/**
 * A number naming metadata entry i with its tenant: FNV-1a 64 of the tenant prefix and the entry's
 * family, help and unit bytes, mixed with its type and the lengths of family and help (so that the
 * same bytes cut differently differ), kept to 53 bits (an exact Map key). A collision only delays an
 * entry's refresh.
 */
function metadataKey (batch: RowBatch, i: number, tenantPrefixBytes: Uint8Array): number {
  const o = batch.metadataOffsets
  fingerprintOf(tenantPrefixBytes, batch.metadataBytes.subarray(o[3 * i], o[3 * i + 3]))
  const mix = Math.imul(batch.metadataTypes[i]! + 1, 0x9e3779b1) ^ Math.imul(o[3 * i + 1]! - o[3 * i]!, 0x85ebca6b) ^ (o[3 * i + 2]! - o[3 * i + 1]!)
  return ((fingerprintOut[1]! ^ mix) & 0x1fffff) * 4294967296 + fingerprintOut[0]!
}

/** The labels of a series new in this batch (when the index has none: a sink tested without one). */
function newSeriesBytes (batch: RowBatch, id: number): Uint8Array | undefined {
  for (let i = 0; i < batch.newSeriesCount; i++) if (batch.newSeriesIds[i] === id) return batch.newSeriesLabelBytes(i)
  return undefined
}

export function createClickHouseSink (options: ClickHouseSinkOptions): ClickHouseSink {
  return new ClickHouseSink(options)
}
