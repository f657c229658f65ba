/**
 * Read-only queries: the one way users run SQL against the store (the `query` CLI on the file, and
 * the service's /api/v1/query route). Defence in depth, DuckDB's own guarantees first:
 *
 * 1. The database the query runs on has `enable_external_access = false` (no file reads or writes
 *    from SQL: COPY, read_csv, glob, ATTACH, INSTALL/LOAD all fail) and `lock_configuration = true`;
 *    the CLI also opens the file with `access_mode = READ_ONLY`.
 * 2. DuckDB's parser splits the text (`extractStatements`): exactly one statement, and its prepared
 *    statement type must be SELECT (SHOW, DESCRIBE, SUMMARIZE, FROM-first and VALUES are SELECTs to
 *    DuckDB). INSERT, UPDATE, DELETE, COPY, ATTACH, SET, CALL, EXPLAIN (ANALYZE runs its statement) ...
 *    are refused.
 * 3. DuckDB's own parse tree of it (json_serialize_sql) must exist (a plain query) and must not call
 *    the table functions that act on the writer (checkpoint, force_checkpoint).
 * 4. It runs inside `BEGIN TRANSACTION READ ONLY`, so anything that still tries to write fails, and
 *    the transaction is rolled back after reading.
 * Output is bounded by a row limit and a time limit (the connection is interrupted).
 */
import { StatementType, VARCHAR, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api'
import { IngestError } from '../../errors.js'
import { formatResult, type QueryFormat, type QueryOutput } from './result-format.js'

export interface QueryLimits {
  /** Most rows returned; the output says when rows were left out. */
  maxRows: number
  /** Longest a query may run, ms. */
  timeoutMs: number
}

export const DEFAULT_QUERY_LIMITS: QueryLimits = { maxRows: 100_000, timeoutMs: 30_000 }

const REFUSED_FUNCTIONS = /"function_name":"(force_checkpoint|checkpoint)"/i

function firstLine (err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!
}

function refusedOrFailed (err: unknown): IngestError {
  const message = firstLine(err)
  if (/^(Permission|Invalid Input) Error: .*(disabled by configuration|external access|read-only)/i.test(message) ||
      /read-only mode|Cannot write to database/i.test(message)) {
    return new IngestError('query_refused', `the query was refused: ${message}`)
  }
  if (/^INTERRUPT Error/i.test(message)) return new IngestError('query_failed', 'the query was stopped: it ran longer than the time limit')
  return new IngestError('query_failed', message)
}

/** Runs one read statement on `connection` and formats its rows. Throws query_refused or query_failed. */
export async function runReadOnlyQuery (connection: DuckDBConnection, sql: string, format: QueryFormat, limits: QueryLimits = DEFAULT_QUERY_LIMITS): Promise<QueryOutput> {
  if (sql.trim() === '') throw new IngestError('query_refused', 'the query is refused: it is empty')
  await connection.run('BEGIN TRANSACTION READ ONLY')
  const timer = setTimeout(() => connection.interrupt(), limits.timeoutMs)
  try {
    let extracted
    try {
      extracted = await connection.extractStatements(sql)
    } catch (err) {
      throw new IngestError('query_failed', firstLine(err))
    }
    if (extracted.count !== 1) {
      throw new IngestError('query_refused', `the query is refused: it must be exactly one statement, found ${extracted.count}`)
    }
    let prepared
    try {
      prepared = await extracted.prepare(0)
    } catch (err) {
      throw refusedOrFailed(err)
    }
    const type = prepared.statementType
    if (type !== StatementType.SELECT) {
      throw new IngestError('query_refused', `${StatementType[type] ?? 'this'} statements are refused: only reads are allowed (SELECT, WITH, FROM, VALUES, SHOW, DESCRIBE, SUMMARIZE)`)
    }
    if (prepared.parameterCount > 0) throw new IngestError('query_refused', 'the query is refused: it has parameters ($1, ?), which cannot be given here')
    const tree = await connection.runAndReadAll('SELECT json_serialize_sql($1::VARCHAR)', [sql], [VARCHAR])
    const json = String(tree.getRows()[0]?.[0] ?? '')
    if (!json.startsWith('{"error":false')) throw new IngestError('query_refused', 'the query is refused: only plain SELECT queries are allowed (this statement has no query tree)')
    const match = REFUSED_FUNCTIONS.exec(json)
    if (match !== null) throw new IngestError('query_refused', `${match[1]!}() acts on the writer and is refused`)
    let reader
    try {
      reader = await prepared.streamAndReadUntil(limits.maxRows + 1)
    } catch (err) {
      throw refusedOrFailed(err)
    }
    const all = reader.getRows()
    const truncated = all.length > limits.maxRows || !reader.done
    const rows: DuckDBValue[][] = all.length > limits.maxRows ? all.slice(0, limits.maxRows) : all
    return formatResult({ columns: reader.deduplicatedColumnNames(), types: reader.columnTypes().map(String), rows, truncated }, format)
  } finally {
    clearTimeout(timer)
    try { await connection.run('ROLLBACK') } catch { /* nothing to roll back */ }
  }
}
