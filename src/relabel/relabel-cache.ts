/**
 * The steady state of relabeling: a series seen before is not relabeled again. Its outcome is kept
 * under its series id (the process-local u32 of src/series/series-index.ts), so that once a series is
 * known the rules cost one typed-array read per sample, and its labels are not even looked at.
 *
 * Memory is bounded:
 *   - one byte per series id up to the highest id seen (ids are dense from 1; at most
 *     `maxSeries` + 1 bytes): unknown, unchanged, or dropped and why;
 *   - series whose labels the rules changed also keep the new label set, in a map bounded by
 *     `maxBytes` (an estimate of the strings and arrays held). Past it, the oldest entries go first,
 *     except those read since the last pass (second chance); an evicted series is simply relabeled
 *     again the next time it comes.
 *
 * Rules are fixed for the life of a cache: make a new cache with new rules.
 */
import type { Labels } from '../series/labels.js'
import { DROPPED, UNCHANGED, type DropReason, type Relabeler, type RelabelOutcome } from './relabeler.js'

const UNKNOWN = 0
const KEPT = 1
const RELABELED = 2
const DROP_CODE: Readonly<Record<DropReason, number>> = { rule: 3, no_labels: 4, no_name: 5, empty_label_name: 6 }
const CODE_DROP: readonly DropReason[] = ['rule', 'rule', 'rule', 'rule', 'no_labels', 'no_name', 'empty_label_name']

/** A relabeled series as the cache keeps it. `ref` is the caller's (e.g. the new series' id), 0 until set. */
export interface RelabeledSeries {
  readonly kind: 'relabeled'
  readonly labels: Labels
  ref: number
}

export type CachedOutcome = Exclude<RelabelOutcome, { kind: 'relabeled' }> | RelabeledSeries

export interface RelabelCacheOptions {
  /** The highest series id that can come (the series index's max-series). Default 2^28. */
  maxSeries?: number
  /** Bound on the label sets kept for relabeled series, estimated bytes. Default 64 MiB. */
  maxBytes?: number
}

export interface RelabelCacheStats {
  hits: number
  misses: number
  evictions: number
  relabeledEntries: number
  relabeledBytes: number
  /** Series first seen, by outcome. */
  unchanged: number
  relabeled: number
  dropped: Record<DropReason, number>
}

/** Estimated bytes held for one relabeled label set: two UTF-16 strings a label, plus object overheads. */
function estimateBytes (labels: Labels): number {
  let n = 96
  for (const [name, value] of labels) n += 48 + 2 * (name.length + value.length)
  return n
}

export class RelabelCache {
  readonly relabeler: Relabeler
  private readonly maxSeries: number
  private readonly maxBytes: number
  private codes: Uint8Array
  /** Relabeled series, oldest first; the second-chance bit lives in `touched`. */
  private readonly entries = new Map<number, { outcome: RelabeledSeries, bytes: number }>()
  private readonly touched = new Set<number>()
  private bytes = 0
  private readonly counts: RelabelCacheStats

  constructor (relabeler: Relabeler, options: RelabelCacheOptions = {}) {
    this.relabeler = relabeler
    this.maxSeries = options.maxSeries ?? 2 ** 28
    this.maxBytes = options.maxBytes ?? 64 * 1024 * 1024
    this.codes = new Uint8Array(Math.min(1024, this.maxSeries + 1))
    this.counts = { hits: 0, misses: 0, evictions: 0, relabeledEntries: 0, relabeledBytes: 0, unchanged: 0, relabeled: 0, dropped: { rule: 0, no_labels: 0, no_name: 0, empty_label_name: 0 } }
  }

  /**
   * The outcome for series `id`. `labelsOf(id)` is called only when the series is not known yet (or
   * its relabeled labels were evicted), so the caller resolves labels only for new series.
   */
  outcome (id: number, labelsOf: (id: number) => Labels): CachedOutcome {
    const cached = this.peek(id)
    if (cached !== undefined) { this.counts.hits++; return cached }
    this.counts.misses++
    return this.store(id, this.relabeler.relabel(labelsOf(id)))
  }

  /** The cached outcome, or undefined when the series must be relabeled (hot path: one byte read). */
  peek (id: number): CachedOutcome | undefined {
    const code = id < this.codes.length ? this.codes[id]! : UNKNOWN
    if (code === KEPT) return UNCHANGED as CachedOutcome
    if (code >= 3) return DROPPED[CODE_DROP[code]!] as CachedOutcome
    if (code === RELABELED) {
      const e = this.entries.get(id)
      if (e !== undefined) { this.touched.add(id); return e.outcome }
    }
    return undefined
  }

  /** Records the outcome of relabeling series `id` (what `outcome()` does on a miss). */
  store (id: number, outcome: RelabelOutcome): CachedOutcome {
    if (!Number.isInteger(id) || id < 1 || id > this.maxSeries) throw new RangeError(`series id ${id} is outside 1..${this.maxSeries}`)
    this.ensure(id)
    if (outcome.kind === 'unchanged') {
      this.codes[id] = KEPT
      this.counts.unchanged++
      return outcome
    }
    if (outcome.kind === 'dropped') {
      this.codes[id] = DROP_CODE[outcome.reason]
      this.counts.dropped[outcome.reason]++
      return outcome
    }
    this.counts.relabeled++
    const entry: RelabeledSeries = { kind: 'relabeled', labels: outcome.labels, ref: 0 }
    const bytes = estimateBytes(outcome.labels)
    const old = this.entries.get(id)
    if (old !== undefined) { this.bytes -= old.bytes; this.entries.delete(id) }
    this.entries.set(id, { outcome: entry, bytes })
    this.codes[id] = RELABELED
    this.bytes += bytes
    this.evict(id)
    return entry
  }

  stats (): RelabelCacheStats {
    return { ...this.counts, dropped: { ...this.counts.dropped }, relabeledEntries: this.entries.size, relabeledBytes: this.bytes }
  }

  /** Bytes held: the id codes and the relabeled label sets (estimated). */
  memoryBytes (): number {
    return this.codes.byteLength + this.bytes
  }

  private ensure (id: number): void {
    if (id < this.codes.length) return
    let size = Math.max(this.codes.length, 1)
    while (size <= id) size *= 2
    const grown = new Uint8Array(Math.min(size, this.maxSeries + 1))
    grown.set(this.codes)
    this.codes = grown
  }

  /** Drops the oldest relabeled entries (giving read ones a second chance) until under maxBytes. */
  private evict (keep: number): void {
    // Bounded: each entry is passed over at most twice (once to clear its bit, once to evict it).
    let budget = 2 * this.entries.size + 2
    while (this.bytes > this.maxBytes && this.entries.size > 1 && budget-- > 0) {
      const first = this.entries.entries().next()
      if (first.done === true) break
      const [id, e] = first.value
      this.entries.delete(id)
      if (id === keep || this.touched.delete(id)) {
        this.entries.set(id, e) // second chance: to the back
        continue
      }
      this.bytes -= e.bytes
      this.codes[id] = UNKNOWN
      this.counts.evictions++
    }
  }
}
