/**
 * A real Prometheus as the sender. Where the `prometheus` binary is on PATH (Debian's `prometheus`
 * package; .ci/run installs it), the test starts the service with the DuckDB sink and a Prometheus on
 * loopback that scrapes the service's own /metrics every second and remote-writes to it. It then waits
 * (bounded) for the scraped series to arrive and checks them through the service's query endpoint,
 * its counters, and Prometheus' own remote-storage counters.
 *
 * Remote Write 2.0 is tested only when this Prometheus can send it. `promtool check config` must
 * accept `protobuf_message: io.prometheus.write.v2.Request`; Prometheus 2.x does not, and then the
 * test says so. Nothing is installed here. Everything started is stopped, and the temp dirs are removed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { request } from 'undici'
import { describe, expect, it } from 'vitest'
import { forEachLine } from '../../bench/lib/lines.js'
import { startServiceProcess, type ServiceProcess } from '../helpers/service-process.js'
import { parseExposition, scrapeMetrics, sumOf } from '../helpers/exposition.js'
import { freePort } from '../../bench/lib/free-port.js'

const hasPrometheus = spawnSync('prometheus', ['--version'], { encoding: 'utf8' }).status === 0
const prometheusVersion = hasPrometheus
  ? /version (\S+)/.exec(spawnSync('prometheus', ['--version'], { encoding: 'utf8' }).stdout)?.[1] ?? 'unknown'
  : 'none'

/** How long Prometheus may take to scrape, write its WAL, and send (its WAL watcher reads in steps). */
const ARRIVAL_TIMEOUT_MS = 90_000

const RW2_MESSAGE = 'io.prometheus.write.v2.Request'

