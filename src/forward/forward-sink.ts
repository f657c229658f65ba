/**
 * The forward sink: remote write out to one or more destinations, through one durable log of accepted
 * requests under `<data-dir>/forward/` with a read position (cursor) per destination.
 *
 * `write` appends one record per request: a small header and the request's compressed body as it was
 * received (a view of the slot: a vectored append copies it once, from the slot into the log file), and
 * resolves once the log fsync'd the record with its group. A 204 therefore means the request is in
 * every destination's queue. Each destination's sender (sender.ts) reads the log from its own cursor, so
 * a slow or dead destination holds back neither the others nor the store.
 *
 * The body is sent as it is, unless the series changed: when some series of the request were invalid
 * (the 400 for a partial write), the valid ones are encoded again from the batch (encode/), during the
 * synchronous part of `write` (this sink borrows the batch; see sink.ts). Shard mode encodes one body per
 * destination the same way.
 *
 * Full queue: a destination whose pending bytes would pass its limit makes the write fail with
 * `queue_full` (503 + Retry-After; the sender retries), or, with forward-queue-full=drop-oldest, drops
 * its oldest records (counted).
 */
import { join } from 'node:path'
import type { Registry } from 'prom-client'
import type { RowBatch } from '../batch/row-batch.js'
import type { QueueFullPolicy } from '../config/schema.js'
import { IngestError } from '../errors.js'
import type { Logger } from '../logger.js'
import type { ReceivedBody, Sink } from '../sinks/sink.js'
import type { Backoff } from './answer-table.js'
import type { Destination } from './destinations.js'
import type { DestinationRules } from './destination-rules.js'
import type { Labels } from '../series/labels.js'
import { DurableLog, type LogCursor } from '../queue/durable-log.js'
import { ForwardMetrics, type QueueFigures } from './metrics.js'
import { ALL_DESTINATIONS, recordHeader, type RecordInfo } from './record.js'
import type { Transcoder } from './sender.js'
import { SendThread } from './send-thread.js'

export interface ForwardSinkOptions {
  /** The service's data directory: the queue lives in `<dataDir>/forward`. */
  readonly dataDir: string
  readonly destinations: readonly Destination[]
  readonly queueFull: QueueFullPolicy
  readonly backoff: Backoff
  readonly tenantHeader: string
  readonly logger: Logger
  readonly registry: Registry
  /** Shard mode: each series to one destination (needs `encode`). */
  readonly shard?: boolean
  /** Encodes bodies from batches (partial writes, shard mode) and converts or splits records. */
  readonly encoder?: BatchEncoder
  /** Per-destination relabeling rules (destination-rules.ts), applied before each destination's queue. */
  readonly rules?: DestinationRules
}

/** What the sink needs to build bodies from a batch instead of forwarding the received one. */
export interface BatchEncoder extends Transcoder {
  /**
   * The batch's series as records' info and bodies, in requests of at most 10,000 samples or 8 MiB;
   * with `route`, a series goes only to the destination `route(labelsOf(series))` names.
   */
  encodeBatch(batch: RowBatch, version: '1.0' | '2.0', route?: (seriesId: number) => number, labelsOf?: (seriesId: number) => Labels | undefined): Array<{ info: RecordInfo, body: Uint8Array }>
  /** Rendezvous-hash router over the destinations (shard mode). */
  router(batch: RowBatch, destinations: readonly Destination[]): (seriesId: number) => number
}

interface DestinationQueue extends QueueFigures {
  readonly destination: Destination
  readonly cursor: LogCursor
}

export class ForwardSink implements Sink {
  readonly name = 'forward'
  readonly batchUse = 'borrows' as const
  readonly wantsBody = true
  /** Without shard mode or destination rules, a body with no invalid series goes on as received: the rows are not needed. */
  readonly bodyOnly: boolean
  private log: DurableLog | undefined
  private queues: DestinationQueue[] = []
  private sending: SendThread | undefined
  private metrics: ForwardMetrics | undefined
  private open = false

