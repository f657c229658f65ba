/**
 * Group commit: batches from many writes share one transaction. A write's rows are appended as soon
 * as the batch arrives (spreading the work), and its promise settles only when the transaction that
 * holds them has committed or failed.
 *
 * A transaction commits when `commitInterval` ms have passed since its first batch, when it holds
 * `commitMaxRows` rows, when no batch arrived for `commitQuiet` ms, or at once when draining; but
 * never before the previous transaction's commit has ended (short of being full or draining): until
 * then it takes every batch that arrives, so that one commit (its log sync and fixed costs) serves
 * all of them. Measured on the e2e load (bench/README.md, store target): with the interval and quiet
 * rules alone, transactions held 1.16 requests on average and commits ran back to back.
 *
 * Commits are pipelined over the writer's lanes (two connections): while transaction k commits on
 * one lane (DuckDB works in its own threads), transaction k+1 takes the batches that arrive on the
 * other. Commits happen strictly in order: k+1 starts committing only after k finished. Because
 * k+1 may lean on rows of k (a series row k inserted), k+1 fails when k failed.
 *
 * A failed transaction is rolled back and every batch in it is answered with the same `sink_failed`
 * error; nothing of it is visible, and the next transaction starts clean. Maintenance (retention)
 * runs when no transaction is open or committing.
 *
 * Retries: a transaction keeps its batches until it settles. When it fails (in an append or in
 * COMMIT) and the writer says the failure is worth another try (`retry`: DuckDB ran out of memory,
 * and the writer freed what it could), it is rolled back, begun again on the same lane and number,
 * its batches appended again, and committed again, up to MAX_ATTEMPTS times. While that happens the
 * transaction open on the other lane takes no new batch (they queue for it): it may lean on rows of
 * the one being run again, which are briefly not marked as stored.
 */
import type { RowBatch } from '../../batch/row-batch.js'
import { IngestError } from '../../errors.js'
import { GroupLoop } from '../../group-loop.js'

/** One transaction: which lane (connection) it runs on, and its number (increasing). */
export interface Txn {
  readonly lane: number
  readonly id: number
}

/** What the group committer drives: one transaction per lane at a time. */
export interface TransactionWriter {
  /** Connections that can hold a transaction each (1: no pipelining). */
  readonly lanes: number
  begin(txn: Txn): Promise<void>
  /** Appends a batch; returns its row count, or an error refusing this batch alone. Throws when the transaction is spoiled. */
  append(txn: Txn, batch: RowBatch): number | IngestError
  /** Commits the transaction, which holds the writes `seqs`. */
  commit(txn: Txn, seqs: readonly number[]): Promise<void>
  rollback(txn: Txn): Promise<void>
  /** Optional: the transaction holds as much as it should (bytes, not rows); commit it now. */
  full?(txn: Txn): boolean
  /**
   * Optional: whether a transaction that failed with `error` is worth running again from its batches
   * (attempt 1 is the first retry). The writer may free resources before it answers.
   */
  retry?(txn: Txn, error: IngestError, attempt: number): Promise<boolean>
}

/** Most runs of one transaction (the first and the retries). */
export const MAX_ATTEMPTS = 5

export interface GroupCommitOptions {
  /** Longest a transaction stays open after its first batch, ms. */
  commitInterval: number
  /** Rows after which a transaction commits without waiting for the interval. */
  commitMaxRows: number
  /**
   * A transaction also commits once no batch arrived for this long, ms (default 0; a value of
   * commitInterval or more turns it off). Senders that wait for their answer before sending again
   * (Prometheus shards, a load generator's connections) stop sending while their batches wait: then
   * waiting out the interval only adds latency and caps throughput at concurrency / interval.
   * The default 0 commits as soon as the previous commit has ended: batches that arrive meanwhile
   * still share a transaction (the next one, open during that commit), and no commit waits for a
   * batch that may not come. 2 ms cost 5 to 25% of the samples/s on the e2e load (bench/README.md).
   */
  commitQuiet?: number
}

export const DEFAULT_COMMIT_QUIET_MS = 0

/** The outcome of a transaction (or of a batch refused alone), for the writes that were in it. */
export interface CommitReport {
  readonly seqs: number[]
  readonly rows: number
  /** Time from the transaction's first batch to the end of its COMMIT, ms. */
  readonly transactionMs: number
  /** Time COMMIT itself took (flushing appenders included), ms. */
  readonly commitMs: number
  readonly error?: IngestError | undefined
}

export function sinkFailed (err: unknown, what: string): IngestError {
  if (err instanceof IngestError && err.code === 'sink_failed') return err
  const message = err instanceof Error ? err.message : String(err)
  return new IngestError('sink_failed', `${what}: ${message.split('\n')[0]}`)
}

