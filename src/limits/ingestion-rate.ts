/**
 * Per-tenant ingestion rate: one token bucket per tenant, on samples + exemplars + histograms (what
 * Mimir's ingestion_rate counts). A request takes all its tokens or none: over the rate it is refused
 * whole (nothing written) with a Retry-After computed from the bucket.
 *
 * A request larger than the burst could never fit; instead it passes when the bucket is full and
 * leaves it in debt (negative tokens), so that the tenant's average still keeps to the rate.
 *
 * Memory: tenants are at most 150 characters, but their number is not bounded. A bucket that has
 * refilled to its burst is the same as no bucket, so once more than SWEEP_AT buckets exist the full
 * ones are dropped: the map holds only tenants that sent within the last burst/rate seconds.
 */
import type { TenantLimitTable } from './tenant-limits.js'

/** Buckets kept before full ones are swept out. */
const SWEEP_AT = 10_000

interface Bucket {
  tokens: number
  /** performance.now() of the last refill, ms. */
  at: number
  rate: number
  burst: number
}

/** What `take` decided: 0 when the request may pass, else the seconds until it would. */
export type RetryAfterSeconds = number

export class IngestionRateLimiter {
  private readonly buckets = new Map<string, Bucket>()

  constructor (private readonly limits: TenantLimitTable) {}

  /** True when some tenant has a rate (the check can be skipped otherwise). */
  get enabled (): boolean { return this.limits.anyRate }

  /**
   * Takes `n` tokens from the tenant's bucket at time `now` (ms). Returns 0 when they were taken, or
   * the whole seconds (at least 1) after which the same request would pass.
   */
  take (tenant: string, n: number, now: number): RetryAfterSeconds {
    const { ingestionRate: rate, ingestionBurst: burst } = this.limits.of(tenant)
    if (rate <= 0 || n <= 0) return 0
    let b = this.buckets.get(tenant)
    if (b === undefined || b.rate !== rate || b.burst !== burst) {
      if (this.buckets.size >= SWEEP_AT) this.sweep(now)
      b = { tokens: burst, at: now, rate, burst }
      this.buckets.set(tenant, b)
    } else {
      b.tokens = Math.min(burst, b.tokens + (now - b.at) * rate / 1000)
      b.at = now
    }
    // A request above the burst passes only on a full bucket (into debt).
    const need = Math.min(n, burst)
    if (b.tokens >= need) {
      b.tokens -= n
      return 0
    }
    return Math.max(1, Math.ceil((need - b.tokens) / rate))
  }

  /** Buckets held now (for tests and the sweep). */
  get size (): number { return this.buckets.size }

  private sweep (now: number): void {
    for (const [tenant, b] of this.buckets) {
      if (b.tokens + (now - b.at) * b.rate / 1000 >= b.burst) this.buckets.delete(tenant)
    }
  }
}
