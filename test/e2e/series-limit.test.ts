/**
 * A full series index against the real process (`--max-series 1024`, the smallest allowed): the
 * samples of known series are stored, nothing of the new series refused for the limit, and the
 * answer is a 400 series_limit partial write (never a retryable 5xx) that names the limit and how
 * many series were refused; 2.0 answers carry the written counts. Refused series are counted in
 * prom_ingest_series_refused_total. A store that holds more series than max-series fails to start
 * with series_load_failed.
 */
import { DuckDBInstance } from '@duckdb/node-api'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { databaseFile } from '../../src/sinks/duckdb/open-database.js'
import { compressBody, encodeRequest2, encodeWriteRequest1, type TimeSeries2 } from '../fixtures/encode.js'
import { scrapeMetrics, sumOf } from '../helpers/exposition.js'
import { postWrite } from '../helpers/remote-write.js'
import { startServiceProcess, type ServiceProcess } from '../helpers/service-process.js'
import { ensureWorkerBuilt, removeTempDirs, tempDir } from '../sinks/duckdb/helpers.js'
import { series1, T0 } from '../receive/bodies.js'

let running: ServiceProcess[] = []
afterEach(async () => {
  await Promise.all(running.map(p => p.stop('SIGKILL')))
  running = []
})
afterAll(removeTempDirs)

async function serve (args: string[]): Promise<ServiceProcess> {
  ensureWorkerBuilt()
  const p = await startServiceProcess(['--threads', '1', '--commit-interval', '5ms', ...args])
  running.push(p)
  return p
}

async function metric (p: ServiceProcess, name: string, labels: Record<string, string> = {}): Promise<number> {
  return sumOf(await scrapeMetrics(p.url), name, labels)
}

/** Runs `sql` on the store of a stopped service; rows as arrays. */
async function query (dataDir: string, sql: string): Promise<unknown[][]> {
  const instance = await DuckDBInstance.create(databaseFile(dataDir), { access_mode: 'READ_ONLY' })
  try {
    const c = await instance.connect()
    try { return (await c.runAndReadAll(sql)).getRowsJS() as unknown[][] } finally { c.closeSync() }
  } finally {
    instance.closeSync()
  }
}

function v2Series (n: number, job: string): TimeSeries2[] {
  return Array.from({ length: n }, (_, k) => ({
    labels: [['__name__', 'v2_metric'], ['instance', `i${k}`], ['job', job]],
    samples: [{ value: k, timestamp: T0 + 5000 }]
  }))
}

describe('a full series index', () => {
  it('stores the known series, refuses the new ones with 400 series_limit, and counts them', async () => {
    const dataDir = tempDir()
    const p = await serve(['--sink', 'duckdb', '--data-dir', dataDir, '--max-series', '1024'])

    // 1,000 series fill the index up to 24 free places.
    expect((await postWrite(p.url, compressBody(encodeWriteRequest1({ timeseries: series1(1000, 1, 'known') })))).status).toBe(204)

    // Known series with a second sample, and 50 new series: 24 fit, 26 are refused.
    const mixed = [...series1(1000, 1, 'known').map(s => ({ ...s, samples: [{ value: 7, timestamp: T0 + 1000 }] })), ...series1(50, 1, 'new')]
    const res = await postWrite(p.url, compressBody(encodeWriteRequest1({ timeseries: mixed })))
    expect(res.status).toBe(400)
    expect(res.headers['x-prom-ingest-error']).toBe('series_limit')
    expect(res.headers['retry-after']).toBeUndefined()
    expect(res.body).toContain('26 of 1050 series refused (26 new series because the series index is full)')
    expect(res.body).toContain('max-series is 1024')

    // Remote Write 2.0: the written counts say what was stored (the 1,000 known series), nothing of the new.
    const res2 = await postWrite(p.url, compressBody(encodeRequest2({ timeseries: [...v2Series(5, 'new2'), ...v2Series(1000, 'known').map((s, k) => ({ ...s, labels: series1(1000, 1, 'known')[k]!.labels }))] })), { version: '2.0' })
    expect(res2.status).toBe(400)
    expect(res2.headers['x-prom-ingest-error']).toBe('series_limit')
    expect(res2.headers['x-prometheus-remote-write-samples-written']).toBe('1000')
    expect(res2.body).toContain('5 of 1005 series refused (5 new series because the series index is full)')

    // A request of known series only is a plain success (a later sample: a resend of the first would
    // be read once, docs/store-dedup.md).
    const later = series1(10, 1, 'known').map(s => ({ ...s, samples: [{ value: 9, timestamp: T0 + 9000 }] }))
    expect((await postWrite(p.url, compressBody(encodeWriteRequest1({ timeseries: later })))).status).toBe(204)

    expect(await metric(p, 'prom_ingest_series_refused_total', { reason: 'series_limit' })).toBe(31)
    expect(await metric(p, 'prom_ingest_rejected_requests_total', { reason: 'series_limit' })).toBe(2)
    expect(await metric(p, 'prom_ingest_series_known')).toBe(1024)
    expect(await p.stop()).toBe(0)

    const [[series, known, fresh, refusedNew2]] = await query(dataDir, `SELECT
      (SELECT count(*) FROM series),
      (SELECT count(*) FROM samples_with_labels WHERE labels['job'] = 'known'),
      (SELECT count(*) FROM samples_with_labels WHERE labels['job'] = 'new'),
      (SELECT count(*) FROM series WHERE labels['job'] = 'new2')`) as [[bigint, bigint, bigint, bigint]]
    expect(Number(series)).toBe(1024)
    // 1,000 first samples, 1,000 second ones, 1,000 from the 2.0 request, 10 from the last one.
    expect(Number(known)).toBe(3010)
    expect(Number(fresh)).toBe(24)
    expect(Number(refusedNew2)).toBe(0)
  })

  it('a store holding more series than max-series fails to start with series_load_failed', async () => {
    const dataDir = tempDir()
    const p = await serve(['--sink', 'duckdb', '--data-dir', dataDir, '--max-series', '2048'])
    expect((await postWrite(p.url, compressBody(encodeWriteRequest1({ timeseries: series1(1500) })))).status).toBe(204)
    expect(await p.stop()).toBe(0)

    const again = await startServiceProcess(['--threads', '1', '--sink', 'duckdb', '--data-dir', dataDir, '--max-series', '1024']).then(
      started => { running.push(started); return undefined },
      (err: Error) => err
    )
    expect(again).toBeInstanceOf(Error)
    expect(again!.message).toContain('series_load_failed')
  })
})
