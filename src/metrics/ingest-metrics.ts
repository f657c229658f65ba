/**
 * Every self-metric of the service, registered on one prom-client registry (src/metrics/registry.ts
 * in the process; a fresh one per in-process service in tests).
 *
 * Names follow Prometheus conventions: the prom_ingest_ prefix, units in the name (_seconds, _bytes),
 * counters end in _total. Counts owned by the worker pool and the series index are not mirrored on
 * every request: they are read at scrape time in `collect()`.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, type Registry } from 'prom-client'

/** What the metrics read from the decode pool at scrape time (DecodePool's stats() and index). */
export interface PoolFigures {
  stats(): {
    slotsInUse: number
    slotsTotal: number
    waiting: number
    utilization: number
    queueSize: number
    completed: number
    workerRestarts: number
  }
  readonly index: { readonly size: number }
}

/** What the metrics read from the receiver's admission gate at scrape time. */
export interface AdmissionFigures {
  readonly admitted: number
  readonly waiting: number
  readonly capacity: number
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
const DECODE_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1]

const withDefaultMetrics = new WeakSet<Registry>()

export class IngestMetrics {
  readonly requests: Counter<'path' | 'code' | 'version'>
  readonly requestDuration: Histogram<'path'>
  readonly inFlight: Gauge
  readonly rejected: Counter<'reason'>
  readonly invalidSeries: Counter
  readonly seriesRefused: Counter<'reason'>
  readonly ignoredFields: Counter
  readonly samples: Counter
  readonly histograms: Counter
  readonly exemplars: Counter
  readonly metadata: Counter
  readonly series: Counter
  readonly compressedBytes: Counter
  readonly decompressedBytes: Counter
  readonly decodeDuration: Histogram
  readonly sinkWriteDuration: Histogram<'sink'>
  readonly sinkFailures: Counter<'sink'>
  private readonly registry: Registry
  private readonly names: string[] = []
  /** Label children made once and reused: prom-client hashes the labels on every call otherwise. */
  private readonly writeAnswers = new Map<string, Map<number, { inc(): void }>>()
  private writeDuration: { observe(v: number): void } | undefined
  private readonly sinkChildren = new Map<string, { duration: { observe(v: number): void }, failures: { inc(): void } }>()

  constructor (registry: Registry, pool: PoolFigures, admission: AdmissionFigures) {
    this.registry = registry
    if (!withDefaultMetrics.has(registry)) {
      // Process and Node figures: CPU, RSS, heap, GC, event-loop lag.
      collectDefaultMetrics({ register: registry })
      // These three are gauges named like counters, which `promtool check metrics` refuses; the
      // same figures stay available by type in nodejs_active_handles, _requests and _resources.
      for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) registry.removeSingleMetric(name)
      withDefaultMetrics.add(registry)
    }
    const r = [registry]
    const track = <T>(name: string, m: T): T => { this.names.push(name); return m }

    // Requests.
    this.requests = track('prom_ingest_http_requests_total', new Counter({
      name: 'prom_ingest_http_requests_total', help: 'HTTP requests answered, by path, status code and remote-write protocol version (none off the write path).', labelNames: ['path', 'code', 'version'] as const, registers: r
    }))
    this.requestDuration = track('prom_ingest_http_request_duration_seconds', new Histogram({
      name: 'prom_ingest_http_request_duration_seconds', help: 'Time from a request\'s arrival to its answer, by path.', labelNames: ['path'] as const, buckets: LATENCY_BUCKETS, registers: r
    }))
    this.inFlight = track('prom_ingest_http_requests_in_flight', new Gauge({
      name: 'prom_ingest_http_requests_in_flight', help: 'Write requests being read, decoded or stored now.', registers: r
    }))
    this.rejected = track('prom_ingest_rejected_requests_total', new Counter({
      name: 'prom_ingest_rejected_requests_total', help: 'Write requests answered with an error, by reason (the error code).', labelNames: ['reason'] as const, registers: r
    }))
    this.invalidSeries = track('prom_ingest_invalid_series_total', new Counter({
      name: 'prom_ingest_invalid_series_total', help: 'Series refused by validation inside otherwise readable bodies (the valid series of the body are written).', registers: r
    }))
    this.seriesRefused = track('prom_ingest_series_refused_total', new Counter({
      name: 'prom_ingest_series_refused_total', help: 'New series refused although valid, by reason: series_limit when the series index is full (max-series series, or no room in series-arena-bytes), tenant_max_series when the tenant is at its tenant-max-series. Their samples are not stored.', labelNames: ['reason'] as const, registers: r
    }))
    this.ignoredFields = track('prom_ingest_ignored_fields_total', new Counter({
      name: 'prom_ingest_ignored_fields_total', help: 'Protobuf fields in decoded bodies that no batch carries: field numbers the Remote Write schemas do not define.', registers: r
    }))

