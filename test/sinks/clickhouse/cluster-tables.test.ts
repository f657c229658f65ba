/**
 * `--clickhouse-cluster` with ZooKeeper: a real ZooKeeper 3.8 (one for the file) and two real
 * ClickHouse 18.16 servers configured with it (<zookeeper>, <distributed_ddl>) and with the cluster in
 * remote_servers. The sink creates the tables ON CLUSTER (distributed DDL through ZooKeeper), rows
 * spread over the shards by fingerprint, and a configured ZooKeeper that is down keeps the sink not
 * ready rather than sending it around the cluster. The cluster without ZooKeeper is cluster.test.ts.
 * Skips at run time, naming what is missing, without clickhouse-server, java or ZooKeeper.
 */
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Logger } from '../../../src/logger.js'
import { ClickHouseClient } from '../../../src/sinks/clickhouse/clickhouse-client.js'
import { clusterDdlWay, createClusterTables } from '../../../src/sinks/clickhouse/cluster-tables.js'
import { ddlFor, TABLE_KINDS } from '../../../src/sinks/clickhouse/ddl.js'
import { compressBody, encode1 } from '../../fixtures/encode.js'
import { CLICKHOUSE_SERVER, clickhouseAvailable, startClickHouse, type ClickHouse } from '../../helpers/clickhouse.js'
import { rows, startTwoShards, writeAndCheckShards } from '../../helpers/clickhouse-cluster.js'
import { postWrite } from '../../helpers/remote-write.js'
import { startInProcess } from '../../helpers/service-in-process.js'
import { startZooKeeper, zookeeperMissing, type ZooKeeper } from '../../helpers/zookeeper.js'

const missing = !clickhouseAvailable() ? CLICKHOUSE_SERVER : zookeeperMissing()
if (missing !== '') console.warn(`skipping the ClickHouse cluster tests with ZooKeeper: ${missing} is not installed`)

const CLUSTER = 'zk_shards'
const DDL_PATH = '/clickhouse/task_queue/ddl'
/** How ClickHouse writes the clause in a task (it formats the statement again; quotes only where needed). */
const ON_CLUSTER = new RegExp(`ON CLUSTER \`?${CLUSTER}\`?`)

/** A logger that keeps its lines as objects. */
function captureLogger (): { logger: Logger, lines: Array<{ msg: string, err?: string }> } {
  const lines: Array<{ msg: string, err?: string }> = []
  return { logger: pino({ level: 'info' }, { write (s: string) { lines.push(JSON.parse(s) as { msg: string, err?: string }) } }), lines }
}

