/**
 * The forward sink in-process, against our fault-injecting destination (test/helpers/fault-destination.ts):
 * pass-through of the received body, re-encoding of partial writes (2.0 stays 2.0), conversion to a
 * destination's protocol version, shard mode from a 2.0 request, every row of the answer table,
 * the full queue, and the fan-out with another sink.
 *
 * Backoff is set to milliseconds here (forward-retry-min/max-backoff) so the retry rows run quickly;
 * the Retry-After row depends on time: it checks that the retry came no sooner than the 1 s the
 * destination asked for.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { pino } from 'pino'
import { cursorFileName } from '../../src/queue/cursor-file.js'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { Service } from '../../src/main.js'
import { compressBody, encodeRequest2, encodeWriteRequest1, type TimeSeries2 } from '../fixtures/encode.js'
import { decodeWriteRequest } from '../../src/decode/decode-write-request.js'
import { formatSeries } from '../../src/series/labels.js'
import { parseExposition, sumOf } from '../helpers/exposition.js'
import { sampleKeys, startFaultDestination, type FaultDestination } from '../helpers/fault-destination.js'
import { postWrite } from '../helpers/remote-write.js'
import { startInProcess } from '../helpers/service-in-process.js'
import { body1, body2, histogram, series1, T0 } from '../receive/bodies.js'
import { rendezvousPick } from '../../src/forward/batch-encoder.js'
import { laneOf } from '../../src/forward/sender.js'
import { encodeLabels } from '../../src/series/labels.js'
import { tenantSeed } from '../../src/series/label-hash.js'
import { RowBatch } from '../../src/batch/row-batch.js'
import { Decoder } from '../../src/decode/decoder.js'
import { resolveDecodeOptions } from '../../src/decode/options.js'
import { SeriesIndex } from '../../src/series/series-index.js'

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function setup (flags: string[] = [], answer?: FaultDestination['answer']): Promise<{ service: Service, dest: FaultDestination, dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'prom-ingest-forward-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  const dest = await startFaultDestination(answer)
  cleanups.push(() => dest.close())
  const service = await startInProcess(['--sink', 'forward', '--data-dir', dir, '--forward-url', dest.url, '--forward-retry-min-backoff', '20ms', '--forward-retry-max-backoff', '200ms', ...flags])
  cleanups.push(async () => { await service.close(5000) })
  return { service, dest, dir }
}

async function metric (service: Service, name: string, match: Record<string, string> = {}): Promise<number> {
  return sumOf(parseExposition(await service.registry.metrics()), name, match)
}

/** Waits (bounded) until the metric has the value: the sender counts an answer just after the destination gave it. */
async function waitForMetric (service: Service, name: string, match: Record<string, string>, value: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await metric(service, name, match) === value) return
    await new Promise(resolve => setTimeout(resolve, 25))
  }
  expect(await metric(service, name, match)).toBe(value)
}

