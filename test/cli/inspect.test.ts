/**
 * `prom-ingest inspect`, run in-process on generated bodies (both versions, snappy and raw, found by
 * trying) and on the generated 10k body; errors print their code and exit 1.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { runInspect } from '../../src/cli/inspect.js'
import { compressBody, encodeRequest2, encodeWriteRequest1, staleMarker, type Histogram } from '../fixtures/encode.js'
import { nodeExporterBody } from '../fixtures/node-exporter-body.js'

const dir = mkdtempSync(join(tmpdir(), 'prom-ingest-inspect-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

async function run (...argv: string[]): Promise<{ code: number, out: string, err: string }> {
  let out = ''
  let err = ''
  const code = await runInspect(argv, { out: t => { out += t }, err: t => { err += t } })
  return { code, out, err }
}

function file (name: string, bytes: Uint8Array): string {
  const path = join(dir, name)
  writeFileSync(path, bytes)
  return path
}

const histogram: Histogram = {
  kind: 'int', count: 3, sum: 4.5, schema: 0, zeroThreshold: 0, zeroCount: 1, negativeSpans: [], negativeBuckets: [],
  positiveSpans: [{ offset: 0, length: 2 }], positiveBuckets: [1, 0], resetHint: 0, timestamp: 1_700_000_000_000, customValues: []
}
const up = [['__name__', 'inspect_up'], ['instance', 'a:9100'], ['job', 'node']] as const
const latency = [['__name__', 'inspect_latency_seconds'], ['job', 'api']] as const

const v2Body = encodeRequest2({
  timeseries: [
    { labels: up, samples: [{ value: 1, timestamp: 1_700_000_000_000 }, { value: staleMarker, timestamp: 1_700_000_015_000 }], metadata: { type: 2, help: 'Is it up.', unit: '' } },
    { labels: latency, histograms: [histogram], exemplars: [{ labels: [['trace_id', 'abc']], value: 0.7, timestamp: 1_700_000_000_000 }] }
  ]
})
const v1Body = encodeWriteRequest1({
  timeseries: [{ labels: up, samples: [{ value: -Infinity, timestamp: -5 }] }],
  metadata: [{ type: 1, family: 'inspect_up', help: 'h', unit: '' }]
})

describe('prom-ingest inspect', () => {
  it('reads a snappy RW 2.0 body, finding both the compression and the version, as JSON', async () => {
    const r = await run(file('v2.snappy', compressBody(v2Body)), '--json')
    expect(r.code).toBe(0)
    const doc = JSON.parse(r.out) as { files: Array<Record<string, unknown>> }
    expect(doc.files[0]).toMatchObject({
      compression: 'snappy', version: '2.0', versionDetected: true,
      bytesDecompressed: v2Body.length, series: 2, samples: 2, exemplars: 1, histograms: 1, metadata: 1,
      labelsPerSeries: { min: 2, avg: 2.5, max: 3 }
    })
    expect(doc.files[0]!.firstSeries).toMatchObject([
      { series: 'inspect_up{instance="a:9100",job="node"}', samples: [[1_700_000_000_000, '1'], [1_700_000_015_000, 'stale']] },
      { series: 'inspect_latency_seconds{job="api"}', histograms: [{ kind: 'int', count: 3, sum: '4.5' }], exemplars: [{ labels: '{trace_id="abc"}', value: '0.7' }] }
    ])
  })

  it('reads a raw RW 1.0 body, and prints text', async () => {
    const r = await run(file('v1.pb', v1Body))
    expect(r.code).toBe(0)
    expect(r.out).toContain('Remote Write 1.0 (detected), uncompressed')
    expect(r.out).toContain('series:     1 ')
    expect(r.out).toContain('metadata:   1')
    expect(r.out).toContain('inspect_up{instance="a:9100",job="node"}')
    expect(r.out).toContain('-Inf @-5')
  })

  it('reads an RW 2.0 body as 2.0 even though 1.0 is tried first (found nothing it understood)', async () => {
    const r = await run(file('v2.pb', v2Body), '--json')
    expect(JSON.parse(r.out).files[0]).toMatchObject({ compression: 'none', version: '2.0', series: 2 })
  })

  it('takes the version when given', async () => {
    const r = await run(file('v1b.pb', v1Body), '--version', '1.0', '--json')
    expect(JSON.parse(r.out).files[0]).toMatchObject({ version: '1.0', versionDetected: false, series: 1 })
  })

  it('reads the generated 10k body: its series, samples and labels', async () => {
    const { body, description: d } = nodeExporterBody()
    const tenK = file('10k.pb', body)
    const r = await run(tenK, '--json', '--series', '3')
    expect(r.code).toBe(0)
    const f = JSON.parse(r.out).files[0]
    expect(f).toMatchObject({ compression: 'none', version: '1.0', bytesIn: d.bytes, bytesDecompressed: d.bytes, series: d.series, samples: d.samples, exemplars: 0, histograms: 0, metadata: 0 })
    expect(f.labelsPerSeries.avg * d.series).toBeCloseTo(d.labels, 6)
    expect(f.firstSeries).toHaveLength(3)
    const t = await run(tenK, '--series', '2')
    expect(t.out).toContain('labels per series: min ')
    expect(t.out).toContain(`avg ${(d.labels / d.series).toFixed(2)}`)
    expect(t.out).toContain('first 2 series:')
  })

  it('several files: each reported; a damaged one prints its error code and makes the exit code 1', async () => {
    const damaged = compressBody(v2Body).slice(0, 20)
    const r = await run(file('ok.pb', v1Body), file('damaged.snappy', damaged))
    expect(r.code).toBe(1)
    expect(r.out).toContain('inspect_up')
    expect(r.err).toMatch(/damaged\.snappy: snappy_malformed: /)
    const j = await run(file('damaged2.snappy', damaged), '--json')
    expect(j.code).toBe(1)
    expect(JSON.parse(j.out).files[0].error.code).toBe('snappy_malformed')
  })

  it('an invalid series is an error of the body: code and message', async () => {
    const bad = encodeWriteRequest1({ timeseries: [{ labels: [['job', 'x']], samples: [{ value: 1, timestamp: 1 }] }] })
    const r = await run(file('bad.pb', bad), '--version', '1.0')
    expect(r.code).toBe(1)
    expect(r.err).toMatch(/bad\.pb: metric_name_missing: series 1 /)
  })

  it('a missing file, bad options and --help', async () => {
    expect((await run(join(dir, 'nope.pb'))).err).toContain('ENOENT')
    expect((await run()).code).toBe(2)
    expect((await run('x', '--version', '3')).code).toBe(2)
    expect((await run('x', '--series', '-1')).code).toBe(2)
    const help = await run('--help')
    expect(help.code).toBe(0)
    expect(help.out).toContain('Usage: prom-ingest inspect FILE...')
  })
})
