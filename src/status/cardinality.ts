/**
 * Cardinality figures of the series index, in the shape of Prometheus' /api/v1/status/tsdb, with
 * VictoriaMetrics' parameters (topN, focusLabel, match[], date) and prom-ingest's own (tenant).
 * Runs in the status worker (workers/status-worker.ts), never on the main thread.
 *
 * The catalog reads the index through its public API (lastId, labelBytes, tenantOf) and keeps each
 * series as a list of interned label-pair numbers, so that every label text is decoded once for the
 * life of the process; it is brought up to date (only the ids added since) before each computation.
 * A computation is then one walk over plain integer arrays:
 *
 *   pairs      interned (name, value): its name number, value, value bytes (UTF-8)
 *   series     per catalogued series: index id, tenant number, [start, end) of its pair numbers
 *
 * Figures, as Prometheus computes them from its head postings (tsdb/index/postings.go, Stats):
 *   seriesCountByMetricName       series per value of __name__
 *   labelValueCountByLabelName    distinct values per label name (__name__ included)
 *   memoryInBytesByLabelName      bytes of the distinct values per label name
 *   seriesCountByLabelValuePair   series per "name=value"
 *   headStats.numLabelPairs       distinct (name, value) pairs
 * Lists are sorted by value, largest first, then by name, and cut to topN.
 */
import { readVarint, skipVarint } from '../series/varint.js'
import { LabelMatcher } from '../read/label-matcher.js'
import type { Selector } from '../read/series-selector.js'

/** What the catalog reads from the series index (SeriesIndex's public API). */
export interface IndexReader {
  readonly lastId: number
  labelBytes(id: number): Uint8Array | undefined
  tenantOf(id: number): string | undefined
}

export interface TsdbQuery {
  /** Entries per list (VictoriaMetrics' topN; Prometheus' fixed 10). */
  readonly topN: number
  /** A label whose values get `seriesCountByFocusLabelValue` ('' for none). */
  readonly focusLabel: string
  /** Union of selectors; empty: every series. */
  readonly match: readonly Selector[]
  /** Only this tenant's series (undefined: every tenant; '' the series sent without a tenant). */
  readonly tenant?: string | undefined
  /** 'YYYY-MM-DD' (UTC): only series first seen on that day; '' for all. */
  readonly date: string
}

/**
 * When ids were handed out: at `times[k]` (ms) the index's last id was `lastIds[k]`, ascending.
 * Ids are handed out in ascending order, so the id of a series says when this process first saw it.
 */
export interface IdMarks {
  readonly times: readonly number[]
  readonly lastIds: readonly number[]
}

export interface NameValue { name: string, value: number }

export interface TsdbStatus {
  headStats: { numSeries: number, numLabelPairs: number, chunkCount: number, minTime: number, maxTime: number }
  seriesCountByMetricName: NameValue[]
  labelValueCountByLabelName: NameValue[]
  memoryInBytesByLabelName: NameValue[]
  seriesCountByLabelValuePair: NameValue[]
  /** VictoriaMetrics' names for the same totals, and its per-label-name series count. */
  totalSeries: number
  totalLabelValuePairs: number
  seriesCountByLabelName: NameValue[]
  /** Present when focusLabel is given: series per value of that label. */
  seriesCountByFocusLabelValue?: NameValue[]
  /** prom-ingest's own: series per tenant (the tenant filter left out), and new series per minute. */
  seriesCountByTenant: NameValue[]
  newSeriesPerMinute: Array<{ time: number, value: number }>
}

/** Minutes in `newSeriesPerMinute`. */
export const NEW_SERIES_MINUTES = 60

