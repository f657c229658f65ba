/**
 * The cost of the status page's cardinality figures (src/status/cardinality.ts), as the status worker
 * pays it: reading N series from a real series index into the catalog (once per process; later only
 * the new ids), and one computation over all of them, without and with match[] and focusLabel.
 * Series have 7 labels like node exporter's, one of them unique per series.
 *
 * `npm run build && node dist/bench/status-cardinality.js [series=200000] [rounds=5]`
 * Prints the median, min and max of each step in ms.
 */
import { encodeLabels } from '../src/series/labels.js'
import { SeriesIndex } from '../src/series/series-index.js'
import { SeriesCatalog, type TsdbQuery } from '../src/status/cardinality.js'
import { parseSelector } from '../src/read/series-selector.js'

const n = Number(process.argv[2] ?? 200_000)
const rounds = Number(process.argv[3] ?? 5)
const index = SeriesIndex.create({ maxSeries: n + 10 })
const MODES = ['idle', 'user', 'system', 'iowait']
for (let i = 0; i < n; i++) {
  index.insertWithId(encodeLabels([
    ['__name__', `node_metric_${i % 300}`], ['cpu', String(i % 16)], ['device', `dev${i % 50}`], ['instance', `host-${Math.floor(i / 1000)}:9100`],
    ['job', 'node'], ['mode', MODES[i % 4]!], ['series', String(i)]
  ]), i + 1)
}
const marks = { times: [Date.now()], lastIds: [n] }
const head = { minTime: 0, maxTime: 0 }
const all: TsdbQuery = { topN: 10, focusLabel: '', match: [], date: '' }
const matched: TsdbQuery = { topN: 10, focusLabel: 'mode', match: [parseSelector('{__name__=~"node_metric_1.*"}', 'status_parameter_invalid')], date: '' }
const times: Record<string, number[]> = { 'first read': [], 'compute, all series': [], 'compute, match[] regex + focusLabel': [] }
for (let r = 0; r < rounds; r++) {
  const catalog = new SeriesCatalog()
  let t = performance.now()
  catalog.update(index)
  times['first read']!.push(performance.now() - t)
  t = performance.now()
  catalog.compute(all, marks, head)
  times['compute, all series']!.push(performance.now() - t)
  t = performance.now()
  catalog.compute(matched, marks, head)
  times['compute, match[] regex + focusLabel']!.push(performance.now() - t)
}
console.log(`${n} series, 7 labels each, ${rounds} rounds`)
for (const [step, ms] of Object.entries(times)) {
  const sorted = [...ms].sort((a, b) => a - b)
  console.log(`${step.padEnd(40)} median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(0)} ms, min ${sorted[0]!.toFixed(0)}, max ${sorted[sorted.length - 1]!.toFixed(0)}`)
}
