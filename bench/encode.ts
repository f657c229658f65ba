/**
 * Encoder throughput (src/encode/): Remote Write 1.0 and 2.0 bodies (snappy included) built from the row
 * batch of one 10,000-series request, as the forwarder builds them for partial writes, shard mode and
 * conversions. Two batches of the same body: series new in the batch (labels from the batch's own
 * bytes) and series known before (labels from the series index, the steady state of a server).
 * Cases run interleaved; reported: samples/s median and spread over rounds, and 2.0 / 1.0.
 *
 *   npm run build && node dist/bench/encode.js [--rounds 30] [--template FILE]
 */
import { parseArgs } from 'node:util'
import { RowBatch } from '../src/batch/row-batch.js'
import { Decoder } from '../src/decode/decoder.js'
import { resolveDecodeOptions } from '../src/decode/options.js'
import { encodeBatchRw1 } from '../src/encode/rw1-encode.js'
import { encodeBatchRw2 } from '../src/encode/rw2-encode.js'
import { snappyCompress } from '../src/encode/snappy-encode.js'
import { SeriesIndex } from '../src/series/series-index.js'
import { templateBody } from './lib/template-body.js'
import { fmt, interleave, printJson, printTable, quantile } from './lib/stats.js'

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '30' }, template: { type: 'string' } } })
const rounds = Number(values.rounds)
const template = templateBody(values.template)
const compressed = snappyCompress(template.body)

const decoder = new Decoder(SeriesIndex.create({ maxSeries: 1 << 18 }))
const batchOf = (): RowBatch => {
  const { buffer, firstError } = decoder.decode(compressed, resolveDecodeOptions({ version: '1.0', tenant: '', partial: true, strictUtf8: false }))
  return new RowBatch(buffer, { tenant: '', firstError }, decoder.index)
}
const fresh = batchOf() // every series new in this batch
const known = batchOf() // every series known before: labels come from the index
const samples = fresh.sampleCount + fresh.histogramCount

const times = interleave([
  { name: '1.0 new series', run: () => encodeBatchRw1(fresh) },
  { name: '2.0 new series', run: () => encodeBatchRw2(fresh) },
  { name: '1.0 known series', run: () => encodeBatchRw1(known) },
  { name: '2.0 known series', run: () => encodeBatchRw2(known) }
], rounds)

const rate = (ms: number): number => samples / (ms / 1000)
const rows: string[][] = []
const medians = new Map<string, number>()
for (const [name, ms] of times) {
  const s = [...ms].sort((a, b) => a - b)
  const med = quantile(s, 0.5)
  medians.set(name, rate(med))
  rows.push([name, fmt(med), `${fmt(s[0]!)}..${fmt(s[s.length - 1]!)}`, `${(rate(med) / 1e6).toFixed(2)}M`])
}
console.log(`encode: ${template.name}, ${fresh.seriesCount} series, ${samples} samples per batch, ${rounds} interleaved rounds`)
printTable(['case', 'ms median', 'ms spread', 'samples/s'], rows)
console.log(`2.0 / 1.0: new series ${(medians.get('2.0 new series')! / medians.get('1.0 new series')!).toFixed(2)}, known series ${(medians.get('2.0 known series')! / medians.get('1.0 known series')!).toFixed(2)}`)
printJson('encode', { template: template.name, samples, rounds, samplesPerSecond: Object.fromEntries(medians) })
