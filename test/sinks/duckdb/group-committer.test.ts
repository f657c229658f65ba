/**
 * The group committer on its own, with a writer whose commits the test finishes by hand: commits are
 * pipelined over two lanes but happen in order, a transaction that followed a failed one fails too,
 * a batch refused alone does not spoil its transaction, and maintenance waits for quiet; a writer
 * that can retry gets a failed transaction run again from its batches.
 */
import { describe, expect, it } from 'vitest'
import type { RowBatch } from '../../../src/batch/row-batch.js'
import { IngestError } from '../../../src/errors.js'
import { GroupCommitter, MAX_ATTEMPTS, type CommitReport, type TransactionWriter, type Txn } from '../../../src/sinks/duckdb/group-commit.js'

/** A batch stand-in: the committer hands batches to the writer untouched. */
const batch = (rows: number, refuse = false): RowBatch => ({ rows, refuse }) as unknown as RowBatch

class HandWriter implements TransactionWriter {
  readonly lanes = 2
  readonly log: string[] = []
  private readonly finishers = new Map<number, { ok: () => void, fail: (e: Error) => void }>()
  private readonly watchers: Array<{ entry: string, times: number, resolve: () => void }> = []

  async begin (txn: Txn): Promise<void> { this.note(`begin ${txn.id}@${txn.lane}`) }
  append (txn: Txn, b: RowBatch): number | IngestError {
    const x = b as unknown as { rows: number, refuse: boolean }
    if (x.refuse) return new IngestError('sink_failed', 'refused alone')
    this.note(`append ${txn.id}`)
    return x.rows
  }

  async commit (txn: Txn): Promise<void> {
    this.note(`commit ${txn.id}`)
    await new Promise<void>((resolve, reject) => this.finishers.set(txn.id, { ok: resolve, fail: reject }))
    this.note(`committed ${txn.id}`)
  }

  async rollback (txn: Txn): Promise<void> { this.note(`rollback ${txn.id}`) }

  /** Resolves once the committer has done `entry` `times` times (at once if it has). */
  async reached (entry: string, times = 1): Promise<void> {
    if (this.count(entry) >= times) return
    await new Promise<void>(resolve => this.watchers.push({ entry, times, resolve }))
  }

  private count (entry: string): number { return this.log.filter(e => e === entry).length }

  private note (entry: string): void {
    this.log.push(entry)
    for (let i = this.watchers.length - 1; i >= 0; i--) {
      const w = this.watchers[i]!
      if (w.entry === entry && this.count(entry) >= w.times) this.watchers.splice(i, 1)[0]!.resolve()
    }
  }

  committing (): number[] { return [...this.finishers.keys()] }
  finish (id: number, error?: Error): void {
    const f = this.finishers.get(id)!
    this.finishers.delete(id)
    if (error === undefined) f.ok()
    else f.fail(error)
  }
}

/** One turn of the event loop: what was free to run has run (no clock involved). */
const turn = async (): Promise<void> => { await new Promise(resolve => setImmediate(resolve)) }

/** A hand writer that asks for a retry when the failure says "memory" (as the store does for DuckDB's out-of-memory errors). */
class RetryingWriter extends HandWriter {
  readonly retries: string[] = []
  async retry (txn: Txn, error: IngestError, attempt: number): Promise<boolean> {
    this.retries.push(`${txn.id}#${attempt}`)
    return /memory/i.test(error.message)
  }
}

// The committer commits a transaction once no batch arrived for commit-quiet (2 ms): that timer is
// the feature's own; the tests wait for its effect (the writer's `commit`), never for a time.
function setup (w: HandWriter = new HandWriter()): { w: HandWriter, c: GroupCommitter, reports: CommitReport[], outcome: Map<number, string>, answered: (seq: number) => Promise<void> } {
  const reports: CommitReport[] = []
  const outcome = new Map<number, string>()
  const waiting = new Map<number, () => void>()
  const c = new GroupCommitter(w, { commitInterval: 1_000, commitMaxRows: 1_000_000, commitQuiet: 2 }, r => {
    reports.push(r)
    for (const s of r.seqs) {
      outcome.set(s, r.error === undefined ? 'ok' : r.error.message)
      waiting.get(s)?.()
    }
  })
  /** Resolves once write `seq` has its outcome. */
  const answered = async (seq: number): Promise<void> => {
    if (outcome.has(seq)) return
    await new Promise<void>(resolve => waiting.set(seq, resolve))
  }
  return { w, c, reports, outcome, answered }
}

