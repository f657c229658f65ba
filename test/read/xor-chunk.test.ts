/**
 * The XOR chunk codec: fixed byte vectors worked out by hand from Prometheus' format
 * (tsdb/chunkenc/xor.go; the derivation is in each vector's comment), and properties: any samples
 * encode and decode to the same timestamps and the same value bits (stale markers, other NaN payloads,
 * infinities, -0, large and negative deltas).
 */
import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import { decodeXorChunk, encodeXorChunk, SAMPLES_PER_CHUNK, wordsOf } from '../../src/read/xor-chunk.js'

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const wordsOfBits = (bits: readonly bigint[]): Uint32Array => {
  const w = new Uint32Array(2 * bits.length)
  bits.forEach((b, i) => { w[2 * i] = Number(b & 0xffffffffn); w[2 * i + 1] = Number(b >> 32n) })
  return w
}
const bitsOf = (w: Uint32Array): bigint[] => Array.from({ length: w.length / 2 }, (_, i) => (BigInt(w[2 * i + 1]!) << 32n) | BigInt(w[2 * i]!))

describe('XOR chunks: fixed vectors', () => {
  it('repeated value, a new value window, a 14-bit delta of delta', () => {
    // (1000, 1.0) (2000, 1.0) (3000, 2.0) (4010, 2.0)
    // 00 04                      4 samples
    // d0 0f                      varint(1000): zigzag 2000 = 0x7d0 -> d0 0f
    // 3f f0 00 00 00 00 00 00    1.0
    // e8 07                      uvarint(1000)
    // then bits: 0 (same value) | 0 (dod 0) | 11 00001 001011 11111111111 (2.0 ^ 1.0 = 0x7ff0..., 1 leading
    // zero, 52 trailing, 11 meaningful) | 10 00000000001010 (dod 10) | 0 (same value), padded with zeros:
    // 00110000 10010111 11111111 11100000 00000010 10000000
    const chunk = encodeXorChunk([1000, 2000, 3000, 4010], wordsOf([1, 1, 2, 2]))
    expect(hex(chunk)).toBe('0004' + 'd00f' + '3ff0000000000000' + 'e807' + '3097ffe00280')
    expect(decodeXorChunk(chunk).ts).toEqual([1000, 2000, 3000, 4010])
  })

  it('a value XOR that fits the previous window is written with it', () => {
    // (1, 1.0) (2, 2.0) (3, 3.0) (4, 2.0)
    // 00 04 | 02 (zigzag 1) | 3f f0 00 00 00 00 00 00 | 01
    // 2.0: 11 00001 001011 11111111111
    // 3.0 ^ 2.0 = 0x0008000000000000 (12 leading, 51 trailing: outside the window of 1/52):
    //      0 (dod) 11 01100 000001 1
    // 2.0 ^ 3.0, the same XOR, fits 12/51: 0 (dod) 10 1
    // 11000010 01011111 11111111 01101100 00000110 10100000
    const chunk = encodeXorChunk([1, 2, 3, 4], wordsOf([1, 2, 3, 2]))
    expect(hex(chunk)).toBe('0004' + '02' + '3ff0000000000000' + '01' + 'c25fff6c06a0')
  })

  it('delta of delta 8192 takes 14 bits (the positive side is one wider), -8192 takes 17', () => {
    // (0, 0) (1, 0) (8194, 0): 00 03 | 00 | 00 x 8 | 01 | 0 (value) 10 10000000000000 0 -> 01010000 00000000 00
    expect(hex(encodeXorChunk([0, 1, 8194], wordsOf([0, 0, 0])))).toBe('0003' + '00' + '0000000000000000' + '01' + '500000')
    // (0, 0) (10000, 0) (11808, 0): dod -8192: 110 + 17 bits of 0x1e000
    // 00 03 | 00 | 00 x 8 | 90 4e | 0 110 11110000000000000 0 -> 01101111 00000000 00000000
    const chunk = encodeXorChunk([0, 10000, 11808], wordsOf([0, 0, 0]))
    expect(hex(chunk)).toBe('0003' + '00' + '0000000000000000' + '904e' + '6f0000')
    expect(decodeXorChunk(chunk).ts).toEqual([0, 10000, 11808])
  })

  it('an empty chunk is its header', () => {
    expect(hex(encodeXorChunk([], new Uint32Array(0)))).toBe('0000')
    expect(decodeXorChunk(new Uint8Array([0, 0])).ts).toEqual([])
  })

  it('a truncated chunk is an error, not made-up samples', () => {
    const chunk = encodeXorChunk([1, 2, 3], wordsOf([1.5, 2.5, 3.5]))
    expect(() => decodeXorChunk(chunk.subarray(0, chunk.length - 2))).toThrow(/ends in the middle/)
  })
})

const SPECIAL_BITS = [
  0x7ff0000000000002n, // stale marker
  0x7ff8000000000001n, // Prometheus' NaN
  0xfff8000000000000n, // negative NaN
  0x7ff0000000000000n, // +Inf
  0xfff0000000000000n, // -Inf
  0x8000000000000000n, // -0
  0x0000000000000001n, // smallest subnormal
  0n
]

const valueBits = fc.oneof(fc.constantFrom(...SPECIAL_BITS), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.double().map(d => new BigUint64Array(new Float64Array([d]).buffer)[0]!))
const timestamp = fc.oneof(fc.integer({ min: -(2 ** 50), max: 2 ** 50 }), fc.integer({ min: 1_600_000_000_000, max: 1_900_000_000_000 }))

describe('XOR chunks: properties', () => {
  test.prop([fc.array(fc.tuple(timestamp, valueBits), { maxLength: SAMPLES_PER_CHUNK })], { numRuns: 300 })('any samples (any order, any bits) decode as encoded', samples => {
    const ts = samples.map(s => s[0])
    const bits = samples.map(s => s[1])
    const decoded = decodeXorChunk(encodeXorChunk(ts, wordsOfBits(bits)))
    expect(decoded.ts).toEqual(ts)
    expect(bitsOf(decoded.words)).toEqual(bits)
  })

  test.prop([fc.integer({ min: 1_600_000_000_000, max: 1_900_000_000_000 }), fc.array(fc.integer({ min: 1, max: 120_000 }), { minLength: 1, maxLength: SAMPLES_PER_CHUNK - 1 }), fc.array(fc.double(), { minLength: SAMPLES_PER_CHUNK, maxLength: SAMPLES_PER_CHUNK })], { numRuns: 200 })('scrape-like series: increasing times with jitter, doubles', (t0, gaps, values) => {
    const ts = [t0]
    for (const g of gaps) ts.push(ts[ts.length - 1]! + g)
    const v = values.slice(0, ts.length)
    const decoded = decodeXorChunk(encodeXorChunk(ts, wordsOf(v)))
    expect(decoded.ts).toEqual(ts)
    expect(bitsOf(decoded.words)).toEqual(bitsOf(wordsOf(v)))
  })

  it('a regular counter compresses as Gorilla does: about 2 bytes a sample or less', () => {
    const ts = Array.from({ length: 120 }, (_, i) => 1_700_000_000_000 + 15_000 * i)
    const values = ts.map((_, i) => 1000 + i * 3)
    const chunk = encodeXorChunk(ts, wordsOf(values))
    expect(chunk.length).toBeLessThan(2 * 120)
    expect(decodeXorChunk(chunk).ts).toEqual(ts)
  })
})
