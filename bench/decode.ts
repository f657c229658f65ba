/**
 * The decode benchmark (issue 3): `npm run bench:decode [-- --rounds N] [--template FILE] [--decode-only]`.
 *
 * On the generated 10,000-series node_exporter body (uncompressed Remote Write 1.0,
 * test/fixtures/node-exporter-body.ts) or any uncompressed RW 1.0 body given with --template, in one
 * process, rounds interleaved (A, B, C, A, B, C, ...) after a warm-up:
 *   - prom-ingest, body to row batch, every series already known (steady state) and every series new;
 *   - the same series encoded as Remote Write 2.0 (bench/lib/write-bodies.ts `encodeV2`), series known;
 *   - protobufjs static code and @bufbuild/protobuf `fromBinary` on the same bytes (peers);
 *   - a bare walk that creates nothing (the floor);
 *   - the gateway decode (`validateOnly`: the same checks and counts, no series index, counts-only
 *     batch) of both bodies, paired per round with the full decode of the same version;
 * then the snappy decode against snappyjs (bench/snappy.ts), and the pool round trip of a 500-series
 * body (slot write, dispatch, decode in a worker, batch moved back) against the same decode in-thread.
 * The 2.0 target is judged on paired rounds: 1.0 known and 2.0 known run back to back in each round
 * (their order alternating), and the ratio of each pair is summarised, so that a burst of load or a
 * collection hits both sides of a ratio rather than one median. Prints tables and one JSON line.
 */
import { createRequire } from 'node:module'
import { loadavg } from 'node:os'
import { Decoder } from '../src/decode/decoder.js'
import { resolveDecodeOptions } from '../src/decode/options.js'
import { RowBatch } from '../src/batch/row-batch.js'
import { SeriesIndex } from '../src/series/series-index.js'
import { DecodePool } from '../src/pool/decode-pool.js'
import { bareWalk } from './peers/bare-walk.js'
import { benchSnappy } from './snappy.js'
import { templateArg, templateBody } from './lib/template-body.js'
import { readTemplate } from './lib/series-catalogue.js'
import { encodeV2 } from './lib/write-bodies.js'
import { fmt, interleave, printJson, printTable, summarize, type Case, type Summary } from './lib/stats.js'

const snappyjs = createRequire(import.meta.url)('snappyjs') as { compress(input: Uint8Array): Uint8Array }

function arg (name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? Number(process.argv[i + 1]) : fallback
}

/** Peers written by bench/peers/*.ts; a missing one is reported, not fatal. */
async function peer (file: string, fn: string): Promise<((b: Uint8Array) => unknown) | undefined> {
  try {
    const mod = await import(file) as Record<string, unknown>
    const f = mod[fn]
    return typeof f === 'function' ? f as (b: Uint8Array) => unknown : undefined
  } catch (err) {
    console.error(`peer ${file} unavailable: ${(err as Error).message}`)
    return undefined
  }
}

/** Per round, `a[r] / b[r]`, summarised (median, p10, p90), with the ratios themselves. */
function pairedRatio (name: string, a: readonly number[], b: readonly number[]): { summary: Summary, ratios: number[] } {
  const ratios = a.map((t, r) => t / b[r]!)
  return { summary: summarize(name, ratios, 'x'), ratios }
}

/** The first `n` TimeSeries of a 1.0 body, as a body of their own (a Prometheus-sized request). */
function firstSeries (body: Uint8Array, n: number): Uint8Array {
  let pos = 0
  let count = 0
  const varint = (): number => { let v = 0; let s = 0; for (;;) { const c = body[pos++]!; v += (c & 0x7f) * 2 ** s; if (c < 0x80) return v; s += 7 } }
  while (pos < body.length && count < n) {
    varint()
    const len = varint()
    pos += len
    count++
  }
  return body.slice(0, pos)
}

