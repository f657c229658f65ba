/**
 * The queue-wide forward metrics read the log's figures at scrape time (src/forward/metrics.ts).
 */
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { ForwardMetrics } from '../../src/forward/metrics.js'

describe('forward metrics', () => {
  it('exposes the queue\'s fsyncs, damaged records and recycled segments as counters, read from the log when scraped', async () => {
    const registry = new Registry()
    const figures = { fsyncs: 3, damagedRecords: 1, recycledSegments: 2 }
    const metrics = new ForwardMetrics(registry, () => [], () => figures)
    const lines = (await registry.metrics()).split('\n')
    expect(lines).toContain('prom_ingest_forward_queue_fsyncs_total 3')
    expect(lines).toContain('prom_ingest_forward_queue_damaged_records_total 1')
    expect(lines).toContain('prom_ingest_forward_queue_segments_recycled_total 2')
    figures.recycledSegments = 5
    expect((await registry.metrics()).split('\n')).toContain('prom_ingest_forward_queue_segments_recycled_total 5')
    metrics.unregister()
    expect(await registry.metrics()).not.toContain('prom_ingest_forward_queue_segments_recycled_total')
  })
})
