/**
 * Series per tenant, for the per-tenant max-series limit: one counter per tenant in a
 * SharedArrayBuffer that every decode worker updates with Atomics as it creates series (the series
 * walker counts a new series before it inserts it, and gives the count back when the insert created
 * nothing), so the limit is exact however many workers decode at once.
 *
 * The main thread gives each tenant a counter slot on its first request and passes the slot with the
 * decode task. Tenants are never forgotten (series never are either): a tenant with a series costs at
 * least one series in the index, so `capacity` = max-series slots are enough for every tenant that
 * has one; once all slots are taken, a new tenant's new series are refused (tenant_max_series).
 *
 * At start-up the counters are filled from the series the store loaded into the index.
 */
import type { SeriesIndex } from '../series/series-index.js'

export class TenantSeriesCounts {
  readonly shared: SharedArrayBuffer
  private readonly counts: Int32Array
  private readonly slots = new Map<string, number>()

  constructor (readonly capacity: number) {
    this.shared = new SharedArrayBuffer(4 * capacity)
    this.counts = new Int32Array(this.shared)
  }

  /** Counts the series already in `index` (loaded from the store) by tenant. */
  loadFrom (index: SeriesIndex): void {
    const last = index.lastId
    for (let id = 1; id <= last; id++) {
      const tenant = index.tenantOf(id)
      if (tenant === undefined) continue
      const slot = this.slotOf(tenant)
      if (slot >= 0) Atomics.add(this.counts, slot, 1)
    }
  }

  /** The tenant's counter slot, given on first use; -1 when every slot is taken. */
  slotOf (tenant: string): number {
    let slot = this.slots.get(tenant)
    if (slot === undefined) {
      if (this.slots.size >= this.capacity) return -1
      slot = this.slots.size
      this.slots.set(tenant, slot)
    }
    return slot
  }

  /** Series the tenant has now. */
  count (tenant: string): number {
    const slot = this.slots.get(tenant)
    return slot === undefined ? 0 : Atomics.load(this.counts, slot)
  }
}
