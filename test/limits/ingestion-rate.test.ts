/**
 * The per-tenant token bucket with explicit clock values (no waiting): a request takes all its
 * tokens or none, Retry-After is computed from the bucket, a request above the burst passes only on a
 * full bucket and leaves it in debt, tenants do not share a bucket, and full buckets are swept.
 */
import { describe, expect, it } from 'vitest'
import { IngestionRateLimiter } from '../../src/limits/ingestion-rate.js'
import { tenantLimitTable } from '../../src/limits/tenant-limits.js'

describe('IngestionRateLimiter', () => {
  it('takes within the burst, then refuses with the seconds until the request fits', () => {
    const l = new IngestionRateLimiter(tenantLimitTable(100, 300, {}))
    expect(l.take('a', 200, 0)).toBe(0)
    expect(l.take('a', 100, 0)).toBe(0)
    // Empty: 150 more need 150 tokens at 100/s.
    expect(l.take('a', 150, 0)).toBe(2)
    // Refused requests take nothing: after 1 s, 100 tokens are there.
    expect(l.take('a', 100, 1000)).toBe(0)
    expect(l.take('a', 1, 1000)).toBe(1)
  })

  it('keeps tenants apart and follows per-tenant overrides', () => {
    const l = new IngestionRateLimiter(tenantLimitTable(10, 10, { big: { 'ingestion-rate': 1000 } }))
    expect(l.take('a', 10, 0)).toBe(0)
    expect(l.take('a', 10, 0)).toBeGreaterThan(0)
    expect(l.take('b', 10, 0)).toBe(0)
    expect(l.take('big', 1000, 0)).toBe(0)
    expect(l.take('big', 1, 0)).toBe(1)
  })

  it('lets a request above the burst through on a full bucket, into debt', () => {
    const l = new IngestionRateLimiter(tenantLimitTable(100, 100, {}))
    expect(l.take('a', 500, 0)).toBe(0)
    // 400 in debt: a request of 100 waits for 500 tokens (5 s).
    expect(l.take('a', 100, 0)).toBe(5)
    expect(l.take('a', 100, 5000)).toBe(0)
  })

  it('does nothing without a rate', () => {
    const l = new IngestionRateLimiter(tenantLimitTable(0, 0, {}))
    expect(l.take('a', 1e9, 0)).toBe(0)
    expect(l.size).toBe(0)
  })

  it('sweeps full buckets once many tenants exist', () => {
    const l = new IngestionRateLimiter(tenantLimitTable(10, 10, {}))
    for (let i = 0; i < 10_000; i++) l.take(`t${i}`, 1, 0)
    expect(l.size).toBe(10_000)
    // Ten seconds later every bucket is full again: the next new tenant sweeps them out.
    l.take('late', 1, 10_000)
    expect(l.size).toBe(1)
  })
})

describe('tenantLimitTable', () => {
  it('defaults the burst to one second at the rate, also for an override that sets only the rate', () => {
    const t = tenantLimitTable(50, 0, { x: { ingestionRate: 7 } })
    expect(t.of('y')).toMatchObject({ ingestionRate: 50, ingestionBurst: 50, maxSeries: 0 })
    expect(t.of('x')).toMatchObject({ ingestionRate: 7, ingestionBurst: 7, maxSeries: 0 })
    expect(t.anyRate).toBe(true)
  })

  it('takes HA settings per tenant, over the service\'s, and refuses ones that cannot work', () => {
    const t = tenantLimitTable(0, 0, { a: { 'ha-dedup': true, 'ha-replica-label': 'prom_replica' }, b: { haDedup: false } }, 0, { dedup: false, clusterLabel: 'cluster', replicaLabel: '__replica__' })
    expect(t.of('a')).toMatchObject({ haDedup: true, haClusterLabel: 'cluster', haReplicaLabel: 'prom_replica' })
    expect(t.of('b')).toMatchObject({ haDedup: false, haReplicaLabel: '__replica__' })
    expect(t.of('other')).toMatchObject({ haDedup: false })
    expect([t.anyHa, t.haPerTenant]).toEqual([true, true])
    const same = tenantLimitTable(0, 0, { b: { 'ingestion-rate': 5 } }, 0, { dedup: true, clusterLabel: 'cluster', replicaLabel: '__replica__' })
    expect([same.anyHa, same.haPerTenant]).toEqual([true, false])
    expect(() => tenantLimitTable(0, 0, { t: { 'ha-dedup': 1 } })).toThrow(/tenant-limits\["t"\]\.ha-dedup: must be true or false/)
    expect(() => tenantLimitTable(0, 0, { t: { 'ha-cluster-label': '' } })).toThrow(/tenant-limits\["t"\]\.ha-cluster-label: must be a label name/)
    expect(() => tenantLimitTable(0, 0, { t: { 'ha-cluster-label': '__replica__' } })).toThrow(/must differ/)
  })

  it('names the tenant and the field of a bad override', () => {
    expect(() => tenantLimitTable(0, 0, { t1: { 'ingestion-rat': 5 } })).toThrow(/tenant-limits\["t1"\]\.ingestion-rat: unknown field/)
    expect(() => tenantLimitTable(0, 0, { t1: { 'ingestion-rate': -1 } })).toThrow(/tenant-limits\["t1"\]\.ingestion-rate: must be a whole number/)
    expect(() => tenantLimitTable(0, 0, [])).toThrow(/tenant-limits: must be an object/)
  })
})
