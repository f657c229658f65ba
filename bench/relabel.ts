/**
 * Relabeling cost: the 10 rules typical of a gateway (issue 12's benchmark set: drop three metrics by
 * name, labeldrop two labels, one replace, one hashmod, plus a keep, a host-from-instance replace and
 * a labelmap) on 10,000 distinct series with a realistic Kubernetes label set (13 labels).
 *
 * Cases, interleaved:
 *   - first-time relabel, regexes translated to V8 where proven equivalent (what the service runs);
 *   - first-time relabel, every regex on re2js (the peer: what running RE2 alone costs);
 *   - first-time relabel with no rules (the floor: sort check and the __name__ check);
 *   - the cached path: RelabelCache.outcome() for every series id once known, the steady state.
 * Reported: milliseconds per 10,000 series (median, p10, p90) and series per second at the median.
 *
 * `npm run build && node dist/bench/relabel.js [rounds]`
 */
import { pathToFileURL } from 'node:url'
import { RelabelCache, Relabeler } from '../src/relabel/index.js'
import type { Labels } from '../src/series/labels.js'
import { fmt, interleave, printJson, printTable, summarize } from './lib/stats.js'

export const GATEWAY_RULES = [
  { source_labels: ['__name__'], regex: 'go_gc_duration_seconds.*', action: 'drop' },
  { source_labels: ['__name__'], regex: 'process_(open|max)_fds', action: 'drop' },
  { source_labels: ['__name__'], regex: 'apiserver_request_duration_seconds_bucket', action: 'drop' },
  { regex: 'pod_template_hash', action: 'labeldrop' },
  { regex: 'controller_revision_hash|statefulset_kubernetes_io_pod_name', action: 'labeldrop' },
  { source_labels: ['namespace'], regex: '(.*)', target_label: 'tenant', replacement: 'team-$1' },
  { source_labels: ['__name__', 'instance'], target_label: '__shard', modulus: 8, action: 'hashmod' },
  { source_labels: ['job'], regex: 'kubernetes-.*|node-exporter|app-.*', action: 'keep' },
  { source_labels: ['instance'], regex: '([^:]+):\\d+', target_label: 'host', replacement: '$1' },
  { regex: 'label_(app_kubernetes_io_.+)', replacement: '$1', action: 'labelmap' }
]

const SERIES = 10_000
const NAMES = ['http_requests_total', 'http_request_duration_seconds_bucket', 'container_cpu_usage_seconds_total', 'kube_pod_status_phase', 'node_network_receive_bytes_total', 'go_gc_duration_seconds', 'process_open_fds', 'up']

/** 10,000 distinct sorted label sets, about 13 labels each. */
function makeSeries (): Labels[] {
  const out: Labels[] = []
  for (let i = 0; i < SERIES; i++) {
    const l: Record<string, string> = {
      __name__: NAMES[i % NAMES.length]!,
      container: `app-${i % 40}`,
      controller_revision_hash: `rev-${(i * 7919) % 10007}`,
      endpoint: 'http-metrics',
      instance: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:8080`,
      job: i % 10 === 0 ? 'other-job' : 'kubernetes-pods',
      label_app_kubernetes_io_name: `svc-${i % 97}`,
      namespace: `ns-${i % 25}`,
      pod: `app-${i % 40}-${(i * 2654435761 >>> 0).toString(36)}`,
      pod_template_hash: (i * 40503 >>> 0).toString(16),
      prometheus: 'monitoring/k8s',
      prometheus_replica: 'prometheus-k8s-0',
      service: `svc-${i % 97}`
    }
    if (l.__name__!.endsWith('_bucket')) l.le = String([0.1, 0.5, 1, 5][i % 4])
    out.push(Object.entries(l).sort((a, b) => a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
  }
  return out
}

export function benchRelabel (rounds: number, print = true): unknown {
  const series = makeSeries()
  const v8 = Relabeler.fromConfig(GATEWAY_RULES)
  const re2 = Relabeler.fromConfig(GATEWAY_RULES, 'relabel_configs', { translate: false })
  const none = new Relabeler([])
  const engines = v8.rules.map(r => `${r.action}:${r.regex.matchEngine}`)
  // The two engines must agree before they are timed.
  const outcomes = { unchanged: 0, relabeled: 0, dropped: 0 }
  for (const s of series) {
    const a = v8.relabel(s)
    if (JSON.stringify(a) !== JSON.stringify(re2.relabel(s))) throw new Error(`engines disagree on ${JSON.stringify(s)}`)
    outcomes[a.kind]++
  }
  const cache = new RelabelCache(v8, { maxSeries: SERIES })
  for (let id = 1; id <= SERIES; id++) cache.outcome(id, i => series[i - 1]!)

  const all = (r: Relabeler) => () => { let n = 0; for (const s of series) if (r.relabel(s).kind !== 'dropped') n++; return n }
  const CASES = {
    v8: 'first-time relabel, 10 rules (V8 where proven, re2js otherwise)',
    re2: 'first-time relabel, 10 rules (re2js only)',
    none: 'first-time relabel, no rules',
    cached: 'cached outcome by series id'
  }
  const noLabels = (): Labels => { throw new Error('labels asked on a cached series') }
  const times = interleave([
    { name: CASES.v8, run: all(v8) },
    { name: CASES.re2, run: all(re2) },
    { name: CASES.none, run: all(none) },
    { name: CASES.cached, run: () => { let n = 0; for (let id = 1; id <= SERIES; id++) if (cache.outcome(id, noLabels).kind !== 'dropped') n++; return n } }
  ], rounds)
  const cases = [...times].map(([name, ms]) => {
    const s = summarize(name, ms)
    return { ...s, seriesPerSec: SERIES / (s.median / 1e3) }
  })
  const byName = new Map(cases.map(c => [c.name, c]))
  const result = { series: SERIES, rules: GATEWAY_RULES.length, engines, outcomes, cases, v8OverRe2js: byName.get(CASES.re2)!.median / byName.get(CASES.v8)!.median, cacheBytes: cache.memoryBytes() }
  if (print) {
    console.log(`relabel: ${SERIES} series x ~13 labels, ${GATEWAY_RULES.length} rules (${engines.join(', ')}), ${rounds} rounds; outcomes ${JSON.stringify(outcomes)}`)
    printTable(['case', 'median ms', 'p10 ms', 'p90 ms', 'series/s', 'x re2js'], cases.map(c => [
      c.name, fmt(c.median), fmt(c.p10), fmt(c.p90), fmt(c.seriesPerSec), fmt(byName.get(CASES.re2)!.median / c.median, 2)
    ]))
    printJson('relabel', result)
  }
  return result
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rounds = Number(process.argv[2] ?? 30)
  benchRelabel(Number.isInteger(rounds) && rounds > 0 ? rounds : 30)
}
