/**
 * `--clickhouse-cluster`: two real ClickHouse 18.16 servers on free loopback ports form a two-shard
 * cluster (remote_servers in both configs, no ZooKeeper: the sink creates the local and Distributed
 * tables on each server itself), and prom-ingest writes into the Distributed tables. Skips at run
 * time, naming the binary, when clickhouse-server is not installed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../../../bench/lib/free-port.js'
import { encodeLabels } from '../../../src/series/labels.js'
import { fingerprintBigInt, tenantPrefix } from '../../../src/sinks/clickhouse/fingerprint.js'
import { compressBody, encode1, type Histogram, type LabelPair } from '../../fixtures/encode.js'
import { CLICKHOUSE_SERVER, clickhouseAvailable, startClickHouse, type ClickHouse } from '../../helpers/clickhouse.js'
import { postWrite } from '../../helpers/remote-write.js'
import { startInProcess } from '../../helpers/service-in-process.js'

const present = clickhouseAvailable()
if (!present) console.warn(`skipping the ClickHouse cluster test: ${CLICKHOUSE_SERVER} is not installed`)

const BASE = Date.UTC(2025, 6, 1)
const CLUSTER = 'two_shards'

/** The remote_servers section both servers carry: shard 1 is the first server, shard 2 the second. */
function remoteServers (tcpPorts: number[]): string {
  const shards = tcpPorts.map(p => `<shard><replica><host>127.0.0.1</host><port>${p}</port></replica></shard>`).join('')
  return `<remote_servers><${CLUSTER}>${shards}</${CLUSTER}></remote_servers>`
}

describe.runIf(present)('ClickHouse sink on a two-shard cluster of ClickHouse 18.16 servers', () => {
  const servers: ClickHouse[] = []
  beforeAll(async () => {
    const tcpPorts = [await freePort(), await freePort()]
    for (const tcpPort of tcpPorts) servers.push(await startClickHouse({ tcpPort, extraConfig: remoteServers(tcpPorts) }))
  }, 90_000)
  afterAll(async () => { await Promise.all(servers.map(s => s.stop())) })

  const rows = async (server: ClickHouse, sql: string): Promise<string[][]> =>
    (await server.query(sql + ' FORMAT TabSeparated')).split('\n').filter(l => l !== '').map(l => l.split('\t'))

  it('every series on exactly one shard (by fingerprint), and the totals equal what was sent', async () => {
    const db = 'cluster'
    const service = await startInProcess(['--sink', 'clickhouse', '--clickhouse-url', servers[0]!.url, '--clickhouse-url', servers[1]!.url,
      '--clickhouse-database', db, '--clickhouse-cluster', CLUSTER, '--clickhouse-flush-interval', '50ms'])
    const SERIES = 200
    const REQUESTS = 5
    const histogram: Histogram = {
      kind: 'int', count: 1, sum: 1, schema: 0, zeroThreshold: 0, zeroCount: 0, negativeSpans: [], negativeBuckets: [],
      positiveSpans: [{ offset: 0, length: 1 }], positiveBuckets: [1], resetHint: 0, timestamp: BASE, customValues: []
    }
    const labelsOf = (s: number): LabelPair[] => [['__name__', 'sharded'], ['series', String(s)]]
    try {
      for (let k = 0; k < REQUESTS; k++) {
        const body = encode1({
          timeseries: [
            ...Array.from({ length: SERIES }, (_, s) => ({ labels: labelsOf(s), samples: [{ value: s, timestamp: BASE + k }] })),
            { labels: [['__name__', 'sharded_histogram']] as LabelPair[], histograms: [{ ...histogram, timestamp: BASE + k }] }
          ],
          metadata: [{ type: 2, family: 'sharded', help: 'spread over shards', unit: '' }]
        }).body
        expect((await postWrite(service.url, compressBody(body))).status).toBe(204)
      }

      // Through the Distributed tables: everything once.
      expect(await rows(servers[0]!, `SELECT count(), count(DISTINCT fingerprint), sum(value) FROM ${db}.prom_samples`))
        .toEqual([[String(SERIES * REQUESTS), String(SERIES), String(REQUESTS * SERIES * (SERIES - 1) / 2)]])
      expect(await rows(servers[1]!, `SELECT count() FROM ${db}.prom_histograms`)).toEqual([[String(REQUESTS)]])
      expect(await rows(servers[1]!, `SELECT metric_family, help FROM ${db}.prom_metadata`)).toEqual([['sharded', 'spread over shards']])

      // Each server's local tables: shard k (0-based) holds exactly the series whose fingerprint % 2 is k,
      // samples and series rows alike, and the shards add up to what was sent.
      const expected = Array.from({ length: SERIES }, (_, s) => fingerprintBigInt(tenantPrefix(''), encodeLabels(labelsOf(s).map(([n, v]) => [String(n), String(v)]))))
      let total = 0
      for (let k = 0; k < 2; k++) {
        const local = (await rows(servers[k]!, `SELECT toString(fingerprint), count() FROM ${db}.prom_samples_local WHERE fingerprint IN (SELECT fingerprint FROM ${db}.prom_series_local WHERE metric_name = 'sharded') GROUP BY fingerprint ORDER BY fingerprint`))
        const mine = expected.filter(fp => fp % 2n === BigInt(k)).sort((a, b) => a < b ? -1 : a > b ? 1 : 0).map(String)
        expect(mine.length).toBeGreaterThan(0)
        expect(local.map(([fp]) => fp)).toEqual(mine)
        expect(local.every(([, n]) => n === String(REQUESTS))).toBe(true)
        expect((await rows(servers[k]!, `SELECT toString(fingerprint) FROM ${db}.prom_series_local FINAL WHERE metric_name = 'sharded' ORDER BY fingerprint`)).flat()).toEqual(mine)
        total += local.length * REQUESTS
      }
      expect(total).toBe(SERIES * REQUESTS)
    } finally {
      await service.close()
    }
  }, 120_000)
})
