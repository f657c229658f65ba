/**
 * Several sinks as one (`--sink duckdb,forward`): a batch is stored when every sink stored it, so a
 * request's 204 means every sink holds it durably. Before any write, every sink's `check` runs, so that
 * a refusal known in advance (a full forward queue: 503) stores nothing anywhere. If a sink fails later,
 * the request fails (5xx, the sender retries) even if another sink stored it: delivery is at least once,
 * and the other sink then holds those samples twice (the store keeps both rows; a destination gets the
 * samples again), as with any retry after a 5xx.
 *
 * Order of the calls (the rule in sink.ts): every borrower's `write` first, then the owner's, because
 * the owner may move the batch's buffer to another thread.
 */
import type { RowBatch } from '../batch/row-batch.js'
import { IngestError } from '../errors.js'
import type { BodyDecoder, ReceivedBody, Sink } from './sink.js'

export class FanOutSink implements Sink {
  readonly name: string
  readonly batchUse: 'owns' | 'borrows'
  readonly wantsBody: boolean
  readonly bodyOnly: boolean
  /** Borrowers first, the owner (if any) last. */
  private readonly ordered: readonly Sink[]

  constructor (readonly sinks: readonly Sink[]) {
    if (sinks.length === 0) throw new IngestError('config_invalid', 'at least one sink is needed')
    const owners = sinks.filter(s => (s.batchUse ?? 'owns') === 'owns')
    if (owners.length > 1) throw new IngestError('config_invalid', `sinks ${owners.map(s => s.name).join(' and ')} both keep the batch's buffers; only one such sink can run at once`)
    this.ordered = [...sinks.filter(s => s.batchUse === 'borrows'), ...owners]
    this.name = sinks.map(s => s.name).join('+')
    this.batchUse = owners.length > 0 ? 'owns' : 'borrows'
    this.wantsBody = sinks.some(s => s.wantsBody === true)
    this.bodyOnly = sinks.every(s => s.bodyOnly === true)
  }

  async start (): Promise<void> {
    const started: Sink[] = []
    try {
      for (const s of this.sinks) { await s.start(); started.push(s) }
    } catch (err) {
      await Promise.allSettled(started.map(s => s.close()))
      throw err
    }
  }

  check (batch: RowBatch, body?: ReceivedBody): void {
    for (const s of this.sinks) s.check?.(batch, s.wantsBody === true ? body : undefined)
  }

  write (batch: RowBatch, body?: ReceivedBody): Promise<void> {
    try { this.check(batch, body) } catch (err) { return Promise.reject(err) }
    const writes: Array<Promise<void>> = []
    for (const s of this.ordered) {
      // A sink that throws synchronously must not keep the others from being called.
      try { writes.push(s.write(batch, s.wantsBody === true ? body : undefined)) } catch (err) { writes.push(Promise.reject(err)) }
    }
    return settleAll(writes)
  }

  async replay (decode: BodyDecoder): Promise<void> {
    for (const s of this.sinks) await s.replay?.(decode)
  }

  ready (): boolean { return this.sinks.every(s => s.ready()) }

  async close (): Promise<void> {
    const results = await Promise.allSettled(this.sinks.map(s => s.close()))
    const failed = results.find(r => r.status === 'rejected')
    if (failed !== undefined) throw (failed as PromiseRejectedResult).reason
  }
}

/** Waits for every write (none is left running behind the answer), then rejects with the first failure. */
async function settleAll (writes: Array<Promise<void>>): Promise<void> {
  if (writes.length === 1) return writes[0]!
  const results = await Promise.allSettled(writes)
  for (const r of results) if (r.status === 'rejected') throw r.reason
}
