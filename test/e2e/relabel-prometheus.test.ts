/**
 * The write path's relabeling against a real Prometheus 2.42, end to end. One scrape target of our
 * own serves series whose label values hold \r, \n, U+2028, emoji, ß, İ and a Greek final sigma. Two
 * Prometheus processes scrape it the same way (same job, same target, so the same job and instance
 * labels), and write to two prom-ingest processes (each its own DuckDB store):
 *
 *   A: Prometheus relabels with `metric_relabel_configs` and writes the result; prom-ingest A has no rules.
 *   B: Prometheus writes the scrape raw; prom-ingest B relabels it with the same rules (relabel_configs
 *      in its YAML config file, relabel-compat 2).
 *
 * The two stored series sets must be equal (Prometheus' own up and scrape_* series are left out of
 * the comparison: metric_relabel_configs does not apply to them). Everything started is stopped by
 * PID; waits are bounded polls of the stores.
 */
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, describe, expect, it } from 'vitest'
import { scrapeMetrics, sumOf } from '../helpers/exposition.js'
import { startScrapeTarget, type ScrapeTarget } from '../helpers/scrape-target.js'
import { available, PROMETHEUS, startPrometheusReceiver, type Peer } from '../helpers/peers.js'
import { startServiceProcess, type ServiceProcess } from '../helpers/service-process.js'
import { queryRows } from '../helpers/store-query.js'
import { ensureWorkerBuilt, removeTempDirs, tempDir } from '../sinks/duckdb/helpers.js'

const hasPrometheus = available(PROMETHEUS)
if (!hasPrometheus) console.warn(`relabel-prometheus: ${PROMETHEUS} is missing, so the end-to-end differential test is skipped (apt-get install prometheus)`)

const VALUES = ['a\rb', 'a\nb', 'a\u2028b', 'straße', 'İstanbul', 'ΟΔΟΣ', '😀 emoji', 'x\u00a0y', 'x y', 'plain']

const RULES = [
  { source_labels: ['__name__'], regex: 'dropped_.*', action: 'drop' },
  { source_labels: ['v'], regex: 'a.b', target_label: 'dot', replacement: 'matched' },
  { source_labels: ['v'], regex: '.*\\s.*', target_label: 'space', replacement: 'yes' },
  { source_labels: ['v'], target_label: 'v_upper', action: 'uppercase' },
  { source_labels: ['v'], target_label: 'v_lower', action: 'lowercase' },
  { source_labels: ['v', 'instance'], target_label: 'shard', modulus: 16, action: 'hashmod' },
  // biome-ignore lint/suspicious/noTemplateCurlyInString: Go's ${1} expansion, not a JavaScript placeholder
  { source_labels: ['v'], regex: '(\\w+).*', target_label: 'g1', replacement: '${1}_x' },
  { regex: 'p_(.*)', replacement: 'mapped_$1', action: 'labelmap' },
  { regex: 'tmp|p_one', action: 'labeldrop' },
  { source_labels: ['keepme'], regex: '|yes', action: 'keep' },
  { source_labels: ['a'], target_label: 'b', action: 'dropequal' },
  // Two series become one (the label that told them apart is dropped).
  { regex: 'twin', action: 'labeldrop' }
]

/** The target's series (Prometheus adds job and instance). */
function targetSeries (): Array<Record<string, string>> {
  const out: Array<Record<string, string>> = []
  VALUES.forEach((v, i) => {
    out.push({ __name__: 'probe', v, p_one: String(i), tmp: 't', a: 'x', b: 'y' })
    out.push({ __name__: 'dropped_probe', v, a: 'x', b: 'y' })
  })
  out.push({ __name__: 'probe_kept_not', v: 'k', keepme: 'no', a: 'x', b: 'y' })
  out.push({ __name__: 'probe_equal', v: 'e', a: 'same', b: 'same' })
  out.push({ __name__: 'probe_twins', v: 't', twin: '1', a: 'x', b: 'y' })
  out.push({ __name__: 'probe_twins', v: 't', twin: '2', a: 'x', b: 'y' })
  out.push({ __name__: 'sentinel', v: 's', keepme: 'yes', a: 'x', b: 'y' })
  return out
}

