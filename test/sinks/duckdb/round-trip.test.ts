/**
 * Round trip through the DuckDB sink: Remote Write 1.0 and 2.0 bodies in (encoded by the test
 * fixtures, decoded by the real decoder), the same series, samples, exemplars, native histograms and
 * metadata out through SQL.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { encode1, encode2, sortLabels, staleMarker, type Histogram, type LabelPair, type Request2, type WriteRequest1 } from '../../fixtures/encode.js'
import { openSink, removeTempDirs, rows, tempDir, TestDecoder } from './helpers.js'

afterAll(removeTempDirs)

const T = Date.UTC(2025, 0, 15, 12, 0, 0, 125) // a millisecond part, to see that it survives

const L = (pairs: Array<[string, string]>): LabelPair[] => sortLabels(pairs)

const requests = L([['__name__', 'http_requests_total'], ['job', 'api'], ['instance', 'a:9100'], ['code', '200']])
const latency = L([['__name__', 'rpc_latency_seconds'], ['job', 'api'], ['instance', 'a:9100']])
const nhcb = L([['__name__', 'rpc_size_bytes'], ['job', 'api']])
const empty = L([['__name__', 'up'], ['job', 'api'], ['zone', '']]) // an empty value: stored as the decoder keeps it

const intHistogram: Histogram = {
  kind: 'int', count: 9, sum: 12.5, schema: 1, zeroThreshold: 0.001, zeroCount: 1,
  negativeSpans: [{ offset: -1, length: 1 }], negativeBuckets: [2],
  positiveSpans: [{ offset: 0, length: 2 }, { offset: 1, length: 1 }], positiveBuckets: [1, 2, -1], // counts 1, 3, 2
  resetHint: 2, timestamp: T, customValues: []
}
const floatHistogram: Histogram = {
  kind: 'float', count: 2, sum: 0.75, schema: 3, zeroThreshold: 0, zeroCount: 0,
  negativeSpans: [], negativeBuckets: [],
  positiveSpans: [{ offset: 2, length: 2 }], positiveBuckets: [0.5, 1.5],
  resetHint: 3, timestamp: T + 1000, customValues: []
}
const customHistogram: Histogram = {
  kind: 'float', count: 6, sum: 100, schema: -53, zeroThreshold: 0, zeroCount: 0,
  negativeSpans: [], negativeBuckets: [],
  positiveSpans: [{ offset: 0, length: 3 }], positiveBuckets: [1, 2, 3],
  resetHint: 0, timestamp: T, customValues: [10, 50]
}
// A stale histogram: sum is the stale NaN (count 0, no buckets).
const staleHistogram: Histogram = {
  kind: 'int', count: 0, sum: staleMarker, schema: 1, zeroThreshold: 0.001, zeroCount: 0,
  negativeSpans: [], negativeBuckets: [], positiveSpans: [], positiveBuckets: [],
  resetHint: 0, timestamp: T + 2000, customValues: []
}

const asMap = (labels: LabelPair[]): Record<string, string> => Object.fromEntries(labels.map(([n, v]) => [String(n), String(v)]))

function expectedHistogram (h: Histogram, seriesId: number): Record<string, unknown> {
  const acc = (b: readonly unknown[]): number[] => {
    let run = 0
    return b.map(x => { run = h.kind === 'int' ? run + Number(x) : Number(x); return run })
  }
  const num = (x: unknown): unknown => typeof x === 'number' ? x : 'NaN'
  return {
    series_id: seriesId,
    ts: h.timestamp,
    kind: h.kind,
    count: num(h.count),
    sum: num(h.sum),
    schema: h.schema,
    zero_threshold: num(h.zeroThreshold),
    zero_count: num(h.zeroCount),
    reset_hint: ['unknown', 'yes', 'no', 'gauge'][h.resetHint],
    negative_spans: h.negativeSpans.map(s => ({ offset: s.offset, length: s.length })),
    negative_counts: acc(h.negativeBuckets),
    positive_spans: h.positiveSpans.map(s => ({ offset: s.offset, length: s.length })),
    positive_counts: acc(h.positiveBuckets),
    custom_values: h.customValues.map(Number)
  }
}

const HISTOGRAM_SQL = `SELECT series_id, epoch_ms(ts) AS ts, kind, count, sum, schema, zero_threshold, zero_count, reset_hint,
  negative_spans, negative_counts, positive_spans, positive_counts, custom_values FROM histograms ORDER BY ts, series_id`

describe.each(['worker', 'main'] as const)('DuckDB sink round trip (thread: %s)', thread => {
  it('Remote Write 1.0: series, samples, exemplars, histograms and metadata come back as sent', async () => {
    const dir = tempDir()
    const d = new TestDecoder()
    const sink = await openSink(dir, { index: d.index, thread })
    const req: WriteRequest1 = {
      timeseries: [
        {
          labels: requests,
          samples: [{ value: 1.5, timestamp: T }, { value: -0, timestamp: T + 15_000 }, { value: staleMarker, timestamp: T + 30_000 }],
          exemplars: [{ labels: L([['trace_id', 'abc123'], ['span_id', 's1']]), value: 0.25, timestamp: T + 1 }]
        },
        { labels: latency, histograms: [intHistogram, floatHistogram, staleHistogram] },
        { labels: nhcb, histograms: [customHistogram] },
        { labels: empty, samples: [{ value: 1, timestamp: T }] }
      ],
      metadata: [
        { type: 1, family: 'http_requests_total', help: 'Requests served.', unit: '' },
        { type: 3, family: 'rpc_latency_seconds', help: 'RPC latency.', unit: 'seconds' }
      ]
    }
    const batch = d.batch(encode1(req).body)
    const ids = Array.from(batch.seriesRefs)
    await sink.write(batch)

    expect(await rows(sink, 'SELECT id, metric, labels, tenant FROM series ORDER BY id')).toEqual([
      { id: ids[0], metric: 'http_requests_total', labels: asMap(requests), tenant: '' },
      { id: ids[1], metric: 'rpc_latency_seconds', labels: asMap(latency), tenant: '' },
      { id: ids[2], metric: 'rpc_size_bytes', labels: asMap(nhcb), tenant: '' },
      { id: ids[3], metric: 'up', labels: asMap(empty), tenant: '' }
    ].sort((a, b) => a.id! - b.id!))

    expect(await rows(sink, 'SELECT series_id, epoch_ms(ts) AS ts, value, start_ts FROM samples ORDER BY series_id, ts')).toEqual([
      { series_id: ids[0], ts: T, value: 1.5, start_ts: null },
      { series_id: ids[0], ts: T + 15_000, value: 0, start_ts: null }, // -0 (JSON has no -0; see signbit below)
      { series_id: ids[0], ts: T + 30_000, value: 'NaN', start_ts: null },
      { series_id: ids[3], ts: T, value: 1, start_ts: null }
    ].sort((a, b) => a.series_id! - b.series_id! || a.ts - b.ts))

    expect(await rows(sink, `SELECT signbit(value) AS negative FROM samples WHERE epoch_ms(ts) = ${T + 15_000}`)).toEqual([{ negative: true }])

    // The view: metric, labels and values together, as the issue promises.
    expect(await rows(sink, "SELECT metric, labels['job'] AS job, labels['code'] AS code, epoch_ms(ts) AS ts, value FROM samples_with_labels WHERE metric = 'http_requests_total' AND NOT isnan(value) ORDER BY ts")).toEqual([
      { metric: 'http_requests_total', job: 'api', code: '200', ts: T, value: 1.5 },
      { metric: 'http_requests_total', job: 'api', code: '200', ts: T + 15_000, value: 0 }
    ])

    expect(await rows(sink, 'SELECT series_id, epoch_ms(ts) AS ts, value, labels FROM exemplars')).toEqual([
      { series_id: ids[0], ts: T + 1, value: 0.25, labels: { span_id: 's1', trace_id: 'abc123' } }
    ])

    expect(await rows(sink, HISTOGRAM_SQL)).toEqual([
      expectedHistogram(intHistogram, ids[1]!),
      expectedHistogram(customHistogram, ids[2]!),
      expectedHistogram(floatHistogram, ids[1]!),
      expectedHistogram(staleHistogram, ids[1]!)
    ].sort((a, b) => (a.ts as number) - (b.ts as number) || (a.series_id as number) - (b.series_id as number)))
    expect(await rows(sink, "SELECT count(*) AS n FROM histograms_with_labels WHERE metric = 'rpc_latency_seconds' AND labels['instance'] = 'a:9100'")).toEqual([{ n: 3 }])

    expect(await rows(sink, 'SELECT tenant, family, type, help, unit FROM metadata ORDER BY family')).toEqual([
      { tenant: '', family: 'http_requests_total', type: 'counter', help: 'Requests served.', unit: '' },
      { tenant: '', family: 'rpc_latency_seconds', type: 'histogram', help: 'RPC latency.', unit: 'seconds' }
    ])
    await sink.close()
  })

  it('Remote Write 2.0: start timestamps, per-series metadata and the tenant come back as sent', async () => {
    const dir = tempDir()
    const d = new TestDecoder()
    const sink = await openSink(dir, { index: d.index, thread })
    const req: Request2 = {
      timeseries: [
        {
          labels: requests,
          samples: [{ value: 10, timestamp: T, startTimestamp: T - 60_000 }, { value: staleMarker, timestamp: T + 15_000 }],
          exemplars: [{ labels: L([['trace_id', 'f00d']]), value: 10, timestamp: T }],
          metadata: { type: 1, help: 'Requests served.', unit: 'requests' }
        },
        { labels: latency, histograms: [{ ...intHistogram, startTimestamp: T - 5_000 }], metadata: { type: 3, help: 'RPC latency.', unit: 'seconds' } },
        { labels: nhcb, samples: [{ value: 2, timestamp: T }], createdTimestamp: T - 1000 }, // rc.3 created timestamp
        { labels: empty, samples: [{ value: 0, timestamp: T }], metadata: { type: 0, help: '', unit: '' } } // no metadata to store
      ]
    }
    const batch = d.batch(encode2(req).body, { version: '2.0', tenant: 'team-a' })
    const ids = Array.from(batch.seriesRefs)
    await sink.write(batch)

    expect(await rows(sink, 'SELECT id, metric, labels, tenant FROM series ORDER BY id')).toEqual([
      { id: ids[0], metric: 'http_requests_total', labels: asMap(requests), tenant: 'team-a' },
      { id: ids[1], metric: 'rpc_latency_seconds', labels: asMap(latency), tenant: 'team-a' },
      { id: ids[2], metric: 'rpc_size_bytes', labels: asMap(nhcb), tenant: 'team-a' },
      { id: ids[3], metric: 'up', labels: asMap(empty), tenant: 'team-a' }
    ].sort((a, b) => a.id! - b.id!))

    expect(await rows(sink, 'SELECT series_id, epoch_ms(ts) AS ts, value, epoch_ms(start_ts) AS start_ts FROM samples ORDER BY series_id, ts')).toEqual([
      { series_id: ids[0], ts: T, value: 10, start_ts: T - 60_000 },
      { series_id: ids[0], ts: T + 15_000, value: 'NaN', start_ts: null },
      { series_id: ids[2], ts: T, value: 2, start_ts: T - 1000 },
      { series_id: ids[3], ts: T, value: 0, start_ts: null }
    ].sort((a, b) => a.series_id! - b.series_id! || a.ts - b.ts))

    expect(await rows(sink, 'SELECT series_id, epoch_ms(ts) AS ts, value, labels FROM exemplars')).toEqual([
      { series_id: ids[0], ts: T, value: 10, labels: { trace_id: 'f00d' } }
    ])
    const h = await rows(sink, `SELECT *, epoch_ms(start_ts) AS start_ms FROM (${HISTOGRAM_SQL.replace('FROM histograms', ', start_ts FROM histograms')})`)
    expect(h).toEqual([{ ...expectedHistogram(intHistogram, ids[1]!), start_ts: expect.any(String), start_ms: T - 5_000 }])

    expect(await rows(sink, 'SELECT tenant, family, type, help, unit FROM metadata ORDER BY family')).toEqual([
      { tenant: 'team-a', family: 'http_requests_total', type: 'counter', help: 'Requests served.', unit: 'requests' },
      { tenant: 'team-a', family: 'rpc_latency_seconds', type: 'histogram', help: 'RPC latency.', unit: 'seconds' }
    ])
    await sink.close()
  })
})

describe('DuckDB sink with many series', () => {
  it('stores every series of several 2,000-series batches once, and every sample', async () => {
    const dir = tempDir()
    const d = new TestDecoder()
    const sink = await openSink(dir, { index: d.index })
    const series = Array.from({ length: 5000 }, (_, i) => L([['__name__', `m${i % 7}`], ['instance', `host-${i}`], ['job', i % 2 === 0 ? 'even' : 'odd']]))
    const writes: Array<Promise<void>> = []
    let samples = 0
    // Overlapping batches: series 0..1999, 1000..2999, ... so later batches carry known series too.
    for (let start = 0; start + 2000 <= series.length; start += 1000) {
      const req: WriteRequest1 = { timeseries: series.slice(start, start + 2000).map((labels, k) => ({ labels, samples: [{ value: start + k, timestamp: T + start }] })) }
      writes.push(sink.write(d.batch(encode1(req).body)))
      samples += 2000
    }
    await Promise.all(writes)
    expect(await rows(sink, 'SELECT count(*) AS series, count(DISTINCT id) AS ids, count(DISTINCT label_key) AS keys FROM series')).toEqual([{ series: 5000, ids: 5000, keys: 5000 }])
    expect(await rows(sink, 'SELECT count(*) AS n, sum(value) AS total FROM samples')).toEqual([{ n: samples, total: expect.any(Number) }])
    expect(await rows(sink, "SELECT count(*) AS n FROM samples_with_labels WHERE labels['instance'] = 'host-2500'")).toEqual([{ n: 2 }])
    // Chunk boundaries (2,048 rows) inside a batch keep rows and series aligned.
    expect(await rows(sink, "SELECT count(*) AS wrong FROM samples_with_labels WHERE labels['instance'] <> 'host-' || CAST(CAST(value AS BIGINT) AS VARCHAR)")).toEqual([{ wrong: 0 }])
    await sink.close()
  })
})
