/**
 * The live ingest figures of the status page: an in-process ring buffer of the last 15 minutes, one
 * reading per second (900 readings), taken from the service's own counters (src/metrics/), so the
 * write path does no extra work for it:
 *
 *   samples     prom_ingest_received_samples_total + _histograms_total (stored, acknowledged)
 *   bytes       prom_ingest_received_compressed_bytes_total (bodies as received that reached the decoder)
 *   requests    prom_ingest_http_requests_total{path="/api/v1/write"} by code
 *   sinks       prom_ingest_sink_write_duration_seconds sum and count by sink, and the DuckDB commit
 *               duration when that sink runs: latency over the last minute is their difference
 *
 * Each reading also notes the series index's last id once a minute (the id marks the cardinality
 * figures use for "new series per minute" and `date`), and when samples arrived first and last.
 * Rates are differences of readings divided by the time between them.
 */
import type { Registry } from 'prom-client'
import type { IngestMetrics } from '../metrics/ingest-metrics.js'
import type { IdMarks } from './cardinality.js'

interface MetricLike { get(): Promise<{ values: Array<{ value: number, labels: Record<string, string | number | undefined>, metricName?: string }> }> }

export const HISTORY_SECONDS = 15 * 60
/** Minute marks kept: a week. */
const MAX_MARKS = 7 * 24 * 60
const WRITE_PATH = '/api/v1/write'
const COMMIT_DURATION = 'prom_ingest_duckdb_commit_duration_seconds'

interface Reading {
  readonly t: number
  readonly samples: number
  readonly bytes: number
  readonly codes: ReadonlyMap<string, number>
  /** Per sink: [sum of seconds, count]; the DuckDB commit under 'duckdb commit'. */
  readonly latency: ReadonlyMap<string, readonly [number, number]>
}

export interface IngestSeries {
  /** Seconds between readings. */
  readonly intervalSeconds: number
  /** Start of the first interval (ms since the epoch). */
  readonly from: number
  /** End of each interval (ms since the epoch). */
  readonly times: number[]
  readonly samplesPerSecond: number[]
  readonly bytesPerSecond: number[]
  /** Write requests per second by answer code. */
  readonly requestsPerSecond: Record<string, number[]>
}

export interface HistoryOptions {
  readonly metrics: IngestMetrics
  readonly registry: Registry
  readonly index: { readonly lastId: number }
  /** ms between readings (default 1000). */
  readonly intervalMs?: number
}

export class IngestHistory {
  private readonly intervalMs: number
  private readonly capacity: number
  private readonly readings: Reading[] = []
  private readonly markTimes: number[] = []
  private readonly markIds: number[] = []
  private timer: NodeJS.Timeout | undefined
  private busy = false
  private firstSampleAt = 0
  private lastSampleAt = 0
  private readonly listeners = new Set<() => void>()

  constructor (private readonly o: HistoryOptions) {
    this.intervalMs = o.intervalMs ?? 1000
    this.capacity = Math.ceil(HISTORY_SECONDS * 1000 / this.intervalMs) + 1
  }

  /** Takes the first reading (the first id mark: series known at start-up) and one every interval. */
  start (): void {
    if (this.timer !== undefined) return
    this.mark(Date.now())
    void this.tick()
    this.timer = setInterval(() => { void this.tick() }, this.intervalMs)
    this.timer.unref()
  }

  stop (): void {
    clearInterval(this.timer)
    this.timer = undefined
  }

  /** Calls `f` after each reading (tests wait on it). Returns a function that removes it. */
  onReading (f: () => void): () => void {
    this.listeners.add(f)
    return () => this.listeners.delete(f)
  }

