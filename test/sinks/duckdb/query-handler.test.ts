/**
 * The query route of the real service process (`prom-ingest serve`, sink duckdb): answers stream and
 * are bounded in bytes, running and waiting queries are bounded, a short query does not wait behind
 * long ones, table functions that run SQL text are refused, and every error answer is the service's
 * one error answer (Retry-After on retryable ones; a 413 closes the connection it cannot read on).
 */
import { connect } from 'node:net'
import { statSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { parseExposition } from '../../helpers/exposition.js'
import { writeForever, writeThenRead } from '../../helpers/refused-sender.js'
import { postWrite } from '../../helpers/remote-write.js'
import { startServiceProcess, type ServiceProcess } from '../../helpers/service-process.js'
import { body1 } from '../../receive/bodies.js'
import { removeTempDirs, tempDir } from './helpers.js'

let running: ServiceProcess[] = []
afterEach(async () => {
  await Promise.all(running.map(p => p.stop('SIGKILL')))
  running = []
})
afterAll(removeTempDirs)

/**
 * Starts the service on its own data directory. Settings go in as environment variables, which a
 * build without them ignores: so these tests run against main too, and fail there for what they test.
 */
async function serve (settings: Record<string, string> = {}, dataDir = tempDir()): Promise<ServiceProcess> {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(settings)) env[`PROM_INGEST_${k.toUpperCase().replace(/-/g, '_')}`] = v
  const p = await startServiceProcess(['--sink', 'duckdb', '--data-dir', dataDir, '--threads', '1'], env)
  running.push(p)
  return p
}

async function query (p: ServiceProcess, sql: string, format = 'json', init: RequestInit = {}): Promise<Response> {
  return await fetch(`${p.url}/api/v1/query?format=${format}`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: sql, ...init })
}

async function gauge (p: ServiceProcess, name: string): Promise<number> {
  const text = await (await fetch(`${p.url}/metrics`)).text()
  return parseExposition(text).find(m => m.name === name)?.value ?? NaN
}

/** Polls /metrics until the gauge reaches `value` (at most 20 s); returns the last value read. */
async function waitForGauge (p: ServiceProcess, name: string, value: number): Promise<number> {
  let v = NaN
  for (let i = 0; i < 1000; i++) {
    v = await gauge(p, name)
    if (v === value) break
    await new Promise(resolve => setTimeout(resolve, 20))
  }
  return v
}

/** Reads a body to its end without keeping it: its size, its last bytes, and how it ended. */
async function drain (res: Response): Promise<{ bytes: number, tail: string, error: string | undefined }> {
  let bytes = 0
  let tail = Buffer.alloc(0)
  try {
    for await (const part of res.body!) {
      const b = Buffer.from(part as Uint8Array)
      bytes += b.length
      tail = Buffer.concat([tail, b]).subarray(-300)
    }
    return { bytes, tail: tail.toString(), error: undefined }
  } catch (err) {
    return { bytes, tail: tail.toString(), error: String((err as Error).cause ?? err) }
  }
}

/** A query that runs until it is stopped (the time limit, or its client going away). */
const LONG = 'SELECT count(*) FROM range(1000000000000000) t(a) WHERE a % 7 = 3'

