/**
 * What a decode may accept: protocol version and limits. The body limit follows Prometheus, the label
 * limits Mimir (2,048-byte values, 1,024-byte names, 30 labels per series).
 */

export type ProtocolVersion = '1.0' | '2.0'

export interface DecodeLimits {
  /** Largest decompressed protobuf body, bytes (Prometheus: 32 MiB). */
  maxDecompressedBytes: number
  /** Most labels in one series. */
  maxLabelsPerSeries: number
  /** Longest label name, bytes. */
  maxLabelNameBytes: number
  /** Longest label value, bytes. */
  maxLabelValueBytes: number
  /** Longest series key (canonical label bytes and tenant), bytes: bounds what one series takes in the series index. */
  maxSeriesKeyBytes: number
}

export interface DecodeOptions extends Partial<DecodeLimits> {
  /** The body is snappy block-compressed, as it comes over HTTP (default true). */
  compressed?: boolean
  /** Remote Write protocol version of the body (default '1.0'). */
  version?: ProtocolVersion
  /** Enforce the legacy label name charset [a-zA-Z_][a-zA-Z0-9_]* (default false: any non-empty UTF-8). */
  legacyNames?: boolean
  /** Check that label values are valid UTF-8 (default true). Off is faster and lets invalid bytes through. */
  strictUtf8?: boolean
  /** Reject series whose labels are out of name order (default false: sort them, as Prometheus does). */
  rejectUnsortedLabels?: boolean
  /**
   * Keep going past invalid series (default false). With true, the batch holds the valid series and
   * `firstError`/`invalidSeriesCount` tell about the rest; with false the first invalid series throws.
   */
  partial?: boolean
  /** Tenant the series belong to ('' = none); part of series identity. */
  tenant?: string
  /** HA deduplication: the replica label, left out of every series ('' = off, the default). */
  haReplicaLabel?: string
  /** HA deduplication: the cluster label, read from the first series. */
  haClusterLabel?: string
  /** Per-tenant max-series (src/limits/tenant-series.ts): most series of the tenant; 0 = no limit (the default). */
  tenantMaxSeries?: number
  /** The tenant's counter slot in the walker's tenant series counts; -1 = none. */
  tenantSlot?: number
  /**
   * Gateway decode (default false; docs/forwarding.md "Gateway decode"): the same walk, checks and
   * errors, and the same counts, without the series index; the batch carries the counts only
   * (`RowBatch.rowsOmitted`). A body with an invalid series (partial) is decoded again in full, and so
   * is every body when HA deduplication, a per-tenant max-series or relabeling rules need series ids.
   */
  validateOnly?: boolean
}

export const DEFAULT_LIMITS: Readonly<DecodeLimits> = {
  maxDecompressedBytes: 32 * 1024 * 1024,
  // Label limits as Mimir's defaults: real senders stay far below them.
  maxLabelsPerSeries: 30,
  maxLabelNameBytes: 1024,
  maxLabelValueBytes: 2048,
  maxSeriesKeyBytes: 8192
}

export type ResolvedDecodeOptions = Required<DecodeOptions>

export function resolveDecodeOptions (o: DecodeOptions = {}): ResolvedDecodeOptions {
  return {
    compressed: o.compressed ?? true,
    version: o.version ?? '1.0',
    legacyNames: o.legacyNames ?? false,
    strictUtf8: o.strictUtf8 ?? true,
    rejectUnsortedLabels: o.rejectUnsortedLabels ?? false,
    partial: o.partial ?? false,
    tenant: o.tenant ?? '',
    haReplicaLabel: o.haReplicaLabel ?? '',
    haClusterLabel: o.haClusterLabel ?? '',
    tenantMaxSeries: o.tenantMaxSeries ?? 0,
    tenantSlot: o.tenantSlot ?? -1,
    validateOnly: o.validateOnly ?? false,
    maxDecompressedBytes: o.maxDecompressedBytes ?? DEFAULT_LIMITS.maxDecompressedBytes,
    maxLabelsPerSeries: o.maxLabelsPerSeries ?? DEFAULT_LIMITS.maxLabelsPerSeries,
    maxLabelNameBytes: o.maxLabelNameBytes ?? DEFAULT_LIMITS.maxLabelNameBytes,
    maxLabelValueBytes: o.maxLabelValueBytes ?? DEFAULT_LIMITS.maxLabelValueBytes,
    maxSeriesKeyBytes: o.maxSeriesKeyBytes ?? DEFAULT_LIMITS.maxSeriesKeyBytes
  }
}
