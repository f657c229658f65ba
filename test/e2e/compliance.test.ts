/**
 * The Remote Write receiver compliance suite (prometheus/compliance, remotewrite/receiver/, read at
 * commit 67b8327), case by case, against the real service process with the discard sink. The suite's Go
 * tests need Go 1.25 and the module proxy, which our machines cannot reach, so every case is rewritten
 * here with the same requests (test/helpers/compliance-request.ts), the same response check
 * (`validateResponse`) and the same tag: `[MUST]`, `[SHOULD]` or `[MAY]`.
 *
 * Names follow the suite: `<GoTest> > [TAG] <subtest>`. A case built with the suite's
 * `runComplianceTest` is two tests, as there: `[SHOULD] <name> returns 204` (successful cases only: the
 * answer must be 204 with the exact written counts) and `[MUST] <name>` (2xx with exact counts, or a
 * non-retryable 400 that claims no more than was sent, as the case expects).
 *
 * Beyond the suite, two checks. Its response check never looks at `success` or `strict` on a 4xx, so
 * a receiver that answers 400 to valid requests would pass; here a case that expects success must get
 * a 2xx, and a "returns 204" case a 204 (`intentProblems`). And after every answer the service's own
 * counters must have moved by what the answer says was written (the 2.0 written-count headers; for 1.0
 * all samples on a 2xx), so that an answer cannot claim data the receiver did not take, nor take data
 * it did not claim.
 * docs/compliance.md lists the cases and their results.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startServiceProcess, type ServiceProcess } from '../helpers/service-process.js'
import { postWrite, snappyCompress } from '../helpers/remote-write.js'
import { scrapeMetrics, sumOf } from '../helpers/exposition.js'
import {
  basicMetric, generateRequestBody, generateRW1RequestBody, histogram, METRIC_TYPE, testJobInstanceLabels, traceExemplar,
  intentProblems, validateResponse, writtenCount,
  type ExemplarWithLabels, type HistogramWithLabels, type MetadataWithLabels, type RequestOpts, type RequestParams, type SampleWithLabels
} from '../helpers/compliance-request.js'
import type { Float } from '../fixtures/encode.js'

/** The service's counters of what it took in (src/metrics/). */
const RECEIVED = {
  samples: 'prom_ingest_received_samples_total',
  histograms: 'prom_ingest_received_histograms_total',
  exemplars: 'prom_ingest_received_exemplars_total'
} as const

let service: ServiceProcess

beforeAll(async () => {
  service = await startServiceProcess(['--sink', 'discard'])
})

afterAll(async () => {
  await service?.stop()
})

interface Sent {
  /** Compressed body, as posted. */
  body: Uint8Array
  version: '1.0' | '2.0'
  /** Headers that replace (or, with undefined, remove) the sender's defaults. */
  headers?: Record<string, string | undefined>
  /** Samples in the body (for the 1.0 counter check: 1.0 answers carry no written counts). */
  samples?: number
}

type Counts = Record<keyof typeof RECEIVED, number>

async function receivedCounts (): Promise<Counts> {
  const m = await scrapeMetrics(service.url)
  return { samples: sumOf(m, RECEIVED.samples), histograms: sumOf(m, RECEIVED.histograms), exemplars: sumOf(m, RECEIVED.exemplars) }
}

/** The suite's `runRequest`: posts the request, checks the answer as the suite does, then the counters. */
async function runRequest (sent: Sent, params: RequestParams): Promise<void> {
  const before = await receivedCounts()
  const answer = await postWrite(service.url, sent.body, { version: sent.version, headers: sent.headers })
  const why = `answer ${answer.status} ${JSON.stringify(answer.body)}`
  expect(validateResponse(params, answer), `the suite's check; ${why}`).toEqual([])
  expect(intentProblems(params, answer), `the case's intent; ${why}`).toEqual([])

  const after = await receivedCounts()
  const moved = { samples: after.samples - before.samples, histograms: after.histograms - before.histograms, exemplars: after.exemplars - before.exemplars }
  if (sent.version === '2.0') {
    expect(moved, 'counters against the written-count headers').toEqual({
      samples: writtenCount(answer.headers, 'Samples'),
      histograms: writtenCount(answer.headers, 'Histograms'),
      exemplars: writtenCount(answer.headers, 'Exemplars')
    })
  } else {
    // 1.0 answers carry no counts: a 2xx took every sample, a 400 at most the valid ones, a 415 none.
    expect(answer.headers['x-prometheus-remote-write-samples-written'], '1.0 answers carry no written counts').toBeUndefined()
    if (answer.status >= 200 && answer.status < 300) expect(moved.samples).toBe(sent.samples ?? 0)
    else if (answer.status === 400) expect(moved.samples).toBeLessThanOrEqual(sent.samples ?? 0)
    else expect(moved.samples).toBe(0)
  }
}