async function main (): Promise<void> {
  const rounds = arg('rounds', 200)
  const template = templateBody(templateArg())
  const body = template.body
  const seriesInBody = bareWalk(body)
  const uncompressed = resolveDecodeOptions({ compressed: false })

  // Steady state: every series known.
  const steady = new Decoder(SeriesIndex.create({ maxSeries: 65_536 }))
  steady.decode(body, uncompressed)
  // The same series as a Remote Write 2.0 body (symbols table, label refs), with its own index.
  const body2 = encodeV2(readTemplate(templateArg())).body
  const uncompressed2 = resolveDecodeOptions({ compressed: false, version: '2.0' })
  const steady2 = new Decoder(SeriesIndex.create({ maxSeries: 65_536 }))
  steady2.decode(body2, uncompressed2)
  // The gateway decode (validateOnly): the same checks and counts without the series index, both versions.
  const gateway = new Decoder(SeriesIndex.create({ maxSeries: 1024 }))
  const validate1 = resolveDecodeOptions({ compressed: false, validateOnly: true })
  const validate2 = resolveDecodeOptions({ compressed: false, version: '2.0', validateOnly: true })
  // All new: a fresh index per run, made before the clock starts.
  const warmup = Math.ceil(rounds / 5)
  const fresh = Array.from({ length: rounds + warmup }, () => new Decoder(SeriesIndex.create({ maxSeries: 16_384 })))
  let freshAt = 0

  // The first two are the pair whose ratio is the 2.0 target (interleave, alternating them).
  const cases: Case[] = [
    { name: 'prom-ingest, series known', run: () => new RowBatch(steady.decode(body, uncompressed).buffer, { tenant: '' }) },
    { name: 'prom-ingest 2.0, series known', run: () => new RowBatch(steady2.decode(body2, uncompressed2).buffer, { tenant: '' }) },
    { name: 'prom-ingest, series new', run: () => new RowBatch(fresh[freshAt++]!.decode(body, uncompressed).buffer, { tenant: '' }) },
    { name: 'bare walk (creates nothing)', run: () => bareWalk(body) },
    { name: 'gateway decode (no index)', run: () => new RowBatch(gateway.decode(body, validate1).buffer, { tenant: '' }) },
    { name: 'gateway decode 2.0 (no index)', run: () => new RowBatch(gateway.decode(body2, validate2).buffer, { tenant: '' }) }
  ]
  const pbjs = await peer('./peers/protobufjs.js', 'decodeWithProtobufjs')
  if (pbjs !== undefined) cases.push({ name: 'protobufjs static code', run: () => pbjs(body) })
  const es = await peer('./peers/bufbuild.js', 'decodeWithBufbuild')
  if (es !== undefined) cases.push({ name: '@bufbuild/protobuf fromBinary', run: () => es(body) })

  const times = interleave(cases, rounds, warmup, true)
  const summaries = cases.map(c => summarize(c.name, times.get(c.name)!))
  const base = summaries[0]!
  const known2 = summaries[1]!
  const walk = summaries[3]!
  const v2Pairs = pairedRatio('2.0 / 1.0, series known, per round pair', times.get(known2.name)!, times.get(base.name)!)
  const walkPairs = pairedRatio('1.0 known / bare walk, per round', times.get(base.name)!, times.get(walk.name)!)
  // Gateway against the full decode, each version with its own known-series case of the same round.
  const gw1 = summaries[4]!
  const gw2 = summaries[5]!
  const gatewayPairs = pairedRatio('gateway / full known 1.0, per round', times.get(gw1.name)!, times.get(base.name)!)
  const gateway2Pairs = pairedRatio('gateway / full known 2.0, per round', times.get(gw2.name)!, times.get(known2.name)!)
  const gatewayNewPairs = pairedRatio('gateway / full new 1.0, per round', times.get(gw1.name)!, times.get(summaries[2]!.name)!)
  const gatewayWalkPairs = pairedRatio('gateway 1.0 / bare walk, per round', times.get(gw1.name)!, times.get(walk.name)!)
  console.log(`\nDecode of ${template.name} (${body.length} bytes, ${seriesInBody} series; as 2.0: ${body2.length} bytes), uncompressed body to row batch, ${rounds} interleaved rounds, load average ${loadavg().map(l => l.toFixed(1)).join(' ')}\n`)
  printTable(['case', 'median ms', 'p10', 'p90', 'x prom-ingest known', 'x bare walk'],
    summaries.map(s => [s.name, fmt(s.median), fmt(s.p10), fmt(s.p90), fmt(s.median / base.median, 2), fmt(s.median / walk.median, 2)]))
  console.log('')
  printTable(['paired ratio', 'median', 'p10', 'p90', 'rounds'],
    [v2Pairs.summary, walkPairs.summary, gatewayPairs.summary, gateway2Pairs.summary, gatewayNewPairs.summary, gatewayWalkPairs.summary].map(s => [s.name, fmt(s.median, 3), fmt(s.p10, 3), fmt(s.p90, 3), String(s.samples)]))
  console.log(`\nknown-series decode / bare walk: ${fmt(walkPairs.summary.median, 2)} paired (${fmt(base.median / walk.median, 2)} of the medians; target <= 2.5); 2.0 / 1.0, series known: ${fmt(v2Pairs.summary.median, 3)} paired, p10 ${fmt(v2Pairs.summary.p10, 3)}, p90 ${fmt(v2Pairs.summary.p90, 3)} (${fmt(known2.median / base.median, 2)} of the medians, ${fmt(known2.p10 / base.p10, 2)} of the p10s; target <= 1.2)`)

  if (process.argv.includes('--decode-only')) { // the decode table alone: no snappy, no pool
    printJson('decode', { rounds, template: template.name, bytes: body.length, cases: summaries, loadavg: loadavg(), v2KnownOverV1KnownPaired: v2Pairs.summary, v2OverV1PerRound: v2Pairs.ratios.map(r => Math.round(r * 1000) / 1000), gateway: gatewayFigures() })
    return
  }

  // Snappy.
  console.log('')
  const snappy = benchSnappy(rounds, true, template)
  console.log(`snappy decode: WebAssembly ${fmt(snappy.wasm.mbPerSec / 1000, 2)} GB/s, JavaScript ${fmt(snappy.js.mbPerSec / 1000, 2)} GB/s at the median (target >= 2.5 GB/s), load average ${loadavg().map(l => l.toFixed(1)).join(' ')}`)

  // Pool round trip: a 500-series compressed body, one request at a time.
  const small = snappyjs.compress(firstSeries(body, 500))
  // The same index size on both sides: the difference is the pool, not the table's footprint.
  const pool = new DecodePool({ threads: 1, series: { maxSeries: 65_536 } })
  const local = new Decoder(SeriesIndex.create({ maxSeries: 65_536 }))
  const compressed = resolveDecodeOptions({})
  const workerTimes: number[] = []
  const roundTrip = async (): Promise<void> => {
    const slot = await pool.acquireSlot(small.length, 1000)
    slot.bytes.set(small)
    const batch = await pool.decode(slot, small.length, { version: '1.0' })
    workerTimes.push(batch.meta.decodeMs ?? NaN)
  }
  for (let i = 0; i < 200; i++) { await roundTrip(); local.decode(small, compressed) }
  workerTimes.length = 0
  const poolTimes: number[] = []
  const localTimes: number[] = []
  for (let r = 0; r < rounds * 5; r++) {
    let t = process.hrtime.bigint()
    await roundTrip()
    poolTimes.push(Number(process.hrtime.bigint() - t) / 1e6)
    t = process.hrtime.bigint()
    new RowBatch(local.decode(small, compressed).buffer, { tenant: '' })
    localTimes.push(Number(process.hrtime.bigint() - t) / 1e6)
  }
  await pool.close()
  const poolSummary = summarize('pool round trip (500 series)', poolTimes)
  const localSummary = summarize('same decode in-thread', localTimes)
  const workerSummary = summarize('the decode inside the worker', workerTimes)
  const overhead = poolSummary.median - localSummary.median
  const dispatch = summarize('round trip minus the worker\'s decode', poolTimes.map((t, i) => t - workerTimes[i]!))
  console.log(`\nPool round trip of a 500-series snappy body (${small.length} bytes): slot write, dispatch, decode in a worker, batch moved back\n`)
  printTable(['case', 'median ms', 'p10', 'p90'], [poolSummary, localSummary, workerSummary, dispatch].map(s => [s.name, fmt(s.median), fmt(s.p10), fmt(s.p90)]))
  console.log(`pool overhead per request: ${fmt(overhead)} ms beyond the in-thread decode, ${fmt(dispatch.median)} ms beyond the worker's own decode (target < 0.15 ms)`)

  const find = (name: string): Summary | undefined => summaries.find(s => s.name === name)
  const pb = find('protobufjs static code')
  console.log('')
  if (pb !== undefined) console.log(`steady-state decode is ${fmt(pb.median / base.median, 1)}x faster than protobufjs (target >= 25x)`)
  printJson('decode', {
    rounds,
    template: template.name,
    bytes: body.length,
    cases: summaries,
    snappy,
    pool: { roundTrip: poolSummary, inThread: localSummary, inWorker: workerSummary, dispatch, overheadMs: overhead },
    loadavg: loadavg(),
    ratios: {
      protobufjsOverKnown: pb === undefined ? null : pb.median / base.median,
      newOverKnown: summaries[2]!.median / base.median,
      knownOverBareWalk: base.median / walk.median,
      v2KnownOverV1Known: known2.median / base.median,
      v2KnownOverV1KnownP10: known2.p10 / base.p10,
      knownOverBareWalkPaired: walkPairs.summary,
      v2KnownOverV1KnownPaired: v2Pairs.summary
    },
    v2OverV1PerRound: v2Pairs.ratios.map(r => Math.round(r * 1000) / 1000),
    gateway: gatewayFigures()
  })

  function gatewayFigures (): Record<string, Summary> {
    return { overFullKnown1: gatewayPairs.summary, overFullKnown2: gateway2Pairs.summary, overFullNew1: gatewayNewPairs.summary, overBareWalk1: gatewayWalkPairs.summary }
  }
}

await main()