describe('forward sink', () => {
  it('needs only the body without shard mode; refuses a counts-only batch (gateway decode) that comes without it', async () => {
    const { service, dest } = await setup()
    expect(service.sink.bodyOnly).toBe(true)
    const index = SeriesIndex.create({ maxSeries: 64 })
    const raw = encodeWriteRequest1({ timeseries: [{ labels: [['__name__', 'up']], samples: [{ value: 1, timestamp: T0 }] }] })
    const batch = new RowBatch(new Decoder(index).decode(raw, resolveDecodeOptions({ compressed: false, validateOnly: true })).buffer, { tenant: '' }, index)
    expect(batch.rowsOmitted).toBe(true)
    await expect(service.sink.write(batch)).rejects.toMatchObject({ code: 'internal' })
    expect(dest.requests).toHaveLength(0)
    const sharded = await setup(['--forward-url', 'http://127.0.0.1:9/other', '--forward-shard'])
    expect(sharded.service.sink.bodyOnly).toBe(false)
  })

  it('forwards the received body byte for byte, with remote-write headers', async () => {
    const { service, dest } = await setup()
    const body = body1(50, 2)
    const a = await postWrite(service.url, body)
    expect(a.status).toBe(204)
    await dest.waitForRequests(1)
    expect(Buffer.compare(dest.requests[0]!.body, Buffer.from(body))).toBe(0)
    const h = dest.requests[0]!.headers
    expect(h['content-encoding']).toBe('snappy')
    expect(h['content-type']).toBe('application/x-protobuf')
    expect(h['x-prometheus-remote-write-version']).toBe('0.1.0')
    await dest.waitForAccepted(100)
    await waitForMetric(service, 'prom_ingest_forward_samples_total', { outcome: 'sent' }, 100)
  })

  it('forwards a Remote Write 2.0 body as it is, with 2.0 headers', async () => {
    const { dest, service } = await setup()
    const body = body2(20, 2)
    expect((await postWrite(service.url, body, { version: '2.0' })).status).toBe(204)
    await dest.waitForRequests(1)
    expect(Buffer.compare(dest.requests[0]!.body, Buffer.from(body))).toBe(0)
    expect(dest.requests[0]!.headers['content-type']).toBe('application/x-protobuf;proto=io.prometheus.write.v2.Request')
    expect(dest.requests[0]!.headers['x-prometheus-remote-write-version']).toBe('2.0.0')
  })

  it('keeps requests in order and carries the tenant', async () => {
    const { service, dest } = await setup()
    for (let i = 0; i < 5; i++) expect((await postWrite(service.url, body1(3, 1, 'job' + i), { headers: { 'X-Scope-OrgID': 'team-a' } })).status).toBe(204)
    await dest.waitForRequests(5)
    expect(dest.requests.map(r => sampleKeys(r.body)[0])).toEqual([0, 1, 2, 3, 4].map(i => `test_metric{instance="i0",job="job${i}"} @ 1700000000000`))
    expect(dest.requests.every(r => r.headers['x-scope-orgid'] === 'team-a')).toBe(true)
  })

  it('with max-in-flight 2, sends each tenant in order through its own lane: one held back by retries does not hold back the other', async () => {
    const [a, b] = ['team-a', 'team-b']
    expect(laneOf(a, 2)).not.toBe(laneOf(b, 2)) // the two tenants have lanes of their own
    // team-a is refused (503, retried) until all three of team-b's requests were taken: one serial
    // stream would wait on team-a for ever, and the test would time out.
    let bTaken = 0
    const { service, dest } = await setup(['--forward-max-in-flight', '2'], (_n, req) => {
      const tenant = req.headers['x-scope-orgid']
      if (tenant === a && bTaken < 3) return { status: 503 }
      if (tenant === b) bTaken++
      return { status: 204 }
    })
    const post = async (tenant: string, job: string): Promise<void> => {
      expect((await postWrite(service.url, body1(1, 1, job), { headers: { 'X-Scope-OrgID': tenant } })).status).toBe(204)
    }
    await post(a, 'a0')
    await post(a, 'a1')
    for (let i = 0; i < 3; i++) await post(b, `b${i}`)
    await dest.waitForAccepted(5)
    const taken = (tenant: string): string[] => dest.requests.filter(r => r.status === 204 && r.headers['x-scope-orgid'] === tenant).map(r => sampleKeys(r.body)[0]!.split('job="')[1]!.split('"')[0]!)
    expect(taken(a)).toEqual(['a0', 'a1'])
    expect(taken(b)).toEqual(['b0', 'b1', 'b2'])
    expect(dest.requests.some(r => r.status === 503)).toBe(true)
    await waitForMetric(service, 'prom_ingest_forward_queue_records', {}, 0)
  })

  it('deletes at start the cursor of a destination removed from the configuration, and logs it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'prom-ingest-forward-'))
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
    const kept = await startFaultDestination()
    cleanups.push(() => kept.close())
    const removed = await startFaultDestination(() => ({ status: 503 })) // never takes anything: its cursor stays at the start
    cleanups.push(() => removed.close())
    const flags = ['--sink', 'forward', '--data-dir', dir, '--forward-retry-min-backoff', '20ms', '--forward-retry-max-backoff', '200ms']
    const nameOf = (url: string): string => url.replace(/^http:\/\//, '').replace(/[^A-Za-z0-9._-]+/g, '_')
    const first = await startInProcess([...flags, '--forward-url', kept.url, '--forward-url', removed.url])
    expect((await postWrite(first.url, body1(3, 1))).status).toBe(204)
    await kept.waitForAccepted(3)
    await removed.waitForRequests(1)
    await first.close(5000)
    const cursors = join(dir, 'forward', 'cursors')
    expect(readdirSync(cursors).sort()).toEqual([cursorFileName(nameOf(kept.url)), cursorFileName(nameOf(removed.url))].sort())

    const lines: string[] = []
    const second = await startInProcess([...flags, '--forward-url', kept.url], { logger: pino({ level: 'info' }, { write: (l: string) => { lines.push(l) } }) })
    cleanups.push(async () => { await second.close(5000) })
    expect(readdirSync(cursors)).toEqual([cursorFileName(nameOf(kept.url))])
    const log = lines.map(l => JSON.parse(l) as { destination?: string, msg: string }).find(l => l.destination === nameOf(removed.url))
    expect(log?.msg).toMatch(/no longer configured; its cursor is deleted/)
    expect(await metric(second, 'prom_ingest_forward_queue_records', { destination: nameOf(kept.url) })).toBe(0)
  })

  it('forwards only the valid series of a partial write, encoded again', async () => {
    const { service, dest } = await setup()
    const series = series1(4, 1)
    const bad = { labels: [['instance', 'no-name']] as const, samples: [{ value: 1, timestamp: 5 }] }
    const body = compressBody(encodeWriteRequest1({ timeseries: [...series.slice(0, 2), bad, ...series.slice(2)] }))
    const a = await postWrite(service.url, body)
    expect(a.status).toBe(400)
    await dest.waitForAccepted(4)
    expect(Buffer.compare(dest.requests[0]!.body, Buffer.from(body))).not.toBe(0)
    expect([...dest.accepted].sort()).toEqual([0, 1, 2, 3].map(k => `test_metric{instance="i${k}",job="test"} @ 1700000000000`))
  })

  for (const status of [400, 409, 415, 422]) {
    it(`drops a request the destination answers ${status}, counts it and goes on`, async () => {
      const { service, dest } = await setup([], n => n === 0 ? { status, body: 'bad data' } : { status: 204 })
      expect((await postWrite(service.url, body1(2, 1, 'first'))).status).toBe(204)
      expect((await postWrite(service.url, body1(3, 1, 'second'))).status).toBe(204)
      await dest.waitForRequests(2)
      await dest.waitForAccepted(3)
      expect(dest.accepted.every(k => k.includes('job="second"'))).toBe(true)
      await waitForMetric(service, 'prom_ingest_forward_requests_total', { outcome: 'dropped', code: String(status) }, 1)
      expect(await metric(service, 'prom_ingest_forward_samples_total', { outcome: 'dropped' })).toBe(2)
    })
  }

  for (const status of [408, 429, 500, 502, 503]) {
    it(`retries a request the destination answers ${status} until it is taken`, async () => {
      const { service, dest } = await setup([], n => n < 3 ? { status } : { status: 204 })
      expect((await postWrite(service.url, body1(2, 1))).status).toBe(204)
      await dest.waitForAccepted(2)
      expect(dest.requests.length).toBe(4)
      expect(new Set(dest.requests.map(r => r.body.toString('base64'))).size).toBe(1)
      await waitForMetric(service, 'prom_ingest_forward_requests_total', { outcome: 'retried', code: String(status) }, 3)
    })
  }

  it('retries after a network error (the destination cuts the connection)', async () => {
    const { service, dest } = await setup()
    let cut = 2
    const original = dest.answer
    dest.answer = (n, req) => {
      if (cut-- > 0) { req.socket.destroy(); return { status: 599 } }
      return original(n, req)
    }
    expect((await postWrite(service.url, body1(2, 1))).status).toBe(204)
    await dest.waitForAccepted(2)
    expect(await metric(service, 'prom_ingest_forward_requests_total', { outcome: 'retried', code: 'network' })).toBeGreaterThanOrEqual(1)
  })

  it('honours Retry-After (depends on time: the retry comes no sooner than the second asked for)', async () => {
    // A Retry-After is honoured up to the longest backoff: make that longer than the second asked for.
    const { service, dest } = await setup(['--forward-retry-max-backoff', '5s'], n => n === 0 ? { status: 503, headers: { 'Retry-After': '1' } } : { status: 204 })
    expect((await postWrite(service.url, body1(1, 1))).status).toBe(204)
    await dest.waitForAccepted(1)
    expect(dest.requests[1]!.atMs - dest.requests[0]!.atMs).toBeGreaterThanOrEqual(950)
  })

  it('splits a request the destination answers 413 and sends both halves', async () => {
    const { service, dest } = await setup([], (_n, _req) => ({ status: 204 }))
    dest.answer = n => n === 0 ? { status: 413 } : { status: 204 }
    expect((await postWrite(service.url, body1(10, 1))).status).toBe(204)
    await dest.waitForAccepted(10)
    expect(dest.requests.length).toBe(3)
    expect(sampleKeys(dest.requests[1]!.body).length).toBe(5)
    expect(sampleKeys(dest.requests[2]!.body).length).toBe(5)
  })

  for (const status of [401, 403, 404]) {
    it(`marks the destination stuck on ${status}, keeps the data and delivers it once fixed`, async () => {
      let fixed = false
      const { service, dest } = await setup([], () => fixed ? { status: 204 } : { status })
      expect((await postWrite(service.url, body1(2, 1))).status).toBe(204)
      await dest.waitForRequests(2)
      await waitForMetric(service, 'prom_ingest_forward_destination_stuck', {}, 1)
      expect(await metric(service, 'prom_ingest_forward_queue_records')).toBe(1)
      expect(service.ready()).toBe(true)
      fixed = true
      await dest.waitForAccepted(2)
      await waitForMetric(service, 'prom_ingest_forward_destination_stuck', {}, 0)
    })
  }

  it('answers 503 queue_full with Retry-After when a destination\'s queue is full, and takes writes again once it drains', async () => {
    let up = false
    const { service, dest } = await setup(['--forward-queue-limit', '64KiB'], () => up ? { status: 204 } : { status: 503 })
    const body = body1(2000, 1)
    let full: Awaited<ReturnType<typeof postWrite>> | undefined
    let accepted = 0
    for (let i = 0; i < 200 && full === undefined; i++) {
      const a = await postWrite(service.url, body)
      if (a.status === 204) accepted++
      else full = a
    }
    expect(full?.status).toBe(503)
    expect(full?.headers['x-prom-ingest-error']).toBe('queue_full')
    expect(full?.headers['retry-after']).toBeDefined()
    up = true
    await dest.waitForAccepted(accepted * 2000)
    expect(dest.accepted.length).toBe(accepted * 2000)
  })

  it('drops the oldest records of a full queue with drop-oldest, and counts what the destination never got', async () => {
    let up = false
    const { service, dest } = await setup(['--forward-queue-limit', '64KiB', '--forward-queue-full', 'drop-oldest'], () => up ? { status: 204 } : { status: 503 })
    // 64 KiB of queue; each request is a few KiB.
    const n = 60
    const per = 300
    for (let i = 0; i < n; i++) expect((await postWrite(service.url, body1(per, 1, 'j' + i))).status).toBe(204)
    const dropped = await metric(service, 'prom_ingest_forward_queue_dropped_records_total')
    expect(dropped).toBeGreaterThan(0)
    up = true
    // Every request holds `per` samples: what arrives is what was not dropped (the record in flight when
    // the queue dropped it may still arrive: one at most).
    await dest.waitForAccepted((n - dropped) * per)
    for (let i = 0; i < 100 && !dest.accepted.some(k => k.includes(`job="j${n - 1}"`)); i++) await new Promise(resolve => setTimeout(resolve, 50))
    const jobs = new Set(dest.accepted.map(k => /job="(j\d+)"/.exec(k)![1]))
    expect(jobs.size).toBeGreaterThanOrEqual(n - dropped)
    expect(jobs.size).toBeLessThanOrEqual(n - dropped + 1)
    expect(jobs.has('j' + (n - 1))).toBe(true)
  })

  it('converts a 2.0 body to 1.0 for a destination configured with protocol 1.0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'prom-ingest-forward-'))
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
    const dest = await startFaultDestination()
    cleanups.push(() => dest.close())
    const service = await startInProcess(['--sink', 'forward', '--data-dir', dir, '--forward-destinations', JSON.stringify([{ url: dest.url, protocol: '1.0' }])])
    cleanups.push(async () => { await service.close(5000) })
    const body = body2(30, 0)
    expect((await postWrite(service.url, body, { version: '2.0' })).status).toBe(204)
    await dest.waitForAccepted(sampleKeys(body, '2.0').length)
    expect(dest.requests.every(r => r.headers['content-type'] === 'application/x-protobuf')).toBe(true)
    expect([...dest.accepted].sort()).toEqual(sampleKeys(body, '2.0').sort())
  })
})