  constructor (private readonly o: ForwardSinkOptions) {
    if (o.destinations.length === 0) throw new IngestError('config_invalid', 'the forward sink needs at least one destination')
    if (o.shard === true && o.encoder === undefined) throw new IngestError('config_invalid', 'shard mode needs the batch encoder')
    this.bodyOnly = o.shard !== true && (o.rules === undefined || o.rules.size === 0)
  }

  async start (): Promise<void> {
    const { o } = this
    const log = await DurableLog.open({ dir: join(o.dataDir, 'forward'), logger: o.logger })
    this.log = log
    this.queues = o.destinations.map(d => {
      const cursor = log.cursor(d.name)
      return {
        destination: d,
        cursor,
        name: d.name,
        limitBytes: d.queueLimitBytes,
        pendingBytes: () => cursor.pendingBytes,
        pendingRecords: () => cursor.pendingRecords,
        oldestPendingAppendedAtMs: () => cursor.oldestPendingAppendedAtMs()
      }
    })
    this.metrics = new ForwardMetrics(o.registry, () => this.queues, () => log.stats())
    const metrics = this.metrics
    const gone = log.cursorNames().filter(n => !o.destinations.some(d => d.name === n))
    // A destination removed from the configuration would pin the queue's segments for ever: its cursor goes.
    for (const name of gone) {
      await log.deleteCursor(name)
      o.logger.warn({ destination: name }, 'forward queue: destination no longer configured; its cursor is deleted and the records it had not taken are no longer kept for it')
    }
    for (const q of this.queues) {
      if (q.cursor.pendingRecords > 0) o.logger.info({ destination: q.name, records: q.cursor.pendingRecords, bytes: q.cursor.pendingBytes }, 'forward queue read back: records waiting to be sent')
    }
    // Reading the log and sending run in the forward worker; this thread appends and fsyncs.
    this.sending = new SendThread({
      log,
      destinations: o.destinations,
      cursors: this.queues.map(q => q.cursor),
      figures: this.queues.map(q => metrics.destination(q.name)),
      backoff: o.backoff,
      tenantHeader: o.tenantHeader,
      transcode: o.encoder !== undefined,
      logger: o.logger
    })
    await this.sending.start()
    this.open = true
  }

  /** Refuses (queue_full) at once when a destination's queue is full and the policy is refuse. */
  check (_batch: RowBatch, body?: ReceivedBody): void {
    if (this.o.queueFull !== 'refuse') return
    const bytes = body?.bytes.length ?? 0
    for (const q of this.queues) {
      if (q.cursor.pendingBytes + bytes > q.destination.queueLimitBytes) throw queueFull(q)
    }
  }

  write (batch: RowBatch, received?: ReceivedBody): Promise<void> {
    // A body whose series were changed (HA deduplication, relabeling) is not what goes on: the batch is.
    const body = received?.changed === true ? undefined : received
    const log = this.log
    if (log === undefined || !this.open) return Promise.reject(new IngestError('sink_failed', 'the forward sink is not open'))
    const o = this.o
    let records: Array<{ info: RecordInfo, body: Uint8Array }>
    const version = body?.version ?? batch.version
    const asReceived = body !== undefined && batch.invalidSeriesCount === 0 && o.shard !== true
    if (!asReceived && batch.rowsOmitted) {
      // A gateway batch has counts only: encoding it would forward nothing (the decoder gives rows whenever a series was invalid).
      return Promise.reject(new IngestError('internal', 'the forward sink got a counts-only batch (gateway decode) without the received body'))
    }
    if (asReceived) {
      records = [{ info: { version: body.version, target: ALL_DESTINATIONS, samples: batch.sampleCount, histograms: batch.histogramCount, exemplars: batch.exemplarCount, tenant: body.tenant }, body: body.bytes }]
    } else if (o.encoder !== undefined) {
      // Borrowed batch: everything is encoded now, before the owning sink may move the buffer.
      records = o.encoder.encodeBatch(batch, version, o.shard === true ? o.encoder.router(batch, o.destinations) : undefined)
    } else {
      return Promise.reject(new IngestError('sink_failed', 'the forward sink cannot encode this batch (no encoder)'))
    }
    if (o.rules !== undefined && o.rules.size > 0) records = this.throughRules(o.rules, batch, version, records)
    return this.append(log, records)
  }

