/**
 * A series set for the status page's tests, and the cardinality figures it should give, computed here
 * the plain way (maps over label sets), independently of src/status/cardinality.ts.
 *
 * `statusSeries()`: metrics status_test_<i> with i series each (i = 1..12, 78 series), labels job
 * (3 values), instance (one per series), and on two series a `note` label holding hostile text.
 */
import type { TimeSeries1 } from '../fixtures/encode.js'

export type LabelSet = Array<[string, string]>

export const HOSTILE_SCRIPT = '<script>alert(1)</script>'
export const HOSTILE_IMG = '"><img src=x onerror=alert(1)>'

export function statusSeries (prefix = 'status_test'): LabelSet[] {
  const out: LabelSet[] = []
  let k = 0
  for (let i = 1; i <= 12; i++) {
    for (let j = 0; j < i; j++, k++) {
      const labels: LabelSet = [['__name__', `${prefix}_${i}`], ['instance', `host-${k}`], ['job', `job${k % 3}`]]
      if (i === 12 && j === 0) labels.push(['note', HOSTILE_SCRIPT])
      if (i === 12 && j === 1) labels.push(['note', HOSTILE_IMG])
      out.push(labels.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)))
    }
  }
  return out
}

/** The series as Remote Write 1.0 time series, one sample each at `timestamp`. */
export function asTimeSeries (sets: readonly LabelSet[], timestamp: number, value = 1): TimeSeries1[] {
  return sets.map(labels => ({ labels, samples: [{ value, timestamp }] }))
}

export interface Figures {
  numSeries: number
  numLabelPairs: number
  seriesCountByMetricName: Map<string, number>
  labelValueCountByLabelName: Map<string, number>
  memoryInBytesByLabelName: Map<string, number>
  seriesCountByLabelValuePair: Map<string, number>
  seriesCountByLabelName: Map<string, number>
}

/** Every figure, uncut, for a set of distinct series. */
export function figuresOf (sets: readonly LabelSet[]): Figures {
  const pairs = new Map<string, number>()
  const values = new Map<string, Set<string>>()
  const metric = new Map<string, number>()
  const seriesByName = new Map<string, number>()
  for (const labels of sets) {
    for (const [n, v] of labels) {
      pairs.set(`${n}=${v}`, (pairs.get(`${n}=${v}`) ?? 0) + 1)
      if (!values.has(n)) values.set(n, new Set())
      values.get(n)!.add(v)
      seriesByName.set(n, (seriesByName.get(n) ?? 0) + 1)
      if (n === '__name__') metric.set(v, (metric.get(v) ?? 0) + 1)
    }
  }
  const labelValueCount = new Map<string, number>()
  const memory = new Map<string, number>()
  for (const [n, vs] of values) {
    labelValueCount.set(n, vs.size)
    let b = 0
    for (const v of vs) b += Buffer.byteLength(v, 'utf8')
    memory.set(n, b)
  }
  return {
    numSeries: sets.length,
    numLabelPairs: pairs.size,
    seriesCountByMetricName: metric,
    labelValueCountByLabelName: labelValueCount,
    memoryInBytesByLabelName: memory,
    seriesCountByLabelValuePair: pairs,
    seriesCountByLabelName: seriesByName
  }
}

/** The top `n` of a figure as Prometheus lists it (largest first; ties by name, which Prometheus leaves open). */
export function topList (m: Map<string, number>, n: number): Array<{ name: string, value: number }> {
  return [...m].map(([name, value]) => ({ name, value })).sort((a, b) => b.value - a.value || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).slice(0, n)
}
