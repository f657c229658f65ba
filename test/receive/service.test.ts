/**
 * The receiver against a real HTTP server on a loopback port (the service started in-process), with
 * undici as the client: both protocol versions end to end, every answer code, auth, the tenant
 * header, backpressure, a worker killed mid-request, /metrics and health.
 */
import { spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { request } from 'undici'
import { afterEach, describe, expect, it } from 'vitest'
import { compressBody, encodeRequest2, encodeWriteRequest1 } from '../fixtures/encode.js'
import { nodeExporterBody } from '../fixtures/node-exporter-body.js'
import { parseExposition } from '../helpers/exposition.js'
import { postWrite, snappyCompress } from '../helpers/remote-write.js'
import { startInProcess } from '../helpers/service-in-process.js'
import { watchSlots } from '../helpers/slot-watch.js'
import { FailingSink, GatedSink, RecordingSink } from '../helpers/test-sinks.js'
import type { Service } from '../../src/main.js'
import type { DiscardSink } from '../../src/sinks/discard-sink.js'
import type { Sink } from '../../src/sinks/sink.js'
import { FIRST_BODY_BYTES } from '../../src/receive/write-route.js'
import { body1, body2, histogram, series1, T0 } from './bodies.js'

let services: Service[] = []
afterEach(async () => {
  await Promise.all(services.map(s => s.close(5000)))
  services = []
})

async function start (flags: string[] = [], sink?: Sink): Promise<Service> {
  const s = await startInProcess(flags, sink === undefined ? {} : { sink })
  services.push(s)
  return s
}

function discard (s: Service): DiscardSink {
  return s.sink as DiscardSink
}

async function metricsOf (s: Service, headers: Record<string, string> = {}): Promise<string> {
  const res = await request(`${s.url}/metrics`, { headers })
  expect(res.statusCode).toBe(200)
  return res.body.text()
}

function metricValue (text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0
  for (const m of parseExposition(text)) {
    if (m.name !== name) continue
    if (Object.entries(labels).every(([k, v]) => m.labels[k] === v)) sum += m.value
  }
  return sum
}

/** A request whose body the test streams itself (chunked: no Content-Length). */
function streamingWrite (url: string, headers: Record<string, string> = {}): { body: PassThrough, answer: Promise<{ status: number, headers: Record<string, string | string[] | undefined>, text: string }> } {
  const body = new PassThrough()
  const answer = request(`${url}/api/v1/write`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy', ...headers }
  }).then(async res => ({ status: res.statusCode, headers: res.headers, text: await res.body.text() }))
  return { body, answer }
}

describe('remote write end to end', () => {
  it('stores a Remote Write 1.0 body and answers 204 without the 2.0 headers', async () => {
    const s = await start()
    const res = await postWrite(s.url, body1(500, 2))
    expect(res.status).toBe(204)
    expect(res.body).toBe('')
    expect(res.headers['x-prometheus-remote-write-samples-written']).toBeUndefined()
    expect(res.headers['x-prometheus-remote-write-histograms-written']).toBeUndefined()
    expect(res.headers['x-prometheus-remote-write-exemplars-written']).toBeUndefined()
    expect(discard(s).counts).toMatchObject({ batches: 1, series: 500, samples: 1000 })
  })

  it('stores the generated 10,000-series body', async () => {
    const s = await start()
    const { body, description } = nodeExporterBody()
    const res = await postWrite(s.url, snappyCompress(body))
    expect(res.status).toBe(204)
    expect(discard(s).counts.samples).toBe(description.samples)
    expect(s.pool.index.size).toBe(description.series)
  })

  it('stores a Remote Write 2.0 body and says exactly what it wrote', async () => {
    const s = await start()
    const res = await postWrite(s.url, body2(30, 4), { version: '2.0' })
    expect(res.status).toBe(204)
    expect(res.headers['x-prometheus-remote-write-samples-written']).toBe('60')
    expect(res.headers['x-prometheus-remote-write-histograms-written']).toBe('4')
    expect(res.headers['x-prometheus-remote-write-exemplars-written']).toBe('30')
    expect(discard(s).counts).toMatchObject({ batches: 1, series: 34, samples: 60, histograms: 4, exemplars: 30, metadata: 30 })
  })

  it('takes a body without Content-Length (chunked) that outgrows a normal slot, in a large slot', async () => {
    const s = await start(['--slot-bytes', '16KiB', '--max-body-bytes', '1MiB'])
    const body = body1(3000, 1)
    expect(body.length).toBeGreaterThan(16 * 1024)
    const w = streamingWrite(s.url)
    for (let at = 0; at < body.length; at += 4096) w.body.write(body.subarray(at, at + 4096))
    w.body.end()
    expect((await w.answer).status).toBe(204)
    expect(discard(s).counts.samples).toBe(3000)
    expect(s.pool.stats().slotsInUse).toBe(0)
  })

  it('needs no Content-Type or Content-Encoding for 1.0 and accepts the explicit 1.0 proto', async () => {
    const s = await start()
    expect((await postWrite(s.url, body1(3), { headers: { 'content-type': undefined, 'content-encoding': undefined } })).status).toBe(204)
    expect((await postWrite(s.url, body1(3), { headers: { 'content-type': 'application/x-protobuf;proto=prometheus.WriteRequest' } })).status).toBe(204)
    expect(discard(s).counts.samples).toBe(6)
  })
})

