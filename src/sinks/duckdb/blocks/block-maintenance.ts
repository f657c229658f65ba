/**
 * The store's block upkeep: compaction on a schedule and on demand, on a DuckDB connection of its
 * own (in the store's thread, beside the two writer connections of the group committer, so ingest
 * goes on while a range is compacted), one range at a time; and the removal of files retention
 * dropped. Compaction and retention never run at once (`serial`): both change the manifest and
 * the views.
 */
import { join } from 'node:path'
import type { DuckDBConnection } from '@duckdb/node-api'
import { IngestError } from '../../../errors.js'
import { blocksDir, removeFile } from './block-files.js'
import type { BlockEntry } from './block-manifest.js'
import { closedBefore, runCompaction, type CompactionResult } from './compaction.js'

export const DEFAULT_BLOCK_WINDOW_MS = 2 * 3_600_000
export const DEFAULT_COMPACTION_INTERVAL_MS = 60_000

/** Rows of one block at most, from the memory limit: a sixteenth of it in rows (6M at 96 MB), at least 1M. */
export function blockMaxRows (memoryLimitBytes: number): number {
  return Math.max(1_000_000, Math.floor(memoryLimitBytes / 16))
}

export interface BlockMaintenanceOptions {
  readonly dataDir: string
  readonly windowMs: number
  /** 0: no compaction on a schedule (only on demand). */
  readonly intervalMs: number
  readonly maxRows: number
  readonly log?: (level: 'info' | 'warn' | 'error', msg: string, obj?: Record<string, unknown>) => void
}

/** What compaction did since the store opened (counters; the store's stats carry them to /metrics). */
export interface CompactionFigures {
  /** Ranges (one window, or part of one) written into blocks. */
  readonly compactions: number
  readonly compactedRows: number
  /** Passes that failed (the head keeps its rows; the next pass tries again). */
  readonly failures: number
  /** Ranges stopped because a write transaction needed the memory. */
  readonly interrupts: number
}

export interface CompactRequest {
  /** Compact every head row, the open window's too (default: closed windows only). */
  readonly all?: boolean
  readonly nowMs?: number
}

export class BlockMaintenance {
  private chain: Promise<unknown> = Promise.resolve()
  private timer: NodeJS.Timeout | undefined
  private closed = false
  private compactions = 0
  private compactedRows = 0
  private failures = 0
  private interrupts = 0

  constructor (private readonly connection: DuckDBConnection, private readonly o: BlockMaintenanceOptions) {}

  /** Starts compaction on the schedule (after the store opened). */
  start (): void {
    if (this.o.intervalMs <= 0) return
    this.timer = setInterval(() => {
      if (this.busy) return // the previous pass still runs: no queue of passes
      this.compact().then(r => {
        if (r.ranges > 0) this.o.log?.('info', 'compaction wrote blocks', { ranges: r.ranges, blocks: r.blocks, rows: r.rows, headRows: r.headRows, bytes: r.bytes, ms: Math.round(r.durationMs) })
      }, err => {
        this.o.log?.('error', 'compaction failed; the head keeps its rows and the next pass tries again', { reason: (err as Error).message.split('\n')[0] })
      })
    }, this.o.intervalMs)
    this.timer.unref()
  }

  private busy = false

  /** Runs `fn` after every earlier compaction or retention has ended. */
  async serial<T> (fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn)
    this.chain = run.catch(() => undefined)
    return await run
  }

  /** Compacts closed windows (or everything, `all`), one range at a time. */
  async compact (req: CompactRequest = {}): Promise<CompactionResult> {
    return await this.serial(async () => {
      this.busy = true
      try {
        const before = req.all === true ? undefined : closedBefore(req.nowMs ?? Date.now(), this.o.windowMs)
        const r = await runCompaction(this.connection, this.o.dataDir, {
          windowMs: this.o.windowMs,
          maxRows: this.o.maxRows,
          beforeMs: before,
          onRange: () => !this.closed
        })
        this.compactions += r.ranges
        this.compactedRows += r.rows
        return r
      } catch (err) {
        this.failures++
        throw err instanceof IngestError ? err : new IngestError('compaction_failed', `compaction failed: ${(err as Error).message.split('\n')[0]}`)
      } finally {
        this.busy = false
      }
    })
  }

  /**
   * Stops the range being compacted, if one is (a write transaction ran out of memory: writes come
   * first). It is rolled back and the next pass compacts it again.
   */
  interrupt (): boolean {
    if (!this.busy) return false
    this.interrupts++
    this.connection.interrupt()
    return true
  }

  /** Removes the files of dropped blocks once `idle` resolves (no query that may read them runs). */
  removeLater (dropped: readonly BlockEntry[], idle: Promise<void>): void {
    if (dropped.length === 0) return
    const dir = blocksDir(this.o.dataDir)
    void idle.then(() => {
      for (const b of dropped) {
        try { removeFile(join(dir, b.file)) } catch (err) { this.o.log?.('warn', 'removing a dropped block file failed; it is removed at the next start', { file: b.file, reason: (err as Error).message }) }
      }
    })
  }

  get figures (): CompactionFigures {
    return { compactions: this.compactions, compactedRows: this.compactedRows, failures: this.failures, interrupts: this.interrupts }
  }

  /** Stops the schedule and waits for a running pass to end (it stops after its current range). */
  async close (): Promise<void> {
    this.closed = true
    if (this.timer !== undefined) clearInterval(this.timer)
    await this.chain
    this.connection.closeSync()
  }

  /** Stops the schedule at once (the database is being abandoned). */
  abandon (): void {
    this.closed = true
    if (this.timer !== undefined) clearInterval(this.timer)
    try { this.connection.closeSync() } catch { /* the instance is unusable anyway */ }
  }
}
