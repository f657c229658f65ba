/**
 * Retention on ClickHouse before 22.x (no TTL there): whole day partitions of the series, samples,
 * histograms and exemplars tables are dropped once the day is entirely older than retention (metadata
 * is kept: one row per metric family). These tables are partitioned by
 * day (ddl.ts), so `system.parts` names each partition as YYYY-MM-DD (partition_id YYYYMMDD) and
 * `ALTER TABLE … DROP PARTITION 'YYYY-MM-DD'` removes it at once (no rewrite). 22.x tables carry a TTL
 * instead and this does nothing there. With a cluster it runs over the local tables: on each server
 * of --clickhouse-url (no ZooKeeper), or, where the tables were created ON CLUSTER (ZooKeeper), once:
 * the partitions of every server from `cluster(NAME, system, parts)` and each dropped
 * `ON CLUSTER` (a server without that partition answers OK), so that one URL is enough.
 */
import type { ClickHouseClient } from './clickhouse-client.js'
import { DAY_PARTITIONED, quoteIdent, type Ddl } from './ddl.js'

const DAY_MS = 86_400_000

/** YYYYMMDD of the UTC day of `ms`, as a number. */
function dayId (ms: number): number {
  const d = new Date(ms)
  return d.getUTCFullYear() * 10_000 + (d.getUTCMonth() + 1) * 100 + d.getUTCDate()
}

/**
 * Drops the day partitions that end before now - retentionMs; resolves with what was dropped ('table day').
 * `where`: the URL to run on (a cluster without ZooKeeper), 'on-cluster' (the whole cluster of `ddl`,
 * through distributed DDL), or undefined (whichever URL answers).
 */
export async function dropExpiredPartitions (client: ClickHouseClient, ddl: Ddl, database: string, retentionMs: number, now = Date.now(), where?: number | 'on-cluster'): Promise<string[]> {
  if (retentionMs <= 0 || ddl.kind !== 'legacy') return []
  // A day is dropped only when all of it is older than the cutoff: its end is at or before it.
  const keepFrom = dayId(Math.floor((now - retentionMs) / DAY_MS) * DAY_MS)
  const tables = DAY_PARTITIONED.map(kind => ddl.storedNames[kind])
  const onCluster = where === 'on-cluster' && ddl.cluster !== undefined ? ddl.cluster : undefined
  const run = (sql: string): Promise<string> => typeof where === 'number' ? client.runAt(where, sql) : onCluster !== undefined ? client.runAt(0, sql) : client.run(sql)
  const parts = onCluster === undefined ? 'system.parts' : `cluster('${onCluster.replace(/[\\']/g, '\\$&')}', system, parts)`
  const text = await run(`SELECT DISTINCT table, partition, partition_id FROM ${parts} WHERE active AND database = '${database}' AND table IN ('${tables.join("', '")}') FORMAT TabSeparated`)
  const dropped: string[] = []
  for (const line of text.split('\n')) {
    const [table, partition, id] = line.split('\t')
    if (table === undefined || partition === undefined || id === undefined || !/^\d{8}$/.test(id) || Number(id) >= keepFrom) continue
    if (!/^\d{4}-\d{2}-\d{2}$/.test(partition)) continue
    await run(`ALTER TABLE ${quoteIdent(database)}.${quoteIdent(table)}${onCluster === undefined ? '' : ` ON CLUSTER ${quoteIdent(onCluster)}`} DROP PARTITION '${partition}'`)
    dropped.push(`${table} ${partition}`)
  }
  return dropped
}
