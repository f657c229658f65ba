/**
 * `prom-ingest query --clickhouse-url URL "SQL"`: one read-only statement against ClickHouse, printed
 * in the formats of the DuckDB query command (table, csv, json: src/sinks/duckdb/result-format.ts).
 *
 * Read-only is ClickHouse's own: the statement is sent with the setting `readonly=1` (last, after the
 * limits it may no longer change), so the server refuses INSERT, ALTER, CREATE, DROP and setting
 * changes. The answer is asked as JSONCompact (column names and types, then rows), at most
 * `maxRows` + a block (max_result_rows with result_overflow_mode=break), within max_execution_time.
 *
 * Values as JSONCompact gives them: 64-bit integers as strings (as ClickHouse quotes them), floats as
 * numbers (NaN and infinities as ClickHouse writes them), arrays as arrays, NULL as null.
 */
import { request } from 'undici'
import { IngestError } from '../../errors.js'
import { formatAnswer, type AnswerValue, type QueryFormat } from '../duckdb/result-format.js'

export interface ClickHouseQueryOptions {
  readonly url: string
  readonly user: string
  readonly password: string
  readonly database: string
  readonly maxRows: number
  readonly timeoutMs: number
}

export interface ClickHouseAnswer {
  readonly text: string
  readonly rows: number
  readonly truncated: boolean
}

interface JsonCompact {
  meta: Array<{ name: string, type: string }>
  data: unknown[][]
}

/** Runs `sql` read-only and formats the answer. */
export async function queryClickHouse (sql: string, format: QueryFormat, o: ClickHouseQueryOptions): Promise<ClickHouseAnswer> {
  const params = new URLSearchParams({
    database: o.database,
    default_format: 'JSONCompact',
    max_result_rows: String(o.maxRows + 1),
    result_overflow_mode: 'break',
    max_execution_time: String(Math.max(1, Math.ceil(o.timeoutMs / 1000))),
    readonly: '1'
  })
  const base = o.url.replace(/\/+$/, '')
  let res
  try {
    res = await request(`${base}/?${params.toString()}`, {
      method: 'POST',
      body: sql,
      headers: { authorization: 'Basic ' + Buffer.from(`${o.user}:${o.password}`).toString('base64') },
      headersTimeout: o.timeoutMs + 5_000,
      bodyTimeout: o.timeoutMs + 5_000
    })
  } catch (err) {
    throw new IngestError('query_failed', `ClickHouse at ${base} cannot be reached: ${(err as Error).message}`)
  }
  const body = await res.body.text()
  if (res.statusCode !== 200) throw new IngestError('query_failed', `ClickHouse at ${base} answered ${res.statusCode}: ${body.trim().split('\n')[0]}`)
  let answer: JsonCompact
  try {
    answer = JSON.parse(body) as JsonCompact
    if (!Array.isArray(answer.meta) || !Array.isArray(answer.data)) throw new Error('no meta or data')
  } catch {
    // A statement with a FORMAT clause of its own, or one without rows (SHOW CREATE, ...): its text as it came.
    return { text: body, rows: 0, truncated: false }
  }
  const truncated = answer.data.length > o.maxRows
  const rows = truncated ? answer.data.slice(0, o.maxRows) : answer.data
  const columns = answer.meta.map(m => m.name)
  const types = answer.meta.map(m => m.type)
  return { text: formatAnswer(format, columns, types, rows as AnswerValue[][], truncated), rows: rows.length, truncated }
}
