/**
 * The WebAssembly snappy decoder against the JavaScript one (src/decode/snappy.ts), the reference here:
 * on random element sequences, valid and not, both must give the same bytes or the same error. Also where
 * its bytes live (its own memory, grown on demand), what it does with a slot, and its fallback.
 * test/decode/snappy.test.ts runs every one of its blocks through both decoders too.
 */
import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'
import { fc, test } from '@fast-check/vitest'
import { SnappyDecoder } from '../../src/decode/snappy.js'
import { SnappyWasmDecoder, snappyWasmAvailable } from '../../src/decode/snappy-wasm.js'
import { IngestError } from '../../src/errors.js'
import { nodeExporterBody } from '../fixtures/node-exporter-body.js'
import { block, copy1, copy2, copy4, header, literal } from './snappy-blocks.js'

const snappyjs = createRequire(import.meta.url)('snappyjs') as { compress(input: Uint8Array): Uint8Array }
const LIMIT = 1 << 20

/** The decoder's answer: its bytes (copied: the view is overwritten by the next call) or its error. */
function outcome (decode: () => Uint8Array): { bytes?: string, code?: string, message?: string } {
  try {
    return { bytes: Buffer.from(decode()).toString('hex') }
  } catch (err) {
    if (!(err instanceof IngestError)) throw err
    return { code: err.code, message: err.message }
  }
}

/**
 * A random element, as a block builder piece: mostly copies with small offsets (the overlapping pattern
 * path) and offsets around 16 (where the 16-byte moves start), in every form; some offsets reach before
 * the output, some are 0.
 */
const element = fc.oneof(
  fc.uint8Array({ minLength: 1, maxLength: 90 }).map(b => literal(b)),
  fc.tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 4, max: 11 })).map(([o, l]) => copy1(o, l)),
  fc.tuple(fc.integer({ min: 0, max: 70 }), fc.integer({ min: 1, max: 64 })).map(([o, l]) => copy2(o, l)),
  fc.tuple(fc.integer({ min: 0, max: 70 }), fc.integer({ min: 1, max: 64 })).map(([o, l]) => copy4(o, l))
)

/** Output length the elements would write if all were valid (a literal's length, a copy's length). */
function written (pieces: number[][]): number {
  let n = 0
  for (const p of pieces) {
    const kind = p[0]! & 3
    if (kind === 0) n += p.length - 1 - (p[0]! >> 2 >= 60 ? (p[0]! >> 2) - 59 : 0)
    else if (kind === 1) n += 4 + ((p[0]! >> 2) & 7)
    else n += 1 + (p[0]! >> 2)
  }
  return n
}

describe('SnappyWasmDecoder against SnappyDecoder', () => {
  it('runs here: Node 20 has WebAssembly SIMD', () => {
    expect(snappyWasmAvailable()).toBe(true)
  })

  const wasm = new SnappyWasmDecoder(LIMIT)
  const js = new SnappyDecoder(LIMIT)

  test.prop([fc.array(element, { minLength: 1, maxLength: 40 }), fc.integer({ min: -3, max: 3 }), fc.nat()], { numRuns: 3000 })(
    'random element sequences, the header right or off by a little, truncated anywhere: same bytes or same error',
    (pieces, headerSkew, cut) => {
      const body = block(...pieces)
      const full = block(header(Math.max(0, written(pieces) + headerSkew)), [...body])
      const src = full.subarray(0, full.length - (cut % 4 === 0 ? cut % 7 : 0))
      expect(outcome(() => wasm.decompress(src))).toEqual(outcome(() => js.decompress(src)))
    }
  )

  test.prop([fc.uint8Array({ maxLength: 4000 }), fc.array(fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }), { maxLength: 8 })], { numRuns: 1000 })(
    'snappyjs blocks with bytes changed: same bytes or same error',
    (input, edits) => {
      const src = snappyjs.compress(input).slice()
      for (const e of edits) src[e.at % src.length] = e.byte
      expect(outcome(() => wasm.decompress(src))).toEqual(outcome(() => js.decompress(src)))
    }
  )

  it('copies of every length 1..64 at offsets 1..40 in every form, each followed by a short literal', () => {
    const seed = Array.from({ length: 40 }, (_, i) => (i * 37 + 11) & 0xff)
    for (let offset = 1; offset <= 40; offset++) {
      for (let length = 1; length <= 64; length++) {
        const forms = [copy2(offset, length), copy4(offset, length)]
        if (length >= 4 && length <= 11) forms.push(copy1(offset, length))
        for (const copy of forms) {
          const src = block(header(40 + length + 3), literal(seed), copy, literal([1, 2, 3]))
          const want = js.decompress(src).slice()
          expect(Buffer.from(wasm.decompress(src)).equals(Buffer.from(want)), `offset ${offset}, length ${length}`).toBe(true)
        }
      }
    }
  })
})

