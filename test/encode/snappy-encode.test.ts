/**
 * Our snappy encoder: every output is a valid block that our decoder and snappyjs both decompress to
 * the input (property test), it compresses repetitive data, and it handles the fragment and literal
 * length boundaries.
 */
import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'
import { fc, test } from '@fast-check/vitest'
import { SnappyDecoder } from '../../src/decode/snappy.js'
import { snappyCompress, snappyMaxCompressedLength } from '../../src/encode/snappy-encode.js'
import { body1 } from '../receive/bodies.js'

const snappyjs = createRequire(import.meta.url)('snappyjs') as { uncompress(input: Uint8Array): Uint8Array }

function expectRoundTrip (input: Uint8Array): Uint8Array {
  const c = snappyCompress(input)
  expect(c.length).toBeLessThanOrEqual(snappyMaxCompressedLength(input.length))
  expect(Buffer.compare(Buffer.from(new SnappyDecoder(64 << 20).decompress(c)), Buffer.from(input))).toBe(0)
  expect(Buffer.compare(Buffer.from(snappyjs.uncompress(c)), Buffer.from(input))).toBe(0)
  return c
}

describe('snappy encoder', () => {
  test.prop([fc.uint8Array({ maxLength: 5000 })])('round-trips random bytes', input => { expectRoundTrip(input) })

  test.prop([fc.array(fc.constantFrom('a', 'b', 'label', '__name__', 'job="x"', '\u0000'), { maxLength: 3000 })])('round-trips repetitive text', parts => {
    expectRoundTrip(new TextEncoder().encode(parts.join('')))
  })

  it('handles the edges: empty, 1 byte, literals of 60/256/65536 bytes, runs across fragments', () => {
    expectRoundTrip(new Uint8Array(0))
    expectRoundTrip(new Uint8Array([7]))
    for (const n of [59, 60, 61, 255, 256, 257, 65535, 65536, 65537, 200_000]) {
      const random = new Uint8Array(n)
      for (let i = 0; i < n; i++) random[i] = (i * 2654435761) >>> 24
      expectRoundTrip(random)
      expectRoundTrip(new Uint8Array(n).fill(3))
    }
  })

  it('compresses a remote-write body about as well as the reference', () => {
    // body1 is compressed with snappyjs; decompress it and compress it again with ours.
    const raw = snappyjs.uncompress(body1(2000, 2))
    const ours = expectRoundTrip(raw)
    expect(ours.length).toBeLessThan(raw.length / 3)
  })
})
