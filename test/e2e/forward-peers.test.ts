/**
 * The forwarder against real peers and real crashes (issue "Forward ... with a durable on-disk queue"):
 * VictoriaMetrics 1.79 as a destination that is stopped for 20 s under load (SIGSTOP) and then holds
 * every acknowledged (series, timestamp); prom-ingest SIGKILLed with a non-empty queue and restarted;
 * two destinations with one dead; Prometheus 2.42's remote-write receiver, which refuses out-of-order
 * samples, gets everything; shard mode sends each series to one destination, the same across restarts.
 *
 * prom-ingest runs as a real process (`dist/`; `npm test` builds it). Retry backoff is shortened with
 * forward-retry-min/max-backoff so that recovery after an outage is quick. The outage test depends on
 * time by design: the destination is stopped for 20 s (the issue's figure) while the load goes on.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { request } from 'undici'
import { afterEach, describe, expect, it } from 'vitest'
import { compressBody, encodeWriteRequest1, type TimeSeries1 } from '../fixtures/encode.js'
import { scrapeMetrics, sumOf } from '../helpers/exposition.js'
import { startFaultDestination } from '../helpers/fault-destination.js'
import { available, exportVictoriaMetrics, freePort, PROMETHEUS, startPrometheusReceiver, startVictoriaMetrics, VICTORIA_METRICS } from '../helpers/peers.js'
import { postWrite } from '../helpers/remote-write.js'
import { startServiceProcess, type ServiceProcess } from '../helpers/service-process.js'

const hasVm = available(VICTORIA_METRICS)
const hasPrometheus = available(PROMETHEUS)
if (!hasVm) console.warn(`forward-peers: ${VICTORIA_METRICS} is missing, the VictoriaMetrics tests are skipped (apt-get install victoria-metrics)`)
if (!hasPrometheus) console.warn(`forward-peers: ${PROMETHEUS} is missing, the Prometheus receiver test is skipped (apt-get install prometheus)`)

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

function tempDir (name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `prom-ingest-${name}-`))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

const FAST_RETRY = ['--forward-retry-min-backoff', '100ms', '--forward-retry-max-backoff', '1s', '--forward-timeout', '2s', '--log-level', 'warn']

async function startIngest (dataDir: string, urls: string[], extra: string[] = []): Promise<ServiceProcess> {
  const s = await startServiceProcess(['--sink', 'forward', '--data-dir', dataDir, ...urls.flatMap(u => ['--forward-url', u]), '--threads', '1', ...FAST_RETRY, ...extra])
  cleanups.push(async () => { await s.stop('SIGKILL') })
  return s
}

/** Request `i` of a load: `series` series of job `job`, one sample each at base + i s. */
function request1 (job: string, series: number, base: number, i: number): { body: Uint8Array, keys: string[] } {
  const ts: TimeSeries1[] = []
  const keys: string[] = []
  const t = base + i * 1000
  for (let k = 0; k < series; k++) {
    ts.push({ labels: [['__name__', 'fwd_metric'], ['instance', `i${k}`], ['job', job]], samples: [{ value: i, timestamp: t }] })
    keys.push(`fwd_metric{instance="i${k}",job="${job}"} @ ${t}`)
  }
  return { body: compressBody(encodeWriteRequest1({ timeseries: ts })), keys }
}

/**
 * Posts requests (each sender its own job, so every series is sent in order, as Prometheus' shards do)
 * until `until()` says stop; returns the keys of every sample that got a 204. Retries what got 503.
 */
async function load (url: string, senders: number, series: number, until: () => boolean, maxRequests = 3000, base = Date.now() - 3_600_000, tenants = false): Promise<string[]> {
  const acknowledged: string[] = []
  // Timestamps stay in the past (one second a request from an hour ago): VictoriaMetrics' export ends at now.
  await Promise.all(Array.from({ length: senders }, async (_, s) => {
    for (let i = 0; i < maxRequests && !until(); i++) {
      const r = request1(`sender${s}`, series, base, i)
      for (let attempt = 0; attempt < 100; attempt++) {
        const a = await postWrite(url, r.body, tenants ? { headers: { 'X-Scope-OrgID': `team-${s}` } } : {})
        if (a.status === 204) { acknowledged.push(...r.keys); break }
        if (a.status !== 503) throw new Error(`unexpected answer ${a.status}: ${a.body}`)
        await sleep(100)
      }
    }
  }))
  return acknowledged
}

