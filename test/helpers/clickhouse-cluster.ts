/**
 * Two real ClickHouse 18.16 servers as a two-shard cluster (test/helpers/clickhouse.ts), for the
 * `--clickhouse-cluster` tests: both configs carry the same remote_servers (shard k is server k), plus
 * whatever else the test gives (a ZooKeeper, test/helpers/zookeeper.ts). `writeAndCheckShards` sends a
 * known load through prom-ingest and checks that every series is on exactly one shard, by fingerprint,
 * and that the shards add up to what was sent.
 */
import { expect } from 'vitest'
import { freePort } from '../../bench/lib/free-port.js'
import { encodeLabels } from '../../src/series/labels.js'
import { fingerprintBigInt, tenantPrefix } from '../../src/sinks/clickhouse/fingerprint.js'
import { compressBody, encode1, type Histogram, type LabelPair } from '../fixtures/encode.js'
import { startClickHouse, type ClickHouse } from './clickhouse.js'
import { postWrite } from './remote-write.js'

/** The remote_servers section every server carries: shard k is server k (by native TCP port). */
export function remoteServers (cluster: string, tcpPorts: readonly number[]): string {
  const shards = tcpPorts.map(p => `<shard><replica><host>127.0.0.1</host><port>${p}</port></replica></shard>`).join('')
  return `<remote_servers><${cluster}>${shards}</${cluster}></remote_servers>`
}

/** Two servers forming `cluster`, each with `extraConfig` too. */
export async function startTwoShards (cluster: string, extraConfig = ''): Promise<ClickHouse[]> {
  const tcpPorts = [await freePort(), await freePort()]
  const servers: ClickHouse[] = []
  try {
    for (const tcpPort of tcpPorts) servers.push(await startClickHouse({ tcpPort, extraConfig: remoteServers(cluster, tcpPorts) + extraConfig }))
  } catch (err) {
    await Promise.all(servers.map(s => s.stop()))
    throw err
  }
  return servers
}

/** The rows of a query, as TabSeparated fields. */
export async function rows (server: ClickHouse, sql: string): Promise<string[][]> {
  return (await server.query(sql + ' FORMAT TabSeparated')).split('\n').filter(l => l !== '').map(l => l.split('\t'))
}

const BASE = Date.UTC(2025, 6, 1)

/**
 * Writes `requests` bodies of `series` series (one sample each, value = series number), a native
 * histogram and a metadata entry through the service at `url`, into the Distributed tables of `db`;
 * then checks, through the Distributed tables, that everything is there once, and on each server's
 * local tables that shard k holds exactly the series whose fingerprint % 2 is k, samples and series
 * rows alike, adding up to what was sent.
 */
export async function writeAndCheckShards (url: string, servers: readonly ClickHouse[], db: string, series = 200, requests = 5): Promise<void> {
  const histogram: Histogram = {
    kind: 'int', count: 1, sum: 1, schema: 0, zeroThreshold: 0, zeroCount: 0, negativeSpans: [], negativeBuckets: [],
    positiveSpans: [{ offset: 0, length: 1 }], positiveBuckets: [1], resetHint: 0, timestamp: BASE, customValues: []
  }
  const labelsOf = (s: number): LabelPair[] => [['__name__', 'sharded'], ['series', String(s)]]
  for (let k = 0; k < requests; k++) {
    const body = encode1({
      timeseries: [
        ...Array.from({ length: series }, (_, s) => ({ labels: labelsOf(s), samples: [{ value: s, timestamp: BASE + k }] })),
        { labels: [['__name__', 'sharded_histogram']] as LabelPair[], histograms: [{ ...histogram, timestamp: BASE + k }] }
      ],
      metadata: [{ type: 2, family: 'sharded', help: 'spread over shards', unit: '' }]
    }).body
    expect((await postWrite(url, compressBody(body))).status).toBe(204)
  }

  // Through the Distributed tables: everything once.
  expect(await rows(servers[0]!, `SELECT count(), count(DISTINCT fingerprint), sum(value) FROM ${db}.prom_samples`))
    .toEqual([[String(series * requests), String(series), String(requests * series * (series - 1) / 2)]])
  expect(await rows(servers[1]!, `SELECT count() FROM ${db}.prom_histograms`)).toEqual([[String(requests)]])
  expect(await rows(servers[1]!, `SELECT metric_family, help FROM ${db}.prom_metadata`)).toEqual([['sharded', 'spread over shards']])

  // Each server's local tables: shard k (0-based) holds exactly the series whose fingerprint % 2 is k.
  const expected = Array.from({ length: series }, (_, s) => fingerprintBigInt(tenantPrefix(''), encodeLabels(labelsOf(s).map(([n, v]) => [String(n), String(v)]))))
  let total = 0
  for (let k = 0; k < 2; k++) {
    const local = await rows(servers[k]!, `SELECT toString(fingerprint), count() FROM ${db}.prom_samples_local WHERE fingerprint IN (SELECT fingerprint FROM ${db}.prom_series_local WHERE metric_name = 'sharded') GROUP BY fingerprint ORDER BY fingerprint`)
    const mine = expected.filter(fp => fp % 2n === BigInt(k)).sort((a, b) => a < b ? -1 : a > b ? 1 : 0).map(String)
    expect(mine.length).toBeGreaterThan(0)
    expect(local.map(([fp]) => fp)).toEqual(mine)
    expect(local.every(([, n]) => n === String(requests))).toBe(true)
    expect((await rows(servers[k]!, `SELECT toString(fingerprint) FROM ${db}.prom_series_local FINAL WHERE metric_name = 'sharded' ORDER BY fingerprint`)).flat()).toEqual(mine)
    total += local.length * requests
  }
  expect(total).toBe(series * requests)
}