const running: ServiceProcess[] = []
const peers: Peer[] = []
let target: ScrapeTarget | undefined
afterAll(async () => {
  await Promise.all(peers.map(p => p.stop()))
  await Promise.all(running.map(p => p.stop('SIGKILL')))
  await target?.close()
  removeTempDirs()
})

/** The series a store holds, as sorted JSON label lists, once `sentinel` is there (bounded wait). */
async function storedSeries (p: ServiceProcess, prometheus: Peer): Promise<string[]> {
  const deadline = Date.now() + 90_000
  for (;;) {
    const seen = await queryRows(p.url, "SELECT count(*)::INTEGER AS n FROM series WHERE metric = 'sentinel'")
    if (seen[0]?.n === 1) break
    if (prometheus.child.exitCode !== null) throw new Error(`prometheus exited:\n${prometheus.logs.join('\n')}`)
    if (Date.now() > deadline) throw new Error(`the sentinel was not stored within 90 s:\n${prometheus.logs.join('\n')}`)
    await sleep(250)
  }
  // A scrape is small enough for one request here; once its last series (the sentinel) is stored, all of it is.
  const rows = await queryRows(p.url, "SELECT to_json(map_entries(labels))::VARCHAR AS l, metric FROM series WHERE metric <> 'up' AND NOT starts_with(metric, 'scrape_')")
  return rows.map(r => String(r.l)).sort()
}

describe.skipIf(!hasPrometheus)('relabeling in the write path against Prometheus 2.42', () => {
  it('stores what Prometheus\' metric_relabel_configs stores', { timeout: 180_000 }, async () => {
    ensureWorkerBuilt()
    target = await startScrapeTarget(targetSeries())
    const targetPort = target.port

    const dir = tempDir()
    const yaml = join(dir, 'prom-ingest-b.yaml')
    writeFileSync(yaml, `# prom-ingest B: the rules as Prometheus writes them (pasted, JSON is YAML)\nrelabel-compat: 2\nrelabel_configs: ${JSON.stringify(RULES)}\n`)
    const a = await startServiceProcess(['--threads', '2', '--commit-interval', '5ms', '--data-dir', tempDir()])
    running.push(a)
    const b = await startServiceProcess(['--threads', '2', '--commit-interval', '5ms', '--data-dir', tempDir(), '--config', yaml])
    running.push(b)

    const prometheusFor = async (ingest: ServiceProcess, relabel: boolean): Promise<Peer> => {
      const d = tempDir()
      const file = join(d, 'prometheus.yml')
      writeFileSync(file, `global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: relabel-target
    static_configs:
      - targets: ['127.0.0.1:${targetPort}']
${relabel ? `    metric_relabel_configs: ${JSON.stringify(RULES)}\n` : ''}remote_write:
  - url: ${ingest.url}/api/v1/write
    queue_config: { batch_send_deadline: 500ms }
`)
      const check = spawnSync('promtool', ['check', 'config', file], { encoding: 'utf8' })
      if (check.status !== 0) throw new Error(`promtool refuses the config: ${check.stdout}${check.stderr}`)
      const peer = await startPrometheusReceiver(join(d, 'tsdb'), file)
      peers.push(peer)
      return peer
    }
    const promA = await prometheusFor(a, true)
    const promB = await prometheusFor(b, false)

    const storedA = await storedSeries(a, promA)
    const storedB = await storedSeries(b, promB)
    expect(storedB).toEqual(storedA)
    // The rules did something in both: a relabeled label, the twins as one series, no dropped names.
    expect(storedA.some(s => s.includes('"key":"dot","value":"matched"'))).toBe(true)
    expect(storedA.filter(s => s.includes('probe_twins'))).toHaveLength(1)
    expect(storedA.some(s => s.includes('dropped_probe') || s.includes('probe_equal') || s.includes('probe_kept_not'))).toBe(false)
    expect(storedA.some(s => s.includes('"value":"STRAßE"'))).toBe(true)
    // B counted what its rules dropped.
    expect(sumOf(await scrapeMetrics(b.url), 'prom_ingest_relabel_series_dropped_total', { reason: 'rule' })).toBeGreaterThanOrEqual(VALUES.length + 2)
  })
})
