/**
 * POST /api/v1/read on the real service with the DuckDB store, read back with an independent client
 * (protobufjs, our XOR decoder; test/helpers/remote-read.ts): both answer types give exactly the
 * stored samples (value bits, stale marker included) of the series the matchers select, in
 * Prometheus' order; tenants, auth, and every refusal.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDuckDbSink } from '../../src/sinks/duckdb/index.js'
import { compareLabelSets, LabelMatcher } from '../../src/read/label-matcher.js'
import type { Service } from '../../src/main.js'
import { encodeWriteRequest1, floatBits, STALE_NAN_BITS } from '../fixtures/encode.js'
import { readData, readDataBodies, STALE_AT_STEP, type ReadData } from '../helpers/read-data.js'
import { writeThenRead } from '../helpers/refused-sender.js'
import { decodeSamples, remoteRead, type Matcher, type ReadSeries } from '../helpers/remote-read.js'
import { postWrite } from '../helpers/remote-write.js'
import { startInProcess } from '../helpers/service-in-process.js'
import { ensureWorkerBuilt, openSink, TestDecoder } from '../sinks/duckdb/helpers.js'

const T0 = Date.UTC(2026, 0, 1)
const STEPS = 300 // 300 samples a series: three chunks (120, 120, 60)
const data = readData(T0, STEPS)
const WRITE = { authorization: 'Bearer w-tok' }

/** What the data holds for a query, computed from the data set itself. */
function expected (d: ReadData, matchers: readonly Matcher[], startMs: number, endMs: number): ReadSeries[] {
  const ms = matchers.map(([op, name, value]) => LabelMatcher.of({ type: ({ '=': 'EQ', '!=': 'NEQ', '=~': 'RE', '!~': 'NRE' } as const)[op], name, value }))
  const out: ReadSeries[] = []
  for (const s of d.series) {
    const labels = s.labels.map(([n, v]) => [String(n), String(v)] as [string, string])
    const byName = new Map(labels)
    if (!ms.every(m => m.selects(byName))) continue
    const samples = (s.samples ?? []).filter(x => x.timestamp >= startMs && x.timestamp <= endMs).map(x => [x.timestamp, floatBits(x.value)] as [number, bigint])
    if (samples.length > 0) out.push({ labels, samples })
  }
  return out.sort((a, b) => compareLabelSets(a.labels, b.labels))
}

let service: Service
beforeAll(async () => {
  ensureWorkerBuilt()
  const dataDir = mkdtempSync(join(tmpdir(), 'prom-ingest-read-'))
  service = await startInProcess(['--sink', 'duckdb', '--data-dir', dataDir, '--auth-bearer-token', 'w-tok', '--auth-read-bearer-token', 'r-tok', '--read-max-samples', '2000'])
  for (const body of readDataBodies(data)) expect((await postWrite(service.url, body, { headers: WRITE })).status).toBe(204)
  // The same series under another tenant, with other values: a read must not see them.
  const other = readData(T0, 10)
  for (const body of readDataBodies({ ...other, series: other.series.map(s => ({ ...s, samples: (s.samples ?? []).map(x => ({ ...x, value: 12345 })) })) })) {
    expect((await postWrite(service.url, body, { headers: { ...WRITE, 'x-scope-orgid': 'other' } })).status).toBe(204)
  }
}, 120_000)
afterAll(async () => { await service?.close(10_000) })

const END = T0 + STEPS * 15_000