describe('answers: streamed, bounded in bytes', () => {
  it('streams an answer larger than any string the process could build (main built it whole: 500 "Invalid string length")', async () => {
    const p = await serve({ 'query-max-answer-bytes': '1GiB' })
    // 100 rows of 1 MB of U+0001, which JSON writes as \u0001: 600 MB of answer from 100 MB of rows.
    const rows = 100
    const length = 1_000_000
    const res = await query(p, `SELECT repeat(chr(1), ${length}) AS v FROM range(${rows})`)
    expect(res.status).toBe(200)
    const got = await drain(res)
    expect(got.error).toBeUndefined()
    expect(got.bytes).toBe(2 + rows * (8 + 6 * length) + (rows - 1) * 2 + 3)
    expect(got.tail.endsWith('\\u0001"}\n]\n')).toBe(true)
    // An answer that fits in the held bytes names its rows in a header.
    expect((await query(p, 'SELECT 1 AS one')).headers.get('x-prom-ingest-rows')).toBe('1')
  }, 180_000)

  it('answers 400 query_too_large over query-max-answer-bytes, and the connection and the service go on', async () => {
    const p = await serve({ 'query-max-answer-bytes': '256KiB' })
    for (const format of ['json', 'csv', 'table']) {
      const res = await query(p, "SELECT repeat('x', 1000) AS v FROM range(1000)", format)
      expect(res.status).toBe(400)
      expect(res.headers.get('x-prom-ingest-error')).toBe('query_too_large')
      expect(await res.text()).toMatch(/larger than the limit of 262144 bytes/)
    }
    const small = await query(p, "SELECT repeat('x', 1000) AS v FROM range(100)", 'csv')
    expect(small.status).toBe(200)
    expect((await small.text()).length).toBe(3 + 100 * 1002)
  })

  it('cuts an answer that passes the limit after its status went out: the last line says why, and the body never ends', async () => {
    const p = await serve({ 'query-max-answer-bytes': '2MiB', 'query-hold-bytes': '64KiB' })
    const res = await query(p, "SELECT repeat('x', 1000) AS v FROM range(10000)", 'csv')
    expect(res.status).toBe(200)
    const got = await drain(res)
    expect(got.error).toBeDefined() // the client sees an incomplete answer, not a short whole one
    expect(got.tail).toMatch(/prom-ingest: the answer was cut off: query_too_large: /)
    expect(got.bytes).toBeLessThan(2 * 1024 * 1024 + 4096)
    expect((await query(p, 'SELECT 2 AS two', 'csv')).status).toBe(200)
  })
})

describe('query turns', () => {
  it('answers a short query while two long ones run (main answered it only after both)', async () => {
    const p = await serve({ 'query-timeout': '120s' })
    const stop = new AbortController()
    let longDone = 0
    const long = [1, 2].map(async () => await query(p, LONG, 'json', { signal: stop.signal }).then(r => r.text()).catch(() => '').finally(() => { longDone++ }))
    try {
      expect(await waitForGauge(p, 'prom_ingest_duckdb_queries_running', 2)).toBe(2)
      const res = await query(p, 'SELECT 1 AS one')
      expect(res.status).toBe(200)
      expect(await res.json()).toEqual([{ one: 1 }])
      expect(longDone).toBe(0) // both long queries still run
    } finally {
      stop.abort()
      await Promise.all(long)
    }
    // A client that goes away gives its query up: its turn is free again.
    expect(await waitForGauge(p, 'prom_ingest_duckdb_queries_running', 0)).toBe(0)
  })

  it('refuses a query beyond the running and waiting ones with 503 query_queue_full and Retry-After', async () => {
    const p = await serve({ 'query-concurrency': '1', 'query-queue': '1', 'query-timeout': '120s', 'retry-after': '3' })
    const stop = new AbortController()
    const first = query(p, LONG, 'json', { signal: stop.signal }).catch(() => undefined)
    try {
      expect(await waitForGauge(p, 'prom_ingest_duckdb_queries_running', 1)).toBe(1)
      const second = query(p, 'SELECT 2', 'json', { signal: stop.signal }).catch(() => undefined)
      expect(await waitForGauge(p, 'prom_ingest_duckdb_queries_waiting', 1)).toBe(1)
      const third = await query(p, 'SELECT 3')
      expect(third.status).toBe(503)
      expect(third.headers.get('x-prom-ingest-error')).toBe('query_queue_full')
      expect(third.headers.get('retry-after')).toBe('3')
      expect(await third.text()).toMatch(/1 queries are running and 1 are waiting/)
      stop.abort()
      await Promise.all([first, second])
    } finally {
      stop.abort()
    }
    expect(await waitForGauge(p, 'prom_ingest_duckdb_queries_running', 0)).toBe(0)
    expect((await query(p, 'SELECT 4 AS four')).status).toBe(200)
  })
})