interface Open {
  readonly txn: Txn
  readonly seqs: number[]
  /** The batches appended (kept for a retry, when the writer can retry), in the order of seqs. */
  readonly batches: RowBatch[]
  rows: number
  spoiled: IngestError | undefined
}

export class GroupCommitter {
  private queue: Array<{ seq: number, batch: RowBatch }> = []
  private readonly maintenance: Array<() => Promise<void>> = []
  private open: Open | undefined
  /** The previous transaction's commit; resolves true when it committed. */
  private inFlight: Promise<boolean> | undefined
  private inFlightWrites = 0
  private nextTxn = 1
  private arrived: (() => void) | undefined
  private readonly group = new GroupLoop(async () => { await this.loop() }, () => this.queue.length > 0 || this.maintenance.length > 0)
  private lastArrival = 0
  /** A transaction is being run again: the open one takes no new batch meanwhile. */
  private pausing = false
  /** commitNow() was called: the transaction open now (or the next) does not wait out its interval. */
  private hurry = false
  /** Batches are kept for retries only when the writer can retry (decided once). */
  private readonly keep: boolean

  constructor (
    private readonly writer: TransactionWriter,
    private readonly options: GroupCommitOptions,
    private readonly onSettled: (report: CommitReport) => void
  ) {
    this.keep = writer.retry !== undefined
  }

  /** Writes not answered yet: queued, in the open transaction, or committing. */
  get waiting (): number { return this.queue.length + (this.open?.seqs.length ?? 0) + this.inFlightWrites }

  submit (seq: number, batch: RowBatch): void {
    this.lastArrival = performance.now()
    const open = this.open
    if (open !== undefined && !this.pausing && open.spoiled === undefined && !this.isFull(open)) {
      this.appendOne(open, seq, batch)
      if (this.isFull(open) || open.spoiled !== undefined) this.group.wake()
      return
    }
    this.queue.push({ seq, batch })
    this.arrived?.()
    this.group.start()
  }

  /** Runs `task` when no transaction is open or committing. */
  async exclusive<T> (task: () => Promise<T>): Promise<T> {
    return await new Promise<T>((resolve, reject) => {
      this.maintenance.push(async () => { try { resolve(await task()) } catch (err) { reject(err) } })
      this.arrived?.()
      this.group.start()
    })
  }

  /** Commits everything submitted so far without waiting for the interval; resolves when idle. */
  async drain (): Promise<void> {
    await this.group.drain()
  }

  /**
   * The open transaction (or the next one, when none is open) commits as soon as the previous commit
   * has ended, without waiting for its interval: a reader wants what was acknowledged before it came.
   */
  commitNow (): void {
    this.hurry = true
    this.group.wake()
  }

  private isFull (open: Open): boolean {
    return open.rows >= this.options.commitMaxRows || (this.writer.full?.(open.txn) ?? false)
  }

  private appendOne (open: Open, seq: number, batch: RowBatch): void {
    let result: number | IngestError
    try {
      result = this.writer.append(open.txn, batch)
    } catch (err) {
      open.spoiled = sinkFailed(err, 'appending to the DuckDB transaction failed')
      open.seqs.push(seq)
      if (this.keep) open.batches.push(batch)
      return
    }
    if (result instanceof IngestError) {
      this.onSettled({ seqs: [seq], rows: 0, transactionMs: 0, commitMs: 0, error: result })
      return
    }
    open.seqs.push(seq)
    if (this.keep) open.batches.push(batch)
    open.rows += result
  }

  /** Appends what queued while a transaction was run again to the open one. */
  private resume (): void {
    const open = this.open
    while (open !== undefined && this.queue.length > 0 && open.spoiled === undefined && !this.isFull(open)) {
      const { seq, batch } = this.queue.shift()!
      this.appendOne(open, seq, batch)
    }
    if (open !== undefined && (open.spoiled !== undefined || this.isFull(open))) this.group.wake()
  }

  private async loop (): Promise<void> {
    for (;;) {
      if (this.maintenance.length > 0) {
        await this.finishInFlight()
        await this.maintenance.shift()!()
      } else if (this.queue.length > 0) {
        await this.transaction()
      } else if (this.inFlight !== undefined) {
        // Idle but for a commit: wait for it, or for a batch to arrive (it starts the next transaction).
        const done = this.inFlight.then(() => true)
        const arrival = new Promise<false>(resolve => { this.arrived = () => resolve(false) })
        const finished = await Promise.race([done, arrival])
        this.arrived = undefined
        if (finished) await this.finishInFlight()
      } else {
        return
      }
    }
  }

  /** Waits for the previous transaction's commit; true when there was none or it committed. */
  private async finishInFlight (): Promise<boolean> {
    const inFlight = this.inFlight
    if (inFlight === undefined) return true
    const ok = await inFlight
    if (this.inFlight === inFlight) {
      this.inFlight = undefined
      this.inFlightWrites = 0
    }
    return ok
  }

