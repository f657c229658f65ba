/**
 * Group commit: batches from many writes share one transaction. A write's rows are appended as soon
 * as the batch arrives (spreading the work), and its promise settles only when the transaction that
 * holds them has committed or failed. A transaction commits when `commitInterval` ms have passed since
 * it began, when it holds `commitMaxRows` rows, or at once when draining.
 *
 * A batch arriving while a transaction commits waits for the next one. A failed transaction is rolled
 * back and every batch in it is answered with the same `sink_failed` error; nothing of it is visible,
 * and the next transaction starts clean. Maintenance work (retention) runs between transactions.
 */
import type { RowBatch } from '../../batch/row-batch.js'
import { IngestError } from '../../errors.js'

/** What the group committer drives: one transaction at a time on one connection. */
export interface TransactionWriter {
  begin(): Promise<void>
  /** Appends a batch; returns its row count, or an error refusing this batch alone. Throws when the transaction is spoiled. */
  append(batch: RowBatch): number | IngestError
  commit(): Promise<void>
  rollback(): Promise<void>
}

export interface GroupCommitOptions {
  /** Longest a transaction stays open, ms. */
  commitInterval: number
  /** Rows after which a transaction commits without waiting for the interval. */
  commitMaxRows: number
}

/** The outcome of a transaction (or of a batch refused alone), for the writes that were in it. */
export interface CommitReport {
  readonly seqs: number[]
  readonly rows: number
  /** Time from BEGIN to the end of COMMIT, ms. */
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

export class GroupCommitter {
  private queue: Array<{ seq: number, batch: RowBatch }> = []
  private readonly maintenance: Array<() => Promise<void>> = []
  private open = false
  private spoiled: IngestError | undefined
  private seqs: number[] = []
  private rows = 0
  private urgent = false
  private wake: (() => void) | undefined
  private running: Promise<void> | undefined

  constructor (
    private readonly writer: TransactionWriter,
    private readonly options: GroupCommitOptions,
    private readonly onSettled: (report: CommitReport) => void
  ) {}

  /** Writes queued or in the open transaction. */
  get waiting (): number { return this.queue.length + this.seqs.length }

  submit (seq: number, batch: RowBatch): void {
    if (this.open && this.spoiled === undefined && this.rows < this.options.commitMaxRows) {
      this.appendOne(seq, batch)
      if (this.rows >= this.options.commitMaxRows || this.spoiled !== undefined) this.wake?.()
      return
    }
    this.queue.push({ seq, batch })
    this.start()
  }

  /** Runs `task` between transactions (no transaction of this committer is open while it runs). */
  async exclusive<T> (task: () => Promise<T>): Promise<T> {
    return await new Promise<T>((resolve, reject) => {
      this.maintenance.push(async () => { try { resolve(await task()) } catch (err) { reject(err) } })
      this.start()
    })
  }

  /** Commits everything submitted so far without waiting for the interval; resolves when idle. */
  async drain (): Promise<void> {
    this.urgent = true
    try {
      this.wake?.()
      while (this.running !== undefined) await this.running
    } finally {
      this.urgent = false
    }
  }

  private start (): void {
    if (this.running !== undefined) return
    this.running = this.loop().finally(() => {
      this.running = undefined
      if (this.queue.length > 0 || this.maintenance.length > 0) this.start()
    })
  }

  private appendOne (seq: number, batch: RowBatch): void {
    let result: number | IngestError
    try {
      result = this.writer.append(batch)
    } catch (err) {
      this.spoiled = sinkFailed(err, 'appending to the DuckDB transaction failed')
      this.seqs.push(seq)
      return
    }
    if (result instanceof IngestError) {
      this.onSettled({ seqs: [seq], rows: 0, transactionMs: 0, commitMs: 0, error: result })
      return
    }
    this.seqs.push(seq)
    this.rows += result
  }

  private async loop (): Promise<void> {
    while (this.queue.length > 0 || this.maintenance.length > 0) {
      while (this.maintenance.length > 0) await this.maintenance.shift()!()
      if (this.queue.length === 0) continue
      await this.transaction()
    }
  }

  private async transaction (): Promise<void> {
    const began = performance.now()
    try {
      await this.writer.begin()
    } catch (err) {
      const error = sinkFailed(err, 'could not begin a DuckDB transaction')
      const queued = this.queue.splice(0)
      this.onSettled({ seqs: queued.map(q => q.seq), rows: 0, transactionMs: 0, commitMs: 0, error })
      return
    }
    this.open = true
    this.spoiled = undefined
    this.seqs = []
    this.rows = 0
    while (this.queue.length > 0 && this.spoiled === undefined && this.rows < this.options.commitMaxRows) {
      const { seq, batch } = this.queue.shift()!
      this.appendOne(seq, batch)
    }
    while (this.spoiled === undefined && !this.urgent && this.rows < this.options.commitMaxRows) {
      const left = began + this.options.commitInterval - performance.now()
      if (left <= 0) break
      await new Promise<void>(resolve => {
        const timer = setTimeout(resolve, left)
        this.wake = () => { clearTimeout(timer); resolve() }
      })
      this.wake = undefined
    }
    this.open = false
    const seqs = this.seqs
    const rows = this.rows
    this.seqs = []
    this.rows = 0
    const commitStart = performance.now()
    let error: IngestError | undefined = this.spoiled
    if (error === undefined) {
      try {
        await this.writer.commit()
      } catch (err) {
        error = sinkFailed(err, 'the DuckDB commit failed')
      }
    }
    if (error !== undefined) {
      try { await this.writer.rollback() } catch { /* the transaction is gone either way */ }
    }
    const end = performance.now()
    this.onSettled({ seqs, rows, transactionMs: end - began, commitMs: end - commitStart, error })
  }
}