describe('refused statements', () => {
  it('refuses every table function that runs SQL text, in every disguise, and the store is not checkpointed', async () => {
    const dir = tempDir()
    const p = await serve({}, dir)
    expect((await postWrite(p.url, body1(50))).status).toBe(204)
    // A first read: answered at the store's log (the default), the write's transaction commits for it,
    // so the write-ahead log is measured once it holds the write.
    expect((await query(p, 'SELECT 1 AS one')).status).toBe(200)
    const wal = join(dir, 'prom-ingest.duckdb.wal')
    const walBefore = statSync(wal).size
    expect(walBefore).toBeGreaterThan(0)
    const attempts = [
      "SELECT * FROM query('SELECT * FROM checkpoint()')",
      "SELECT * FROM query('CHECKPOINT')",
      "FROM query('SELECT * FROM force_checkpoint()')",
      "SELECT * FROM QUERY('SELECT 1')",
      "SELECT * FROM main.query('SELECT 1')",
      "SELECT * FROM system.main.query('SELECT 1')",
      "WITH x AS (SELECT * FROM query('SELECT 1')) SELECT * FROM x",
      "SELECT (SELECT count(*) FROM query('SELECT 1'))",
      "SELECT * FROM range(1) r, LATERAL (SELECT * FROM query('SELECT 1'))",
      "SELECT * FROM query_table('samples')",
      "SELECT * FROM query_table(['samples', 'series'])",
      "SELECT json_execute_serialized_sql(json_serialize_sql('SELECT * FROM checkpoint()'))",
      "FROM json_execute_serialized_sql(json_serialize_sql('SELECT 1'))",
      "SUMMARIZE SELECT * FROM query('SELECT 1')",
      "DESCRIBE SELECT * FROM query('SELECT 1')",
      'SELECT * FROM checkpoint()',
      'SELECT * FROM force_checkpoint()',
      'SELECT * FROM enable_logging()',
      'SELECT * FROM truncate_duckdb_logs()',
      'SELECT * FROM enable_profiling()',
      'SELECT * FROM arrow_scan(0, 0, 0)'
    ]
    for (const sql of attempts) {
      const res = await query(p, sql)
      expect(res.status, sql).toBe(400)
      expect(res.headers.get('x-prom-ingest-error'), sql).toBe('query_refused')
      expect(await res.text(), sql).toMatch(/is not allowed in queries/)
    }
    expect(statSync(wal).size).toBe(walBefore) // a checkpoint would have emptied the write-ahead log
    const ok = await query(p, "SELECT count(*) AS n FROM samples_with_labels WHERE metric LIKE '%'", 'csv')
    expect(await ok.text()).toBe('n\r\n50\r\n')
  })

  it('refuses a query that holds no statement with a reason (main: "Error in native callback")', async () => {
    const p = await serve()
    for (const sql of [';', ' ;; ', '-- nothing\n;', '/* nothing */']) {
      const res = await query(p, sql)
      expect(res.status, JSON.stringify(sql)).toBe(400)
      expect(res.headers.get('x-prom-ingest-error')).toBe('query_refused')
      const text = await res.text()
      expect(text).toMatch(/it is empty/)
      expect(text).not.toMatch(/native callback/)
    }
  })
})

/** Sends raw bytes on one connection and collects what comes back until the server closes it. */
async function rawExchange (port: number, chunks: Array<string | Buffer>): Promise<{ text: string, closed: boolean }> {
  return await new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    let text = ''
    socket.on('data', b => { text += b.toString('latin1') })
    socket.on('error', err => { if (text === '') reject(err); else resolve({ text, closed: true }) })
    socket.on('end', () => { socket.destroy(); resolve({ text, closed: true }) })
    socket.on('connect', () => { for (const c of chunks) socket.write(c) })
    socket.setTimeout(20_000, () => { socket.destroy(); resolve({ text, closed: false }) })
  })
}

