/**
 * Per-tenant limits: the defaults from the settings, and the overrides of the config file's
 * `tenant-limits` object ({"<tenant>": {"ingestion-rate": 1000, "ingestion-burst": 5000}}; keys in
 * kebab-case or camelCase, like every setting). The tenant '' is a request without a tenant header.
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
}

const FIELDS = { 'ingestion-rate': 'ingestionRate', ingestionRate: 'ingestionRate', 'ingestion-burst': 'ingestionBurst', ingestionBurst: 'ingestionBurst', 'max-series': 'maxSeries', maxSeries: 'maxSeries', 'max-labels-per-series': 'maxLabelsPerSeries', maxLabelsPerSeries: 'maxLabelsPerSeries', 'max-label-name-bytes': 'maxLabelNameBytes', maxLabelNameBytes: 'maxLabelNameBytes', 'max-label-value-bytes': 'maxLabelValueBytes', maxLabelValueBytes: 'maxLabelValueBytes' } as const
const LABEL_FIELDS = ['maxLabelsPerSeries', 'maxLabelNameBytes', 'maxLabelValueBytes'] as const

export class TenantLimitTable {
  readonly anyRate: boolean
  readonly anyMaxSeries: boolean
  readonly anyLabelLimits: boolean

  constructor (readonly defaults: TenantLimits, private readonly overrides: ReadonlyMap<string, TenantLimits> = new Map()) {
    this.anyRate = defaults.ingestionRate > 0 || [...overrides.values()].some(l => l.ingestionRate > 0)
    this.anyMaxSeries = defaults.maxSeries > 0 || [...overrides.values()].some(l => l.maxSeries > 0)
    this.anyLabelLimits = [...overrides.values()].some(l => LABEL_FIELDS.some(f => l[f] !== undefined))
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
export function tenantLimitTable (rate: number, burst: number, overrides: unknown, maxSeries = 0): TenantLimitTable {
  const defaults: TenantLimits = { ingestionRate: rate, ingestionBurst: resolveBurst(rate, burst), maxSeries }
  const map = new Map<string, TenantLimits>()
  if (overrides === undefined || overrides === null) return new TenantLimitTable(defaults, map)
  if (typeof overrides !== 'object' || Array.isArray(overrides)) throw new IngestError('config_invalid', 'tenant-limits: must be an object of tenant -> limits, e.g. {"team-a": {"ingestion-rate": 10000}}')
  for (const [tenant, value] of Object.entries(overrides as Record<string, unknown>)) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new IngestError('config_invalid', `tenant-limits["${tenant}"]: must be an object such as {"ingestion-rate": 10000, "ingestion-burst": 50000}`)
    const got: { ingestionRate?: number, ingestionBurst?: number, maxSeries?: number, maxLabelsPerSeries?: number, maxLabelNameBytes?: number, maxLabelValueBytes?: number } = {}
    for (const [field, v] of Object.entries(value as Record<string, unknown>)) {
      const key = FIELDS[field as keyof typeof FIELDS]
      if (key === undefined) throw new IngestError('config_invalid', `tenant-limits["${tenant}"].${field}: unknown field; known are ingestion-rate, ingestion-burst, max-series, max-labels-per-series, max-label-name-bytes, max-label-value-bytes`)
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 2 ** 40) throw new IngestError('config_invalid', `tenant-limits["${tenant}"].${field}: must be a whole number from 0 to 2^40, not ${JSON.stringify(v)}`)
      if (v === 0 && (LABEL_FIELDS as readonly string[]).includes(key)) throw new IngestError('config_invalid', `tenant-limits["${tenant}"].${field}: must be at least 1`)
      got[key] = v
    }
    const r = got.ingestionRate ?? rate
    map.set(tenant, { ingestionRate: r, ingestionBurst: resolveBurst(r, got.ingestionBurst ?? (got.ingestionRate === undefined ? burst : 0)), maxSeries: got.maxSeries ?? maxSeries, maxLabelsPerSeries: got.maxLabelsPerSeries, maxLabelNameBytes: got.maxLabelNameBytes, maxLabelValueBytes: got.maxLabelValueBytes })
  }
  return new TenantLimitTable(defaults, map)
}
