/**
 * The series walk shared by both protocol versions: on top of the wire reader, the series resolution
 * (labels -> series id through the shared index, a new series validated once), the rows of a series
 * (Sample, exemplar, native Histogram through histogram-reader.ts) written into the batch, and the
 * record of invalid series. rw1.ts and rw2.ts walk the request-level messages with it.
 *
 * Gateway mode (`validateOnly`, docs/forwarding.md "Gateway decode"): the same walk and the same checks
 * with no series index. A series whose labels stand canonical in the body is checked in place
 * (label-check.ts); any other goes through the scratch and `LabelScratch.validate`, as a new series
 * does, so every error is the full decode's. Its rows go into the builder as usual (the counts are the
 * builder's), but the decoder packs only the counts (no columns are moved).
 *
 * Nothing here makes a JavaScript object or string per label or per sample: the body is read as
 * bytes, rows are written into the builder's typed arrays. Strings are made only for error messages.
 * Borrowed data: `u8`/`d` view the body (a slot or the snappy buffer) for the length of one walk.
 */
import { IngestError, type ErrorCode, type WireError } from '../errors.js'
import { appendBytes, type BatchBuilder } from '../batch/batch-builder.js'
import { hashLabels } from '../series/label-hash.js'
import type { SeriesIndex, TenantKey } from '../series/series-index.js'
import type { SeriesRules } from '../relabel/apply-rules.js'
import { labelLimitHint } from '../limits/limit-messages.js'
import { SeriesOrder } from '../series/series-order.js'
import { HistogramReader } from './histogram-reader.js'
import { LabelScratch, type LabelRules } from './label-scratch.js'
import { SeriesSymbols } from './series-symbols.js'
import { SymbolDictionary } from './symbol-dictionary.js'
import { fields, WireReader } from './wire-reader.js'

const SAMPLE_FIELDS_V1 = fields(1, 2)
const SAMPLE_FIELDS_V2 = fields(1, 2, 3)

export interface WalkerOptions extends LabelRules {
  partial: boolean
  /** HA deduplication (docs/tenant-limits.md): the replica label, left out of every series; '' for off. */
  haReplicaLabel: string
  /** The cluster label, read from the first series only. */
  haClusterLabel: string
  /** Per-tenant max-series; 0 for none. Counted in `tenantSeries` at `tenantSlot`. */
  tenantMaxSeries: number
  tenantSlot: number
}

const utf8 = new TextEncoder()

/** The series id every series gets in gateway mode (no index: rows are counted, never read back by id). */
export const GATEWAY_SERIES = 1

export class Walker extends WireReader {
  /** Ordinal (1-based) of the TimeSeries being walked, for error messages. */
  seriesOrdinal = 0
  firstError: WireError | undefined = undefined
  tk!: TenantKey
  opts!: WalkerOptions
  readonly labels = new LabelScratch()
  readonly exemplarLabels = new LabelScratch()
  private readonly histograms = new HistogramReader()
  /** The first series' HA labels ('' when absent or HA is off), for the main thread's election. */
  haCluster = ''
  haReplica = ''
  /** Some series lost its replica label: the received body no longer matches the batch. */
  labelsChanged = false
  /** New series refused for the tenant's max-series in this walk. */
  tenantLimitedSeries = 0
  /** Series per tenant, shared by every worker (src/limits/tenant-series.ts); set when the limit is on. */
  tenantSeries: Int32Array | undefined = undefined
  /** The global relabeling rules (src/relabel/apply-rules.ts), applied to each series once identified; undefined: none. */
  rules: SeriesRules | undefined = undefined
  /** The senders' series order as this thread saw it: the guess tried before any hash. */
  readonly order = new SeriesOrder()
  /** Remote Write 2.0 (rw2.ts): this walker's symbol ids, and how each series was spelled in them. Per walker: series ids are its index's. */
  readonly symbolDictionary = new SymbolDictionary()
  readonly seriesSymbols = new SeriesSymbols()
  /** The id of the last series resolved in this walk (0 before the first). */
  prevId = 0
  /**
   * Gateway mode: check and count, never touch the index (set per body by the decoder). A series
   * checked in place has an empty scratch: `fillLabels` puts its labels there for a message.
   */
  validateOnly = false
  /** Set by the protocol walk (rw1.ts, rw2.ts): the current series' labels into the scratch, for messages in gateway mode. */
  fillLabels: (w: Walker) => void = noLabels
  private haNames = ''
  private replicaName: Uint8Array | undefined
  private clusterName = new Uint8Array(0)