describe('GroupCommitter', () => {
  it('takes new batches on the other lane while a commit runs, and commits in order', async () => {
    const { w, c, outcome, answered } = setup()
    c.submit(1, batch(10))
    c.submit(2, batch(10))
    await w.reached('commit 1')
    expect(w.committing()).toEqual([1]) // quiet: transaction 1 commits with both batches
    c.submit(3, batch(10)) // arrives while 1 commits: transaction 2, other lane
    await w.reached('append 2')
    expect(w.log).toContain('begin 2@0')
    expect(w.committing()).toEqual([1]) // 2 waits for 1
    expect(outcome.size).toBe(0)
    w.finish(1)
    await answered(2)
    expect([...outcome]).toEqual([[1, 'ok'], [2, 'ok']])
    await w.reached('commit 2')
    expect(w.committing()).toEqual([2])
    w.finish(2)
    await c.drain()
    expect(outcome.get(3)).toBe('ok')
    expect(w.log.indexOf('committed 1')).toBeLessThan(w.log.indexOf('commit 2'))
  })

  it('keeps the next transaction open while the previous one commits, past commit-quiet', async () => {
    const { w, c, outcome, answered } = setup()
    c.submit(1, batch(10))
    await w.reached('commit 1')
    c.submit(2, batch(10))
    await w.reached('append 2')
    // This test depends on time by nature: it waits out commit-quiet (2 ms) several times over to
    // show that the quiet timer does not close transaction 2 while transaction 1 still commits.
    await new Promise(resolve => setTimeout(resolve, 30))
    c.submit(3, batch(10))
    expect(w.log.filter(e => e === 'append 2').length).toBe(2) // batch 3 joined transaction 2
    expect(w.log).not.toContain('begin 3@1')
    w.finish(1)
    await w.reached('commit 2')
    w.finish(2)
    await answered(3)
    expect([...outcome]).toEqual([[1, 'ok'], [2, 'ok'], [3, 'ok']])
    expect(w.log.filter(e => e.startsWith('commit '))).toEqual(['commit 1', 'commit 2'])
  })

  it('fails the transaction after a failed one, and starts clean after that', async () => {
    const { w, c, outcome, answered } = setup()
    c.submit(1, batch(10))
    await w.reached('commit 1')
    c.submit(2, batch(10))
    await w.reached('append 2')
    w.finish(1, new Error('disk full'))
    await answered(2)
    expect(outcome.get(1)).toMatch(/disk full/)
    expect(outcome.get(2)).toMatch(/before this one failed/)
    await w.reached('rollback 2')
    c.submit(3, batch(10))
    await w.reached('commit 3')
    w.finish(3)
    await c.drain()
    expect(outcome.get(3)).toBe('ok')
  })

  it('answers a batch refused alone at once and commits the others', async () => {
    const { w, c, outcome, answered } = setup()
    c.submit(1, batch(10))
    c.submit(2, batch(10, true))
    c.submit(3, batch(10))
    await answered(2)
    expect(outcome.get(2)).toBe('refused alone')
    expect(outcome.has(1) || outcome.has(3)).toBe(false) // answered at once, before the others committed
    await w.reached('commit 1')
    w.finish(1)
    await c.drain()
    expect(outcome.get(1)).toBe('ok')
    expect(outcome.get(3)).toBe('ok')
  })

  it('runs maintenance only when no transaction is open or committing', async () => {
    const { w, c } = setup()
    c.submit(1, batch(10))
    await w.reached('commit 1')
    const ran: string[] = []
    const task = c.exclusive(async () => { ran.push(`maintenance while committing: ${w.committing().length}`) })
    await turn()
    expect(ran).toEqual([])
    w.finish(1)
    await task
    expect(ran).toEqual(['maintenance while committing: 0'])
  })

  it('runs a transaction that failed for memory again from its batches, and the writes succeed', async () => {
    const w = new RetryingWriter()
    const { c, outcome } = setup(w)
    c.submit(1, batch(10))
    c.submit(2, batch(20))
    await w.reached('commit 1')
    w.finish(1, new Error('Out of Memory Error: failed to pin block'))
    await w.reached('commit 1', 2)
    expect(outcome.size).toBe(0) // not answered: run again
    expect(w.retries).toEqual(['1#1'])
    const again = w.log.slice(w.log.indexOf('rollback 1'))
    expect(again.slice(0, 5)).toEqual(['rollback 1', 'begin 1@1', 'append 1', 'append 1', 'commit 1'])
    w.finish(1)
    await c.drain()
    expect([...outcome]).toEqual([[1, 'ok'], [2, 'ok']])
  })

  it('gives up after MAX_ATTEMPTS runs, and does not retry other failures', async () => {
    const w = new RetryingWriter()
    const { c, outcome } = setup(w)
    c.submit(1, batch(10))
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      await w.reached('commit 1', attempt)
      w.finish(1, new Error('Out of Memory Error'))
    }
    await c.drain()
    expect(outcome.get(1)).toMatch(/Out of Memory/)
    expect(w.retries.length).toBe(MAX_ATTEMPTS - 1)
    c.submit(2, batch(10))
    await w.reached('commit 2')
    w.finish(2, new Error('disk full'))
    await c.drain()
    expect(outcome.get(2)).toMatch(/disk full/)
    expect(w.retries.length).toBe(MAX_ATTEMPTS) // asked once, said no
  })
})
