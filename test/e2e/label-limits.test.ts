/**
 * What one series may take, against the real process: the default label limits (Mimir's: 30 labels,
 * 1,024-byte names, 2,048-byte values), the series key limit (max-series-key-bytes, tenant included),
 * a full key arena (series-arena-bytes) answered like a full index (400 series_limit, the rest of the
 * request written, never a retryable 5xx), and exemplar labels (no repeated name, at most 128
 * characters, as Prometheus allows). Each refusal names its reason; the valid neighbours are stored.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { compressBody, encodeRequest2, encodeWriteRequest1, type LabelPair, type TimeSeries1 } from '../fixtures/encode.js'
import { scrapeMetrics, sumOf } from '../helpers/exposition.js'
import { postWrite } from '../helpers/remote-write.js'
import { startServiceProcess, type ServiceProcess } from '../helpers/service-process.js'
import { T0 } from '../receive/bodies.js'

let running: ServiceProcess[] = []
afterEach(async () => {
  await Promise.all(running.map(p => p.stop('SIGKILL')))
  running = []
})

async function serve (args: string[] = []): Promise<ServiceProcess> {
  const p = await startServiceProcess(['--sink', 'discard', '--threads', '1', ...args])
  running.push(p)
  return p
}

async function metric (p: ServiceProcess, name: string, labels: Record<string, string> = {}): Promise<number> {
  return sumOf(await scrapeMetrics(p.url), name, labels)
}

function series (labels: LabelPair[], value = 1): TimeSeries1 {
  return { labels: [['__name__', 'limits_metric'], ...labels], samples: [{ value, timestamp: T0 }] }
}

/** Posts `bad` between two valid series; returns the answer. */
async function between (p: ServiceProcess, bad: TimeSeries1, headers: Record<string, string> = {}): Promise<{ status: number, code: string | undefined, body: string }> {
  const res = await postWrite(p.url, compressBody(encodeWriteRequest1({ timeseries: [series([['n', 'a']]), bad, series([['n', 'b']])] })), { headers })
  return { status: res.status, code: res.headers['x-prom-ingest-error'], body: res.body }
}

describe('label limits by default', () => {
  it('take 30 labels, 1,024-byte names and 2,048-byte values, and refuse more', async () => {
    const p = await serve()
    const labels29 = Array.from({ length: 29 }, (_, i): LabelPair => [`l${String(i).padStart(2, '0')}`, 'v'])
    expect((await between(p, series(labels29))).status).toBe(204)
    expect((await between(p, series([['big', 'x'.repeat(2048)], ['n'.repeat(1024), 'v']]))).status).toBe(204)

    const tooMany = await between(p, series([...labels29, ['zz', 'v']]))
    expect(tooMany).toMatchObject({ status: 400, code: 'too_many_labels' })
    expect(tooMany.body).toContain('31 labels, more than the limit of 30')
    expect(await between(p, series([['big', 'x'.repeat(2049)]]))).toMatchObject({ status: 400, code: 'label_value_too_long' })
    expect(await between(p, series([['n'.repeat(1025), 'v']]))).toMatchObject({ status: 400, code: 'label_name_too_long' })
    // Every valid neighbour was stored: 2 requests of 3 series, 3 requests of 2.
    expect(await metric(p, 'prom_ingest_received_samples_total')).toBe(12)
  })
})

describe('the series key limit', () => {
  it('refuses a new series whose labels and tenant are longer than max-series-key-bytes', async () => {
    const p = await serve(['--max-series-key-bytes', '1024'])
    // Labels of 936 bytes canonically encoded: within the limit alone, over it with a 140-character tenant.
    const long = series([['v', 'x'.repeat(900)]])
    expect((await between(p, long)).status).toBe(204)
    const tenant = 't'.repeat(140)
    const refused = await between(p, long, { 'x-scope-orgid': tenant })
    expect(refused).toMatchObject({ status: 400, code: 'series_key_too_large' })
    expect(refused.body).toContain('1 of 3 series refused')
    expect(refused.body).toContain('the series key (labels and tenant) is 1079 bytes, more than the limit of 1024 (max-series-key-bytes)')
    expect(await metric(p, 'prom_ingest_received_samples_total')).toBe(5)
  })
})

describe('a full key arena', () => {
  it('is a 400 series_limit partial write, and a shorter key still fits after it', async () => {
    // 64 KiB of keys: about 60 series of 1,000-byte keys.
    const p = await serve(['--series-arena-bytes', '64KiB', '--max-series', '4096'])
    const big = Array.from({ length: 100 }, (_, k) => series([['k', String(k).padStart(3, '0')], ['v', 'x'.repeat(960)]]))
    const res = await postWrite(p.url, compressBody(encodeWriteRequest1({ timeseries: big })))
    expect(res.status).toBe(400)
    expect(res.headers['x-prom-ingest-error']).toBe('series_limit')
    expect(res.headers['retry-after']).toBeUndefined()
    expect(res.body).toContain('series-arena-bytes')
    const refused = await metric(p, 'prom_ingest_series_refused_total', { reason: 'series_limit' })
    expect(refused).toBeGreaterThan(30)
    expect(refused).toBeLessThan(50)
    expect(await metric(p, 'prom_ingest_received_samples_total')).toBe(100 - refused)
    // The same request again: the stored ones are known now, the others are refused again, still a 400.
    expect((await postWrite(p.url, compressBody(encodeWriteRequest1({ timeseries: big })))).status).toBe(400)
    expect(await metric(p, 'prom_ingest_received_samples_total')).toBe(2 * (100 - refused))
    // A short key fits in what is left.
    expect((await postWrite(p.url, compressBody(encodeWriteRequest1({ timeseries: [series([['n', 'short']])] })))).status).toBe(204)
  })
})

describe('exemplar labels', () => {
  it('refuse a repeated name and more than 128 characters with exemplar_invalid', async () => {
    const p = await serve()
    const withExemplar = (labels: LabelPair[]): TimeSeries1 => ({ ...series([['n', 'e']]), exemplars: [{ labels, value: 1, timestamp: T0 }] })
    // 128 characters (é is one character, two bytes): accepted.
    expect((await between(p, withExemplar([['trace_id', 'é'.repeat(60)], ['span_id', 'x'.repeat(53)]]))).status).toBe(204)
    const dup = await between(p, withExemplar([['trace_id', 'a'], ['span_id', 'b'], ['trace_id', 'c']]))
    expect(dup).toMatchObject({ status: 400, code: 'exemplar_invalid' })
    expect(dup.body).toContain('label name "trace_id" occurs more than once')
    const long = await between(p, withExemplar([['trace_id', 'é'.repeat(60)], ['span_id', 'x'.repeat(54)]]))
    expect(long).toMatchObject({ status: 400, code: 'exemplar_invalid' })
    expect(long.body).toContain('more than 128 characters')
    // The same in Remote Write 2.0.
    const v2 = await postWrite(p.url, compressBody(encodeRequest2({ timeseries: [{ labels: [['__name__', 'v2'], ['n', 'x']], samples: [{ value: 1, timestamp: T0 }], exemplars: [{ labels: [['a', '1'], ['a', '2']], value: 1, timestamp: T0 }] }] })), { version: '2.0' })
    expect(v2.status).toBe(400)
    expect(v2.headers['x-prom-ingest-error']).toBe('exemplar_invalid')
    expect(await metric(p, 'prom_ingest_received_exemplars_total')).toBe(1)
  })
})
