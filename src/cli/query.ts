/**
 * `prom-ingest query "SQL"`: one read-only SQL statement on the embedded store, printed as a table,
 * CSV or JSON.
 *
 * DuckDB lets one process open the database file, so the query goes where the file is open:
 * - to the running service over HTTP (`POST /api/v1/query`, behind its read credential) when `--url`
 *   is given or the data directory's service.json names a live process on a loopback address (the
 *   file may have been planted: a token is never sent to another host unless `--url` names it);
 * - otherwise straight to the file, opened read-only.
 * Both refuse statements that would change data (src/sinks/duckdb/query-guard.ts), and both print
 * the answer as it comes.
 *
 * With `--clickhouse-url` the statement goes to ClickHouse instead (the ClickHouse sink's tables),
 * read-only by ClickHouse's own `readonly=1` (src/sinks/clickhouse/read-query.ts).
 */
import { parseArgs } from 'node:util'
import { readFileSync } from 'node:fs'
import { parseDuration } from '../config/duration.js'
import { isIP } from 'node:net'
import { IngestError, isErrorCode, toIngestError } from '../errors.js'
import { useBlocks } from '../sinks/duckdb/blocks/block-reconcile.js'
import { openDatabase } from '../sinks/duckdb/open-database.js'
import { DEFAULT_QUERY_LIMITS, streamReadOnlyQuery, type QueryLimits } from '../sinks/duckdb/query-guard.js'
import { QUERY_PATH } from '../sinks/duckdb/query-handler.js'
import { isQueryFormat, QUERY_FORMATS, type QueryFormat } from '../sinks/duckdb/result-format.js'
import { readServiceInfo, serviceUrl } from '../sinks/duckdb/service-info.js'

export const QUERY_HELP = `Usage: prom-ingest query "SQL" [options]

Runs one read-only SQL statement (SELECT, WITH, FROM, VALUES, SHOW, DESCRIBE, SUMMARIZE) on the
embedded store: through the running service when there is one, else on the database file.
Statements that would change data or touch files are refused.

Tables: series, samples, exemplars, histograms, metadata, blocks; views: samples_with_labels,
histograms_with_labels, exemplars_with_labels (head and Parquet blocks read together). For example:
  prom-ingest query "SELECT metric, labels['job'] AS job, ts, value FROM samples_with_labels ORDER BY ts DESC LIMIT 10"

Options:
  --format table|csv|json   output format (default table)
  --data-dir DIR            data directory of the store (default ./data, env PROM_INGEST_DATA_DIR)
  --url URL                 query this running service (default: the one service.json in the data
                            directory names, if it is on a loopback address)
  --bearer-token T          the service's read bearer token (env PROM_INGEST_AUTH_READ_BEARER_TOKEN);
                            a write token cannot read
  --bearer-token-file F     read the read bearer token from a file
  --max-rows N              most rows printed (default ${DEFAULT_QUERY_LIMITS.maxRows}; the service applies its own limit too)
  --timeout D               stop a query running longer (default 30s)

ClickHouse (the tables of the ClickHouse sink, docs/clickhouse.md), read-only (readonly=1):
  --clickhouse-url URL      run the statement on ClickHouse at this HTTP URL (http://host:8123)
  --clickhouse-database DB  database of unqualified table names (default default)
  --clickhouse-user U       user (default default)
  --clickhouse-password-file F   read the password from a file
  For example:
  prom-ingest query --clickhouse-url http://ch:8123 "SELECT metric_name, count() FROM prom_series GROUP BY metric_name"
`

interface QueryArgs {
  sql: string
  clickhouse: { url: string, database: string, user: string, password: string } | undefined
  format: QueryFormat
  dataDir: string
  url: string | undefined
  token: string | undefined
  limits: QueryLimits
}

function parse (argv: string[]): QueryArgs {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      format: { type: 'string', default: 'table' },
      'data-dir': { type: 'string' },
      url: { type: 'string' },
      'bearer-token': { type: 'string' },
      'bearer-token-file': { type: 'string' },
      'max-rows': { type: 'string' },
      timeout: { type: 'string' },
      'clickhouse-url': { type: 'string' },
      'clickhouse-database': { type: 'string', default: 'default' },
      'clickhouse-user': { type: 'string', default: 'default' },
      'clickhouse-password-file': { type: 'string' }
    }
  })
  if (positionals.length !== 1) throw new IngestError('config_invalid', positionals.length === 0 ? 'give the SQL statement as one argument (quote it)' : `give the SQL statement as one argument (quote it); got ${positionals.length}`)
  if (!isQueryFormat(values.format)) throw new IngestError('config_invalid', `--format must be one of ${QUERY_FORMATS.join(', ')}, got ${JSON.stringify(values.format)}`)
  let token = values['bearer-token'] ?? process.env.PROM_INGEST_AUTH_READ_BEARER_TOKEN
  if (values['bearer-token-file'] !== undefined) token = readFileSync(values['bearer-token-file'], 'utf8').replace(/\r?\n$/, '')
  const maxRows = values['max-rows'] === undefined ? DEFAULT_QUERY_LIMITS.maxRows : Number(values['max-rows'])
  if (!Number.isInteger(maxRows) || maxRows < 1) throw new IngestError('config_invalid', `--max-rows must be a positive integer, got ${values['max-rows']}`)
  const timeoutMs = values.timeout === undefined ? DEFAULT_QUERY_LIMITS.timeoutMs : parseDuration(values.timeout)
  if (timeoutMs === undefined || timeoutMs <= 0) throw new IngestError('config_invalid', `--timeout must be a duration such as 30s, got ${values.timeout}`)
  const chUrl = values['clickhouse-url']
  if (chUrl !== undefined && !/^https?:\/\/[^\s/]+/.test(chUrl)) throw new IngestError('config_invalid', `--clickhouse-url must be an http:// or https:// URL, got ${JSON.stringify(chUrl)}`)
  const chPassword = values['clickhouse-password-file'] === undefined ? '' : readFileSync(values['clickhouse-password-file'], 'utf8').replace(/\r?\n$/, '')
  return {
    sql: positionals[0]!,
    clickhouse: chUrl === undefined ? undefined : { url: chUrl, database: values['clickhouse-database'], user: values['clickhouse-user'], password: chPassword },
    format: values.format,
    dataDir: values['data-dir'] ?? process.env.PROM_INGEST_DATA_DIR ?? './data',
    url: values.url?.replace(/\/+$/, ''),
    token: token === '' ? undefined : token,
    limits: { maxRows, timeoutMs, maxAnswerBytes: DEFAULT_QUERY_LIMITS.maxAnswerBytes }
  }
}