/** The request of `generateRequest(opts)`, compressed, with the suite's 2.0 headers. */
function v2Request (opts: RequestOpts): Sent {
  return { body: snappyCompress(generateRequestBody(opts)), version: '2.0', headers: { 'user-agent': undefined } }
}

/** The suite's `corruptRequestBody`: the first byte of the compressed body becomes '0'. */
function corrupt (body: Uint8Array, byte: number): Uint8Array {
  const out = body.slice()
  out[0] = byte
  return out
}

/**
 * The suite's `runComplianceTest`: a successful case is a SHOULD test (204, exact counts) and a MUST
 * test; a failing case is a MUST test only.
 */
function complianceTest (name: string, opts: () => RequestOpts, params: RequestParams, expectSuccess: boolean): void {
  const label = name === '' ? '' : ` ${name}`
  if (expectSuccess) {
    it(`[SHOULD]${label} returns 204`, async () => {
      await runRequest(v2Request(opts()), { ...params, success: true, strict: true })
    })
  }
  it(`[MUST]${label === '' ? ' accepted or rejected as specified' : label}`, async () => {
    await runRequest(v2Request(opts()), { ...params, success: expectSuccess, strict: false })
  })
}

const minutes = (n: number): number => n * 60_000
const hours = (n: number): number => n * 3_600_000

/** The suite's `values`: ordinary and special float sample values. */
const VALUES: Array<[string, Float]> = [
  ['1.0', 1.0],
  ['StaleNaN', { bits: 0x7ff0000000000002n }],
  ['NaN', { bits: 0x7ff8000000000001n }],
  ['Inf', Infinity],
  ['-Inf', -Infinity]
]

// ---------------------------------------------------------------------------------------------------
// request_test.go

describe('TestBadContentTypes', () => {
  for (const contentType of ['application/json', 'image/png']) {
    it(`[MUST] ${contentType.replace('/', '_')}`, async () => {
      const sent = v2Request({ samples: [{ labels: { __name__: 'up' }, value: 1.0 }] })
      await runRequest({ ...sent, body: corrupt(sent.body, 0x30), headers: { ...sent.headers, 'content-type': contentType } }, { exactResponseCode: 415, success: false })
    })
  }
})

describe('TestBadContentEncodings', () => {
  for (const contentEncoding of ['gzip', 'deflate']) {
    it(`[MUST] ${contentEncoding}`, async () => {
      const sent = v2Request({ samples: [{ labels: { __name__: 'up' }, value: 1.0 }] })
      await runRequest({ ...sent, body: corrupt(sent.body, 0x30), headers: { ...sent.headers, 'content-encoding': contentEncoding } }, { exactResponseCode: 415, success: false })
    })
  }
})

describe('TestCorruptRequestBody', () => {
  it('[MUST] malformed body is rejected with 400', async () => {
    const sent = v2Request({ samples: [{ labels: { __name__: 'up' }, value: 1.0 }] })
    await runRequest({ ...sent, body: corrupt(sent.body, 0x30) }, { success: false })
  })
})

// ---------------------------------------------------------------------------------------------------
// metric_test.go

describe('TestSingleMetric', () => {
  for (const [valueName, v] of VALUES) {
    const cases: Array<{ name: string, metric: SampleWithLabels, success: boolean }> = [
      { name: 'simple metric', metric: { labels: basicMetric('up'), value: v }, success: true },
      { name: 'simple metric with multiple labels', metric: { labels: testJobInstanceLabels(), value: v }, success: true },
      { name: 'simple metric with newlines', metric: { labels: { __name__: 'up', job: 'test\njob\n', instance: 'localhost:9090' }, value: v }, success: true },
      { name: 'simple metric with dots', metric: { labels: { __name__: 'resource.cpu.usage', 'job.name': 'testjob', 'instance.name': 'localhost:9090' }, value: v }, success: true },
      { name: 'simple metric with spaces', metric: { labels: { __name__: 'resource cpu usage', 'job name': 'testjob', 'instance name': 'localhost:9090' }, value: v }, success: true },
      { name: 'simple metric without name label', metric: { labels: { job: 'testjob', instance: 'localhost:9090' }, value: v }, success: false },
      { name: 'empty metric', metric: { labels: {}, value: v }, success: false }
    ]
    describe(valueName, () => {
      for (const tc of cases) complianceTest(tc.name, (): RequestOpts => ({ samples: [tc.metric] }), { samples: 1 }, tc.success)
    })
  }
})

describe('TestCounterWithCreatedTimestamp', () => {
  complianceTest('', (): RequestOpts => ({
    samples: [{ labels: { __name__: 'http_requests_total', job: 'api' }, value: 100.0, createdTimestamp: Date.now() - hours(1) }]
  }), { samples: 1 }, true)
})