  constructor (readonly builder: BatchBuilder, readonly index: SeriesIndex) { super() }

  /** Points the walker at a body; `u8` and `d` view the same bytes. */
  begin (u8: Uint8Array, d: DataView, tk: TenantKey, opts: WalkerOptions): void {
    this.point(u8, d)
    this.seriesOrdinal = 0
    this.firstError = undefined
    this.tk = tk
    this.opts = opts
    this.haCluster = ''
    this.haReplica = ''
    this.labelsChanged = false
    this.tenantLimitedSeries = 0
    this.prevId = 0
    if (opts.haReplicaLabel === '') {
      this.labels.dropName = undefined
    } else {
      const names = opts.haReplicaLabel + '\0' + opts.haClusterLabel
      if (names !== this.haNames) {
        this.haNames = names
        this.replicaName = utf8.encode(opts.haReplicaLabel)
        this.clusterName = utf8.encode(opts.haClusterLabel)
      }
      this.labels.dropName = this.replicaName
    }
  }

  // ---- series ----

  /** The series that followed the last one resolved, the last time (0: no guess); check it with `index.keyMatches`. */
  guess (): number { return this.order.guess(this.prevId) }

  /** Records `id` (non-zero) as the series just resolved, after `prevId`, for the next body's guesses. */
  resolved (id: number, guessed: number): void {
    if (id !== guessed) this.order.follow(this.prevId, id)
    this.prevId = id
  }

  /**
   * The id of the series whose canonical labels are in `labels` (the scratch): found in the index,
   * or validated and stored as a new series (its bytes go into the batch). Returns 0 when the label
   * set is invalid, its key too long, or the index full (the error is recorded, or thrown when not partial).
   */
  resolveScratch (): number {
    const s = this.labels
    if (this.validateOnly) return this.checkScratch() ? GATEWAY_SERIES : 0
    if (s.dropName !== undefined) {
      if (s.droppedStart >= 0) this.labelsChanged = true
      // Mimir's rule: the first series of a request decides for all of it.
      if (this.seriesOrdinal === 1) {
        this.haReplica = s.droppedValue() ?? ''
        this.haCluster = s.valueOf(this.clusterName) ?? ''
      }
    }
    hashLabels(s.view, 0, s.length, this.tk.seed)
    let id = this.index.find(s.view, 0, s.length, this.tk)
    if (id !== 0) return id
    if (!this.checkScratch()) return 0 // may sort the labels: hash again below
    hashLabels(s.view, 0, s.length, this.tk.seed)
    const limit = this.opts.tenantMaxSeries
    const counts = this.tenantSeries
    const slot = this.opts.tenantSlot
    if (limit > 0 && counts !== undefined) {
      // Counted before the insert, so that workers racing for the tenant's last series cannot both win.
      if (slot < 0 || Atomics.add(counts, slot, 1) >= limit) {
        if (slot >= 0) Atomics.sub(counts, slot, 1)
        this.tenantLimitedSeries++
        this.invalid('tenant_max_series', `${s.describe()}: new series refused: ${slot < 0 ? 'no tenant counter is free (more tenants than max-series)' : `the tenant has ${limit} series, its max-series`} (err-prom-ingest-tenant-max-series). To adjust, set max-series for the tenant in tenant-limits, or tenant-max-series for every tenant`)
        return 0
      }
    }
    id = this.index.findOrInsert(s.view, 0, s.length, this.tk)
    // Not a new series after all (another worker created it, or the index is full): give the count back.
    if (limit > 0 && counts !== undefined && (id === 0 || !this.index.created)) Atomics.sub(counts, slot, 1)
    if (id === 0) {
      this.builder.limitedSeriesCount++
      this.invalid('series_limit', `${s.describe()}: new series refused: ${this.index.refusal}`)
      return 0
    }
    if (this.index.created) this.builder.addNewSeries(id, s.view, 0, s.length)
    return id
  }

  /**
   * Checks the label set in the scratch as a new series is checked: the label rules (labels out of
   * order are sorted, unless refused) and the key's length. Records or throws the problem.
   */
  private checkScratch (): boolean {
    const s = this.labels
    const problem = s.validate(this.opts)
    if (problem !== undefined) {
      this.invalid(problem.code, `${s.describe()}: ${problem.reason}${labelLimitHint(problem.code)}`)
      return false
    }
    const keyBytes = this.tk.prefix.length + s.length
    if (keyBytes > this.opts.maxSeriesKeyBytes) {
      this.invalid('series_key_too_large', `${s.describe()}: the series key (labels${this.tk.prefix.length > 0 ? ' and tenant' : ''}) is ${keyBytes} bytes, more than the limit of ${this.opts.maxSeriesKeyBytes} (max-series-key-bytes)`)
      return false
    }
    return true
  }

