/**
 * Snappy block decode: the project's SnappyDecoder against snappyjs `uncompress`, on the generated
 * 10k-series Remote Write 1.0 body (or the --template FILE) compressed with snappyjs at start-up.
 *
 * Ours reads the compressed bytes from a SharedArrayBuffer view, as a decode worker reads its slot, and
 * writes into its reused output buffer; snappyjs allocates its output on every call (that is its API).
 * A second row reads from a plain ArrayBuffer to show that the slot costs nothing.
 *
 * Alone: `npm run build && node dist/bench/snappy.js [rounds] [--template FILE]`; bench/decode.ts calls `benchSnappy`.
 */
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'
import { SnappyDecoder } from '../src/decode/snappy.js'
import { templateArg, templateBody, type TemplateBody } from './lib/template-body.js'
import { fmt, interleave, printJson, printTable, summarize, type Summary } from './lib/stats.js'

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
  /** snappyjs median time / ours (slot input) median time: the throughput ratio. */
  readonly ratio: number
}

/** Runs `rounds` interleaved rounds (after a warm-up); prints a table and a JSON line unless `print` is false. */
export function benchSnappy (rounds: number, print = true, template: TemplateBody = templateBody()): SnappyBenchResult {
  const raw = template.body
  const compressed = snappyjs.compress(raw)

  // The compressed body in a SharedArrayBuffer, as the receiver leaves it in a slot.
  const slot = new Uint8Array(new SharedArrayBuffer(compressed.length))
  slot.set(compressed)
  const plain = new Uint8Array(new ArrayBuffer(compressed.length))
  plain.set(compressed)

  const decoder = new SnappyDecoder(LIMIT)
  // Check once that both decoders give the original bytes, so that the timings compare equal work.
  if (!Buffer.from(decoder.decompress(slot)).equals(raw)) throw new Error('SnappyDecoder output differs from the body')
  if (!Buffer.from(snappyjs.uncompress(compressed)).equals(raw)) throw new Error('snappyjs output differs from the body')

  const OURS = 'prom-ingest SnappyDecoder (slot)'
  const OURS_PLAIN = 'prom-ingest SnappyDecoder (ArrayBuffer)'
  const THEIRS = 'snappyjs uncompress'
  const times = interleave([
    { name: OURS, run: () => decoder.decompress(slot) },
    { name: OURS_PLAIN, run: () => decoder.decompress(plain) },
    { name: THEIRS, run: () => snappyjs.uncompress(compressed) }
  ], rounds)

  const cases = [...times].map(([name, ms]): SnappyCaseResult => {
    const s = summarize(name, ms)
    return { ...s, mbPerSec: raw.length / 1e6 / (s.median / 1e3) }
  })
  const byName = new Map(cases.map(c => [c.name, c]))
  const ratio = byName.get(THEIRS)!.median / byName.get(OURS)!.median
  const result: SnappyBenchResult = { compressedBytes: compressed.length, decompressedBytes: raw.length, cases, ratio }

  if (print) {
    console.log(`snappy decode: ${compressed.length} -> ${raw.length} bytes, ${rounds} rounds`)
    printTable(['case', 'median ms', 'p10 ms', 'p90 ms', 'MB/s', 'x snappyjs'], cases.map(c => [
      c.name, fmt(c.median), fmt(c.p10), fmt(c.p90), fmt(c.mbPerSec), fmt(byName.get(THEIRS)!.median / c.median, 2)
    ]))
    printJson('snappy', result)
  }
  return result
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rounds = Number(process.argv[2] ?? 200)
  benchSnappy(Number.isInteger(rounds) && rounds > 0 ? rounds : 200, true, templateBody(templateArg()))
}
