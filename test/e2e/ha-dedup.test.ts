/**
 * HA-pair deduplication against the real process: two senders are replicas a and b of one cluster.
 * Only a is stored and b gets 202 with nothing written; the stored series carry no __replica__ label;
 * once a stops, b takes over after the failover timeout; no timestamp is stored twice.
 *
 * This test depends on time, because the feature does: the failover timeout is set to 2 s (the
 * default is 30 s) and b keeps sending every 200 ms until it is elected (a bounded loop). The one
 * timing assertion is a lower bound the service guarantees: b cannot be elected before a has been
 * silent for the timeout.
 */
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { compressBody, encodeRequest2, encodeWriteRequest1 } from '../fixtures/encode.js'
import { scrapeMetrics, sumOf } from '../helpers/exposition.js'
import { startFaultDestination } from '../helpers/fault-destination.js'
import { postWrite, type RemoteWriteVersion } from '../helpers/remote-write.js'
import { startServiceProcess, type ServiceProcess } from '../helpers/service-process.js'
import { ensureWorkerBuilt, removeTempDirs, tempDir } from '../sinks/duckdb/helpers.js'
import { queryRows } from '../helpers/store-query.js'

let running: ServiceProcess[] = []
afterEach(async () => {
  await Promise.all(running.map(p => p.stop('SIGKILL')))
  running = []
})
afterAll(removeTempDirs)

const FAILOVER_MS = 2000
const T0 = 1_700_000_000_000

async function metric (p: ServiceProcess, name: string, labels: Record<string, string> = {}): Promise<number> {
  return sumOf(await scrapeMetrics(p.url), name, labels)
}

async function query (p: ServiceProcess, sql: string): Promise<Array<Record<string, unknown>>> {
  return await queryRows(p.url, sql)
}

/** One scrape of replica `replica`: two series, value = the replica's number (a 1, b 2). */
function scrape (version: RemoteWriteVersion, replica: string, ts: number): Uint8Array {
  const value = replica === 'a' ? 1 : 2
  const timeseries = ['x', 'y'].map(instance => ({
    labels: [['__name__', 'up'], ['__replica__', replica], ['cluster', 'eu-1'], ['instance', instance]] as const,
    samples: [{ value, timestamp: ts }]
  }))
  return compressBody(version === '1.0' ? encodeWriteRequest1({ timeseries }) : encodeRequest2({ timeseries }))
}

