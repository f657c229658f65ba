/**
 * What crosses between the main thread and a decode worker.
 */
import type { WireError } from '../errors.js'
import type { HaLabels } from '../decode/decoder.js'
import type { DecodeLimits, ProtocolVersion } from '../decode/options.js'
import type { SeriesIndexShared } from '../series/series-index.js'

/** Given to every worker once, at start-up. */
export interface DecodeWorkerData {
  readonly index: SeriesIndexShared
  /** The slot pool's buffers, by class. */
  readonly slotBuffers: readonly SharedArrayBuffer[]
  /** Slot capacity of each class, bytes. */
  readonly slotBytes: readonly number[]
  readonly limits: DecodeLimits
  readonly legacyNames: boolean
  readonly strictUtf8: boolean
  readonly rejectUnsortedLabels: boolean
  /** HA deduplication's replica label ('' or absent: off) and cluster label. */
  readonly haReplicaLabel?: string
  readonly haClusterLabel?: string
  /** Series per tenant (src/limits/tenant-series.ts), when a per-tenant max-series is set. */
  readonly tenantSeries?: SharedArrayBuffer | undefined
  /** The global relabeling rules, as validated at start-up (each worker builds its own cache), and the shared figures. */
  readonly relabel?: GlobalRelabelRules | undefined
  /** Gateway decode for every task (decoder.ts `validateOnly`): decided at start-up from the sinks and settings. */
  readonly validateOnly?: boolean
}

/** Global relabeling rules in their config form (structured-cloneable), for the workers. */
export interface GlobalRelabelRules {
  readonly rules: unknown
  readonly compat: 2 | 3
  readonly nameValidation: 'legacy' | 'utf8'
  /** Bound on the relabeled label sets each worker's cache keeps, bytes. */
  readonly cacheBytes: number
  /** Most series ids (the index's max-series). */
  readonly maxSeries: number
  /** The figures shared with the main thread (src/relabel/relabel-metrics.ts). */
  readonly figures: SharedArrayBuffer
}

/** One body to decode: where it lies, and how to read it. */
export interface DecodeTask {
  readonly classIndex: number
  readonly slotIndex: number
  readonly length: number
  readonly version: ProtocolVersion
  readonly tenant: string
  readonly compressed: boolean
  readonly partial: boolean
  /** Per-tenant max-series (absent or 0: none) and the tenant's counter slot. */
  readonly tenantMaxSeries?: number
  readonly tenantSlot?: number
  /** Per-tenant label limits (absent: the worker's). */
  readonly maxLabelsPerSeries?: number | undefined
  readonly maxLabelNameBytes?: number | undefined
  readonly maxLabelValueBytes?: number | undefined
  /** The tenant's HA labels (absent: the worker's; '' replica: HA off for this request). */
  readonly haReplicaLabel?: string | undefined
  readonly haClusterLabel?: string | undefined
}

/** The answer: a batch buffer (moved, not copied) or the decode error as data. */
export type DecodeResult =
  | { readonly ok: true, readonly buffer: ArrayBuffer, readonly firstError: WireError | undefined, readonly decodeMs: number, readonly ha?: HaLabels | undefined, readonly tenantLimitedSeries?: number | undefined, readonly rulesChanged?: boolean | undefined }
  | { readonly ok: false, readonly error: WireError }