    // What was written, counted once the request's rows are stored.
    this.samples = track('prom_ingest_received_samples_total', new Counter({
      name: 'prom_ingest_received_samples_total', help: 'Float samples received and stored (acknowledged).', registers: r
    }))
    this.histograms = track('prom_ingest_received_histograms_total', new Counter({
      name: 'prom_ingest_received_histograms_total', help: 'Native histogram samples received and stored (acknowledged).', registers: r
    }))
    this.exemplars = track('prom_ingest_received_exemplars_total', new Counter({
      name: 'prom_ingest_received_exemplars_total', help: 'Exemplars received and stored (acknowledged).', registers: r
    }))
    this.metadata = track('prom_ingest_received_metadata_total', new Counter({
      name: 'prom_ingest_received_metadata_total', help: 'Metadata entries received and stored (acknowledged).', registers: r
    }))
    this.series = track('prom_ingest_received_series_total', new Counter({
      name: 'prom_ingest_received_series_total', help: 'Time series entries received and stored (one per series per request).', registers: r
    }))
    this.compressedBytes = track('prom_ingest_received_compressed_bytes_total', new Counter({
      name: 'prom_ingest_received_compressed_bytes_total', help: 'Bytes of write-request bodies as received (snappy-compressed) that reached the decoder.', registers: r
    }))
    this.decompressedBytes = track('prom_ingest_received_decompressed_bytes_total', new Counter({
      name: 'prom_ingest_received_decompressed_bytes_total', help: 'Bytes of write-request bodies after snappy decompression.', registers: r
    }))

    // Decode.
    this.decodeDuration = track('prom_ingest_decode_duration_seconds', new Histogram({
      name: 'prom_ingest_decode_duration_seconds', help: 'Time to decode one body in the worker pool, queueing included, whether the body was valid or not.', buckets: DECODE_BUCKETS, registers: r
    }))

    // Sinks.
    this.sinkWriteDuration = track('prom_ingest_sink_write_duration_seconds', new Histogram({
      name: 'prom_ingest_sink_write_duration_seconds', help: 'Time from handing a batch to a sink until it is stored (group commit wait included), by sink.', labelNames: ['sink'] as const, buckets: LATENCY_BUCKETS, registers: r
    }))
    this.sinkFailures = track('prom_ingest_sink_write_failures_total', new Counter({
      name: 'prom_ingest_sink_write_failures_total', help: 'Batches a sink failed to store, by sink.', labelNames: ['sink'] as const, registers: r
    }))

    // Read from the pool at scrape time.
    const gauge = (name: string, help: string, read: () => number): void => {
      track(name, new Gauge({ name, help, registers: r, collect () { this.set(read()) } }))
    }
    const counter = (name: string, help: string, read: () => number): void => {
      track(name, new Counter({
        name,
        help,
        registers: r,
        collect () {
          // The pool owns the count; reset-then-inc shows it as it is.
          const v = read()
          this.reset()
          if (v > 0) this.inc(v)
        }
      }))
    }
    gauge('prom_ingest_slots_in_use', 'Shared-memory slots holding a request body now (being read or decoded).', () => pool.stats().slotsInUse)
    gauge('prom_ingest_slots', 'Shared-memory slots in the pool (normal and large).', () => pool.stats().slotsTotal)
    gauge('prom_ingest_slot_waiting_requests', 'Admitted requests waiting for a free slot now.', () => pool.stats().waiting)
    gauge('prom_ingest_admission_waiting_requests', 'Requests waiting to be admitted now (max-in-flight reached).', () => admission.waiting)
    gauge('prom_ingest_admitted_requests', 'Write requests admitted and not yet answered.', () => admission.admitted)
    gauge('prom_ingest_admission_capacity_requests', 'Write requests that may be in progress at once (max-in-flight).', () => admission.capacity)
    gauge('prom_ingest_pool_utilization_ratio', 'Decode worker-pool utilisation as piscina reports it (0 to 1).', () => pool.stats().utilization)
    gauge('prom_ingest_pool_queue_tasks', 'Decode tasks queued for a worker now (piscina queue size).', () => pool.stats().queueSize)
    counter('prom_ingest_pool_completed_tasks_total', 'Decode tasks the worker pool completed.', () => pool.stats().completed)
    counter('prom_ingest_pool_worker_restarts_total', 'Decode workers that died and were replaced.', () => pool.stats().workerRestarts)
    gauge('prom_ingest_series_known', 'Distinct series in the series index (known to this process).', () => pool.index.size)
  }

  /** Counts one answered write request and its duration. */
  writeAnswered (path: string, status: number, version: string, seconds: number): void {
    let byStatus = this.writeAnswers.get(version)
    if (byStatus === undefined) { byStatus = new Map(); this.writeAnswers.set(version, byStatus) }
    let child = byStatus.get(status)
    if (child === undefined) { child = this.requests.labels(path, String(status), version); byStatus.set(status, child) }
    child.inc()
    this.writeDuration ??= this.requestDuration.labels(path)
    this.writeDuration.observe(seconds)
  }

  /** The write-latency and failure series of one sink. */
  sink (name: string): { duration: { observe(v: number): void }, failures: { inc(): void } } {
    let c = this.sinkChildren.get(name)
    if (c === undefined) {
      c = { duration: this.sinkWriteDuration.labels(name), failures: this.sinkFailures.labels(name) }
      this.sinkChildren.set(name, c)
    }
    return c
  }

  /** Removes this service's metrics from the registry (default process metrics stay). */
  unregister (): void {
    for (const name of this.names) this.registry.removeSingleMetric(name)
  }
}