describe('remote read: answers', () => {
  const cases: Array<[string, Matcher[], number, number]> = [
    ['a metric name', [['=', '__name__', 'http_requests_total']], T0, END],
    ['a regex, anchored at both ends', [['=~', '__name__', 'request_duration_seconds_(bucket|count)'], ['=~', 'instance', 'a.*']], T0, END],
    ['!= and !~', [['=', 'job', 'api'], ['!=', 'code', '500'], ['!~', '__name__', 'request.*|temp.+']], T0, END],
    ['label="" selects the series without the label', [['=', 'instance', '']], T0, END],
    ['label!="" selects those with it', [['!=', 'instance', ''], ['=', '__name__', 'temperature_celsius']], T0, END],
    ['an inclusive time range inside the data', [['=', '__name__', 'batch_last_success_timestamp_seconds']], T0 + 30 * 15_000, T0 + STALE_AT_STEP * 15_000],
    ['nothing selected', [['=', '__name__', 'no_such_metric']], T0, END],
    ['a range outside the data', [['=', 'job', 'api'], ['=', '__name__', 'build_info']], END + 1, END + 60_000]
  ]

  for (const type of [0, 1] as const) {
    for (const [name, matchers, start, end] of cases) {
      it(`${type === 0 ? 'SAMPLES' : 'STREAMED_XOR_CHUNKS'}: ${name}`, async () => {
        const answer = await remoteRead(service.url, [{ startMs: start, endMs: end, matchers }], [type], WRITE)
        expect(answer.status, answer.text).toBe(200)
        expect(answer.headers['content-type']).toBe(type === 0 ? 'application/x-protobuf' : 'application/x-streamed-protobuf; proto=prometheus.ChunkedReadResponse')
        if (type === 0) expect(answer.headers['content-encoding']).toBe('snappy')
        const want = expected(data, matchers, start, end)
        expect(answer.results[0] ?? []).toEqual(want)
        if (type === 1) {
          for (const c of answer.chunks) {
            expect(c.count).toBeLessThanOrEqual(120)
            expect([c.min, c.max]).toEqual([c.first, c.last])
          }
        }
      })
    }
  }

  it('the stale marker comes back with its bits, in both answers', async () => {
    for (const type of [0, 1]) {
      const answer = await remoteRead(service.url, [{ startMs: T0, endMs: END, matchers: [['=', 'job', 'batch']] }], [type], WRITE)
      const samples = answer.results[0]![0]!.samples
      expect(samples.length).toBe(STALE_AT_STEP + 1)
      expect(samples[STALE_AT_STEP]).toEqual([T0 + STALE_AT_STEP * 15_000, STALE_NAN_BITS])
    }
  })

  it('several queries: one result each, in order (streamed: by query_index); the first accepted type wins', async () => {
    const queries = [
      { startMs: T0, endMs: END, matchers: [['=', '__name__', 'build_info']] as Matcher[] },
      { startMs: T0, endMs: T0 + 60_000, matchers: [['=', '__name__', 'temperature_celsius']] as Matcher[] }
    ]
    for (const accepted of [[1, 0], [0, 1], [7, 1]]) {
      const answer = await remoteRead(service.url, queries, accepted, WRITE)
      expect(answer.status).toBe(200)
      expect(answer.frames > 0).toBe(accepted[0] !== 0)
      expect(answer.results).toEqual(queries.map(q => expected(data, q.matchers, q.startMs, q.endMs)))
    }
  })

  it('samples stored out of time order come back in order, each series in label order', async () => {
    const { compressBody, encodeWriteRequest1 } = await import('../fixtures/encode.js')
    const times = Array.from({ length: 500 }, (_, i) => END + 1_000_000 + ((i * 7919) % 500) * 1000) // a permutation
    for (let i = 0; i < times.length; i += 50) {
      const timeseries = ['b', 'a'].map(v => ({ labels: [['__name__', 'shuffled'], ['k', v]] as Array<[string, string]>, samples: times.slice(i, i + 50).map(t => ({ value: t / 1000, timestamp: t })) }))
      expect((await postWrite(service.url, compressBody(encodeWriteRequest1({ timeseries })), { headers: WRITE })).status).toBe(204)
    }
    const sortedTimes = [...times].sort((x, y) => x - y)
    for (const type of [0, 1]) {
      const answer = await remoteRead(service.url, [{ startMs: 0, endMs: END + 10_000_000, matchers: [['=', '__name__', 'shuffled']] }], [type], WRITE)
      expect(answer.results[0]!.map(s => s.labels[1]![1])).toEqual(['a', 'b'])
      for (const s of answer.results[0]!) expect(s.samples).toEqual(sortedTimes.map(t => [t, floatBits(t / 1000)]))
    }
  })

  it('a tenant reads its own series only', async () => {
    const answer = await remoteRead(service.url, [{ startMs: T0, endMs: END, matchers: [['=', '__name__', 'build_info']] }], [0], { ...WRITE, 'x-scope-orgid': 'other' })
    expect(answer.results[0]!.map(s => s.samples.length)).toEqual([10])
    expect(answer.results[0]![0]!.samples[0]![1]).toBe(floatBits(12345))
  })
})