describe.each(['1.0', '2.0'] as const)('HA deduplication, Remote Write %s', version => {
  it('stores one replica, answers the other 202, fails over after the timeout, stores no sample twice', { timeout: 60_000 }, async () => {
    ensureWorkerBuilt()
    const p = await startServiceProcess(['--threads', '1', '--commit-interval', '5ms', '--data-dir', tempDir(), '--ha-dedup', '--ha-failover-timeout', `${FAILOVER_MS}ms`])
    running.push(p)
    const send = (replica: string, ts: number): ReturnType<typeof postWrite> => postWrite(p.url, scrape(version, replica, ts), { version, headers: { 'X-Scope-OrgID': 'team' } })

    // Both replicas scrape every second; a sent first and is elected.
    let ts = T0
    let lastOfA = 0
    for (let k = 0; k < 5; k++, ts += 1000) {
      lastOfA = performance.now()
      expect((await send('a', ts)).status).toBe(204)
      const b = await send('b', ts + 10)
      expect(b.status).toBe(202)
      if (version === '2.0') expect(b.headers['x-prometheus-remote-write-samples-written']).toBe('0')
    }
    // a stops; b keeps sending until it is elected (bounded: 100 x 200 ms).
    let tookOverAt = 0
    const bStored: number[] = []
    for (let k = 0; k < 100 && tookOverAt === 0; k++, ts += 200) {
      const status = (await send('b', ts)).status
      // Taken after the answer: the service saw a's last request after lastOfA and b's before now, so
      // now - lastOfA bounds its silence from above and must reach the timeout.
      const answered = performance.now()
      expect([202, 204]).toContain(status)
      if (status === 204) { tookOverAt = answered; bStored.push(ts) } else await sleep(200)
    }
    expect(tookOverAt, 'b was elected').toBeGreaterThan(0)
    expect(tookOverAt - lastOfA).toBeGreaterThanOrEqual(FAILOVER_MS)
    // b is elected now, and a, back, is the one deduplicated.
    for (let k = 0; k < 3; k++, ts += 1000) {
      expect((await send('b', ts)).status).toBe(204)
      bStored.push(ts)
      expect((await send('a', ts + 10)).status).toBe(202)
    }

    const series = await query(p, "SELECT labels::VARCHAR AS labels FROM series WHERE metric = 'up' AND tenant = 'team' ORDER BY labels::VARCHAR")
    expect(series).toHaveLength(2)
    for (const s of series) {
      expect(String(s.labels)).not.toContain('__replica__')
      expect(String(s.labels)).toContain('eu-1')
    }
    const rows = await query(p, "SELECT r.labels['instance'] AS instance, epoch_ms(s.ts)::BIGINT AS ts, s.value AS value FROM samples s JOIN series r ON s.series_id = r.id WHERE r.metric = 'up' ORDER BY instance, ts")
    for (const instance of ['x', 'y']) {
      const mine = rows.filter(r => r.instance === instance)
      const times = mine.map(r => Number(r.ts))
      expect(new Set(times).size, 'no timestamp stored twice').toBe(times.length)
      // a's five scrapes (value 1), then only b's accepted ones (value 2).
      expect(mine.filter(r => r.value === 1).map(r => Number(r.ts))).toEqual([0, 1, 2, 3, 4].map(k => T0 + k * 1000))
      expect(mine.filter(r => r.value === 2).map(r => Number(r.ts))).toEqual(bStored)
    }
    expect(await metric(p, 'prom_ingest_ha_dedup_requests_total', { decision: 'failover' })).toBe(1)
    expect(await metric(p, 'prom_ingest_ha_dedup_requests_total', { decision: 'deduplicated' })).toBeGreaterThanOrEqual(8)
    expect(await metric(p, 'prom_ingest_ha_dedup_deduplicated_samples_total')).toBeGreaterThanOrEqual(16)
  })
})

describe('HA deduplication with forwarding', () => {
  it('forwards the elected replica without __replica__, and nothing of the other', { timeout: 60_000 }, async () => {
    ensureWorkerBuilt()
    const dest = await startFaultDestination()
    try {
      const dir = tempDir()
      const p = await startServiceProcess(['--threads', '1', '--sink', 'forward', '--data-dir', dir, '--forward-url', `${dest.url}/api/v1/write`, '--ha-dedup'])
      running.push(p)
      expect((await postWrite(p.url, scrape('1.0', 'a', T0))).status).toBe(204)
      expect((await postWrite(p.url, scrape('1.0', 'b', T0 + 10))).status).toBe(202)
      expect((await postWrite(p.url, scrape('1.0', 'a', T0 + 1000))).status).toBe(204)
      await dest.waitForAccepted(4)
      // Give a wrongly forwarded b request the same chance to arrive: one more round trip through the queue.
      expect((await postWrite(p.url, scrape('1.0', 'a', T0 + 2000))).status).toBe(204)
      await dest.waitForAccepted(6)
      expect(dest.accepted).toEqual([0, 1000, 2000].flatMap(t => ['x', 'y'].map(i => `up{cluster="eu-1",instance="${i}"} @ ${T0 + t}`)))
    } finally {
      await dest.close()
    }
  })
})

describe('HA deduplication off (the default)', () => {
  it('stores both replicas with their __replica__ label', async () => {
    ensureWorkerBuilt()
    const p = await startServiceProcess(['--threads', '1', '--commit-interval', '5ms', '--data-dir', tempDir()])
    running.push(p)
    expect((await postWrite(p.url, scrape('1.0', 'a', T0))).status).toBe(204)
    expect((await postWrite(p.url, scrape('1.0', 'b', T0))).status).toBe(204)
    const rows = await query(p, "SELECT count(*)::INTEGER AS n FROM series WHERE metric = 'up' AND labels['__replica__'] IS NOT NULL")
    expect(rows).toEqual([{ n: 4 }])
  })
})