const V2 = 'application/x-protobuf;proto=io.prometheus.write.v2.Request'

/** 2.0 series with start timestamps (rc.4 per sample, rc.3 per series), metadata, an exemplar and a histogram. */
function startSeries (n: number): TimeSeries2[] {
  const out: TimeSeries2[] = []
  for (let k = 0; k < n; k++) {
    out.push({
      labels: [['__name__', 'started_total'], ['instance', `i${k}`]],
      samples: [{ value: k, timestamp: T0, startTimestamp: T0 - 60_000 - k }, { value: k + 1, timestamp: T0 + 1000, startTimestamp: T0 - 60_000 - k }],
      exemplars: [{ labels: [['trace_id', `t${k}`]], value: k, timestamp: T0 }],
      metadata: { type: 1, help: 'started things', unit: '' }
    })
  }
  out.push({ labels: [['__name__', 'rc3_total']], samples: [{ value: 1, timestamp: T0 }], createdTimestamp: T0 - 5000 })
  out.push({ labels: [['__name__', 'started_seconds']], histograms: [{ ...histogram(T0), startTimestamp: T0 - 7000 }] })
  return out
}

/** What a 2.0 body holds beyond the sample keys: start timestamps, metadata, exemplars, histograms, as sorted text. */
function details2 (body: Uint8Array): string[] {
  const b = decodeWriteRequest(body, { version: '2.0', partial: true })
  const name = (id: number): string => formatSeries(b.labelsOf(id)!)
  const out: string[] = []
  for (let i = 0; i < b.sampleCount; i++) out.push(`s ${name(b.seriesIds[i]!)} ${b.timestamps[i]} ${b.values[i]} start ${b.startTimestamps[i]}`)
  for (let i = 0; i < b.histogramCount; i++) out.push(`h ${name(b.histogramSeriesIds[i]!)} ${b.histogramTimestamps[i]} count ${b.histogramCounts[i]} start ${b.histogramStartTimestamps[i]}`)
  for (let i = 0; i < b.exemplarCount; i++) out.push(`e ${name(b.exemplarSeriesIds[i]!)} ${formatSeries(b.exemplarLabels(i))} ${b.exemplarTimestamps[i]}`)
  for (let i = 0; i < b.metadataCount; i++) { const m = b.metadata(i); out.push(`m ${name(m.seriesId)} ${m.type} ${m.help}`) }
  return out.sort()
}