describe('answers', () => {
  it('400 for a body that is not snappy, with a one-line reason, 2.0 headers at zero, nothing stored', async () => {
    const s = await start()
    const v1 = await postWrite(s.url, new TextEncoder().encode('this is not snappy at all'))
    expect(v1.status).toBe(400)
    expect(v1.body.trim().split('\n')).toHaveLength(1)
    expect(v1.body).toMatch(/snappy/)
    expect(v1.headers['content-type']).toMatch(/^text\/plain/)
    expect(v1.headers['retry-after']).toBeUndefined()
    const v2 = await postWrite(s.url, new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), { version: '2.0' })
    expect(v2.status).toBe(400)
    expect(v2.headers['x-prometheus-remote-write-samples-written']).toBe('0')
    expect(v2.headers['x-prometheus-remote-write-histograms-written']).toBe('0')
    expect(v2.headers['x-prometheus-remote-write-exemplars-written']).toBe('0')
    expect(discard(s).counts.batches).toBe(0)
  })

  it('400 for a snappy body that is not protobuf', async () => {
    const s = await start()
    const res = await postWrite(s.url, compressBody(new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f])))
    expect(res.status).toBe(400)
    expect(res.body).toMatch(/protobuf/)
  })

  it('400 naming the first invalid series; the valid ones are written and counted', async () => {
    const s = await start()
    const good = series1(3, 1)
    const body = compressBody(encodeWriteRequest1({
      timeseries: [good[0]!, { labels: [['__name__', 'duplicate_metric'], ['job', 'x'], ['job', 'y']], samples: [{ value: 1, timestamp: T0 }] }, good[1]!, good[2]!]
    }))
    const res = await postWrite(s.url, body)
    expect(res.status).toBe(400)
    expect(res.body).toContain('duplicate_metric')
    expect(res.body).toMatch(/1 of 4 series/)
    expect(discard(s).counts).toMatchObject({ series: 3, samples: 3 })

    const v2 = compressBody(encodeRequest2({
      timeseries: [
        { labels: [['__name__', 'ok_metric']], samples: [{ value: 1, timestamp: T0 }] },
        { labels: [['__name__', 'both_kinds']], samples: [{ value: 1, timestamp: T0 }], histograms: [histogram(T0)] }
      ]
    }))
    const res2 = await postWrite(s.url, v2, { version: '2.0' })
    expect(res2.status).toBe(400)
    expect(res2.body).toContain('both_kinds')
    expect(res2.headers['x-prometheus-remote-write-samples-written']).toBe('1')
    expect(res2.headers['x-prometheus-remote-write-histograms-written']).toBe('0')
    expect(discard(s).counts.samples).toBe(4)
  })

  it('415 for another Content-Type, another proto or another Content-Encoding', async () => {
    const s = await start()
    for (const headers of [
      { 'content-type': 'application/json' },
      { 'content-type': 'image/png' },
      { 'content-type': 'application/x-protobuf;proto=io.prometheus.write.v99.Request' },
      { 'content-encoding': 'gzip' },
      { 'content-encoding': 'deflate' }
    ]) {
      const res = await postWrite(s.url, body1(2), { headers })
      expect(res.status, JSON.stringify(headers)).toBe(415)
      expect(res.body).toMatch(/unsupported/)
    }
    expect(discard(s).counts.batches).toBe(0)
  })

  it('413 for a declared body over the limit, before reading it', async () => {
    const s = await start(['--max-body-bytes', '64KiB', '--slot-bytes', '16KiB'])
    const res = await postWrite(s.url, new Uint8Array(200 * 1024))
    expect(res.status).toBe(413)
    expect(res.headers.connection).toBe('close')
    expect(res.body).toMatch(/more than the limit of 65536/)
  })

  it('413 for a chunked body found over the limit while streaming; the connection is closed, the service goes on', async () => {
    const s = await start(['--max-body-bytes', '64KiB', '--slot-bytes', '16KiB'])
    const w = streamingWrite(s.url)
    const chunk = new Uint8Array(8192)
    let sent = 0
    // Keep sending until the server has answered; it must answer long before this loop ends.
    let answered = false
    void w.answer.then(() => { answered = true }, () => { answered = true })
    while (!answered && sent < 8 * 1024 * 1024) {
      // When the stream is full, wait for it to drain or for the answer, whichever comes first.
      if (!w.body.write(chunk)) await Promise.race([once(w.body, 'drain'), w.answer.catch(() => {})])
      sent += chunk.length
      await new Promise(resolve => setImmediate(resolve))
    }
    w.body.destroy()
    const ans = await w.answer
    expect(ans.status).toBe(413)
    expect(ans.text).toMatch(/found while reading/)
    expect(sent).toBeLessThan(8 * 1024 * 1024)
    expect(s.pool.stats().slotsInUse).toBe(0)
    expect((await postWrite(s.url, body1(5))).status).toBe(204)
  })

  it('Expect: 100-continue gets 100 only when the body will be read', async () => {
    const s = await start()
    const exchange = (contentType: string, body: Uint8Array): Promise<string> => new Promise((resolve, reject) => {
      const sock = connect(s.port, '127.0.0.1', () => {
        sock.write(`POST /api/v1/write HTTP/1.1\r\nHost: x\r\nContent-Type: ${contentType}\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`)
      })
      let text = ''
      sock.on('data', d => {
        text += d.toString('latin1')
        if (text.startsWith('HTTP/1.1 100')) { sock.write(body); text = text.replace(/^HTTP\/1.1 100 Continue\r\n\r\n/, '[100]') }
      })
      sock.on('error', reject)
      sock.on('close', () => resolve(text))
    })
    const refused = await exchange('application/json', body1(5))
    expect(refused).toMatch(/^HTTP\/1.1 415/)
    const accepted = await exchange('application/x-protobuf', body1(5))
    expect(accepted).toMatch(/^\[100\]HTTP\/1.1 204/)
    expect(discard(s).counts.samples).toBe(5)
  })

  it('404 for another path, 405 for another method', async () => {
    const s = await start()
    const missing = await request(`${s.url}/api/v2/write`, { method: 'POST', body: 'x' })
    expect(missing.statusCode).toBe(404)
    await missing.body.text()
    const get = await request(`${s.url}/api/v1/write`)
    expect(get.statusCode).toBe(405)
    expect(get.headers.allow).toBe('POST')
    await get.body.text()
  })

  it('5xx (retryable) when the sink fails, nothing acknowledged or counted', async () => {
    for (const plain of [false, true]) {
      const sink = new FailingSink(plain)
      const s = await start([], sink)
      const res = await postWrite(s.url, body2(3, 1), { version: '2.0' })
      expect(res.status).toBe(503)
      expect(res.headers['retry-after']).toBe('1')
      expect(res.headers['x-prometheus-remote-write-samples-written']).toBe('0')
      expect(res.headers['x-prometheus-remote-write-histograms-written']).toBe('0')
      expect(sink.attempts).toBe(1)
      const text = await metricsOf(s)
      expect(metricValue(text, 'prom_ingest_received_samples_total')).toBe(0)
      expect(metricValue(text, 'prom_ingest_sink_write_failures_total', { sink: 'failing' })).toBe(1)
      expect(metricValue(text, 'prom_ingest_rejected_requests_total', { reason: 'sink_failed' })).toBe(1)
    }
  })

  it('a body shorter than its Content-Length harms only its own request', async () => {
    const s = await start()
    const reply = await new Promise<string>((resolve, reject) => {
      let text = ''
      const sock = connect(s.port, '127.0.0.1', () => {
        sock.write('POST /api/v1/write HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Length: 1000\r\n\r\n')
        sock.end(Buffer.alloc(10))
      })
      sock.on('error', reject)
      sock.on('data', d => { text += d.toString() })
      sock.on('close', () => resolve(text))
    })
    // The answer came before the connection closed: the request is over, and took no slot with it
    // (a body shorter than FIRST_BODY_BYTES ends before it would get one).
    expect(reply).toMatch(/^HTTP\/1.1 400/)
    expect(s.pool.stats().slotsInUse).toBe(0)
    const text = await metricsOf(s)
    expect(metricValue(text, 'prom_ingest_rejected_requests_total', { reason: 'body_incomplete' })).toBe(1)
    expect((await postWrite(s.url, body1(2))).status).toBe(204)
  })
})