  async tick (): Promise<void> {
    if (this.busy) return
    this.busy = true
    try {
      const m = this.o.metrics
      const t = Date.now()
      const [floats, histograms, bytes, requests, sinkDuration] = await Promise.all([m.samples.get(), m.histograms.get(), m.compressedBytes.get(), m.requests.get(), m.sinkWriteDuration.get()])
      const codes = new Map<string, number>()
      for (const v of requests.values) {
        if (v.labels.path !== WRITE_PATH) continue
        const code = String(v.labels.code)
        codes.set(code, (codes.get(code) ?? 0) + v.value)
      }
      const latency = new Map<string, [number, number]>()
      const addLatency = (name: string, values: Awaited<ReturnType<MetricLike['get']>>['values']): void => {
        for (const v of values) {
          const isSum = v.metricName?.endsWith('_sum') === true
          const isCount = v.metricName?.endsWith('_count') === true
          if (!isSum && !isCount) continue
          const key = name === '' ? String(v.labels.sink) : name
          const e = latency.get(key) ?? [0, 0]
          if (isSum) e[0] += v.value
          else e[1] += v.value
          latency.set(key, e)
        }
      }
      addLatency('', sinkDuration.values)
      const commit = this.o.registry.getSingleMetric(COMMIT_DURATION) as MetricLike | undefined
      if (commit !== undefined) addLatency('duckdb commit', (await commit.get()).values)
      const samples = sumValues(floats.values) + sumValues(histograms.values)
      const prev = this.readings[this.readings.length - 1]
      if (prev !== undefined && samples > prev.samples) {
        if (this.firstSampleAt === 0) this.firstSampleAt = t
        this.lastSampleAt = t
      }
      this.readings.push({ t, samples, bytes: sumValues(bytes.values), codes, latency })
      if (this.readings.length > this.capacity) this.readings.shift()
      const lastMark = this.markTimes[this.markTimes.length - 1] ?? 0
      if (Math.floor(t / 60_000) !== Math.floor(lastMark / 60_000)) this.mark(t)
    } finally {
      this.busy = false
    }
    for (const f of this.listeners) f()
  }

  private mark (t: number): void {
    this.markTimes.push(t)
    this.markIds.push(this.o.index.lastId)
    if (this.markTimes.length > MAX_MARKS) { this.markTimes.shift(); this.markIds.shift() }
  }

  /** The id marks, with one for now appended (the series handed out since the last minute mark). */
  marks (): IdMarks {
    return { times: [...this.markTimes, Date.now()], lastIds: [...this.markIds, this.o.index.lastId] }
  }

  /** When stored samples arrived first and last, as far as the readings saw (0 before any). */
  headTimes (): { minTime: number, maxTime: number } {
    return { minTime: this.firstSampleAt, maxTime: this.lastSampleAt }
  }

  series (): IngestSeries {
    const out: IngestSeries = { intervalSeconds: this.intervalMs / 1000, from: this.readings[0]?.t ?? Date.now(), times: [], samplesPerSecond: [], bytesPerSecond: [], requestsPerSecond: {} }
    const codes = new Set<string>()
    for (const r of this.readings) for (const c of r.codes.keys()) codes.add(c)
    for (const c of [...codes].sort()) out.requestsPerSecond[c] = []
    for (let i = 1; i < this.readings.length; i++) {
      const a = this.readings[i - 1]!
      const b = this.readings[i]!
      const dt = Math.max(1, b.t - a.t) / 1000
      out.times.push(b.t)
      out.samplesPerSecond.push(round((b.samples - a.samples) / dt))
      out.bytesPerSecond.push(round((b.bytes - a.bytes) / dt))
      for (const c of codes) out.requestsPerSecond[c]!.push(round(((b.codes.get(c) ?? 0) - (a.codes.get(c) ?? 0)) / dt))
    }
    return out
  }

  /**
   * Mean latency of each sink (and of DuckDB's commit) over the last `seconds`: seconds per write and
   * writes in the window; null where nothing was written in it.
   */
  latency (seconds = 60): Array<{ name: string, meanSeconds: number | null, count: number }> {
    const last = this.readings[this.readings.length - 1]
    if (last === undefined) return []
    let first = this.readings[0]!
    for (let i = this.readings.length - 1; i >= 0; i--) {
      if (last.t - this.readings[i]!.t > seconds * 1000) break
      first = this.readings[i]!
    }
    const out: Array<{ name: string, meanSeconds: number | null, count: number }> = []
    for (const [name, [sum, count]] of last.latency) {
      const [sum0, count0] = first === last ? [0, 0] : (first.latency.get(name) ?? [0, 0])
      const n = count - count0
      out.push({ name, meanSeconds: n > 0 ? (sum - sum0) / n : null, count: n })
    }
    return out
  }
}

function sumValues (values: ReadonlyArray<{ value: number }>): number {
  let s = 0
  for (const v of values) s += v.value
  return s
}

function round (x: number): number {
  return Math.round(x * 100) / 100
}