describe('forward sink, Remote Write 2.0 encoded again', () => {
  it('forwards the valid series of a 2.0 partial write as 2.0, start timestamps, exemplars, metadata and histograms kept', async () => {
    const { service, dest } = await setup()
    const good = startSeries(3)
    const bad: TimeSeries2 = { labels: [['instance', 'no-name']], samples: [{ value: 1, timestamp: T0, startTimestamp: 5 }] }
    const body = compressBody(encodeRequest2({ timeseries: [...good.slice(0, 2), bad, ...good.slice(2)] }))
    expect((await postWrite(service.url, body, { version: '2.0' })).status).toBe(400)
    await dest.waitForAccepted(7)
    expect(dest.requests.length).toBe(1)
    const got = dest.requests[0]!
    expect(got.headers['content-type']).toBe(V2)
    expect(got.headers['x-prometheus-remote-write-version']).toBe('2.0.0')
    expect(Buffer.compare(got.body, Buffer.from(body))).not.toBe(0)
    const want = details2(compressBody(encodeRequest2({ timeseries: good })))
    expect(want.some(l => l.includes('start 1699999940000'))).toBe(true)
    expect(details2(got.body)).toEqual(want)
  })

  it('splits a 2.0 body the destination answers 413 into 2.0 halves, start timestamps kept', async () => {
    const { service, dest } = await setup([], n => n === 0 ? { status: 413 } : { status: 204 })
    const timeseries = startSeries(5).slice(0, 5)
    const body = compressBody(encodeRequest2({ timeseries }))
    expect((await postWrite(service.url, body, { version: '2.0' })).status).toBe(204)
    await dest.waitForAccepted(10)
    expect(dest.requests.length).toBe(3)
    expect(dest.requests.every(r => r.headers['content-type'] === V2)).toBe(true)
    expect(sampleKeys(dest.requests[1]!.body, '2.0').length).toBe(5)
    expect(sampleKeys(dest.requests[2]!.body, '2.0').length).toBe(5)
    expect([...details2(dest.requests[1]!.body), ...details2(dest.requests[2]!.body)].sort()).toEqual(details2(body))
  })

  it('converts a 1.0 body to 2.0 for a destination configured with protocol 2.0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'prom-ingest-forward-'))
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
    const dest = await startFaultDestination()
    cleanups.push(() => dest.close())
    const service = await startInProcess(['--sink', 'forward', '--data-dir', dir, '--forward-destinations', JSON.stringify([{ url: dest.url, protocol: '2.0' }])])
    cleanups.push(async () => { await service.close(5000) })
    const body = compressBody(encodeWriteRequest1({
      timeseries: [...series1(20, 3), { labels: [['__name__', 'native']], histograms: [histogram(T0)] }],
      metadata: [{ type: 2, family: 'test_metric', help: 'a gauge', unit: '' }]
    }))
    expect((await postWrite(service.url, body)).status).toBe(204)
    await dest.waitForAccepted(60)
    expect(dest.requests.every(r => r.headers['content-type'] === V2 && r.headers['x-prometheus-remote-write-version'] === '2.0.0')).toBe(true)
    expect([...dest.accepted].sort()).toEqual(sampleKeys(body).sort())
    const got = dest.requests.flatMap(r => details2(r.body))
    expect(got.filter(l => l.startsWith('h '))).toEqual([`h native ${T0} count 5 start 0`])
    // The family's metadata rides on each of its series.
    expect(got.filter(l => l.startsWith('m ')).length).toBe(20)
  })

  it('shards a 2.0 request into 2.0 bodies, one destination per series', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'prom-ingest-forward-'))
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
    const a = await startFaultDestination()
    const b = await startFaultDestination()
    cleanups.push(() => a.close(), () => b.close())
    const service = await startInProcess(['--sink', 'forward', '--data-dir', dir, '--forward-url', a.url, '--forward-destinations', JSON.stringify([{ url: b.url, name: 'b' }]), '--forward-shard'])
    cleanups.push(async () => { await service.close(5000) })
    const timeseries = startSeries(40)
    const body = compressBody(encodeRequest2({ timeseries }))
    expect((await postWrite(service.url, body, { version: '2.0' })).status).toBe(204)
    const total = sampleKeys(body, '2.0').length
    for (let i = 0; i < 200 && a.accepted.length + b.accepted.length < total; i++) await new Promise(resolve => setTimeout(resolve, 25))
    expect(a.accepted.length).toBeGreaterThan(0)
    expect(b.accepted.length).toBeGreaterThan(0)
    expect([...a.accepted, ...b.accepted].sort()).toEqual(sampleKeys(body, '2.0').sort())
    expect([...a.requests, ...b.requests].every(r => r.headers['content-type'] === V2)).toBe(true)
    expect([...a.requests, ...b.requests].flatMap(r => details2(r.body)).sort()).toEqual(details2(body))
  })
})

describe('rendezvous hashing', () => {
  it('moves only the new destination\'s share of the series when one is added', () => {
    const seeds = (names: string[]): number[] => names.map(n => tenantSeed(n + '\u0000'))
    const three = seeds(['a', 'b', 'c'])
    const four = seeds(['a', 'b', 'c', 'd'])
    let moved = 0
    let toNew = 0
    const n = 4000
    for (let k = 0; k < n; k++) {
      const labels = encodeLabels([['__name__', 'm'], ['instance', `i${k}`]])
      const before = rendezvousPick(labels, three)
      const after = rendezvousPick(labels, four)
      if (before !== after) { moved++; if (after === 3) toNew++ }
    }
    expect(toNew).toBe(moved) // nothing moves between the old destinations
    expect(moved).toBeGreaterThan(n / 4 - n / 10)
    expect(moved).toBeLessThan(n / 4 + n / 10)
  })
})