  /**
   * Per-destination rules: each destination gets records of its own (target = its index). One whose
   * rules leave the batch's series unchanged, or that has no rules, gets the records every destination
   * would have got; the others get the batch encoded through their rules (synchronously: the batch is
   * borrowed). The cost: with rules on some destination, a body is in the queue once per destination.
   */
  private throughRules (rules: DestinationRules, batch: RowBatch, version: '1.0' | '2.0', common: Array<{ info: RecordInfo, body: Uint8Array }>): Array<{ info: RecordInfo, body: Uint8Array }> {
    const out: Array<{ info: RecordInfo, body: Uint8Array }> = []
    const encoder = this.o.encoder
    const route = this.o.shard === true && encoder !== undefined ? encoder.router(batch, this.o.destinations) : undefined
    for (let i = 0; i < this.o.destinations.length; i++) {
      const labels = rules.has(i) ? rules.labelsFor(i, batch) : undefined
      if (labels === undefined || encoder === undefined) {
        for (const r of common) if (r.info.target === ALL_DESTINATIONS || r.info.target === i) out.push({ info: { ...r.info, target: i }, body: r.body })
        continue
      }
      const mine = route === undefined ? labels : (id: number) => route(id) === i ? labels(id) : undefined
      for (const r of encoder.encodeBatch(batch, version, undefined, mine)) out.push({ info: { ...r.info, target: i }, body: r.body })
    }
    return out
  }

  private async append (log: DurableLog, records: Array<{ info: RecordInfo, body: Uint8Array }>): Promise<void> {
    for (const r of records) await this.makeRoom(r.info.target, r.body.length + 64)
    // One append per record; their fsyncs are grouped by the log, with other requests' appends.
    await Promise.all(records.map(r => log.append([recordHeader(r.info), r.body])))
  }

  /** Applies the full-queue policy to the destinations the record goes to. */
  private async makeRoom (target: number, bytes: number): Promise<void> {
    for (let i = 0; i < this.queues.length; i++) {
      if (target !== ALL_DESTINATIONS && target !== i) continue
      const q = this.queues[i]!
      const limit = q.destination.queueLimitBytes
      if (q.cursor.pendingBytes + bytes <= limit) continue
      if (this.o.queueFull === 'refuse') {
        throw queueFull(q)
      }
      const dropped = await q.cursor.dropOldest(Math.max(0, limit - bytes))
      if (dropped.records > 0) {
        this.sending?.moved(q.name, q.cursor.position)
        const figures = this.metrics!
        figures.queueDropped.labels(q.name).inc(dropped.records)
        figures.requests.labels(q.name, 'queue_full', 'dropped').inc(dropped.records)
        this.o.logger.warn({ destination: q.name, records: dropped.records, bytes: dropped.bytes }, 'forward queue full: oldest records dropped')
      }
    }
  }

  ready (): boolean { return this.open }

  async close (): Promise<void> {
    if (!this.open) return
    this.open = false
    await this.sending?.close()
    await this.log?.close()
    this.metrics?.unregister()
  }
}

function queueFull (q: DestinationQueue): IngestError {
  return new IngestError('queue_full', `the forward queue of destination ${q.name} is full (${q.cursor.pendingBytes} of ${q.destination.queueLimitBytes} bytes waiting); retry later`, { destination: q.name })
}

export function createForwardSink (options: ForwardSinkOptions): ForwardSink {
  return new ForwardSink(options)
}
