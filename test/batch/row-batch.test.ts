/**
 * A counts-only batch (the gateway decode's, `RowBatch.rowsOmitted`): the counts of its rows, no
 * columns, and no labels to hand out: asking for them is an internal error, never an empty answer.
 */
import { describe, expect, it } from 'vitest'
import { BatchBuilder } from '../../src/batch/batch-builder.js'
import { HEADER_WORDS } from '../../src/batch/layout.js'
import { RowBatch } from '../../src/batch/row-batch.js'
import { Decoder } from '../../src/decode/decoder.js'
import { resolveDecodeOptions } from '../../src/decode/options.js'
import { SeriesIndex } from '../../src/series/series-index.js'
import { encodeWriteRequest1 } from '../fixtures/encode.js'

describe('a counts-only batch', () => {
  const body = encodeWriteRequest1({ timeseries: [1, 2, 3].map(i => ({ labels: [['__name__', 'up'], ['i', String(i)]] as const, samples: [{ value: i, timestamp: i }, { value: i, timestamp: i + 1 }] })) })

  it('is the header alone, with the counts the full decode gives', () => {
    const options = resolveDecodeOptions({ compressed: false })
    const full = new RowBatch(new Decoder(SeriesIndex.create({ maxSeries: 64 })).decode(body, options).buffer, { tenant: '' })
    const index = SeriesIndex.create({ maxSeries: 64 })
    const counts = new RowBatch(new Decoder(index).decode(body, { ...options, validateOnly: true }).buffer, { tenant: '' }, index)
    expect(counts.rowsOmitted).toBe(true)
    expect(full.rowsOmitted).toBe(false)
    expect(counts.buffer.byteLength).toBe(Math.ceil(HEADER_WORDS * 4 / 8) * 8)
    expect([counts.seriesCount, counts.sampleCount, counts.newSeriesCount]).toEqual([3, 6, 0])
    expect([full.seriesCount, full.sampleCount, full.newSeriesCount]).toEqual([3, 6, 3])
    expect([counts.seriesRefs.length, counts.seriesIds.length, counts.timestamps.length]).toEqual([0, 0, 0])
    expect(index.size).toBe(0)
    expect(() => counts.labelsOf(1)).toThrow(expect.objectContaining({ code: 'internal' }))
    expect(() => counts.labelBytesOf(1)).toThrow(expect.objectContaining({ code: 'internal' }))
  })

  it('is made by finish(..., countsOnly) from a builder whatever it holds', () => {
    const b = new BatchBuilder()
    b.ensureSamples(2)
    b.sampleCount = 2
    b.seriesRefs.push(7)
    const batch = new RowBatch(b.finish(1, 10, 5, true), { tenant: '' })
    expect([batch.seriesCount, batch.sampleCount, batch.counts.decompressedBytes, batch.counts.compressedBytes]).toEqual([1, 2, 10, 5])
    expect(batch.seriesRefs.length).toBe(0)
  })
})
