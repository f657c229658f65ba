/**
 * HA-pair deduplication, after Mimir's HA tracker (pkg/distributor/ha_tracker.go), on one node: per
 * (tenant, cluster), one replica is elected; requests of the other replicas are accepted with 202
 * and nothing of them is written. The elected replica is replaced when it has sent nothing for the
 * failover timeout: the next request of another replica after that is elected.
 *
 * The election lives in this process's memory only. After a restart there is no election: the first
 * replica to send is elected, which may be the other one than before (each sample is still stored
 * once per replica that was elected when it arrived, so a switch can store an overlap of both
 * replicas' samples only across the restart; docs/tenant-limits.md).
 *
 * Memory: an entry whose replica has been silent longer than the failover timeout decides nothing (any
 * replica would win), so once more than SWEEP_AT entries exist, those are dropped.
 */

const SWEEP_AT = 10_000

interface Election {
  replica: string
  /** When the elected replica last sent, ms (performance.now()). */
  lastSeen: number
}

export type HaDecision = 'accepted' | 'elected' | 'failover' | 'deduplicated'

export class HaTracker {
  private readonly elections = new Map<string, Election>()

  constructor (readonly failoverTimeoutMs: number) {}

  /**
   * What to do with a request of `replica` of `cluster` of `tenant` at `now` (ms): `deduplicated`
   * when another replica is elected and was heard from within the failover timeout; otherwise the
   * request is written (`accepted` from the elected replica, `elected` for a first election,
   * `failover` when this replica replaced a silent one).
   */
  decide (tenant: string, cluster: string, replica: string, now: number): HaDecision {
    // Tenants and cluster names cannot hold \0 (tenant.ts allows no control characters in a tenant).
    const key = tenant + '\0' + cluster
    const e = this.elections.get(key)
    if (e === undefined) {
      if (this.elections.size >= SWEEP_AT) this.sweep(now)
      this.elections.set(key, { replica, lastSeen: now })
      return 'elected'
    }
    if (e.replica === replica) {
      e.lastSeen = now
      return 'accepted'
    }
    if (now - e.lastSeen > this.failoverTimeoutMs) {
      e.replica = replica
      e.lastSeen = now
      return 'failover'
    }
    return 'deduplicated'
  }

  /** The elected replica of (tenant, cluster), for tests and logs. */
  elected (tenant: string, cluster: string): string | undefined {
    return this.elections.get(tenant + '\0' + cluster)?.replica
  }

  get size (): number { return this.elections.size }

  private sweep (now: number): void {
    for (const [key, e] of this.elections) if (now - e.lastSeen > this.failoverTimeoutMs) this.elections.delete(key)
  }
}
