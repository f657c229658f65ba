/**
 * Remote Write 1.0 bodies built from a row batch: decoding them gives back the batch's series, samples
 * (bit for bit, stale markers included), exemplars, native histograms and metadata; requests are cut at
 * the sample limit; a route sends each series to one request per destination.
 */
import { describe, expect, it } from 'vitest'
import { decodeWriteRequest } from '../../src/decode/decode-write-request.js'
import { encodeBatchRw1 } from '../../src/encode/rw1-encode.js'
import type { RowBatch } from '../../src/batch/row-batch.js'
import { formatSeries } from '../../src/series/labels.js'
import { compressBody, encodeRequest2, encodeWriteRequest1, staleMarker } from '../fixtures/encode.js'
import { histogram, series1, series2 } from '../receive/bodies.js'

/** Everything a batch says, as comparable text. */
function describeBatch (b: RowBatch): string[] {
  const out: string[] = []
  for (let i = 0; i < b.sampleCount; i++) out.push(`s ${formatSeries(b.labelsOf(b.seriesIds[i]!)!)} ${b.timestamps[i]} ${b.valueBits(i)}`)
  for (let i = 0; i < b.exemplarCount; i++) out.push(`e ${formatSeries(b.labelsOf(b.exemplarSeriesIds[i]!)!)} ${formatSeries(b.exemplarLabels(i))} ${b.exemplarTimestamps[i]} ${b.exemplarValues[i]}`)
  for (let i = 0; i < b.histogramCount; i++) {
    out.push(`h ${formatSeries(b.labelsOf(b.histogramSeriesIds[i]!)!)} ${b.histogramTimestamps[i]} ${b.histogramCounts[i]} ${b.histogramSums[i]} ${b.histogramSchemas[i]} ${b.histogramZeroCounts[i]} ` +
      `${[...b.spanOffsets.subarray(b.spanStarts[2 * i], b.spanStarts[2 * i + 2])]} ${[...b.buckets.subarray(b.bucketStarts[2 * i], b.bucketStarts[2 * i + 2])]}`)
  }
  for (let i = 0; i < b.metadataCount; i++) { const m = b.metadata(i); out.push(`m ${m.type} ${m.family} ${m.help} ${m.unit}`) }
  return out.sort()
}

function roundTrip (batch: RowBatch, options = {}): { parts: ReturnType<typeof encodeBatchRw1>, again: string[] } {
  const parts = encodeBatchRw1(batch, options)
  const again = parts.flatMap(p => describeBatch(decodeWriteRequest(p.body, { version: '1.0' })))
  return { parts, again: again.sort() }
}

describe('Remote Write 1.0 from a batch', () => {
  it('gives back samples, stale markers, exemplars, histograms and metadata of a 1.0 body', () => {
    const ts = series1(20, 3)
    const body = compressBody(encodeWriteRequest1({
      timeseries: [
        ...ts,
        { labels: [['__name__', 'stale'], ['job', 'x']], samples: [{ value: staleMarker, timestamp: 5 }, { value: -0, timestamp: -1000 }] },
        { labels: [['__name__', 'with_exemplar']], samples: [{ value: 1, timestamp: 9 }], exemplars: [{ labels: [['trace_id', 'abc']], value: 2, timestamp: 9 }] },
        { labels: [['__name__', 'native']], histograms: [histogram(100), histogram(200)] }
      ],
      metadata: [{ type: 1, family: 'test_metric', help: 'a counter', unit: 'seconds' }]
    }))
    const batch = decodeWriteRequest(body, { version: '1.0' })
    const { parts, again } = roundTrip(batch)
    expect(again).toEqual(describeBatch(batch))
    expect(parts.reduce((n, p) => n + p.samples, 0)).toBe(batch.sampleCount)
    expect(parts.reduce((n, p) => n + p.histograms, 0)).toBe(2)
  })

  it('gives back the samples and histograms of a 2.0 body', () => {
    const batch = decodeWriteRequest(compressBody(encodeRequest2({ timeseries: series2(30, 4) })), { version: '2.0' })
    const { again } = roundTrip(batch)
    expect(again.filter(l => !l.startsWith('m '))).toEqual(describeBatch(batch).filter(l => !l.startsWith('m ')))
  })

  it('cuts requests at the sample limit, keeping each series in order', () => {
    const batch = decodeWriteRequest(compressBody(encodeWriteRequest1({ timeseries: series1(25, 4) })), { version: '1.0' })
    const { parts, again } = roundTrip(batch, { maxSamples: 10 })
    expect(parts.length).toBe(10)
    expect(parts.every(p => p.samples <= 10)).toBe(true)
    expect(again).toEqual(describeBatch(batch))
  })

  it('routes every series to one request per destination', () => {
    const batch = decodeWriteRequest(compressBody(encodeWriteRequest1({ timeseries: series1(30, 2) })), { version: '1.0' })
    const parts = encodeBatchRw1(batch, { route: id => id % 3 })
    expect(new Set(parts.map(p => p.target))).toEqual(new Set([0, 1, 2]))
    for (const p of parts) {
      const b = decodeWriteRequest(p.body, { version: '1.0' })
      for (let i = 0; i < b.sampleCount; i++) {
        const labels = formatSeries(b.labelsOf(b.seriesIds[i]!)!)
        const original = [...batch.seriesIds].find(id => formatSeries(batch.labelsOf(id)!) === labels)!
        expect(original % 3).toBe(p.target)
      }
    }
  })
})
