/**
 * The snappy block decoder: round trips against snappyjs `compress` (the reference), hand-built valid
 * blocks the compressor never writes, and every kind of malformed block rejected with its own message.
 * Every block here also goes through the WebAssembly decoder (src/decode/snappy-wasm.ts), which must give
 * the same bytes or the same error; test/decode/snappy-wasm.test.ts has its own cases.
 */
import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'
import { fc, test } from '@fast-check/vitest'
import { SnappyDecoder, snappyDecodedLength, snappyDecompressInto } from '../../src/decode/snappy.js'
import { SnappyWasmDecoder } from '../../src/decode/snappy-wasm.js'
import { IngestError, type ErrorCode } from '../../src/errors.js'
import { nodeExporterBody } from '../fixtures/node-exporter-body.js'
import { block, copy1, copy2, copy4, header, literal, literalTag, rawHeader } from './snappy-blocks.js'

// snappyjs is the reference compressor here, and only here: its decoder has no bounds checks.
const snappyjs = createRequire(import.meta.url)('snappyjs') as { compress(input: Uint8Array): Uint8Array }

const MiB = 1024 * 1024
const LIMIT = 32 * MiB

/** One WebAssembly decoder per limit, reused as a worker reuses its own. */
const wasmDecoders = new Map<number, SnappyWasmDecoder>()
function wasmDecoder (limit: number): SnappyWasmDecoder {
  let d = wasmDecoders.get(limit)
  if (d === undefined) {
    d = new SnappyWasmDecoder(limit)
    wasmDecoders.set(limit, d)
  }
  return d
}

/** Decompresses with a fresh, exactly sized output buffer; the WebAssembly decoder must give the same bytes. */
function decompress (src: Uint8Array, limit = LIMIT): Uint8Array {
  const dst = new Uint8Array(snappyDecodedLength(src))
  const n = snappyDecompressInto(src, dst, limit)
  expect(n).toBe(dst.length)
  expectBytes(wasmDecoder(limit).decompress(src), dst)
  return dst
}

/** Compresses with snappyjs, decompresses with ours, both ways (fresh buffer and SnappyDecoder), from a SharedArrayBuffer. */
function expectRoundTrip (input: Uint8Array): void {
  const compressed = snappyjs.compress(input)
  const slot = new Uint8Array(new SharedArrayBuffer(compressed.length))
  slot.set(compressed)
  expect(snappyDecodedLength(slot)).toBe(input.length)
  expectBytes(decompress(slot), input)
  expectBytes(new SnappyDecoder(LIMIT).decompress(slot), input)
  expectBytes(wasmDecoder(LIMIT).decompress(slot), input)
  const shared = new Uint8Array(new SharedArrayBuffer(input.length)) // output into shared memory works too
  expect(snappyDecompressInto(slot, shared, LIMIT)).toBe(input.length)
  expectBytes(shared, input)
}

/** Runs `fn` and returns the IngestError it throws (fails the test if it throws nothing or something else). */
function thrown (fn: () => unknown): IngestError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(IngestError)
    return err as IngestError
  }
  throw new Error('expected an IngestError, nothing was thrown')
}

function expectRejected (src: Uint8Array, code: ErrorCode, message: RegExp, limit = LIMIT): IngestError {
  const dst = new Uint8Array(4096) // room for every declared length below; a bigger one must fail on the limit first
  const err = thrown(() => snappyDecompressInto(src, dst, limit))
  expect(err.code).toBe(code)
  expect(err.message).toMatch(message)
  // The same through the reusable decoder.
  const again = thrown(() => new SnappyDecoder(limit).decompress(src))
  expect(again.code).toBe(code)
  expect(again.message).toBe(err.message)
  // The same through the WebAssembly decoder, reused after its earlier blocks.
  const wasm = thrown(() => wasmDecoder(limit).decompress(src))
  expect(wasm.code).toBe(code)
  expect(wasm.message).toBe(err.message)
  expect(wasm.detail).toEqual(err.detail)
  return err
}

/** Byte-for-byte equality that names the first difference (toEqual on big typed arrays is slow). */
function expectBytes (got: Uint8Array, want: Uint8Array): void {
  expect(got.length).toBe(want.length)
  const i = got.findIndex((b, k) => b !== want[k])
  expect(i, i < 0 ? '' : `first difference at byte ${i}: got ${got[i]}, want ${want[i]}`).toBe(-1)
}

function bytes (n: number, f: (i: number) => number): Uint8Array {
  const out = new Uint8Array(n)
  for (let i = 0; i < n; i++) out[i] = f(i)
  return out
}

