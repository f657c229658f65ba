/**
 * The cache by series id: whatever the order of lookups and however small its byte bound, an outcome
 * from the cache equals relabeling the series afresh, labels are asked for only on a miss, and memory
 * stays under the bound.
 */
import { fc, test as fcTest } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import { RelabelCache, Relabeler } from '../../src/relabel/index.js'
import type { Labels } from '../../src/series/labels.js'

const RULES = [
  { source_labels: ['__name__'], regex: 'drop_.*', action: 'drop' },
  { regex: 'tmp_.*', action: 'labeldrop' },
  { source_labels: ['instance'], target_label: 'shard', modulus: 4, action: 'hashmod' },
  { source_labels: ['job'], regex: '(.*)-canary', target_label: 'track', replacement: 'canary' },
  { source_labels: ['env'], regex: 'keep', action: 'keep' }
]

const labelSet: fc.Arbitrary<Labels> = fc.record({
  __name__: fc.constantFrom('up', 'drop_me', 'http_requests_total', ''),
  job: fc.constantFrom('api', 'api-canary', 'db'),
  instance: fc.constantFrom('a:1', 'b:2', 'c:3'),
  env: fc.constantFrom('keep', 'keep', 'other'),
  tmp_x: fc.constantFrom('1', '')
}, { requiredKeys: ['job', 'env'] }).map(o => Object.entries(o).sort((a, b) => a[0] < b[0] ? -1 : 1))

describe('RelabelCache', () => {
  fcTest.prop([
    fc.array(labelSet, { minLength: 1, maxLength: 40 }),
    fc.array(fc.nat(), { minLength: 1, maxLength: 300 }),
    fc.constantFrom(0, 600, 64 << 20)
  ])('a cached outcome equals a fresh relabel; labels are read only on a miss', (series, lookups, maxBytes) => {
    const fresh = Relabeler.fromConfig(RULES)
    const cache = new RelabelCache(Relabeler.fromConfig(RULES), { maxSeries: series.length, maxBytes })
    let asked = 0
    for (const n of lookups) {
      const id = 1 + (n % series.length)
      const before = cache.peek(id)
      const got = cache.outcome(id, i => { asked++; return series[i - 1]! })
      const want = fresh.relabel(series[id - 1]!)
      if (want.kind === 'relabeled') {
        expect(got.kind).toBe('relabeled')
        expect(got.kind === 'relabeled' && got.labels).toEqual(want.labels)
      } else {
        expect(got).toEqual(want)
      }
      if (before !== undefined) expect(got).toBe(before) // a hit hands back the same object
      expect(cache.stats().relabeledBytes).toBeLessThanOrEqual(Math.max(maxBytes, 600))
    }
    const s = cache.stats()
    expect(s.hits + s.misses).toBe(lookups.length)
    expect(asked).toBe(s.misses)
  })

  it('a relabeled entry keeps the caller\'s ref until it is evicted', () => {
    const cache = new RelabelCache(Relabeler.fromConfig([{ target_label: 'x', replacement: 'y' }]), { maxSeries: 10, maxBytes: 400 })
    const labels = (i: number): Labels => [['__name__', `m${i}`]]
    const first = cache.outcome(1, labels)
    expect(first.kind).toBe('relabeled')
    if (first.kind === 'relabeled') first.ref = 77
    const again = cache.outcome(1, () => { throw new Error('labels asked on a hit') })
    expect(again.kind === 'relabeled' && again.ref).toBe(77)
    for (let i = 2; i <= 10; i++) cache.outcome(i, labels)
    expect(cache.stats().evictions).toBeGreaterThan(0)
    expect(cache.memoryBytes()).toBeLessThan(400 + 64)
  })

  it('counts first sightings by outcome and refuses ids outside the index', () => {
    const cache = new RelabelCache(Relabeler.fromConfig([{ regex: 'a', action: 'labeldrop' }]), { maxSeries: 4 })
    cache.outcome(1, () => [['__name__', 'up']])
    cache.outcome(2, () => [['a', 'x']]) // left with no label
    cache.outcome(3, () => [['a', 'x'], ['b', 'y']]) // left without __name__
    cache.outcome(4, () => [['__name__', 'up'], ['a', 'x']])
    expect(cache.stats()).toMatchObject({ unchanged: 1, relabeled: 1, dropped: { no_labels: 1, no_name: 1, rule: 0 } })
    expect(() => cache.outcome(5, () => [])).toThrow(RangeError)
  })
})
