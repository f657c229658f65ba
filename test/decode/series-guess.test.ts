/**
 * The steady-state shortcut of the walkers (series-order.ts, series-symbols.ts): a series is first
 * checked against the one that followed the previous series last time, by its bytes (1.0) or its
 * symbol ids (2.0). These tests send orders and spellings that make the guess wrong and check that
 * every sample still lands on the series whose labels it was sent with.
 */
import { describe, expect, it } from 'vitest'
import { RowBatch } from '../../src/batch/row-batch.js'
import { Decoder } from '../../src/decode/decoder.js'
import { resolveDecodeOptions } from '../../src/decode/options.js'
import { SeriesIndex } from '../../src/series/series-index.js'
import type { Labels } from '../../src/series/labels.js'
import { encode1, encode2, type Encoding, type LabelPair } from '../fixtures/encode.js'

const series = (job: string, instance: string): LabelPair[] => [['__name__', 'up'], ['instance', instance], ['job', job]]
const A = series('node', 'a:9100')
const B = series('node', 'b:9100')
const C = series('node', 'c:9100')
const D = series('node', 'd:9100')
const E = series('prom', 'a:9100')

type Version = '1.0' | '2.0'

function body (version: Version, sets: readonly LabelPair[][], enc: Encoding = {}): Uint8Array {
  const timeseries = sets.map((labels, i) => ({ labels, samples: [{ value: i + 1, timestamp: 1_700_000_000_000 + i }] }))
  return version === '1.0' ? encode1({ timeseries }, enc).body : encode2({ timeseries }, enc).body
}

/** The labels each sample was stored under, in order. */
function decode (decoder: Decoder, version: Version, b: Uint8Array, tenant = ''): Labels[] {
  const { buffer } = decoder.decode(b, resolveDecodeOptions({ compressed: false, version, tenant }))
  const batch = new RowBatch(buffer, { tenant }, decoder.index)
  return Array.from(batch.seriesIds, id => batch.labelsOf(id)!)
}

const text = (sets: readonly LabelPair[][]): Labels => sets.map(s => s.map(([n, v]) => [String(n), String(v)])) as unknown as Labels

describe.each(['1.0', '2.0'] as const)('series guesses, Remote Write %s', version => {
  it('a wrong guess (another series in the same place, a new one, a reordering) costs a lookup, never a wrong series', () => {
    const decoder = new Decoder(SeriesIndex.create({ maxSeries: 64 }))
    const orders = [[A, B, C], [A, B, C], [A, D, C], [A, B, C], [C, B, A], [A, C], [B, A, C, D], [A, B, C]]
    for (const order of orders) expect(decode(decoder, version, body(version, order))).toEqual(text(order))
    expect(decoder.index.size).toBe(4)
  })

  it('keeps tenants apart when two tenants send the same series in the same order', () => {
    const decoder = new Decoder(SeriesIndex.create({ maxSeries: 64 }))
    const ids = new Map<string, number[]>()
    for (const tenant of ['team-a', 'team-b', 'team-a', '', 'team-b', '']) {
      const { buffer } = decoder.decode(body(version, [A, B, E]), resolveDecodeOptions({ compressed: false, version, tenant }))
      const batch = new RowBatch(buffer, { tenant }, decoder.index)
      const got = Array.from(batch.seriesIds)
      if (ids.has(tenant)) expect(got).toEqual(ids.get(tenant))
      ids.set(tenant, got)
      for (const id of got) expect(decoder.index.tenantOf(id)).toBe(tenant)
    }
    expect(new Set([...ids.values()].flat()).size).toBe(9)
  })

  it('does not carry guesses from one series index to another in the same thread', () => {
    const first = new Decoder(SeriesIndex.create({ maxSeries: 64 }))
    const second = new Decoder(SeriesIndex.create({ maxSeries: 64 }))
    decode(first, version, body(version, [A, B, C]))
    decode(first, version, body(version, [A, B, C]))
    // In the second index the same ids belong to other series.
    expect(decode(second, version, body(version, [D, E, A]))).toEqual(text([D, E, A]))
    expect(decode(second, version, body(version, [A, B, C]))).toEqual(text([A, B, C]))
    expect(decode(first, version, body(version, [D, E, A]))).toEqual(text([D, E, A]))
  })
})

describe('series guesses, Remote Write 2.0 spellings', () => {
  it('finds the right series when the symbols table changes from request to request', () => {
    const decoder = new Decoder(SeriesIndex.create({ maxSeries: 64 }))
    const order = [A, B, C, D, E]
    for (let seed = 1; seed <= 12; seed++) {
      const enc: Encoding = { seed, shuffleSymbols: seed % 2 === 0, packing: seed % 3 === 0 ? 'unpacked' : 'packed', symbols: seed % 4 === 0 ? 'last' : 'first' }
      expect(decode(decoder, '2.0', body('2.0', order, enc))).toEqual(text(order))
    }
    expect(decoder.index.size).toBe(5)
  })

  it('labels sent out of name order are found and stored sorted, guessed or not', () => {
    const decoder = new Decoder(SeriesIndex.create({ maxSeries: 64 }))
    const reversed = [...A].reverse()
    for (let i = 0; i < 3; i++) {
      expect(decode(decoder, '2.0', body('2.0', [reversed, B]))).toEqual(text([A, B]))
      expect(decode(decoder, '2.0', body('2.0', [A, B]))).toEqual(text([A, B]))
    }
    expect(decoder.index.size).toBe(2)
  })

  it('a symbol replaced by another of the same length at the same place in the table is not taken for the old one', () => {
    const decoder = new Decoder(SeriesIndex.create({ maxSeries: 64 }))
    // 'x:9100' takes the table position 'a:9100' had: the position's id from last time must be checked by its bytes.
    const X = series('node', 'x:9100')
    const orders = [[A, B, C], [A, B, C], [X, B, C], [A, B, C], [X, B, C]]
    for (const order of orders) expect(decode(decoder, '2.0', body('2.0', order))).toEqual(text(order))
    expect(decoder.index.size).toBe(4)
  })
})
