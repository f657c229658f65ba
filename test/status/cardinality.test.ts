/**
 * The cardinality figures over a real series index (SeriesIndex with its shared arena), checked against
 * the figures computed the plain way from the same label sets (test/helpers/status-series.ts).
 */
import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import { encodeLabels } from '../../src/series/labels.js'
import { SeriesIndex } from '../../src/series/series-index.js'
import { firstSeen, SeriesCatalog, type IdMarks, type TsdbQuery } from '../../src/status/cardinality.js'
import { parseSelector } from '../../src/read/series-selector.js'
import { figuresOf, HOSTILE_SCRIPT, statusSeries, topList, type LabelSet } from '../helpers/status-series.js'

const NO_MARKS: IdMarks = { times: [], lastIds: [] }
const HEAD = { minTime: 0, maxTime: 0 }

function query (q: Partial<TsdbQuery> = {}): TsdbQuery {
  return { topN: 10, focusLabel: '', match: [], date: '', ...q }
}

function indexOf (sets: readonly LabelSet[], tenantOf: (i: number) => string = () => ''): SeriesIndex {
  const index = SeriesIndex.create({ maxSeries: 1000 })
  sets.forEach((labels, i) => { index.insertWithId(encodeLabels(labels), i + 1, tenantOf(i)) })
  return index
}