describe('TestMultipleMetrics', () => {
  for (const [valueName, v] of VALUES) {
    const up = (instance: string, withName = true): SampleWithLabels => ({
      labels: withName ? { __name__: 'up', job: 'testjob', instance } : { job: 'testjob', instance },
      value: v
    })
    const cases: Array<{ name: string, metrics: SampleWithLabels[], success: boolean, validSamples: number }> = [
      { name: 'multiple metrics', metrics: [{ labels: testJobInstanceLabels(), value: v }, up('localhost:9091'), up('localhost:9092'), up('localhost:9093')], success: true, validSamples: 4 },
      { name: 'multiple metrics, without name label', metrics: [up('localhost:9090', false), up('localhost:9091', false), up('localhost:9092', false), up('localhost:9093', false)], success: false, validSamples: 0 },
      { name: 'multiple metrics, 1 without name label', metrics: [up('localhost:9090', false), up('localhost:9091'), up('localhost:9092'), up('localhost:9093')], success: false, validSamples: 3 }
    ]
    describe(valueName, () => {
      for (const tc of cases) complianceTest(tc.name, (): RequestOpts => ({ samples: tc.metrics }), { samples: tc.validSamples }, tc.success)
    })
  }
})

// ---------------------------------------------------------------------------------------------------
// combined_test.go

describe('TestSamplesWithMetadataAndExemplars', () => {
  const labels = { __name__: 'http_requests_total', job: 'api', method: 'POST' }
  complianceTest('', (): RequestOpts => ({
    samples: [{ labels, value: 1.0 }],
    metadata: [{ labels, type: METRIC_TYPE.COUNTER, help: 'Total number of HTTP requests', unit: 'requests' }],
    exemplars: [{ labels, exemplarLabels: { trace_id: 'request_trace_123', user_id: 'user789' }, value: 1.0 }]
  }), { samples: 1, exemplars: 1 }, true)
})

describe('TestHistogramsWithMetadataAndExemplars', () => {
  const labels = { __name__: 'request_duration_seconds', service: 'auth' }
  complianceTest('', (): RequestOpts => ({
    histograms: [{ labels, histogram: histogram(0.456, true, true, true, false, false) }],
    metadata: [{ labels: basicMetric('request_duration_seconds'), type: METRIC_TYPE.HISTOGRAM, help: 'HTTP request duration distribution', unit: 'seconds' }],
    exemplars: [{ labels, exemplarLabels: { trace_id: 'slow_request_trace', endpoint: '/login' }, value: 0.456 }]
  }), { histograms: 1, exemplars: 1, retryable: false }, true)
})

describe('TestComplexSamplesRequest', () => {
  complianceTest('', (): RequestOpts => ({
    samples: [
      { labels: { __name__: 'cpu_usage', instance: 'server1' }, value: 0.85 },
      { labels: { __name__: 'memory_usage', instance: 'server1' }, value: 8589934592 }
    ],
    metadata: [
      { labels: basicMetric('cpu_usage'), type: METRIC_TYPE.GAUGE, help: 'CPU usage ratio', unit: 'ratio' },
      { labels: basicMetric('memory_usage'), type: METRIC_TYPE.GAUGE, help: 'Memory usage in bytes', unit: 'bytes' }
    ],
    exemplars: [{ labels: { __name__: 'cpu_usage', instance: 'server1' }, exemplarLabels: { trace_id: 'high_cpu_trace', process: 'worker' }, value: 0.85 }]
  }), { samples: 2, exemplars: 1 }, true)
})

describe('TestComplexHistogramsRequest', () => {
  complianceTest('', (): RequestOpts => ({
    histograms: [
      { labels: { __name__: 'response_time_hist', endpoint: '/api/v1/users' }, histogram: histogram(0.125, true, false, true, false, false) },
      { labels: { __name__: 'request_size_hist', method: 'POST' }, histogram: histogram(1024, false, true, true, false, false) }
    ],
    metadata: [
      { labels: basicMetric('response_time_hist'), type: METRIC_TYPE.HISTOGRAM, help: 'Response time distribution', unit: 'seconds' },
      { labels: basicMetric('request_size_hist'), type: METRIC_TYPE.HISTOGRAM, help: 'Request size distribution', unit: 'bytes' }
    ],
    exemplars: [{ labels: { __name__: 'response_time_hist', endpoint: '/api/v1/users' }, exemplarLabels: { trace_id: 'fast_response', user: 'premium' }, value: 0.125 }]
  }), { histograms: 2, exemplars: 1, retryable: false }, true)
})

