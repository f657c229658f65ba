/**
 * Read-only queries: every statement that would change data, settings or files is refused (through
 * the sink, the HTTP route and the CLI on the file) and the data is unchanged afterwards; reads work
 * in every output format, within the row and time limits.
 */
import { createServer, type Server } from 'node:http'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { IngestError, toIngestError } from '../../../src/errors.js'
import { sendError } from '../../../src/receive/error-response.js'
import { runQuery } from '../../../src/cli/query.js'
import { queryRoutes } from '../../../src/sinks/duckdb/query-handler.js'
import { writeServiceInfo } from '../../../src/sinks/duckdb/service-info.js'
import type { DuckDbSink } from '../../../src/sinks/duckdb/duckdb-sink.js'
import { encode1, type LabelPair } from '../../fixtures/encode.js'
import { openSink, removeTempDirs, rows, tempDir, TestDecoder } from './helpers.js'

const T = Date.UTC(2025, 4, 1)

let dir: string
let sink: DuckDbSink

beforeAll(async () => {
  dir = tempDir()
  const d = new TestDecoder()
  sink = await openSink(dir, { index: d.index, queryLimits: { maxRows: 50, timeoutMs: 2_000, maxAnswerBytes: 64 * 1024 * 1024 } })
  const labels = (i: number): LabelPair[] => [['__name__', 'q'], ['i', String(i)], ['job', i % 2 === 0 ? 'even' : 'odd']]
  await sink.write(d.batch(encode1({ timeseries: Array.from({ length: 10 }, (_, i) => ({ labels: labels(i), samples: [{ value: i, timestamp: T + i }] })) }).body))
})

afterAll(async () => {
  await sink?.close()
  removeTempDirs()
})

/** Statements that must never run. Paths point into the test's own directory. */
function attempts (d: string): string[] {
  const file = join(d, 'outside.csv')
  writeFileSync(file, 'a\n1\n')
  return [
    'DELETE FROM sample_rows',
    "UPDATE series SET metric = 'x'",
    'INSERT INTO sample_rows SELECT * FROM sample_rows',
    'DROP TABLE sample_rows',
    'DROP VIEW samples_with_labels',
    'TRUNCATE sample_rows',
    'CREATE TABLE t AS SELECT 1',
    'CREATE VIEW v AS SELECT 1',
    'CREATE MACRO m(a) AS a + 1',
    'CREATE SEQUENCE s',
    'ALTER TABLE sample_rows ADD COLUMN x INTEGER',
    'ALTER TABLE series RENAME TO s2',
    `COPY samples TO '${join(d, 'out.csv')}'`,
    `COPY samples FROM '${file}'`,
    `EXPORT DATABASE '${join(d, 'exported')}'`,
    `IMPORT DATABASE '${d}'`,
    `ATTACH '${join(d, 'other.duckdb')}' AS other`,
    'DETACH other',
    'INSTALL httpfs',
    'LOAD httpfs',
    'SET threads = 1',
    'RESET threads',
    "SET memory_limit = '1GB'",
    'PRAGMA enable_profiling',
    'PRAGMA show_tables',
    'CALL checkpoint()',
    'CHECKPOINT',
    'FORCE CHECKPOINT',
    'VACUUM',
    'ANALYZE',
    'BEGIN TRANSACTION',
    'COMMIT',
    'ROLLBACK',
    'USE memory',
    'SELECT 1; DELETE FROM sample_rows',
    'SELECT 1; SELECT 2',
    'WITH x AS (SELECT 1) DELETE FROM sample_rows',
    'EXPLAIN ANALYZE DELETE FROM sample_rows',
    'EXPLAIN SELECT 1',
    "SELECT * FROM query('DELETE FROM sample_rows')",
    `SELECT * FROM read_csv('${file}')`,
    `SELECT * FROM read_text('${file}')`,
    `SELECT * FROM '${file}'`,
    "SELECT * FROM glob('/etc/*')",
    "SELECT * FROM read_parquet('/tmp/*.parquet')",
    'SELECT * FROM force_checkpoint()',
    'SELECT * FROM (SELECT * FROM checkpoint())',
    "SELECT nextval('s')",
    "CREATE SECRET (TYPE s3, KEY_ID 'k', SECRET 's')",
    'SELECT $1',
    ''
  ]
}

