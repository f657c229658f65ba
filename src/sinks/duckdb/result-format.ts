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

/** A value of an answer: DuckDB's, or JSON's (ClickHouse answers as JSONCompact: arrays for its Arrays and Tuples, objects for its Maps). */
export type AnswerValue = DuckDBValue | unknown[] | Record<string, unknown>

/** A JSON array or object, as opposed to DuckDB's value classes, which print themselves. */
function isJson (v: AnswerValue): v is unknown[] | Record<string, unknown> {
  return Array.isArray(v) || (typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype)
}

/** Rows to size the table's columns by: a DuckDB data chunk, or rows already read. */
export interface SampleRows {
  readonly rowCount: number
  getRowValues(row: number): readonly AnswerValue[]
}

function text (v: AnswerValue): string {
  if (v === null) return 'NULL'
  if (isJson(v)) return JSON.stringify(v)
  return String(v)
}

function jsonValue (v: AnswerValue): unknown {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v
  if (isJson(v)) return v
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

/** Formats one answer a row at a time: head, rows, tail (see query-guard.ts, which streams them). */
export interface AnswerFormatter {
  /** Rows formatted so far. */
  readonly rows: number
  /** The text before the first row; `first` is the first chunk of rows (null: none), which the table format sizes its columns by. */
  head(first: SampleRows | null): string
  row(values: readonly AnswerValue[]): string
  tail(truncated: boolean): string
}

/** Rows of the first chunk that the table format measures its column widths on; longer cells later on push their row out of line. */
const TABLE_SAMPLE_ROWS = 100

/** Right-aligned column types: DuckDB's, and ClickHouse's (`UInt64`, `Nullable(Float64)`, ...). */
const NUMERIC = /^(U?(TINY|SMALL|BIG|HUGE)?INT(EGER)?|DOUBLE|FLOAT|DECIMAL.*|(Nullable\()?(U?Int\d+|Float\d+|Decimal.*)\)?)$/

class TableFormatter implements AnswerFormatter {
  rows = 0
  private widths: number[] = []
  private readonly numeric: boolean[]
  constructor (private readonly columns: string[], private readonly types: string[]) {
    this.numeric = types.map(t => NUMERIC.test(t))
  }

  head (first: SampleRows | null): string {
    this.widths = this.columns.map((c, i) => Math.max(c.length, this.types[i]!.length))
    const n = Math.min(first?.rowCount ?? 0, TABLE_SAMPLE_ROWS)
    for (let r = 0; r < n; r++) {
      const row = first!.getRowValues(r)
      for (let i = 0; i < row.length; i++) this.widths[i] = Math.max(this.widths[i]!, text(row[i]!).length)
    }
    return [this.line(this.columns), this.line(this.types), this.widths.map(w => '-'.repeat(w)).join('-+-')].join('\n') + '\n'
  }

  row (values: readonly AnswerValue[]): string {
    this.rows++
    return this.line(values.map(text)) + '\n'
  }

  tail (truncated: boolean): string {
    return `(${this.rows} row${this.rows === 1 ? '' : 's'}${truncated ? ', more left out by the row limit' : ''})\n`
  }

  private line (cells: readonly string[]): string {
    return cells.map((c, i) => this.numeric[i] === true ? c.padStart(this.widths[i]!) : c.padEnd(this.widths[i]!)).join(' | ').trimEnd()
  }
}

class CsvFormatter implements AnswerFormatter {
  rows = 0
  constructor (private readonly columns: string[]) {}
  head (): string { return this.columns.map(csvField).join(',') + '\r\n' }
  row (values: readonly AnswerValue[]): string {
    this.rows++
    return values.map(v => v === null ? '' : csvField(text(v))).join(',') + '\r\n'
  }

  tail (): string { return '' }
}

class JsonFormatter implements AnswerFormatter {
  rows = 0
  constructor (private readonly columns: string[]) {}
  head (first: SampleRows | null): string { return first === null ? '[' : '[\n' }
  row (values: readonly AnswerValue[]): string {
    const o: Record<string, unknown> = {}
    for (let i = 0; i < this.columns.length; i++) o[this.columns[i]!] = jsonValue(values[i]!)
    return (this.rows++ === 0 ? '' : ',\n') + JSON.stringify(o)
  }

  tail (): string { return this.rows === 0 ? ']\n' : '\n]\n' }
}

export function answerFormatter (format: QueryFormat, columns: string[], types: string[]): AnswerFormatter {
  return format === 'csv' ? new CsvFormatter(columns) : format === 'json' ? new JsonFormatter(columns) : new TableFormatter(columns, types)
}

/** A whole answer already read (ClickHouse's), in one of the formats above. */
export function formatAnswer (format: QueryFormat, columns: string[], types: string[], rows: readonly AnswerValue[][], truncated: boolean): string {
  const f = answerFormatter(format, columns, types)
  let out = f.head(rows.length === 0 ? null : { rowCount: rows.length, getRowValues: r => rows[r]! })
  for (const r of rows) out += f.row(r)
  return out + f.tail(truncated)
}
