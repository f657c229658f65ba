/**
 * The request model of the Remote Write receiver compliance suite (prometheus/compliance,
 * remotewrite/receiver/helpers_test.go and rw1_compat_test.go), in TypeScript: the same options
 * (samples, histograms, exemplars and metadata, each with its label set), turned into a 2.0 body the way
 * the suite's `generateRequest` does it, plus its `histogram()` builder and its response check
 * `validateResponse`.
 *
 * Label order: the suite builds label lists by ranging over Go maps, whose order is random, so a
 * receiver sees labels in any order from one run to the next. Here labels go out in reverse name order
 * (one of the orders Go produces), so that a receiver that requires sorted labels fails every time
 * instead of by chance.
 */
import { encodeRequest2, encodeWriteRequest1, type Exemplar, type Float, type BucketSpan, type Histogram, type Metadata2, type TimeSeries2 } from '../fixtures/encode.js'

export type LabelMap = Readonly<Record<string, string>>

/** writev2.Metadata_MetricType. */
export const METRIC_TYPE = {
  UNSPECIFIED: 0,
  COUNTER: 1,
  GAUGE: 2,
  HISTOGRAM: 3,
  GAUGEHISTOGRAM: 4,
  SUMMARY: 5,
  INFO: 6,
  STATESET: 7
} as const

export interface SampleWithLabels {
  labels: LabelMap
  value: Float
  /** Added to "now" for the sample timestamp (ms). */
  offsetMs?: number
  /** Created timestamp (ms since epoch). */
  createdTimestamp?: number
}

export interface HistogramWithLabels {
  labels: LabelMap
  histogram: Omit<Histogram, 'timestamp'>
  offsetMs?: number
  createdTimestamp?: number
}

export interface ExemplarWithLabels {
  /** Labels of the series the exemplar belongs to. */
  labels: LabelMap
  exemplarLabels: LabelMap
  value: Float
  offsetMs?: number
}

export interface MetadataWithLabels {
  labels: LabelMap
  type: number
  help: string
  unit: string
}

export interface RequestOpts {
  samples?: readonly SampleWithLabels[]
  exemplars?: readonly ExemplarWithLabels[]
  metadata?: readonly MetadataWithLabels[]
  histograms?: readonly HistogramWithLabels[]
  /** Skip the sanity checks and keep metadata whose metric name is empty (for invalid requests). */
  unsafeRequest?: boolean
}

/** The labels as name/value pairs in reverse name order (see the file comment). */
export function goMapOrder (labels: LabelMap): Array<[string, string]> {
  return Object.entries(labels).sort(([a], [b]) => a < b ? 1 : a > b ? -1 : 0)
}

/** The identity of a label set, whatever the order of its entries. */
function seriesKey (labels: LabelMap): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0))
}

function sameLabels (a: LabelMap, b: LabelMap): boolean {
  return seriesKey(a) === seriesKey(b)
}

/**
 * An uncompressed 2.0 body built as the suite's `generateRequest` builds it: one TimeSeries per sample
 * and per histogram; exemplars attached to the series with the same labels (one per sample, the rest on
 * the series' last sample); metadata attached to every series with the same metric name; exemplars and
 * metadata that match nothing sent as TimeSeries of their own.
 */