describe('TestMultipleMetricFamiliesSamples', () => {
  complianceTest('', (): RequestOpts => ({
    samples: [
      { labels: { __name__: 'http_requests_total', status: '200' }, value: 1000 },
      { labels: { __name__: 'temperature_celsius', location: 'datacenter1' }, value: 23.5 }
    ],
    metadata: [
      { labels: basicMetric('http_requests_total'), type: METRIC_TYPE.COUNTER, help: 'Total HTTP requests', unit: 'requests' },
      { labels: basicMetric('temperature_celsius'), type: METRIC_TYPE.GAUGE, help: 'Temperature in Celsius', unit: 'celsius' }
    ],
    exemplars: [{ labels: { __name__: 'http_requests_total', status: '200' }, exemplarLabels: { trace_id: 'successful_request' }, value: 1000 }]
  }), { samples: 2, exemplars: 1 }, true)
})

describe('TestMultipleMetricFamiliesHistograms', () => {
  const labels = { __name__: 'request_duration_seconds', handler: '/metrics' }
  complianceTest('', (): RequestOpts => ({
    histograms: [{ labels, histogram: histogram(0.003, true, false, true, false, false) }],
    metadata: [{ labels: basicMetric('request_duration_seconds'), type: METRIC_TYPE.HISTOGRAM, help: 'Request duration in seconds', unit: 'seconds' }],
    exemplars: [{ labels, exemplarLabels: { trace_id: 'metrics_scrape', scraper: 'prometheus' }, value: 0.003 }]
  }), { histograms: 1, exemplars: 1, retryable: false }, true)
})

describe('TestEdgeCaseCombinations', () => {
  it('[SHOULD] metadata_without_data', async () => {
    await runRequest(v2Request({
      metadata: [{ labels: basicMetric('orphan_metric'), type: METRIC_TYPE.COUNTER, help: 'Orphaned metric metadata', unit: 'count' }],
      unsafeRequest: true
    }), { success: true })
  })
  it('[SHOULD] exemplars_without_data', async () => {
    await runRequest(v2Request({
      exemplars: [{ labels: basicMetric('orphan_metric'), exemplarLabels: { trace_id: 'orphan_trace' }, value: 42.0 }],
      unsafeRequest: true
    }), { exemplars: 1, success: true })
  })
  it('[SHOULD] mixed_timestamp_data', async () => {
    await runRequest(v2Request({
      samples: [
        { labels: basicMetric('old_metric'), value: 1.0, offsetMs: -hours(1) },
        { labels: basicMetric('new_metric'), value: 2.0 }
      ],
      exemplars: [{ labels: basicMetric('old_metric'), exemplarLabels: { trace_id: 'old_trace' }, value: 1.0, offsetMs: -minutes(30) }]
    }), { samples: 2, exemplars: 1, success: true })
  })
})

describe('TestManySamples', () => {
  complianceTest('', () => {
    const samples: SampleWithLabels[] = []
    const metadata: MetadataWithLabels[] = []
    const exemplars: ExemplarWithLabels[] = []
    for (let i = 0; i < 50; i++) {
      const name = `counter_metric_${i}`
      const labels = { __name__: name, series: `series_${i}` }
      samples.push({ labels, value: i * 100 })
      metadata.push({ labels: { __name__: name }, type: METRIC_TYPE.COUNTER, help: `Counter metric number ${i}`, unit: 'count' })
      exemplars.push({ labels, exemplarLabels: { trace_id: `trace_${i}` }, value: i * 100 })
    }
    return { samples, metadata, exemplars }
  }, { samples: 50, exemplars: 50 }, true)
})

describe('TestManyHistograms', () => {
  complianceTest('', () => {
    const histograms: HistogramWithLabels[] = []
    const metadata: MetadataWithLabels[] = []
    const exemplars: ExemplarWithLabels[] = []
    for (let i = 0; i < 50; i++) {
      const name = `histogram_metric_${i}`
      const labels = { __name__: name, bucket: `bucket_${i}` }
      histograms.push({ labels, histogram: histogram(i / 10, true, i % 2 === 0, true, false, false) })
      metadata.push({ labels: { __name__: name }, type: METRIC_TYPE.HISTOGRAM, help: `Histogram metric number ${i}`, unit: 'seconds' })
      exemplars.push({ labels, exemplarLabels: { trace_id: `trace_${i}` }, value: i / 10 })
    }
    return { histograms, metadata, exemplars }
  }, { histograms: 50, exemplars: 50, retryable: false }, true)
})

describe('TestSpecialCharactersCombined', () => {
  const labels = { __name__: 'test_metric', job: 'test-job_with.special@chars', instance: 'localhost:9090', environment: 'test🚀' }
  complianceTest('', (): RequestOpts => ({
    samples: [{ labels, value: 42.0 }],
    metadata: [{ labels: basicMetric('test_metric'), type: METRIC_TYPE.GAUGE, help: 'Test metric with special characters: äöü, newlines\nand "quotes"', unit: 'special/units' }],
    exemplars: [{ labels, exemplarLabels: { trace_id: 'special_trace_äöü-123', span_id: 'span_with.dots-and_underscores' }, value: 42.0 }]
  }), { samples: 1, exemplars: 1 }, true)
})