async function waitFor (what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(250)
  }
}

function missing (acknowledged: readonly string[], arrived: readonly string[]): string[] {
  const have = new Set(arrived)
  return acknowledged.filter(k => !have.has(k))
}

async function metric (s: ServiceProcess, name: string, match: Record<string, string> = {}): Promise<number> {
  return sumOf(await scrapeMetrics(s.url), name, match)
}

describe.runIf(hasVm)('forwarding to VictoriaMetrics', () => {
  it('loses nothing acknowledged while the destination is stopped for 20 s under load', async () => {
    const vm = await startVictoriaMetrics(tempDir('vm'))
    cleanups.push(() => vm.stop())
    const s = await startIngest(tempDir('gw'), [`${vm.url}/api/v1/write`])
    let phase = 'before'
    const loading = load(s.url, 2, 200, () => phase === 'done')
    await sleep(3000)
    vm.pause()
    phase = 'stopped'
    // Depends on time by design: the outage lasts 20 s while the senders go on.
    await sleep(20_000)
    const queued = await metric(s, 'prom_ingest_forward_queue_records')
    vm.resume()
    phase = 'after'
    await sleep(3000)
    phase = 'done'
    const acknowledged = await loading
    expect(queued).toBeGreaterThan(0) // the outage did hold records back
    let arrived: string[] = []
    try {
      await waitFor('every acknowledged sample at VictoriaMetrics', async () => {
        arrived = await exportVictoriaMetrics(vm, '{__name__="fwd_metric"}')
        return missing(acknowledged, arrived).length === 0
      }, 60_000)
    } catch (err) {
      const scrape = await scrapeMetrics(s.url)
      const lost = missing(acknowledged, arrived)
      throw new Error(`${(err as Error).message}: ${lost.length} of ${acknowledged.length} missing (first ${lost[0]}), queue ${sumOf(scrape, 'prom_ingest_forward_queue_records')} records; logs:\n${s.logs.slice(-20).join('\n')}`)
    }
    // Duplicates are bounded by what was in flight: each retried request may have landed once more.
    const retried = await metric(s, 'prom_ingest_forward_requests_total', { outcome: 'retried' })
    expect(arrived.length - new Set(arrived).size).toBeLessThanOrEqual((retried + 1) * 200)
    expect(await metric(s, 'prom_ingest_forward_samples_total', { outcome: 'dropped' })).toBe(0)
  }, 120_000)

  it('delivers after a SIGKILL with a non-empty queue, once restarted and the destination is up', async () => {
    const port = await freePort()
    const dataDir = tempDir('gw')
    const url = `http://127.0.0.1:${port}/api/v1/write` // nothing listens yet: the destination is down
    const s1 = await startIngest(dataDir, [url])
    let n = 0
    const acknowledged = await load(s1.url, 2, 100, () => n++ >= 30)
    expect(await metric(s1, 'prom_ingest_forward_queue_records')).toBeGreaterThan(0)
    await s1.stop('SIGKILL')
    const vm = await startVictoriaMetrics(tempDir('vm'), port)
    cleanups.push(() => vm.stop())
    const s2 = await startIngest(dataDir, [url])
    await waitFor('every acknowledged sample at VictoriaMetrics after the restart', async () =>
      missing(acknowledged, await exportVictoriaMetrics(vm, '{__name__="fwd_metric"}')).length === 0)
    await waitFor('an empty queue', async () => await metric(s2, 'prom_ingest_forward_queue_records') === 0)
  }, 120_000)

  it('sends everything to the live destination while another is dead', async () => {
    const vm = await startVictoriaMetrics(tempDir('vm'))
    cleanups.push(() => vm.stop())
    const dead = `http://127.0.0.1:${await freePort()}/api/v1/write`
    const s = await startIngest(tempDir('gw'), [dead, `${vm.url}/api/v1/write`])
    let n = 0
    const acknowledged = await load(s.url, 2, 100, () => n++ >= 40)
    await waitFor('every acknowledged sample at the live destination', async () =>
      missing(acknowledged, await exportVictoriaMetrics(vm, '{__name__="fwd_metric"}')).length === 0)
    const scrape = await scrapeMetrics(s.url)
    const live = sumOf(scrape, 'prom_ingest_forward_queue_records', { destination: `127.0.0.1_${vm.port}_api_v1_write` })
    const stalled = sumOf(scrape, 'prom_ingest_forward_queue_records', { destination: `127.0.0.1_${dead.split(':')[2]!.split('/')[0]!}_api_v1_write` })
    expect(live).toBe(0)
    expect(stalled).toBe(40)
    // /readyz stays ready while a destination is down: the queue absorbs it.
    const ready = await request(`${s.url}/readyz`)
    await ready.body.dump()
    expect(ready.statusCode).toBe(200)
  }, 120_000)
})

