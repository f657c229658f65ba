/**
 * Per-tenant limits: the defaults from the settings, and the overrides of the config file's
 * `tenant-limits` object ({"<tenant>": {"ingestion-rate": 1000, "ingestion-burst": 5000}}; keys in
 * kebab-case or camelCase, like every setting). The tenant '' is a request without a tenant header.
 *
 * HA-pair deduplication is per tenant too, as in Mimir (accept_ha_samples, ha_cluster_label,
 * ha_replica_label): "ha-dedup", "ha-cluster-label" and "ha-replica-label" override ha-dedup,
 * ha-cluster-label and ha-replica-label for one tenant.
 */
import { IngestError } from '../errors.js'

export interface TenantLimits {
  /** Samples + exemplars + histograms per second; 0 for no limit. */
  readonly ingestionRate: number
  /** Bucket size: most of them at once; at least the rate. */
  readonly ingestionBurst: number
  /** Most series of the tenant; 0 for no limit. */
  readonly maxSeries: number
  /** Label limits of the tenant's series; absent: the global settings (max-labels-per-series, ...). */
  readonly maxLabelsPerSeries?: number
  readonly maxLabelNameBytes?: number
  readonly maxLabelValueBytes?: number
  /** HA-pair deduplication for the tenant, and its labels. */
  readonly haDedup: boolean
  readonly haClusterLabel: string
  readonly haReplicaLabel: string
}

/** The HA settings every tenant has unless tenant-limits says otherwise. */
export interface HaDefaults {
  readonly dedup: boolean
  readonly clusterLabel: string
  readonly replicaLabel: string
}

const HA_OFF: HaDefaults = { dedup: false, clusterLabel: 'cluster', replicaLabel: '__replica__' }

const FIELDS = { 'ingestion-rate': 'ingestionRate', ingestionRate: 'ingestionRate', 'ingestion-burst': 'ingestionBurst', ingestionBurst: 'ingestionBurst', 'max-series': 'maxSeries', maxSeries: 'maxSeries', 'max-labels-per-series': 'maxLabelsPerSeries', maxLabelsPerSeries: 'maxLabelsPerSeries', 'max-label-name-bytes': 'maxLabelNameBytes', maxLabelNameBytes: 'maxLabelNameBytes', 'max-label-value-bytes': 'maxLabelValueBytes', maxLabelValueBytes: 'maxLabelValueBytes', 'ha-dedup': 'haDedup', haDedup: 'haDedup', 'ha-cluster-label': 'haClusterLabel', haClusterLabel: 'haClusterLabel', 'ha-replica-label': 'haReplicaLabel', haReplicaLabel: 'haReplicaLabel' } as const
const LABEL_FIELDS = ['maxLabelsPerSeries', 'maxLabelNameBytes', 'maxLabelValueBytes'] as const

export class TenantLimitTable {
  readonly anyRate: boolean
  readonly anyMaxSeries: boolean
  readonly anyLabelLimits: boolean
  /** Some tenant has HA deduplication on. */
  readonly anyHa: boolean
  /** Some tenant's HA settings differ from the defaults (the decode of each request must be told its tenant's). */
  readonly haPerTenant: boolean

  constructor (readonly defaults: TenantLimits, private readonly overrides: ReadonlyMap<string, TenantLimits> = new Map()) {
    const all = [...overrides.values()]
    this.anyRate = defaults.ingestionRate > 0 || all.some(l => l.ingestionRate > 0)
    this.anyMaxSeries = defaults.maxSeries > 0 || all.some(l => l.maxSeries > 0)
    this.anyLabelLimits = all.some(l => LABEL_FIELDS.some(f => l[f] !== undefined))
    this.anyHa = defaults.haDedup || all.some(l => l.haDedup)
    this.haPerTenant = all.some(l => l.haDedup !== defaults.haDedup || l.haClusterLabel !== defaults.haClusterLabel || l.haReplicaLabel !== defaults.haReplicaLabel)
  }

  of (tenant: string): TenantLimits {
    return this.overrides.get(tenant) ?? this.defaults
  }
}