export function generateRequestBody (opts: RequestOpts, now = Date.now()): Uint8Array {
  const samples = opts.samples ?? []
  const histograms = opts.histograms ?? []
  const exemplars = opts.exemplars ?? []
  const metadata = opts.metadata ?? []
  const unsafe = opts.unsafeRequest ?? false

  if (!unsafe) {
    if (samples.length > 0 && histograms.length > 0) throw new Error('cannot have both samples and histograms in the same request')
    for (const e of exemplars) {
      if (!samples.some(s => sameLabels(s.labels, e.labels)) && !histograms.some(h => sameLabels(h.labels, e.labels))) {
        throw new Error('exemplar has no matching sample or histogram with the same label set')
      }
    }
    for (const m of metadata) {
      const name = m.labels.__name__
      if (!samples.some(s => s.labels.__name__ === name) && !histograms.some(h => h.labels.__name__ === name)) {
        throw new Error('metadata has no matching sample or histogram with the same metric name')
      }
    }
  }

  const timeseries: TimeSeries2[] = []

  // Metadata by metric name (the last entry for a name wins, as in a Go map).
  const metadataByName = new Map<string, Metadata2>()
  for (const m of metadata) {
    const name = m.labels.__name__ ?? ''
    if (name !== '' || unsafe) metadataByName.set(name, { type: m.type, help: m.help, unit: m.unit })
  }
  // Go's TimeSeries.metadata is not nullable: a series without metadata carries an empty message.
  const noMetadata: Metadata2 = { type: METRIC_TYPE.UNSPECIFIED, help: '', unit: '' }
  const metadataFor = (labels: LabelMap): Metadata2 => {
    const name = labels.__name__ ?? ''
    return (name !== '' || unsafe ? metadataByName.get(name) : undefined) ?? noMetadata
  }

  const used = new Set<number>()
  const attachExemplars = (labels: LabelMap, isLastForSeries: boolean): Exemplar[] => {
    const out: Exemplar[] = []
    for (let ei = 0; ei < exemplars.length; ei++) {
      const e = exemplars[ei]!
      if (used.has(ei) || !sameLabels(labels, e.labels)) continue
      out.push({ labels: goMapOrder(e.exemplarLabels), value: e.value, timestamp: now + (e.offsetMs ?? 0) })
      used.add(ei)
      // Not the series' last sample: one exemplar only; the last sample takes all that remain.
      if (!isLastForSeries) break
    }
    return out
  }

  const lastSample = new Map<string, number>()
  samples.forEach((s, i) => { lastSample.set(seriesKey(s.labels), i) })
  samples.forEach((s, i) => {
    const series: TimeSeries2 = {
      labels: goMapOrder(s.labels),
      samples: [{ value: s.value, timestamp: now + (s.offsetMs ?? 0) }],
      exemplars: attachExemplars(s.labels, lastSample.get(seriesKey(s.labels)) === i),
      metadata: metadataFor(s.labels)
    }
    if (s.createdTimestamp !== undefined) series.createdTimestamp = s.createdTimestamp
    timeseries.push(series)
  })

  const lastHistogram = new Map<string, number>()
  histograms.forEach((h, i) => { lastHistogram.set(seriesKey(h.labels), i) })
  histograms.forEach((h, i) => {
    const series: TimeSeries2 = {
      labels: goMapOrder(h.labels),
      histograms: [{ ...h.histogram, timestamp: now + (h.offsetMs ?? 0) }],
      exemplars: attachExemplars(h.labels, lastHistogram.get(seriesKey(h.labels)) === i),
      metadata: metadataFor(h.labels)
    }
    if (h.createdTimestamp !== undefined) series.createdTimestamp = h.createdTimestamp
    timeseries.push(series)
  })

  // Exemplars that belong to no sample or histogram: a TimeSeries with only the exemplar.
  exemplars.forEach((e, i) => {
    if (used.has(i)) return
    if (samples.some(s => sameLabels(s.labels, e.labels)) || histograms.some(h => sameLabels(h.labels, e.labels))) return
    timeseries.push({
      labels: goMapOrder(e.labels),
      exemplars: [{ labels: goMapOrder(e.exemplarLabels), value: e.value, timestamp: now + (e.offsetMs ?? 0) }],
      metadata: noMetadata
    })
  })

  // Metadata whose metric name has no sample or histogram: a TimeSeries with only the metadata.
  for (const m of metadata) {
    const name = m.labels.__name__ ?? ''
    if (name === '') continue
    if (samples.some(s => s.labels.__name__ === name) || histograms.some(h => h.labels.__name__ === name)) continue
    timeseries.push({ labels: goMapOrder(m.labels), metadata: { type: m.type, help: m.help, unit: m.unit } })
  }

  return encodeRequest2({ timeseries })
}

/** An uncompressed 1.0 body as the suite's `generateRW1Request` builds it: one sample per series. */
export function generateRW1RequestBody (samples: readonly SampleWithLabels[], now = Date.now()): Uint8Array {
  return encodeWriteRequest1({
    timeseries: samples.map(s => ({ labels: goMapOrder(s.labels), samples: [{ value: s.value, timestamp: now + (s.offsetMs ?? 0) }] }))
  })
}

/**
 * The suite's `histogram()`: an integer native histogram with schema 0 (or custom buckets, schema -53),
 * whose count agrees with its buckets unless `badCount` (then 99).
 */
export function histogram (sum: number, includePositive: boolean, includeNegative: boolean, includeZero: boolean, useCustomBuckets: boolean, badCount: boolean): Omit<Histogram, 'timestamp'> {
  let count = 0
  let schema = 0
  let positiveSpans: BucketSpan[] = []
  let positiveBuckets: number[] = []
  let negativeSpans: BucketSpan[] = []
  let negativeBuckets: number[] = []
  let zeroCount = 0
  let customValues: number[] = []
  if (includePositive) {
    positiveSpans = [{ offset: 0, length: 3 }, { offset: 2, length: 2 }]
    positiveBuckets = [1, 2, 1, 3, 1] // deltas of buckets 1, 3, 4, 7, 8: 23 observations
    count += 23
  }
  if (includeNegative) {
    negativeSpans = [{ offset: 0, length: 2 }]
    negativeBuckets = [1, 1] // deltas of buckets 1, 2: 3 observations
    count += 3
  }
  if (includeZero) {
    zeroCount = 1
    count += 1
  }
  if (useCustomBuckets) {
    schema = -53
    customValues = [0.1, 0.5, 1.0, 2.5, 5.0, 10.0]
    positiveSpans = [{ offset: 0, length: 6 }]
    positiveBuckets = [2, 1, 2, 3, -1, -2] // deltas of buckets 2, 3, 5, 8, 7, 5: 30 observations
    count = 30
  }
  if (badCount) count = 99
  return {
    kind: 'int',
    count,
    sum,
    schema,
    zeroThreshold: 0,
    zeroCount,
    negativeSpans,
    negativeBuckets,
    positiveSpans,
    positiveBuckets,
    resetHint: 0,
    customValues
  }
}

