/**
 * The status routes against the service run in-process on a loopback port: auth as /metrics (with
 * the Basic challenge a browser answers), the security headers, the page's files holding no inline
 * script and no HTML sink, the cardinality answer equal to what was sent, bad parameters refused,
 * the last rejected write requests, and the ingest readings.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import { afterEach, describe, expect, it } from 'vitest'
import type { Service } from '../../src/main.js'
import { compressBody, encodeWriteRequest1 } from '../fixtures/encode.js'
import { postWrite } from '../helpers/remote-write.js'
import { startInProcess } from '../helpers/service-in-process.js'
import { asTimeSeries, figuresOf, HOSTILE_IMG, statusSeries, topList } from '../helpers/status-series.js'

let services: Service[] = []
let dirs: string[] = []
afterEach(async () => {
  await Promise.all(services.map(s => s.close(5000)))
  services = []
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
  dirs = []
})

function tempDir (): string {
  const d = mkdtempSync(join(tmpdir(), 'prom-ingest-status-'))
  dirs.push(d)
  return d
}

const BASIC = 'Basic ' + Buffer.from('admin:s3cret').toString('base64')

async function start (flags: string[] = []): Promise<Service> {
  const s = await startInProcess(['--auth-basic-user', 'admin', '--auth-basic-password', 's3cret', ...flags])
  services.push(s)
  return s
}

async function get (url: string, headers: Record<string, string> = { authorization: BASIC }): Promise<{ status: number, headers: Record<string, string | string[] | undefined>, text: string }> {
  const res = await request(url, { headers })
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() }
}

describe('status routes', () => {
  it('take the credentials of /metrics, and challenge a browser for basic auth', async () => {
    const s = await start()
    for (const path of ['/', '/ui/app.js', '/api/v1/status/ingest', '/api/v1/status/tsdb', '/api/v1/status/pipeline', '/api/v1/status/rejected']) {
      const anon = await get(s.url + path, {})
      expect(anon.status, path).toBe(401)
      expect(String(anon.headers['www-authenticate']), path).toMatch(/^Basic realm="prom-ingest"/)
      expect((await get(s.url + path)).status, path).toBe(200)
    }
  })

  it('serve the page with a CSP that allows script and style only from the page\'s origin', async () => {
    const s = await start()
    const page = await get(s.url + '/')
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8')
    const csp = String(page.headers['content-security-policy'])
    expect(csp).toContain("default-src 'none'")
    expect(csp).toContain("script-src 'self'")
    expect(csp).not.toContain('unsafe-inline')
    expect(page.headers['x-content-type-options']).toBe('nosniff')
    // No inline script, no inline handler, nothing from elsewhere.
    expect(page.text).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/)
    expect(page.text).not.toMatch(/\son[a-z]+\s*=/i)
    expect(page.text).not.toMatch(/(src|href)="(https?:)?\/\//)
    const script = await get(s.url + '/ui/app.js')
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8')
    expect((await get(s.url + '/ui/app.css')).headers['content-type']).toBe('text/css; charset=utf-8')
    // The script never hands text to an HTML parser.
    expect(script.text).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/)
    expect(script.text).toBe(readFileSync(new URL('../../src/ui/app.js', import.meta.url), 'utf8'))
  })

  it('answer /api/v1/status/tsdb with what was sent, in Prometheus\' format, per tenant', async () => {
    const s = await start()
    const sets = statusSeries()
    const now = Date.now()
    const half = Math.floor(sets.length / 2)
    expect((await postWrite(s.url, compressBody(encodeWriteRequest1({ timeseries: asTimeSeries(sets.slice(0, half), now) })), { headers: { authorization: BASIC, 'x-scope-orgid': 'team-a' } })).status).toBe(204)
    expect((await postWrite(s.url, compressBody(encodeWriteRequest1({ timeseries: asTimeSeries(sets.slice(half), now) })), { headers: { authorization: BASIC } })).status).toBe(204)
    const answer = JSON.parse((await get(s.url + '/api/v1/status/tsdb?topN=5&focusLabel=job')).text) as { status: string, data: Record<string, unknown> & { headStats: Record<string, number> } }
    expect(answer.status).toBe('success')
    const want = figuresOf(sets)
    expect(answer.data.headStats.numSeries).toBe(78)
    expect(answer.data.headStats.numLabelPairs).toBe(want.numLabelPairs)
    expect(answer.data.seriesCountByMetricName).toEqual(topList(want.seriesCountByMetricName, 5))
    expect(answer.data.labelValueCountByLabelName).toEqual(topList(want.labelValueCountByLabelName, 5))
    expect(answer.data.memoryInBytesByLabelName).toEqual(topList(want.memoryInBytesByLabelName, 5))
    expect(answer.data.seriesCountByLabelValuePair).toEqual(topList(want.seriesCountByLabelValuePair, 5))
    expect(answer.data.seriesCountByFocusLabelValue).toEqual([{ name: 'job0', value: 26 }, { name: 'job1', value: 26 }, { name: 'job2', value: 26 }])
    expect(answer.data.seriesCountByTenant).toEqual([{ name: '', value: sets.length - half }, { name: 'team-a', value: half }])

    const teamA = JSON.parse((await get(s.url + '/api/v1/status/tsdb?tenant=team-a&topN=1000')).text) as { data: { headStats: Record<string, number>, seriesCountByLabelValuePair: unknown } }
    expect(teamA.data.headStats.numSeries).toBe(half)
    expect(teamA.data.seriesCountByLabelValuePair).toEqual(topList(figuresOf(sets.slice(0, half)).seriesCountByLabelValuePair, 1000))
    const matched = JSON.parse((await get(s.url + '/api/v1/status/tsdb?' + new URLSearchParams([['match[]', `{note="${HOSTILE_IMG.replace(/"/g, '\\"')}"}`]]).toString())).text) as { data: { headStats: Record<string, number> } }
    expect(matched.data.headStats.numSeries).toBe(1)
  })

  it('refuse bad parameters with 400 status_parameter_invalid naming the parameter', async () => {
    const s = await start()
    for (const [query, names] of [['topN=0', 'topN'], ['topN=abc', 'topN'], ['date=2026-13-01', 'date'], ['match[]=' + encodeURIComponent('{job=~"("}'), 'regex'], ['match[]=' + encodeURIComponent('{job=""}'), 'empty value'], ['match[]=' + encodeURIComponent('up{'), 'selector']] as const) {
      const res = await get(`${s.url}/api/v1/status/tsdb?${query}`)
      expect(res.status, query).toBe(400)
      expect(res.headers['x-prom-ingest-error'], query).toBe('status_parameter_invalid')
      expect(res.text, query).toContain(names)
    }
  })

  it('keep the last 50 rejected write requests with time, tenant, code and message', async () => {
    const s = await start()
    let code = ''
    for (let i = 0; i < 55; i++) {
      // Not a snappy block: 400 whatever the byte.
      const res = await postWrite(s.url, new Uint8Array([0x04, 0xff, i]), { headers: { authorization: BASIC, 'x-scope-orgid': `tenant-${i}` } })
      expect(res.status).toBe(400)
      code = res.headers['x-prom-ingest-error']!
    }
    // A request without credentials is a rejected write too; a refused status page request is not.
    expect((await postWrite(s.url, new Uint8Array([1]), { headers: { 'x-scope-orgid': 'anon' } })).status).toBe(401)
    expect((await get(s.url + '/api/v1/status/rejected', {})).status).toBe(401)
    const list = JSON.parse((await get(s.url + '/api/v1/status/rejected')).text) as { data: { total: number, requests: Array<{ time: number, tenant: string, status: number, code: string, message: string }> } }
    expect(list.data.total).toBe(56)
    expect(list.data.requests).toHaveLength(50)
    expect(list.data.requests[0]).toMatchObject({ tenant: 'anon', status: 401, code: 'unauthorized' })
    expect(list.data.requests[1]).toMatchObject({ tenant: 'tenant-54', status: 400, code })
    expect(list.data.requests[1]!.message.length).toBeGreaterThan(0)
    expect(list.data.requests[49]!.tenant).toBe('tenant-6')
  })

  it('read ingest figures every interval: samples/s, write requests/s by code, bytes/s', async () => {
    // Depends on time by design: readings are taken every second; the test waits for them.
    const s = await start()
    const sets = statusSeries()
    const reading = (): Promise<void> => new Promise(resolve => { const off = s.status.history.onReading(() => { off(); resolve() }) })
    await reading()
    expect((await postWrite(s.url, compressBody(encodeWriteRequest1({ timeseries: asTimeSeries(sets, Date.now()) })), { headers: { authorization: BASIC } })).status).toBe(204)
    expect((await postWrite(s.url, new Uint8Array([0xff]), { headers: { authorization: BASIC } })).status).toBe(400)
    // Rates times their intervals give back the counts: 78 samples, one 204 and one 400 (a reading
    // taken while the writes were answered may miss them: the next one has them; at most 10 readings).
    type Ingest = { data: { intervalSeconds: number, from: number, times: number[], samplesPerSecond: number[], bytesPerSecond: number[], requestsPerSecond: Record<string, number[]> } }
    const total = (d: Ingest['data'], rates: number[]): number => rates.reduce((sum, r, i) => sum + r * (d.times[i]! - (i === 0 ? d.from : d.times[i - 1]!)) / 1000, 0)
    let d: Ingest['data'] | undefined
    for (let i = 0; i < 10; i++) {
      await reading()
      d = (JSON.parse((await get(s.url + '/api/v1/status/ingest')).text) as Ingest).data
      if (Math.round(total(d, d.samplesPerSecond)) === 78 && Math.round(total(d, d.requestsPerSecond['400'] ?? [])) === 1) break
    }
    expect(d!.intervalSeconds).toBe(1)
    expect(Math.round(total(d!, d!.samplesPerSecond))).toBe(78)
    expect(Object.keys(d!.requestsPerSecond).sort()).toEqual(['204', '400'])
    expect(Math.round(total(d!, d!.requestsPerSecond['204']!))).toBe(1)
    expect(Math.round(total(d!, d!.requestsPerSecond['400']!))).toBe(1)
    expect(total(d!, d!.bytesPerSecond)).toBeGreaterThan(0)
    const pipeline = JSON.parse((await get(s.url + '/api/v1/status/pipeline')).text) as { data: { slots: { total: number }, sinks: Array<{ name: string, ready: boolean }>, series: { known: number } } }
    expect(pipeline.data.sinks).toEqual([{ name: 'discard', ready: true }])
    expect(pipeline.data.series.known).toBe(78)
    expect(pipeline.data.slots.total).toBeGreaterThan(0)
  })

  it('show each sink with its health, DuckDB\'s commit latency, and each forward queue with its destination', async () => {
    // Depends on time by design: the latency figures come from the per-second readings; the test
    // waits for readings (at most 10) until the commit shows.
    const dir = tempDir()
    // A destination that is not listening: what was acknowledged stays in its queue.
    const s = await start(['--sink', 'duckdb,forward', '--data-dir', dir, '--forward-url', 'http://127.0.0.1:9/api/v1/write'])
    expect((await postWrite(s.url, compressBody(encodeWriteRequest1({ timeseries: asTimeSeries(statusSeries(), Date.now()) })), { headers: { authorization: BASIC } })).status).toBe(204)
    type Pipeline = { data: { sinks: Array<{ name: string, ready: boolean }>, writes: { sink: string, count: number, latencySeconds: number | null } | null, commit: { commits: number, latencySeconds: number | null } | null, forwardQueues: Array<{ destination: string, records: number, bytes: number, oldestAgeSeconds: number }> } }
    let p: Pipeline['data'] | undefined
    for (let i = 0; i < 10; i++) {
      await new Promise<void>(resolve => { const off = s.status.history.onReading(() => { off(); resolve() }) })
      p = (JSON.parse((await get(s.url + '/api/v1/status/pipeline')).text) as Pipeline).data
      if ((p.commit?.commits ?? 0) > 0 && (p.writes?.count ?? 0) > 0) break
    }
    expect(p!.sinks.map(k => k.name).sort()).toEqual(['duckdb', 'forward'])
    for (const k of p!.sinks) expect(k.ready, k.name).toBe(true)
    expect(p!.writes).toMatchObject({ sink: 'duckdb+forward', count: 1 })
    expect(p!.writes!.latencySeconds).toBeGreaterThanOrEqual(0)
    expect(p!.commit!.commits).toBe(1)
    expect(p!.commit!.latencySeconds).toBeGreaterThanOrEqual(0)
    expect(p!.forwardQueues).toHaveLength(1)
    expect(p!.forwardQueues[0]!.destination).toContain('127.0.0.1')
    expect(p!.forwardQueues[0]!.records).toBe(1)
    expect(p!.forwardQueues[0]!.bytes).toBeGreaterThan(0)
  })
})
