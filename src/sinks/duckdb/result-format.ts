/**
 * Query results as text: an aligned table for people, CSV (RFC 4180) and JSON (an array of row
 * objects; maps with string keys become objects, lists arrays, structs objects; integers beyond 2^53,
 * timestamps and other values without an exact JSON form become strings, NaN and infinities become
 * "NaN", "Infinity", "-Infinity").
 */
import { DuckDBArrayValue, DuckDBListValue, DuckDBMapValue, DuckDBStructValue, type DuckDBValue } from '@duckdb/node-api'

export const QUERY_FORMATS = ['table', 'csv', 'json'] as const
export type QueryFormat = (typeof QUERY_FORMATS)[number]

export function isQueryFormat (f: unknown): f is QueryFormat {
  return typeof f === 'string' && (QUERY_FORMATS as readonly string[]).includes(f)
}

export interface QueryRows {
  readonly columns: string[]
  readonly types: string[]
  readonly rows: DuckDBValue[][]
  /** Rows were left out (row limit). */
  readonly truncated: boolean
}

export interface QueryOutput {
  readonly body: string
  readonly contentType: string
  readonly rowCount: number
  readonly truncated: boolean
}

export const CONTENT_TYPES: Record<QueryFormat, string> = {
  table: 'text/plain; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  json: 'application/json; charset=utf-8'
}

function text (v: DuckDBValue): string {
  if (v === null) return 'NULL'
  return String(v)
}

function jsonValue (v: DuckDBValue): unknown {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v)
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString()
  if (v instanceof DuckDBListValue || v instanceof DuckDBArrayValue) return v.items.map(jsonValue)
  if (v instanceof DuckDBMapValue) {
    // Labels read best as an object; a map whose keys are not all strings stays a list of pairs.
    if (v.entries.every(e => typeof e.key === 'string')) return Object.fromEntries(v.entries.map(e => [e.key, jsonValue(e.value)]))
    return v.entries.map(e => ({ key: jsonValue(e.key), value: jsonValue(e.value) }))
  }
  if (v instanceof DuckDBStructValue) return Object.fromEntries(Object.entries(v.entries).map(([k, x]) => [k, jsonValue(x)]))
  return String(v)
}

function csvField (s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

function table (r: QueryRows): string {
  const cells = r.rows.map(row => row.map(text))
  const widths = r.columns.map((c, i) => Math.max(c.length, r.types[i]!.length, ...cells.map(row => row[i]!.length)))
  const numeric = r.types.map(t => /^(U?(TINY|SMALL|BIG|HUGE)?INT(EGER)?|DOUBLE|FLOAT|DECIMAL.*)$/.test(t))
  const line = (row: string[]) => row.map((c, i) => numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)).join(' | ').trimEnd()
  const out = [line(r.columns), line(r.types), widths.map(w => '-'.repeat(w)).join('-+-')]
  for (const row of cells) out.push(line(row))
  out.push(`(${r.rows.length} row${r.rows.length === 1 ? '' : 's'}${r.truncated ? ', more left out by the row limit' : ''})`)
  return out.join('\n') + '\n'
}

function csv (r: QueryRows): string {
  const out = [r.columns.map(csvField).join(',')]
  for (const row of r.rows) out.push(row.map(v => v === null ? '' : csvField(String(v))).join(','))
  return out.join('\r\n') + '\r\n'
}

function json (r: QueryRows): string {
  const lines = r.rows.map(row => {
    const o: Record<string, unknown> = {}
    r.columns.forEach((c, i) => { o[c] = jsonValue(row[i]!) })
    return JSON.stringify(o)
  })
  return lines.length === 0 ? '[]\n' : `[\n${lines.join(',\n')}\n]\n`
}

export function formatResult (r: QueryRows, format: QueryFormat): QueryOutput {
  const body = format === 'csv' ? csv(r) : format === 'json' ? json(r) : table(r)
  return { body, contentType: CONTENT_TYPES[format], rowCount: r.rows.length, truncated: r.truncated }
}