async function dataUnchanged (): Promise<void> {
  expect(await rows(sink, 'SELECT count(*) AS samples, sum(value) AS total FROM samples')).toEqual([{ samples: 10, total: 45 }])
  expect(await rows(sink, "SELECT count(*) AS series FROM series WHERE metric = 'q'")).toEqual([{ series: 10 }])
  expect(await rows(sink, "SELECT count(*) AS n FROM duckdb_tables() WHERE database_name = 'prom-ingest' OR schema_name = 'main'")).toEqual([{ n: 8 }])
}

describe('query guard', () => {
  it('refuses every statement that would change data, settings or files, and nothing changes', async () => {
    const refused: string[] = []
    for (const sql of attempts(tempDir())) {
      const err = await sink.query(sql, 'json').then(() => undefined, (e: unknown) => e)
      if (err === undefined) throw new Error(`ran: ${sql}`)
      expect(err).toBeInstanceOf(IngestError)
      expect(['query_refused', 'query_failed']).toContain((err as IngestError).code)
      if ((err as IngestError).code === 'query_refused') refused.push(sql)
    }
    // Most are refused outright (not merely failing): every write statement type, files, settings.
    for (const sql of ['DELETE FROM sample_rows', 'DROP TABLE sample_rows', "SET memory_limit = '1GB'", 'SELECT 1; DELETE FROM sample_rows', 'WITH x AS (SELECT 1) DELETE FROM sample_rows', 'EXPLAIN ANALYZE DELETE FROM sample_rows', 'SELECT * FROM force_checkpoint()', 'ATTACH', 'COPY samples TO', 'read_csv(']) {
      expect(refused.some(r => r.startsWith(sql) || r.includes(sql)), sql).toBe(true)
    }
    await dataUnchanged()
  })

  it('runs reads: SELECT, WITH, FROM-first, VALUES, SHOW, DESCRIBE, SUMMARIZE', async () => {
    expect(await rows(sink, "SELECT labels['job'] AS job, count(*) AS n FROM samples_with_labels GROUP BY 1 ORDER BY 1")).toEqual([{ job: 'even', n: 5 }, { job: 'odd', n: 5 }])
    expect(await rows(sink, 'WITH x AS (SELECT max(value) AS m FROM samples) SELECT m FROM x')).toEqual([{ m: 9 }])
    expect(await rows(sink, 'FROM samples SELECT count(*) AS n')).toEqual([{ n: 10 }])
    expect(await rows(sink, 'VALUES (1, 2)')).toEqual([{ col0: 1, col1: 2 }])
    expect((await rows(sink, 'SHOW TABLES')).map(r => r.name)).toEqual(expect.arrayContaining(['samples', 'series', 'histograms', 'exemplars', 'metadata', 'samples_with_labels']))
    expect((await rows(sink, 'DESCRIBE samples')).map(r => [r.column_name, r.column_type])).toEqual([['series_id', 'UINTEGER'], ['ts', 'TIMESTAMP'], ['value', 'DOUBLE'], ['start_ts', 'TIMESTAMP']])
    expect((await rows(sink, 'SUMMARIZE samples')).length).toBe(4)
  })

  it('formats tables, CSV and JSON, and says when the row limit left rows out', async () => {
    const table = await sink.query("SELECT labels['i'] AS i, value FROM samples_with_labels ORDER BY value LIMIT 2", 'table')
    expect(table.body.split('\n')).toEqual([
      'i       |  value',
      'VARCHAR | DOUBLE',
      '--------+-------',
      '0       |      0',
      '1       |      1',
      '(2 rows)',
      ''
    ])
    const csv = await sink.query("SELECT labels['i'] AS i, 'a,\"b' AS odd, NULL AS nothing FROM samples_with_labels ORDER BY value LIMIT 1", 'csv')
    expect(csv.body).toBe('i,odd,nothing\r\n0,"a,""b",\r\n')
    expect(csv.contentType).toMatch(/^text\/csv/)
    const limited = await sink.query('SELECT * FROM range(100)', 'json')
    expect(limited.truncated).toBe(true)
    expect(limited.rowCount).toBe(50)
    expect(JSON.parse(limited.body)).toHaveLength(50)
  })

  it('stops a query that runs past the time limit', async () => {
    const err = await sink.query('SELECT count(*) FROM range(1000000000000) a', 'json').then(() => undefined, (e: unknown) => e)
    expect(err).toMatchObject({ code: 'query_failed' })
    expect((err as Error).message).toMatch(/time limit/)
    expect(await rows(sink, 'SELECT 1 AS one')).toEqual([{ one: 1 }]) // the connection still works
  })

  it('answers queries that arrive together', async () => {
    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => rows(sink, `SELECT ${i} AS i, count(*) AS n FROM samples`)))
    expect(answers).toEqual(Array.from({ length: 8 }, (_, i) => [{ i, n: 10 }]))
  })
})