export class SeriesCatalog {
  private readonly nameIds = new Map<string, number>()
  readonly names: string[] = []
  private readonly pairIds: Array<Map<string, number>> = []
  readonly pairName: number[] = []
  readonly pairValue: string[] = []
  readonly pairValueBytes: number[] = []
  private readonly tenantIds = new Map<string, number>()
  readonly tenants: string[] = []
  // Per series, in id order.
  private ids = new Int32Array(1024)
  private tenantOfSeries = new Int32Array(1024)
  private starts = new Int32Array(1025)
  private pairs = new Int32Array(8192)
  private pairCount = 0
  /** Series catalogued. */
  count = 0
  /** Every id up to this one was read (or found empty twice). */
  private readThrough = 0
  /** Ids found without labels at the last update: read again once (see update). */
  private retry: number[] = []

  /**
   * Reads the ids added to the index since the last call. An id is taken before its labels are
   * published, so an id found without labels is tried once more on the next update; still empty then,
   * it is a gap for good (an id left over by the stored series loaded at start-up, or given back).
   */
  update (index: IndexReader): void {
    const retry = this.retry
    this.retry = []
    for (const id of retry) this.add(index, id, false)
    const last = index.lastId
    for (let id = this.readThrough + 1; id <= last; id++) this.add(index, id, true)
    if (last > this.readThrough) this.readThrough = last
  }

  private add (index: IndexReader, id: number, firstTry: boolean): void {
    const bytes = index.labelBytes(id)
    if (bytes === undefined) {
      if (firstTry) this.retry.push(id)
      return
    }
    const tenant = index.tenantOf(id) ?? ''
    const n = this.count
    if (n + 1 >= this.ids.length) {
      this.ids = grow(this.ids, this.ids.length * 2)
      this.tenantOfSeries = grow(this.tenantOfSeries, this.ids.length)
      this.starts = grow(this.starts, this.ids.length + 1)
    }
    this.ids[n] = id
    this.tenantOfSeries[n] = this.internTenant(tenant)
    this.starts[n] = this.pairCount
    // The canonical form (src/series/labels.ts), read in place: per label
    //   0x0a varint(len) 0x0a varint(nameLength) name [0x12 varint(valueLength) value]
    let pos = 0
    while (pos < bytes.length) {
      const end = skipVarint(bytes, pos + 1) + readVarint(bytes, pos + 1)
      pos = skipVarint(bytes, pos + 1)
      let nameStart = 0
      let nameEnd = 0
      let valueStart = 0
      let valueEnd = 0
      while (pos < end) {
        const tag = bytes[pos]!
        const length = readVarint(bytes, pos + 1)
        pos = skipVarint(bytes, pos + 1)
        if (tag === 0x0a) { nameStart = pos; nameEnd = pos + length } else { valueStart = pos; valueEnd = pos + length }
        pos += length
      }
      if (this.pairCount === this.pairs.length) this.pairs = grow(this.pairs, this.pairs.length * 2)
      this.pairs[this.pairCount++] = this.internPair(text(bytes, nameStart, nameEnd), text(bytes, valueStart, valueEnd), valueEnd - valueStart)
    }
    this.starts[n + 1] = this.pairCount
    this.count = n + 1
  }

  private internTenant (tenant: string): number {
    let t = this.tenantIds.get(tenant)
    if (t === undefined) { t = this.tenants.length; this.tenants.push(tenant); this.tenantIds.set(tenant, t) }
    return t
  }

  private internPair (name: string, value: string, valueBytes: number): number {
    let n = this.nameIds.get(name)
    if (n === undefined) { n = this.names.length; this.names.push(name); this.nameIds.set(name, n); this.pairIds.push(new Map()) }
    const byValue = this.pairIds[n]!
    let p = byValue.get(value)
    if (p === undefined) {
      p = this.pairName.length
      this.pairName.push(n)
      this.pairValue.push(value)
      this.pairValueBytes.push(valueBytes)
      byValue.set(value, p)
    }
    return p
  }

