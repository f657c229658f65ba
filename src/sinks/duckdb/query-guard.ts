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
 * 3. DuckDB's own parse tree of it (json_serialize_sql) must exist (a plain query), and no function
 *    anywhere in it may be one of REFUSED_FUNCTIONS: those that act on the writer (checkpoint), run
 *    SQL text given as a value (query, query_table, json_execute_serialized_sql: the inner text would
 *    pass none of these checks), change the instance's logging or profiling, or read raw pointers.
 * 4. It runs inside `BEGIN TRANSACTION READ ONLY`, so anything that still tries to write fails, and
 *    the transaction is rolled back after reading.
 *
 * The answer is bounded by a row limit, a byte limit and a time limit (the connection is interrupted),
 * and it is made in parts: rows are formatted one at a time as DuckDB's chunks arrive and handed on in
 * parts of about PART_BYTES, each waiting for the previous one to be taken (backpressure), so that
 * neither the rows nor the text of a large answer are ever held whole.
 */
import { DuckDBPendingResultState, StatementType, VARCHAR, type DuckDBConnection, type DuckDBDataChunk, type DuckDBValue } from '@duckdb/node-api'
import { IngestError } from '../../errors.js'
import { answerFormatter, CONTENT_TYPES, type QueryFormat, type QueryOutput } from './result-format.js'

export interface QueryLimits {
  /** Most rows returned; the output says when rows were left out. */
  maxRows: number
  /** Longest a query may run, ms. */
  timeoutMs: number
  /** Largest answer, bytes (query_too_large beyond it). */
  maxAnswerBytes: number
}

export const DEFAULT_QUERY_LIMITS: QueryLimits = { maxRows: 100_000, timeoutMs: 30_000, maxAnswerBytes: 64 << 20 }

/** Size of the parts an answer is handed on in: large enough to be cheap per part, small next to any limit. */
export const PART_BYTES = 256 << 10

/**
 * Functions refused wherever they appear in a query (DuckDB 1.5's `duckdb_functions()` list, table,
 * pragma and scalar functions with an effect beyond reading). Names are compared in lower case.
 */
export const REFUSED_FUNCTIONS: ReadonlySet<string> = new Set([
  // Act on the writer.
  'checkpoint', 'force_checkpoint',
  // Run SQL text given as a value (or name a table as text), past every check above.
  'query', 'query_table', 'json_execute_serialized_sql',
  // Change the instance's logging, profiling or parser for every connection.
  'enable_logging', 'disable_logging', 'truncate_duckdb_logs', 'enable_profiling', 'disable_profiling',
  'enable_peg_parser', 'disable_peg_parser',
  // Read Arrow streams from raw memory addresses given as numbers.
  'arrow_scan', 'arrow_scan_dumb'
])

/** Receives one part of an answer; a returned promise holds the next part back until it settles. */
export type PartWriter = (text: string) => void | Promise<void>

/** What is known of an answer once its last part was written. */
export interface QuerySummary {
  readonly contentType: string
  readonly rowCount: number
  /** Rows were left out (row limit). */
  readonly truncated: boolean
  readonly bytes: number
}

function firstLine (err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!.replace(/^Failure running pending result task: /, '')
}

function refusedOrFailed (err: unknown): IngestError {
  if (err instanceof IngestError) return err
  const message = firstLine(err)
  if (/^(Permission|Invalid Input) Error: .*(disabled by configuration|external access|read-only)/i.test(message) ||
      /read-only mode|Cannot write to database/i.test(message)) {
    return new IngestError('query_refused', `the query was refused: ${message}`)
  }
  if (/^INTERRUPT Error/i.test(message)) return new IngestError('query_failed', 'the query was stopped: it ran longer than the time limit')
  return new IngestError('query_failed', message)
}