describe('auth', () => {
  it('bearer token: 401 with WWW-Authenticate without it, 204 with it; health needs none, /metrics needs it', async () => {
    const s = await start(['--auth-bearer-token', 'tok-123'])
    const none = await postWrite(s.url, body1(1))
    expect(none.status).toBe(401)
    expect(none.headers['www-authenticate']).toMatch(/^Bearer/)
    expect((await postWrite(s.url, body1(1), { headers: { authorization: 'Bearer wrong' } })).status).toBe(401)
    expect((await postWrite(s.url, body1(1), { headers: { authorization: 'Bearer tok-123' } })).status).toBe(204)
    expect((await postWrite(s.url, body1(1), { headers: { authorization: 'bearer tok-123' } })).status).toBe(204)
    for (const path of ['/healthz', '/readyz']) {
      const res = await request(`${s.url}${path}`)
      expect(res.statusCode).toBe(200)
      await res.body.text()
    }
    const m = await request(`${s.url}/metrics`)
    expect(m.statusCode).toBe(401)
    await m.body.text()
    await metricsOf(s, { authorization: 'Bearer tok-123' })
    expect(discard(s).counts.samples).toBe(2)
  })

  it('basic auth, with the password from a file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'prom-ingest-auth-'))
    writeFileSync(join(dir, 'password'), 'hunter2\n')
    const s = await start(['--auth-basic-user', 'prometheus', '--auth-basic-password-file', join(dir, 'password')])
    const basic = (u: string, p: string): string => 'Basic ' + Buffer.from(`${u}:${p}`).toString('base64')
    const none = await postWrite(s.url, body1(1))
    expect(none.status).toBe(401)
    expect(none.headers['www-authenticate']).toMatch(/^Basic realm=/)
    expect((await postWrite(s.url, body1(1), { headers: { authorization: basic('prometheus', 'hunter') } })).status).toBe(401)
    expect((await postWrite(s.url, body1(1), { headers: { authorization: basic('prometheus', 'hunter2') } })).status).toBe(204)
  })

  it('bearer token from a file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'prom-ingest-auth-'))
    writeFileSync(join(dir, 'token'), 'from-a-secret\n')
    const s = await start(['--auth-bearer-token-file', join(dir, 'token')])
    expect((await postWrite(s.url, body1(1), { headers: { authorization: 'Bearer from-a-secret' } })).status).toBe(204)
    expect((await postWrite(s.url, body1(1), { headers: { authorization: 'Bearer from-a-secret-not' } })).status).toBe(401)
  })
})