/** Deterministic pseudo-random bytes (xorshift32), so failures reproduce. */
function randomBytes (n: number, seed = 0x9e3779b9): Uint8Array {
  let x = seed
  return bytes(n, () => {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5
    return x & 0xff
  })
}

describe('round trips against snappyjs compress', () => {
  it('empty input', () => {
    expect(Array.from(snappyjs.compress(new Uint8Array(0)))).toEqual([0])
    expectRoundTrip(new Uint8Array(0))
  })

  it('one byte', () => {
    expectRoundTrip(Uint8Array.of(42))
  })

  it('all byte values, once and repeated', () => {
    expectRoundTrip(bytes(256, i => i))
    expectRoundTrip(bytes(256 * 40, i => i & 0xff))
  })

  it('runs: one byte repeated, and patterns of every period from 2 to 20 (long overlapping copies)', () => {
    expectRoundTrip(new Uint8Array(100_000).fill(7))
    for (let period = 2; period <= 20; period++) expectRoundTrip(bytes(5_000 + period, i => (i % period) * 13))
  })

  it('random incompressible data (long literals)', () => {
    expectRoundTrip(randomBytes(300_000))
  })

  it('mixed: random stretches with repeats far back (4-byte offsets are never written by snappyjs, see below)', () => {
    const base = randomBytes(70_000, 7)
    const input = new Uint8Array(200_000)
    for (let i = 0; i < input.length; i += 70_000) input.set(base.subarray(0, Math.min(70_000, input.length - i)), i)
    expectRoundTrip(input)
  })

  it('the 10k-series remote-write body', () => {
    const { body, description } = nodeExporterBody()
    expect(body.length).toBe(description.bytes)
    expectRoundTrip(body)
  })

  test.prop([fc.uint8Array({ maxLength: 5000 })], { numRuns: 300 })('arbitrary bytes', input => {
    expectRoundTrip(input)
  })

  // Pieces that repeat earlier pieces give the compressor copies of every length and offset.
  const repetitive = fc.array(fc.oneof(
    fc.uint8Array({ minLength: 1, maxLength: 80 }),
    fc.record({ back: fc.nat(), length: fc.integer({ min: 1, max: 300 }) })
  ), { maxLength: 60 }).map(pieces => {
    const out: number[] = []
    for (const p of pieces) {
      if (p instanceof Uint8Array) { out.push(...p); continue }
      if (out.length === 0) continue
      const from = out.length - 1 - (p.back % out.length)
      for (let i = 0; i < p.length; i++) out.push(out[from + i]!)
    }
    return Uint8Array.from(out)
  })
  test.prop([repetitive], { numRuns: 300 })('repetitive bytes (copies of every length and offset)', input => {
    expectRoundTrip(input)
  })
})

describe('valid blocks the compressor does not write', () => {
  it('long overlapping copies: offset 1 to 7 with length 64, many times', () => {
    for (let offset = 1; offset <= 7; offset++) {
      const seed = bytes(offset, i => 100 + i)
      const parts = [header(offset + 64 * 50), literal(seed)]
      for (let i = 0; i < 50; i++) parts.push(copy2(offset, 64))
      expectBytes(decompress(block(...parts)), bytes(offset + 64 * 50, i => 100 + (i % offset)))
    }
  })

  it('copies of every length 1..64 at offsets 1..80, at the end of the output and before more output', () => {
    const seed = randomBytes(80, 3)
    const tail = randomBytes(64, 5) // a literal after the copy leaves room for the wide copy path
    for (let offset = 1; offset <= 80; offset++) {
      for (let length = 1; length <= 64; length++) {
        const want = [...seed]
        for (let i = 0; i < length; i++) want.push(want[want.length - offset]!)
        const last = decompress(block(header(want.length), literal(seed), copy2(offset, length)))
        expect(Array.from(last)).toEqual(want)
        const inner = decompress(block(header(want.length + 64), literal(seed), copy2(offset, length), literal(tail)))
        expect(Array.from(inner)).toEqual([...want, ...tail])
      }
    }
  })

  it('4-byte offsets, every copy form for the same bytes, and non-minimal literal length forms', () => {
    const seed = bytes(20, i => i * 3)
    const want = [...seed, ...seed.subarray(2, 10)]
    for (const copy of [copy1(18, 8), copy2(18, 8), copy4(18, 8)]) {
      for (const width of [0, 1, 2, 3, 4] as const) {
        expect(Array.from(decompress(block(header(28), literal(seed, width), copy)))).toEqual(want)
      }
    }
  })

  it('a literal over 64 KiB (3-byte length) and one needing all 4 length bytes are read right', () => {
    const big = randomBytes(70_000, 11)
    expect(literalTag(70_000)).toHaveLength(4)
    expectBytes(decompress(block(header(70_000), literal(big))), big)
    expectBytes(decompress(block(header(70_000), literal(big, 4))), big)
  })

  it('a non-minimal header varint is accepted (as golang/snappy does)', () => {
    expect(snappyDecodedLength(block(rawHeader(0x83, 0x80, 0x00)))).toBe(3)
    expect(Array.from(decompress(block(rawHeader(0x83, 0x00), literal([1, 2, 3]))))).toEqual([1, 2, 3])
  })

  it('the largest header a 32-bit length allows', () => {
    expect(snappyDecodedLength(block(rawHeader(0xff, 0xff, 0xff, 0xff, 0x0f)))).toBe(0xffffffff)
  })
})

