/**
 * Per-tenant ingestion rate against the real process. A sender above its tenant's rate gets 429 with
 * a Retry-After computed from the bucket and a message that names the limit and how to raise it;
 * nothing of the refused request is stored; other tenants and per-tenant overrides are not affected;
 * tenant-rate-limit-status=503 answers 503 instead. A real Prometheus 2.42 with
 * `retry_on_http_429: true` is refused and catches up with nothing lost.
 *
 * The token bucket refills with time, so the first test keeps the refill negligible: a rate of
 * 1 sample/s against requests of 80 samples (a refill of one request would take 80 s).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { request } from 'undici'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { forEachLine } from '../../bench/lib/lines.js'
import { compressBody, encodeWriteRequest1 } from '../fixtures/encode.js'
import { parseExposition, scrapeMetrics, sumOf } from '../helpers/exposition.js'
import { available, freePort, PROMETHEUS } from '../helpers/peers.js'
import { postWrite } from '../helpers/remote-write.js'
import { startServiceProcess, type ServiceProcess } from '../helpers/service-process.js'
import { ensureWorkerBuilt, removeTempDirs, tempDir } from '../sinks/duckdb/helpers.js'
import { queryRows } from '../helpers/store-query.js'

let running: ServiceProcess[] = []
afterEach(async () => {
  await Promise.all(running.map(p => p.stop('SIGKILL')))
  running = []
})
afterAll(removeTempDirs)

async function serve (args: string[], env: Record<string, string> = {}): Promise<ServiceProcess> {
  ensureWorkerBuilt()
  const p = await startServiceProcess(['--threads', '1', '--commit-interval', '5ms', '--data-dir', tempDir(), ...args], env)
  running.push(p)
  return p
}

async function metric (p: ServiceProcess, name: string, labels: Record<string, string> = {}): Promise<number> {
  return sumOf(await scrapeMetrics(p.url), name, labels)
}

async function query (p: ServiceProcess, sql: string): Promise<Array<Record<string, unknown>>> {
  return await queryRows(p.url, sql)
}

/** A body of `n` samples, one per series of `metric`, at `ts`. */
function body (metric: string, n: number, ts: number): Uint8Array {
  return compressBody(encodeWriteRequest1({
    timeseries: Array.from({ length: n }, (_, i) => ({ labels: [['__name__', metric], ['i', String(i)]], samples: [{ value: i, timestamp: ts }] }))
  }))
}

const T0 = 1_700_000_000_000

describe('per-tenant ingestion rate', () => {
  it('answers 429 with Retry-After over the rate, stores nothing of that request, and leaves other tenants alone', async () => {
    const p = await serve(['--tenant-ingestion-rate', '1', '--tenant-ingestion-burst', '100'], { PROM_INGEST_TENANT_LIMITS: JSON.stringify({ big: { 'ingestion-rate': 1_000_000 } }) })
    const send = (tenant: string, ts: number): ReturnType<typeof postWrite> => postWrite(p.url, body('m', 80, ts), { headers: { 'X-Scope-OrgID': tenant } })
    expect((await send('a', T0)).status).toBe(204)
    const refused = await send('a', T0 + 1000)
    expect(refused.status).toBe(429)
    expect(refused.headers['x-prom-ingest-error']).toBe('tenant_max_ingestion_rate')
    // 80 samples need 80 tokens; about 20 are left, at 1 per second: about 60 s, never the global 1 s.
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(50)
    expect(refused.body).toMatch(/over the ingestion rate of tenant "a" \(1\/s, burst 100\)/)
    expect(refused.body).toMatch(/\(err-prom-ingest-tenant-max-ingestion-rate\)\. To adjust, set ingestion-rate .* for the tenant in tenant-limits/)
    // Another tenant has its own bucket; an override lifts the limit.
    expect((await send('b', T0)).status).toBe(204)
    for (let k = 0; k < 5; k++) expect((await send('big', T0 + k * 1000)).status).toBe(204)

    const rows = await query(p, "SELECT tenant, count(*)::INTEGER AS n, count(DISTINCT s.ts)::INTEGER AS ts FROM samples s JOIN series r ON s.series_id = r.id WHERE r.metric = 'm' GROUP BY tenant ORDER BY tenant")
    expect(rows).toEqual([{ tenant: 'a', n: 80, ts: 1 }, { tenant: 'b', n: 80, ts: 1 }, { tenant: 'big', n: 400, ts: 5 }])
    expect(await metric(p, 'prom_ingest_tenant_limit_refused_requests_total', { reason: 'ingestion_rate' })).toBe(1)
    expect(await metric(p, 'prom_ingest_tenant_limit_refused_samples_total', { reason: 'ingestion_rate' })).toBe(80)
  })

  it('answers 503 instead with tenant-rate-limit-status=503', async () => {
    const p = await serve(['--tenant-ingestion-rate', '1', '--tenant-ingestion-burst', '100', '--tenant-rate-limit-status', '503'])
    expect((await postWrite(p.url, body('m', 80, T0))).status).toBe(204)
    const refused = await postWrite(p.url, body('m', 80, T0 + 1000))
    expect(refused.status).toBe(503)
    expect(refused.headers['retry-after']).toBeDefined()
    expect(refused.body).toMatch(/requests without a tenant/)
  })

  it('refuses a bad tenant-limits override at start-up, naming the tenant and the field', async () => {
    ensureWorkerBuilt()
    await expect(startServiceProcess(['--data-dir', tempDir()], { PROM_INGEST_TENANT_LIMITS: '{"t1": {"ingestion-rat": 5}}' }))
      .rejects.toThrow(/tenant-limits\["t1"\]\.ingestion-rat: unknown field/)
  })
})

