import { describe, expect, it } from 'vitest'
import { hashLabels } from '../../src/series/label-hash.js'
import { encodeLabels } from '../../src/series/labels.js'
import { arenaEntryBytes, SeriesIndex, tenantKey } from '../../src/series/series-index.js'

/** findOrInsert of a label set, for tenant `tenant`. */
function insert (index: SeriesIndex, labels: Array<[string, string]>, tenant = ''): number {
  const tk = tenantKey(tenant)
  const l = encodeLabels(labels)
  const d = new DataView(l.buffer)
  hashLabels(d, 0, l.length, tk.seed)
  return index.findOrInsert(d, 0, l.length, tk)
}

describe('SeriesIndex when full', () => {
  it('refuses a key that does not fit the arena without taking its bytes: a shorter key still fits', () => {
    const small = encodeLabels([['__name__', 'up'], ['job', 'a']])
    // Room for two small keys and no more.
    const index = SeriesIndex.create({ maxSeries: 100, arenaBytes: 2 * arenaEntryBytes(small.length) })
    expect(insert(index, [['__name__', 'up'], ['job', 'a']])).toBe(1)
    expect(insert(index, [['__name__', 'up'], ['job', 'x'.repeat(100)]])).toBe(0)
    expect(index.refusal).toMatch(/series-arena-bytes/)
    expect(index.arenaBytesUsed).toBe(arenaEntryBytes(small.length))
    expect(insert(index, [['__name__', 'up'], ['job', 'b']])).toBe(2)
    expect(insert(index, [['__name__', 'up'], ['job', 'c']])).toBe(0)
    // Known series are still found, new ones refused each time (nothing is thrown).
    expect(insert(index, [['__name__', 'up'], ['job', 'a']])).toBe(1)
    expect(insert(index, [['__name__', 'up'], ['job', 'd']])).toBe(0)
    expect(index.size).toBe(2)
    expect(index.lastId).toBe(2)
  })

  it('counts the tenant in the key', () => {
    const key = encodeLabels([['__name__', 'up']])
    const index = SeriesIndex.create({ maxSeries: 100, arenaBytes: 64 })
    expect(arenaEntryBytes(key.length + 62)).toBeGreaterThan(64)
    expect(insert(index, [['__name__', 'up']], 't'.repeat(60))).toBe(0)
    expect(insert(index, [['__name__', 'up']], 't')).toBe(1)
  })

  it('refuses series past max-series without handing out ids beyond it', () => {
    const index = SeriesIndex.create({ maxSeries: 3 })
    for (let i = 0; i < 10; i++) insert(index, [['__name__', 'up'], ['i', String(i)]])
    expect(index.size).toBe(3)
    expect(index.lastId).toBe(3)
    expect(index.refusal).toBe('the series index is full: 3 series stored, max-series is 3')
  })

  it('throws series_limit when loading more series than it holds', () => {
    const index = SeriesIndex.create({ maxSeries: 10, arenaBytes: 64 })
    expect(index.insertWithId(encodeLabels([['__name__', 'a']]), 1)).toBe(true)
    expect(() => index.insertWithId(encodeLabels([['__name__', 'b'.repeat(100)]]), 2)).toThrow(expect.objectContaining({ code: 'series_limit' }))
    expect(() => index.insertWithId(encodeLabels([['__name__', 'c']]), 11)).toThrow(expect.objectContaining({ code: 'series_limit' }))
  })
})

describe('SeriesIndex shared table (one 32-bit word per slot: the id below, the top of the hash above)', () => {
  for (const maxSeries of [1024, 1500]) {
    it(`another thread's view finds every one of ${maxSeries} series under its id, the highest id included`, () => {
      const index = SeriesIndex.create({ maxSeries })
      const ids: number[] = []
      for (let i = 0; i < maxSeries; i++) ids.push(insert(index, [['__name__', 'up'], ['i', String(i)]]))
      expect(ids[maxSeries - 1]).toBe(maxSeries)
      // A fresh attach has an empty mirror of its own: every lookup goes through the shared table.
      const other = SeriesIndex.attach(index.shared)
      for (let i = 0; i < maxSeries; i++) {
        expect(insert(other, [['__name__', 'up'], ['i', String(i)]])).toBe(ids[i])
        expect(other.created).toBe(false)
      }
      expect(other.size).toBe(maxSeries)
      expect(insert(other, [['__name__', 'up'], ['i', 'one more']])).toBe(0)
      expect(other.labelsOf(maxSeries)).toEqual(index.labelsOf(maxSeries))
    })
  }

  it('takes 4 bytes a slot: 8 MiB of table for the default 1,048,576 series', () => {
    expect(SeriesIndex.create().shared.table.byteLength).toBe(8 << 20)
  })

  it('loads series under given ids, the highest included, and finds them from another view', () => {
    const index = SeriesIndex.create({ maxSeries: 2048 })
    expect(index.insertWithId(encodeLabels([['__name__', 'a']]), 2048)).toBe(true)
    expect(index.insertWithId(encodeLabels([['__name__', 'b']]), 1)).toBe(true)
    expect(index.insertWithId(encodeLabels([['__name__', 'a']]), 7)).toBe(false)
    const other = SeriesIndex.attach(index.shared)
    expect(insert(other, [['__name__', 'a']])).toBe(2048)
    expect(insert(other, [['__name__', 'b']])).toBe(1)
  })
})
