/**
 * `--clickhouse-cluster` without ZooKeeper: two real ClickHouse 18.16 servers on free loopback ports
 * form a two-shard cluster (remote_servers in both configs, no <zookeeper>: the sink creates the local
 * and Distributed tables on each server itself, and says so), and prom-ingest writes into the
 * Distributed tables. The ON CLUSTER way, with ZooKeeper, is cluster-tables.test.ts. Skips at run
 * time, naming the binary, when clickhouse-server is not installed.
 */
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CLICKHOUSE_SERVER, clickhouseAvailable, type ClickHouse } from '../../helpers/clickhouse.js'
import { rows, startTwoShards, writeAndCheckShards } from '../../helpers/clickhouse-cluster.js'
import { startInProcess } from '../../helpers/service-in-process.js'

const present = clickhouseAvailable()
if (!present) console.warn(`skipping the ClickHouse cluster test: ${CLICKHOUSE_SERVER} is not installed`)

const CLUSTER = 'two_shards'

describe.runIf(present)('ClickHouse sink on a two-shard cluster of ClickHouse 18.16 servers', () => {
  let servers: ClickHouse[] = []
  beforeAll(async () => { servers = await startTwoShards(CLUSTER) }, 90_000)
  afterAll(async () => { await Promise.all(servers.map(s => s.stop())) })

  it('without ZooKeeper: the tables on each server (and says so), every series on exactly one shard, the totals equal what was sent', async () => {
    const db = 'cluster'
    const msgs: string[] = []
    const logger = pino({ level: 'info' }, { write (s: string) { msgs.push((JSON.parse(s) as { msg: string }).msg) } })
    const service = await startInProcess(['--sink', 'clickhouse', '--clickhouse-url', servers[0]!.url, '--clickhouse-url', servers[1]!.url,
      '--clickhouse-database', db, '--clickhouse-cluster', CLUSTER, '--clickhouse-flush-interval', '50ms'], { logger })
    try {
      expect(msgs).toContain('ClickHouse cluster without ZooKeeper: creating the tables on each server of --clickhouse-url (list one URL per shard)')
      for (const server of servers) {
        expect(await rows(server, `SELECT count() FROM system.tables WHERE database = '${db}' AND engine = 'Distributed'`)).toEqual([['5']])
      }
      await writeAndCheckShards(service.url, servers, db)
    } finally {
      await service.close()
    }
  }, 120_000)
})