describe('remote read: refusals', () => {
  it('takes the write credentials: none is 401, the read token is 401', async () => {
    const q = [{ startMs: T0, endMs: END, matchers: [['=', '__name__', 'build_info']] as Matcher[] }]
    expect((await remoteRead(service.url, q, [0])).status).toBe(401)
    expect((await remoteRead(service.url, q, [0], { authorization: 'Bearer r-tok' })).status).toBe(401)
  })

  it('more samples than read-max-samples: 400 read_too_large, as Prometheus answers its sample limit', async () => {
    const answer = await remoteRead(service.url, [{ startMs: T0, endMs: END, matchers: [['=', 'job', 'api']] }], [1], WRITE)
    expect(answer.status).toBe(400)
    expect(answer.headers['x-prom-ingest-error']).toBe('read_too_large')
    expect(answer.text).toMatch(/more than 2000 samples \(read-max-samples\)/)
  })

  it('a regex Go refuses, an unknown matcher type, an unknown response type, a body that is not snappy', async () => {
    const bad = await remoteRead(service.url, [{ startMs: T0, endMs: END, matchers: [['=~', 'job', '(?=x)']] }], [0], WRITE)
    expect([bad.status, bad.headers['x-prom-ingest-error']]).toEqual([400, 'read_request_invalid'])
    expect(bad.text).toMatch(/invalid regex/)
    const types = await remoteRead(service.url, [{ startMs: T0, endMs: END, matchers: [['=', 'job', 'api']] }], [5, 9], WRITE)
    expect([types.status, types.headers['x-prom-ingest-error']]).toEqual([406, 'read_response_type_unsupported'])
    const { request } = await import('undici')
    const res = await request(`${service.url}/api/v1/read`, { method: 'POST', headers: { ...WRITE, 'content-encoding': 'snappy' }, body: 'not snappy at all' })
    expect([res.statusCode, res.headers['x-prom-ingest-error']]).toEqual([400, 'snappy_malformed'])
    await res.body.dump()
    // Matcher type 4 does not exist (built by hand: the client only knows 0-3).
    const { compressBody } = await import('../fixtures/encode.js')
    const body = compressBody(new Uint8Array([0x0a, 0x0a, 0x1a, 0x08, 0x08, 0x04, 0x12, 0x01, 0x61, 0x1a, 0x01, 0x62]))
    const t = await request(`${service.url}/api/v1/read`, { method: 'POST', headers: { ...WRITE, 'content-encoding': 'snappy' }, body })
    expect([t.statusCode, t.headers['x-prom-ingest-error']]).toEqual([400, 'read_request_invalid'])
    expect(await t.body.text()).toMatch(/type 4/)
  })
})

describe('remote read: a body over the limit', () => {
  it('413 body_too_large, read whole by a sender that writes 4 MiB before reading (the connection lingers), declared or found while reading', async () => {
    const head = (framing: string): string => `POST /api/v1/read HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer w-tok\r\nContent-Encoding: snappy\r\n${framing}\r\n\r\n`
    const declared = await writeThenRead(service.port, head(`Content-Length: ${64 << 20}`), 4 << 20)
    expect(declared.text).toMatch(/^HTTP\/1\.1 413 /)
    expect(declared.text).toMatch(/\r\n\r\nthe remote-read request body \(67108864 bytes\) is larger than 1048576 bytes\n$/)
    expect(declared.error).toBeUndefined()
    const chunked = await writeThenRead(service.port, head('Transfer-Encoding: chunked'), 4 << 20, true)
    expect(chunked.text).toMatch(/\r\n\r\nthe remote-read request body is larger than 1048576 bytes\n$/)
    expect(chunked.error).toBeUndefined()
  })
})

describe('remote read: concurrency', () => {
  it('read-max-concurrency reads run, as many wait, the next is refused at once: read_queue_full (503, retryable)', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'prom-ingest-read-gate-'))
    const sink = createDuckDbSink({ dataDir, commitInterval: 20, commitMaxRows: 1e6, retentionMs: 0, memoryLimit: '128MB', threads: 1, readMaxConcurrency: 1 })
    await sink.start()
    try {
      const req = { tenant: '', queries: [{ startMs: 0, endMs: 1, matchers: [{ type: 'EQ' as const, name: 'a', value: 'b' }], hints: undefined }], responseType: 0 }
      // Entered in one tick: the first runs, the second waits, the third is refused.
      const runs = [sink.remoteRead(req), sink.remoteRead(req), sink.remoteRead(req)]
      const settled = await Promise.allSettled(runs)
      expect(settled.map(s => s.status)).toEqual(['fulfilled', 'fulfilled', 'rejected'])
      const err = (settled[2] as PromiseRejectedResult).reason as { code: string, status: number, retryable: boolean, message: string }
      expect([err.code, err.status, err.retryable]).toEqual(['read_queue_full', 503, true])
      expect(err.message).toMatch(/1 remote reads are running and 1 are waiting \(read-max-concurrency 1/)
    } finally {
      await sink.close()
    }
  })

  it('the store on the calling thread (thread: main) answers reads too', async () => {
    const d = new TestDecoder()
    const sink = await openSink(mkdtempSync(join(tmpdir(), 'prom-ingest-read-main-')), { index: d.index, thread: 'main' })
    try {
      const small = readData(T0, 5)
      await sink.write(d.batch(encodeWriteRequest1({ timeseries: small.series })))
      const answer = await sink.remoteRead({ tenant: '', queries: [{ startMs: T0, endMs: END, matchers: [{ type: 'EQ', name: 'job', value: 'batch' }], hints: undefined }], responseType: 0 })
      expect([answer.series, answer.samples]).toEqual([1, 5])
      expect(decodeSamples(answer.body)[0]).toEqual(expected(small, [['=', 'job', 'batch']], T0, END))
    } finally {
      await sink.close()
    }
  })
})
