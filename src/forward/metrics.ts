/**
 * The forwarder's metrics, per destination. Queue figures are read from the log's cursors at scrape
 * time; counts of requests and samples are counted as answers arrive.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'

export const FORWARD_METRICS = {
  queueBytes: 'prom_ingest_forward_queue_bytes',
  queueRecords: 'prom_ingest_forward_queue_records',
  queueLimitBytes: 'prom_ingest_forward_queue_limit_bytes',
  queueOldestAge: 'prom_ingest_forward_queue_oldest_age_seconds',
  queueDropped: 'prom_ingest_forward_queue_dropped_records_total',
  queueFsyncs: 'prom_ingest_forward_queue_fsyncs_total',
  queueDamaged: 'prom_ingest_forward_queue_damaged_records_total',
  queueRecycled: 'prom_ingest_forward_queue_segments_recycled_total',
  requests: 'prom_ingest_forward_requests_total',
  samples: 'prom_ingest_forward_samples_total',
  sendDuration: 'prom_ingest_forward_send_duration_seconds',
  lastSuccess: 'prom_ingest_forward_last_success_timestamp_seconds',
  stuck: 'prom_ingest_forward_destination_stuck'
} as const

const SEND_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

/** What a destination's figures read at scrape time. */
export interface QueueFigures {
  readonly name: string
  readonly limitBytes: number
  pendingBytes(): number
  pendingRecords(): number
  oldestPendingAppendedAtMs(): number | undefined
}

/** What a sender counts (DestinationFigures, or its relay from the forward worker: figures-relay.ts). */
export interface SenderFigures {
  request(outcome: 'sent' | 'dropped' | 'retried', code: string): { inc(n?: number): void }
  readonly samplesSent: { inc(n: number): void }
  readonly samplesDropped: { inc(n: number): void }
  readonly sendDuration: { observe(v: number): void }
  readonly lastSuccess: { set(v: number): void }
  readonly stuck: { set(v: number): void }
}

/** Counters of one destination, label children made once. */
export class DestinationFigures implements SenderFigures {
  private readonly requestChildren = new Map<string, { inc(n?: number): void }>()
  readonly samplesSent: { inc(n: number): void }
  readonly samplesDropped: { inc(n: number): void }
  readonly recordsDropped: { inc(n: number): void }
  readonly sendDuration: { observe(v: number): void }
  readonly lastSuccess: { set(v: number): void }
  readonly stuck: { set(v: number): void }

  constructor (private readonly m: ForwardMetrics, readonly destination: string) {
    this.samplesSent = m.samples.labels(destination, 'sent')
    this.samplesDropped = m.samples.labels(destination, 'dropped')
    this.recordsDropped = m.queueDropped.labels(destination)
    this.sendDuration = m.sendDuration.labels(destination)
    this.lastSuccess = m.lastSuccess.labels(destination)
    this.stuck = m.stuck.labels(destination)
    this.stuck.set(0)
    // Zero series exist from the start, so that rate() and alerts see the first increase.
    this.samplesSent.inc(0)
    this.samplesDropped.inc(0)
    this.recordsDropped.inc(0)
    this.request('sent', '200').inc(0)
    this.request('dropped', '400').inc(0)
    this.request('retried', '503').inc(0)
  }

  /** `outcome` sent | dropped | retried; `code` the HTTP status, or 'network', or 'queue_full'. */
  request (outcome: 'sent' | 'dropped' | 'retried', code: string): { inc(n?: number): void } {
    const key = outcome + code
    let c = this.requestChildren.get(key)
    if (c === undefined) {
      c = this.m.requests.labels(this.destination, code, outcome)
      this.requestChildren.set(key, c)
    }
    return c
  }
}

export class ForwardMetrics {
  readonly requests: Counter<'destination' | 'code' | 'outcome'>
  readonly samples: Counter<'destination' | 'outcome'>
  readonly queueDropped: Counter<'destination'>
  readonly sendDuration: Histogram<'destination'>
  readonly lastSuccess: Gauge<'destination'>
  readonly stuck: Gauge<'destination'>
  private readonly names: string[] = []