describe('tenants', () => {
  it('carries the tenant header into the batch; the same labels in two tenants are two series', async () => {
    const sink = new RecordingSink()
    const s = await start([], sink)
    expect((await postWrite(s.url, body1(2), { headers: { 'X-Scope-OrgID': 'team-a' } })).status).toBe(204)
    expect((await postWrite(s.url, body1(2), { headers: { 'x-scope-orgid': 'team-b' } })).status).toBe(204)
    expect((await postWrite(s.url, body1(2))).status).toBe(204)
    expect(sink.stored.map(b => b.tenant)).toEqual(['team-a', 'team-b', ''])
    expect(s.pool.index.size).toBe(6)
  })

  it('uses the configured header, and none when disabled', async () => {
    const sink = new RecordingSink()
    const s = await start(['--tenant-header', 'X-Tenant'], sink)
    await postWrite(s.url, body1(1), { headers: { 'X-Tenant': 'blue', 'X-Scope-OrgID': 'ignored' } })
    const sink2 = new RecordingSink()
    const s2 = await start(['--tenant-header', ''], sink2)
    await postWrite(s2.url, body1(1), { headers: { 'X-Scope-OrgID': 'ignored' } })
    expect(sink.stored.map(b => b.tenant)).toEqual(['blue'])
    expect(sink2.stored.map(b => b.tenant)).toEqual([''])
  })
})