describe('TestCustomBucketsHistogramWithExemplar', () => {
  const labels = { __name__: 'custom_latency_hist', version: 'v2' }
  complianceTest('', (): RequestOpts => ({
    histograms: [{ labels, histogram: histogram(0.05, false, false, false, true, false) }],
    exemplars: [{ labels, exemplarLabels: { trace_id: 'custom_bucket_trace', bucket: '0.1' }, value: 0.05 }]
  }), { histograms: 1, exemplars: 1, retryable: false }, true)
})

// ---------------------------------------------------------------------------------------------------
// exemplar_test.go

describe('TestExemplars', () => {
  const cases: Array<{ name: string, labels: Record<string, string>, exemplarLabels: Record<string, string>, value: number, success: boolean }> = [
    { name: 'basic_exemplar', labels: { __name__: 'http_requests_total', job: 'api' }, exemplarLabels: traceExemplar('abc123def456'), value: 1.0, success: true },
    { name: 'exemplar_with_span_id', labels: { __name__: 'request_duration_seconds', method: 'GET' }, exemplarLabels: { trace_id: 'xyz789', span_id: 'span123' }, value: 0.125, success: true },
    { name: 'exemplar_without_trace_id', labels: { __name__: 'cpu_usage', instance: 'host1' }, exemplarLabels: { user_id: 'user123' }, value: 0.85, success: true },
    { name: 'exemplar_with_multiple_labels', labels: { __name__: 'request_latency', service: 'auth' }, exemplarLabels: { trace_id: 'trace456', user: 'admin', endpoint: '/login' }, value: 0.05, success: true },
    { name: 'exemplar_no_labels', labels: basicMetric('simple_counter'), exemplarLabels: {}, value: 1.0, success: true },
    { name: 'exemplar_with_special_chars', labels: basicMetric('test_metric'), exemplarLabels: { trace_id: 'trace-with-dashes_and_underscores.123' }, value: 42.0, success: true },
    { name: 'exemplar_with_unicode', labels: { __name__: 'unicode_test', region: '🌍' }, exemplarLabels: { trace_id: 'unicode_trace_测试' }, value: 100.0, success: true }
  ]
  for (const tc of cases) {
    complianceTest(tc.name, (): RequestOpts => ({
      samples: [{ labels: tc.labels, value: tc.value }],
      exemplars: [{ labels: tc.labels, exemplarLabels: tc.exemplarLabels, value: tc.value }]
    }), { samples: 1, exemplars: 1 }, tc.success)
  }
})

describe('TestExemplarWithCreatedTimestamp', () => {
  const labels = { __name__: 'http_requests_total', job: 'api' }
  complianceTest('', (): RequestOpts => ({
    samples: [{ labels, value: 250.0, createdTimestamp: Date.now() - hours(2) }],
    exemplars: [{ labels, exemplarLabels: { trace_id: 'abc123', span_id: 'span456' }, value: 250.0 }]
  }), { samples: 1, exemplars: 1 }, true)
})

describe('TestMultipleExemplars', () => {
  const get = { __name__: 'request_duration', method: 'GET' }
  const post = { __name__: 'request_duration', method: 'POST' }
  const errors = { __name__: 'error_count', service: 'payment' }
  complianceTest('', (): RequestOpts => ({
    samples: [{ labels: get, value: 0.1 }, { labels: post, value: 0.25 }, { labels: errors, value: 1.0 }],
    exemplars: [
      { labels: get, exemplarLabels: { trace_id: 'trace1', span_id: 'span1' }, value: 0.1 },
      { labels: post, exemplarLabels: { trace_id: 'trace2', span_id: 'span2' }, value: 0.25 },
      { labels: errors, exemplarLabels: { trace_id: 'trace3', user: 'test_user' }, value: 1.0 }
    ]
  }), { samples: 3, exemplars: 3 }, true)
})

describe('TestExemplarTimestamps', () => {
  const labels = { __name__: 'latency_hist' }
  complianceTest('', (): RequestOpts => ({
    samples: [
      { labels, value: 0.05, offsetMs: -hours(1) },
      { labels, value: 0.15, offsetMs: -minutes(1) },
      { labels, value: 0.08 }
    ],
    exemplars: [
      { labels, exemplarLabels: { trace_id: 'old_trace' }, value: 0.05, offsetMs: -hours(1) },
      { labels, exemplarLabels: { trace_id: 'recent_trace' }, value: 0.15, offsetMs: -minutes(1) },
      { labels, exemplarLabels: { trace_id: 'current_trace' }, value: 0.08 }
    ]
  }), { samples: 3, exemplars: 3 }, true)
})

