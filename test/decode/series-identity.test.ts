import { describe, expect, it } from 'vitest'
import { decodeWriteRequest, localSeriesIndex } from '../../src/decode/decode-write-request.js'
import { SeriesIndex, tenantKey } from '../../src/series/series-index.js'
import { encodeLabels } from '../../src/series/labels.js'
import { hashLabels } from '../../src/series/label-hash.js'
import { nodeExporterBody } from '../fixtures/node-exporter-body.js'

const { body: TEN_K, description, series } = nodeExporterBody()

describe('series identity', () => {
  it('gives a series the same id on every request, and marks it new only once', () => {
    const first = decodeWriteRequest(TEN_K, { compressed: false })
    const second = decodeWriteRequest(TEN_K, { compressed: false })
    expect(first.sampleCount).toBe(description.samples)
    expect(second.sampleCount).toBe(description.samples)
    expect(Array.from(second.seriesIds)).toEqual(Array.from(first.seriesIds))
    expect(second.newSeriesCount).toBe(0)
    // This file runs in a process of its own: the first decode is the first time its series are seen.
    expect(first.newSeriesCount).toBe(description.series)
    expect(new Set(first.seriesIds).size).toBe(description.series)
    expect(second.labelsOf(second.seriesIds[0]!)).toEqual(series[0]!.labels)
  })

  it('never merges two label sets whose hashes collide: the bytes are compared', () => {
    const index = SeriesIndex.create({ maxSeries: 64 })
    const tk = tenantKey('')
    const a = encodeLabels([['__name__', 'up'], ['job', 'a']])
    const b = encodeLabels([['__name__', 'up'], ['job', 'b']])
    const da = new DataView(a.buffer)
    const db = new DataView(b.buffer)
    // Force a collision: hash A, then look B up with A's hash.
    hashLabels(da, 0, a.length, tk.seed)
    const idA = index.findOrInsert(da, 0, a.length, tk)
    const idB = index.findOrInsert(db, 0, b.length, tk) // hashOut still holds A's hash
    expect(idA).not.toBe(idB)
    expect(index.created).toBe(true)
    expect(index.labelsOf(idA)).toEqual([['__name__', 'up'], ['job', 'a']])
    expect(index.labelsOf(idB)).toEqual([['__name__', 'up'], ['job', 'b']])
    hashLabels(da, 0, a.length, tk.seed)
    expect(index.find(db, 0, b.length, tk)).toBe(idB)
    expect(index.find(da, 0, a.length, tk)).toBe(idA)
  })

  it('keeps tenants apart: the same labels under two tenants are two series', () => {
    const index = SeriesIndex.create({ maxSeries: 64 })
    const a = encodeLabels([['__name__', 'up']])
    const d = new DataView(a.buffer)
    const t1 = tenantKey('team-a')
    const t2 = tenantKey('team-b')
    hashLabels(d, 0, a.length, t1.seed)
    const id1 = index.findOrInsert(d, 0, a.length, t1)
    hashLabels(d, 0, a.length, t2.seed)
    const id2 = index.findOrInsert(d, 0, a.length, t2)
    expect(id1).not.toBe(id2)
    expect(index.tenantOf(id1)).toBe('team-a')
    expect(index.tenantOf(id2)).toBe('team-b')
    expect(index.labelsOf(id2)).toEqual([['__name__', 'up']])
  })

  it('refuses new series past max-series with series_limit, and keeps serving known ones', () => {
    const index = SeriesIndex.create({ maxSeries: 2 })
    const tk = tenantKey('')
    const ids: number[] = []
    for (const job of ['a', 'b']) {
      const l = encodeLabels([['__name__', 'up'], ['job', job]])
      const d = new DataView(l.buffer)
      hashLabels(d, 0, l.length, tk.seed)
      ids.push(index.findOrInsert(d, 0, l.length, tk))
    }
    const c = encodeLabels([['__name__', 'up'], ['job', 'c']])
    const dc = new DataView(c.buffer)
    hashLabels(dc, 0, c.length, tk.seed)
    expect(index.findOrInsert(dc, 0, c.length, tk)).toBe(0)
    expect(index.refusal).toContain('max-series is 2')
    expect(index.size).toBe(2)
    expect(index.lastId).toBe(2)
    const a = encodeLabels([['__name__', 'up'], ['job', 'a']])
    const da = new DataView(a.buffer)
    hashLabels(da, 0, a.length, tk.seed)
    expect(index.findOrInsert(da, 0, a.length, tk)).toBe(ids[0])
  })

  it('loads series under given ids and hands out later ids above them', () => {
    const index = SeriesIndex.create({ maxSeries: 100 })
    expect(index.insertWithId(encodeLabels([['__name__', 'x']]), 42)).toBe(true)
    expect(index.insertWithId(encodeLabels([['__name__', 'x']]), 43)).toBe(false)
    const l = encodeLabels([['__name__', 'y']])
    const d = new DataView(l.buffer)
    const tk = tenantKey('')
    hashLabels(d, 0, l.length, tk.seed)
    expect(index.findOrInsert(d, 0, l.length, tk)).toBe(43)
    expect(index.labelsOf(42)).toEqual([['__name__', 'x']])
    expect(localSeriesIndex()).toBeInstanceOf(SeriesIndex)
  })
})
