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
import type { QueryFormat } from '../duckdb/result-format.js'

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
  return { text: formatRows(format, columns, types, rows, truncated), rows: rows.length, truncated }
}

function cell (v: unknown): string {
  if (v === null || v === undefined) return 'NULL'
  if (typeof v === 'object') return JSON.stringify(v)
  return String(v)
}

function csvField (s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

const NUMERIC = /^(Nullable\()?(U?Int\d+|Float\d+|Decimal.*)\)?$/

/** The rows in the DuckDB query command's formats: an aligned table, CSV (RFC 4180), a JSON array of objects. */
export function formatRows (format: QueryFormat, columns: string[], types: string[], rows: unknown[][], truncated: boolean): string {
  if (format === 'csv') {
    return [columns.map(csvField).join(','), ...rows.map(r => r.map(v => v === null ? '' : csvField(cell(v))).join(','))].join('\r\n') + '\r\n'
  }
  if (format === 'json') {
    const objects = rows.map(r => JSON.stringify(Object.fromEntries(columns.map((c, i) => [c, r[i] ?? null]))))
    return objects.length === 0 ? '[]\n' : `[\n${objects.join(',\n')}\n]\n`
  }
  const texts = rows.map(r => r.map(cell))
  const widths = columns.map((c, i) => Math.max(c.length, types[i]!.length, ...texts.map(t => t[i]!.length)))
  const numeric = types.map(t => NUMERIC.test(t))
  const line = (cells: readonly string[]): string => cells.map((c, i) => numeric[i] === true ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)).join(' | ').trimEnd()
  const n = rows.length
  return [line(columns), line(types), widths.map(w => '-'.repeat(w)).join('-+-'), ...texts.map(line)].join('\n') +
    `\n(${n} row${n === 1 ? '' : 's'}${truncated ? ', more left out by the row limit' : ''})\n`
}