describe('backpressure', () => {
  it('a slow sink fills max-in-flight: 503 with Retry-After, then the retry is stored once', async () => {
    const sink = new GatedSink()
    const s = await start(['--slot-count', '1', '--large-slot-count', '0', '--max-in-flight', '2', '--slot-wait', '200ms', '--retry-after', '3'], sink)
    // One after the other: b needs the only slot, which a gives back once decoded (waiting for it
    // together with a would race the 200 ms slot-wait on a busy machine).
    const a = postWrite(s.url, body1(10, 1, 'a'))
    await sink.whenPending(1)
    const b = postWrite(s.url, body1(20, 1, 'b'))
    await sink.whenPending(2)
    // c finds max-in-flight taken and is refused once slot-wait (200 ms, a time-based feature) is over.
    const c = await postWrite(s.url, body1(40, 1, 'c'))
    expect(c.status).toBe(503)
    expect(c.headers['retry-after']).toBe('3')
    expect(c.body).toMatch(/saturated/)
    // Memory stays bounded: the refused body was never taken into a slot or decoded.
    expect(s.pool.stats().completed).toBe(2)
    sink.open()
    expect((await a).status).toBe(204)
    expect((await b).status).toBe(204)
    expect((await postWrite(s.url, body1(40, 1, 'c'))).status).toBe(204)
    expect(sink.stored.map(x => x.samples).sort((x, y) => x - y)).toEqual([10, 20, 40])
    const text = await metricsOf(s)
    expect(metricValue(text, 'prom_ingest_received_samples_total')).toBe(70)
    expect(metricValue(text, 'prom_ingest_rejected_requests_total', { reason: 'saturated' })).toBe(1)
  })

  it('a body that holds the only slot: the next request waits slot-wait, then gets 429 when so configured', async () => {
    const s = await start(['--slot-count', '1', '--large-slot-count', '0', '--slot-wait', '150ms', '--saturation-status', '429', '--body-idle-timeout', '10m'])
    // A request takes a slot once its first FIRST_BODY_BYTES arrived.
    const body = body1(3000)
    const slots = watchSlots(s.pool)
    const held = streamingWrite(s.url)
    held.body.write(body.subarray(0, FIRST_BODY_BYTES))
    await slots.when('the held body in the only slot', c => c.inUse === 1)
    const refused = await postWrite(s.url, body1(7))
    expect(refused.status).toBe(429)
    expect(refused.headers['retry-after']).toBe('1')
    held.body.end(body.subarray(FIRST_BODY_BYTES))
    expect((await held.answer).status).toBe(204)
    expect((await postWrite(s.url, body1(7))).status).toBe(204)
    expect(discard(s).counts.samples).toBe(3007)
  })

  it('waiting requests are served in turn when slots free within slot-wait', async () => {
    const s = await start(['--slot-count', '1', '--large-slot-count', '0', '--slot-wait', '10s'])
    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => postWrite(s.url, body1(50, 1, `j${i}`))))
    expect(answers.map(a => a.status)).toEqual(Array(8).fill(204))
    expect(discard(s).counts.samples).toBe(400)
  })
})

