/**
 * `prom-ingest query --clickhouse-url URL "SQL"` against a real ClickHouse 18.16 holding rows the
 * ClickHouse sink wrote: the three output formats, the row limit, and ClickHouse's readonly=1
 * refusing a statement that would change data. Skips at run time, naming the binary, when
 * clickhouse-server is not installed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { captureCli } from '../../helpers/cli-output.js'
import { runQuery } from '../../../src/cli/query.js'
import { compressBody, encode1, type LabelPair } from '../../fixtures/encode.js'
import { CLICKHOUSE_SERVER, clickhouseAvailable, startClickHouse, type ClickHouse } from '../../helpers/clickhouse.js'
import { postWrite } from '../../helpers/remote-write.js'
import { startInProcess } from '../../helpers/service-in-process.js'

const present = clickhouseAvailable()
if (!present) console.warn(`skipping the ClickHouse query test: ${CLICKHOUSE_SERVER} is not installed`)

const T = Date.UTC(2025, 5, 1)

describe.runIf(present)('prom-ingest query --clickhouse-url', () => {
  let ch: ClickHouse
  beforeAll(async () => {
    ch = await startClickHouse()
    const service = await startInProcess(['--sink', 'clickhouse', '--clickhouse-url', ch.url, '--clickhouse-database', 'q', '--clickhouse-flush-interval', '20ms'])
    try {
      const timeseries = Array.from({ length: 3 }, (_, i) => ({
        labels: [['__name__', 'cpu'], ['host', `h${i}`]] as LabelPair[],
        samples: [{ value: i + 0.5, timestamp: T }, { value: i + 1.5, timestamp: T + 60_000 }]
      }))
      expect((await postWrite(service.url, compressBody(encode1({ timeseries }).body))).status).toBe(204)
    } finally {
      await service.close()
    }
  }, 60_000)
  afterAll(async () => { await ch?.stop() })

  const query = (sql: string, ...more: string[]): Promise<{ code: number, out: string, err: string }> =>
    captureCli(() => runQuery(['--clickhouse-url', ch.url, '--clickhouse-database', 'q', ...more, sql]))
  // Samples with their labels, as docs/clickhouse.md gives it.
  const WITH_LABELS = `SELECT s.metric_name AS metric, s.label_values[indexOf(s.label_names, 'host')] AS host, timestamp_ms, value
    FROM prom_samples ANY INNER JOIN (SELECT DISTINCT fingerprint, metric_name, label_names, label_values FROM prom_series) AS s USING fingerprint
    ORDER BY host, timestamp_ms`

  it('table: names, types, rows aligned (numbers to the right) and a row count', async () => {
    const r = await query(WITH_LABELS)
    expect(r.code).toBe(0)
    const lines = r.out.trimEnd().split('\n')
    expect(lines[0]).toMatch(/^metric \| host +\| +timestamp_ms \| +value$/)
    expect(lines[1]).toMatch(/^String \| String \| +Int64 \| Float64$/)
    expect(lines[3]).toMatch(/^cpu +\| h0 +\| 1748736000000 \| +0\.5$/)
    expect(lines.at(-1)).toBe('(6 rows)')
  })

  it('csv and json', async () => {
    const csv = await query('SELECT metric_name, label_names, count() AS n FROM prom_series GROUP BY metric_name, label_names', '--format', 'csv')
    expect(csv.code).toBe(0)
    expect(csv.out).toBe('metric_name,label_names,n\r\ncpu,"[""host""]",3\r\n')
    const json = await query(WITH_LABELS + ' LIMIT 2', '--format', 'json')
    expect(json.code).toBe(0)
    expect(JSON.parse(json.out)).toEqual([
      { metric: 'cpu', host: 'h0', timestamp_ms: String(T), value: 0.5 },
      { metric: 'cpu', host: 'h0', timestamp_ms: String(T + 60_000), value: 1.5 }
    ])
  })

  it('--max-rows leaves the rest out and says so', async () => {
    const r = await query(WITH_LABELS, '--max-rows', '4', '--format', 'csv')
    expect(r.code).toBe(0)
    expect(r.out.trimEnd().split('\r\n').length).toBe(1 + 4)
    expect(r.err).toContain('rows after the first 4 were left out')
  })

  it('read-only: ClickHouse refuses a statement that changes data (readonly=1), and nothing changed', async () => {
    const r = await query('INSERT INTO prom_samples VALUES (1, 1, 1)')
    expect(r.code).toBe(1)
    expect(r.err).toMatch(/answered 500: Code: 164.*readonly/i)
    const drop = await query('DROP TABLE prom_samples')
    expect(drop.code).toBe(1)
    expect((await query('SELECT count() AS n FROM prom_samples', '--format', 'csv')).out).toBe('n\r\n6\r\n')
  })

  it('a statement ClickHouse cannot run: exit 1 and its reason', async () => {
    const r = await query('SELECT nope FROM prom_samples')
    expect(r.code).toBe(1)
    expect(r.err).toMatch(/prom-ingest query: ClickHouse at .* answered \d+: Code: 47/)
  })
})
