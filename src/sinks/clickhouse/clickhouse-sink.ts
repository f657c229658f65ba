/**
 * The ClickHouse sink (`--sink clickhouse`): rows go to ClickHouse's series and samples tables
 * (ddl.ts) in RowBinary INSERTs (row-binary.ts), keyed by the series fingerprint (fingerprint.ts).
 *
 * Group commit across requests (the house model: duckdb/group-commit.ts). A write encodes its batch
 * into the open flush at once (the sink borrows batches: it reads them only inside `write`), and its
 * promise settles when the flush holding its rows was confirmed by ClickHouse or failed: a 204 only
 * after ClickHouse confirmed the INSERT. A flush is one INSERT per table, series rows before samples;
 * it starts when it holds flush-rows rows, flush-interval after its first row, or once writes pause
 * (QUIET_MS without a batch, senders wait for their answers), but never sooner than MIN_GAP_MS after
 * the previous one started: ClickHouse wants few large inserts (each makes a part; too many parts
 * gets `Too many parts`). One flush runs at a time; the next one fills meanwhile.
 *
 * A failed INSERT is sent again whole (RowBinary inserts are atomic) after a backoff, up to
 * MAX_ATTEMPTS; then the flush's writes fail with `sink_failed` (503, Retry-After) and nothing of them
 * was acknowledged. The series rows of a failed flush are carried into the next one, so that samples
 * never lack their series row. An INSERT whose answer was lost may have been applied: then its rows
 * are stored twice (at least once, as with any retry).
 *
 * Series rows: one per series per day of its samples per process (the ReplacingMergeTree folds the
 * copies that several processes write). Not stored yet: histograms, exemplars, metadata.
 */
import type { Registry } from 'prom-client'
import type { RowBatch } from '../../batch/row-batch.js'
import { IngestError } from '../../errors.js'
import type { Logger } from '../../logger.js'
import type { SeriesIndex } from '../../series/series-index.js'
import type { Sink } from '../sink.js'
import { ClickHouseClient } from './clickhouse-client.js'
import { ddlFor, type Ddl } from './ddl.js'
import { fingerprintOf, fingerprintOut, tenantPrefix } from './fingerprint.js'
import { clickHouseMetrics, type ClickHouseMetrics } from './metrics.js'
import { dropExpiredPartitions } from './retention.js'
import { SampleRows, SeriesRows, type LabelColumns } from './row-binary.js'

export interface ClickHouseSinkOptions {
  readonly urls: readonly string[]
  readonly database: string
  readonly user: string
  readonly password: string
  readonly tablePrefix: string
  readonly createTables: boolean
  readonly flushRows: number
  readonly flushIntervalMs: number
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
/** A flush starts once no batch arrived for this long (senders wait for their answers). */
const QUIET_MS = 2
/** Shortest time between the starts of two flushes: at most 20 parts a second per table. */
const MIN_GAP_MS = 50
/** How often expired day partitions are looked for (18.16: retention without TTL). */
const RETENTION_EVERY_MS = 3_600_000
/** Longest an INSERT may take. */
const STATEMENT_TIMEOUT_MS = 30_000
const DAY_MS = 86_400_000

interface Waiter { resolve(): void, reject(err: unknown): void }

class Flush {
  readonly series: SeriesRows
  readonly samples = new SampleRows()
  readonly waiters: Waiter[] = []
  firstAt = 0
  constructor (labelColumns: LabelColumns) { this.series = new SeriesRows(labelColumns) }
  get rows (): number { return this.series.rows + this.samples.rows }
  reset (): void { this.series.reset(); this.samples.reset(); this.waiters.length = 0 }
}

interface TenantBytes { readonly prefix: Uint8Array, readonly utf8: Uint8Array }

export class ClickHouseSink implements Sink {
  readonly name = 'clickhouse'
  readonly batchUse = 'borrows' as const
  private readonly client: ClickHouseClient
  private ddl: Ddl | undefined
  private open: Flush | undefined
  private spare: Flush | undefined
  private flushing: Promise<void> | undefined
  private timer: NodeJS.Timeout | undefined
  private lastArrival = 0
  private lastFlushStart = -Infinity
  private started = false
  private closing = false
  private failingSince = 0
  // By series id (ids are dense, up to max-series): fingerprint halves, whether it is computed, and
  // the day (+1) of the last series row written for it (0: none).
  private readonly fpLo: Uint32Array
  private readonly fpHi: Uint32Array
  private readonly fpKnown: Uint8Array
  private readonly dayMark: Int32Array
  private readonly tenants = new Map<string, TenantBytes>()
  private warnedUnstored = false
  private retentionTimer: NodeJS.Timeout | undefined
  private readonly metrics: ClickHouseMetrics