describe('worker failure', () => {
  it('a worker killed mid-request fails that request with a 5xx; later requests succeed', async () => {
    const s = await start(['--threads', '2'])
    const pool = s.pool
    const decode = pool.decode.bind(pool)
    let terminated: Promise<unknown> | undefined
    pool.decode = (slot, length, req) => {
      const p = decode(slot, length, req)
      // The task is with a worker now: kill them all while it runs (once).
      terminated ??= Promise.all(pool.workerThreads.map(t => t.terminate()))
      return p
    }
    const res = await postWrite(s.url, body1(2000))
    expect(res.status).toBeGreaterThanOrEqual(500)
    expect(res.body).toMatch(/worker died/)
    expect(res.headers['retry-after']).toBe('1')
    // Every killed worker is gone before the next request (a worker still terminating would fail it too).
    await terminated
    for (let i = 0; i < 4; i++) expect((await postWrite(s.url, body1(10))).status).toBe(204)
    expect(discard(s).counts.samples).toBe(40)
    expect(pool.stats().workerRestarts).toBeGreaterThan(0)
    expect(pool.stats().slotsInUse).toBe(0)
  })
})

describe('metrics and health', () => {
  it('/metrics values match what was sent', async () => {
    const s = await start()
    await postWrite(s.url, body1(100, 2))
    await postWrite(s.url, body1(50, 1, 'other'))
    await postWrite(s.url, body2(5, 2), { version: '2.0' })
    await postWrite(s.url, body1(1), { headers: { 'content-type': 'application/json' } })
    await postWrite(s.url, new Uint8Array([1, 2, 3]))
    const text = await metricsOf(s)
    expect(metricValue(text, 'prom_ingest_received_samples_total')).toBe(200 + 50 + 10)
    expect(metricValue(text, 'prom_ingest_received_histograms_total')).toBe(2)
    expect(metricValue(text, 'prom_ingest_received_exemplars_total')).toBe(5)
    expect(metricValue(text, 'prom_ingest_received_metadata_total')).toBe(5)
    expect(metricValue(text, 'prom_ingest_received_series_total')).toBe(100 + 50 + 7)
    expect(metricValue(text, 'prom_ingest_series_known')).toBe(100 + 50 + 7)
    expect(metricValue(text, 'prom_ingest_http_requests_total', { path: '/api/v1/write', code: '204', version: '1.0' })).toBe(2)
    expect(metricValue(text, 'prom_ingest_http_requests_total', { path: '/api/v1/write', code: '204', version: '2.0' })).toBe(1)
    expect(metricValue(text, 'prom_ingest_http_requests_total', { path: '/api/v1/write', code: '415' })).toBe(1)
    expect(metricValue(text, 'prom_ingest_http_requests_total', { path: '/api/v1/write', code: '400', version: '1.0' })).toBe(1)
    expect(metricValue(text, 'prom_ingest_rejected_requests_total', { reason: 'content_type_unsupported' })).toBe(1)
    expect(metricValue(text, 'prom_ingest_rejected_requests_total', { reason: 'snappy_malformed' })).toBe(1)
    expect(metricValue(text, 'prom_ingest_decode_duration_seconds_count')).toBe(4)
    expect(metricValue(text, 'prom_ingest_http_request_duration_seconds_count', { path: '/api/v1/write' })).toBe(5)
    expect(metricValue(text, 'prom_ingest_sink_write_duration_seconds_count', { sink: 'discard' })).toBe(3)
    expect(metricValue(text, 'prom_ingest_pool_completed_tasks_total')).toBe(4)
    expect(metricValue(text, 'prom_ingest_slots')).toBe(s.pool.stats().slotsTotal)
    expect(metricValue(text, 'prom_ingest_slots_in_use')).toBe(0)
    expect(metricValue(text, 'prom_ingest_received_compressed_bytes_total')).toBeGreaterThan(0)
    expect(metricValue(text, 'prom_ingest_received_decompressed_bytes_total')).toBeGreaterThan(metricValue(text, 'prom_ingest_received_compressed_bytes_total'))
    expect(metricValue(text, 'prom_ingest_ignored_fields_total')).toBe(0)
    // A field number the schema does not define (TimeSeries field 9, a varint) is skipped and counted.
    const unknownField = compressBody(Uint8Array.from(Buffer.from('0a1f0a0e0a085f5f6e616d655f5f12027774120b09000000000000f03f10074801', 'hex')))
    expect((await postWrite(s.url, unknownField)).status).toBe(204)
    expect(metricValue(await metricsOf(s), 'prom_ingest_ignored_fields_total')).toBe(1)
    // prom-client's process and Node metrics are there too.
    expect(text).toContain('nodejs_eventloop_lag_seconds')
    expect(text).toContain('process_resident_memory_bytes')
  })

  it('the exposition passes promtool check metrics', async (ctx) => {
    const promtool = spawnSync('promtool', ['--version'])
    if (promtool.error !== undefined) {
      ctx.skip('promtool is not on PATH (Debian package prometheus); the exposition lint did not run')
      return
    }
    const s = await start()
    await postWrite(s.url, body1(10))
    await postWrite(s.url, new Uint8Array([1]))
    const text = await metricsOf(s)
    // promtool reads the exposition on stdin and exits non-zero with a list of problems.
    const out = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' })
    expect(out.stdout + out.stderr).toBe('')
    expect(out.status).toBe(0)
  })

  it('/healthz and /readyz; readyz turns 503 once shutdown begins, while in-flight requests finish', async () => {
    const s = await start(['--body-idle-timeout', '10m'])
    const ok = await request(`${s.url}/readyz`)
    expect(ok.statusCode).toBe(200)
    expect(await ok.body.text()).toBe('ready\n')
    const slots = watchSlots(s.pool)
    const held = streamingWrite(s.url)
    const body = body1(3000)
    held.body.write(body.subarray(0, FIRST_BODY_BYTES))
    await slots.when('the held body in a slot', c => c.inUse === 1)
    // A connection opened before shutdown, to ask /readyz during it.
    const sock = connect(s.port, '127.0.0.1')
    await new Promise(resolve => sock.once('connect', resolve))
    const closed = s.close(10_000)
    expect(s.ready()).toBe(false)
    const reply = await new Promise<string>(resolve => {
      let text = ''
      sock.on('data', d => { text += d.toString() })
      sock.on('close', () => resolve(text))
      sock.write('GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n')
    })
    expect(reply).toMatch(/^HTTP\/1.1 503/)
    expect(reply).toContain('shutting down')
    // A retryable 5xx like every other: through error-response.ts, with Retry-After and the code.
    expect(reply).toMatch(/\r\nretry-after: 1\r\n/i)
    expect(reply).toMatch(/\r\nx-prom-ingest-error: shutting_down\r\n/i)
    held.body.end(body.subarray(FIRST_BODY_BYTES))
    const answer = await held.answer
    expect(answer.status).toBe(204)
    expect(answer.headers.connection).toBe('close')
    expect(await closed).toBe(true)
    expect(discard(s).counts.samples).toBe(3000)
  })
})