describe('where the output goes', () => {
  it('reads from a SharedArrayBuffer slot at an offset and writes into a view at an offset, touching nothing outside', () => {
    const body = nodeExporterBody().body.subarray(0, 200_000)
    const compressed = snappyjs.compress(body)
    const slots = new Uint8Array(new SharedArrayBuffer(compressed.length + 1000))
    slots.fill(0xee)
    slots.set(compressed, 333)
    const src = slots.subarray(333, 333 + compressed.length)

    const backing = new Uint8Array(body.length + 300).fill(0xab)
    const dst = backing.subarray(100, 100 + body.length + 50) // 50 spare bytes after the declared length
    expect(snappyDecompressInto(src, dst, LIMIT)).toBe(body.length)
    expectBytes(dst.subarray(0, body.length), body)
    // The wide copies never write past the declared length, into the rest of dst or around it.
    expect(backing.subarray(0, 100).every(b => b === 0xab)).toBe(true)
    expect(backing.subarray(100 + body.length).every(b => b === 0xab)).toBe(true)
    // The slot is only read.
    expectBytes(src, compressed)
  })

  it('keeps signalling NaN bits (stale markers) exact at every alignment, also once the loop is optimized', () => {
    // The wide copies move 8 bytes through getFloat64/setFloat64: this pins down that no tier of V8
    // rewrites a signalling NaN (0x7ff0000000000002, the stale marker) into a quiet one.
    const patterns = [0x7ff0000000000002n, 0x7ff0000000000001n, 0xfff0000000000001n, 0x7ff4000000000000n, 0x7ff8000000000001n]
    const unit = new Uint8Array(8 * patterns.length + 7)
    const view = new DataView(unit.buffer)
    const input = new Uint8Array(unit.length * 8 * 40)
    let at = 0
    for (let rep = 0; rep < 40; rep++) {
      for (let shift = 0; shift < 8; shift++) {
        unit.fill(rep) // a different filler each time keeps the compressor from collapsing everything into one run
        patterns.forEach((p, i) => { view.setBigUint64(shift + 8 * i, p, true) })
        input.set(unit, at)
        at += unit.length
      }
    }
    const compressed = snappyjs.compress(input)
    const decoder = new SnappyDecoder(LIMIT)
    for (let round = 0; round < 2000; round++) {
      const out = decoder.decompress(compressed)
      if (!Buffer.from(out).equals(Buffer.from(input))) expect.fail(`round ${round}: NaN bits changed`)
    }
  })
})

