import { test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import { Decoder } from '../../src/decode/decoder.js'
import { resolveDecodeOptions } from '../../src/decode/options.js'
import { RowBatch } from '../../src/batch/row-batch.js'
import { decodeLabels, describeSeries, encodeLabels, formatSeries, type Labels } from '../../src/series/labels.js'
import { SeriesIndex } from '../../src/series/series-index.js'
import { seriesLabels } from '../fixtures/arbitraries.js'
import { encodeWriteRequest1 } from '../fixtures/encode.js'

const options = resolveDecodeOptions({ compressed: false, maxLabelValueBytes: 1 << 20, maxSeriesKeyBytes: 1 << 22 })

/** The key the decoder stores for a new series sent with `labels` (in the order given). */
function storedKey (labels: Array<[string, string]>): Uint8Array {
  const decoder = new Decoder(SeriesIndex.create({ maxSeries: 16, arenaBytes: 1 << 20 }))
  const batch = new RowBatch(decoder.decode(encodeWriteRequest1({ timeseries: [{ labels, samples: [{ value: 1, timestamp: 1 }] }] }), options).buffer, { tenant: '' })
  expect(batch.newSeriesCount).toBe(1)
  return batch.newSeriesLabelBytes(0).slice()
}

describe('the canonical label encoding', () => {
  test.prop([seriesLabels(8)], { numRuns: 200 })('the decoder stores what encodeLabels writes, whatever the order sent', labels => {
    const pairs = labels.map(([n, v]) => [String(n), String(v)] as [string, string])
    const want = encodeLabels(pairs)
    expect(storedKey(pairs)).toEqual(want)
    expect(storedKey([...pairs].reverse())).toEqual(want) // sorted by the scratch
    expect(decodeLabels(want)).toEqual(pairs)
  })

  it('writes long names and values (multi-byte lengths) the same way', () => {
    const pairs: Array<[string, string]> = [['__name__', 'm'], ['a'.repeat(300), ''], ['b', 'x'.repeat(70_000)], ['c', 'é'.repeat(100)]]
    const want = encodeLabels(pairs)
    expect(storedKey(pairs)).toEqual(want)
    expect(storedKey([...pairs].reverse())).toEqual(want)
    expect(decodeLabels(want)).toEqual(pairs)
  })
})

describe('series in error messages', () => {
  it('name a series as formatSeries does, values cut at 200 characters, at most 32 labels', () => {
    const labels: Labels = [['__name__', 'up'], ['job', 'a"b\nc'], ['long', 'v'.repeat(300)]]
    expect(describeSeries(labels)).toBe(`up{job="a\\"b\\nc",long="${'v'.repeat(200)}..."}`)
    expect(formatSeries(labels)).toBe(`up{job="a\\"b\\nc",long="${'v'.repeat(300)}"}`)
    const many: Labels = [['__name__', 'm'], ...Array.from({ length: 40 }, (_, i): [string, string] => [`l${i}`, 'v'])]
    expect(describeSeries(many)).toMatch(/,l31="v",\.\.\.\}$/)
  })

  it('are named the same whether the series is new or known', () => {
    const decoder = new Decoder(SeriesIndex.create({ maxSeries: 16 }))
    const body = (extra: number): Uint8Array => encodeWriteRequest1({
      timeseries: [{ labels: [['__name__', 'err_metric'], ['job', 'x']], samples: [{ value: 1, timestamp: 1 }], exemplars: [{ labels: [['a', '1'], ['a', '2']], value: extra, timestamp: 1 }] }]
    })
    const errorOf = (b: Uint8Array): string => {
      try { decoder.decode(b, resolveDecodeOptions({ compressed: false })); return '' } catch (err) { return (err as Error).message }
    }
    const first = errorOf(body(1)) // the series is new: named from the label scratch
    const again = errorOf(body(2)) // now known: named from the series index
    expect(first).toBe('series 1 err_metric{job="x"}: exemplar label name "a" occurs more than once')
    expect(again).toBe(first)
  })
})