/** What to say on stderr once the answer was printed. */
interface Answer { note?: string | undefined }

/** Writes to stdout, waiting when its buffer is full. */
async function print (text: string): Promise<void> {
  if (!process.stdout.write(text)) await new Promise<void>(resolve => process.stdout.once('drain', resolve))
}

async function overHttp (a: QueryArgs, url: string): Promise<Answer> {
  const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8' }
  if (a.token !== undefined) headers.authorization = `Bearer ${a.token}`
  const res = await fetch(`${url}${QUERY_PATH}?format=${a.format}`, { method: 'POST', headers, body: a.sql, signal: AbortSignal.timeout(a.limits.timeoutMs + 5_000) })
  if (res.status !== 200) {
    const text = await res.text()
    const code = res.headers.get('x-prom-ingest-error')
    const known = isErrorCode(code) ? code : res.status === 401 ? 'unauthorized' : 'query_failed'
    throw new IngestError(known, `${url} answered ${res.status}: ${text.trim()}`)
  }
  const decoder = new TextDecoder()
  try {
    for await (const part of res.body ?? []) await print(decoder.decode(part as Uint8Array, { stream: true }))
  } catch (err) {
    throw new IngestError('query_failed', `the answer was cut off before its end (the last line above says why): ${(err as Error).message}`)
  }
  await print(decoder.decode())
  return { note: res.headers.get('x-prom-ingest-truncated') === 'true' ? 'the service\'s row limit left rows out' : undefined }
}

async function onFile (a: QueryArgs): Promise<Answer> {
  let instance
  try {
    instance = await openDatabase(a.dataDir, { readOnly: true, errorCode: 'query_failed' })
  } catch (err) {
    const e = toIngestError(err)
    if (/another process/.test(e.message)) throw new IngestError('query_failed', `${e.message}\nIf a service has it open, query it with --url http://host:port`)
    throw e
  }
  try {
    const connection = await instance.connect()
    try {
      await useBlocks(connection, a.dataDir)
      const out = await streamReadOnlyQuery(connection, a.sql, a.format, a.limits, print)
      return { note: out.truncated ? `rows after the first ${a.limits.maxRows} were left out (--max-rows)` : undefined }
    } finally {
      connection.closeSync()
    }
  } finally {
    instance.closeSync()
  }
}

/** A loopback address: 127.0.0.0/8, ::1 (and IPv4-mapped forms), or localhost. */
export function isLoopback (host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase()
  if (h === 'localhost') return true
  if (isIP(h) === 4) return h.startsWith('127.')
  if (isIP(h) === 6) return h === '::1' || /^::ffff:127\./.test(h) || /^(0:){7}1$/.test(h)
  return false
}

/** The URL of the service that `dataDir`'s service.json names, if it is live and on loopback. */
export function localService (dataDir: string): string | undefined {
  const info = readServiceInfo(dataDir)
  if (info === undefined) return undefined
  const url = serviceUrl(info)
  const host = new URL(url).hostname
  if (!isLoopback(host)) {
    throw new IngestError('config_invalid', `${dataDir}/service.json names ${url}, which is not a loopback address; nothing was sent. If that is really your service, pass --url ${url}`)
  }
  return url
}

export async function runQuery (argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(QUERY_HELP)
    return 0
  }
  let a: QueryArgs
  try {
    a = parse(argv)
  } catch (err) {
    process.stderr.write(`prom-ingest query: ${(err as Error).message}\n`)
    return 2
  }
  try {
    let answer: Answer
    if (a.clickhouse !== undefined) {
      const { queryClickHouse } = await import('../sinks/clickhouse/read-query.js')
      const out = await queryClickHouse(a.sql, a.format, { ...a.clickhouse, maxRows: a.limits.maxRows, timeoutMs: a.limits.timeoutMs })
      await print(out.text)
      answer = { note: out.truncated ? `rows after the first ${a.limits.maxRows} were left out (--max-rows)` : undefined }
    } else if (a.url !== undefined) {
      answer = await overHttp(a, a.url)
    } else {
      const url = localService(a.dataDir)
      answer = url !== undefined ? await overHttp(a, url) : await onFile(a)
    }
    if (answer.note !== undefined) process.stderr.write(`prom-ingest query: ${answer.note}\n`)
    return 0
  } catch (err) {
    const e = toIngestError(err)
    const reason = e.code === 'internal' && err instanceof Error && err.cause !== undefined ? `${e.message} (${String((err.cause as Error).message ?? err.cause)})` : e.message
    process.stderr.write(`prom-ingest query: ${reason}\n`)
    return 1
  }
}