  constructor (private readonly registry: Registry, queues: () => readonly QueueFigures[], log: () => { fsyncs: number, damagedRecords: number, recycledSegments: number }) {
    const r = [registry]
    const track = <T>(name: string, m: T): T => { this.names.push(name); return m }
    const perQueue = (name: string, help: string, read: (q: QueueFigures) => number): void => {
      track(name, new Gauge({
        name, help, labelNames: ['destination'] as const, registers: r,
        collect () { for (const q of queues()) this.set({ destination: q.name }, read(q)) }
      }))
    }
    perQueue(FORWARD_METRICS.queueBytes, 'Bytes in the forward queue not yet delivered to the destination.', q => q.pendingBytes())
    perQueue(FORWARD_METRICS.queueRecords, 'Records (received requests) in the forward queue not yet delivered to the destination.', q => q.pendingRecords())
    perQueue(FORWARD_METRICS.queueLimitBytes, 'Queue limit of the destination: beyond it writes are refused (503) or the oldest records dropped.', q => q.limitBytes)
    perQueue(FORWARD_METRICS.queueOldestAge, 'Age of the oldest record not yet delivered to the destination (0 when none waits).', q => {
      const t = q.oldestPendingAppendedAtMs()
      return t === undefined ? 0 : Math.max(0, (Date.now() - t) / 1000)
    })
    track(FORWARD_METRICS.queueFsyncs, new Counter({
      name: FORWARD_METRICS.queueFsyncs, help: 'Fsyncs of the forward queue (each acknowledges a group of appends).', registers: r,
      collect () { this.reset(); this.inc(log().fsyncs) }
    }))
    track(FORWARD_METRICS.queueDamaged, new Counter({
      name: FORWARD_METRICS.queueDamaged, help: 'Damaged forward-queue records skipped when the queue was read back.', registers: r,
      collect () { this.reset(); this.inc(log().damagedRecords) }
    }))
    track(FORWARD_METRICS.queueRecycled, new Counter({
      name: FORWARD_METRICS.queueRecycled, help: 'Forward-queue segments started in the file of a segment every destination was past, overwritten instead of a new file.', registers: r,
      collect () { this.reset(); this.inc(log().recycledSegments) }
    }))
    this.queueDropped = track(FORWARD_METRICS.queueDropped, new Counter({
      name: FORWARD_METRICS.queueDropped, help: 'Records dropped from a full queue (forward-queue-full=drop-oldest), never sent to the destination.', labelNames: ['destination'] as const, registers: r
    }))
    this.requests = track(FORWARD_METRICS.requests, new Counter({
      name: FORWARD_METRICS.requests, help: 'Forward requests by destination, answer code (HTTP status, network) and outcome (sent, dropped, retried).', labelNames: ['destination', 'code', 'outcome'] as const, registers: r
    }))
    this.samples = track(FORWARD_METRICS.samples, new Counter({
      name: FORWARD_METRICS.samples, help: 'Samples sent to a destination (2xx) or dropped (refused by it for good, or dropped from a full queue).', labelNames: ['destination', 'outcome'] as const, registers: r
    }))
    this.sendDuration = track(FORWARD_METRICS.sendDuration, new Histogram({
      name: FORWARD_METRICS.sendDuration, help: 'Time from sending a forward request to its answer (or failure).', labelNames: ['destination'] as const, buckets: SEND_BUCKETS, registers: r
    }))
    this.lastSuccess = track(FORWARD_METRICS.lastSuccess, new Gauge({
      name: FORWARD_METRICS.lastSuccess, help: 'Unix time of the last 2xx from the destination.', labelNames: ['destination'] as const, registers: r
    }))
    this.stuck = track(FORWARD_METRICS.stuck, new Gauge({
      name: FORWARD_METRICS.stuck, help: '1 while the destination answers 401, 403, 404 (or another status that needs a person): its queue grows until the configuration is fixed.', labelNames: ['destination'] as const, registers: r
    }))
  }

  destination (name: string): DestinationFigures { return new DestinationFigures(this, name) }

  unregister (): void {
    for (const n of this.names) this.registry.removeSingleMetric(n)
  }
}