describe('SnappyDecoder: one output buffer, reused', () => {
  it('grows by doubling up to the limit and never shrinks; the view is overwritten by the next call', () => {
    const decoder = new SnappyDecoder(1 * MiB)
    const first = decoder.capacity
    expect(first).toBeLessThanOrEqual(64 * 1024)

    decoder.decompress(snappyjs.compress(new Uint8Array(10).fill(1)))
    expect(decoder.capacity).toBe(first)

    const big = new Uint8Array(first * 3 + 5).fill(2)
    expectBytes(decoder.decompress(snappyjs.compress(big)), big)
    expect(decoder.capacity).toBe(first * 4)

    const small = decoder.decompress(snappyjs.compress(new Uint8Array(10).fill(3)))
    expect(decoder.capacity).toBe(first * 4)
    expect(Array.from(small)).toEqual(new Array(10).fill(3))
    decoder.decompress(snappyjs.compress(new Uint8Array(10).fill(5)))
    expect(Array.from(small)).toEqual(new Array(10).fill(5)) // the earlier view sees the later body

    // Growth stops at the limit, even when doubling would pass it.
    const capped = new SnappyDecoder(300_000)
    const atLimit = new Uint8Array(300_000).fill(4)
    expectBytes(capped.decompress(snappyjs.compress(atLimit)), atLimit)
    expect(capped.capacity).toBe(300_000)
  })

  it('a declared length of 1 GiB with a 1 MiB limit throws before anything is allocated', () => {
    const decoder = new SnappyDecoder(1 * MiB)
    const bomb = block(header(1024 * MiB), literal([1, 2, 3]))
    const err = thrown(() => decoder.decompress(bomb))
    expect(err.code).toBe('decompressed_too_large')
    expect(err.message).toMatch(/declares 1073741824 decompressed bytes, more than the limit of 1048576/)
    expect(decoder.capacity).toBeLessThanOrEqual(1 * MiB)
    // snappyDecompressInto checks the limit before it looks at dst.
    const err2 = thrown(() => snappyDecompressInto(bomb, new Uint8Array(1), 1 * MiB))
    expect(err2.code).toBe('decompressed_too_large')
  })

  it('a decode error leaves the decoder usable', () => {
    const decoder = new SnappyDecoder(LIMIT)
    expect(thrown(() => decoder.decompress(block(header(10), literal([1, 2])))).code).toBe('snappy_malformed')
    expect(Array.from(decoder.decompress(block(header(2), literal([5, 6]))))).toEqual([5, 6])
  })

  it('rejects a limit that is not a byte count', () => {
    expect(thrown(() => new SnappyDecoder(-1)).code).toBe('config_invalid')
    expect(thrown(() => new SnappyDecoder(1.5)).code).toBe('config_invalid')
  })
})