describe('query route (GET/POST /api/v1/query)', () => {
  let server: Server
  let url: string
  beforeAll(async () => {
    const routes = queryRoutes(sink)
    server = createServer((req, res) => {
      // The service checks auth before its extra routes; this stands in for it.
      if (req.headers.authorization !== 'Bearer s3cret') { res.statusCode = 401; res.end('unauthorized\n'); return }
      const path = (req.url ?? '/').split('?')[0]
      const route = routes.find(r => r.method === req.method && r.path === path)
      if (route === undefined) { res.statusCode = 404; res.end(); return }
      // The service answers what a route throws through its one error answer; this does the same.
      Promise.resolve(route.handle(req, res)).catch((err: unknown) => sendError(res, toIngestError(err), { retryAfterSeconds: 1, authenticate: [] }, !req.complete))
    })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    const address = server.address() as { port: number }
    url = `http://127.0.0.1:${address.port}`
  })
  afterAll(async () => { await new Promise(resolve => server.close(resolve)) })

  const auth = { authorization: 'Bearer s3cret' }

  it('answers GET with URL parameters and POST with a form or a text body', async () => {
    const get = await fetch(`${url}/api/v1/query?query=${encodeURIComponent('SELECT count(*) AS n FROM samples')}&format=json`, { headers: auth })
    expect(get.status).toBe(200)
    expect(get.headers.get('content-type')).toMatch(/^application\/json/)
    expect(await get.json()).toEqual([{ n: 10 }])
    const form = await fetch(`${url}/api/v1/query`, { method: 'POST', headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ query: 'SELECT 7 AS seven', format: 'csv' }).toString() })
    expect(await form.text()).toBe('seven\r\n7\r\n')
    const text = await fetch(`${url}/api/v1/query?format=csv`, { method: 'POST', headers: { ...auth, 'content-type': 'text/plain' }, body: 'SELECT 8 AS eight' })
    expect(await text.text()).toBe('eight\r\n8\r\n')
    // curl --data-binary 'SELECT ...' sends plain SQL labelled as a form.
    const curlish = await fetch(`${url}/api/v1/query?format=csv`, { method: 'POST', headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' }, body: 'SELECT 9 AS nine' })
    expect(await curlish.text()).toBe('nine\r\n9\r\n')
  })

  it('answers 400 query_refused to writes, with a reason, and changes nothing', async () => {
    for (const sql of ['DELETE FROM sample_rows', 'DROP TABLE series', "COPY samples TO '/tmp/x.csv'", 'SELECT 1; DELETE FROM sample_rows']) {
      const res = await fetch(`${url}/api/v1/query`, { method: 'POST', headers: { ...auth, 'content-type': 'text/plain' }, body: sql })
      expect(res.status).toBe(400)
      expect(res.headers.get('x-prom-ingest-error')).toBe('query_refused')
      expect((await res.text()).length).toBeGreaterThan(10)
    }
    await dataUnchanged()
  })

  it('names unknown formats', async () => {
    const res = await fetch(`${url}/api/v1/query?format=xml&query=SELECT%201`, { headers: auth })
    expect(res.status).toBe(400)
    expect(res.headers.get('x-prom-ingest-error')).toBe('query_failed')
    expect(await res.text()).toMatch(/unknown format "xml"/)
  })

  it('prom-ingest query goes to the running service that service.json names, with the bearer token', async () => {
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true)
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
    try {
      writeServiceInfo(dir, { port: Number(new URL(url).port), pid: process.pid })
      // The sink has the file open: only the HTTP route can answer.
      expect(await runQuery(['SELECT count(*) AS n FROM samples', '--data-dir', dir, '--format', 'csv', '--bearer-token', 's3cret'])).toBe(0)
      expect(out.mock.calls.map(c => String(c[0])).join('')).toBe('n\r\n10\r\n')
      out.mockClear()
      expect(await runQuery(['SELECT count(*) AS n FROM samples', '--data-dir', dir])).toBe(1) // no token: 401
      expect(err.mock.calls.map(c => String(c[0])).join('')).toMatch(/401/)
      err.mockClear()
      expect(await runQuery(['DELETE FROM sample_rows', '--url', url, '--bearer-token', 's3cret'])).toBe(1)
      expect(err.mock.calls.map(c => String(c[0])).join('')).toMatch(/refused/)
    } finally {
      out.mockRestore()
      err.mockRestore()
    }
    await dataUnchanged()
  })
})
