/**
 * The long fuzz run: `npm run build && node dist/bench/fuzz.js [SEED] [COUNT]` (COUNT default
 * 2,000,000). The cases of test/decode/fuzz.test.ts, as many as asked: mutated or truncated valid
 * bodies of both versions, raw and snappy, random options. Prints progress, the outcome per error code
 * and every finding (a throw that is not an IngestError with a known code), with the seed and case
 * number that replay it; exits 1 when there is one. A watchdog kills the run, naming the case, if a
 * case stalls for 30 s.
 *
 * The series index is replaced every 250,000 cases: mutated labels make new series, and a full index
 * would turn the rest of the run into `series_limit` rejections.
 */
import { RowBatch } from '../src/batch/row-batch.js'
import { Decoder } from '../src/decode/decoder.js'
import { resolveDecodeOptions, type DecodeOptions } from '../src/decode/options.js'
import { IngestError } from '../src/errors.js'
import { SeriesIndex } from '../src/series/series-index.js'
import { buildCorpus, runFuzz, type FuzzReport } from '../test/fixtures/fuzz-run.js'
import { Watchdog } from '../test/fixtures/watchdog.js'
import { printJson, printTable } from './lib/stats.js'

const seed = process.argv[2] !== undefined ? Number(process.argv[2]) : Math.floor(Math.random() * 2 ** 31)
const count = process.argv[3] !== undefined ? Number(process.argv[3]) : 2_000_000
if (!Number.isInteger(seed) || !Number.isInteger(count) || count < 1) {
  console.error('usage: node dist/bench/fuzz.js [SEED] [COUNT]')
  process.exit(2)
}

const CHUNK = 250_000
const corpus = buildCorpus(seed)
const watchdog = new Watchdog(`fuzz seed ${seed}`)
let decoder = new Decoder(SeriesIndex.create({ maxSeries: 2 * CHUNK }))

/** decodeWriteRequest, on this run's own decoder and series index. */
function decode (body: Uint8Array, options: DecodeOptions): RowBatch {
  const o = resolveDecodeOptions(options)
  const { buffer, firstError } = decoder.decode(body, o)
  const batch = new RowBatch(buffer, { tenant: o.tenant, firstError }, decoder.index)
  if (firstError !== undefined && !o.partial) throw IngestError.fromWire(firstError)
  return batch
}

const total: FuzzReport = { cases: 0, decoded: 0, rejected: {}, findings: [] }
const t0 = process.hrtime.bigint()
console.log(`fuzz: seed ${seed}, ${count} cases, corpus of ${corpus.length} bodies`)
for (let from = 0; from < count; from += CHUNK) {
  decoder = new Decoder(SeriesIndex.create({ maxSeries: 2 * CHUNK }))
  // Each chunk is its own run with a seed of its own, so every case still replays from (seed, n).
  const chunkSeed = seed + from / CHUNK
  const r = runFuzz({ seed: chunkSeed, count: Math.min(CHUNK, count - from), corpus, decode, onCase: n => watchdog.tick(from + n) })
  total.cases += r.cases
  total.decoded += r.decoded
  for (const [code, n] of Object.entries(r.rejected)) total.rejected[code] = (total.rejected[code] ?? 0) + n
  total.findings.push(...r.findings)
  const s = Number(process.hrtime.bigint() - t0) / 1e9
  console.log(`  ${total.cases} cases, ${total.findings.length} findings, ${(total.cases / s).toFixed(0)} cases/s`)
}
await watchdog.stop()

const seconds = Number(process.hrtime.bigint() - t0) / 1e9
console.log('')
printTable(['outcome', 'cases', 'share'], [
  ['decoded', String(total.decoded), (100 * total.decoded / total.cases).toFixed(2) + ' %'],
  ...Object.entries(total.rejected).sort((a, b) => b[1] - a[1]).map(([code, n]) => [`rejected: ${code}`, String(n), (100 * n / total.cases).toFixed(2) + ' %']),
  ['findings', String(total.findings.length), '']
])
for (const f of total.findings) {
  console.log(`\nfinding: chunk seed ${f.seed}, case ${f.n} (${f.mode}), options ${JSON.stringify(f.options)}\n  ${f.error}\n  body ${f.bodyHex}`)
}
printJson('fuzz', { seed, cases: total.cases, seconds, decoded: total.decoded, rejected: total.rejected, findings: total.findings.length })
process.exitCode = total.findings.length > 0 ? 1 : 0
