/**
 * Series per tenant: counted from an index at start-up, one slot per tenant until the capacity is
 * used, and enforced exactly by the decode (a series counted once, however often it is sent).
 */
import { describe, expect, it } from 'vitest'
import { Decoder } from '../../src/decode/decoder.js'
import { resolveDecodeOptions } from '../../src/decode/options.js'
import { TenantSeriesCounts } from '../../src/limits/tenant-series.js'
import { SeriesIndex } from '../../src/series/series-index.js'
import { encodeWriteRequest1 } from '../fixtures/encode.js'

function body (from: number, n: number): Uint8Array {
  return encodeWriteRequest1({ timeseries: Array.from({ length: n }, (_, i) => ({ labels: [['__name__', 'm'], ['i', String(from + i)]], samples: [{ value: 1, timestamp: 1 }] })) })
}

describe('TenantSeriesCounts', () => {
  it('counts the series a decode creates, refuses past the limit, and loads the counts from an index', () => {
    const index = SeriesIndex.create({ maxSeries: 1024 })
    const counts = new TenantSeriesCounts(4)
    const decoder = new Decoder(index)
    decoder.tenantSeries = new Int32Array(counts.shared)
    const decode = (tenant: string, from: number, n: number) => decoder.decode(body(from, n), resolveDecodeOptions({ compressed: false, partial: true, tenant, tenantMaxSeries: 3, tenantSlot: counts.slotOf(tenant) }))
    expect(decode('a', 0, 2).tenantLimitedSeries).toBe(0)
    // Known series are not counted again; of three new ones only one fits.
    const r = decode('a', 0, 5)
    expect(r.tenantLimitedSeries).toBe(2)
    expect(r.firstError?.code).toBe('tenant_max_series')
    expect(counts.count('a')).toBe(3)
    expect(decode('b', 0, 3).tenantLimitedSeries).toBe(0)

    const reloaded = new TenantSeriesCounts(4)
    reloaded.loadFrom(index)
    expect(reloaded.count('a')).toBe(3)
    expect(reloaded.count('b')).toBe(3)
  })

  it('gives no slot past its capacity', () => {
    const counts = new TenantSeriesCounts(2)
    expect(counts.slotOf('a')).toBe(0)
    expect(counts.slotOf('b')).toBe(1)
    expect(counts.slotOf('a')).toBe(0)
    expect(counts.slotOf('c')).toBe(-1)
  })
})
