/**
 * The ClickHouse sink against a real ClickHouse 18.16 (started by the test on free loopback ports,
 * test/helpers/clickhouse.ts) and the real service, in-process and as processes (dist/, built by
 * `npm test`). Skips at run time, naming the binary, when clickhouse-server is not installed.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Service } from '../../../src/main.js'
import { encodeLabels } from '../../../src/series/labels.js'
import { fingerprintBigInt, tenantPrefix } from '../../../src/sinks/clickhouse/fingerprint.js'
import { compressBody, encode1, encodeRequest2, floatBits, staleMarker, STALE_NAN_BITS, type Float, type Histogram, type LabelPair } from '../../fixtures/encode.js'
import { CLICKHOUSE_SERVER, clickhouseAvailable, startClickHouse, type ClickHouse } from '../../helpers/clickhouse.js'
import { postWrite, type RemoteWriteVersion } from '../../helpers/remote-write.js'
import { startInProcess } from '../../helpers/service-in-process.js'
import { startServiceProcess, type ServiceProcess } from '../../helpers/service-process.js'

const present = clickhouseAvailable()
if (!present) console.warn(`skipping the ClickHouse sink tests: ${CLICKHOUSE_SERVER} is not installed`)

const BASE = Date.UTC(2025, 6, 1)

async function metricValue (service: Service, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = service.registry.getSingleMetric(name)
  if (metric === undefined) throw new Error(`no metric ${name}`)
  const { values } = await metric.get()
  return values.filter(v => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((a, v) => a + v.value, 0)
}

/**
 * A Float64's bytes as ClickHouse's hex(reinterpretAsString(x)) prints them: little-endian, upper
 * case, trailing zero bytes left out (reinterpretAsString drops them; the width is fixed, so this
 * still names the bits exactly: 0.0 is '').
 */
function hexOf (v: Float): string {
  const b = floatBits(v)
  return Array.from({ length: 8 }, (_, i) => Number((b >> BigInt(8 * i)) & 0xffn).toString(16).padStart(2, '0')).join('').toUpperCase().replace(/(00)+$/, '')
}

