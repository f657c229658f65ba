/**
 * Where row batches go. A sink resolves `write` only when the batch's rows are safely where that sink
 * puts them (committed to disk, in a durable queue); the request's 204 waits for it. A sink may group
 * batches of many requests into one write (group commit).
 *
 * A sink that fails rejects with an IngestError (`sink_failed`, or a more precise retryable code such as
 * `queue_full`): the receiver answers a retryable 5xx and acknowledges nothing of that request.
 *
 * Several sinks at once (`--sink duckdb,forward`, see fan-out.ts): a batch has one owner and any
 * number of borrowers.
 * - The owner (`batchUse: 'owns'`, the default) may keep the batch's buffers or move them to another
 *   thread (the DuckDB sink transfers the ArrayBuffer to its writer thread): after `write` is called the
 *   batch may be detached. At most one sink of a service owns batches.
 * - A borrower (`batchUse: 'borrows'`) reads the batch only during the synchronous part of its `write`
 *   (before `write` returns its promise): whatever it needs later it copies or encodes there.
 * The fan-out therefore calls every borrower's `write` first and the owner's last.
 *
 * The received body: a sink with `wantsBody` gets the request's compressed body as received. It is a
 * view of the request's slot (shared memory), valid until the promise of `write` settles: the receiver
 * keeps the slot until every sink's write settled, then reuses it for another request.
 */
import type { RowBatch } from '../batch/row-batch.js'

/** The request a batch was decoded from, as received. */
export interface ReceivedBody {
  /** The compressed body: a view of the slot, valid until the sink's `write` settles. */
  readonly bytes: Uint8Array
  /** Protocol version of the body. */
  readonly version: '1.0' | '2.0'
  /** The tenant header's value, '' when none. */
  readonly tenant: string
  /**
   * HA deduplication or relabeling changed the series: the batch is not what the body says (decoding
   * the body again gives the batch again; sending it on as received would not).
   */
  readonly changed?: boolean
}

/** Decodes a body kept by a sink (its log) into a batch again, through the service's decode pool. */
export type BodyDecoder = (body: Uint8Array, version: '1.0' | '2.0', tenant: string) => Promise<RowBatch>

export interface Sink {
  /** Short name for logs and metrics: 'duckdb', 'discard', 'forward'. */
  readonly name: string
  /** How the sink uses the batch's buffers (see above); default 'owns'. */
  readonly batchUse?: 'owns' | 'borrows'
  /** The sink wants the received compressed body beside the batch (the receiver then keeps the slot until write settles). */
  readonly wantsBody?: boolean
  /**
   * The sink needs only the received body and the batch's counts whenever the body goes on unchanged
   * (the forward sink without shard mode or destination rules). When every sink says so and nothing
   * else needs series ids, the service runs the gateway decode (docs/forwarding.md "Gateway decode"):
   * a batch of a request with no invalid series then carries counts only (`RowBatch.rowsOmitted`)
   * and always comes with its body.
   */
  readonly bodyOnly?: boolean
  /**
   * Optional: throws an IngestError when the sink would refuse the batch now (a full forward queue), so
   * that the fan-out refuses the request before any sink stored it. A write may still fail afterwards.
   */
  check?(batch: RowBatch, body?: ReceivedBody): void
  /** Opens files or connections; the service is ready only after every sink started. */
  start(): Promise<void>
  /**
   * Resolves once every row of the batch is stored. An owner may keep the batch's buffers from here on;
   * a borrower reads them only before this returns. `body` is given to sinks that want it.
   */
  write(batch: RowBatch, body?: ReceivedBody): Promise<void>
  /**
   * Optional: stores again what the sink's own log holds beyond its store (the DuckDB sink with
   * duckdb-ack log, after a crash). Called once the decode pool runs, before the service listens.
   */
  replay?(decode: BodyDecoder): Promise<void>
  /** Whether the sink can take writes now (for /readyz). */
  ready(): boolean
  /** Stores everything accepted so far, then releases files and connections. */
  close(): Promise<void>
}
