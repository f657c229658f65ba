import { describe, expect, it } from 'vitest'
import { encodeLabels } from '../../../src/series/labels.js'
import { SampleRows, SeriesRows } from '../../../src/sinks/clickhouse/row-binary.js'

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
})