describe.runIf(present)('ClickHouse sink on a real ClickHouse 18.16', () => {
  let ch: ClickHouse
  beforeAll(async () => { ch = await startClickHouse() }, 60_000)
  afterAll(async () => { await ch?.stop() })

  const flags = (database: string, more: string[] = []): string[] =>
    ['--sink', 'clickhouse', '--clickhouse-url', ch.url, '--clickhouse-database', database, '--clickhouse-flush-interval', '50ms', ...more]
  const rows = async (sql: string): Promise<string[][]> =>
    (await ch.query(sql + ' FORMAT TabSeparated')).split('\n').filter(l => l !== '').map(l => l.split('\t'))

  it.each(['1.0', '2.0'] as RemoteWriteVersion[])('round trip in Remote Write %s: counts, timestamp sums and value bits (stale markers too)', async version => {
    const db = `rt_${version.replace('.', '_')}`
    const service = await startInProcess(flags(db, ['--tenant-header', 'X-Scope-OrgID']))
    try {
      const values: Float[] = [1.5, -0, staleMarker, Number.NaN, Number.POSITIVE_INFINITY, 1e-300, { bits: 0x7ff8000000000001n }]
      const series = Array.from({ length: 20 }, (_, s) => ({
        labels: [['__name__', 'rt_metric'], ['job', 'j'], ['series', String(s)]] as LabelPair[],
        samples: values.map((value, k) => ({ value, timestamp: BASE + s * 1000 + k }))
      }))
      const body = version === '2.0' ? encodeRequest2({ timeseries: series }) : encode1({ timeseries: series }).body
      const answer = await postWrite(service.url, compressBody(body), { version, headers: { 'x-scope-orgid': 'team-a' } })
      expect(answer.status).toBe(204)

      // Every sample, with its value's bits, by series label.
      const got = await rows(`SELECT s.label_values[indexOf(s.label_names, 'series')] AS series, count(), sum(timestamp_ms),
        groupArray(hex(reinterpretAsString(value))) FROM (SELECT * FROM ${db}.prom_samples ORDER BY timestamp_ms) ANY INNER JOIN
        (SELECT DISTINCT fingerprint, label_names, label_values FROM ${db}.prom_series) AS s USING fingerprint GROUP BY series ORDER BY toUInt32(series)`)
      expect(got.length).toBe(20)
      for (const [s, count, sum, bits] of got) {
        const n = Number(s)
        expect(Number(count)).toBe(values.length)
        expect(Number(sum)).toBe(values.reduce<number>((acc, _, k) => acc + BASE + n * 1000 + k, 0))
        expect(JSON.parse(bits!.replace(/'/g, '"'))).toEqual(values.map(hexOf))
      }
      expect(values.map(floatBits)).toContain(STALE_NAN_BITS)

      // The series table: metric name, labels without __name__, tenant, fingerprint as documented.
      const [row] = await rows(`SELECT DISTINCT toString(fingerprint), metric_name, label_names, label_values, tenant FROM ${db}.prom_series WHERE has(label_values, '3')`)
      const expected = fingerprintBigInt(tenantPrefix('team-a'), encodeLabels([['__name__', 'rt_metric'], ['job', 'j'], ['series', '3']]))
      expect(row).toEqual([expected.toString(), 'rt_metric', "['job','series']", "['j','3']", 'team-a'])
      expect(await metricValue(service, 'prom_ingest_clickhouse_rows_inserted_total', { table: 'samples' })).toBe(20 * values.length)
      expect(await metricValue(service, 'prom_ingest_clickhouse_rows_inserted_total', { table: 'series' })).toBe(20)
    } finally {
      await service.close()
    }
  }, 60_000)

  it.each(['1.0', '2.0'] as RemoteWriteVersion[])('round trip in Remote Write %s: native histograms (both kinds, stale too), exemplars with their labels, metadata', async version => {
    const db = `rt_more_${version.replace('.', '_')}`
    const service = await startInProcess(flags(db, ['--tenant-header', 'X-Scope-OrgID']))
    try {
      const T = BASE + 5000
      const intHistogram: Histogram = {
        kind: 'int', count: 9, sum: 12.5, schema: 1, zeroThreshold: 0.001, zeroCount: 1,
        negativeSpans: [{ offset: -1, length: 1 }], negativeBuckets: [2],
        positiveSpans: [{ offset: 0, length: 2 }, { offset: 1, length: 1 }], positiveBuckets: [1, 2, -1],
        resetHint: 2, timestamp: T, customValues: []
      }
      const floatHistogram: Histogram = {
        kind: 'float', count: 2.5, sum: 0.75, schema: 3, zeroThreshold: 0, zeroCount: 0.5,
        negativeSpans: [], negativeBuckets: [], positiveSpans: [{ offset: 2, length: 2 }], positiveBuckets: [0.5, 1.5],
        resetHint: 3, timestamp: T + 1000, customValues: []
      }
      const staleHistogram: Histogram = {
        kind: 'int', count: 0, sum: staleMarker, schema: 1, zeroThreshold: 0.001, zeroCount: 0,
        negativeSpans: [], negativeBuckets: [], positiveSpans: [], positiveBuckets: [], resetHint: 0, timestamp: T + 2000, customValues: []
      }
      const customHistogram: Histogram = {
        kind: 'float', count: 6, sum: 100, schema: -53, zeroThreshold: 0, zeroCount: 0,
        negativeSpans: [], negativeBuckets: [], positiveSpans: [{ offset: 0, length: 3 }], positiveBuckets: [1, 2, 3],
        resetHint: 0, timestamp: T, customValues: [10, 50]
      }
      const histograms = [intHistogram, floatHistogram, staleHistogram]
      const exemplars = [
        { labels: [['span_id', 's1'], ['trace_id', 'abc']] as LabelPair[], value: 1.5, timestamp: T },
        { labels: [['trace_id', 'def']] as LabelPair[], value: staleMarker, timestamp: T + 1 }
      ]
      const histSeries = { labels: [['__name__', 'rt_hist'], ['job', 'j']] as LabelPair[], histograms }
      const customSeries = { labels: [['__name__', 'rt_custom'], ['job', 'j']] as LabelPair[], histograms: [customHistogram] }
      const exemplarSeries = { labels: [['__name__', 'rt_requests_total'], ['job', 'j']] as LabelPair[], samples: [{ value: 7, timestamp: T }, { value: 8, timestamp: T + 1 }], exemplars }
      const body = version === '2.0'
        ? encodeRequest2({
          timeseries: [
            { ...histSeries, metadata: { type: 3, help: 'a native histogram', unit: 'seconds' } },
            customSeries,
            { ...exemplarSeries, metadata: { type: 1, help: 'requests', unit: '' } }
          ]
        })
        : encode1({
          timeseries: [histSeries, customSeries, exemplarSeries],
          metadata: [{ type: 3, family: 'rt_hist', help: 'a native histogram', unit: 'seconds' }, { type: 1, family: 'rt_requests_total', help: 'requests', unit: '' }]
        }).body
      const answer = await postWrite(service.url, compressBody(body), { version, headers: { 'x-scope-orgid': 'team-b' } })
      expect(answer.status).toBe(204)

      const fp = (labels: LabelPair[]): string => fingerprintBigInt(tenantPrefix('team-b'), encodeLabels(labels.map(([n, v]) => [String(n), String(v)]))).toString()
      // Every histogram, each field as sent: Float64 fields as their bits, arrays as sent (int: deltas).
      const got = await rows(`SELECT toString(fingerprint), timestamp_ms, start_timestamp_ms, kind, hex(reinterpretAsString(count)), hex(reinterpretAsString(sum)), schema,
        hex(reinterpretAsString(zero_threshold)), hex(reinterpretAsString(zero_count)), reset_hint, negative_span_offsets, negative_span_lengths, negative_buckets,
        positive_span_offsets, positive_span_lengths, positive_buckets, custom_values FROM ${db}.prom_histograms ORDER BY timestamp_ms, schema`)
      const arr = (xs: readonly unknown[]): string => `[${xs.map(x => String(x)).join(',')}]`
      const expected = (h: Histogram, labels: LabelPair[]): string[] => [
        fp(labels), String(h.timestamp), '0', h.kind, hexOf(h.count), hexOf(h.sum), String(h.schema), hexOf(h.zeroThreshold), hexOf(h.zeroCount),
        ['unknown', 'yes', 'no', 'gauge'][h.resetHint]!, arr(h.negativeSpans.map(x => x.offset)), arr(h.negativeSpans.map(x => x.length)), arr(h.negativeBuckets),
        arr(h.positiveSpans.map(x => x.offset)), arr(h.positiveSpans.map(x => x.length)), arr(h.positiveBuckets), arr(h.customValues)
      ]
      expect(got).toEqual([
        expected(customHistogram, customSeries.labels), expected(intHistogram, histSeries.labels),
        expected(floatHistogram, histSeries.labels), expected(staleHistogram, histSeries.labels)
      ].sort((a, b) => Number(a[1]) - Number(b[1]) || Number(a[6]) - Number(b[6])))
      expect(got.some(r => r[5] === hexOf(staleMarker))).toBe(true)
      expect(await rows(`SELECT count(), sum(timestamp_ms) FROM ${db}.prom_histograms`)).toEqual([['4', String(3 * T + 1000 + 2000 + T)]])
      // docs/clickhouse.md's histogram query: absolute counts of an int histogram from its deltas.
      expect(await rows(`SELECT s.metric_name, kind, if(kind = 'int', arrayCumSum(positive_buckets), positive_buckets) AS positive_counts
        FROM ${db}.prom_histograms ANY INNER JOIN (SELECT DISTINCT fingerprint, metric_name, label_names, label_values FROM ${db}.prom_series) AS s
        USING fingerprint WHERE timestamp_ms <= ${T + 1000} ORDER BY timestamp_ms, schema`)).toEqual([
        ['rt_custom', 'float', '[1,2,3]'], ['rt_hist', 'int', '[1,3,2]'], ['rt_hist', 'float', '[0.5,1.5]']
      ])

      // Exemplars with their own labels and value bits, under the series' fingerprint.
      expect(await rows(`SELECT toString(fingerprint), timestamp_ms, hex(reinterpretAsString(value)), label_names, label_values FROM ${db}.prom_exemplars ORDER BY timestamp_ms`)).toEqual([
        [fp(exemplarSeries.labels), String(T), hexOf(1.5), "['span_id','trace_id']", "['s1','abc']"],
        [fp(exemplarSeries.labels), String(T + 1), hexOf(staleMarker), "['trace_id']", "['def']"]
      ])
      expect(await rows(`SELECT count(), sum(timestamp_ms) FROM ${db}.prom_samples`)).toEqual([['2', String(2 * T + 1)]])

      // Metadata by family, and a series row for every series (histogram-only ones too).
      expect(await rows(`SELECT tenant, metric_family, type, help, unit FROM ${db}.prom_metadata FINAL ORDER BY metric_family`)).toEqual([
        ['team-b', 'rt_hist', 'histogram', 'a native histogram', 'seconds'],
        ['team-b', 'rt_requests_total', 'counter', 'requests', '']
      ])
      expect(await rows(`SELECT metric_name, toString(fingerprint) FROM ${db}.prom_series FINAL ORDER BY metric_name`)).toEqual([
        ['rt_custom', fp(customSeries.labels)], ['rt_hist', fp(histSeries.labels)], ['rt_requests_total', fp(exemplarSeries.labels)]
      ])
      expect(await metricValue(service, 'prom_ingest_clickhouse_rows_inserted_total', { table: 'histograms' })).toBe(4)
      expect(await metricValue(service, 'prom_ingest_clickhouse_rows_inserted_total', { table: 'exemplars' })).toBe(2)
      expect(await metricValue(service, 'prom_ingest_clickhouse_rows_inserted_total', { table: 'metadata' })).toBe(2)

      // The same metadata again, confirmed already: not written again (an hour later it would be).
      const again = version === '2.0'
        ? encodeRequest2({ timeseries: [{ labels: exemplarSeries.labels, samples: [{ value: 9, timestamp: T + 2 }], metadata: { type: 1, help: 'requests', unit: '' } }] })
        : encode1({ timeseries: [{ labels: exemplarSeries.labels, samples: [{ value: 9, timestamp: T + 2 }] }], metadata: [{ type: 1, family: 'rt_requests_total', help: 'requests', unit: '' }] }).body
      expect((await postWrite(service.url, compressBody(again), { version, headers: { 'x-scope-orgid': 'team-b' } })).status).toBe(204)
      expect(await metricValue(service, 'prom_ingest_clickhouse_rows_inserted_total', { table: 'metadata' })).toBe(2)
      expect(await rows(`SELECT count() FROM ${db}.prom_samples`)).toEqual([['3']])
    } finally {
      await service.close()
    }
  }, 60_000)

  it('18.16 retention: whole day partitions older than retention are dropped at start, newer ones kept', async () => {
    const db = 'retention'
    const now = Date.now()
    const old = Date.UTC(2020, 0, 1, 12)
    const sample = (name: string, timestamp: number): { labels: LabelPair[], samples: Array<{ value: number, timestamp: number }> } => ({ labels: [['__name__', name]], samples: [{ value: 1, timestamp }] })
    const writer = await startInProcess(flags(db))
    try {
      const body = encode1({ timeseries: [sample('old_series', old), sample('new_series', now)] }).body
      expect((await postWrite(writer.url, compressBody(body))).status).toBe(204)
    } finally {
      await writer.close()
    }
    expect(await rows(`SELECT count() FROM ${db}.prom_samples`)).toEqual([['2']])
    const pruner = await startInProcess(flags(db, ['--retention', '30d']))
    try {
      expect(await rows(`SELECT timestamp_ms FROM ${db}.prom_samples`)).toEqual([[String(now)]])
      expect(await rows(`SELECT metric_name FROM ${db}.prom_series`)).toEqual([['new_series']])
    } finally {
      await pruner.close()
    }
  }, 60_000)

  it('with the DuckDB store (--sink duckdb,clickhouse): every request 204 and every sample in ClickHouse, though the store moves the batch ClickHouse borrowed', async () => {
    const db = 'with_duckdb'
    const dataDir = mkdtempSync(join(tmpdir(), 'prom-ingest-ch-duckdb-'))
    const service = await startInProcess(['--sink', 'duckdb,clickhouse', '--data-dir', dataDir, '--clickhouse-url', ch.url, '--clickhouse-database', db, '--clickhouse-flush-interval', '50ms'])
    try {
      for (let k = 0; k < 5; k++) {
        const body = encode1({ timeseries: Array.from({ length: 100 }, (_, i) => ({ labels: [['__name__', 'both'], ['i', String(i)]] as LabelPair[], samples: [{ value: k * 100 + i, timestamp: BASE + k }] })) }).body
        expect((await postWrite(service.url, compressBody(body))).status).toBe(204)
      }
      expect(await rows(`SELECT count(), sum(value), count(DISTINCT fingerprint) FROM ${db}.prom_samples`)).toEqual([['500', String((499 * 500) / 2), '100']])
    } finally {
      await service.close()
      rmSync(dataDir, { recursive: true, force: true })
    }
  }, 60_000)

  it('two prom-ingest processes writing the same series: one fingerprint per series', async () => {
    const db = 'two_processes'
    const procs: ServiceProcess[] = []
    try {
      for (let p = 0; p < 2; p++) procs.push(await startServiceProcess(flags(db, ['--threads', '1', '--log-level', 'warn'])))
      const series = (p: number): Array<{ labels: LabelPair[], samples: Array<{ value: number, timestamp: number }> }> =>
        Array.from({ length: 50 }, (_, s) => ({ labels: [['__name__', 'shared'], ['series', String(s)]] as LabelPair[], samples: [{ value: s, timestamp: BASE + p }] }))
      for (let p = 0; p < 2; p++) {
        // Each process first sees a different series, so process-local ids differ between them.
        const own = { timeseries: [{ labels: [['__name__', 'own'], ['p', String(p)]] as LabelPair[], samples: [{ value: 1, timestamp: BASE }] }, ...(p === 1 ? series(p).reverse() : series(p))] }
        expect((await postWrite(procs[p]!.url, compressBody(encode1(own).body))).status).toBe(204)
      }
      expect(await rows(`SELECT count(DISTINCT fingerprint), count() FROM ${db}.prom_samples WHERE fingerprint IN (SELECT fingerprint FROM ${db}.prom_series WHERE metric_name = 'shared')`)).toEqual([['50', '100']])
      // Each series' two samples (one per process) share its fingerprint.
      expect(await rows(`SELECT count() FROM (SELECT fingerprint, count() AS n FROM ${db}.prom_samples GROUP BY fingerprint HAVING n = 2)`)).toEqual([['50']])
      expect(await rows(`SELECT count(DISTINCT fingerprint), count(DISTINCT label_values) FROM ${db}.prom_series WHERE metric_name = 'shared'`)).toEqual([['50', '50']])
    } finally {
      await Promise.all(procs.map(p => p.stop()))
    }
  }, 90_000)

  it('prom-ingest killed (SIGKILL) under load: every request that got a 204 is stored', async () => {
    const db = 'sigkill'
    const proc = await startServiceProcess(flags(db, ['--threads', '1', '--log-level', 'warn']))
    const PER_REQUEST = 50
    const answers = new Map<string, number>()
    let acked = 0
    let killed: Promise<number | null> | undefined
    const sender = async (s: number): Promise<void> => {
      for (let k = 0; k < 2000 && killed === undefined; k++) { // bounded: at most 2000 requests per sender
        const id = `s${s}-k${k}`
        const body = encode1({ timeseries: Array.from({ length: PER_REQUEST }, (_, i) => ({ labels: [['__name__', 'sigkill_test'], ['request_id', id], ['i', String(i)]] as LabelPair[], samples: [{ value: i, timestamp: BASE + k }] })) }).body
        let status: number
        try { status = (await postWrite(proc.url, compressBody(body))).status } catch { status = 0 }
        answers.set(id, status)
        if (status === 204) acked++
        // Killed while the other senders' requests are in flight.
        if (acked >= 30 && killed === undefined) killed = proc.stop('SIGKILL')
      }
    }
    try {
      await Promise.all(Array.from({ length: 4 }, (_, s) => sender(s)))
      await killed
      expect(killed).toBeDefined()
      const stored = new Map((await rows(`SELECT s.label_values[indexOf(s.label_names, 'request_id')] AS rid, count() FROM (SELECT DISTINCT fingerprint, timestamp_ms FROM ${db}.prom_samples) ANY INNER JOIN (SELECT DISTINCT fingerprint, label_names, label_values FROM ${db}.prom_series) AS s USING fingerprint GROUP BY rid`))
        .map(([id, n]) => [id!, Number(n)]))
      const ackedIds = [...answers].filter(([, st]) => st === 204).map(([id]) => id)
      expect(ackedIds.length).toBeGreaterThanOrEqual(30)
      expect(ackedIds.filter(id => stored.get(id) !== PER_REQUEST)).toEqual([])
    } finally {
      await proc.stop('SIGKILL')
    }
  }, 90_000)

  it('ClickHouse killed under load and restarted: every request that got a 204 is stored', async () => {
    const db = 'kill_restart'
    const service: Service = await startInProcess(flags(db))
    const SENDERS = 4
    const PER_REQUEST = 50
    const answers = new Map<string, number>()
    let acked = 0
    let stop = false
    let killed: Promise<void> | undefined
    let ackedAtKill = -1
    const sender = async (s: number): Promise<void> => {
      for (let k = 0; k < 2000 && !stop; k++) { // bounded: at most 2000 requests per sender
        const id = `s${s}-k${k}`
        const body = encode1({ timeseries: Array.from({ length: PER_REQUEST }, (_, i) => ({ labels: [['__name__', 'kill_test'], ['request_id', id], ['i', String(i)]] as LabelPair[], samples: [{ value: i, timestamp: BASE + k }] })) }).body
        let status: number
        try { status = (await postWrite(service.url, compressBody(body))).status } catch { status = 0 }
        answers.set(id, status)
        if (status === 204) acked++
        if (acked >= 40 && killed === undefined) { ackedAtKill = acked; killed = ch.kill() }
      }
    }
    try {
      const load = Promise.all(Array.from({ length: SENDERS }, (_, s) => sender(s)))
      // Wait (bounded) until the kill happened and writes were refused while ClickHouse was down.
      for (let i = 0; i < 600 && (killed === undefined || ![...answers.values()].some(st => st === 503)); i++) await new Promise(resolve => setTimeout(resolve, 50))
      await killed
      expect([...answers.values()].some(st => st === 503)).toBe(true)
      const ackedWhileDown = acked
      await ch.restart()
      // Wait (bounded) for acknowledgements after the restart, then stop the load.
      for (let i = 0; i < 600 && acked < ackedWhileDown + 40; i++) await new Promise(resolve => setTimeout(resolve, 50))
      stop = true
      await load
      expect(ackedAtKill).toBeGreaterThan(0)
      expect(acked).toBeGreaterThan(ackedWhileDown)
      const stored = new Map((await rows(`SELECT s.label_values[indexOf(s.label_names, 'request_id')] AS rid, count() FROM (SELECT DISTINCT fingerprint, timestamp_ms FROM ${db}.prom_samples) ANY INNER JOIN (SELECT DISTINCT fingerprint, label_names, label_values FROM ${db}.prom_series) AS s USING fingerprint GROUP BY rid`))
        .map(([id, n]) => [id!, Number(n)]))
      const missing = [...answers].filter(([id, st]) => st === 204 && stored.get(id) !== PER_REQUEST).map(([id]) => id)
      expect(missing).toEqual([])
      expect(await metricValue(service, 'prom_ingest_clickhouse_insert_failures_total')).toBeGreaterThan(0)
      expect(await metricValue(service, 'prom_ingest_clickhouse_flushes_total', { result: 'failed' })).toBeGreaterThan(0)
      // Nothing else answered 2xx.
      expect([...answers.values()].every(st => st === 204 || st === 503 || st === 0)).toBe(true)
    } finally {
      stop = true
      await service.close()
    }
  }, 120_000)
})

describe.runIf(present)('ClickHouse sink started before ClickHouse', () => {
  it('waits for ClickHouse: not ready and 503 meanwhile, then ready and storing once the server is up', async () => {
    const late = await startClickHouse({ deferStart: true })
    const service = await startInProcess(['--sink', 'clickhouse', '--clickhouse-url', late.url, '--clickhouse-database', 'late', '--clickhouse-flush-interval', '50ms'])
    try {
      const body = compressBody(encode1({ timeseries: [{ labels: [['__name__', 'late_metric']], samples: [{ value: 1, timestamp: BASE }] }] }).body)
      // The service started although ClickHouse is not there: it listens, says not ready, refuses writes with a retryable 503.
      expect(service.ready()).toBe(false)
      expect((await fetch(`${service.url}/readyz`)).status).toBe(503)
      const refused = await postWrite(service.url, body)
      expect(refused.status).toBe(503)
      expect(refused.headers['retry-after']).toBeDefined()
      await late.restart()
      // Bounded wait for the sink's next connection attempt (its backoff is at most 10 s).
      for (let i = 0; i < 400 && !service.ready(); i++) await new Promise(resolve => setTimeout(resolve, 50))
      expect(service.ready()).toBe(true)
      expect((await fetch(`${service.url}/readyz`)).status).toBe(200)
      expect((await postWrite(service.url, body)).status).toBe(204)
      expect((await late.query('SELECT metric_name, count() FROM late.prom_samples ANY INNER JOIN late.prom_series USING fingerprint GROUP BY metric_name FORMAT TabSeparated')).trim()).toBe('late_metric\t1')
    } finally {
      await service.close()
      await late.stop()
    }
  }, 90_000)
})

describe.runIf(present)('ClickHouse sink and Too many parts', () => {
  it('Too many parts: the flush backs off and takes in the rows waiting behind it; nothing is dropped, every request 204 once stored', async () => {
    // ClickHouse refuses an INSERT into a partition that has 4 active parts; merges are stopped until the test starts them.
    const ch = await startClickHouse({ extraConfig: '<merge_tree><parts_to_delay_insert>4</parts_to_delay_insert><parts_to_throw_insert>4</parts_to_throw_insert></merge_tree>' })
    const db = 'parts'
    const service = await startInProcess(['--sink', 'clickhouse', '--clickhouse-url', ch.url, '--clickhouse-database', db, '--clickhouse-flush-interval', '20ms'])
    const PER_REQUEST = 20
    const send = (k: number): Promise<number> => postWrite(service.url, compressBody(encode1({
      timeseries: Array.from({ length: PER_REQUEST }, (_, i) => ({ labels: [['__name__', 'parts_test'], ['i', String(i)]] as LabelPair[], samples: [{ value: k, timestamp: BASE + k }] }))
    }).body)).then(r => r.status)
    const until = async (what: () => Promise<boolean>): Promise<void> => {
      for (let i = 0; i < 600 && !(await what()); i++) await new Promise(resolve => setTimeout(resolve, 20)) // bounded: 12 s
    }
    try {
      await ch.query('SYSTEM STOP MERGES')
      // One request at a time: one samples part each, up to the limit.
      for (let k = 0; k < 4; k++) expect(await send(k)).toBe(204)
      // The next INSERT is refused (Too many parts): its flush backs off and tries again.
      const stuck = send(4)
      await until(async () => await metricValue(service, 'prom_ingest_clickhouse_insert_failures_total') > 0)
      expect(await metricValue(service, 'prom_ingest_clickhouse_insert_failures_total')).toBeGreaterThan(0)
      // Requests arriving meanwhile join the flush being retried (one part for all of them, later).
      const behind = [5, 6, 7].map(send)
      await until(async () => await metricValue(service, 'prom_ingest_clickhouse_flushes_merged_total') > 0)
      expect(await metricValue(service, 'prom_ingest_clickhouse_flushes_merged_total')).toBeGreaterThan(0)
      await ch.query('SYSTEM START MERGES')
      await ch.query(`OPTIMIZE TABLE ${db}.prom_samples FINAL`)
      expect(await Promise.all([stuck, ...behind])).toEqual([204, 204, 204, 204])
      expect((await ch.query(`SELECT count(), count(DISTINCT timestamp_ms) FROM ${db}.prom_samples FORMAT TabSeparated`)).trim()).toBe(`${8 * PER_REQUEST}\t8`)
      expect(await metricValue(service, 'prom_ingest_clickhouse_flushes_total', { result: 'failed' })).toBe(0)
    } finally {
      await service.close()
      await ch.stop()
    }
  }, 90_000)
})

describe.runIf(present)('ClickHouse sink: series rows before the samples that refer to them', () => {
  it('with two flushes in flight, every sample row was inserted after its series row', async () => {
    const ch = await startClickHouse()
    const db = 'series_first'
    const service = await startInProcess(['--sink', 'clickhouse', '--clickhouse-url', ch.url, '--clickhouse-database', db, '--clickhouse-flush-interval', '50ms'])
    try {
      // Every INSERT into the series table takes 0.3 s more: ClickHouse 18.16 runs a table's views one
      // after another, by name, after writing the table itself, so a_slow_series sleeps before
      // b_series_confirmed copies the fingerprints. b_series_confirmed thus holds only series whose
      // INSERT was about to be confirmed, and the next flush starts while the one before it is still
      // writing series rows, in every wave, whatever the machine's speed.
      await ch.query(`CREATE MATERIALIZED VIEW ${db}.a_slow_series ENGINE = Memory AS SELECT sleep(0.3) AS slept FROM ${db}.prom_series`)
      await ch.query(`CREATE MATERIALIZED VIEW ${db}.b_series_confirmed ENGINE = Memory AS SELECT fingerprint FROM ${db}.prom_series`)
      // A materialized view runs at every INSERT into the samples table, over the rows inserted: it
      // records for each row whether its series row's INSERT had got that far at that moment.
      await ch.query(`CREATE MATERIALIZED VIEW ${db}.sample_check ENGINE = MergeTree ORDER BY tuple() AS
        SELECT fingerprint, fingerprint IN (SELECT fingerprint FROM ${db}.b_series_confirmed) AS series_before FROM ${db}.prom_samples`)
      // A wave: 8 requests at once, each with the same 3,000 series new in this wave (the first request
      // encoded brings their series rows; requests that land in the next flush have samples only).
      const SERIES = 3000
      const SENDERS = 8
      const wave = async (w: number): Promise<number[]> => {
        const timeseries = (r: number): Array<{ labels: LabelPair[], samples: Array<{ value: number, timestamp: number }> }> => Array.from({ length: SERIES }, (_, i) => ({
          labels: [['__name__', 'series_first_test'], ['instance', `host-${i % 97}.example.org:9100`], ['job', 'node'], ['series', String(i)], ['wave', String(w)]] as LabelPair[],
          samples: [{ value: r, timestamp: BASE + SENDERS * w + r }]
        }))
        // The senders start 40 ms apart, so a wave spans several 50 ms flushes rather than one (spreading
        // the load, not waiting for an event: the check below holds at any spacing).
        return await Promise.all(Array.from({ length: SENDERS }, async (_, r) => {
          await new Promise(resolve => setTimeout(resolve, 40 * r))
          return (await postWrite(service.url, compressBody(encode1({ timeseries: timeseries(r) }).body))).status
        }))
      }
      // Until a flush started while the one before it still had series rows to write (and waited
      // for them), at least 3 times; bounded.
      let waves = 0
      for (; waves < 60 && await metricValue(service, 'prom_ingest_clickhouse_flushes_waited_total') < 3; waves++) {
        expect(await wave(waves)).toEqual(new Array(SENDERS).fill(204))
      }
      expect(await metricValue(service, 'prom_ingest_clickhouse_flushes_waited_total')).toBeGreaterThanOrEqual(3)
      const sent = waves * SENDERS * SERIES
      expect((await ch.query(`SELECT count(), countIf(series_before = 0) FROM ${db}.sample_check FORMAT TabSeparated`)).trim()).toBe(`${sent}\t0`)
      expect((await ch.query(`SELECT count() FROM ${db}.prom_samples FORMAT TabSeparated`)).trim()).toBe(String(sent))
    } finally {
      await service.close()
      await ch.stop()
    }
  }, 120_000)
})