describe.runIf(missing === '')('ClickHouse sink on a two-shard cluster of ClickHouse 18.16 servers with ZooKeeper', () => {
  let zk: ZooKeeper
  let servers: ClickHouse[] = []
  beforeAll(async () => {
    zk = await startZooKeeper()
    servers = await startTwoShards(CLUSTER, zk.clickhouseConfig(DDL_PATH))
  }, 90_000)
  afterAll(async () => {
    await Promise.all(servers.map(s => s.stop()))
    await zk?.stop()
  })

  /** The database's tables on a server, as [name, engine], by name. */
  const tablesOf = async (server: ClickHouse, db: string): Promise<string[][]> =>
    await rows(server, `SELECT name, engine FROM system.tables WHERE database = '${db}' ORDER BY name`)
  const expectedTables = TABLE_KINDS.flatMap(kind => [
    [`prom_${kind}`, 'Distributed'],
    [`prom_${kind}_local`, kind === 'series' || kind === 'metadata' ? 'ReplacingMergeTree' : 'MergeTree']
  ]).sort((a, b) => a[0]! < b[0]! ? -1 : 1)

  /** The distributed DDL tasks in ZooKeeper about `db`: their query, and which servers finished them. */
  const ddlTasks = async (db: string): Promise<Array<{ query: string, finished: number }>> => {
    const tasks = await rows(servers[0]!, `SELECT name, value FROM system.zookeeper WHERE path = '${DDL_PATH}' ORDER BY name`)
    const out: Array<{ query: string, finished: number }> = []
    for (const [name, value] of tasks) {
      // The task's text, TabSeparated-escaped: `query: CREATE … ON CLUSTER …\n`.
      const query = /query: (.*?)\\n/.exec(value!)?.[1] ?? ''
      if (!new RegExp(`\\b${db}\\b`).test(query)) continue
      const finished = await rows(servers[0]!, `SELECT name FROM system.zookeeper WHERE path = '${DDL_PATH}/${name}/finished'`)
      out.push({ query, finished: finished.length })
    }
    return out
  }

  it('creates the tables ON CLUSTER through ZooKeeper, says so, and every series lands on exactly one shard', async () => {
    const db = 'zk_cluster'
    const { logger, lines } = captureLogger()
    const service = await startInProcess(['--sink', 'clickhouse', '--clickhouse-url', servers[0]!.url, '--clickhouse-url', servers[1]!.url,
      '--clickhouse-database', db, '--clickhouse-cluster', CLUSTER, '--clickhouse-flush-interval', '50ms'], { logger })
    try {
      expect(service.ready()).toBe(true)
      expect(lines.map(l => l.msg)).toContain('ClickHouse cluster with ZooKeeper: creating the tables ON CLUSTER (distributed DDL)')
      expect(lines.some(l => /without ZooKeeper/.test(l.msg))).toBe(false)

      // Both shards have the local tables and the Distributed tables over them.
      for (const server of servers) expect(await tablesOf(server, db)).toEqual(expectedTables)
      // They came through ZooKeeper's distributed DDL queue: one task per statement (the database, then
      // a local and a Distributed table per kind), each ON CLUSTER and finished by both servers.
      const tasks = await ddlTasks(db)
      expect(tasks).toHaveLength(1 + 2 * TABLE_KINDS.length)
      for (const task of tasks) {
        expect(task.query).toMatch(ON_CLUSTER)
        expect(task.finished).toBe(2)
      }
      expect(tasks.filter(t => t.query.includes('ENGINE = Distributed('))).toHaveLength(TABLE_KINDS.length)

      await writeAndCheckShards(service.url, servers, db)
    } finally {
      await service.close()
    }
  }, 120_000)

  it('18.16 retention with ON CLUSTER: one URL drops the old day partitions on every shard, newer ones kept', async () => {
    const db = 'zk_retention'
    const now = Date.now()
    const old = Date.UTC(2020, 0, 1, 12)
    const flags = (url: string, more: string[] = []): string[] => ['--sink', 'clickhouse', '--clickhouse-url', url, '--clickhouse-database', db,
      '--clickhouse-cluster', CLUSTER, '--clickhouse-flush-interval', '50ms', ...more]
    const samplesByShard = async (): Promise<string[][]> => await Promise.all(servers.map(async server =>
      (await rows(server, `SELECT toString(timestamp_ms < ${now}), count() FROM ${db}.prom_samples_local GROUP BY timestamp_ms < ${now} ORDER BY 1`)).map(r => r.join(' '))))
    const writer = await startInProcess(flags(servers[0]!.url))
    try {
      const series = Array.from({ length: 40 }, (_, i) => i)
      const body = encode1({
        timeseries: series.flatMap(i => [
          { labels: [['__name__', 'kept'], ['i', String(i)]] as Array<[string, string]>, samples: [{ value: 1, timestamp: now }] },
          { labels: [['__name__', 'expired'], ['i', String(i)]] as Array<[string, string]>, samples: [{ value: 1, timestamp: old }] }
        ])
      }).body
      expect((await postWrite(writer.url, compressBody(body))).status).toBe(204)
    } finally {
      await writer.close()
    }
    // Both shards hold old and new rows (40 series of each spread by fingerprint).
    const before = await samplesByShard()
    for (const shard of before) expect(shard.map(r => r.split(' ')[0])).toEqual(['0', '1'])

    // A process given only the second server's URL prunes both shards.
    const pruner = await startInProcess(flags(servers[1]!.url, ['--retention', '30d']))
    try {
      const after = await samplesByShard()
      for (const [k, shard] of after.entries()) expect(shard).toEqual(before[k]!.filter(r => r.startsWith('0 ')))
      expect(await rows(servers[0]!, `SELECT DISTINCT metric_name FROM ${db}.prom_series`)).toEqual([['kept']])
    } finally {
      await pruner.close()
    }
  }, 120_000)

  it('ZooKeeper down at start: not ready, 503 and a log line naming ZooKeeper, no tables behind its back; ON CLUSTER once it is back', async () => {
    const db = 'zk_late'
    const { logger, lines } = captureLogger()
    await zk.kill()
    let service: Awaited<ReturnType<typeof startInProcess>> | undefined
    try {
      service = await startInProcess(['--sink', 'clickhouse', '--clickhouse-url', servers[0]!.url, '--clickhouse-url', servers[1]!.url,
        '--clickhouse-database', db, '--clickhouse-cluster', CLUSTER, '--clickhouse-flush-interval', '50ms'], { logger })
      // The servers' config has ZooKeeper, so the sink wants ON CLUSTER and waits for ZooKeeper.
      expect(service.ready()).toBe(false)
      expect((await fetch(`${service.url}/readyz`)).status).toBe(503)
      const body = compressBody(encode1({ timeseries: [{ labels: [['__name__', 'zk_late_metric']], samples: [{ value: 7, timestamp: Date.UTC(2025, 6, 1) }] }] }).body)
      const refused = await postWrite(service.url, body)
      expect(refused.status).toBe(503)
      expect(refused.headers['retry-after']).toBeDefined()
      expect(lines.map(l => l.msg)).toContain('ClickHouse cluster with ZooKeeper: creating the tables ON CLUSTER (distributed DDL)')
      expect(lines.some(l => (l.err ?? '').includes(`ClickHouse cluster ${CLUSTER}: the servers have ZooKeeper configured but cannot reach it`))).toBe(true)
      // Not created per server instead: neither server has the database.
      for (const server of servers) expect(await rows(server, `SELECT count() FROM system.databases WHERE name = '${db}'`)).toEqual([['0']])

      await zk.restart()
      // Bounded wait for the sink's next attempt (its backoff is at most 10 s) and ClickHouse's new ZooKeeper session.
      for (let i = 0; i < 600 && !service.ready(); i++) await new Promise(resolve => setTimeout(resolve, 50))
      expect(service.ready()).toBe(true)
      expect((await fetch(`${service.url}/readyz`)).status).toBe(200)
      for (const server of servers) expect(await tablesOf(server, db)).toEqual(expectedTables)
      expect((await ddlTasks(db)).every(t => ON_CLUSTER.test(t.query) && t.finished === 2)).toBe(true)
      expect((await postWrite(service.url, body)).status).toBe(204)
      expect(await rows(servers[1]!, `SELECT count(), sum(value) FROM ${db}.prom_samples`)).toEqual([['1', '7']])
    } finally {
      await service?.close()
      await zk.restart().catch(() => { /* running already */ })
    }
  }, 120_000)

  const clientOf = (urls: string[], settings: Record<string, string> = {}): ClickHouseClient =>
    new ClickHouseClient({ urls, user: 'default', password: '', timeoutMs: 30_000, settings })

  it('servers that disagree (one with ZooKeeper, one without) are refused, naming the one without', async () => {
    const plain = await startClickHouse()
    const urls = [servers[0]!.url, plain.url]
    const client = clientOf(urls)
    try {
      expect(await clusterDdlWay(clientOf([servers[0]!.url, servers[1]!.url]), [], CLUSTER)).toBe('on-cluster')
      expect(await clusterDdlWay(clientOf([plain.url]), [plain.url], CLUSTER)).toBe('per-server')
      await expect(clusterDdlWay(client, urls, CLUSTER)).rejects.toThrow(`ClickHouse cluster ${CLUSTER}: some servers have ZooKeeper configured and some not (${plain.url} have not)`)
    } finally {
      await client.close()
      await plain.stop()
    }
  }, 60_000)

  it('a server of the cluster down: ON CLUSTER gives up after distributed_ddl_task_timeout saying so; the task waits in ZooKeeper and the server runs it once back', async () => {
    // Depends on time: distributed_ddl_task_timeout is 2 s here (the sink's is 20 s), how long the
    // server that took the statement waits for the stopped one.
    const db = 'zk_down_shard'
    const urls = [servers[0]!.url]
    const client = clientOf(urls, { distributed_ddl_task_timeout: '2' })
    const ddl = ddlFor('18.16.1', { database: db, prefix: 'prom_' }, 0, CLUSTER)
    const { logger } = captureLogger()
    const databaseOn = async (server: ClickHouse): Promise<string> => (await rows(server, `SELECT count() FROM system.databases WHERE name = '${db}'`))[0]![0]!
    try {
      await servers[1]!.kill()
      await expect(createClusterTables(client, ddl, { urls, logger, sink: 'clickhouse' }))
        .rejects.toThrow(`ClickHouse cluster ${CLUSTER}: not every server of the cluster created the tables within distributed_ddl_task_timeout`)
      // The server that is up ran the first statement (CREATE DATABASE); the other runs it once back.
      expect(await databaseOn(servers[0]!)).toBe('1')
    } finally {
      await servers[1]!.restart()
    }
    try {
      for (let i = 0; i < 300 && await databaseOn(servers[1]!) !== '1'; i++) await new Promise(resolve => setTimeout(resolve, 50)) // bounded: 15 s
      expect(await databaseOn(servers[1]!)).toBe('1')
      // Tried again (as the sink does at its next attempt): everything ON CLUSTER, on both.
      expect(await createClusterTables(client, ddl, { urls, logger, sink: 'clickhouse' })).toBe('on-cluster')
      for (const server of servers) expect(await tablesOf(server, db)).toEqual(expectedTables)
    } finally {
      await client.close()
    }
  }, 90_000)
})