describe('error answers', () => {
  it('answers a query body over the limit with 413 and closes the connection (main said keep-alive, then answered no more)', async () => {
    const p = await serve()
    const big = Buffer.alloc(2 << 20, 'x')
    const declared = await rawExchange(p.port, [`POST /api/v1/query HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: ${big.length}\r\n\r\n`, big])
    expect(declared.text).toMatch(/^HTTP\/1\.1 413 /)
    expect(declared.text).toMatch(/\r\nconnection: close\r\n/i)
    expect(declared.text).toMatch(/\r\nX-Prom-Ingest-Error: body_too_large\r\n/i)
    expect(declared.closed).toBe(true)
    // Chunked, so that the size is found while reading.
    const chunk = Buffer.alloc(256 << 10, 'x')
    const parts: Array<string | Buffer> = ['POST /api/v1/query HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n']
    for (let i = 0; i < 8; i++) parts.push(`${chunk.length.toString(16)}\r\n`, chunk, '\r\n')
    parts.push('0\r\n\r\n')
    const chunked = await rawExchange(p.port, parts)
    expect(chunked.text).toMatch(/^HTTP\/1\.1 413 /)
    expect(chunked.text).toMatch(/\r\nconnection: close\r\n/i)
    expect(chunked.closed).toBe(true)
    expect((await query(p, 'SELECT 1 AS one')).status).toBe(200)
  })

  it('a sender that writes a query body far over the limit before reading gets the whole 413 (the connection lingers), 20 times of 20', async () => {
    const p = await serve()
    const head = `POST /api/v1/query HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: ${64 << 20}\r\n\r\n`
    for (let i = 0; i < 20; i++) {
      // 4 MiB: written within the service's lingering time (1 s) on loopback.
      const x = await writeThenRead(p.port, head, 4 << 20)
      expect(x.text).toMatch(/^HTTP\/1\.1 413 /)
      expect(x.text).toMatch(/\r\nX-Prom-Ingest-Error: body_too_large\r\n/i)
      expect(x.text).toMatch(/\r\n\r\nthe query body \(67108864 bytes\) is larger than 1048576 bytes\n$/)
      expect(x.error).toBeUndefined()
    }
    const chunked = await writeThenRead(p.port, 'POST /api/v1/query HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n', 4 << 20, true)
    expect(chunked.text).toMatch(/\r\n\r\nthe query body is larger than 1048576 bytes\n$/)
    expect(chunked.error).toBeUndefined()
  }, 120_000)

  it('closes the connection of a query sender that never stops writing its body, after the 413', async () => {
    const p = await serve()
    const x = await writeForever(p.port, `POST /api/v1/query HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: ${1 << 30}\r\n\r\n`)
    // The service closed it (the sender would have gone on for 20,000 chunks, about 100 s).
    expect(x.gaveUp).toBe(false)
    expect(x.writtenAfterAnswer).toBeGreaterThan(0)
    expect(x.text).toMatch(/^HTTP\/1\.1 413 /)
  }, 60_000)

  it('answers query errors through the one error answer: a code header, one line of reason, Retry-After only when retryable', async () => {
    const p = await serve()
    const refused = await query(p, 'DELETE FROM samples')
    expect(refused.status).toBe(400)
    expect(refused.headers.get('x-prom-ingest-error')).toBe('query_refused')
    expect(refused.headers.get('retry-after')).toBeNull()
    expect((await refused.text()).split('\n')).toHaveLength(2)
    const format = await fetch(`${p.url}/api/v1/query?format=xml&query=SELECT%201`)
    expect(format.status).toBe(400)
    expect(format.headers.get('x-prom-ingest-error')).toBe('query_failed')
  })
})