describe('SeriesCatalog', () => {
  it('gives Prometheus\' figures for the series in the index', () => {
    const sets = statusSeries()
    const catalog = new SeriesCatalog()
    catalog.update(indexOf(sets))
    const s = catalog.compute(query({ topN: 1000 }), NO_MARKS, HEAD)
    const want = figuresOf(sets)
    expect(s.headStats.numSeries).toBe(78)
    expect(s.headStats.numLabelPairs).toBe(want.numLabelPairs)
    expect(s.seriesCountByMetricName).toEqual(topList(want.seriesCountByMetricName, 1000))
    expect(s.labelValueCountByLabelName).toEqual(topList(want.labelValueCountByLabelName, 1000))
    expect(s.memoryInBytesByLabelName).toEqual(topList(want.memoryInBytesByLabelName, 1000))
    expect(s.seriesCountByLabelValuePair).toEqual(topList(want.seriesCountByLabelValuePair, 1000))
    expect(s.seriesCountByLabelName).toEqual(topList(want.seriesCountByLabelName, 1000))
    expect(s.seriesCountByLabelValuePair).toContainEqual({ name: `note=${HOSTILE_SCRIPT}`, value: 1 })
  })

  it('cuts every list to topN, largest first', () => {
    const catalog = new SeriesCatalog()
    catalog.update(indexOf(statusSeries()))
    const s = catalog.compute(query({ topN: 3 }), NO_MARKS, HEAD)
    expect(s.seriesCountByMetricName).toEqual([{ name: 'status_test_12', value: 12 }, { name: 'status_test_11', value: 11 }, { name: 'status_test_10', value: 10 }])
    expect(s.seriesCountByLabelValuePair).toHaveLength(3)
    expect(s.labelValueCountByLabelName[0]).toEqual({ name: 'instance', value: 78 })
  })

  it('counts only the series match[] selects (union of selectors), and the focus label\'s values', () => {
    const sets = statusSeries()
    const catalog = new SeriesCatalog()
    catalog.update(indexOf(sets))
    const s = catalog.compute(query({ topN: 100, focusLabel: 'job', match: [parseSelector('{__name__=~"status_test_1[12]"}', 'status_parameter_invalid'), parseSelector('status_test_3{job!="job0"}', 'status_parameter_invalid')] }), NO_MARKS, HEAD)
    const chosen = sets.filter(l => {
      const m = Object.fromEntries(l)
      return m.__name__ === 'status_test_11' || m.__name__ === 'status_test_12' || (m.__name__ === 'status_test_3' && m.job !== 'job0')
    })
    expect(s.headStats.numSeries).toBe(chosen.length)
    expect(s.seriesCountByLabelValuePair).toEqual(topList(figuresOf(chosen).seriesCountByLabelValuePair, 100))
    const jobs = new Map<string, number>()
    for (const l of chosen) { const j = Object.fromEntries(l).job!; jobs.set(j, (jobs.get(j) ?? 0) + 1) }
    expect(s.seriesCountByFocusLabelValue).toEqual(topList(jobs, 100))
    // A missing label is the empty value: {note=""} selects the series without one.
    const without = catalog.compute(query({ match: [parseSelector('{__name__="status_test_12",note=""}', 'status_parameter_invalid')] }), NO_MARKS, HEAD)
    expect(without.headStats.numSeries).toBe(10)
  })

  it('filters by tenant, and counts series per tenant whatever the filter', () => {
    const sets = statusSeries()
    const catalog = new SeriesCatalog()
    catalog.update(indexOf(sets, i => (i % 2 === 0 ? 'team-a' : '')))
    const s = catalog.compute(query({ tenant: 'team-a' }), NO_MARKS, HEAD)
    expect(s.headStats.numSeries).toBe(39)
    expect(s.seriesCountByTenant).toEqual([{ name: '', value: 39 }, { name: 'team-a', value: 39 }])
    expect(catalog.compute(query({ tenant: 'nobody' }), NO_MARKS, HEAD).headStats.numSeries).toBe(0)
  })

  it('reads only the ids added since the last update, and retries an id found without labels once', () => {
    const sets = statusSeries()
    const index = SeriesIndex.create({ maxSeries: 1000 })
    const catalog = new SeriesCatalog()
    index.insertWithId(encodeLabels(sets[0]!), 1)
    index.insertWithId(encodeLabels(sets[2]!), 3) // id 2 is a gap for now
    catalog.update(index)
    expect(catalog.count).toBe(2)
    index.insertWithId(encodeLabels(sets[1]!), 2) // published late: read on the next update
    index.insertWithId(encodeLabels(sets[3]!), 4)
    catalog.update(index)
    expect(catalog.count).toBe(4)
    expect(catalog.compute(query(), NO_MARKS, HEAD).headStats.numSeries).toBe(4)
  })

  it('places new series in the minute their id was handed out, and `date` selects a day\'s series', () => {
    const sets = statusSeries().slice(0, 30)
    const catalog = new SeriesCatalog()
    catalog.update(indexOf(sets))
    const day = Date.parse('2026-12-03T00:00:00Z')
    const t0 = day + 10 * 3_600_000 // start-up: ids 1..10 were loaded then
    const marks: IdMarks = { times: [t0, t0 + 60_000, t0 + 120_000, day + 86_400_000 + 60_000], lastIds: [10, 15, 25, 30] }
    expect(firstSeen(3, marks)).toBe(t0)
    expect(firstSeen(12, marks)).toBe(t0)
    expect(firstSeen(20, marks)).toBe(t0 + 60_000)
    expect(firstSeen(31, marks)).toBe(day + 86_400_000 + 60_000)
    const s = catalog.compute(query(), marks, HEAD, t0 + 150_000)
    const last = s.newSeriesPerMinute.slice(-3).map(p => p.value)
    expect(last).toEqual([15, 10, 5]) // minute of t0: ids 1..15; the next: 16..25; the current: 26..30
    expect(s.newSeriesPerMinute).toHaveLength(60)
    expect(catalog.compute(query({ date: '2026-12-03' }), marks, HEAD).headStats.numSeries).toBe(25)
    expect(catalog.compute(query({ date: '2026-12-04' }), marks, HEAD).headStats.numSeries).toBe(5)
    expect(catalog.compute(query({ date: '2026-12-01' }), marks, HEAD).headStats.numSeries).toBe(0)
  })

  // Any set of series, any topN: the lists are the plain computation's, cut the same way.
  const labelSets = fc.uniqueArray(
    fc.uniqueArray(fc.tuple(fc.constantFrom('__name__', 'a', 'b', 'job', 'ü'), fc.stringMatching(/^[a-cé<>"]{1,3}$/)), { selector: l => l[0], minLength: 1, maxLength: 4 })
      .map(ls => ls.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0)) as LabelSet),
    { selector: ls => JSON.stringify(ls), maxLength: 60 })
  test.prop([labelSets, fc.integer({ min: 1, max: 12 })])('equals the plain computation for any series set and topN', (sets, topN) => {
    const catalog = new SeriesCatalog()
    catalog.update(indexOf(sets))
    const s = catalog.compute(query({ topN }), NO_MARKS, HEAD)
    const want = figuresOf(sets)
    expect(s.headStats.numSeries).toBe(sets.length)
    expect(s.headStats.numLabelPairs).toBe(want.numLabelPairs)
    expect(s.seriesCountByMetricName).toEqual(topList(want.seriesCountByMetricName, topN))
    expect(s.labelValueCountByLabelName).toEqual(topList(want.labelValueCountByLabelName, topN))
    expect(s.memoryInBytesByLabelName).toEqual(topList(want.memoryInBytesByLabelName, topN))
    expect(s.seriesCountByLabelValuePair).toEqual(topList(want.seriesCountByLabelValuePair, topN))
    expect(s.seriesCountByLabelName).toEqual(topList(want.seriesCountByLabelName, topN))
  })
})