  /**
   * The current series in Prometheus text form, for error messages only: always through the scratch,
   * so that it reads the same (long values cut, at most 32 labels) whether the series is new or known,
   * and in the gateway decode.
   */
  seriesText (id: number): string {
    const s = this.labels
    if (s.count === 0) {
      if (this.validateOnly) this.fillLabels(this)
      else {
        const bytes = this.index.labelBytes(id)
        if (bytes !== undefined) s.addCanonical(bytes)
      }
    }
    return s.count > 0 ? s.describe() : ''
  }

  /** Rejects the current series (or a metadata entry): throws, or records it when partial. */
  invalid (code: ErrorCode, what: string): void {
    const message = what.startsWith('metadata') ? what : `series ${this.seriesOrdinal} ${what}`
    if (!this.opts.partial) throw new IngestError(code, message, { series: this.seriesOrdinal })
    this.builder.invalidSeriesCount++
    if (this.firstError === undefined) this.firstError = { code, message, detail: { series: this.seriesOrdinal } }
  }

  // ---- rows ----

  /** Appends one Sample {1: double value, 2: int64 timestamp, 3: int64 start_timestamp (2.0 rc.4)}. Room was ensured. */
  sample (start: number, end: number, id: number, startTimestamp: number, v2: boolean): void {
    let valueAt = -1
    let ts = 0
    let st = startTimestamp
    const u8 = this.u8
    if (u8[start] === 0x09 && u8[start + 9] === 0x10 && start + 10 < end) {
      // The shape every encoder writes (value, then timestamp): no tag loop for those two.
      valueAt = start + 1
      this.pos = start + 10
      ts = this.int64(end)
    } else {
      this.pos = start
    }
    while (this.pos < end) {
      const tag = this.varint(end)
      if (tag === 0x09) { valueAt = this.pos; this.pos += 8 } else if (tag === 0x10) ts = this.int64(end)
      else if (tag === 0x18 && v2) { const v = this.int64(end); if (v !== 0) st = v } // 0 means unset (proto3): keep the rc.3 created_timestamp
      else this.unknown(tag, end, v2 ? SAMPLE_FIELDS_V2 : SAMPLE_FIELDS_V1)
    }
    if (this.pos > end) this.malformed('truncated sample', start)
    const b = this.builder
    const n = b.sampleCount
    b.seriesIds[n] = id
    b.timestamps[n] = ts
    b.startTimestamps[n] = st
    // The value's 8 bytes are copied as two integers: stale markers (signalling NaN) keep their exact bits.
    if (valueAt >= 0) {
      b.valueWords[2 * n] = this.d.getInt32(valueAt, true)
      b.valueWords[2 * n + 1] = this.d.getInt32(valueAt + 4, true)
    } else {
      b.valueWords[2 * n] = 0
      b.valueWords[2 * n + 1] = 0
    }
    b.sampleCount = n + 1
  }

  /** Appends the exemplar whose labels are in `exemplarLabels`; `valueAt` < 0 means value 0. */
  exemplar (id: number, valueAt: number, ts: number): boolean {
    const s = this.exemplarLabels
    const problem = s.validateExemplar(this.opts)
    if (problem !== undefined) {
      this.invalid('exemplar_invalid', `${this.seriesText(id)}: exemplar ${problem}`)
      return false
    }
    const b = this.builder
    b.exemplarSeriesIds.push(id)
    b.exemplarTimestamps.push(ts)
    if (valueAt >= 0) b.exemplarValues.pushBits(this.d, valueAt)
    else b.exemplarValues.push(0)
    appendBytes(b.exemplarLabelBytes, s.view, 0, s.length)
    b.exemplarLabelOffsets.push(b.exemplarLabelBytes.n)
    return true
  }

  /** Reads the native Histogram in [start, end), checks it and appends it. Returns false when it is invalid (error recorded). */
  histogram (start: number, end: number, id: number, startTimestamp: number, v2: boolean): boolean {
    const h = this.histograms
    const problem = h.read(this, start, end, startTimestamp, v2)
    if (problem !== undefined) {
      this.invalid(problem[0], `${this.seriesText(id)}: histogram at ${h.timestamp}: ${problem[1]}`)
      return false
    }
    h.append(this.builder, id, this.d)
    return true
  }
}

function noLabels (): void {}
