/**
 * The per-tenant checks a decoded request passes before any sink sees it, in Mimir's order: HA-pair
 * deduplication (docs/tenant-limits.md; a request of a replica that is not elected is answered 202 with
 * nothing written, and does not count against the rate), then the ingestion rate
 * (docs/tenant-limits.md; a refused request is refused whole: nothing of it is written).
 *
 * Metrics have no tenant label: a tenant name is bounded (150 characters) but the number of tenants
 * is not, so a tenant label would let senders grow the metric without bound. Refusals are counted by
 * reason; the tenant is in the answer and in the debug log.
 */
import { Counter, type Registry } from 'prom-client'
import { performance } from 'node:perf_hooks'
import { IngestError } from '../errors.js'
import type { Logger } from '../logger.js'
import { HaTracker, type HaDecision } from './ha-tracker.js'
import { IngestionRateLimiter } from './ingestion-rate.js'
import type { TenantLimitTable } from './tenant-limits.js'
import type { TenantSeriesCounts } from './tenant-series.js'

/** What the decode of a request needs for the per-tenant max-series. */
export interface TenantDecodeLimits {
  readonly tenantMaxSeries: number
  readonly tenantSlot: number
  readonly maxLabelsPerSeries?: number | undefined
  readonly maxLabelNameBytes?: number | undefined
  readonly maxLabelValueBytes?: number | undefined
  /** The tenant's HA labels, when some tenant's HA settings differ from the defaults ('' replica: HA off for it). */
  readonly haReplicaLabel?: string | undefined
  readonly haClusterLabel?: string | undefined
}

const NO_SERIES_LIMIT: TenantDecodeLimits = { tenantMaxSeries: 0, tenantSlot: -1 }

export const LIMIT_REASONS = ['ingestion_rate'] as const
export const HA_DECISIONS = ['accepted', 'elected', 'failover', 'deduplicated', 'no_ha_labels'] as const

export interface HaSettings {
  /** Failover timeout, ms; 0 for HA deduplication off. */
  readonly failoverTimeoutMs: number
}

/** What the gate needs of a batch: its row counts. */
export interface BatchCounts {
  readonly sampleCount: number
  readonly exemplarCount: number
  readonly histogramCount: number
  /** The first series' HA labels (set by the decode when HA deduplication is on). */
  readonly meta: { readonly ha?: { readonly cluster: string, readonly replica: string } | undefined }
}

/** A request of a replica that is not elected: answer 202, write nothing. */
export const DEDUPLICATED = 'deduplicated'

export class TenantGate {
  private readonly rate: IngestionRateLimiter
  private readonly refusedRequests: Counter<'reason'>
  private readonly refusedSamples: Counter<'reason'>
  private readonly ha: HaTracker | undefined
  private readonly haRequests: Counter<'decision'>
  private readonly haSamples: Counter

  constructor (private readonly limits: TenantLimitTable, private readonly registry: Registry, private readonly logger: Logger, ha: HaSettings = { failoverTimeoutMs: 0 }, private readonly series?: TenantSeriesCounts) {
    this.rate = new IngestionRateLimiter(limits)
    this.ha = ha.failoverTimeoutMs > 0 ? new HaTracker(ha.failoverTimeoutMs) : undefined
    this.haRequests = new Counter({ name: 'prom_ingest_ha_dedup_requests_total', help: 'Write requests seen by HA deduplication, by decision: accepted (elected replica), elected (first of its cluster), failover (replaced a silent replica), deduplicated (another replica is elected: 202, nothing written), no_ha_labels (the first series lacks the cluster or replica label: written as it is).', labelNames: ['decision'] as const, registers: [registry] })
    this.haSamples = new Counter({ name: 'prom_ingest_ha_dedup_deduplicated_samples_total', help: 'Samples, exemplars and histograms of requests answered 202 by HA deduplication (not written).', registers: [registry] })
    for (const decision of HA_DECISIONS) this.haRequests.inc({ decision }, 0)
    this.refusedRequests = new Counter({ name: 'prom_ingest_tenant_limit_refused_requests_total', help: 'Write requests refused whole by a per-tenant limit, by reason (ingestion_rate). No tenant label: the number of tenants is unbounded.', labelNames: ['reason'] as const, registers: [registry] })
    this.refusedSamples = new Counter({ name: 'prom_ingest_tenant_limit_refused_samples_total', help: 'Samples, exemplars and histograms of the requests refused by a per-tenant limit, by reason.', labelNames: ['reason'] as const, registers: [registry] })
    for (const reason of LIMIT_REASONS) { this.refusedRequests.inc({ reason }, 0); this.refusedSamples.inc({ reason }, 0) }
  }

