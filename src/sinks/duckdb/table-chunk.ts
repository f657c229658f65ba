/**
 * One table's appender and the one data chunk it is fed with, reused for every chunk: the batch
 * appender resets it, fills vectors with bulk copies, and hands it to DuckDB's appender.
 *
 * The appender appends inside the connection's open transaction (BEGIN ... COMMIT on the same
 * connection), buffering chunks until `flush()`; a ROLLBACK discards everything flushed, and
 * `clear()` drops what was not flushed yet.
 */
import { DuckDBDataChunk, type DuckDBAppender, type DuckDBConnection, type DuckDBType } from '@duckdb/node-api'
import duckdb from '@duckdb/node-bindings'
import type { Vector } from './vector-copy.js'

export class TableChunk {
  readonly table: string
  private readonly appender: DuckDBAppender
  private readonly chunk: DuckDBDataChunk
  /**
   * The chunk's column vectors, fetched once: a reset empties each vector in place (DuckDB's
   * DataChunk::Reset), so the handles stay valid for the chunk's life.
   */
  private readonly vectors: Vector[] = []
  /** Rows handed to the appender since the last flush. */
  pendingRows = 0

  static async create (connection: DuckDBConnection, table: string): Promise<TableChunk> {
    const appender = await connection.createAppender(table)
    const types: DuckDBType[] = []
    for (let i = 0; i < appender.columnCount; i++) types.push(appender.columnType(i))
    return new TableChunk(table, appender, DuckDBDataChunk.create(types))
  }

  private constructor (table: string, appender: DuckDBAppender, chunk: DuckDBDataChunk) {
    this.table = table
    this.appender = appender
    this.chunk = chunk
    for (let i = 0; i < chunk.columnCount; i++) this.vectors.push(duckdb.data_chunk_get_vector(chunk.chunk, i))
  }

  /** Empties the chunk for the next rows and returns its column vectors. */
  begin (): readonly Vector[] {
    this.chunk.reset()
    return this.vectors
  }

  /** Hands the filled rows 0..rows-1 to the appender. */
  end (rows: number): void {
    if (rows === 0) return
    duckdb.data_chunk_set_size(this.chunk.chunk, rows)
    this.appender.appendDataChunk(this.chunk)
    this.pendingRows += rows
  }

  /** Moves buffered rows into the open transaction. */
  flush (): void {
    this.appender.flushSync()
    this.pendingRows = 0
  }

  /** Drops rows not flushed yet. */
  clear (): void {
    this.appender.clear()
    this.pendingRows = 0
  }

  close (): void {
    try { this.appender.clear() } catch { /* closing anyway */ }
    try { this.appender.closeSync() } catch { /* the connection may already be gone */ }
  }
}
