/**
 * Snappy block decode: the project's two decoders, JavaScript (SnappyDecoder) and WebAssembly SIMD
 * (SnappyWasmDecoder), against snappyjs `uncompress`, on the generated 10k-series Remote Write 1.0 body
 * (or the --template FILE) compressed with snappyjs at start-up; then the whole decode of the compressed
 * body (snappy, then the protobuf walk into a row batch, series known) with each of our decoders, since
 * the WebAssembly output is read by the walker from WebAssembly memory.
 *
 * Ours read the compressed bytes from a SharedArrayBuffer view, as a decode worker reads its slot, and
 * write into their reused output (the WebAssembly one first copies the block into its memory, which is
 * timed); snappyjs allocates its output on every call (that is its API). All cases run interleaved.
 *
 * Alone: `npm run build && node dist/bench/snappy.js [rounds] [--template FILE]`; bench/decode.ts calls `benchSnappy`.
 */
import { createRequire } from 'node:module'
import { loadavg } from 'node:os'
import { pathToFileURL } from 'node:url'
import { Decoder } from '../src/decode/decoder.js'
import { resolveDecodeOptions } from '../src/decode/options.js'
import { SnappyDecoder } from '../src/decode/snappy.js'
import { SnappyWasmDecoder } from '../src/decode/snappy-wasm.js'
import { SeriesIndex } from '../src/series/series-index.js'
import { templateArg, templateBody, type TemplateBody } from './lib/template-body.js'
import { fmt, interleave, printJson, printTable, summarize, type Case, type Summary } from './lib/stats.js'

const snappyjs = createRequire(import.meta.url)('snappyjs') as {
  compress(input: Uint8Array): Uint8Array
  uncompress(input: Uint8Array, maxLength?: number): Uint8Array
}

const LIMIT = 32 * 1024 * 1024

export interface SnappyCaseResult extends Summary {
  /** Megabytes (10^6 bytes) of decompressed output per second at the median. */
  readonly mbPerSec: number
}

export interface SnappyBenchResult {
  readonly compressedBytes: number
  readonly decompressedBytes: number
  readonly cases: readonly SnappyCaseResult[]
  /** The JavaScript and WebAssembly decoders' rows (also in `cases`). */
  readonly js: SnappyCaseResult
  readonly wasm: SnappyCaseResult
  /** snappyjs median time / the JavaScript decoder's median time: the throughput ratio. */
  readonly ratio: number
  /** The JavaScript decoder's median time / the WebAssembly one's. */
  readonly wasmRatio: number
  /** Snappy and walk with the JavaScript decoder, median time / the same with the WebAssembly decoder. */
  readonly decodeRatio: number
}

export const JS = 'prom-ingest JavaScript SnappyDecoder'
export const WASM = 'prom-ingest WebAssembly SnappyWasmDecoder'
const THEIRS = 'snappyjs uncompress'
const DECODE_JS = 'snappy + walk, JavaScript snappy'
const DECODE_WASM = 'snappy + walk, WebAssembly snappy'

/** Runs `rounds` interleaved rounds (after a warm-up); prints a table and a JSON line unless `print` is false. */
export function benchSnappy (rounds: number, print = true, template: TemplateBody = templateBody()): SnappyBenchResult {
  const raw = template.body
  const compressed = snappyjs.compress(raw)

  // The compressed body in a SharedArrayBuffer, as the receiver leaves it in a slot.
  const slot = new Uint8Array(new SharedArrayBuffer(compressed.length))
  slot.set(compressed)

  const js = new SnappyDecoder(LIMIT)
  const wasm = new SnappyWasmDecoder(LIMIT)
  // Check once that every decoder gives the original bytes, so that the timings compare equal work.
  if (!Buffer.from(js.decompress(slot)).equals(raw)) throw new Error('SnappyDecoder output differs from the body')
  if (!Buffer.from(wasm.decompress(slot)).equals(raw)) throw new Error('SnappyWasmDecoder output differs from the body')
  if (!Buffer.from(snappyjs.uncompress(compressed)).equals(raw)) throw new Error('snappyjs output differs from the body')

  // The whole decode, series known (each decoder's index learns them in its first call).
  const options = resolveDecodeOptions({ compressed: true, maxDecompressedBytes: LIMIT })
  const decodeJs = new Decoder(SeriesIndex.create({ maxSeries: 65_536 }), LIMIT, 'js')
  const decodeWasm = new Decoder(SeriesIndex.create({ maxSeries: 65_536 }), LIMIT, 'wasm')
  const a = decodeJs.decode(slot, options).buffer.byteLength
  const b = decodeWasm.decode(slot, options).buffer.byteLength
  if (a !== b) throw new Error(`the two decodes give batches of ${a} and ${b} bytes`)

  const list: Case[] = [
    { name: JS, run: () => js.decompress(slot) },
    { name: WASM, run: () => wasm.decompress(slot) },
    { name: THEIRS, run: () => snappyjs.uncompress(compressed) },
    { name: DECODE_JS, run: () => decodeJs.decode(slot, options) },
    { name: DECODE_WASM, run: () => decodeWasm.decode(slot, options) }
  ]
  const times = interleave(list, rounds)

  const cases = [...times].map(([name, ms]): SnappyCaseResult => {
    const s = summarize(name, ms)
    return { ...s, mbPerSec: raw.length / 1e6 / (s.median / 1e3) }
  })
  const byName = new Map(cases.map(c => [c.name, c]))
  const jsCase = byName.get(JS)!
  const wasmCase = byName.get(WASM)!
  const result: SnappyBenchResult = {
    compressedBytes: compressed.length,
    decompressedBytes: raw.length,
    cases,
    js: jsCase,
    wasm: wasmCase,
    ratio: byName.get(THEIRS)!.median / jsCase.median,
    wasmRatio: jsCase.median / wasmCase.median,
    decodeRatio: byName.get(DECODE_JS)!.median / byName.get(DECODE_WASM)!.median
  }

  if (print) {
    console.log(`snappy decode: ${compressed.length} -> ${raw.length} bytes, ${rounds} interleaved rounds, load average ${loadavg().map(l => l.toFixed(1)).join(' ')}`)
    printTable(['case', 'median ms', 'p10 ms', 'p90 ms', 'GB/s', 'x snappyjs', 'x JavaScript'], cases.map(c => [
      c.name, fmt(c.median), fmt(c.p10), fmt(c.p90), fmt(c.mbPerSec / 1000, 2),
      c.name.startsWith('snappy +') ? '' : fmt(byName.get(THEIRS)!.median / c.median, 2),
      fmt((c.name.startsWith('snappy +') ? byName.get(DECODE_JS)! : jsCase).median / c.median, 2)
    ]))
    console.log(`WebAssembly / JavaScript snappy: ${fmt(result.wasmRatio, 2)}x; whole decode (snappy + walk): ${fmt(result.decodeRatio, 2)}x`)
    printJson('snappy', result)
  }
  return result
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rounds = Number(process.argv[2] ?? 200)
  benchSnappy(Number.isInteger(rounds) && rounds > 0 ? rounds : 200, true, templateBody(templateArg()))
}