describe.runIf(hasPrometheus)('forwarding to Prometheus 2.42', () => {
  /** Loads prom-ingest in front of a fresh Prometheus; checks every sample arrived and none was refused as out of order. */
  async function everySampleInOrder (extra: string[], tenants: boolean): Promise<void> {
    const dir = tempDir('prom')
    const config = join(dir, 'prometheus.yml')
    writeFileSync(config, 'global:\n  scrape_interval: 1m\n')
    const prom = await startPrometheusReceiver(join(dir, 'tsdb'), config)
    cleanups.push(() => prom.stop())
    const s = await startIngest(tempDir('gw'), [`${prom.url}/api/v1/write`], extra)
    let n = 0
    const acknowledged = await load(s.url, 4, 50, () => n++ >= 120, 30, Date.now() - 60_000, tenants)
    const expected = acknowledged.length
    await waitFor('every sample at Prometheus', async () => {
      const res = await request(`${prom.url}/api/v1/query?query=${encodeURIComponent('sum(count_over_time(fwd_metric[10m]))')}`)
      const j = await res.body.json() as { data: { result: Array<{ value: [number, string] }> } }
      return Number(j.data.result[0]?.value[1] ?? 0) === expected
    })
    expect(await metric(s, 'prom_ingest_forward_samples_total', { outcome: 'dropped' })).toBe(0)
    expect(await metric(s, 'prom_ingest_forward_samples_total', { outcome: 'sent' })).toBe(expected)
    const own = await request(`${prom.url}/metrics`)
    const text = await own.body.text()
    const ooo = /^prometheus_tsdb_out_of_order_samples_total(?:\{[^}]*\})? (\S+)$/m.exec(text)
    expect(Number(ooo?.[1] ?? 0)).toBe(0)
  }

  it('gets every sample, none refused as out of order', async () => {
    await everySampleInOrder([], false)
  }, 120_000)

  it('gets every sample in order with 4 requests in flight (ordered lanes, one tenant per sender)', async () => {
    await everySampleInOrder(['--forward-max-in-flight', '4'], true)
  }, 120_000)

  it('gets every sample in order with 4 requests in flight and a single tenant', async () => {
    await everySampleInOrder(['--forward-max-in-flight', '4'], false)
  }, 120_000)
})

describe('shard mode', () => {
  it('sends each series to exactly one destination, the same one after a restart', async () => {
    const a = await startFaultDestination()
    const b = await startFaultDestination()
    cleanups.push(() => a.close(), () => b.close())
    const dataDir = tempDir('gw')
    const seriesOf = (keys: readonly string[]): Set<string> => new Set(keys.map(k => k.split(' @ ')[0]!))
    const s1 = await startIngest(dataDir, [a.url, b.url], ['--forward-shard'])
    const base = Date.now()
    expect((await postWrite(s1.url, request1('shard', 200, base, 0).body)).status).toBe(204)
    await waitFor('200 samples in all', async () => a.accepted.length + b.accepted.length === 200)
    const firstA = seriesOf(a.accepted)
    const firstB = seriesOf(b.accepted)
    expect(firstA.size + firstB.size).toBe(200)
    expect([...firstA].filter(x => firstB.has(x))).toEqual([])
    // Both get a share (rendezvous hashing spreads 200 series over two destinations).
    expect(firstA.size).toBeGreaterThan(50)
    expect(firstB.size).toBeGreaterThan(50)
    await s1.stop()
    const s2 = await startIngest(dataDir, [a.url, b.url], ['--forward-shard'])
    expect((await postWrite(s2.url, request1('shard', 200, base, 1).body)).status).toBe(204)
    await waitFor('400 samples in all', async () => a.accepted.length + b.accepted.length === 400)
    expect(seriesOf(a.accepted)).toEqual(firstA)
    expect(seriesOf(b.accepted)).toEqual(firstB)
  }, 60_000)
})
