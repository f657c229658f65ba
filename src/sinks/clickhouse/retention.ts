/**
 * Retention on ClickHouse before 22.x (no TTL there): whole day partitions of the samples and series
 * tables are dropped once the day is entirely older than retention. Both tables are partitioned by
 * day (ddl.ts), so `system.parts` names each partition as YYYY-MM-DD (partition_id YYYYMMDD) and
 * `ALTER TABLE … DROP PARTITION 'YYYY-MM-DD'` removes it at once (no rewrite). 22.x tables carry a TTL
 * instead and this does nothing there.
 */
import type { ClickHouseClient } from './clickhouse-client.js'
import { quoteIdent, type Ddl, type TableNames } from './ddl.js'

const DAY_MS = 86_400_000

/** YYYYMMDD of the UTC day of `ms`, as a number. */
function dayId (ms: number): number {
  const d = new Date(ms)
  return d.getUTCFullYear() * 10_000 + (d.getUTCMonth() + 1) * 100 + d.getUTCDate()
}

/** Drops the day partitions that end before now - retentionMs; resolves with what was dropped ('table day'). */
export async function dropExpiredPartitions (client: ClickHouseClient, ddl: Ddl, names: TableNames, retentionMs: number, now = Date.now()): Promise<string[]> {
  if (retentionMs <= 0 || ddl.kind !== 'legacy') return []
  // A day is dropped only when all of it is older than the cutoff: its end is at or before it.
  const keepFrom = dayId(Math.floor((now - retentionMs) / DAY_MS) * DAY_MS)
  const tables = [names.prefix + 'series', names.prefix + 'samples']
  const text = await client.run(`SELECT DISTINCT table, partition, partition_id FROM system.parts WHERE active AND database = '${names.database}' AND table IN ('${tables.join("', '")}') FORMAT TabSeparated`)
  const dropped: string[] = []
  for (const line of text.split('\n')) {
    const [table, partition, id] = line.split('\t')
    if (table === undefined || partition === undefined || id === undefined || !/^\d{8}$/.test(id) || Number(id) >= keepFrom) continue
    if (!/^\d{4}-\d{2}-\d{2}$/.test(partition)) continue
    await client.run(`ALTER TABLE ${quoteIdent(names.database)}.${quoteIdent(table)} DROP PARTITION '${partition}'`)
    dropped.push(`${table} ${partition}`)
  }
  return dropped
}