describe('TestExemplarValidation', () => {
  const cases: Array<{ name: string, labels: Record<string, string>, success: boolean }> = [
    { name: 'exemplar_without_name_label', labels: { job: 'test' }, success: false },
    { name: 'exemplar_with_empty_name', labels: { __name__: '' }, success: false },
    { name: 'exemplar_with_valid_name', labels: basicMetric('valid_metric'), success: true }
  ]
  for (const tc of cases) {
    it(`[SHOULD] ${tc.name}`, async () => {
      await runRequest(v2Request({
        samples: [{ labels: tc.labels, value: 1.0 }],
        exemplars: [{ labels: tc.labels, exemplarLabels: { trace_id: 'test_trace' }, value: 1.0 }]
      }), { samples: 1, exemplars: 1, success: tc.success })
    })
  }
})

describe('TestExemplarSpecialValues', () => {
  const cases: Array<[string, Float]> = [
    ['zero_value', 0.0],
    ['negative_value', -123.456],
    ['large_value', 1e10],
    ['small_value', 1e-10],
    ['nan_value', { bits: 0x7ff8000000000001n }],
    ['inf_value', Infinity],
    ['-inf_value', -Infinity]
  ]
  for (const [name, value] of cases) {
    complianceTest(name, (): RequestOpts => ({
      samples: [{ labels: basicMetric('test_metric'), value }],
      exemplars: [{ labels: basicMetric('test_metric'), exemplarLabels: traceExemplar('special_value_trace'), value }]
    }), { samples: 1, exemplars: 1 }, true)
  }
})

// ---------------------------------------------------------------------------------------------------
// metadata_test.go

describe('TestMetadata', () => {
  const cases: Array<{ name: string, labels: Record<string, string>, type: number, help: string, unit: string, success: boolean }> = [
    { name: 'counter_metadata', labels: basicMetric('http_requests_total'), type: METRIC_TYPE.COUNTER, help: 'Total number of HTTP requests', unit: 'requests', success: true },
    { name: 'gauge_metadata', labels: basicMetric('cpu_usage_percent'), type: METRIC_TYPE.GAUGE, help: 'Current CPU usage percentage', unit: 'percent', success: true },
    { name: 'histogram_metadata', labels: basicMetric('request_duration_seconds'), type: METRIC_TYPE.HISTOGRAM, help: 'Request duration in seconds', unit: 'seconds', success: true },
    { name: 'metadata_no_help_no_unit', labels: basicMetric('simple_counter'), type: METRIC_TYPE.COUNTER, help: '', unit: '', success: true },
    { name: 'metadata_with_special_chars', labels: { __name__: 'test_metric', job: 'test' }, type: METRIC_TYPE.GAUGE, help: 'Test metric with\nnewlines and "quotes"', unit: 'bytes/sec', success: true },
    { name: 'unspecified_metadata_type', labels: basicMetric('unknown_metric'), type: METRIC_TYPE.UNSPECIFIED, help: 'Unknown metric type', unit: '', success: true },
    { name: 'info_metadata_type', labels: basicMetric('build_info'), type: METRIC_TYPE.INFO, help: 'Build information', unit: '', success: true },
    { name: 'stateset_metadata_type', labels: basicMetric('node_state'), type: METRIC_TYPE.STATESET, help: 'Node state information', unit: '', success: true },
    { name: 'summary_metadata_type', labels: basicMetric('request_latency_summary'), type: METRIC_TYPE.SUMMARY, help: 'Request latency summary', unit: 'seconds', success: true },
    { name: 'gauge_histogram_metadata_type', labels: basicMetric('temperature_histogram'), type: METRIC_TYPE.GAUGEHISTOGRAM, help: 'Temperature distribution gauge histogram', unit: 'celsius', success: true }
  ]
  for (const tc of cases) {
    const metadata: MetadataWithLabels = { labels: tc.labels, type: tc.type, help: tc.help, unit: tc.unit }
    if (tc.type === METRIC_TYPE.HISTOGRAM) {
      complianceTest(tc.name, (): RequestOpts => ({
        metadata: [metadata],
        histograms: [{ labels: tc.labels, histogram: histogram(1.0, true, true, true, false, false) }]
      }), { histograms: 1 }, tc.success)
    } else {
      complianceTest(tc.name, (): RequestOpts => ({
        metadata: [metadata],
        samples: [{ labels: tc.labels, value: 1.0 }]
      }), { samples: 1 }, tc.success)
    }
  }
})

describe('TestCounterMetadataWithCreatedTimestamp', () => {
  complianceTest('', (): RequestOpts => ({
    samples: [{ labels: { __name__: 'http_requests_total', job: 'api' }, value: 150.0, createdTimestamp: Date.now() - hours(1) }],
    metadata: [{ labels: basicMetric('http_requests_total'), type: METRIC_TYPE.COUNTER, help: 'Total HTTP requests', unit: 'requests' }]
  }), { samples: 1 }, true)
})

