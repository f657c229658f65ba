/**
 * Our engine against a real Prometheus 2.42 (Debian's /usr/bin/prometheus), compat 2. A tiny HTTP
 * target serves series whose label values hold \r, \n, U+2028, U+00A0, emoji, ß, İ and a Greek final
 * sigma; Prometheus scrapes it with `metric_relabel_configs` and we ask its series API what it stored.
 * The same series, with the job and instance labels Prometheus adds, go through our engine with the
 * same rules. The two sets of series must be equal: this checks hashmod, lowercase/uppercase, `.` and
 * `\s`, `$` expansion, labelmap, labeldrop, keep, drop and dropequal against Prometheus itself.
 *
 * Skipped, saying so, where the binary is missing. Everything started is stopped by PID; the temp dir
 * is removed. Waits are bounded polls of Prometheus' own API.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Relabeler } from '../../src/relabel/index.js'
import type { Labels } from '../../src/series/labels.js'
import { freePort } from '../../bench/lib/free-port.js'
import { startScrapeTarget, type ScrapeTarget } from '../helpers/scrape-target.js'

const hasPrometheus = spawnSync('prometheus', ['--version'], { encoding: 'utf8' }).status === 0
if (!hasPrometheus) console.warn('prometheus-differential: no `prometheus` binary on PATH, so the differential test is skipped (apt-get install prometheus)')

const VALUES = ['a\rb', 'a\nb', 'a\u2028b', 'straße', 'İstanbul', 'ΟΔΟΣ', '😀 emoji', 'x\u00a0y', 'x y', 'plain', 'Ǆ and ǅ']

/** The rules, in Prometheus' YAML form (JSON is YAML). */
const RULES = [
  { source_labels: ['__name__'], regex: 'dropped_.*', action: 'drop' },
  { source_labels: ['v'], regex: 'a.b', target_label: 'dot', replacement: 'matched' },
  { source_labels: ['v'], regex: '.*\\s.*', target_label: 'space', replacement: 'yes' },
  { source_labels: ['v'], target_label: 'v_upper', action: 'uppercase' },
  { source_labels: ['v'], target_label: 'v_lower', action: 'lowercase' },
  { source_labels: ['v', 'instance'], target_label: 'shard', modulus: 16, action: 'hashmod' },
  { source_labels: ['v'], target_label: 'big_shard', modulus: 1000003, action: 'hashmod' },
  { source_labels: ['v'], regex: '(\\w+).*', target_label: 'g1', replacement: '${1}_x' },
  { source_labels: ['v'], regex: '(\\w+).*', target_label: 'g2', replacement: '$1_x' },
  { regex: 'p_(.*)', replacement: 'mapped_$1', action: 'labelmap' },
  { regex: 'tmp', action: 'labeldrop' },
  { source_labels: ['keepme'], regex: '|yes', action: 'keep' },
  { source_labels: ['a'], target_label: 'b', action: 'dropequal' }
]

/** The exposition series: name and labels (before the job and instance Prometheus adds). */
function targetSeries (): Array<Record<string, string>> {
  const out: Array<Record<string, string>> = []
  VALUES.forEach((v, i) => {
    out.push({ __name__: 'probe', v, p_one: String(i), tmp: 't', a: 'x', b: 'y' })
    out.push({ __name__: 'dropped_probe', v, a: 'x', b: 'y' })
  })
  out.push({ __name__: 'probe_kept_not', v: 'k', keepme: 'no', a: 'x', b: 'y' })
  out.push({ __name__: 'probe_equal', v: 'e', a: 'same', b: 'same' })
  out.push({ __name__: 'probe_no_a_b', v: 'n' }) // a and b both absent read as "": equal, dropped
  out.push({ __name__: 'sentinel', v: 's', keepme: 'yes', a: 'x', b: 'y' })
  return out
}

