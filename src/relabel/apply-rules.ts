/**
 * The global relabeling rules in the write path: a decode worker runs every series of a request
 * through them right after the series is identified (src/decode/rw1.ts, rw2.ts call `apply` once per
 * TimeSeries), before any of its rows is written into the batch. So every sink sees ordinary series:
 *
 *   - a series the rules leave unchanged keeps its id;
 *   - a series the rules drop writes no rows (its samples, histograms and exemplars are counted);
 *   - a series the rules change is written under the id of its NEW label set, found in or added to
 *     the series index like any series (a new one goes into the batch's new series), so that two
 *     received series that relabel to one label set are one series.
 *
 * Steady state: the outcome of each received series is kept in this worker's RelabelCache under the
 * received series' id, and, once its rows' id is known, in `rowIds`: one u32 per received series id
 * (the id itself, its relabeled series' id, or a drop code). A known series costs one typed-array
 * read, never a look at its labels or a map lookup.
 *
 * The received series stays in the series index (its id is the cache key), but not in the batch: when
 * this batch was the one to create it, its new-series entry is taken back, so no sink stores a series
 * that has no rows. Known limit: dropped series still take room in the series index (max-series) and
 * count against a tenant's max-series (docs/relabeling.md).
 *
 * A request that the rules changed in any way is marked (`changed`): its received body no longer
 * matches the batch, and the forward sink encodes the batch instead of forwarding the body.
 */
import type { ErrorCode } from '../errors.js'
import { labelLimitHint } from '../limits/limit-messages.js'
import { hashLabels } from '../series/label-hash.js'
import type { Labels } from '../series/labels.js'
import { LabelScratch, type LabelRules } from '../decode/label-scratch.js'
import type { Walker } from '../decode/series-walker.js'
import type { RelabelCache } from './relabel-cache.js'
import { DROP_REASONS } from './relabeler.js'
import type { RelabelCounters } from './relabel-metrics.js'

const utf8 = new TextEncoder()
/** rowIds codes above every series id (ids are below 2^28): dropped, by reason index. */
const DROPPED_CODE = 0xfffffff0
const REASONS = DROP_REASONS

export class SeriesRules {
  /** The rules changed (dropped or relabeled) some series of the current request. */
  changed = false
  private readonly scratch = new LabelScratch()
  private readonly labelsOf = (id: number): Labels => this.index.labelsOf(id) ?? []
  /** By received series id: 0 unknown, else the id its rows go under, or DROPPED_CODE + reason. */
  private rowIds = new Uint32Array(1024)

  constructor (readonly cache: RelabelCache, private readonly index: Walker['index'], private readonly counters?: RelabelCounters) {}

  /** Called once per request, before its walk. */
  begin (): void {
    this.changed = false
  }

  /**
   * The id the rows of series `id` go under: `id` itself, the id of its relabeled label set, or 0
   * when the rules drop it (or its relabeled label set is invalid: recorded as an invalid series).
   * `rows` is the series' rows (samples, histograms and exemplars), counted when it is dropped.
   */
  apply (w: Walker, id: number, rows: number): number {
    // Hot path: the series was seen by this worker; one read.
    const known = id < this.rowIds.length ? this.rowIds[id]! : 0
    if (known !== 0) {
      if (known === id) return id
      this.changed = true
      if (known < DROPPED_CODE) return known
      this.counters?.droppedRows(REASONS[known - DROPPED_CODE]!, rows)
      return 0
    }
    return this.first(w, id, rows)
  }

  /** A series this worker has not mapped yet: through the cache (relabeled unless it knows it), then remembered. */
  private first (w: Walker, id: number, rows: number): number {
    const cache = this.cache
    let outcome = cache.peek(id)
    if (outcome === undefined) {
      outcome = cache.outcome(id, this.labelsOf)
      this.counters?.sync(cache, this.rowIds.byteLength)
      if (outcome.kind !== 'unchanged') this.takeBackNew(w, id)
    }
    if (outcome.kind === 'unchanged') { this.remember(id, id); return id }
    this.changed = true
    if (outcome.kind === 'dropped') {
      this.remember(id, DROPPED_CODE + REASONS.indexOf(outcome.reason))
      this.counters?.droppedRows(outcome.reason, rows)
      return 0
    }
    if (outcome.ref === 0) outcome.ref = this.resolve(w, outcome.labels)
    // An invalid relabeled series (ref 0) is not remembered: it is refused again, with its reason, each time.
    if (outcome.ref !== 0) this.remember(id, outcome.ref)
    return outcome.ref
  }

  private remember (id: number, rowId: number): void {
    if (id >= this.rowIds.length) {
      let size = this.rowIds.length
      while (size <= id) size *= 2
      const grown = new Uint32Array(size)
      grown.set(this.rowIds)
      this.rowIds = grown
    }
    this.rowIds[id] = rowId
  }

  /** The received series was created by this batch: it has no rows here, so it leaves the batch's new series. */
  private takeBackNew (w: Walker, id: number): void {
    const b = w.builder
    const n = b.newSeriesIds.n
    if (n > 0 && b.newSeriesIds.a[n - 1] === id) {
      b.newSeriesIds.n = n - 1
      b.newSeriesOffsets.n = n
      b.newSeriesBytes.n = b.newSeriesOffsets.a[n - 1]!
    }
  }

  /** The id of a relabeled label set: found in the index, or checked and added (into the batch's new series). */
  private resolve (w: Walker, labels: Labels): number {
    const s = this.scratch
    s.reset()
    for (const [name, value] of labels) {
      const n = utf8.encode(name)
      const v = utf8.encode(value)
      const both = new Uint8Array(n.length + v.length + 8) // room for the scratch's four-byte copies
      both.set(n, 0)
      both.set(v, n.length)
      s.add(both, new DataView(both.buffer), 0, n.length, n.length, v.length)
    }
    const rules: LabelRules = { ...w.opts, rejectUnsortedLabels: false }
    const problem = s.validate(rules)
    if (problem !== undefined) return this.refuse(w, problem.code, `${s.describe()} (after relabeling): ${problem.reason}${labelLimitHint(problem.code)}`)
    const keyBytes = w.tk.prefix.length + s.length
    if (keyBytes > w.opts.maxSeriesKeyBytes) return this.refuse(w, 'series_key_too_large', `${s.describe()} (after relabeling): the series key is ${keyBytes} bytes, more than the limit of ${w.opts.maxSeriesKeyBytes} (max-series-key-bytes)`)
    hashLabels(s.view, 0, s.length, w.tk.seed)
    const id = this.index.findOrInsert(s.view, 0, s.length, w.tk)
    if (id === 0) {
      w.builder.limitedSeriesCount++
      return this.refuse(w, 'series_limit', `${s.describe()} (after relabeling): new series refused: ${this.index.refusal}`)
    }
    if (this.index.created) w.builder.addNewSeries(id, s.view, 0, s.length)
    return id
  }

  private refuse (w: Walker, code: ErrorCode, message: string): number {
    w.invalid(code, message)
    return 0
  }
}
