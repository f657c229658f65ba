/**
 * One data set for the remote-read and metadata API tests (and the remote-read benchmark's shape):
 * what a scraped service looks like, as Remote Write 1.0 bodies built with test/fixtures/encode.ts.
 *
 *   http_requests_total{code, instance, job="api"}         counters (one with a reset)
 *   temperature_celsius{instance, job="api", room}         gauges
 *   request_duration_seconds_{bucket{le},sum,count}        a classic histogram per instance
 *   batch_last_success_timestamp_seconds{job="batch"}      a series that ends with a stale marker
 *   build_info{job="api", version}                         a series without `instance`
 *
 * Samples every `stepMs` from `t0` for `steps` steps, in time order (a Prometheus receiver takes them
 * so), with metadata for each family.
 */
import { compressBody, encodeWriteRequest1, sortLabels, staleMarker, type Float, type LabelPair, type MetricMetadata, type TimeSeries1 } from '../fixtures/encode.js'

export interface ReadData {
  readonly t0: number
  readonly stepMs: number
  readonly steps: number
  /** The series with every sample, labels sorted. */
  readonly series: readonly TimeSeries1[]
  readonly metadata: readonly MetricMetadata[]
}

/** The step at which the batch series stops: its last value, then a stale marker one step later. */
export const STALE_AT_STEP = 40

const BUCKETS = ['0.1', '0.5', '1', '+Inf'] as const

function hash (a: number, b: number): number {
  let x = (a * 2654435761 + b * 40503) >>> 0
  x ^= x >>> 13
  x = Math.imul(x, 0x5bd1e995) >>> 0
  return (x ^ (x >>> 15)) >>> 0
}

export function readData (t0: number, steps: number, stepMs = 15_000): ReadData {
  const series: TimeSeries1[] = []
  const add = (labels: LabelPair[], value: (step: number) => Float | undefined): void => {
    const samples = []
    for (let i = 0; i < steps; i++) {
      const v = value(i)
      if (v !== undefined) samples.push({ value: v, timestamp: t0 + i * stepMs })
    }
    series.push({ labels: sortLabels(labels), samples })
  }
  for (const instance of ['a:9100', 'b:9100']) {
    const k = instance === 'a:9100' ? 1 : 2
    for (const code of ['200', '500']) {
      const c = code === '200' ? 10 : 1
      // A counter; instance b's 500s reset half way.
      add([['__name__', 'http_requests_total'], ['code', code], ['instance', instance], ['job', 'api']], i => {
        const j = k === 2 && c === 1 && i >= steps / 2 ? i - Math.floor(steps / 2) : i
        return j * c * k + (hash(i, k) % 3)
      })
    }
    add([['__name__', 'temperature_celsius'], ['instance', instance], ['job', 'api'], ['room', k === 1 ? 'lab' : 'hall']], i => 20 + k + ((hash(i, 7 * k) % 1000) / 100))
    // A classic histogram: cumulative buckets, count = +Inf, sum.
    const counts = (i: number): number[] => {
      const base = [3 * i * k, 5 * i * k, 6 * i * k, 6 * i * k + (i % 4)]
      return base
    }
    BUCKETS.forEach((le, b) => { add([['__name__', 'request_duration_seconds_bucket'], ['instance', instance], ['job', 'api'], ['le', le]], i => counts(i)[b]!) })
    add([['__name__', 'request_duration_seconds_count'], ['instance', instance], ['job', 'api']], i => counts(i)[3]!)
    add([['__name__', 'request_duration_seconds_sum'], ['instance', instance], ['job', 'api']], i => 0.05 * counts(i)[0]! + 0.3 * (counts(i)[1]! - counts(i)[0]!) + 0.8 * (counts(i)[2]! - counts(i)[1]!) + 2 * (counts(i)[3]! - counts(i)[2]!))
  }
  add([['__name__', 'batch_last_success_timestamp_seconds'], ['job', 'batch']], i => i < STALE_AT_STEP ? (t0 + i * stepMs) / 1000 : i === STALE_AT_STEP ? staleMarker : undefined)
  add([['__name__', 'build_info'], ['job', 'api'], ['version', '1.2.3']], () => 1)
  const metadata: MetricMetadata[] = [
    { type: 1, family: 'http_requests_total', help: 'Requests served, by code.', unit: '' },
    { type: 2, family: 'temperature_celsius', help: 'Room temperature.', unit: 'celsius' },
    { type: 3, family: 'request_duration_seconds', help: 'Request latency.', unit: 'seconds' },
    { type: 2, family: 'batch_last_success_timestamp_seconds', help: 'When the batch job last succeeded.', unit: 'seconds' },
    { type: 2, family: 'build_info', help: 'Build information.', unit: '' }
  ]
  return { t0, stepMs, steps, series, metadata }
}

/** The data as snappy RW 1.0 bodies, one per `stepsPerBody` steps (in time order), metadata in the first. */
export function readDataBodies (d: ReadData, stepsPerBody = 20): Uint8Array[] {
  const out: Uint8Array[] = []
  for (let from = 0; from < d.steps; from += stepsPerBody) {
    const lo = d.t0 + from * d.stepMs
    const hi = d.t0 + (from + stepsPerBody) * d.stepMs
    const timeseries = d.series.map(s => ({ labels: s.labels, samples: (s.samples ?? []).filter(x => x.timestamp >= lo && x.timestamp < hi) })).filter(s => s.samples.length > 0)
    out.push(compressBody(encodeWriteRequest1({ timeseries, ...(from === 0 ? { metadata: d.metadata } : {}) })))
  }
  return out
}
