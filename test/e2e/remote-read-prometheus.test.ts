/**
 * Remote read against a real Prometheus 2.42: the same bodies go to prom-ingest and straight into a
 * Prometheus with its remote-write receiver (A); a second Prometheus (B) holds nothing and reads
 * prom-ingest through `remote_read` (read_recent: true, the write token). The same PromQL, instant and
 * range, must give the same JSON from A and from B: rate(), sum by, histogram_quantile over classic
 * buckets, a regex matcher, an absent label, and a series ended by a stale marker.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readData, readDataBodies, STALE_AT_STEP } from '../helpers/read-data.js'
import { available, PROMETHEUS, startPrometheusReceiver, type Peer } from '../helpers/peers.js'
import { postWrite } from '../helpers/remote-write.js'
import { remoteRead } from '../helpers/remote-read.js'
import { startServiceProcess, type ServiceProcess } from '../helpers/service-process.js'

const hasPrometheus = available(PROMETHEUS)
if (!hasPrometheus) console.warn(`remote-read-prometheus: ${PROMETHEUS} is missing, the remote-read tests against Prometheus are skipped (apt-get install prometheus)`)

const STEP = 15_000
const STEPS = 100 // 25 minutes
const TOKEN = 'w-tok'

describe.runIf(hasPrometheus)('remote read through Prometheus 2.42', () => {
  const dirs: string[] = []
  let ingest: ServiceProcess
  let a: Peer
  let b: Peer
  // The data ends a minute ago: recent enough for Prometheus' head and for read_recent.
  const t0 = Math.floor(Date.now() / STEP) * STEP - (STEPS + 4) * STEP
  const data = readData(t0, STEPS, STEP)
  const tEnd = t0 + (STEPS - 1) * STEP

  const temp = (name: string): string => {
    const d = mkdtempSync(join(tmpdir(), `prom-ingest-rr-${name}-`))
    dirs.push(d)
    return d
  }

  beforeAll(async () => {
    ingest = await startServiceProcess(['--sink', 'duckdb', '--data-dir', temp('store'), '--threads', '1', '--auth-bearer-token', TOKEN, '--log-level', 'warn'])
    const aDir = temp('a')
    writeFileSync(join(aDir, 'prometheus.yml'), 'global:\n  scrape_interval: 1h\n')
    a = await startPrometheusReceiver(join(aDir, 'tsdb'), join(aDir, 'prometheus.yml'))
    const bDir = temp('b')
    writeFileSync(join(bDir, 'prometheus.yml'), [
      'global:',
      '  scrape_interval: 1h',
      'remote_read:',
      `  - url: ${ingest.url}/api/v1/read`,
      '    read_recent: true',
      '    authorization:',
      `      credentials: ${TOKEN}`,
      ''
    ].join('\n'))
    b = await startPrometheusReceiver(join(bDir, 'tsdb'), join(bDir, 'prometheus.yml'))
    for (const body of readDataBodies(data)) {
      expect((await postWrite(ingest.url, body, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(204)
      expect((await postWrite(a.url, body)).status).toBe(204)
    }
  }, 120_000)

  afterAll(async () => {
    await b?.stop()
    await a?.stop()
    await ingest?.stop()
    for (const d of dirs) rmSync(d, { recursive: true, force: true })
  })

  interface Result { metric: Record<string, string>, value?: [number, string], values?: Array<[number, string]> }

  async function promql (peer: Peer, path: 'query' | 'query_range', params: Record<string, string>): Promise<Result[]> {
    const res = await request(`${peer.url}/api/v1/${path}?${new URLSearchParams(params).toString()}`)
    const j = await res.body.json() as { status: string, data: { resultType: string, result: Result[] }, error?: string, warnings?: string[] }
    if (res.statusCode !== 200 || j.status !== 'success') throw new Error(`${peer.url} ${path} ${JSON.stringify(params)}: ${res.statusCode} ${j.error ?? ''}`)
    expect(j.warnings ?? []).toEqual([]) // a failed remote read shows here, not as an error
    return j.data.result.sort((x, y) => JSON.stringify(x.metric) < JSON.stringify(y.metric) ? -1 : 1)
  }

  const QUERIES = [
    'rate(http_requests_total[5m])',
    'sum by (code) (rate(http_requests_total[5m]))',
    'histogram_quantile(0.9, sum by (le) (rate(request_duration_seconds_bucket[5m])))',
    'histogram_quantile(0.5, rate(request_duration_seconds_bucket{instance="b:9100"}[2m]))',
    'temperature_celsius{instance=~"a.*|b:9100", room!~"x+"}',
    'batch_last_success_timestamp_seconds',
    '{job="api", instance=""}',
    'count by (__name__) ({job=~"api|batch"})',
    'rate(request_duration_seconds_sum[5m]) / rate(request_duration_seconds_count[5m])'
  ]

  const staleAt = t0 + STALE_AT_STEP * STEP
  const times = [tEnd, staleAt - STEP + 1000, staleAt + 1000, t0 + 10 * STEP]

  it('instant queries: the same answers, at times around the stale marker too', async () => {
    let nonEmpty = 0
    for (const query of QUERIES) {
      for (const t of times) {
        const params = { query, time: String(t / 1000) }
        const fromA = await promql(a, 'query', params)
        const fromB = await promql(b, 'query', params)
        expect(fromB, `${query} @ ${t}`).toEqual(fromA)
        if (fromA.length > 0) nonEmpty++
      }
    }
    expect(nonEmpty).toBeGreaterThan(QUERIES.length * 2) // the comparison compared data, not nothing
    // The stale marker ended the batch series: present before it, gone after it, in both.
    expect((await promql(b, 'query', { query: 'batch_last_success_timestamp_seconds', time: String((staleAt - STEP + 1000) / 1000) })).length).toBe(1)
    expect(await promql(b, 'query', { query: 'batch_last_success_timestamp_seconds', time: String((staleAt + 1000) / 1000) })).toEqual([])
  }, 120_000)

  it('range queries: the same answers', async () => {
    for (const query of QUERIES) {
      const params = { query, start: String((t0 + 5 * 60_000) / 1000), end: String(tEnd / 1000), step: '30' }
      const fromA = await promql(a, 'query_range', params)
      const fromB = await promql(b, 'query_range', params)
      expect(fromB, query).toEqual(fromA)
      expect(fromA.length, query).toBeGreaterThan(0)
    }
  }, 120_000)

  it('Prometheus 2.42 asks for SAMPLES; SAMPLES and streamed chunks read the same from our own client', async () => {
    const metrics = await (await request(`${ingest.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).body.text()
    const used = [...metrics.matchAll(/^prom_ingest_read_requests_total\{response_type="(\w+)"\} (\d+)/gm)].filter(m => Number(m[2]) > 0).map(m => m[1])
    // Prometheus 2.42's remote-read client sends accepted_response_types [SAMPLES] only (measured here:
    // its reads all came as samples); the streamed answer is checked with our own client below.
    expect(used).toEqual(['samples'])
    const q = [{ startMs: t0, endMs: tEnd, matchers: [['=~', '__name__', '.+'] as const] }]
    const samples = await remoteRead(ingest.url, q, [0], { authorization: `Bearer ${TOKEN}` })
    const streamed = await remoteRead(ingest.url, q, [1], { authorization: `Bearer ${TOKEN}` })
    expect(samples.status).toBe(200)
    expect(streamed.results).toEqual(samples.results)
    expect(samples.results[0]!.length).toBe(data.series.length)
  }, 60_000)
})