  /** True when some limit is on (the route skips the gate otherwise). HA deduplication may be on for some tenants only. */
  get enabled (): boolean { return this.limits.anyRate || this.ha !== undefined }

  /** The tenant's max-series and counter slot, for its request's decode. */
  decodeLimits (tenant: string): TenantDecodeLimits {
    const series = this.series
    const table = this.limits
    if (series === undefined && !table.anyLabelLimits && !table.haPerTenant) return NO_SERIES_LIMIT
    const l = table.of(tenant)
    const counted = series !== undefined && l.maxSeries > 0
    let out: TenantDecodeLimits = counted ? { tenantMaxSeries: l.maxSeries, tenantSlot: series.slotOf(tenant) } : NO_SERIES_LIMIT
    if (table.anyLabelLimits) out = { ...out, maxLabelsPerSeries: l.maxLabelsPerSeries, maxLabelNameBytes: l.maxLabelNameBytes, maxLabelValueBytes: l.maxLabelValueBytes }
    // Per-tenant HA (Mimir's accept_ha_samples, ha_cluster_label, ha_replica_label): the decode reads the tenant's labels.
    if (table.haPerTenant) out = { ...out, haReplicaLabel: l.haDedup ? l.haReplicaLabel : '', haClusterLabel: l.haClusterLabel }
    return out
  }

  /** The HA tracker, when HA deduplication is on. */
  get haTracker (): HaTracker | undefined { return this.ha }

  /** Undefined when the request may be written, DEDUPLICATED for 202 without writing, else the error to answer with. */
  check (tenant: string, batch: BatchCounts): IngestError | typeof DEDUPLICATED | undefined {
    const n = batch.sampleCount + batch.exemplarCount + batch.histogramCount
    const now = performance.now()
    if (this.ha !== undefined && this.limits.of(tenant).haDedup) {
      const labels = batch.meta.ha
      let decision: HaDecision | 'no_ha_labels' = 'no_ha_labels'
      if (labels !== undefined && labels.cluster !== '' && labels.replica !== '') decision = this.ha.decide(tenant, labels.cluster, labels.replica, now)
      this.haRequests.inc({ decision })
      if (decision === 'failover') this.logger.info({ tenant, cluster: labels!.cluster, replica: labels!.replica }, 'HA failover: the elected replica was silent for the failover timeout, this one is elected')
      if (decision === 'deduplicated') {
        this.haSamples.inc(n)
        return DEDUPLICATED
      }
    }
    if (!this.limits.anyRate) return undefined
    const wait = this.rate.take(tenant, n, now)
    if (wait === 0) return undefined
    this.refusedRequests.inc({ reason: 'ingestion_rate' })
    this.refusedSamples.inc({ reason: 'ingestion_rate' }, n)
    const { ingestionRate, ingestionBurst } = this.limits.of(tenant)
    const who = tenant === '' ? 'requests without a tenant' : `tenant ${JSON.stringify(tenant)}`
    this.logger.debug({ tenant, samples: n, retryAfter: wait }, 'request over the tenant ingestion rate')
    return new IngestError('tenant_max_ingestion_rate',
      `the request's ${n} samples, exemplars and histograms are over the ingestion rate of ${who} (${ingestionRate}/s, burst ${ingestionBurst}); nothing was written, retry in ${wait} s (err-prom-ingest-tenant-max-ingestion-rate). ` +
      `To adjust, set ingestion-rate (and ingestion-burst) for the tenant in tenant-limits, or tenant-ingestion-rate for every tenant`,
      { retryAfterSeconds: wait })
  }

  unregister (): void {
    this.registry.removeSingleMetric('prom_ingest_tenant_limit_refused_requests_total')
    this.registry.removeSingleMetric('prom_ingest_tenant_limit_refused_samples_total')
    this.registry.removeSingleMetric('prom_ingest_ha_dedup_requests_total')
    this.registry.removeSingleMetric('prom_ingest_ha_dedup_deduplicated_samples_total')
  }
}
