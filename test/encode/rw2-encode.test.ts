/**
 * Remote Write 2.0 bodies built from a row batch: read by protobufjs (the oracle) and by our decoder,
 * they give back the batch's series, samples (bit for bit, stale markers included), start timestamps,
 * exemplars, native histograms of both kinds and per-series metadata; every request starts its own
 * symbols table with ""; requests are cut at the sample and byte limits; a route sends each series to
 * one request per destination; 1.0 family metadata lands on the series of its family.
 */
import { describe, expect, it } from 'vitest'
import { fc, test } from '@fast-check/vitest'
import { decodeWriteRequest } from '../../src/decode/decode-write-request.js'
import { snappyDecodedLength, snappyDecompressInto } from '../../src/decode/snappy.js'
import { encodeBatchRw2 } from '../../src/encode/rw2-encode.js'
import { MAX_SAMPLES_PER_REQUEST, type EncodedRequest } from '../../src/encode/rw1-encode.js'
import type { RowBatch } from '../../src/batch/row-batch.js'
import { encodeLabels, formatSeries } from '../../src/series/labels.js'
import { compressBody, encodeRequest2, encodeWriteRequest1, staleMarker, STALE_NAN_BITS, type Request2, type TimeSeries2 } from '../fixtures/encode.js'
import { request1, request2 } from '../fixtures/arbitraries.js'
import { oracle, rowsOfBatch, type Normalized, type OSeries } from '../fixtures/oracle.js'
import { histogram, T0 } from '../receive/bodies.js'

function decompress (body: Uint8Array): Uint8Array {
  const out = new Uint8Array(snappyDecodedLength(body))
  snappyDecompressInto(body, out, out.length)
  return out
}

const keyOf = (s: OSeries): string => Buffer.from(encodeLabels(s.labels)).toString('latin1')

/**
 * Normal forms of several requests as one, comparable whatever the cut and the order of TimeSeries:
 * series merged by label set and sorted, those that carry nothing left out, metadata sorted.
 */
function merged (parts: Normalized[]): { series: OSeries[], metadata: string[] } {
  const byKey = new Map<string, OSeries>()
  for (const n of parts) {
    for (const s of n.series) {
      const k = keyOf(s)
      const m = byKey.get(k)
      if (m === undefined) byKey.set(k, { labels: s.labels, samples: [...s.samples], exemplars: [...s.exemplars], histograms: [...s.histograms] })
      else { m.samples.push(...s.samples); m.exemplars.push(...s.exemplars); m.histograms.push(...s.histograms) }
    }
  }
  const series = [...byKey.entries()].filter(([, s]) => s.samples.length + s.exemplars.length + s.histograms.length > 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, s]) => s)
  const metadata = parts.flatMap(n => n.metadata.map(m => JSON.stringify([m.labels === null ? null : formatSeries(m.labels), m.type, m.family, m.help, m.unit]))).sort()
  return { series, metadata }
}

/** Checks every part against both readers, and their union against the batch. */
function expectSame (batch: RowBatch, parts: EncodedRequest[]): void {
  const raw = parts.map(p => decompress(p.body))
  for (const r of raw) {
    // The symbols table starts with "" (field 4, length 0), before any TimeSeries.
    if (r.length > 0) expect([r[0], r[1]]).toEqual([0x22, 0x00])
  }
  const byOracle = raw.map(r => oracle(r, '2.0'))
  const byUs = parts.map(p => rowsOfBatch(decodeWriteRequest(p.body, { version: '2.0' })))
  const want = merged([rowsOfBatch(batch)])
  expect(merged(byOracle)).toEqual(want)
  expect(merged(byUs)).toEqual(want)
  const rows = (f: (n: Normalized) => number): number => byOracle.reduce((a, n) => a + f(n), 0)
  expect(parts.reduce((a, p) => a + p.samples, 0)).toBe(rows(n => n.series.reduce((b, s) => b + s.samples.length, 0)))
  expect(parts.reduce((a, p) => a + p.histograms, 0)).toBe(rows(n => n.series.reduce((b, s) => b + s.histograms.length, 0)))
  expect(parts.reduce((a, p) => a + p.exemplars, 0)).toBe(rows(n => n.series.reduce((b, s) => b + s.exemplars.length, 0)))
}

