/**
 * Creating the tables of a cluster (`--clickhouse-cluster NAME`, ddl.ts): ON CLUSTER when the servers
 * have ZooKeeper, else the same tables on every URL, one per shard (docs/clickhouse.md, "A cluster").
 *
 * `CREATE … ON CLUSTER` is distributed DDL: the server that gets it writes a task under the
 * `<distributed_ddl><path>` of ZooKeeper, every server of the cluster runs it, and the answer is a row
 * per server once all ran it (or distributed_ddl_task_timeout passed). ClickHouse 18.16 refuses it
 * without a `<zookeeper>` section ("DDL background thread is not initialized").
 *
 * Which way is decided by the servers' config, not by whether ZooKeeper answers now: `system.zookeeper`
 * exists exactly when the config has a `<zookeeper>` section, and `system.tables` says so without
 * contacting ZooKeeper. A configured ZooKeeper that is down is then a start-up failure (the sink is not
 * ready and keeps trying), not a reason to create the tables per server behind the cluster's back.
 */
import { IngestError } from '../../errors.js'
import type { Logger } from '../../logger.js'
import type { ClickHouseClient } from './clickhouse-client.js'
import type { Ddl } from './ddl.js'

/**
 * Longest a server waits, in seconds, for every server of the cluster to run an ON CLUSTER statement:
 * under the client's statement timeout (30 s), so that ClickHouse answers with the servers that did not
 * run it (code 159) before the client gives up. The task stays queued and runs when they come back.
 */
export const DDL_TASK_TIMEOUT_S = 20

/** ClickHouse settings of the sink's statements with a cluster (besides insert_distributed_sync). */
export const CLUSTER_DDL_SETTINGS: Readonly<Record<string, string>> = { distributed_ddl_task_timeout: String(DDL_TASK_TIMEOUT_S) }

/** ClickHouse's exception codes met here. */
const KEEPER_EXCEPTION = 999
const TIMEOUT_EXCEEDED = 159

/** How a cluster's tables are created. */
export type ClusterDdlWay = 'on-cluster' | 'per-server'

/**
 * Whether the server at URL i has ZooKeeper configured (not whether it answers). A config with
 * `<zookeeper>` has the table system.zookeeper; one without has not.
 */
export async function hasZooKeeper (client: ClickHouseClient, i: number): Promise<boolean> {
  const answer = await client.runAt(i, "SELECT count() FROM system.tables WHERE database = 'system' AND name = 'zookeeper'")
  return answer.trim() !== '0'
}

/**
 * Which way: ON CLUSTER when every URL's server has ZooKeeper configured, per server when none has;
 * servers that disagree are refused (ON CLUSTER would wait for the ones without, per-server DDL would
 * bypass the others' distributed DDL).
 */
export async function clusterDdlWay (client: ClickHouseClient, urls: readonly string[], cluster: string): Promise<ClusterDdlWay> {
  const without: string[] = []
  for (let i = 0; i < client.urlCount; i++) if (!await hasZooKeeper(client, i)) without.push(urls[i] ?? `URL ${i + 1}`)
  if (without.length === 0) return 'on-cluster'
  if (without.length === client.urlCount) return 'per-server'
  throw new IngestError('sink_failed', `ClickHouse cluster ${cluster}: some servers have ZooKeeper configured and some not (${without.join(', ')} have not); give all of them the same <zookeeper> section, or none`)
}

export interface ClusterTablesOptions {
  /** The client's URLs (--clickhouse-url), for messages. */
  readonly urls: readonly string[]
  readonly logger: Logger
  /** The sink's name, for the log. */
  readonly sink: string
}

/** Creates the database and tables of `ddl` (which has a cluster) the way the servers allow; says which in the log. */
export async function createClusterTables (client: ClickHouseClient, ddl: Ddl, options: ClusterTablesOptions): Promise<ClusterDdlWay> {
  const { logger, sink } = options
  const cluster = ddl.cluster
  if (cluster === undefined) throw new Error('createClusterTables: the DDL has no cluster')
  const way = await clusterDdlWay(client, options.urls, cluster)
  if (way === 'per-server') {
    logger.info({ sink, cluster, servers: client.urlCount }, 'ClickHouse cluster without ZooKeeper: creating the tables on each server of --clickhouse-url (list one URL per shard)')
    for (let i = 0; i < client.urlCount; i++) {
      for (const statement of ddl.perServerStatements) await client.runAt(i, statement)
    }
    return way
  }
  logger.info({ sink, cluster }, 'ClickHouse cluster with ZooKeeper: creating the tables ON CLUSTER (distributed DDL)')
  // All to the first URL: ClickHouse's own error code comes back (run() would try the next URL after a
  // 5xx, send the task again and wait again), and any server of the cluster can take ON CLUSTER.
  for (const statement of ddl.statements) {
    try {
      await client.runAt(0, statement)
    } catch (err) {
      const code = err instanceof IngestError ? err.detail?.clickhouseCode : undefined
      const message = (err as Error).message
      if (code === KEEPER_EXCEPTION) {
        throw new IngestError('sink_failed', `ClickHouse cluster ${cluster}: the servers have ZooKeeper configured but cannot reach it, and ON CLUSTER needs it; the tables are created once it answers (${message})`, { clickhouseCode: code })
      }
      if (code === TIMEOUT_EXCEEDED) {
        throw new IngestError('sink_failed', `ClickHouse cluster ${cluster}: not every server of the cluster created the tables within distributed_ddl_task_timeout (a server is down, or its <distributed_ddl> path differs); the task waits in ZooKeeper and they run it when they come back (${message})`, { clickhouseCode: code })
      }
      throw err
    }
  }
  return way
}