describe('per-tenant max-series', () => {
  it('refuses a tenant\'s new series past its max-series with a 400 partial write, writes its known series, and keeps the count across a restart', { timeout: 60_000 }, async () => {
    const dataDir = tempDir()
    const args = ['--data-dir', dataDir, '--tenant-max-series', '3']
    const env = { PROM_INGEST_TENANT_LIMITS: JSON.stringify({ big: { 'max-series': 10 } }) }
    let p = await serve(args, env)
    const send = (tenant: string, n: number, ts: number): ReturnType<typeof postWrite> => postWrite(p.url, body('s', n, ts), { headers: { 'X-Scope-OrgID': tenant } })
    const first = await send('a', 5, T0)
    expect(first.status).toBe(400)
    expect(first.headers['x-prom-ingest-error']).toBe('tenant_max_series')
    expect(first.body).toMatch(/2 of 5 series refused.*the tenant has 3 series, its max-series \(err-prom-ingest-tenant-max-series\)\. To adjust, set max-series for the tenant in tenant-limits/)
    // The known three are still written; the two new ones still refused.
    expect((await send('a', 5, T0 + 1000)).status).toBe(400)
    expect((await send('big', 5, T0)).status).toBe(204)
    const stored = async (): Promise<unknown> => await query(p, "SELECT tenant, count(DISTINCT r.id)::INTEGER AS series, count(*)::INTEGER AS samples FROM samples s JOIN series r ON s.series_id = r.id WHERE r.metric = 's' GROUP BY tenant ORDER BY tenant")
    expect(await stored()).toEqual([{ tenant: 'a', series: 3, samples: 6 }, { tenant: 'big', series: 5, samples: 5 }])
    expect(await metric(p, 'prom_ingest_series_refused_total', { reason: 'tenant_max_series' })).toBe(4)

    // After a restart the count comes from the stored series: a is still full.
    await p.stop('SIGTERM')
    running = running.filter(r => r !== p)
    p = await serve(args, env)
    expect((await send('a', 5, T0 + 2000)).status).toBe(400)
    expect((await send('a', 3, T0 + 3000)).status).toBe(204)
    expect(await stored()).toEqual([{ tenant: 'a', series: 3, samples: 12 }, { tenant: 'big', series: 5, samples: 5 }])
  })
})

describe('per-tenant label limits', () => {
  it('applies a tenant\'s own label limits to its new series, the global ones to the others', async () => {
    const p = await serve([], { PROM_INGEST_TENANT_LIMITS: JSON.stringify({ small: { 'max-labels-per-series': 3, 'max-label-value-bytes': 8 } }) })
    const series = (labels: Array<[string, string]>): Uint8Array => compressBody(encodeWriteRequest1({ timeseries: [{ labels: [['__name__', 'l'], ...labels], samples: [{ value: 1, timestamp: T0 }] }] }))
    const four = series([['a', '1'], ['b', '2'], ['c', '3']])
    const longValue = series([['a', 'x'.repeat(9)]])
    const small = await postWrite(p.url, four, { headers: { 'X-Scope-OrgID': 'small' } })
    expect(small.status).toBe(400)
    expect(small.headers['x-prom-ingest-error']).toBe('too_many_labels')
    expect(small.body).toMatch(/4 labels, more than the limit of 3/)
    expect((await postWrite(p.url, longValue, { headers: { 'X-Scope-OrgID': 'small' } })).headers['x-prom-ingest-error']).toBe('label_value_too_long')
    expect((await postWrite(p.url, four, { headers: { 'X-Scope-OrgID': 'other' } })).status).toBe(204)
    expect((await postWrite(p.url, longValue, { headers: { 'X-Scope-OrgID': 'other' } })).status).toBe(204)
  })
})