describe('Remote Write 2.0 from a batch', () => {
  it('gives back samples, stale markers, start timestamps, exemplars, both kinds of histograms and metadata', () => {
    const req: Request2 = {
      timeseries: [
        { labels: [['__name__', 'requests_total'], ['job', 'a']], samples: [{ value: 1, timestamp: T0, startTimestamp: T0 - 60_000 }, { value: staleMarker, timestamp: T0 + 1000, startTimestamp: T0 - 60_000 }], exemplars: [{ labels: [['trace_id', 'abc']], value: 1, timestamp: T0 }], metadata: { type: 1, help: 'requests served', unit: '' } },
        { labels: [['__name__', 'rc3_counter']], samples: [{ value: 3, timestamp: T0 }, { value: -0, timestamp: -1000 }], createdTimestamp: T0 - 5000 },
        { labels: [['__name__', 'latency_seconds'], ['job', 'a']], histograms: [{ ...histogram(T0), startTimestamp: T0 - 10 }, { ...histogram(T0 + 1000), kind: 'float', count: 5.5, zeroCount: 1.5, positiveBuckets: [2, 2], sum: staleMarker }], metadata: { type: 3, help: 'latency', unit: 'seconds' } },
        { labels: [['__name__', 'custom_buckets']], histograms: [{ ...histogram(T0), schema: -53, zeroThreshold: 0, zeroCount: 0, count: 4, customValues: [0.1, 1] }] },
        { labels: [['__name__', 'only_metadata']], metadata: { type: 2, help: 'nothing yet', unit: 'bytes' } }
      ]
    }
    const batch = decodeWriteRequest(compressBody(encodeRequest2(req)), { version: '2.0' })
    const parts = encodeBatchRw2(batch)
    expect(parts.length).toBe(1)
    expectSame(batch, parts)
    const again = decodeWriteRequest(parts[0]!.body, { version: '2.0' })
    expect(again.valueBits(1)).toBe(STALE_NAN_BITS)
    expect([...again.startTimestamps]).toEqual([T0 - 60_000, T0 - 60_000, T0 - 5000, T0 - 5000])
    expect([...again.histogramStartTimestamps]).toEqual([T0 - 10, 0, 0])
    expect(again.metadataCount).toBe(3)
  })

  it('cuts requests at 10,000 samples by default and at the byte limit, each with its own symbols table', () => {
    const timeseries: TimeSeries2[] = []
    for (let k = 0; k < 250; k++) {
      timeseries.push({ labels: [['__name__', 'm'], ['instance', `i${k}`], ['pad', 'x'.repeat(200)]], samples: Array.from({ length: 100 }, (_, s) => ({ value: s, timestamp: T0 + s })) })
    }
    const batch = decodeWriteRequest(compressBody(encodeRequest2({ timeseries })), { version: '2.0' })
    const parts = encodeBatchRw2(batch)
    expect(parts.map(p => p.samples)).toEqual([MAX_SAMPLES_PER_REQUEST, MAX_SAMPLES_PER_REQUEST, 5000])
    expectSame(batch, parts)
    const small = encodeBatchRw2(batch, { maxBytes: 16 << 10 })
    expect(small.length).toBeGreaterThan(10)
    for (const p of small) expect(decompress(p.body).length).toBeLessThanOrEqual(16 << 10)
    expectSame(batch, small)
  })

  it('takes label refs from the label bytes of series known before the batch (the series index) as well as of new ones', () => {
    const timeseries: TimeSeries2[] = Array.from({ length: 40 }, (_, k) => ({
      labels: [['__name__', 'known_total'], ['instance', `host-${k}`], ['long', 'ü'.repeat(100 + k)], ['zone', k % 2 === 0 ? 'a' : 'b']],
      samples: [{ value: k, timestamp: T0 + k }]
    }))
    const body = compressBody(encodeRequest2({ timeseries }))
    const first = decodeWriteRequest(body, { version: '2.0' })
    const second = decodeWriteRequest(body, { version: '2.0' })
    expect(second.newSeriesCount).toBe(0) // every series comes from the index now
    for (const batch of [first, second]) {
      const parts = encodeBatchRw2(batch)
      expectSame(batch, parts)
      // Each distinct name and value is one symbol: "" + 4 names + 1 + 40 + 40 + 2 values.
      const symbols = decodeWriteRequest(parts[0]!.body, { version: '2.0' })
      expect(symbols.seriesCount).toBe(40)
      const raw = decompress(parts[0]!.body)
      let count = 0
      for (let o = 0; o < raw.length && raw[o] === 0x22;) { count++; let n = 0; let m = 1; o++; for (;;) { const c = raw[o++]!; n += (c & 0x7f) * m; m *= 128; if (c < 0x80) break } o += n }
      expect(count).toBe(1 + 4 + 1 + 40 + 40 + 2)
    }
  })

  it('routes every series to one request per destination', () => {
    const timeseries: TimeSeries2[] = Array.from({ length: 30 }, (_, k) => ({ labels: [['__name__', 'm'], ['instance', `i${k}`]], samples: [{ value: k, timestamp: T0 }] }))
    const batch = decodeWriteRequest(compressBody(encodeRequest2({ timeseries })), { version: '2.0' })
    const parts = encodeBatchRw2(batch, { route: id => id % 3 })
    expect(new Set(parts.map(p => p.target))).toEqual(new Set([0, 1, 2]))
    for (const p of parts) {
      const b = decodeWriteRequest(p.body, { version: '2.0' })
      for (let i = 0; i < b.sampleCount; i++) {
        const labels = formatSeries(b.labelsOf(b.seriesIds[i]!)!)
        const original = [...batch.seriesIds].find(id => formatSeries(batch.labelsOf(id)!) === labels)!
        expect(original % 3).toBe(p.target)
      }
    }
    expectSame(batch, parts)
  })

  it('puts 1.0 family metadata on the series of the family, suffixes included', () => {
    const body = compressBody(encodeWriteRequest1({
      timeseries: [
        { labels: [['__name__', 'http_requests_total'], ['code', '200']], samples: [{ value: 1, timestamp: T0 }] },
        { labels: [['__name__', 'rpc_seconds_bucket'], ['le', '1']], samples: [{ value: 2, timestamp: T0 }] },
        { labels: [['__name__', 'rpc_seconds_count']], samples: [{ value: 2, timestamp: T0 }] },
        { labels: [['__name__', 'temperature']], samples: [{ value: 20, timestamp: T0 }] },
        { labels: [['__name__', 'temperature_total']], samples: [{ value: 20, timestamp: T0 }] }
      ],
      metadata: [
        { type: 1, family: 'http_requests', help: 'requests', unit: '' },
        { type: 3, family: 'rpc_seconds', help: 'rpc latency', unit: 'seconds' },
        { type: 2, family: 'temperature', help: 'degrees', unit: 'celsius' },
        { type: 2, family: 'no_series', help: 'left out', unit: '' }
      ]
    }))
    const batch = decodeWriteRequest(body, { version: '1.0' })
    const parts = encodeBatchRw2(batch)
    const again = decodeWriteRequest(parts[0]!.body, { version: '2.0' })
    const md = Array.from({ length: again.metadataCount }, (_, i) => again.metadata(i)).map(m => `${formatSeries(again.labelsOf(m.seriesId)!)} ${m.type} ${m.help} ${m.unit}`).sort()
    expect(md).toEqual([
      'http_requests_total{code="200"} counter requests ',
      'rpc_seconds_bucket{le="1"} histogram rpc latency seconds',
      'rpc_seconds_count histogram rpc latency seconds',
      'temperature gauge degrees celsius'
    ])
    // Everything but the metadata comes back as it was.
    expect(merged(parts.map(p => oracle(decompress(p.body), '2.0'))).series).toEqual(merged([rowsOfBatch(batch)]).series)
  })

  it('an empty batch is no request', () => {
    expect(encodeBatchRw2(decodeWriteRequest(compressBody(encodeRequest2({ timeseries: [] })), { version: '2.0' }))).toEqual([])
  })
})