  constructor (private readonly options: ClickHouseSinkOptions) {
    this.client = new ClickHouseClient({ urls: options.urls, user: options.user, password: options.password, timeoutMs: STATEMENT_TIMEOUT_MS })
    this.metrics = clickHouseMetrics(options.registry)
    const n = options.index.maxSeries + 1
    this.fpLo = new Uint32Array(n)
    this.fpHi = new Uint32Array(n)
    this.fpKnown = new Uint8Array(n)
    this.dayMark = new Int32Array(n)
  }

  /** The DDL in use (after start). */
  get tables (): Ddl | undefined { return this.ddl }

  async start (): Promise<void> {
    const version = (await this.client.run('SELECT version()')).trim()
    const ddl = ddlFor(version, { database: this.options.database, prefix: this.options.tablePrefix }, this.options.retentionMs)
    if (this.options.createTables) {
      for (const statement of ddl.statements) await this.client.run(statement)
    }
    // The tables must be there (created or not): a missing one fails the start, not every write.
    await this.client.run(`SELECT count() FROM ${ddl.seriesTable} WHERE 0`)
    await this.client.run(`SELECT count() FROM ${ddl.samplesTable} WHERE 0`)
    this.ddl = ddl
    this.open = new Flush(ddl.labelColumns)
    this.spare = new Flush(ddl.labelColumns)
    this.started = true
    this.options.logger.info({ sink: this.name, version, ddl: ddl.kind, series: ddl.seriesTable, samples: ddl.samplesTable }, 'ClickHouse sink started')
    if (this.options.retentionMs > 0 && ddl.kind === 'legacy') {
      await this.applyRetention()
      this.retentionTimer = setInterval(() => { void this.applyRetention() }, RETENTION_EVERY_MS)
      this.retentionTimer.unref()
    }
  }

  write (batch: RowBatch): Promise<void> {
    const open = this.open
    if (open === undefined || this.closing) return Promise.reject(new IngestError('sink_failed', 'the ClickHouse sink is not running'))
    // Histograms and exemplars have no table here yet: the float samples are stored, and the answer
    // then says what was not (400 sink_unsupported, after the samples' INSERT): never a 2xx over rows
    // left out. Metadata (type, help, unit) is not samples: it is left out, and said once in the log.
    const unstored = batch.histogramCount + batch.exemplarCount
    if (!this.warnedUnstored && batch.metadataCount > 0) {
      this.warnedUnstored = true
      this.options.logger.warn({ sink: this.name, metadata: batch.metadataCount }, 'the ClickHouse sink does not store metadata (type, help, unit) yet (docs/clickhouse.md)')
    }
    const refusal = unstored === 0
      ? undefined
      : new IngestError('sink_unsupported', `the ClickHouse sink stored the request's float samples but cannot store its ${batch.histogramCount} native histogram samples and ${batch.exemplarCount} exemplars yet (docs/clickhouse.md)`)
    if (batch.sampleCount === 0) return refusal === undefined ? Promise.resolve() : Promise.reject(refusal)
    this.encode(open, batch)
    if (open.waiters.length === 0) open.firstAt = performance.now()
    this.lastArrival = performance.now()
    const done = new Promise<void>((resolve, reject) => { open.waiters.push({ resolve, reject }) })
    this.kick()
    return refusal === undefined ? done : done.then(() => { throw refusal })
  }

  ready (): boolean {
    if (!this.started || this.closing) return false
    const after = this.options.unreadyAfterMs
    return after === 0 || this.failingSince === 0 || performance.now() - this.failingSince < after
  }

  async close (): Promise<void> {
    if (this.closing) return
    this.closing = true
    clearTimeout(this.timer)
    clearInterval(this.retentionTimer)
    // Flush what waits, one flush after the other, until nothing does.
    for (let rounds = 0; rounds < 1000; rounds++) {
      if (this.flushing !== undefined) { await this.flushing; continue }
      if (this.open === undefined || this.open.waiters.length === 0) break
      this.startFlush()
    }
    await this.client.close()
  }

  /** Drops day partitions older than retention (18.16); a failure is logged and tried again next time. */
  private async applyRetention (): Promise<void> {
    try {
      const dropped = await dropExpiredPartitions(this.client, this.ddl!, { database: this.options.database, prefix: this.options.tablePrefix }, this.options.retentionMs)
      if (dropped.length > 0) this.options.logger.info({ sink: this.name, dropped }, 'ClickHouse: dropped day partitions older than retention')
    } catch (err) {
      this.options.logger.warn({ sink: this.name, err: (err as Error).message }, 'ClickHouse: dropping partitions older than retention failed')
    }
  }