describe('TestMetadataWithSamples', () => {
  complianceTest('', (): RequestOpts => ({
    samples: [{ labels: { __name__: 'http_requests_total', job: 'test' }, value: 42.0 }],
    metadata: [{ labels: basicMetric('http_requests_total'), type: METRIC_TYPE.COUNTER, help: 'Total HTTP requests', unit: 'requests' }]
  }), { samples: 1 }, true)
})

describe('TestMultipleMetadata', () => {
  const disk = { __name__: 'disk_usage', device: 'sda1' }
  complianceTest('', (): RequestOpts => ({
    samples: [
      { labels: basicMetric('cpu_usage'), value: 85.5 },
      { labels: basicMetric('memory_usage'), value: 4096000000 },
      { labels: disk, value: 75.2 }
    ],
    metadata: [
      { labels: basicMetric('cpu_usage'), type: METRIC_TYPE.GAUGE, help: 'CPU usage percentage', unit: 'percent' },
      { labels: basicMetric('memory_usage'), type: METRIC_TYPE.GAUGE, help: 'Memory usage in bytes', unit: 'bytes' },
      { labels: disk, type: METRIC_TYPE.GAUGE, help: 'Disk usage percentage', unit: 'percent' }
    ]
  }), { samples: 3 }, true)
})

describe('TestMetadataWithComplexLabels', () => {
  const labels = { __name__: 'http_request_duration_seconds', job: 'api-server', instance: 'localhost:8080', method: 'GET', status: '200', endpoint: '/api/v1/users' }
  complianceTest('', (): RequestOpts => ({
    histograms: [{ labels, histogram: histogram(0.250, true, true, true, false, false) }],
    metadata: [{ labels, type: METRIC_TYPE.HISTOGRAM, help: 'HTTP request duration in seconds', unit: 'seconds' }]
  }), { histograms: 1 }, true)
})

describe('TestMetadataValidation', () => {
  const cases: Array<{ name: string, labels: Record<string, string>, type: number, success: boolean, unsafe: boolean }> = [
    { name: 'metadata_without_name_label', labels: { job: 'test' }, type: METRIC_TYPE.COUNTER, success: false, unsafe: false },
    { name: 'metadata_with_empty_name', labels: { __name__: '' }, type: METRIC_TYPE.GAUGE, success: false, unsafe: true },
    { name: 'metadata_with_valid_name', labels: basicMetric('valid_metric_name'), type: METRIC_TYPE.COUNTER, success: true, unsafe: false }
  ]
  for (const tc of cases) {
    it(`[SHOULD] ${tc.name}`, async () => {
      await runRequest(v2Request({
        metadata: [{ labels: tc.labels, type: tc.type, help: 'Test help', unit: 'unit' }],
        samples: [{ labels: tc.labels, value: 1.0 }],
        unsafeRequest: tc.unsafe
      }), { success: tc.success, samples: 1 })
    })
  }
})

// ---------------------------------------------------------------------------------------------------
// histograms_test.go

describe('TestHistograms', () => {
  const cases: Array<{ name: string, labels: Record<string, string>, positive: boolean, negative: boolean, zero: boolean, custom: boolean, success: boolean, badCount: boolean }> = [
    { name: 'basic_histogram', labels: basicMetric('test_histogram'), positive: true, negative: true, zero: true, custom: false, success: true, badCount: false },
    { name: 'custom_buckets_histogram', labels: basicMetric('test_histogram'), positive: true, negative: false, zero: false, custom: true, success: true, badCount: false },
    { name: 'positive_only_histogram', labels: { __name__: 'test_histogram', job: 'test' }, positive: true, negative: false, zero: true, custom: false, success: true, badCount: false },
    { name: 'negative_only_histogram', labels: { __name__: 'test_histogram', instance: 'localhost' }, positive: false, negative: true, zero: false, custom: false, success: true, badCount: false },
    { name: 'minimal_histogram', labels: basicMetric('minimal_hist'), positive: false, negative: false, zero: true, custom: false, success: true, badCount: false },
    { name: 'bad_count_histogram', labels: basicMetric('minimal_hist'), positive: true, negative: false, zero: false, custom: false, success: false, badCount: true }
  ]
  for (const tc of cases) {
    complianceTest(tc.name, (): RequestOpts => ({
      histograms: [{ labels: tc.labels, histogram: histogram(1.0, tc.positive, tc.negative, tc.zero, tc.custom, tc.badCount) }]
    }), { histograms: 1 }, tc.success)
  }
})