  /** The figures for `q`. `marks` say when ids were handed out; `headTimes` fill headStats' minTime and maxTime. */
  compute (q: TsdbQuery, marks: IdMarks, headTimes: { minTime: number, maxTime: number }, now = Date.now()): TsdbStatus {
    const pairTotal = this.pairName.length
    const seriesPerPair = new Int32Array(pairTotal)
    const tenantSeries = new Int32Array(this.tenants.length)
    const selectors = q.match.map(s => s.map(m => this.compileMatcher(m.name, LabelMatcher.of(m, 'status_parameter_invalid'))))
    const wantTenant = q.tenant === undefined ? -1 : (this.tenantIds.get(q.tenant) ?? -2)
    const [lo, hi] = q.date === '' ? [0, Infinity] : idRangeOfDay(q.date, marks)
    const minuteStart = Math.floor(now / 60_000) * 60_000 - (NEW_SERIES_MINUTES - 1) * 60_000
    const perMinute = new Int32Array(NEW_SERIES_MINUTES)
    let numSeries = 0
    const pairs = this.pairs
    for (let s = 0; s < this.count; s++) {
      const id = this.ids[s]!
      if (id <= lo || id > hi) continue
      const start = this.starts[s]!
      const end = this.starts[s + 1]!
      if (selectors.length > 0 && !selectors.some(sel => sel.every(m => m(pairs, start, end)))) continue
      const tenant = this.tenantOfSeries[s]!
      tenantSeries[tenant]!++
      if (wantTenant !== -1 && tenant !== wantTenant) continue
      numSeries++
      for (let i = start; i < end; i++) seriesPerPair[pairs[i]!]!++
      const seen = firstSeen(id, marks)
      if (seen >= minuteStart) {
        const m = Math.floor((seen - minuteStart) / 60_000)
        if (m >= 0 && m < NEW_SERIES_MINUTES) perMinute[m]!++
      }
    }

    const names = this.names
    const valuesPerName = new Int32Array(names.length)
    const bytesPerName = new Float64Array(names.length)
    const seriesPerName = new Float64Array(names.length)
    const metricTop = new TopN(q.topN)
    const pairTop = new TopN(q.topN)
    const focusTop = new TopN(q.topN)
    const metricName = this.nameIds.get('__name__') ?? -1
    const focusName = q.focusLabel === '' ? -2 : (this.nameIds.get(q.focusLabel) ?? -3)
    let numLabelPairs = 0
    for (let p = 0; p < pairTotal; p++) {
      const c = seriesPerPair[p]!
      if (c === 0) continue
      numLabelPairs++
      const n = this.pairName[p]!
      valuesPerName[n]!++
      bytesPerName[n]! += this.pairValueBytes[p]!
      seriesPerName[n]! += c
      if (n === metricName) metricTop.offer(c, () => this.pairValue[p]!)
      if (n === focusName) focusTop.offer(c, () => this.pairValue[p]!)
      pairTop.offer(c, () => names[n]! + '=' + this.pairValue[p]!)
    }
    const byName = (counts: ArrayLike<number>): NameValue[] => {
      const out: NameValue[] = []
      for (let n = 0; n < names.length; n++) if (valuesPerName[n]! > 0) out.push({ name: names[n]!, value: counts[n]! })
      return out
    }
    const tenants: NameValue[] = []
    for (let t = 0; t < this.tenants.length; t++) if (tenantSeries[t]! > 0) tenants.push({ name: this.tenants[t]!, value: tenantSeries[t]! })
    const top = q.topN
    const status: TsdbStatus = {
      headStats: { numSeries, numLabelPairs, chunkCount: 0, minTime: headTimes.minTime, maxTime: headTimes.maxTime },
      seriesCountByMetricName: metricTop.list(),
      labelValueCountByLabelName: topOf(byName(valuesPerName), top),
      memoryInBytesByLabelName: topOf(byName(bytesPerName), top),
      seriesCountByLabelValuePair: pairTop.list(),
      totalSeries: numSeries,
      totalLabelValuePairs: numLabelPairs,
      seriesCountByLabelName: topOf(byName(seriesPerName), top),
      seriesCountByTenant: topOf(tenants, top),
      newSeriesPerMinute: Array.from(perMinute, (value, m) => ({ time: minuteStart + m * 60_000, value }))
    }
    if (q.focusLabel !== '') status.seriesCountByFocusLabelValue = focusTop.list()
    return status
  }