describe('Remote Write 2.0 from generated batches, against the oracle', () => {
  test.prop([request2, fc.integer({ min: 1, max: 400 })], { numRuns: 100 })('2.0 requests come back whole, cut at any sample limit', (req, maxSamples) => {
    const batch = decodeWriteRequest(compressBody(encodeRequest2(req)), { version: '2.0' })
    const parts = encodeBatchRw2(batch, { maxSamples })
    for (const p of parts) expect(p.samples + p.histograms).toBeLessThanOrEqual(maxSamples)
    expectSame(batch, parts)
  })

  test.prop([request2, fc.integer({ min: 64, max: 4096 }), fc.integer({ min: 1, max: 4 })], { numRuns: 60 })('2.0 requests come back whole, cut at any byte limit and routed', (req, maxBytes, n) => {
    const batch = decodeWriteRequest(compressBody(encodeRequest2(req)), { version: '2.0' })
    expectSame(batch, encodeBatchRw2(batch, { maxBytes, route: id => id % n }))
  })

  test.prop([request1], { numRuns: 60 })('1.0 requests keep their samples, exemplars and histograms', req => {
    const batch = decodeWriteRequest(compressBody(encodeWriteRequest1(req)), { version: '1.0' })
    const parts = encodeBatchRw2(batch)
    expect(merged(parts.map(p => oracle(decompress(p.body), '2.0'))).series).toEqual(merged([rowsOfBatch(batch)]).series)
  })
})
