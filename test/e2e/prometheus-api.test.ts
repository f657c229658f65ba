/**
 * The metadata API against Prometheus 2.42 on the same series set: a Prometheus scrapes a small
 * exposition every second and remote-writes what it scraped (with metadata) to prom-ingest; then
 * /api/v1/labels, /api/v1/label/<name>/values, /api/v1/series and /api/v1/metadata must answer the same
 * JSON from both (errors too, by status and errorType).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { available, PROMETHEUS, startPrometheusReceiver, type Peer } from '../helpers/peers.js'
import { startServiceProcess, type ServiceProcess } from '../helpers/service-process.js'

const hasPrometheus = available(PROMETHEUS)
if (!hasPrometheus) console.warn(`prometheus-api: ${PROMETHEUS} is missing, the metadata API comparison is skipped (apt-get install prometheus)`)

const EXPOSITION = `# HELP http_requests_total Requests served, by code.
# TYPE http_requests_total counter
http_requests_total{code="200",handler="/api"} 1027
http_requests_total{code="500",handler="/api"} 3
http_requests_total{code="200",handler="/metrics"} 88
# HELP temperature_celsius Room temperature.
# TYPE temperature_celsius gauge
temperature_celsius{room="lab"} 21.5
temperature_celsius{room="hall \\"B\\""} 19
# HELP request_duration_seconds Request latency.
# TYPE request_duration_seconds histogram
request_duration_seconds_bucket{le="0.1"} 10
request_duration_seconds_bucket{le="0.5"} 20
request_duration_seconds_bucket{le="+Inf"} 25
request_duration_seconds_sum 7.5
request_duration_seconds_count 25
# HELP build_info Build information.
# TYPE build_info gauge
build_info{version="1.2.3",revision="abc"} 1
untyped_thing 4
`

const READ = { authorization: 'Bearer r-tok' }

describe.runIf(hasPrometheus)('metadata API: the same JSON as Prometheus 2.42', () => {
  const dirs: string[] = []
  let target: Server
  let ingest: ServiceProcess
  let prom: Peer

  beforeAll(async () => {
    target = createServer((_req, res) => { res.setHeader('Content-Type', 'text/plain; version=0.0.4'); res.end(EXPOSITION) })
    await new Promise<void>(resolve => target.listen(0, '127.0.0.1', resolve))
    const port = (target.address() as { port: number }).port
    const store = mkdtempSync(join(tmpdir(), 'prom-ingest-api-store-'))
    const pdir = mkdtempSync(join(tmpdir(), 'prom-ingest-api-prom-'))
    dirs.push(store, pdir)
    ingest = await startServiceProcess(['--sink', 'duckdb', '--data-dir', store, '--threads', '1', '--auth-bearer-token', 'w-tok', '--auth-read-bearer-token', 'r-tok', '--log-level', 'warn'])
    writeFileSync(join(pdir, 'prometheus.yml'), [
      'global:',
      '  scrape_interval: 1s',
      'scrape_configs:',
      '  - job_name: exp',
      `    static_configs: [{ targets: ['127.0.0.1:${port}'] }]`,
      'remote_write:',
      `  - url: ${ingest.url}/api/v1/write`,
      '    authorization: { credentials: w-tok }',
      '    queue_config: { batch_send_deadline: 100ms }',
      '    metadata_config: { send: true, send_interval: 1s }',
      ''
    ].join('\n'))
    prom = await startPrometheusReceiver(join(pdir, 'tsdb'), join(pdir, 'prometheus.yml'))
  }, 120_000)

  afterAll(async () => {
    await prom?.stop()
    await ingest?.stop()
    await new Promise(resolve => target?.close(resolve))
    for (const d of dirs) rmSync(d, { recursive: true, force: true })
  })

  async function get (base: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number, json: { status: string, data?: unknown, errorType?: string, error?: string } }> {
    const res = await request(base + path, { headers })
    return { status: res.statusCode, json: await res.body.json() as { status: string, data?: unknown } }
  }

  const now = (): number => Math.floor(Date.now() / 1000)

  const SAME = [
    '/api/v1/labels',
    '/api/v1/labels?match[]=up',
    '/api/v1/labels?match[]=http_requests_total{code="500"}&match[]=build_info',
    '/api/v1/label/__name__/values',
    '/api/v1/label/job/values',
    '/api/v1/label/room/values',
    '/api/v1/label/handler/values?match[]={__name__=~"http_.*",code!="500"}',
    '/api/v1/label/nothing_here/values',
    '/api/v1/series?match[]={job="exp"}',
    '/api/v1/series?match[]=http_requests_total&match[]=up',
    '/api/v1/series?match[]={__name__=~"request_duration_seconds_(bucket|sum)",le!~"0\\\\..*"}',
    '/api/v1/series?match[]={room="hall \\"B\\""}',
    '/api/v1/series?match[]=no_such_metric',
    '/api/v1/metadata',
    '/api/v1/metadata?metric=request_duration_seconds',
    '/api/v1/metadata?metric=nope'
  ]

  it('labels, label values, series and metadata', async () => {
    // Prometheus sends what it scraped within a second or two; wait (bounded) until prom-ingest holds
    // the series and the metadata Prometheus holds, then compare everything.
    const deadline = Date.now() + 60_000
    for (;;) {
      const [p, i] = await Promise.all([get(prom.url, '/api/v1/series?match[]={job="exp"}'), get(ingest.url, '/api/v1/series?match[]={job="exp"}', READ)])
      const [pm, im] = await Promise.all([get(prom.url, '/api/v1/metadata'), get(ingest.url, '/api/v1/metadata', READ)])
      if (JSON.stringify(p.json) === JSON.stringify(i.json) && JSON.stringify(pm.json) === JSON.stringify(im.json) && Object.keys(pm.json.data as object).length > 0) break
      if (Date.now() > deadline) break // the comparisons below say what differs
      await sleep(500)
    }
    // Prometheus holds the target's 13 series and its own 5 per scrape target (up, scrape_*): not nothing.
    expect(((await get(prom.url, '/api/v1/series?match[]={job="exp"}')).json.data as unknown[]).length).toBeGreaterThanOrEqual(13)
    for (const path of SAME) {
      const p = await get(prom.url, path)
      const i = await get(ingest.url, path, READ)
      expect(i.status, path).toBe(p.status)
      expect(i.json, path).toEqual(p.json)
    }
    // With a time range around now (Prometheus: every series of its head; here: samples in range).
    const ranged = `?match[]=up&start=${now() - 3600}&end=${now() + 60}`
    expect((await get(ingest.url, '/api/v1/series' + ranged, READ)).json).toEqual((await get(prom.url, '/api/v1/series' + ranged)).json)
    // POST with a form, as Grafana sends it.
    const form = await request(`${ingest.url}/api/v1/labels`, { method: 'POST', headers: { ...READ, 'content-type': 'application/x-www-form-urlencoded' }, body: 'match[]=build_info' })
    const formP = await request(`${prom.url}/api/v1/labels`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'match[]=build_info' })
    expect(await form.body.json()).toEqual(await formP.body.json())
    // limit: as many families (which ones is Prometheus' map order).
    const limited = await get(ingest.url, '/api/v1/metadata?limit=2', READ)
    expect(Object.keys(limited.json.data as object).length).toBe(Object.keys((await get(prom.url, '/api/v1/metadata?limit=2')).json.data as object).length)
  }, 120_000)

  it('errors: the same status and errorType', async () => {
    for (const path of ['/api/v1/series', '/api/v1/series?match[]={job=~"("}', '/api/v1/series?match[]={job=~".*"}', '/api/v1/labels?start=yesterday', '/api/v1/metadata?limit=x', '/api/v1/series?match[]=up&start=10&end=5', '/api/v1/label/a-b/values']) {
      const p = await get(prom.url, path)
      const i = await get(ingest.url, path, READ)
      expect([i.status, i.json.status, i.json.errorType], path).toEqual([p.status, p.json.status, p.json.errorType])
    }
    expect((await get(ingest.url, '/api/v1/series', READ)).json.error).toBe('no match[] parameter provided')
  })

  it('takes the read credential: the write token is 403, none 401', async () => {
    expect((await request(`${ingest.url}/api/v1/labels`, { headers: { authorization: 'Bearer w-tok' } })).statusCode).toBe(403)
    expect((await request(`${ingest.url}/api/v1/labels`)).statusCode).toBe(401)
  })
})
