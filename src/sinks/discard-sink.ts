/**
 * The discard sink: counts what it is given and drops it. For benchmarks (the cost of everything but
 * storage) and tests (the counts say what the receiver acknowledged).
 */
import type { RowBatch } from '../batch/row-batch.js'
import type { Sink } from './sink.js'

export interface DiscardCounts {
  batches: number
  series: number
  samples: number
  histograms: number
  exemplars: number
  metadata: number
  newSeries: number
}

export class DiscardSink implements Sink {
  readonly name = 'discard'
  readonly counts: DiscardCounts = { batches: 0, series: 0, samples: 0, histograms: 0, exemplars: 0, metadata: 0, newSeries: 0 }
  private open = false

  async start (): Promise<void> { this.open = true }

  async write (batch: RowBatch): Promise<void> {
    const c = this.counts
    c.batches++
    c.series += batch.seriesCount
    c.samples += batch.sampleCount
    c.histograms += batch.histogramCount
    c.exemplars += batch.exemplarCount
    c.metadata += batch.metadataCount
    c.newSeries += batch.newSeriesCount
  }

  ready (): boolean { return this.open }

  async close (): Promise<void> { this.open = false }
}

export function createDiscardSink (): DiscardSink {
  return new DiscardSink()
}
