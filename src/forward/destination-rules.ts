/**
 * Per-destination relabeling rules (a forward-destinations entry's `relabel_configs`, like vmagent's
 * -remoteWrite.urlRelabelConfig): applied to a batch's series before the destination's queue, after
 * the global rules (which ran in the decode workers: the batch's series ids are already theirs).
 *
 * Each destination with rules has its own RelabelCache, keyed by the batch's series ids, on the main
 * thread: a known series costs one byte read. A batch whose series the destination's rules all leave
 * unchanged goes to it as the other destinations get it (the received body when that is usable);
 * otherwise its series are encoded again through the rules (encode/, requests of at most 10,000
 * samples or 8 MiB).
 */
import type { RowBatch } from '../batch/row-batch.js'
import { RelabelCache } from '../relabel/relabel-cache.js'
import { RelabelCounters } from '../relabel/relabel-metrics.js'
import type { Relabeler } from '../relabel/relabeler.js'
import type { Labels } from '../series/labels.js'

export interface DestinationRulesOptions {
  /** Rules by destination index (in the sink's destination order). */
  readonly rules: ReadonlyMap<number, Relabeler>
  readonly maxSeries?: number
  readonly cacheBytes?: number
  /** The relabeling figures (src/relabel/relabel-metrics.ts): each destination's cache writes a row. */
  readonly figures?: SharedArrayBuffer
}

export class DestinationRules {
  private readonly caches = new Map<number, RelabelCache>()
  private readonly counters = new Map<number, RelabelCounters>()

  constructor (o: DestinationRulesOptions) {
    for (const [i, relabeler] of o.rules) {
      this.caches.set(i, new RelabelCache(relabeler, { maxSeries: o.maxSeries, maxBytes: o.cacheBytes }))
      if (o.figures !== undefined) this.counters.set(i, new RelabelCounters(o.figures))
    }
  }

  get size (): number { return this.caches.size }

  has (destination: number): boolean { return this.caches.has(destination) }

  /**
   * The labels destination `destination` gets for each series of the batch (undefined: the series is
   * dropped for it), or undefined when its rules leave every series of the batch as it is.
   */
  labelsFor (destination: number, batch: RowBatch): ((seriesId: number) => Labels | undefined) | undefined {
    const cache = this.caches.get(destination)
    if (cache === undefined) return undefined
    const labelsOf = (id: number): Labels => batch.labelsOf(id) ?? []
    const counters = this.counters.get(destination)
    let changed = false
    const refs = batch.seriesRefs
    for (let k = 0; k < refs.length; k++) {
      const id = refs[k]!
      let outcome = cache.peek(id)
      if (outcome === undefined) {
        outcome = cache.outcome(id, labelsOf)
        counters?.sync(cache)
      }
      if (outcome.kind !== 'unchanged') changed = true
    }
    if (!changed) return undefined
    return id => {
      const outcome = cache.outcome(id, labelsOf)
      return outcome.kind === 'unchanged' ? batch.labelsOf(id) : outcome.kind === 'dropped' ? undefined : outcome.labels
    }
  }
}
