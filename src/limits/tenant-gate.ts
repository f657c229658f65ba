/**
 * The per-tenant checks a decoded request passes before any sink sees it (docs/tenant-limits.md):
 * today the ingestion rate. A refused request is refused whole: nothing of it is written.
 *
 * Metrics have no tenant label: a tenant name is bounded (150 characters) but the number of tenants
 * is not, so a tenant label would let senders grow the metric without bound. Refusals are counted by
 * reason; the tenant is in the answer and in the debug log.
 */
import { Counter, type Registry } from 'prom-client'
import { performance } from 'node:perf_hooks'
import { IngestError } from '../errors.js'
import type { Logger } from '../logger.js'
import { IngestionRateLimiter } from './ingestion-rate.js'
import type { TenantLimitTable } from './tenant-limits.js'

export const LIMIT_REASONS = ['ingestion_rate'] as const

/** What the gate needs of a batch: its row counts. */
export interface BatchCounts {
  readonly sampleCount: number
  readonly exemplarCount: number
  readonly histogramCount: number
}

export class TenantGate {
  private readonly rate: IngestionRateLimiter
  private readonly refusedRequests: Counter<'reason'>
  private readonly refusedSamples: Counter<'reason'>

  constructor (private readonly limits: TenantLimitTable, private readonly registry: Registry, private readonly logger: Logger) {
    this.rate = new IngestionRateLimiter(limits)
    this.refusedRequests = new Counter({ name: 'prom_ingest_tenant_limit_refused_requests_total', help: 'Write requests refused whole by a per-tenant limit, by reason (ingestion_rate). No tenant label: the number of tenants is unbounded.', labelNames: ['reason'] as const, registers: [registry] })
    this.refusedSamples = new Counter({ name: 'prom_ingest_tenant_limit_refused_samples_total', help: 'Samples, exemplars and histograms of the requests refused by a per-tenant limit, by reason.', labelNames: ['reason'] as const, registers: [registry] })
    for (const reason of LIMIT_REASONS) { this.refusedRequests.inc({ reason }, 0); this.refusedSamples.inc({ reason }, 0) }
  }

  /** True when some limit is on (the route skips the gate otherwise). */
  get enabled (): boolean { return this.limits.anyRate }

  /** Undefined when the request may be written, else the error to answer with. */
  check (tenant: string, batch: BatchCounts): IngestError | undefined {
    const n = batch.sampleCount + batch.exemplarCount + batch.histogramCount
    const wait = this.rate.take(tenant, n, performance.now())
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
  }
}
