/**
 * Relabeling figures. The global rules run in the decode workers, each with its own cache, so the
 * figures live in one SharedArrayBuffer: a row of numbers per worker, written only by that worker
 * (cumulative totals, plain stores: one writer per row), summed by the main thread when scraped. The
 * forward sink's per-destination caches live on the main thread and write a row of their own.
 *
 * Layout: an Int32 next-row counter (8 bytes), then ROWS rows of FIELDS float64 each.
 */
import { Counter, Gauge, type Registry } from 'prom-client'
import { DROP_REASONS, type DropReason } from './relabeler.js'
import type { RelabelCache } from './relabel-cache.js'

const ROWS = 256
const F = {
  seriesDropped: 0, // + reason index (4)
  rowsDropped: 4, //   + reason index (4)
  relabeled: 8,
  unchanged: 9,
  misses: 10,
  evictions: 11,
  cacheBytes: 12,
  cacheEntries: 13
} as const
const FIELDS = 14

export const RELABEL_METRICS = {
  seriesDropped: 'prom_ingest_relabel_series_dropped_total',
  samplesDropped: 'prom_ingest_relabel_samples_dropped_total',
  relabeled: 'prom_ingest_relabel_series_relabeled_total',
  misses: 'prom_ingest_relabel_cache_misses_total',
  evictions: 'prom_ingest_relabel_cache_evictions_total',
  cacheBytes: 'prom_ingest_relabel_cache_bytes',
  cacheEntries: 'prom_ingest_relabel_cache_relabeled_entries'
} as const

/** The shared figures buffer, made once by the main thread and given to every worker. */
export function relabelFiguresBuffer (): SharedArrayBuffer {
  return new SharedArrayBuffer(8 + ROWS * FIELDS * 8)
}

/** One cache's row of figures (a worker's, or a forward destination's). */
export class RelabelCounters {
  private readonly row: Float64Array

  constructor (shared: SharedArrayBuffer) {
    // Rows are taken in turn; past the last (workers replaced hundreds of times) they are shared, and figures approximate.
    const slot = Atomics.add(new Int32Array(shared, 0, 2), 0, 1) % ROWS
    this.row = new Float64Array(shared, 8 + slot * FIELDS * 8, FIELDS)
    this.row.fill(0)
  }

  /** Copies the cache's own counts (after it relabeled a series); `extraBytes` is memory held beside it. */
  sync (cache: RelabelCache, extraBytes = 0): void {
    const s = cache.stats()
    const r = this.row
    for (let i = 0; i < DROP_REASONS.length; i++) r[F.seriesDropped + i] = s.dropped[DROP_REASONS[i]!]
    r[F.relabeled] = s.relabeled
    r[F.unchanged] = s.unchanged
    r[F.misses] = s.misses
    r[F.evictions] = s.evictions
    r[F.cacheBytes] = cache.memoryBytes() + extraBytes
    r[F.cacheEntries] = s.relabeledEntries
  }

  /** Rows (samples, histograms, exemplars) of a dropped series. */
  droppedRows (reason: DropReason, n: number): void {
    this.row[F.rowsDropped + DROP_REASONS.indexOf(reason)]! += n
  }
}

/** The main thread's metrics over the shared figures. */
export class RelabelMetrics {
  private readonly rows: Float64Array

  constructor (shared: SharedArrayBuffer, private readonly registry: Registry) {
    this.rows = new Float64Array(shared, 8, ROWS * FIELDS)
    const sum = (field: number): number => {
      let n = 0
      for (let r = 0; r < ROWS; r++) n += this.rows[r * FIELDS + field]!
      return n
    }
    new Counter({
      name: RELABEL_METRICS.seriesDropped,
      help: 'Series dropped by relabeling, by reason: rule (a drop, keep, dropequal or keepequal rule), no_name (no __name__ left), no_labels (no label left), empty_label_name (labelmap made an empty name). Counted when a cache first relabels the series (each decode worker and each forward destination has its own cache, so a series can count once per cache).',
      labelNames: ['reason'] as const,
      registers: [registry],
      collect () { this.reset(); for (let i = 0; i < DROP_REASONS.length; i++) this.inc({ reason: DROP_REASONS[i]! }, sum(F.seriesDropped + i)) }
    })
    new Counter({
      name: RELABEL_METRICS.samplesDropped,
      help: 'Samples, histograms and exemplars of series dropped by relabeling, by reason (counted per request; a per-destination drop counts once per destination)',
      labelNames: ['reason'] as const,
      registers: [registry],
      collect () { this.reset(); for (let i = 0; i < DROP_REASONS.length; i++) this.inc({ reason: DROP_REASONS[i]! }, sum(F.rowsDropped + i)) }
    })
    new Counter({
      name: RELABEL_METRICS.relabeled,
      help: 'Series whose labels relabeling changed (counted when a cache first relabels the series).',
      registers: [registry],
      collect () { this.reset(); this.inc(sum(F.relabeled)) }
    })
    new Counter({
      name: RELABEL_METRICS.misses,
      help: 'Series run through the relabeling rules (not found in a cache: first seen by it, or evicted).',
      registers: [registry],
      collect () { this.reset(); this.inc(sum(F.misses)) }
    })
    new Counter({
      name: RELABEL_METRICS.evictions,
      help: 'Relabeled label sets evicted from the relabeling caches (their series are relabeled again when they come back).',
      registers: [registry],
      collect () { this.reset(); this.inc(sum(F.evictions)) }
    })
    new Gauge({
      name: RELABEL_METRICS.cacheBytes,
      help: 'Bytes held by the relabeling caches (outcome bytes by series id, and relabeled label sets, estimated).',
      registers: [registry],
      collect () { this.set(sum(F.cacheBytes)) }
    })
    new Gauge({
      name: RELABEL_METRICS.cacheEntries,
      help: 'Relabeled label sets held by the relabeling caches.',
      registers: [registry],
      collect () { this.set(sum(F.cacheEntries)) }
    })
  }

  unregister (): void {
    for (const name of Object.values(RELABEL_METRICS)) this.registry.removeSingleMetric(name)
  }
}