describe('TestHistogramWithCreatedTimestamp', () => {
  complianceTest('', (): RequestOpts => ({
    histograms: [{ labels: { __name__: 'request_duration_seconds', job: 'api' }, histogram: histogram(1.5, true, true, true, false, false), createdTimestamp: Date.now() - minutes(30) }]
  }), { histograms: 1 }, true)
})

describe('TestMultipleHistograms', () => {
  complianceTest('', (): RequestOpts => ({
    histograms: [
      { labels: { __name__: 'hist1', job: 'test' }, histogram: histogram(10.5, true, false, true, false, false) },
      { labels: { __name__: 'hist2', job: 'test' }, histogram: histogram(5.2, false, true, false, false, false) }
    ]
  }), { histograms: 2 }, true)
})

describe('TestEmptyHistogram', () => {
  complianceTest('', (): RequestOpts => ({
    histograms: [{ labels: basicMetric('empty_hist'), histogram: histogram(0.0, false, false, false, false, false) }]
  }), { histograms: 1 }, true)
})

describe('TestHistogramWithMetadata', () => {
  complianceTest('', (): RequestOpts => ({
    metadata: [{ labels: basicMetric('request_duration_seconds'), type: METRIC_TYPE.HISTOGRAM, help: 'HTTP request duration in seconds', unit: 'seconds' }],
    histograms: [{ labels: { __name__: 'request_duration_seconds', job: 'api' }, histogram: histogram(2.5, true, true, true, false, false) }]
  }), { histograms: 1 }, true)
})

describe('TestHistogramWithExemplar', () => {
  const labels = { __name__: 'http_request_duration_seconds', method: 'GET' }
  complianceTest('', (): RequestOpts => ({
    exemplars: [{ labels, exemplarLabels: { trace_id: 'abc123def456', span_id: 'span789' }, value: 1.23 }],
    histograms: [{ labels, histogram: histogram(1.23, true, false, true, false, false) }]
  }), { histograms: 1, exemplars: 1 }, true)
})

describe('TestHistogramWithMetadataAndExemplar', () => {
  const labels = { __name__: 'response_size_bytes', service: 'upload' }
  complianceTest('', (): RequestOpts => ({
    metadata: [{ labels: basicMetric('response_size_bytes'), type: METRIC_TYPE.HISTOGRAM, help: 'HTTP response size in bytes', unit: 'bytes' }],
    exemplars: [{ labels, exemplarLabels: { trace_id: 'large_upload_trace', user_id: 'user456' }, value: 10485760 }],
    histograms: [{ labels, histogram: histogram(10485760, true, true, true, false, false) }]
  }), { histograms: 1, exemplars: 1 }, true)
})

describe('TestMultipleHistogramsWithMetadata', () => {
  complianceTest('', (): RequestOpts => ({
    metadata: [
      { labels: basicMetric('cpu_usage_histogram'), type: METRIC_TYPE.HISTOGRAM, help: 'CPU usage distribution', unit: 'ratio' },
      { labels: basicMetric('memory_usage_histogram'), type: METRIC_TYPE.HISTOGRAM, help: 'Memory usage distribution', unit: 'bytes' }
    ],
    histograms: [
      { labels: { __name__: 'cpu_usage_histogram', instance: 'server1' }, histogram: histogram(0.75, true, false, true, false, false) },
      { labels: { __name__: 'memory_usage_histogram', instance: 'server1' }, histogram: histogram(8589934592, true, true, false, false, false) }
    ]
  }), { histograms: 2 }, true)
})

// ---------------------------------------------------------------------------------------------------
// rw1_compat_test.go: 1.0 requests as a 1.0 sender sends them (no version header).

function v1Request (samples: SampleWithLabels[]): Sent {
  return {
    body: snappyCompress(generateRW1RequestBody(samples)),
    version: '1.0',
    headers: { 'x-prometheus-remote-write-version': undefined, 'user-agent': undefined },
    samples: samples.length
  }
}

describe('TestRW1BasicCompatibility', () => {
  it('[MAY] 1.0 samples are accepted, with no written counts', async () => {
    await runRequest(v1Request([
      { labels: testJobInstanceLabels(), value: 1.0 },
      { labels: basicMetric('http_requests_total'), value: 100.0 }
    ]), { samples: 0, success: true })
  })
})

describe('TestRW1ErrorHandling', () => {
  it('[MAY] a 1.0 body with a corrupt snappy header is rejected with 400', async () => {
    const sent = v1Request([{ labels: basicMetric('error_test'), value: 1.0 }])
    await runRequest({ ...sent, body: corrupt(sent.body, 0xff) }, { success: false })
  })
})

// ---------------------------------------------------------------------------------------------------

describe('after the suite', () => {
  it('the service is still running and ready', async () => {
    expect(service.child.exitCode).toBeNull()
    const res = await fetch(`${service.url}/readyz`)
    expect(res.status).toBe(200)
  })
})
