/**
 * The load generator's patchable snappy bodies: after patching, a body must decompress (with snappyjs,
 * an independent decoder) to the original with every hole holding the new bytes, however the holes
 * and the repeated content around them fall.
 */
import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'
import { fc, test } from '@fast-check/vitest'
import { compressWithHoles, patch } from '../../bench/lib/patchable-snappy.js'
import { encodeV1, encodeV2, timestampBytes, TIMESTAMP_WIDTH } from '../../bench/lib/write-bodies.js'
import type { Series } from '../../bench/lib/series-catalogue.js'

const snappy = createRequire(import.meta.url)('snappyjs') as { uncompress (input: Uint8Array): Uint8Array }

function expected (body: Uint8Array, holes: ArrayLike<number>, fill: Uint8Array): Uint8Array {
  const out = body.slice()
  for (let i = 0; i < holes.length; i++) out.set(fill, holes[i]!)
  return out
}

function roundTrip (body: Uint8Array, holes: ArrayLike<number>, width: number, fill: Uint8Array): void {
  const p = compressWithHoles(body, holes, width)
  const copy = p.compressed.slice()
  patch(p, copy, fill)
  const got = Buffer.from(snappy.uncompress(copy))
  const want = Buffer.from(expected(body, holes, fill))
  // Buffer.equals, not toEqual: a deep comparison of 100 KB byte by byte takes seconds.
  expect(got.length).toBe(want.length)
  expect(got.equals(want), `first difference at byte ${got.findIndex((b, i) => b !== want[i])}`).toBe(true)
}

/** Series that repeat a lot (as real requests do), so that copies cover holes. */
function repetitiveSeries (n: number): Series[] {
  return Array.from({ length: n }, (_, i) => ({
    labels: [['__name__', `metric_${i % 7}`], ['instance', `host-${i % 3}`], ['job', 'node_exporter'], ['mode', `m${i % 5}`]] as const,
    value: i % 4 === 0 ? 0 : i % 11
  }))
}

describe('patchable snappy bodies', () => {
  for (const [name, encode] of [['1.0', encodeV1], ['2.0', encodeV2]] as const) {
    it(`a ${name} body decompresses to the body with the new timestamp everywhere`, () => {
      const enc = encode(repetitiveSeries(2000))
      const p = compressWithHoles(enc.body, enc.holes, TIMESTAMP_WIDTH)
      // Repetition: most holes are covered by copies, only a few bytes need patching.
      expect(p.patchOffsets.length).toBeLessThan(enc.holes.length)
      expect(p.compressed.length).toBeLessThan(enc.body.length / 3)
      for (const ms of [Date.UTC(2026, 0, 1), Date.UTC(2026, 0, 1) + 1, Date.UTC(2031, 5, 5, 12)]) {
        roundTrip(enc.body, enc.holes, TIMESTAMP_WIDTH, timestampBytes(ms))
      }
    })
  }

  it('timestamps take exactly 6 varint bytes and decode back', () => {
    const ms = 1_777_777_777_777
    const b = timestampBytes(ms)
    let v = 0
    for (let k = 0; k < TIMESTAMP_WIDTH; k++) v += (b[k]! & 0x7f) * 128 ** k
    expect(v).toBe(ms)
    expect(b[TIMESTAMP_WIDTH - 1]! & 0x80).toBe(0)
    expect(() => timestampBytes(2 ** 42)).toThrow(RangeError)
  })

  test.prop([
    fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 400 }),
    fc.integer({ min: 1, max: 8 }),
    fc.uint8Array({ minLength: 8, maxLength: 8 })
  ], { numRuns: 200 })('random bodies with random holes round-trip', (pieces, width, fillBytes) => {
    // The body is made of a few recurring pieces (so that matches happen) with holes between some of them.
    const parts: number[] = []
    const holes: number[] = []
    const words = [[1, 2, 3, 4, 5], [9, 9, 9, 9], [7, 1, 7, 1, 7, 1], [0, 0, 0, 0, 0, 0, 0]]
    for (const p of pieces) {
      parts.push(...words[p]!)
      if (p % 2 === 0) {
        holes.push(parts.length)
        for (let k = 0; k < width; k++) parts.push(0xaa)
      }
    }
    roundTrip(Uint8Array.from(parts), holes, width, fillBytes.subarray(0, width))
  })
})
