import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import { encodeLabels } from '../../../src/series/labels.js'
import { decodeWriteRequest } from '../../../src/decode/decode-write-request.js'
import { ExemplarRows, HistogramRows, MetadataRows, SampleRows, SeriesRows } from '../../../src/sinks/clickhouse/row-binary.js'
import { encodeWriteRequest1, staleMarker } from '../../fixtures/encode.js'

const utf8 = new TextEncoder()
const str = (s: string): number[] => { const b = utf8.encode(s); return [b.length, ...b] }

describe('RowBinary bodies', () => {
  it('series row, 18.16 form: fingerprint, metric_name, label_names, label_values, tenant, day', () => {
    const rows = new SeriesRows('arrays')
    rows.append(0x04030201, 0x08070605, encodeLabels([['__name__', 'up'], ['empty', ''], ['job', 'j']]), utf8.encode('t'), 20_000)
    expect([...rows.bytes()]).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8,
      ...str('up'),
      2, ...str('empty'), ...str('job'),
      2, ...str(''), ...str('j'),
      ...str('t'),
      20_000 & 0xff, 20_000 >> 8
    ])
    expect(rows.rows).toBe(1)
  })

  it('series row, 22.x form: labels as a Map (count, then name, value pairs)', () => {
    const rows = new SeriesRows('map')
    rows.append(1, 0, encodeLabels([['__name__', 'up'], ['job', 'j']]), new Uint8Array(0), 1)
    expect([...rows.bytes()]).toEqual([1, 0, 0, 0, 0, 0, 0, 0, ...str('up'), 1, ...str('job'), ...str('j'), 0, 1, 0])
  })

  it('sample rows: fingerprint, Int64 ms (negative too), the value\'s words as given (a stale marker keeps its bits)', () => {
    const rows = new SampleRows()
    const fpLo = new Uint32Array([0, 0xaabbccdd])
    const fpHi = new Uint32Array([0, 0x11223344])
    const values = new Uint32Array([2, 0x7ff00000, 0, 0x3ff00000]) // stale marker, 1.0
    rows.append(2, new Uint32Array([1, 1]), new Float64Array([1_700_000_000_123, -1]), values, fpLo, fpHi)
    const d = new DataView(rows.bytes().buffer, 0, rows.bytes().byteLength)
    expect(rows.bytes().byteLength).toBe(48)
    expect(d.getBigUint64(0, true)).toBe(0x11223344aabbccddn)
    expect(d.getBigInt64(8, true)).toBe(1_700_000_000_123n)
    expect(d.getBigUint64(16, true)).toBe(0x7ff0000000000002n)
    expect(d.getBigInt64(32, true)).toBe(-1n)
    expect(d.getFloat64(40, true)).toBe(1)
  })

  it('grows past its first capacity and keeps what it held', () => {
    const rows = new SampleRows()
    const n = 5000
    const ids = new Uint32Array(n)
    const ts = Float64Array.from({ length: n }, (_, i) => i)
    rows.append(n, ids, ts, new Uint32Array(2 * n), new Uint32Array(1), new Uint32Array(1))
    rows.append(n, ids, ts, new Uint32Array(2 * n), new Uint32Array(1), new Uint32Array(1))
    const d = new DataView(rows.bytes().buffer)
    expect(rows.rows).toBe(2 * n)
    expect(d.getBigInt64(24 * 4999 + 8, true)).toBe(4999n)
    expect(d.getBigInt64(24 * 9999 + 8, true)).toBe(4999n)
  })

  /** The rows of a samples body as [fingerprint, timestamp, value bits]. */
  const sampleRowsOf = (rows: SampleRows): Array<[bigint, bigint, bigint]> => {
    const b = rows.bytes()
    const d = new DataView(b.buffer, b.byteOffset, b.byteLength)
    return Array.from({ length: rows.rows }, (_, i) => [d.getBigUint64(24 * i, true), d.getBigInt64(24 * i + 8, true), d.getBigUint64(24 * i + 16, true)])
  }
  const byKey = (a: [bigint, bigint, bigint], b: [bigint, bigint, bigint]): number => a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0

  // Series ids pick fingerprints from a small set (so that series repeat and share bytes), timestamps
  // in any order (negative too), values by row number (so that the test sees rows move whole).
  test.prop([
    fc.array(fc.tuple(fc.nat(0xffffffff), fc.nat(0xffffffff)), { minLength: 1, maxLength: 20 }),
    fc.array(fc.tuple(fc.nat(19), fc.integer({ min: -2_000_000_000_000, max: 2_000_000_000_000 })), { maxLength: 400 }),
    fc.nat(3)
  ], { numRuns: 200 })('sort: rows by (fingerprint, timestamp), each row whole, stable for equal keys', (fps, samples, sharedHigh) => {
    const fpLo = Uint32Array.from(fps, ([lo]) => lo)
    // Fingerprints that share their high word or more bytes: the radix passes that sort nothing are skipped.
    const fpHi = Uint32Array.from(fps, ([, hi]) => sharedHigh === 0 ? hi : sharedHigh === 1 ? 7 : (hi & 0xff) | 0x12345600)
    const rows = new SampleRows()
    const ids = Uint32Array.from(samples, ([id]) => id % fps.length)
    const values = Uint32Array.from({ length: 2 * samples.length }, (_, k) => k % 2 === 0 ? k / 2 : 0x7ff00000)
    rows.append(samples.length, ids, Float64Array.from(samples, ([, ts]) => ts), values, fpLo, fpHi)
    const before = sampleRowsOf(rows)
    rows.sort()
    // A stable sort of the rows as they were, by (fingerprint, timestamp): the same rows, the same order.
    expect(sampleRowsOf(rows)).toEqual([...before].sort(byKey))
  })

  it('sort: a flush of 40,000 rows of 10,000 series in four requests comes out sorted, and the body grows and sorts again', () => {
    const rows = new SampleRows()
    const n = 10_000
    const fpLo = Uint32Array.from({ length: n }, (_, i) => Math.imul(i + 1, 0x9e3779b1) >>> 0)
    const fpHi = Uint32Array.from({ length: n }, (_, i) => Math.imul(i + 7, 0x85ebca6b) >>> 0)
    const ids = Uint32Array.from({ length: n }, (_, i) => i)
    // The second request's samples are older than the first's (it came in late).
    for (const t of [2000, 1000, 3000, 4000]) rows.append(n, ids, new Float64Array(n).fill(t), new Uint32Array(2 * n), fpLo, fpHi)
    rows.sort()
    const got = sampleRowsOf(rows)
    expect(got).toEqual([...got].sort(byKey))
    expect(got.filter(r => r[0] === got[0]![0]).map(r => r[1])).toEqual([1000n, 2000n, 3000n, 4000n])
    rows.append(n, ids, new Float64Array(n).fill(500), new Uint32Array(2 * n), fpLo, fpHi)
    rows.sort()
    const again = sampleRowsOf(rows)
    expect(again.length).toBe(5 * n)
    expect(again).toEqual([...again].sort(byKey))
    // A flush that absorbed another (appendRows) sorts again; one left as it was is not sorted twice.
    const late = new SampleRows()
    late.append(n, ids, new Float64Array(n).fill(100), new Uint32Array(2 * n), fpLo, fpHi)
    rows.appendRows(late)
    rows.sort()
    const merged = sampleRowsOf(rows)
    expect(merged).toEqual([...merged].sort(byKey))
    const body = rows.bytes()
    rows.sort()
    expect(rows.bytes().buffer, 'a sorted body is left in place').toBe(body.buffer)
  })

  it('histogram, exemplar and metadata rows, from a decoded batch: Float64 bits and arrays as sent', () => {
    const batch = decodeWriteRequest(encodeWriteRequest1({
      timeseries: [{
        labels: [['__name__', 'h']],
        histograms: [{
          kind: 'int', count: 3, sum: staleMarker, schema: -2, zeroThreshold: 0.5, zeroCount: 1,
          negativeSpans: [{ offset: -3, length: 1 }], negativeBuckets: [1],
          positiveSpans: [{ offset: 1, length: 1 }], positiveBuckets: [1], resetHint: 2, timestamp: -5, customValues: []
        }],
        exemplars: [{ labels: [['trace_id', 'x']], value: 2, timestamp: 7 }]
      }],
      metadata: [{ type: 2, family: 'g', help: 'hi', unit: 'u' }]
    }), { compressed: false })
    const raw = new Uint8Array(batch.buffer)
    const f64 = (v: number): number[] => [...new Uint8Array(new Float64Array([v]).buffer)]
    const i64 = (v: number): number[] => [...new Uint8Array(new BigInt64Array([BigInt(v)]).buffer)]
    const u32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24]

    const h = new HistogramRows()
    h.append(batch, raw, 0, 1, 2)
    expect([...h.bytes()]).toEqual([
      ...u32(1), ...u32(2), ...i64(-5), ...i64(0), 0, ...f64(3), 2, 0, 0, 0, 0, 0, 0xf0, 0x7f, ...u32(-2 >>> 0), ...f64(0.5), ...f64(1), 2,
      1, ...u32(-3 >>> 0), 1, ...u32(1), 1, ...f64(1),
      1, ...u32(1), 1, ...u32(1), 1, ...f64(1),
      0
    ])

    const e = new ExemplarRows('arrays')
    e.append(batch, raw, 0, 1, 2)
    expect([...e.bytes()]).toEqual([...u32(1), ...u32(2), ...i64(7), ...f64(2), 1, ...str('trace_id'), 1, ...str('x')])
    const m = new ExemplarRows('map')
    m.append(batch, raw, 0, 1, 2)
    expect([...m.bytes()].slice(24)).toEqual([1, ...str('trace_id'), ...str('x')])

    const meta = new MetadataRows()
    meta.append(batch, 0, utf8.encode('t'), 1_700_000_000)
    expect([...meta.bytes()]).toEqual([...str('t'), ...str('g'), 2, ...str('hi'), ...str('u'), ...u32(1_700_000_000)])

    // Rows of one body appended to another (a flush merged into the one being retried).
    const both = new HistogramRows()
    both.appendRows(h)
    both.appendRows(h)
    expect(both.rows).toBe(2)
    expect([...both.bytes()]).toEqual([...h.bytes(), ...h.bytes()])
  })
})