/** Whether this Prometheus accepts a Remote Write 2.0 sender config (asked of promtool, not guessed from the version). */
function canSendRemoteWrite2 (): boolean {
  if (!hasPrometheus) return false
  const dir = mkdtempSync(join(tmpdir(), 'prom-ingest-rw2-probe-'))
  try {
    const file = join(dir, 'prometheus.yml')
    writeFileSync(file, `remote_write:\n  - url: http://127.0.0.1:9/api/v1/write\n    protobuf_message: ${RW2_MESSAGE}\n`)
    return spawnSync('promtool', ['check', 'config', file], { encoding: 'utf8' }).status === 0
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const sendsRemoteWrite2 = canSendRemoteWrite2()

if (!hasPrometheus) {
  console.warn('prometheus-sender: no `prometheus` binary on PATH, so the real-sender tests are skipped (apt-get install prometheus; .ci/run installs it)')
} else if (!sendsRemoteWrite2) {
  console.warn(`prometheus-sender: Prometheus ${prometheusVersion} cannot send Remote Write 2.0 (promtool refuses protobuf_message), so only 1.0 is tested`)
}

interface Prometheus {
  readonly url: string
  readonly logs: string[]
  stop (): Promise<void>
}

async function startPrometheus (dir: string, servicePort: number, version: '1.0' | '2.0'): Promise<Prometheus> {
  const port = await freePort()
  const config = join(dir, 'prometheus.yml')
  writeFileSync(config, `# Written by test/e2e/prometheus-sender.test.ts
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: prom-ingest
    static_configs:
      - targets: ['127.0.0.1:${servicePort}']
remote_write:
  - url: http://127.0.0.1:${servicePort}/api/v1/write
    name: prom-ingest
${version === '2.0' ? `    protobuf_message: ${RW2_MESSAGE}\n` : ''}    queue_config:
      batch_send_deadline: 1s
      min_backoff: 100ms
      max_backoff: 1s
    metadata_config:
      send: true
      send_interval: 1s
`)
  const child: ChildProcess = spawn('prometheus', [
    `--config.file=${config}`,
    `--storage.tsdb.path=${join(dir, 'tsdb')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=info'
  ], { stdio: ['ignore', 'pipe', 'pipe'] })
  const logs: string[] = []
  const exited = new Promise<void>(resolve => child.once('exit', () => resolve()))
  // Ready when it logs so (a 30 s deadline as a safety net); then /-/ready must agree.
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`prometheus was not ready within 30 s:\n${logs.join('\n')}`)) }, 30_000)
    forEachLine([child.stdout!, child.stderr!], line => {
      logs.push(line)
      if (line.includes('Server is ready to receive web requests')) { clearTimeout(timer); resolve() }
    })
    void exited.then(() => { clearTimeout(timer); reject(new Error(`prometheus exited with ${String(child.exitCode)}:\n${logs.join('\n')}`)) })
  })
  await ready
  const url = `http://127.0.0.1:${port}`
  const res = await request(`${url}/-/ready`)
  await res.body.dump()
  if (res.statusCode !== 200) throw new Error(`prometheus logged ready but /-/ready answered ${res.statusCode}`)
  return {
    url,
    logs,
    async stop () {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
    }
  }
}

/** Runs a read-only SQL query on the service's store; the rows as objects. */
async function query (service: ServiceProcess, sql: string): Promise<Array<Record<string, unknown>>> {
  const res = await request(`${service.url}/api/v1/query?format=json&query=${encodeURIComponent(sql)}`)
  const text = await res.body.text()
  if (res.statusCode !== 200) throw new Error(`query answered ${res.statusCode}: ${text}`)
  return JSON.parse(text) as Array<Record<string, unknown>>
}

/** The `up` samples of the scrape job, oldest first. */
const UP_SAMPLES = `
  SELECT epoch_ms(s.ts) AS ts, s.value AS value, r.labels['instance'] AS instance, cardinality(r.labels) AS label_count
  FROM samples s JOIN series r ON s.series_id = r.id
  WHERE r.metric = 'up' AND r.labels['job'] = 'prom-ingest'
  ORDER BY s.ts`

function variant (version: '1.0' | '2.0', enabled: boolean, why: string): void {
  it.skipIf(!enabled)(`Prometheus ${prometheusVersion} remote-writes its scrape of the service over Remote Write ${version}${enabled ? '' : ` (skipped: ${why})`}`, { timeout: ARRIVAL_TIMEOUT_MS + 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'prom-ingest-prometheus-'))
    let service: ServiceProcess | undefined
    let prometheus: Prometheus | undefined
    const started = Date.now()
    try {
      service = await startServiceProcess(['--sink', 'duckdb', '--data-dir', join(dir, 'store')])
      prometheus = await startPrometheus(dir, service.port, version)

      // Depends on time by design: Prometheus scrapes and sends on its own 1 s schedule, and the
      // service does not announce what it stored. So the store is asked once per scrape interval
      // until it holds three scrapes of `up` and the counter metadata (bounded).
      const deadline = Date.now() + ARRIVAL_TIMEOUT_MS
      let up: Array<Record<string, unknown>> = []
      let metadata: Array<Record<string, unknown>> = []
      while (Date.now() < deadline) {
        up = await query(service, UP_SAMPLES)
        metadata = await query(service, "SELECT type::VARCHAR AS type, help FROM metadata WHERE family = 'prom_ingest_received_samples_total'")
        if (up.length >= 3 && metadata.length > 0) break
        await sleep(1000)
      }
      const context = `\n--- prometheus ---\n${prometheus.logs.slice(-30).join('\n')}\n--- service ---\n${service.logs.slice(-30).join('\n')}`
      expect(up.length, `up{job="prom-ingest"} samples stored within ${ARRIVAL_TIMEOUT_MS / 1000} s${context}`).toBeGreaterThanOrEqual(3)

      // up{instance="127.0.0.1:<port>", job="prom-ingest"} = 1, one sample per scrape, timestamps increasing and recent.
      for (const row of up) {
        expect(row.value).toBe(1)
        expect(row.instance).toBe(`127.0.0.1:${service.port}`)
        expect(Number(row.label_count)).toBe(3)
      }
      const ts = up.map(r => Number(r.ts))
      for (let i = 1; i < ts.length; i++) expect(ts[i]!).toBeGreaterThan(ts[i - 1]!)
      expect(ts[0]!).toBeGreaterThanOrEqual(started - 5_000)
      expect(ts[ts.length - 1]!).toBeLessThanOrEqual(Date.now() + 5_000)

      // Metadata of a family the service exposes arrived with its type and help.
      expect(metadata.length, `metadata for prom_ingest_received_samples_total${context}`).toBeGreaterThan(0)
      expect(metadata[0]!.type).toBe('counter')
      expect(String(metadata[0]!.help)).toMatch(/samples/i)

      // The service's own series came back through Prometheus, labelled by the scrape.
      const families = await query(service, `
        SELECT DISTINCT r.metric AS metric FROM series r
        WHERE r.labels['job'] = 'prom-ingest' AND r.metric IN ('prom_ingest_received_samples_total', 'scrape_duration_seconds', 'process_resident_memory_bytes')
        ORDER BY 1`)
      expect(families.map(r => r.metric)).toEqual(['process_resident_memory_bytes', 'prom_ingest_received_samples_total', 'scrape_duration_seconds'])

      // The service counted what it took, by this protocol version, and refused nothing.
      const m = await scrapeMetrics(service.url)
      expect(sumOf(m, 'prom_ingest_received_samples_total')).toBeGreaterThan(0)
      expect(sumOf(m, 'prom_ingest_http_requests_total', { path: '/api/v1/write', version })).toBeGreaterThan(0)
      expect(sumOf(m, 'prom_ingest_http_requests_total', { path: '/api/v1/write', code: '204', version })).toBe(sumOf(m, 'prom_ingest_http_requests_total', { path: '/api/v1/write' }))
      expect(sumOf(m, 'prom_ingest_rejected_requests_total'), 'write requests refused').toBe(0)

      // And Prometheus saw no failures on its side.
      const res = await request(`${prometheus.url}/metrics`)
      const own = parseExposition(await res.body.text())
      expect(sumOf(own, 'prometheus_remote_storage_samples_failed_total'), 'samples Prometheus failed to send').toBe(0)
      expect(sumOf(own, 'prometheus_remote_storage_samples_dropped_total'), 'samples Prometheus dropped').toBe(0)
      console.log(`prometheus-sender ${version}: ${up.length} up samples stored after ${((Date.now() - started) / 1000).toFixed(1)} s; ` +
        `${sumOf(m, 'prom_ingest_received_samples_total')} samples received in ${sumOf(m, 'prom_ingest_http_requests_total', { path: '/api/v1/write' })} requests`)
    } finally {
      await prometheus?.stop()
      await service?.stop()
      rmSync(dir, { recursive: true, force: true })
    }
  })
}

describe('a real Prometheus as the sender', () => {
  variant('1.0', hasPrometheus, 'no prometheus binary on PATH')
  variant('2.0', sendsRemoteWrite2, hasPrometheus ? `Prometheus ${prometheusVersion} sends only Remote Write 1.0` : 'no prometheus binary on PATH')
})
