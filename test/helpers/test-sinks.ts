/**
 * Sinks for tests: one that records what it stored, one that holds writes until the test opens its
 * gate (a slow sink), one that fails.
 */
import type { RowBatch } from '../../src/batch/row-batch.js'
import { IngestError } from '../../src/errors.js'
import type { Sink } from '../../src/sinks/sink.js'

export interface StoredBatch {
  tenant: string
  version: '1.0' | '2.0'
  series: number
  samples: number
  histograms: number
  exemplars: number
  metadata: number
  /** Labels of every accepted series, in Prometheus text form order of the batch. */
  seriesLabels: Array<Array<[string, string]>>
  timestamps: number[]
}

/** Records a summary of every batch it stored. */
export class RecordingSink implements Sink {
  readonly name: string = 'recording'
  readonly stored: StoredBatch[] = []
  private up = false

  async start (): Promise<void> { this.up = true }
  ready (): boolean { return this.up }
  async close (): Promise<void> { this.up = false }

  async write (batch: RowBatch): Promise<void> {
    this.record(batch)
  }

  protected record (batch: RowBatch): void {
    const seriesLabels: Array<Array<[string, string]>> = []
    for (let i = 0; i < batch.seriesRefs.length; i++) seriesLabels.push(batch.labelsOf(batch.seriesRefs[i]!) ?? [])
    this.stored.push({
      tenant: batch.tenant,
      version: batch.version,
      series: batch.seriesCount,
      samples: batch.sampleCount,
      histograms: batch.histogramCount,
      exemplars: batch.exemplarCount,
      metadata: batch.metadataCount,
      seriesLabels,
      timestamps: Array.from(batch.timestamps)
    })
  }

  get samples (): number { return this.stored.reduce((n, b) => n + b.samples, 0) }
}

/** Stores (records) a batch only once the gate is open: a sink as slow as the test wants. */
export class GatedSink extends RecordingSink {
  override readonly name = 'gated'
  private waiting: Array<() => void> = []
  private watchers: Array<{ n: number, resolve: () => void }> = []
  private isOpen = false

  /** Writes waiting at the gate now. */
  get pending (): number { return this.waiting.length }

  /** Resolves when `n` writes wait at the gate (at once if they already do). */
  async whenPending (n: number): Promise<void> {
    if (this.waiting.length >= n) return
    await new Promise<void>(resolve => this.watchers.push({ n, resolve }))
  }

  override async write (batch: RowBatch): Promise<void> {
    if (!this.isOpen) {
      const arrived = new Promise<void>(resolve => this.waiting.push(resolve))
      this.watchers = this.watchers.filter(w => { if (this.waiting.length < w.n) return true; w.resolve(); return false })
      await arrived
    }
    this.record(batch)
  }

  open (): void {
    this.isOpen = true
    for (const w of this.waiting.splice(0)) w()
  }

  override async close (): Promise<void> {
    this.open()
    await super.close()
  }
}

/** Fails every write, with an IngestError('sink_failed') or, when asked, a plain Error. */
export class FailingSink implements Sink {
  readonly name = 'failing'
  attempts = 0
  constructor (private readonly plain = false) {}
  async start (): Promise<void> {}
  ready (): boolean { return true }
  async close (): Promise<void> {}
  async write (): Promise<void> {
    this.attempts++
    if (this.plain) throw new Error('disk on fire')
    throw new IngestError('sink_failed', 'the test sink refuses every batch')
  }
}