const hasPrometheus = available(PROMETHEUS)
if (!hasPrometheus) console.warn(`tenant-limits: ${PROMETHEUS} is missing, so the Prometheus catch-up test is skipped`)

/** How long the Prometheus test may wait for each stage (a safety net; it waits on events). */
const STAGE_MS = 60_000

describe('a real Prometheus above its tenant rate', () => {
  it.skipIf(!hasPrometheus)(`Prometheus with retry_on_http_429 is refused with 429 and catches up with nothing lost${hasPrometheus ? '' : ' (skipped: no prometheus binary)'}`, { timeout: 4 * STAGE_MS }, async () => {
    // About 300 samples per scrape of the service's own /metrics, every second, sent in batches of
    // 100: the bucket of 150 refuses the second batch of a scrape, and 600/s is above the average
    // rate, so Prometheus falls behind and catches up.
    const p = await serve(['--tenant-ingestion-rate', '600', '--tenant-ingestion-burst', '150'])
    const dir = mkdtempSync(join(tmpdir(), 'prom-ingest-limits-prometheus-'))
    let prom: { child: ChildProcess, url: string, logs: string[] } | undefined
    try {
      const port = await freePort()
      const config = join(dir, 'prometheus.yml')
      writeFileSync(config, `# Written by test/e2e/tenant-limits.test.ts
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: prom-ingest
    static_configs:
      - targets: ['127.0.0.1:${p.port}']
remote_write:
  - url: ${p.url}/api/v1/write
    queue_config:
      retry_on_http_429: true
      max_samples_per_send: 100
      max_shards: 1
      batch_send_deadline: 1s
      min_backoff: 100ms
      max_backoff: 1s
`)
      expect(spawnSync('promtool', ['check', 'config', config], { encoding: 'utf8' }).status).toBe(0)
      const child = spawn(PROMETHEUS, [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] })
      const logs: string[] = []
      forEachLine([child.stdout!, child.stderr!], line => { logs.push(line) })
      prom = { child, url: `http://127.0.0.1:${port}`, logs }

      // Stage 1: Prometheus is refused for its rate (bounded wait on the counter).
      const until = async (what: string, cond: () => Promise<boolean>): Promise<void> => {
        const end = Date.now() + STAGE_MS
        while (!(await cond())) {
          if (Date.now() > end) throw new Error(`${what} did not happen within ${STAGE_MS} ms\n--- prometheus ---\n${logs.slice(-30).join('\n')}`)
          await sleep(250)
        }
      }
      await until('a 429 to Prometheus', async () => await metric(p, 'prom_ingest_tenant_limit_refused_requests_total', { reason: 'ingestion_rate' }) >= 3)

      // Stage 2: every `up` sample Prometheus has in its own TSDB by now arrives, once.
      const promQuery = async (q: string): Promise<Array<{ metric: Record<string, string>, values?: Array<[number, string]>, value?: [number, string] }>> => {
        const res = await request(`${prom!.url}/api/v1/query?query=${encodeURIComponent(q)}`)
        const j = await res.body.json() as { data: { result: Array<{ metric: Record<string, string>, values?: Array<[number, string]>, value?: [number, string] }> } }
        return j.data.result
      }
      const expected = (await promQuery('up{job="prom-ingest"}[10m]'))[0]?.values?.map(([t]) => Math.round(t * 1000)) ?? []
      expect(expected.length).toBeGreaterThan(2)
      const stored = async (): Promise<number[]> => (await query(p, "SELECT epoch_ms(s.ts)::BIGINT AS ts FROM samples s JOIN series r ON s.series_id = r.id WHERE r.metric = 'up' AND r.tenant = '' ORDER BY s.ts")).map(r => Number(r.ts))
      await until('every up sample of Prometheus stored', async () => { const have = new Set(await stored()); return expected.every(t => have.has(t)) })
      const all = await stored()
      expect(new Set(all).size, 'no sample stored twice').toBe(all.length)

      // Prometheus retried and dropped nothing.
      const promMetrics = parseExposition(await (await request(`${prom.url}/metrics`)).body.text())
      const sum = (name: string): number => promMetrics.filter(m => m.name === name).reduce((s, m) => s + m.value, 0)
      expect(sum('prometheus_remote_storage_samples_retried_total')).toBeGreaterThan(0)
      expect(sum('prometheus_remote_storage_samples_failed_total')).toBe(0)
      expect(sum('prometheus_remote_storage_samples_dropped_total')).toBe(0)
    } finally {
      if (prom !== undefined && prom.child.exitCode === null) {
        const exited = new Promise(resolve => prom!.child.once('exit', resolve))
        prom.child.kill('SIGKILL')
        await exited
      }
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