/** Text that holds no statement: only whitespace, semicolons and comments. */
function holdsNoStatement (sql: string): boolean {
  return sql.replace(/--[^\n]*/g, '').replace(/\/\*[\s\S]*?\*\//g, '').replace(/[\s;]+/g, '') === ''
}

/** Every function name in DuckDB's parse tree (JSON), lower case. */
function functionNames (tree: unknown, out: Set<string> = new Set()): Set<string> {
  const stack: unknown[] = [tree]
  for (let guard = 0; stack.length > 0 && guard < 1_000_000; guard++) {
    const node = stack.pop()
    if (Array.isArray(node)) { for (const x of node) stack.push(x); continue }
    if (node === null || typeof node !== 'object') continue
    for (const [k, v] of Object.entries(node)) {
      if (k === 'function_name' && typeof v === 'string') out.add(v.toLowerCase())
      else if (typeof v === 'object') stack.push(v)
    }
  }
  return out
}

const sleep = async (ms: number): Promise<void> => await new Promise(resolve => setTimeout(resolve, ms))

/**
 * Checks one read statement, runs it on `connection` and writes its answer in parts. Throws
 * query_refused, query_failed or query_too_large (parts may have been written before the last two).
 */
export async function streamReadOnlyQuery (connection: DuckDBConnection, sql: string, format: QueryFormat, limits: QueryLimits, write: PartWriter, signal?: AbortSignal): Promise<QuerySummary> {
  if (holdsNoStatement(sql)) throw new IngestError('query_refused', 'the query is refused: it is empty (no statement, only whitespace, comments or semicolons)')
  const deadline = Date.now() + limits.timeoutMs
  await connection.run('BEGIN TRANSACTION READ ONLY')
  const timer = setTimeout(() => connection.interrupt(), limits.timeoutMs)
  // The answer is no longer wanted (the client went away): stop at once, and free the connection.
  const cancel = (): void => connection.interrupt()
  signal?.addEventListener('abort', cancel)
  try {
    return await run()
  } catch (err) {
    if (signal?.aborted === true) throw new IngestError('query_failed', 'the query was stopped: its answer is no longer wanted (the client went away)')
    throw err
  } finally {
    signal?.removeEventListener('abort', cancel)
    clearTimeout(timer)
    try { await connection.run('ROLLBACK') } catch { /* nothing to roll back */ }
  }

  async function run (): Promise<QuerySummary> {
    if (signal?.aborted === true) throw new IngestError('query_failed', 'the query was stopped before it ran')
    let extracted
    try {
      extracted = await connection.extractStatements(sql)
    } catch (err) {
      throw new IngestError('query_failed', firstLine(err))
    }
    if (extracted.count !== 1) {
      throw new IngestError('query_refused', `the query is refused: it must be exactly one statement, found ${extracted.count}`)
    }
    // The parse tree is checked before the statement is bound: nothing of a refused function runs.
    const tree = await connection.runAndReadAll('SELECT json_serialize_sql($1::VARCHAR)', [sql], [VARCHAR])
    const json = String(tree.getRows()[0]?.[0] ?? '')
    if (json.startsWith('{"error":false')) {
      for (const name of functionNames(JSON.parse(json))) {
        if (REFUSED_FUNCTIONS.has(name)) throw new IngestError('query_refused', `the query is refused: ${name}() is not allowed in queries (it runs SQL text, acts on the writer or changes the instance)`)
      }
    }
    let prepared
    try {
      prepared = await extracted.prepare(0)
    } catch (err) {
      // A statement with no query tree that does not even bind (DELETE FROM the samples view) is a
      // write all the same: refused, not failed.
      if (!json.startsWith('{"error":false')) throw new IngestError('query_refused', 'the query is refused: only reads are allowed (SELECT, WITH, FROM, VALUES, SHOW, DESCRIBE, SUMMARIZE)')
      throw refusedOrFailed(err)
    }
    const type = prepared.statementType
    if (type !== StatementType.SELECT) {
      throw new IngestError('query_refused', `${StatementType[type] ?? 'this'} statements are refused: only reads are allowed (SELECT, WITH, FROM, VALUES, SHOW, DESCRIBE, SUMMARIZE)`)
    }
    if (prepared.parameterCount > 0) throw new IngestError('query_refused', 'the query is refused: it has parameters ($1, ?), which cannot be given here')
    if (!json.startsWith('{"error":false')) throw new IngestError('query_refused', 'the query is refused: only plain SELECT queries are allowed (this statement has no query tree)')

    // Executed task by task on this thread (each task is a bounded piece of work), not in one
    // blocking call: a long query would otherwise hold one of libuv's 4 threads, which the writer's
    // commits need, for its whole run.
    const pending = prepared.startStream()
    try {
      for (;;) {
        const state = pending.runTask()
        if (state === DuckDBPendingResultState.RESULT_READY) break
        // Checked at every task, not only when the signal fires: an interrupt sent while the statement
        // was still being parsed or prepared is lost when execution begins.
        if (Date.now() > deadline || isAborted(signal)) connection.interrupt()
        if (state === DuckDBPendingResultState.NO_TASKS_AVAILABLE) await sleep(1) // DuckDB's own threads have every task
        else await sleep(1) // leave the thread to the writer between tasks
      }
    } catch (err) {
      throw refusedOrFailed(err)
    }
    const result = await pending.getResult().catch((err: unknown) => { throw refusedOrFailed(err) })
    const columns = result.deduplicatedColumnNames()
    const types = result.columnTypes().map(String)
    const formatter = answerFormatter(format, columns, types)

    let bytes = 0
    let part: string[] = []
    let partBytes = 0
    const add = (text: string): void => {
      const n = Buffer.byteLength(text)
      if (bytes + n > limits.maxAnswerBytes) {
        throw new IngestError('query_too_large', `the answer is larger than the limit of ${limits.maxAnswerBytes} bytes (query-max-answer-bytes) after ${formatter.rows} rows: select fewer rows or columns, or aggregate`)
      }
      bytes += n
      part.push(text)
      partBytes += n
    }
    const flush = async (): Promise<void> => {
      if (part.length === 0) return
      const text = part.join('')
      part = []
      partBytes = 0
      await write(text)
    }

    let truncated = false
    let first = true
    for (;;) {
      let chunk: DuckDBDataChunk | null
      try {
        chunk = await result.fetchChunk()
      } catch (err) {
        throw refusedOrFailed(err)
      }
      if (chunk === null || chunk.rowCount === 0) break
      if (first) {
        add(formatter.head(chunk))
        first = false
      }
      const n = chunk.rowCount
      let r = 0
      for (; r < n && formatter.rows < limits.maxRows; r++) {
        add(formatter.row(chunk.getRowValues(r) as DuckDBValue[]))
        if (partBytes >= PART_BYTES) await flush()
      }
      if (formatter.rows >= limits.maxRows) {
        truncated = r < n || ((await result.fetchChunk().catch(() => null))?.rowCount ?? 0) > 0
        break
      }
      if (Date.now() > deadline) throw new IngestError('query_failed', 'the query was stopped: it ran longer than the time limit')
    }
    if (first) add(formatter.head(null))
    add(formatter.tail(truncated))
    await flush()
    return { contentType: CONTENT_TYPES[format], rowCount: formatter.rows, truncated, bytes }
  }
}

/** Runs one read statement on `connection` and returns its whole answer (bounded by limits.maxAnswerBytes). */
export async function runReadOnlyQuery (connection: DuckDBConnection, sql: string, format: QueryFormat, limits: QueryLimits = DEFAULT_QUERY_LIMITS): Promise<QueryOutput> {
  const parts: string[] = []
  const summary = await streamReadOnlyQuery(connection, sql, format, limits, text => { parts.push(text) })
  return { body: parts.join(''), contentType: summary.contentType, rowCount: summary.rowCount, truncated: summary.truncated }
}

/** Whether the caller gave up on the answer (a function, so that the compiler does not narrow it). */
function isAborted (signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true
}
