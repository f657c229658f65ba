/**
 * Where row batches go. A sink resolves `write` only when the batch's rows are safely where that sink
 * puts them (committed to disk, acknowledged by the remote system); the request's 204 waits for it.
 * A sink may group batches of many requests into one write (group commit).
 *
 * A sink that fails rejects with an IngestError of code `sink_failed`: the receiver answers a
 * retryable 5xx and acknowledges nothing of that request.
 */
import type { RowBatch } from '../batch/row-batch.js'

export interface Sink {
  /** Short name for logs and metrics: 'duckdb', 'discard'. */
  readonly name: string
  /** Opens files or connections; the service is ready only after every sink started. */
  start(): Promise<void>
  /** Resolves once every row of the batch is stored. The batch's buffers belong to the sink from here on. */
  write(batch: RowBatch): Promise<void>
  /** Whether the sink can take writes now (for /readyz). */
  ready(): boolean
  /** Stores everything accepted so far, then releases files and connections. */
  close(): Promise<void>
}
