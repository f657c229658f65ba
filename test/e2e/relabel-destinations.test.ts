/**
 * Relabeling rules before every sink and per forward destination, against the real process: global
 * rules (relabel_configs) apply to what every destination gets, and each forward-destinations entry's
 * own relabel_configs to what that destination gets, so two destinations receive two different
 * outputs of one request. Destinations are two fault destinations of our own (real HTTP on loopback,
 * answering 204), which decode what they accept. A series left without __name__ is dropped and
 * counted.
 */
import { writeFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { compressBody, encodeRequest2, encodeWriteRequest1, type TimeSeries1 } from '../fixtures/encode.js'
import { scrapeMetrics, sumOf } from '../helpers/exposition.js'
import { startFaultDestination, type FaultDestination } from '../helpers/fault-destination.js'
import { postWrite } from '../helpers/remote-write.js'
import { startServiceProcess, type ServiceProcess } from '../helpers/service-process.js'
import { removeTempDirs, tempDir } from '../sinks/duckdb/helpers.js'

let running: ServiceProcess[] = []
let destinations: FaultDestination[] = []
afterEach(async () => {
  await Promise.all(running.map(p => p.stop('SIGKILL')))
  await Promise.all(destinations.map(d => d.close()))
  running = []
  destinations = []
})
afterAll(removeTempDirs)

const T0 = 1_700_000_000_000

function ts (labels: Array<[string, string]>, k: number): TimeSeries1 {
  return { labels, samples: [{ value: k, timestamp: T0 + k }] }
}

/** One request: prod and dev series of two metrics, a noisy one, and one the global rules leave nameless. */
function request (k: number): TimeSeries1[] {
  return [
    ts([['__name__', 'http_requests_total'], ['env', 'prod'], ['pod', 'web-1'], ['team', 'a']], k),
    ts([['__name__', 'http_requests_total'], ['env', 'dev'], ['pod', 'web-2'], ['team', 'b']], k),
    ts([['__name__', 'go_gc_duration_seconds'], ['env', 'prod'], ['pod', 'web-1']], k),
    ts([['__name__', 'nameless_metric'], ['env', 'prod']], k)
  ]
}

describe.each(['1.0', '2.0'] as const)('per-destination relabel_configs, Remote Write %s', version => {
  it('gives each destination its own rules\' output, after the global rules', { timeout: 60_000 }, async () => {
    const prod = await startFaultDestination()
    const all = await startFaultDestination()
    destinations.push(prod, all)
    const dir = tempDir()
    const config = join(dir, 'config.yaml')
    writeFileSync(config, `sink: forward
data-dir: ${JSON.stringify(join(dir, 'data'))}
relabel_configs:
  - source_labels: [__name__]
    regex: go_gc_.*
    action: drop
  - regex: pod
    action: labeldrop
  - source_labels: [__name__]
    regex: nameless_.*
    target_label: __name__
    replacement: ''
forward-destinations:
  - url: ${prod.url}
    name: prod-only
    relabel_configs:
      - source_labels: [env]
        regex: prod
        action: keep
      - regex: team
        action: labeldrop
  - url: ${all.url}
    name: everything
`)
    const p = await startServiceProcess(['--threads', '2', '--config', config])
    running.push(p)
    for (let k = 0; k < 3; k++) {
      const body = compressBody(version === '1.0' ? encodeWriteRequest1({ timeseries: request(k) }) : encodeRequest2({ timeseries: request(k) }))
      expect((await postWrite(p.url, body, { version })).status).toBe(204)
    }
    await prod.waitForAccepted(3)
    await all.waitForAccepted(6)
    expect(prod.accepted).toEqual([0, 1, 2].map(k => `http_requests_total{env="prod"} @ ${T0 + k}`))
    expect([...all.accepted].sort()).toEqual([0, 1, 2].flatMap(k => [
      `http_requests_total{env="dev",team="b"} @ ${T0 + k}`,
      `http_requests_total{env="prod",team="a"} @ ${T0 + k}`
    ]).sort())
    const m = await scrapeMetrics(p.url)
    // The nameless series: dropped by the global rules in the decode workers, its samples counted exactly.
    expect(sumOf(m, 'prom_ingest_relabel_samples_dropped_total', { reason: 'no_name' })).toBe(3)
    expect(sumOf(m, 'prom_ingest_relabel_series_dropped_total', { reason: 'no_name' })).toBeGreaterThanOrEqual(1)
    expect(sumOf(m, 'prom_ingest_relabel_samples_dropped_total', { reason: 'rule' })).toBe(3)
    // prod-only's cache dropped the dev series (one series, one cache).
    expect(sumOf(m, 'prom_ingest_relabel_series_dropped_total', { reason: 'rule' })).toBeGreaterThanOrEqual(2)
  })

  it('in shard mode, sends each series to one destination, through that destination\'s own rules', { timeout: 60_000 }, async () => {
    const trimmed = await startFaultDestination()
    const plain = await startFaultDestination()
    destinations.push(trimmed, plain)
    const dir = tempDir()
    const config = join(dir, 'config.yaml')
    writeFileSync(config, `sink: forward
forward-shard: true
data-dir: ${JSON.stringify(join(dir, 'data'))}
forward-destinations:
  - url: ${trimmed.url}
    name: trimmed
    relabel_configs:
      - regex: team
        action: labeldrop
  - url: ${plain.url}
    name: plain
`)
    const p = await startServiceProcess(['--threads', '2', '--config', config])
    running.push(p)
    const series = Array.from({ length: 40 }, (_, i) => ts([['__name__', 'shard_test'], ['i', String(i)], ['team', 'x']], i))
    const body = compressBody(version === '1.0' ? encodeWriteRequest1({ timeseries: series }) : encodeRequest2({ timeseries: series }))
    expect((await postWrite(p.url, body, { version })).status).toBe(204)
    // Both destinations answer 204 at once, so the 40 samples arrive within the bound or never.
    for (let k = 0; k < 300 && trimmed.accepted.length + plain.accepted.length < series.length; k++) await sleep(100)
    const index = (key: string): number => Number(/i="(\d+)"/.exec(key)?.[1])
    // Every series exactly once, at one destination; the trimmed one's without the label its rules drop.
    expect([...trimmed.accepted, ...plain.accepted].map(index).sort((a, b) => a - b)).toEqual(series.map((_, i) => i))
    expect(trimmed.accepted.length, 'the rendezvous hash gave trimmed a share').toBeGreaterThan(0)
    expect(plain.accepted.length, 'the rendezvous hash gave plain a share').toBeGreaterThan(0)
    for (const key of trimmed.accepted) expect(key).toMatch(/^shard_test\{i="\d+"\} @ /)
    for (const key of plain.accepted) expect(key).toMatch(/^shard_test\{i="\d+",team="x"\} @ /)
  })
})
