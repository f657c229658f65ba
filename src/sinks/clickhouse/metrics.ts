/**
 * The ClickHouse sink's own metrics, beside the code they count. One set per registry (the process
 * registry, or a test's own), shared by the sinks registered on it.
 */
import { Counter, Histogram, type Registry } from 'prom-client'
import { registry as processRegistry } from '../../metrics/registry.js'

export const METRIC = {
  flushes: 'prom_ingest_clickhouse_flushes_total',
  flushDuration: 'prom_ingest_clickhouse_flush_duration_seconds',
  insertFailures: 'prom_ingest_clickhouse_insert_failures_total',
  rowsInserted: 'prom_ingest_clickhouse_rows_inserted_total',
  flushesMerged: 'prom_ingest_clickhouse_flushes_merged_total',
  flushesWaited: 'prom_ingest_clickhouse_flushes_waited_total'
} as const

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

export class ClickHouseMetrics {
  readonly flushes: Counter<'result'>
  readonly flushDuration: Histogram
  readonly insertFailures: Counter
  readonly rowsInserted: Counter<'table'>
  readonly flushesMerged: Counter
  readonly flushesWaited: Counter

  constructor (registry: Registry) {
    const registers = [registry]
    this.flushes = new Counter({ name: METRIC.flushes, help: 'Flushes of the ClickHouse sink (one INSERT per table), by result: confirmed, or failed after every retry (its requests got 503).', labelNames: ['result'] as const, registers })
    this.flushDuration = new Histogram({ name: METRIC.flushDuration, help: 'Time a flush took, from its start to ClickHouse\'s confirmation of its last INSERT (retries included).', buckets: BUCKETS, registers })
    this.insertFailures = new Counter({ name: METRIC.insertFailures, help: 'Attempts of a flush\'s INSERTs that failed (each is retried whole).', registers })
    this.rowsInserted = new Counter({ name: METRIC.rowsInserted, help: 'Rows ClickHouse confirmed, by table (series, samples, histograms, exemplars, metadata).', labelNames: ['table'] as const, registers })
    this.flushesWaited = new Counter({ name: METRIC.flushesWaited, help: 'Flushes that started while the flush before them had its series rows still to write, and waited for them (series rows go in before the rows that refer to them).', registers })
    this.flushesMerged = new Counter({ name: METRIC.flushesMerged, help: 'Times the rows waiting for the next flush joined a flush being retried (after a failed INSERT such as Too many parts): one part instead of two.', registers })
  }
}

const byRegistry = new WeakMap<Registry, ClickHouseMetrics>()

export function clickHouseMetrics (registry: Registry = processRegistry): ClickHouseMetrics {
  let m = byRegistry.get(registry)
  if (m === undefined) { m = new ClickHouseMetrics(registry); byRegistry.set(registry, m) }
  return m
}
