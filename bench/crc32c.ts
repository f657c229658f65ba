/**
 * CRC-32C throughput: the queue's `crc32c` (src/queue/crc32c.ts: WebAssembly slicing-by-16 from 1 KiB on)
 * and its JavaScript slicing-by-8 loop (`crc32cJs`) against a byte-at-a-time
 * table (Sarwate's algorithm, the textbook version, defined here) and, for scale, Node's native
 * `zlib.crc32` (CRC-32/IEEE, another polynomial, the same work, in C).
 *
 * Inputs: 1 MiB and 210 KiB (a compressed 10,000-series Remote Write 1.0 body) of pseudo-random bytes,
 * and the same 210 KiB starting at an odd offset (a record payload inside a read buffer is not aligned).
 * Cases run interleaved (bench/lib/stats.ts); each row gives the median, p10 and p90 and MB/s at the median.
 *
 * `npm run bench:crc32c` (or `npm run build && node dist/bench/crc32c.js [rounds]`).
 */
import zlib from 'node:zlib'
import { pathToFileURL } from 'node:url'
import { crc32c, crc32cJs } from '../src/queue/crc32c.js'
import { fmt, interleave, printJson, printTable, summarize } from './lib/stats.js'

/** Sarwate's byte-at-a-time CRC-32C: one table, one dependent lookup per byte. */
const SARWATE = new Int32Array(256)
for (let n = 0; n < 256; n++) {
  let c = n
  for (let k = 0; k < 8; k++) c = (c & 1) !== 0 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1
  SARWATE[n] = c
}
function crc32cBytewise (bytes: Uint8Array): number {
  let crc = -1
  for (let i = 0; i < bytes.length; i++) crc = SARWATE[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8)
  return ~crc >>> 0
}

const nativeCrc32 = (zlib as unknown as { crc32?: (data: Uint8Array, value?: number) => number }).crc32

function randomBytes (n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n)
  let x = seed >>> 0
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5 // xorshift32
    out[i] = x & 0xff
  }
  return out
}

export interface Crc32cCaseResult {
  readonly name: string
  readonly bytes: number
  readonly median: number
  readonly p10: number
  readonly p90: number
  /** Megabytes (10^6 bytes) per second at the median. */
  readonly mbPerSec: number
}

export function benchCrc32c (rounds: number): Crc32cCaseResult[] {
  const mib = randomBytes(1 << 20, 1)
  const body = randomBytes(215_391, 2)
  const oddBacking = new Uint8Array(body.length + 1)
  oddBacking.set(body, 1)
  const odd = oddBacking.subarray(1)
  if (crc32c(body) !== crc32cBytewise(body) || crc32c(odd) !== crc32c(body) || crc32cJs(body) !== crc32c(body)) throw new Error('crc32c implementations disagree')

  const inputs: Array<[string, Uint8Array]> = [['1 MiB', mib], ['210 KiB body', body], ['210 KiB, odd offset', odd]]
  const cases = []
  for (const [label, input] of inputs) {
    cases.push({ name: `crc32c WebAssembly slicing-by-16, ${label}`, run: () => crc32c(input) })
    cases.push({ name: `crc32c JavaScript slicing-by-8, ${label}`, run: () => crc32cJs(input) })
    if (label !== '210 KiB, odd offset') {
      cases.push({ name: `crc32c byte at a time, ${label}`, run: () => crc32cBytewise(input) })
      if (nativeCrc32 !== undefined) cases.push({ name: `zlib.crc32 (native, IEEE), ${label}`, run: () => nativeCrc32(input) })
    }
  }
  const sizeOf = new Map<string, number>()
  for (const [label, input] of inputs) for (const c of cases) if (c.name.endsWith(label)) sizeOf.set(c.name, input.length)
  const times = interleave(cases, rounds)
  return [...times].map(([name, ms]) => {
    const s = summarize(name, ms)
    const bytes = sizeOf.get(name)!
    return { name, bytes, median: s.median, p10: s.p10, p90: s.p90, mbPerSec: bytes / 1e6 / (s.median / 1e3) }
  })
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = Number(process.argv[2] ?? 300)
  const rounds = Number.isInteger(arg) && arg > 0 ? arg : 300
  const results = benchCrc32c(rounds)
  console.log(`crc32c: ${rounds} rounds, interleaved`)
  printTable(['case', 'median ms', 'p10 ms', 'p90 ms', 'MB/s'], results.map(r => [r.name, fmt(r.median), fmt(r.p10), fmt(r.p90), fmt(r.mbPerSec)]))
  printJson('crc32c', { rounds, cases: results })
}