  private async transaction (): Promise<void> {
    const txn: Txn = { lane: this.nextTxn % this.writer.lanes, id: this.nextTxn++ }
    // With one lane the connection is busy until the previous commit ends.
    if (this.writer.lanes === 1) await this.finishInFlight()
    try {
      await this.writer.begin(txn)
    } catch (err) {
      const error = sinkFailed(err, 'could not begin a DuckDB transaction')
      const queued = this.queue.splice(0)
      this.onSettled({ seqs: queued.map(q => q.seq), rows: 0, transactionMs: 0, commitMs: 0, error })
      return
    }
    const began = performance.now()
    const open: Open = { txn, seqs: [], batches: [], rows: 0, spoiled: undefined }
    this.open = open
    while (!this.pausing && this.queue.length > 0 && open.spoiled === undefined && !this.isFull(open)) {
      const { seq, batch } = this.queue.shift()!
      this.appendOne(open, seq, batch)
    }
    const quiet = this.options.commitQuiet ?? DEFAULT_COMMIT_QUIET_MS
    // The previous transaction, while it commits: this one cannot commit before it ends, so it keeps
    // taking batches until then whatever the interval and quiet say (closing it would only make the
    // batches that arrive meanwhile wait for a third commit).
    let previous = this.inFlight
    while (open.spoiled === undefined && !this.group.urgent && !this.isFull(open)) {
      if (previous !== undefined) {
        if (await this.group.until(previous)) previous = undefined
        continue
      }
      if (this.hurry) break
      const now = performance.now()
      const left = began + this.options.commitInterval - now
      if (left <= 0) break
      const quietLeft = quiet < this.options.commitInterval ? this.lastArrival + quiet - now : Infinity
      if (quietLeft <= 0) break
      await this.group.sleep(Math.min(left, quietLeft))
    }
    this.open = undefined
    this.hurry = false

    // Commits go in order; this one may rely on the previous one's rows.
    const previousCommitted = await this.finishInFlight()
    if (!previousCommitted) {
      const error = new IngestError('sink_failed', 'the DuckDB transaction before this one failed, and this one may depend on its rows; rolled back')
      try { await this.writer.rollback(txn) } catch { /* the transaction is gone either way */ }
      this.onSettled({ seqs: open.seqs, rows: open.rows, transactionMs: performance.now() - began, commitMs: 0, error })
      return
    }
    this.inFlightWrites = open.seqs.length
    this.inFlight = this.commit(open, began)
  }

  /** Commits the transaction (a spoiled one fails at once), running it again while the writer says so. */
  private async commit (open: Open, began: number): Promise<boolean> {
    const commitStart = performance.now()
    let error: IngestError | undefined = open.spoiled
    for (let attempt = 1; ; attempt++) {
      if (error === undefined) {
        try {
          await this.writer.commit(open.txn, open.seqs)
          break
        } catch (err) {
          error = sinkFailed(err, 'the DuckDB commit failed')
        }
      }
      const again = this.keep && attempt < MAX_ATTEMPTS && await this.writer.retry!(open.txn, error, attempt)
      if (!again) {
        try { await this.writer.rollback(open.txn) } catch { /* the transaction is gone either way */ }
        break
      }
      error = await this.runAgain(open)
    }
    const end = performance.now()
    this.onSettled({ seqs: open.seqs, rows: open.rows, transactionMs: end - began, commitMs: end - commitStart, error })
    return error === undefined
  }

  /** Rolls the transaction back and appends its batches again in a new one (same lane and number). */
  private async runAgain (open: Open): Promise<IngestError | undefined> {
    this.pausing = true
    try {
      try { await this.writer.rollback(open.txn) } catch { /* the transaction is gone either way */ }
      try {
        await this.writer.begin(open.txn)
      } catch (err) {
        return sinkFailed(err, 'could not begin a DuckDB transaction')
      }
      const seqs = open.seqs.splice(0)
      const batches = open.batches.splice(0)
      open.rows = 0
      for (let i = 0; i < seqs.length; i++) {
        let result: number | IngestError
        try {
          result = this.writer.append(open.txn, batches[i]!)
        } catch (err) {
          open.seqs.push(...seqs.slice(i))
          open.batches.push(...batches.slice(i))
          return sinkFailed(err, 'appending to the DuckDB transaction failed')
        }
        if (result instanceof IngestError) {
          this.onSettled({ seqs: [seqs[i]!], rows: 0, transactionMs: 0, commitMs: 0, error: result })
          continue
        }
        open.seqs.push(seqs[i]!)
        open.batches.push(batches[i]!)
        open.rows += result
      }
      return undefined
    } finally {
      this.pausing = false
      this.resume()
    }
  }
}