describe('where its bytes live', () => {
  const js = new SnappyDecoder(LIMIT)

  it('reads a slot at an offset once and leaves it as it was; the result views its own memory', () => {
    const body = nodeExporterBody().body
    const compressed = snappyjs.compress(body)
    const slots = new Uint8Array(new SharedArrayBuffer(compressed.length + 1000)).fill(0xee)
    slots.set(compressed, 333)
    const src = slots.subarray(333, 333 + compressed.length)
    const decoder = new SnappyWasmDecoder(32 << 20)
    const out = decoder.decompress(src)
    expect(Buffer.from(out).equals(Buffer.from(body))).toBe(true)
    expect(out.buffer).not.toBe(slots.buffer)
    expect(out.buffer instanceof SharedArrayBuffer).toBe(false)
    expect(Buffer.from(src).equals(Buffer.from(compressed))).toBe(true)
    expect(slots.subarray(0, 333).every(b => b === 0xee) && slots.subarray(333 + compressed.length).every(b => b === 0xee)).toBe(true)
  })

  it('a copy that ends the output moves 64 bytes into the room after it, never into the copy of the input', () => {
    const decoder = new SnappyWasmDecoder(LIMIT)
    const seed = Array.from({ length: 64 }, (_, i) => 200 - i)
    // Every output length modulo 64, so that the room after the output is at its smallest in one of them.
    for (let extra = 0; extra < 64; extra++) {
      const pieces = [literal(seed)]
      for (let i = 0; i < extra; i++) pieces.push(copy2(64, 1))
      pieces.push(copy4(16, 1))
      const src = block(header(64 + extra + 1), ...pieces)
      const out = decoder.decompress(src)
      expect(Buffer.from(out).equals(Buffer.from(js.decompress(src)))).toBe(true)
      // The block's copy in the decoder's memory, after the output, is whole.
      const memory = Buffer.from(out.buffer)
      expect(memory.indexOf(Buffer.from(src), out.byteOffset + out.length), `output of ${out.length} bytes`).toBeGreaterThan(0)
    }
  })

  it('grows its memory for a bigger body, never shrinks, and the next body overwrites the last view', () => {
    const decoder = new SnappyWasmDecoder(LIMIT)
    expect(decoder.capacity).toBe(0) // no memory until the first body
    const small = decoder.decompress(snappyjs.compress(new Uint8Array(10).fill(3)))
    const first = decoder.capacity
    expect(first).toBeGreaterThan(0)
    decoder.decompress(snappyjs.compress(new Uint8Array(10).fill(5)))
    expect(Array.from(small)).toEqual(new Array(10).fill(5))

    const big = new Uint8Array(first * 2).fill(7)
    expect(Buffer.from(decoder.decompress(snappyjs.compress(big))).equals(Buffer.from(big))).toBe(true)
    const grown = decoder.capacity
    expect(grown).toBeGreaterThan(first * 2)
    expect(small.length).toBe(0) // the old memory was detached by the growth: its views are empty
    expect(Array.from(decoder.decompress(snappyjs.compress(new Uint8Array(10).fill(9))))).toEqual(new Array(10).fill(9))
    expect(decoder.capacity).toBe(grown)
  })

  it('refuses a declared length over the limit before growing, and stays usable after a bad block', () => {
    const decoder = new SnappyWasmDecoder(1000)
    const err = (() => { try { decoder.decompress(block(header(1 << 30), literal([1]))) } catch (e) { return e as IngestError } })()
    expect(err?.code).toBe('decompressed_too_large')
    expect(decoder.capacity).toBe(0)
    expect(outcome(() => decoder.decompress(block(header(10), literal([1, 2])))).code).toBe('snappy_malformed')
    expect(Array.from(decoder.decompress(block(header(2), literal([5, 6]))))).toEqual([5, 6])
  })

  it('a block too big for its memory limit is decoded by the JavaScript decoder instead', () => {
    const input = new Uint8Array(200_000).map((_, i) => i % 251)
    const decoder = new SnappyWasmDecoder(LIMIT, 100_000)
    const out = decoder.decompress(snappyjs.compress(input))
    expect(Buffer.from(out).equals(Buffer.from(input))).toBe(true)
    expect(decoder.capacity).toBe(0) // the WebAssembly memory was never made
    expect(Array.from(decoder.decompress(snappyjs.compress(Uint8Array.of(1, 2, 3))))).toEqual([1, 2, 3])
    expect(decoder.capacity).toBeGreaterThan(0)
  })
})