describe('malformed blocks', () => {
  it('an empty block has no header', () => {
    expectRejected(block(), 'snappy_malformed', /block is empty: no length header/)
    expect(thrown(() => snappyDecodedLength(new Uint8Array(0))).code).toBe('snappy_malformed')
  })

  it('a truncated header varint', () => {
    expectRejected(block(rawHeader(0x80)), 'snappy_malformed', /length header varint is truncated \(input offset 1\)/)
    expectRejected(block(rawHeader(0xff, 0xff, 0xff)), 'snappy_malformed', /length header varint is truncated/)
    expect(thrown(() => snappyDecodedLength(block(rawHeader(0x80, 0x80)))).message).toMatch(/truncated/)
  })

  it('an overlong header varint: more than 5 bytes, or more than 32 bits', () => {
    expectRejected(block(rawHeader(0x80, 0x80, 0x80, 0x80, 0x80, 0x00)), 'snappy_malformed', /length header varint is overlong/)
    expectRejected(block(rawHeader(0xff, 0xff, 0xff, 0xff, 0x10)), 'snappy_malformed', /overlong: the declared length does not fit 32 bits/)
    expect(thrown(() => snappyDecodedLength(block(rawHeader(0xff, 0xff, 0xff, 0xff, 0x7f)))).code).toBe('snappy_malformed')
  })

  it('truncated literal length bytes', () => {
    // Tag 60<<2 says one length byte follows; there is none.
    const err = expectRejected(block(header(100), [60 << 2]), 'snappy_malformed', /a literal's 1-byte length is truncated \(input offset 1\)/)
    expect(err.detail).toMatchObject({ offset: 1 })
    // Tag 63<<2 says four length bytes follow; there are three.
    expectRejected(block(header(100), literal([9]), [63 << 2, 1, 0, 0]), 'snappy_malformed', /a literal's 4-byte length is truncated \(input offset 3\)/)
  })

  it('a literal longer than the remaining input', () => {
    expectRejected(block(header(10), literalTag(10), [1, 2, 3, 4, 5]), 'snappy_malformed', /a literal of 10 bytes is longer than the 5 bytes of input left \(input offset 1\)/)
    // A 4-byte length near 2^32.
    expectRejected(block(header(10), [63 << 2, 0xff, 0xff, 0xff, 0xff], [1]), 'snappy_malformed', /a literal of 4294967296 bytes is longer than the 1 bytes of input left/)
  })

  it('a truncated copy tag, for each copy form', () => {
    const four = literal([1, 2, 3, 4])
    expectRejected(block(header(8), four, copy1(4, 4).slice(0, 1)), 'snappy_malformed', /a 1-byte-offset copy tag is truncated \(input offset 6\)/)
    expectRejected(block(header(8), four, copy2(4, 4).slice(0, 2)), 'snappy_malformed', /a 2-byte-offset copy tag is truncated \(input offset 6\)/)
    expectRejected(block(header(8), four, copy4(4, 4).slice(0, 4)), 'snappy_malformed', /a 4-byte-offset copy tag is truncated \(input offset 6\)/)
  })

  it('a copy with offset 0', () => {
    for (const copy of [copy1(0, 4), copy2(0, 4), copy4(0, 4)]) {
      expectRejected(block(header(8), literal([1, 2, 3, 4]), copy), 'snappy_malformed', /a copy has offset 0 \(input offset 6\)/)
    }
  })

  it('a copy reaching before the start of the output', () => {
    expectRejected(block(header(9), literal([1, 2, 3, 4]), copy1(5, 4)), 'snappy_malformed', /a copy reaches 5 bytes back but only 4 bytes have been written \(input offset 6\)/)
    expectRejected(block(header(4), copy2(1, 4)), 'snappy_malformed', /a copy reaches 1 bytes back but only 0 bytes have been written \(input offset 1\)/)
    expectRejected(block(header(8), literal([1, 2, 3, 4]), copy4(0xffffffff, 4)), 'snappy_malformed', /a copy reaches 4294967295 bytes back/)
  })

  it('output longer than declared, by a literal or by a copy', () => {
    expectRejected(block(header(3), literal([1, 2, 3, 4])), 'snappy_malformed', /a literal of 4 bytes makes the output longer than the declared 3 bytes \(input offset 1\)/)
    expectRejected(block(header(7), literal([1, 2, 3, 4]), copy1(4, 4)), 'snappy_malformed', /a copy of 4 bytes makes the output longer than the declared 7 bytes \(input offset 6\)/)
    // Trailing elements after the declared output is complete.
    expectRejected(block(header(4), literal([1, 2, 3, 4]), literal([5])), 'snappy_malformed', /a literal of 1 bytes makes the output longer than the declared 4 bytes/)
  })

  it('output shorter than declared when the input ends', () => {
    const err = expectRejected(block(header(10), literal([1, 2, 3, 4])), 'snappy_malformed', /the input ends after 4 bytes of output, 10 were declared \(input offset 6\)/)
    expect(err.detail).toMatchObject({ declared: 10, written: 4 })
    expectRejected(block(header(1)), 'snappy_malformed', /the input ends after 0 bytes of output, 1 were declared/)
  })

  it('a declared length over the limit', () => {
    expectRejected(block(header(101), literal(new Uint8Array(101))), 'decompressed_too_large', /declares 101 decompressed bytes, more than the limit of 100/, 100)
    // At the limit is fine.
    expect(decompress(block(header(100), literal(new Uint8Array(100))), 100)).toHaveLength(100)
  })

  it('a dst smaller than the declared length is a caller bug, not bad input', () => {
    const err = thrown(() => snappyDecompressInto(block(header(10), literal(new Uint8Array(10))), new Uint8Array(9), LIMIT))
    expect(err.code).toBe('internal')
  })

  test.prop([fc.uint8Array({ maxLength: 3000 }), fc.array(fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }), { maxLength: 6 }), fc.nat()], { numRuns: 500 })(
    'mutated and truncated valid blocks either decode to the declared length or fail with snappy_malformed',
    (input, edits, cut) => {
      const mutated = snappyjs.compress(input).slice()
      for (const e of edits) mutated[e.at % mutated.length] = e.byte
      const src = mutated.subarray(0, cut % (mutated.length + 1))
      let declared: number
      try {
        declared = snappyDecodedLength(src)
      } catch (err) {
        expect((err as IngestError).code).toBe('snappy_malformed')
        return
      }
      const dst = new Uint8Array(Math.min(declared, 1 << 16))
      let jsError: IngestError | undefined
      try {
        expect(snappyDecompressInto(src, dst, dst.length)).toBe(declared)
      } catch (err) {
        expect(err).toBeInstanceOf(IngestError)
        expect(['snappy_malformed', 'decompressed_too_large']).toContain((err as IngestError).code)
        jsError = err as IngestError
      }
      // The WebAssembly decoder: the same bytes, or the same error.
      if (jsError === undefined) expectBytes(wasmDecoder(dst.length).decompress(src), dst)
      else expect(thrown(() => wasmDecoder(dst.length).decompress(src)).message).toBe(jsError.message)
    }
  )
})