  /**
   * A matcher over a series' pair numbers: the value of its label, '' when the series lacks it. The
   * answer for each interned value is worked out once per computation, not once per series.
   */
  private compileMatcher (name: string, m: LabelMatcher): (pairs: Int32Array, start: number, end: number) => boolean {
    const n = this.nameIds.get(name) ?? -1
    const absent = m.matches('')
    const memo = new Map<number, boolean>()
    return (pairs, start, end) => {
      for (let i = start; i < end; i++) {
        const p = pairs[i]!
        if (this.pairName[p] !== n) continue
        let ok = memo.get(p)
        if (ok === undefined) { ok = m.matches(this.pairValue[p]!); memo.set(p, ok) }
        return ok
      }
      return absent
    }
  }
}

const utf8 = new TextDecoder('utf-8', { ignoreBOM: true })

/**
 * Bytes [start, end) as a string. Label text is short and nearly always ASCII: char codes then,
 * because a TextDecoder call costs more than the whole of a short label.
 */
function text (b: Uint8Array, start: number, end: number): string {
  let s = ''
  for (let i = start; i < end; i++) {
    const c = b[i]!
    if (c >= 0x80) return utf8.decode(b.subarray(start, end))
    s += String.fromCharCode(c)
  }
  return s
}

function grow (a: Int32Array, length: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(length)
  b.set(a)
  return b
}

/** Largest first, then by name; the first `n`. */
export function topOf (list: NameValue[], n: number): NameValue[] {
  list.sort(before)
  return list.length > n ? list.slice(0, n) : list
}

function before (a: NameValue, b: NameValue): number {
  return b.value - a.value || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
}

/**
 * The first `n` of `count` entries in topOf's order, without sorting them all (label pairs can be
 * millions, n at most 1000): a sorted list of the best n so far, which most entries do not enter
 * (their value is below its last). `nameOf` is asked only for entries that may enter it.
 */
export class TopN {
  private readonly best: NameValue[] = []
  constructor (private readonly n: number) {}

  offer (value: number, nameOf: () => string): void {
    const best = this.best
    const last = best[best.length - 1]
    if (best.length >= this.n && last !== undefined && value < last.value) return
    const e = { name: nameOf(), value }
    if (best.length >= this.n && last !== undefined && before(e, last) >= 0) return
    let lo = 0
    let hi = best.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (before(best[mid]!, e) <= 0) lo = mid + 1
      else hi = mid
    }
    best.splice(lo, 0, e)
    if (best.length > this.n) best.pop()
  }

  list (): NameValue[] { return this.best }
}

/**
 * When the series of `id` was first seen (ms): ids above mark k-1's and up to mark k's were handed out
 * after mark k-1, so that is its time; ids up to the first mark (the series loaded at start-up) get
 * the first mark's time, ids past the last mark the last mark's.
 */
export function firstSeen (id: number, marks: IdMarks): number {
  const ids = marks.lastIds
  let lo = 0
  let hi = ids.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (ids[mid]! < id) lo = mid + 1
    else hi = mid
  }
  if (lo === 0) return marks.times[0] ?? 0
  return marks.times[lo - 1]!
}

/** The ids first seen on a UTC day: (last id at the day's start, last id at its end]. */
export function idRangeOfDay (date: string, marks: IdMarks): [number, number] {
  const start = Date.parse(date + 'T00:00:00Z')
  const end = start + 86_400_000
  return [lastIdAt(start, marks), lastIdAt(end, marks)]
}

/** The last id handed out by time `t`: that of the last mark at or before `t` (0 before the first mark; every id after the last). */
function lastIdAt (t: number, marks: IdMarks): number {
  const times = marks.times
  if (times.length === 0) return Infinity
  if (t > times[times.length - 1]!) return Infinity
  let found = 0
  for (let k = 0; k < times.length && times[k]! <= t; k++) found = marks.lastIds[k]!
  return found
}