/** Labels the suite uses again and again. */
export function testJobInstanceLabels (): Record<string, string> {
  return { __name__: 'up', job: 'testjob', instance: 'localhost:9090' }
}

export function basicMetric (name: string): Record<string, string> {
  return { __name__: name }
}

export function traceExemplar (traceId: string): Record<string, string> {
  return { trace_id: traceId }
}

/** What a case expects of the answer (the suite's `requestParams`). */
export interface RequestParams {
  samples?: number
  exemplars?: number
  histograms?: number
  /** The answer must be 204 (the SHOULD variant of a successful case). */
  strict?: boolean
  success?: boolean
  retryable?: boolean
  exactResponseCode?: number
}

export interface Answer {
  status: number
  headers: Record<string, string>
}

/**
 * What the suite's check lets through but the case means: its 4xx branch never looks at `success` or
 * `strict`, so a receiver that answers 400 to a valid request passes every case without an exact code,
 * "returns 204" ones included. The tests hold a case that expects success to a 2xx, and a strict one
 * to exactly 204, as their names say.
 */
export function intentProblems (params: RequestParams, answer: Answer): string[] {
  const ok = answer.status >= 200 && answer.status < 300
  if (params.strict === true && answer.status !== 204) return [`the case expects 204, got ${answer.status} (the suite's own check lets a 4xx through)`]
  if (params.success === true && !ok) return [`the case expects the request to be accepted, got ${answer.status} (the suite's own check lets a 4xx through)`]
  return []
}

/** A missing written-count header counts as 0 (senders may assume so, says the specification). */
export function writtenCount (headers: Record<string, string>, what: 'Samples' | 'Histograms' | 'Exemplars'): number {
  const v = headers[`x-prometheus-remote-write-${what.toLowerCase()}-written`]
  if (v === undefined || v === '') return 0
  if (!/^\d+$/.test(v)) throw new Error(`X-Prometheus-Remote-Write-${what}-Written is not a count: ${JSON.stringify(v)}`)
  return Number(v)
}

/**
 * The suite's `validateResponse`: returns the reasons the answer fails the case (empty when it passes).
 * - 2xx: the case must expect success; the written counts must equal the expected ones; strict: 204.
 * - 4xx: the case must not expect a retry; 400 unless an exact code is expected; no more written than sent.
 * - 5xx: the case must expect failure and a retry; no more written than sent.
 */
export function validateResponse (params: RequestParams, answer: Answer): string[] {
  const problems: string[] = []
  const expect = { samples: params.samples ?? 0, exemplars: params.exemplars ?? 0, histograms: params.histograms ?? 0 }
  const written = {
    samples: writtenCount(answer.headers, 'Samples'),
    exemplars: writtenCount(answer.headers, 'Exemplars'),
    histograms: writtenCount(answer.headers, 'Histograms')
  }
  const status = answer.status
  if (params.exactResponseCode !== undefined && status !== params.exactResponseCode) {
    problems.push(`response code is ${status}, should be exactly ${params.exactResponseCode}`)
  }
  const kinds = ['samples', 'exemplars', 'histograms'] as const
  switch (Math.floor(status / 100)) {
    case 2:
      if (params.success !== true) problems.push(`response code is ${status} but the case expects failure`)
      for (const k of kinds) if (written[k] !== expect[k]) problems.push(`${written[k]} ${k} written, expected ${expect[k]}`)
      if (params.strict === true && status !== 204) problems.push(`response code is ${status}, should be 204`)
      break
    case 4:
      if (params.retryable === true) problems.push(`response code is ${status} but the case expects a retryable answer`)
      if (params.exactResponseCode === undefined && status !== 400) problems.push(`response code is ${status}, should be exactly 400`)
      for (const k of kinds) if (written[k] > expect[k]) problems.push(`${written[k]} ${k} written, more than the ${expect[k]} sent`)
      break
    case 5:
      if (params.success === true) problems.push(`response code is ${status} but the case expects success`)
      if (params.retryable !== true) problems.push(`response code is ${status} but the case does not expect a retryable answer`)
      for (const k of kinds) if (written[k] > expect[k]) problems.push(`${written[k]} ${k} written, more than the ${expect[k]} sent`)
      break
    default:
      problems.push(`response code is ${status} but should be 2xx, 4xx or 5xx`)
  }
  return problems
}
