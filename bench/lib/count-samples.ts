/**
 * Samples (and native histogram samples) in a snappy-compressed Remote Write 1.0 body: what a
 * destination received, whoever encoded it (prom-ingest forwards the sender's body, vmagent encodes
 * its own). Walks WriteRequest.timeseries (field 1) and, in each, counts the samples (field 2) and
 * histograms (field 4) without decoding them. Used by bench/forward.ts after each round, never while
 * the load runs (it would take CPU from the targets).
 */
import { SnappyDecoder } from '../../src/decode/snappy.js'

const snappy = new SnappyDecoder(256 * 1024 * 1024)

function varint (b: Uint8Array, at: { i: number }): number {
  let result = 0
  let shift = 0
  for (let k = 0; k < 10; k++) {
    const byte = b[at.i++]!
    result += (byte & 0x7f) * 2 ** shift
    if (byte < 0x80) return result
    shift += 7
  }
  throw new Error('varint longer than 10 bytes')
}

/** Steps over one field of wire type `wire`. */
function skip (b: Uint8Array, at: { i: number }, wire: number): void {
  if (wire === 0) varint(b, at)
  else if (wire === 1) at.i += 8
  else if (wire === 2) { const n = varint(b, at); at.i += n }
  else if (wire === 5) at.i += 4
  else throw new Error(`unexpected protobuf wire type ${wire}`)
}

export function countSamples (compressed: Uint8Array): number {
  const b = snappy.decompress(compressed)
  const at = { i: 0 }
  let samples = 0
  while (at.i < b.length) {
    const tag = varint(b, at)
    if (tag !== (1 << 3 | 2)) { skip(b, at, tag & 7); continue }
    const length = varint(b, at)
    const end = at.i + length
    while (at.i < end) {
      const t = varint(b, at)
      const field = Math.floor(t / 8)
      if (field === 2 || field === 4) samples++
      skip(b, at, t & 7)
    }
    if (at.i !== end) throw new Error('a time series runs past its length')
  }
  return samples
}
