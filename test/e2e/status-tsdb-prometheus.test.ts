/**
 * /api/v1/status/tsdb against Prometheus 2.42's (differential): both are sent the same series set by
 * remote write, then both are asked. Compared:
 * - headStats.numSeries and headStats.numLabelPairs: the same numbers;
 * - seriesCountByMetricName, labelValueCountByLabelName, memoryInBytesByLabelName and
 *   seriesCountByLabelValuePair: the same field names, the same top 10 (entries strictly above the
 *   10th value are the same names and numbers; at the 10th value Prometheus picks among ties in map
 *   order, so there only the numbers are compared).
 * Not compared: headStats.chunkCount, minTime and maxTime. Prometheus counts its head chunks and the
 * samples' own timestamps; prom-ingest keeps no chunks (0) and its index knows no sample times, so it
 * gives the arrival times of the first and last stored samples (docs/status-page.md).
 * Skipped, saying so, where /usr/bin/prometheus is missing.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import { afterAll, describe, expect, it } from 'vitest'
import { compressBody, encodeWriteRequest1 } from '../fixtures/encode.js'
import { available, PROMETHEUS, startPrometheusReceiver, type Peer } from '../helpers/peers.js'
import { postWrite } from '../helpers/remote-write.js'
import { startServiceProcess, type ServiceProcess } from '../helpers/service-process.js'
import { asTimeSeries, statusSeries, type LabelSet } from '../helpers/status-series.js'

const hasPrometheus = available(PROMETHEUS)
if (!hasPrometheus) console.warn(`status-tsdb-prometheus: ${PROMETHEUS} is missing, the differential test is skipped (apt-get install prometheus)`)

type Entry = { name: string, value: number }
interface TsdbAnswer {
  status: string
  data: {
    headStats: { numSeries: number, numLabelPairs: number, chunkCount: number, minTime: number, maxTime: number }
    seriesCountByMetricName: Entry[]
    labelValueCountByLabelName: Entry[]
    memoryInBytesByLabelName: Entry[]
    seriesCountByLabelValuePair: Entry[]
  }
}

/** The series set: the status tests' set, and more names and values (multi-byte ones too), as sorted label sets. */
function seriesSet (): LabelSet[] {
  const out = statusSeries('tsdb_diff')
  for (let k = 0; k < 40; k++) {
    const labels: LabelSet = [['__name__', `wide_${k % 7}`], ['code', String(200 + (k % 5))], ['path', `/api/ü/日本/${k % 13}`], ['pod', `pod-${k}`]]
    if (k % 3 === 0) labels.push(['zone', `z${k % 4}`])
    out.push(labels.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)))
  }
  return out
}

/** Same top list, ties at the cut aside (see the file comment). */
function expectSameTop (field: string, ours: Entry[], theirs: Entry[]): void {
  const sorted = [...theirs].sort((a, b) => b.value - a.value)
  expect(ours.map(e => e.value), field).toEqual(sorted.map(e => e.value))
  const cut = sorted[sorted.length - 1]?.value ?? 0
  const above = (l: Entry[]): string[] => l.filter(e => e.value > cut).map(e => `${e.name} ${e.value}`).sort()
  expect(above(ours), field).toEqual(above(sorted))
}

describe.runIf(hasPrometheus)('/api/v1/status/tsdb against Prometheus 2.42', () => {
  const dirs: string[] = []
  let prom: Peer | undefined
  let service: ServiceProcess | undefined
  afterAll(async () => {
    await prom?.stop()
    await service?.stop()
    for (const d of dirs) rmSync(d, { recursive: true, force: true })
  })

  it('gives the same fields and the same numbers for the same series', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'prom-ingest-tsdb-'))
    dirs.push(dir)
    const config = join(dir, 'prometheus.yml')
    writeFileSync(config, 'global:\n  scrape_interval: 1m\n')
    prom = await startPrometheusReceiver(join(dir, 'tsdb'), config)
    service = await startServiceProcess(['--sink', 'discard', '--threads', '1'])
    const sets = seriesSet()
    const body = compressBody(encodeWriteRequest1({ timeseries: asTimeSeries(sets, Date.now()) }))
    expect((await postWrite(`${prom.url}/api/v1/write`, body)).status).toBe(204)
    expect((await postWrite(service.url, body)).status).toBe(204)

    const ask = async (url: string): Promise<TsdbAnswer> => {
      const res = await request(`${url}/api/v1/status/tsdb`)
      expect(res.statusCode).toBe(200)
      return await res.body.json() as TsdbAnswer
    }
    const theirs = await ask(prom.url)
    const ours = await ask(service.url)
    expect(ours.status).toBe(theirs.status)
    for (const key of Object.keys(theirs.data)) expect(Object.keys(ours.data), key).toContain(key)
    for (const key of Object.keys(theirs.data.headStats)) expect(Object.keys(ours.data.headStats), key).toContain(key)
    expect(theirs.data.headStats.numSeries).toBe(sets.length)
    expect(ours.data.headStats.numSeries).toBe(theirs.data.headStats.numSeries)
    expect(ours.data.headStats.numLabelPairs).toBe(theirs.data.headStats.numLabelPairs)
    for (const field of ['seriesCountByMetricName', 'labelValueCountByLabelName', 'memoryInBytesByLabelName', 'seriesCountByLabelValuePair'] as const) {
      expect(theirs.data[field].length, field).toBeGreaterThan(0)
      expectSameTop(field, ours.data[field], theirs.data[field])
    }
  }, 120_000)
})
