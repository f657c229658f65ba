/**
 * HA deduplication in the decode: the replica label is left out of every series (so that both
 * replicas of a series share one series id and nothing stores or forwards it), the first series'
 * cluster and replica are reported, in both protocol versions; with it off nothing changes.
 */
import { describe, expect, it } from 'vitest'
import { RowBatch } from '../../src/batch/row-batch.js'
import { Decoder } from '../../src/decode/decoder.js'
import { resolveDecodeOptions } from '../../src/decode/options.js'
import { SeriesIndex } from '../../src/series/series-index.js'
import { encodeRequest2, encodeWriteRequest1, type LabelPair } from '../fixtures/encode.js'

const HA = { haReplicaLabel: '__replica__', haClusterLabel: 'cluster' }

function series (replica: string, i: number): LabelPair[] {
  return [['__name__', 'up'], ['__replica__', replica], ['cluster', 'eu'], ['instance', `i${i}`]]
}

function body (version: '1.0' | '2.0', replica: string): Uint8Array {
  const timeseries = [0, 1].map(i => ({ labels: series(replica, i), samples: [{ value: i, timestamp: 1000 }] }))
  return version === '1.0' ? encodeWriteRequest1({ timeseries }) : encodeRequest2({ timeseries })
}

describe.each(['1.0', '2.0'] as const)('HA labels, Remote Write %s', version => {
  it('leaves the replica label out and reports the first series\' cluster and replica', () => {
    const decoder = new Decoder(SeriesIndex.create({ maxSeries: 1024 }))
    const decode = (replica: string) => {
      const r = decoder.decode(body(version, replica), resolveDecodeOptions({ version, compressed: false, partial: true, ...HA }))
      return { r, batch: new RowBatch(r.buffer, { tenant: '', firstError: r.firstError }, decoder.index) }
    }
    const a = decode('a')
    expect(a.r.firstError).toBeUndefined()
    expect(a.r.ha).toEqual({ cluster: 'eu', replica: 'a', labelsChanged: true })
    const ids = [...a.batch.seriesIds.subarray(0, a.batch.sampleCount)]
    for (const id of ids) expect(a.batch.labelsOf(id)!.map(l => l[0])).toEqual(['__name__', 'cluster', 'instance'])
    // The other replica's series are the same series.
    const b = decode('b')
    expect(b.r.ha).toEqual({ cluster: 'eu', replica: 'b', labelsChanged: true })
    expect([...b.batch.seriesIds.subarray(0, b.batch.sampleCount)]).toEqual(ids)
    expect(b.batch.newSeriesIds.length).toBe(0)
  })

  it('changes nothing when off', () => {
    const decoder = new Decoder(SeriesIndex.create({ maxSeries: 1024 }))
    const r = decoder.decode(body(version, 'a'), resolveDecodeOptions({ version, compressed: false, partial: true }))
    expect(r.ha).toBeUndefined()
    const batch = new RowBatch(r.buffer, { tenant: '', firstError: r.firstError }, decoder.index)
    expect(batch.labelsOf(batch.seriesIds[0]!)!.map(l => l[0])).toContain('__replica__')
  })
})