/** A burst of 0 means "as large as one second at the rate". */
export function resolveBurst (rate: number, burst: number): number {
  return burst > 0 ? Math.max(burst, 1) : rate
}

/**
 * The table from the settings. Throws config_invalid naming the tenant and the field for an
 * unknown field or a value that is not a whole number >= 0.
 */
export function tenantLimitTable (rate: number, burst: number, overrides: unknown, maxSeries = 0, ha: HaDefaults = HA_OFF): TenantLimitTable {
  const defaults: TenantLimits = { ingestionRate: rate, ingestionBurst: resolveBurst(rate, burst), maxSeries, haDedup: ha.dedup, haClusterLabel: ha.clusterLabel, haReplicaLabel: ha.replicaLabel }
  const map = new Map<string, TenantLimits>()
  if (overrides === undefined || overrides === null) return new TenantLimitTable(defaults, map)
  if (typeof overrides !== 'object' || Array.isArray(overrides)) throw new IngestError('config_invalid', 'tenant-limits: must be an object of tenant -> limits, e.g. {"team-a": {"ingestion-rate": 10000}}')
  for (const [tenant, value] of Object.entries(overrides as Record<string, unknown>)) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new IngestError('config_invalid', `tenant-limits["${tenant}"]: must be an object such as {"ingestion-rate": 10000, "ingestion-burst": 50000}`)
    const got: { ingestionRate?: number, ingestionBurst?: number, maxSeries?: number, maxLabelsPerSeries?: number, maxLabelNameBytes?: number, maxLabelValueBytes?: number } = {}
    const gotHa: { haDedup?: boolean, haClusterLabel?: string, haReplicaLabel?: string } = {}
    for (const [field, v] of Object.entries(value as Record<string, unknown>)) {
      const key = FIELDS[field as keyof typeof FIELDS]
      if (key === undefined) throw new IngestError('config_invalid', `tenant-limits["${tenant}"].${field}: unknown field; known are ingestion-rate, ingestion-burst, max-series, max-labels-per-series, max-label-name-bytes, max-label-value-bytes, ha-dedup, ha-cluster-label, ha-replica-label`)
      if (key === 'haDedup') {
        if (typeof v !== 'boolean') throw new IngestError('config_invalid', `tenant-limits["${tenant}"].${field}: must be true or false, not ${JSON.stringify(v)}`)
        gotHa.haDedup = v
        continue
      }
      if (key === 'haClusterLabel' || key === 'haReplicaLabel') {
        if (typeof v !== 'string' || v === '') throw new IngestError('config_invalid', `tenant-limits["${tenant}"].${field}: must be a label name, not ${JSON.stringify(v)}`)
        gotHa[key] = v
        continue
      }
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 2 ** 40) throw new IngestError('config_invalid', `tenant-limits["${tenant}"].${field}: must be a whole number from 0 to 2^40, not ${JSON.stringify(v)}`)
      if (v === 0 && (LABEL_FIELDS as readonly string[]).includes(key)) throw new IngestError('config_invalid', `tenant-limits["${tenant}"].${field}: must be at least 1`)
      got[key] = v
    }
    const r = got.ingestionRate ?? rate
    const haClusterLabel = gotHa.haClusterLabel ?? ha.clusterLabel
    const haReplicaLabel = gotHa.haReplicaLabel ?? ha.replicaLabel
    if (haClusterLabel === haReplicaLabel) throw new IngestError('config_invalid', `tenant-limits["${tenant}"].ha-cluster-label / ha-replica-label: must differ (both are ${JSON.stringify(haClusterLabel)})`)
    map.set(tenant, { ingestionRate: r, ingestionBurst: resolveBurst(r, got.ingestionBurst ?? (got.ingestionRate === undefined ? burst : 0)), maxSeries: got.maxSeries ?? maxSeries, maxLabelsPerSeries: got.maxLabelsPerSeries, maxLabelNameBytes: got.maxLabelNameBytes, maxLabelValueBytes: got.maxLabelValueBytes, haDedup: gotHa.haDedup ?? ha.dedup, haClusterLabel, haReplicaLabel })
  }
  return new TenantLimitTable(defaults, map)
}
