/**
 * `prom-ingest query` on the database file (no service running) and `prom-ingest export`: Parquet
 * that DuckDB reads back with the same rows.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { DuckDBInstance } from '@duckdb/node-api'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { captureCli } from '../../helpers/cli-output.js'
import { parseTime, runExport } from '../../../src/cli/export.js'
import { runQuery } from '../../../src/cli/query.js'
import { SERVICE_INFO_FILE } from '../../../src/sinks/duckdb/service-info.js'
import { encode1, staleMarker, type LabelPair } from '../../fixtures/encode.js'
import { openSink, removeTempDirs, tempDir, TestDecoder } from './helpers.js'

const T = Date.UTC(2025, 5, 1)
let dir: string

beforeAll(async () => {
  dir = tempDir()
  const d = new TestDecoder()
  const sink = await openSink(dir, { index: d.index })
  const labels = (i: number): LabelPair[] => [['__name__', i < 3 ? 'cpu' : 'mem'], ['host', `h${i}`], ['job', 'node']]
  // 5 series x 4 samples, one minute apart; one stale marker.
  const timeseries = Array.from({ length: 5 }, (_, i) => ({
    labels: labels(i),
    samples: Array.from({ length: 4 }, (_, k) => ({ value: i === 4 && k === 3 ? staleMarker : i * 10 + k, timestamp: T + k * 60_000 }))
  }))
  await sink.write(d.batch(encode1({ timeseries }).body, { tenant: 'acme' }))
  await sink.close()
})
afterAll(removeTempDirs)

describe('prom-ingest query on the file', () => {
  it('prints a table, CSV or JSON', async () => {
    const csv = await captureCli(() => runQuery(["SELECT metric, labels['host'] AS host, count(*) AS n FROM samples_with_labels GROUP BY ALL ORDER BY host", '--data-dir', dir, '--format', 'csv']))
    expect(csv).toEqual({ code: 0, out: 'metric,host,n\r\ncpu,h0,4\r\ncpu,h1,4\r\ncpu,h2,4\r\nmem,h3,4\r\nmem,h4,4\r\n', err: '' })
    const json = await captureCli(() => runQuery(["SELECT tenant, count(*) AS n FROM series GROUP BY tenant", '--data-dir', dir, '--format', 'json']))
    expect(JSON.parse(json.out)).toEqual([{ tenant: 'acme', n: 5 }])
    const table = await captureCli(() => runQuery(['SELECT count(*) AS n FROM samples', '--data-dir', dir]))
    expect(table.out).toContain('(1 row)')
    expect(table.out).toMatch(/\n\s*20\n/)
  })

  it('refuses writes, and says why', async () => {
    for (const sql of ['DELETE FROM sample_rows', 'DROP TABLE series', `COPY samples TO '${join(dir, 'x.csv')}'`, 'SELECT 1; DELETE FROM sample_rows']) {
      const r = await captureCli(() => runQuery([sql, '--data-dir', dir]))
      expect(r.code).toBe(1)
      expect(r.err).toMatch(/refused/)
    }
    const left = await captureCli(() => runQuery(['SELECT count(*) AS n FROM samples', '--data-dir', dir, '--format', 'csv']))
    expect(left.out).toBe('n\r\n20\r\n')
  })

  it('ignores a service.json whose process is gone, and applies --max-rows', async () => {
    writeFileSync(join(dir, SERVICE_INFO_FILE), JSON.stringify({ port: 1, pid: 2 ** 22 + 12345 }))
    const r = await captureCli(() => runQuery(['SELECT * FROM range(10)', '--data-dir', dir, '--format', 'csv', '--max-rows', '3']))
    expect(r.code).toBe(0)
    expect(r.out).toBe('range\r\n0\r\n1\r\n2\r\n')
    expect(r.err).toMatch(/left out/)
  })

  it('answers usage errors with exit code 2', async () => {
    expect((await captureCli(() => runQuery([]))).code).toBe(2)
    expect((await captureCli(() => runQuery(['SELECT 1', '--format', 'xml']))).code).toBe(2)
    expect((await captureCli(() => runQuery(['SELECT 1', '--data-dir', join(dir, 'nothing-here')]))).code).toBe(1)
  })
})

describe('prom-ingest export', () => {
  async function readParquet (file: string, sql = 'SELECT metric, labels, tenant, series_id, epoch_ms(ts) AS ts, value, start_ts FROM p ORDER BY series_id, ts'): Promise<unknown[][]> {
    const db = await DuckDBInstance.create(':memory:')
    const c = await db.connect()
    await c.run(`CREATE VIEW p AS SELECT * FROM read_parquet('${file}')`)
    const r = await c.runAndReadAll(sql)
    const out = r.getRowsJson() as unknown[][]
    c.closeSync()
    db.closeSync()
    return out
  }

  /** Parquet rows read back as JSON carry maps as key/value lists; the query CLI prints objects. */
  function labelsAsObjects (back: unknown[][]): unknown[][] {
    return back.map(row => [row[0], Object.fromEntries((row[1] as Array<{ key: string, value: string }>).map(e => [e.key, e.value])), row[2], row[3], Number(row[4]), ...row.slice(5)])
  }

  async function storedRows (where = ''): Promise<unknown[][]> {
    const r = await captureCli(() => runQuery([`SELECT metric, labels, tenant, series_id, epoch_ms(ts) AS ts, value, start_ts FROM samples_with_labels ${where} ORDER BY series_id, ts`, '--data-dir', dir, '--format', 'json', '--max-rows', '1000']))
    return (JSON.parse(r.out) as Array<Record<string, unknown>>).map(o => Object.values(o))
  }

  it('writes every sample with its labels as Parquet that DuckDB reads back the same', async () => {
    const out = join(tempDir(), 'export')
    const r = await captureCli(() => runExport(['--format', 'parquet', '--out', out, '--data-dir', dir]))
    expect(r.code).toBe(0)
    expect(r.err).toMatch(/20 samples written/)
    const back = await readParquet(join(out, 'samples.parquet'))
    expect(back).toHaveLength(20)
    // Same rows as the store holds (labels as key/value lists in Parquet's map form).
    expect(labelsAsObjects(back)).toEqual(await storedRows())
    expect(await readParquet(join(out, 'samples.parquet'), 'SELECT typeof(ts), typeof(value), typeof(labels) FROM p LIMIT 1')).toEqual([['TIMESTAMP', 'DOUBLE', 'MAP(VARCHAR, VARCHAR)']])
    expect(await readParquet(join(out, 'samples.parquet'), 'SELECT count(*) FROM p WHERE isnan(value)')).toEqual([['1']])
  })

  it('keeps only samples from --from (inclusive) to --to (exclusive)', async () => {
    const out = join(tempDir(), 'export')
    const from = new Date(T + 60_000).toISOString()
    const r = await captureCli(() => runExport(['--out', out, '--data-dir', dir, '--from', from, '--to', String((T + 180_000) / 1000)]))
    expect(r.code).toBe(0)
    const back = await readParquet(join(out, 'samples.parquet'))
    expect(back).toHaveLength(10) // minutes 1 and 2 of 5 series
    expect(labelsAsObjects(back)).toEqual(await storedRows(`WHERE ts >= epoch_ms(${T + 60_000}::BIGINT) AND ts < epoch_ms(${T + 180_000}::BIGINT)`))
  })

  it('reads times as RFC 3339, Unix seconds or ms, now and now-<duration>', () => {
    const now = Date.UTC(2025, 0, 1)
    expect(parseTime('2025-01-01T00:00:00Z', now)).toBe(now)
    expect(parseTime(String(now / 1000), now)).toBe(now)
    expect(parseTime(String(now), now)).toBe(now)
    expect(parseTime('now', now)).toBe(now)
    expect(parseTime('now-1h', now)).toBe(now - 3_600_000)
    expect(() => parseTime('yesterday', now)).toThrow(/cannot read/)
  })

  it('answers usage errors with exit code 2', async () => {
    expect((await captureCli(() => runExport(['--data-dir', dir]))).code).toBe(2)
    expect((await captureCli(() => runExport(['--out', tempDir(), '--format', 'csv']))).code).toBe(2)
    expect((await captureCli(() => runExport(['--out', tempDir(), '--from', 'now', '--to', 'now-1h']))).code).toBe(2)
  })
})