function key (labels: Labels): string {
  return JSON.stringify([...labels].sort((a, b) => a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
}

describe.skipIf(!hasPrometheus)('relabeling against Prometheus 2.42 (metric_relabel_configs)', () => {
  let dir = ''
  let target: ScrapeTarget | undefined
  let targetPort = 0
  let child: ChildProcess | undefined
  let promUrl = ''
  const logs: string[] = []

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'prom-ingest-relabel-diff-'))
    target = await startScrapeTarget(targetSeries())
    targetPort = target.port
    const port = await freePort()
    const config = join(dir, 'prometheus.yml')
    writeFileSync(config, `# Written by test/relabel/prometheus-differential.test.ts
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: relabel-target
    static_configs:
      - targets: ['127.0.0.1:${targetPort}']
    metric_relabel_configs: ${JSON.stringify(RULES)}
`)
    const check = spawnSync('promtool', ['check', 'config', config], { encoding: 'utf8' })
    if (check.status !== 0) throw new Error(`promtool refuses the config: ${check.stdout}${check.stderr}`)
    child = spawn('prometheus', [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] })
    for (const stream of [child.stdout!, child.stderr!]) {
      stream.setEncoding('utf8')
      stream.on('data', (chunk: string) => { logs.push(chunk) })
    }
    promUrl = `http://127.0.0.1:${port}`
  })

  afterAll(async () => {
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>(resolve => child!.once('exit', () => resolve()))
      child.kill('SIGTERM')
      const timer = setTimeout(() => child!.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
    }
    await target?.close()
    if (dir !== '') rmSync(dir, { recursive: true, force: true })
  })

  /** The series Prometheus stored for the target, once the sentinel is there (bounded wait). */
  async function storedSeries (): Promise<Labels[]> {
    const match = encodeURIComponent('{job="relabel-target"}')
    const deadline = Date.now() + 60_000
    for (;;) {
      if (child?.exitCode !== null) throw new Error(`prometheus exited:\n${logs.join('')}`)
      try {
        const res = await request(`${promUrl}/api/v1/series?match[]=${match}`)
        const body = await res.body.json() as { data?: Array<Record<string, string>> }
        // A scrape is appended in one commit: once the sentinel shows, the whole scrape does.
        if (res.statusCode === 200 && body.data?.some(s => s.__name__ === 'sentinel') === true) {
          return body.data.filter(s => s.__name__ !== 'up' && !s.__name__!.startsWith('scrape_')).map(s => Object.entries(s))
        }
      } catch { /* not listening yet */ }
      if (Date.now() > deadline) {
        const targets = await request(`${promUrl}/api/v1/targets`).then(async r => await r.body.text(), (e: Error) => e.message)
        throw new Error(`no scrape stored within 60 s; targets: ${targets}\n${logs.join('')}`)
      }
      await sleep(250)
    }
  }

  it('stores the same series as our engine in compat 2', { timeout: 120_000 }, async () => {
    const stored = await storedSeries()
    const relabeler = Relabeler.fromConfig(RULES, 'metric_relabel_configs', { compat: 2 })
    const ours: Labels[] = []
    for (const s of targetSeries()) {
      const input: Labels = Object.entries({ ...s, job: 'relabel-target', instance: `127.0.0.1:${targetPort}` })
      const out = relabeler.relabel(input.sort((a, b) => a[0] < b[0] ? -1 : 1))
      if (out.kind === 'unchanged') ours.push(input)
      else if (out.kind === 'relabeled') ours.push(out.labels)
    }
    expect(stored.map(key).sort()).toEqual(ours.map(key).sort())
    // The rules did something to each of the cases they are about.
    const byV = new Map(stored.filter(s => Object.fromEntries(s).__name__ === 'probe').map(s => [Object.fromEntries(s).v, Object.fromEntries(s)]))
    expect(byV.get('a\rb')?.dot).toBe('matched') // RE2 `.` matches \r
    expect(byV.get('a\u2028b')?.dot).toBe('matched')
    expect(byV.get('a\nb')?.dot).toBeUndefined() // not \n in 2.x
    expect(byV.get('x\u00a0y')?.space).toBeUndefined() // \s is ASCII
    expect(byV.get('x y')?.space).toBe('yes')
    expect(byV.get('straße')?.v_upper).toBe('STRAßE')
    expect(byV.get('İstanbul')?.v_lower).toBe('istanbul')
    expect(byV.get('ΟΔΟΣ')?.v_lower).toBe('οδοσ')
    expect(byV.get('plain')?.g1).toBe('plain_x')
    expect(byV.get('plain')?.g2).toBeUndefined()
    const names = new Set(stored.map(s => Object.fromEntries(s).__name__))
    expect([names.has('probe_equal'), names.has('probe_no_a_b'), names.has('probe_kept_not'), names.has('dropped_probe')]).toEqual([false, false, false, false])
  })
})