  /** Encodes the batch's rows into the flush: series rows first seen today, then the samples. */
  private encode (f: Flush, batch: RowBatch): void {
    const n = batch.sampleCount
    const ids = batch.seriesIds
    const ts = batch.timestamps
    const tenant = this.tenantBytes(batch.tenant)
    for (let i = 0; i < n; i++) {
      const id = ids[i]!
      const day = Math.floor(ts[i]! / DAY_MS)
      if (this.dayMark[id] !== day + 1) this.seriesRow(f, batch, id, day, tenant)
    }
    // The values column viewed as words: copied bit for bit (stale markers keep their payload).
    const valueWords = new Uint32Array(batch.values.buffer, batch.values.byteOffset, 2 * n)
    f.samples.append(n, ids, ts, valueWords, this.fpLo, this.fpHi)
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
    if (this.flushing !== undefined || open === undefined || open.waiters.length === 0) return
    const now = performance.now()
    const gapOver = this.lastFlushStart + Math.min(MIN_GAP_MS, this.options.flushIntervalMs)
    const dueAt = Math.min(open.firstAt + this.options.flushIntervalMs, Math.max(this.lastArrival + QUIET_MS, gapOver))
    if (this.closing || open.rows >= this.options.flushRows || now >= dueAt) { this.startFlush(); return }
    clearTimeout(this.timer)
    this.timer = setTimeout(() => { this.timer = undefined; this.kick() }, Math.max(1, Math.ceil(dueAt - now)))
  }

  private startFlush (): void {
    clearTimeout(this.timer)
    const f = this.open!
    this.open = this.spare
    this.spare = undefined
    this.lastFlushStart = performance.now()
    this.flushing = this.runFlush(f).finally(() => {
      f.reset()
      this.spare = f
      this.flushing = undefined
      if (!this.closing) this.kick()
    })
  }

  /** One INSERT per table, series first; each retried whole. Settles the flush's writes. */
  private async runFlush (f: Flush): Promise<void> {
    const ddl = this.ddl!
    let seriesDone = f.series.rows === 0
    let error: IngestError | undefined
    const t0 = performance.now()
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (attempt > 0) await new Promise(resolve => setTimeout(resolve, RETRY_BACKOFF_MS * 2 ** (attempt - 1)))
      try {
        if (!seriesDone) {
          await this.client.run(`INSERT INTO ${ddl.seriesTable} FORMAT RowBinary`, f.series.bytes())
          seriesDone = true
          this.metrics.rowsInserted.inc({ table: 'series' }, f.series.rows)
        }
        if (f.samples.rows > 0) {
          await this.client.run(`INSERT INTO ${ddl.samplesTable} FORMAT RowBinary`, f.samples.bytes())
          this.metrics.rowsInserted.inc({ table: 'samples' }, f.samples.rows)
        }
        error = undefined
        break
      } catch (err) {
        error = err instanceof IngestError ? err : new IngestError('sink_failed', `ClickHouse: ${(err as Error).message}`)
        this.metrics.insertFailures.inc()
        this.options.logger.warn({ sink: this.name, attempt: attempt + 1, rows: f.rows, err: error.message }, 'ClickHouse INSERT failed')
      }
    }
    this.metrics.flushDuration.observe((performance.now() - t0) / 1000)
    this.metrics.flushes.inc({ result: error === undefined ? 'confirmed' : 'failed' })
    if (error === undefined) {
      this.failingSince = 0
      for (const w of f.waiters) w.resolve()
      return
    }
    if (this.failingSince === 0) this.failingSince = performance.now()
    // The next flush writes these series rows again (before its samples, which may need them).
    if (!seriesDone && this.open !== undefined) this.open.series.appendRows(f.series)
    const failed = new IngestError('sink_failed', `ClickHouse did not confirm the INSERT after ${MAX_ATTEMPTS} attempts: ${error.message}`)
    for (const w of f.waiters) w.reject(failed)
  }
}

/** The labels of a series new in this batch (when the index has none: a sink tested without one). */
function newSeriesBytes (batch: RowBatch, id: number): Uint8Array | undefined {
  for (let i = 0; i < batch.newSeriesCount; i++) if (batch.newSeriesIds[i] === id) return batch.newSeriesLabelBytes(i)
  return undefined
}

export function createClickHouseSink (options: ClickHouseSinkOptions): ClickHouseSink {
  return new ClickHouseSink(options)
}
