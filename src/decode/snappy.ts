/**
 * Snappy block format decoder (not the framing format): pure, no I/O, run in decode workers on every
 * request body, so the main loop is a hot path.
 *
 * Block format (github.com/google/snappy, format_description.txt):
 *
 *   block   = varint32(decompressed length) element*
 *   element = tag byte, low 2 bits give the kind:
 *     00 literal   len-1 in tag>>2 if < 60; 60..63 -> len-1 in the next 1..4 bytes (little endian); then len bytes
 *     01 copy1     len = 4 + ((tag>>2) & 7), offset = (tag>>5)<<8 | next byte              (11-bit offset)
 *     10 copy2     len = 1 + (tag>>2),       offset = next 2 bytes, little endian
 *     11 copy4     len = 1 + (tag>>2),       offset = next 4 bytes, little endian
 *   A copy repeats `len` bytes starting `offset` bytes back in the output; offset < len overlaps and
 *   repeats the last `offset` bytes (run-length encoding).
 *
 * Untrusted input: the declared length is checked against the limit before any memory is touched, and
 * every read of the input and every write of the output is bounds-checked, so a malformed block fails
 * with `snappy_malformed` naming what is wrong and where instead of returning a partial or garbage output.
 * Each tag byte is read once into a local, so even bytes changing under us in a shared slot could only
 * give wrong output, never a read or write out of bounds.
 *
 * Speed (bench/snappy.ts): literals of up to 16 bytes are two 8-byte moves, longer ones byte loops (long
 * ones one `set`); copies move 8 bytes at a time through a DataView, unrolled to 16, 32 or 64 bytes; on the
 * 10k-series body this is about 4x snappyjs `uncompress` (bench/README.md, "speed (issue 16)").
 *
 * The decode workers use the WebAssembly version of this loop (snappy-wasm.ts, about 3x faster) where the
 * engine runs it; this one names the error of every block that one refuses, and is the fallback.
 */
import { IngestError } from '../errors.js'

/** Literals shorter than this are copied by a byte loop: below it, `subarray` + `set` cost more than the bytes. */
const LITERAL_SET_MIN = 64
/**
 * Copies are moved 8 bytes at a time, 16, 32 or 64 bytes in all, possibly past their own end (the next
 * element overwrites the excess), while at least this many bytes of declared output are left, so that the
 * widest move stays inside the output. Snappy copies are at most 64 bytes long.
 */
const WIDE_COPY_ROOM = 64

/** End (exclusive) of the header varint read by the last `readHeader`; a module slot, so no object per call. */
let headerEnd = 0

/** Reads the varint32 header; sets `headerEnd`. */
function readHeader (src: Uint8Array): number {
  let value = 0
  let scale = 1 // multiply instead of shifting: a 5-byte varint does not fit a signed 32-bit shift
  const n = src.length
  for (let i = 0; i < 5; i++) {
    if (i >= n) {
      throw malformed(n === 0 ? 'the block is empty: no length header' : 'the length header varint is truncated', i, { headerBytes: i })
    }
    const b = src[i]!
    if (i === 4 && b > 0x0f) {
      throw malformed('the length header varint is overlong: the declared length does not fit 32 bits', i, { headerBytes: 5 })
    }
    value += (b & 0x7f) * scale
    if (b < 0x80) {
      headerEnd = i + 1
      return value
    }
    scale *= 128
  }
  throw malformed('the length header varint is overlong: more than 5 bytes', 5, { headerBytes: 5 })
}

/** Decompressed length declared by the varint header; throws IngestError('snappy_malformed') if the header is bad. */
export function snappyDecodedLength (src: Uint8Array): number {
  return readHeader(src)
}

/** Bytes of the header read by the last `snappyDecodedLength` (where the elements start). */
export function snappyHeaderBytes (): number {
  return headerEnd
}

/** What a decode worker needs of a snappy decoder: this JavaScript one or the WebAssembly one (snappy-wasm.ts). */
export interface SnappyBlockDecoder {
  readonly maxOutput: number
  /** Bytes of output buffer held now. */
  readonly capacity: number
  /** Decompresses one block; the result views the decoder's buffer and is valid until the next call. */
  decompress (src: Uint8Array): Uint8Array
}

/**
 * Decompresses src into dst (dst.length >= declared length), returns the number of bytes written (= declared length).
 * Checks the declared length against maxOutput BEFORE touching memory: over the limit -> IngestError('decompressed_too_large', ...).
 * Rejects every malformed input with IngestError('snappy_malformed', '<precise reason incl. offset>').
 *
 * `src` may view a SharedArrayBuffer slot; it is only read. On error, dst may hold partial output.
 */
export function snappyDecompressInto (src: Uint8Array, dst: Uint8Array, maxOutput: number): number {
  const outLen = readHeader(src)
  if (outLen > maxOutput) throw tooLarge(outLen, maxOutput)
  if (dst.length < outLen) {
    throw new IngestError('internal', `snappy output buffer holds ${dst.length} bytes, the block declares ${outLen}`, { declared: outLen, capacity: dst.length })
  }
  // A DataView for 8-byte moves inside the output: the only unaligned wide access JavaScript has.
  const words = new DataView(dst.buffer, dst.byteOffset, dst.byteLength)
  return decodeElements(src, headerEnd, dst, words, outLen, new DataView(src.buffer, src.byteOffset, src.byteLength))
}

/**
 * The element loop. Kept apart from the header checks so that it stays small and monomorphic: it only
 * ever sees Uint8Arrays, one DataView and small integers, and every error leaves through a throw of a helper's result.
 */
function decodeElements (src: Uint8Array, start: number, dst: Uint8Array, words: DataView, outLen: number, input: DataView): number {
  const srcLen = src.length
  let s = start
  let d = 0
  while (s < srcLen) {
    const at = s // where this element's tag is, for error messages
    const tag = src[s]!
    const kind = tag & 3
    if (kind === 0) {
      // Literal.
      let len = tag >>> 2
      if (len < 60) {
        s += 1
      } else {
        const extra = len - 59 // 1..4 length bytes follow the tag
        if (s + extra >= srcLen) throw malformed(`a literal's ${extra}-byte length is truncated`, at, { tag })
        len = src[s + 1]!
        if (extra > 1) len |= src[s + 2]! << 8
        if (extra > 2) len |= src[s + 3]! << 16
        if (extra > 3) len = (len | (src[s + 4]! << 24)) >>> 0 // >>> 0: a 4-byte length may set the sign bit
        s += 1 + extra
      }
      len += 1
      if (len > srcLen - s) throw malformed(`a literal of ${len} bytes is longer than the ${srcLen - s} bytes of input left`, at, { length: len })
      if (len > outLen - d) throw malformed(`a literal of ${len} bytes makes the output longer than the declared ${outLen} bytes`, at, { length: len, declared: outLen, written: d })
      if (len <= 16 && srcLen - s >= 16 && outLen - d >= 16) {
        // Most literals (1 to 16 bytes): two 8-byte moves, no loop. The bytes moved past the literal's end
        // are inside both buffers and are overwritten by the next element.
        words.setFloat64(d, input.getFloat64(s, true), true)
        words.setFloat64(d + 8, input.getFloat64(s + 8, true), true)
        s += len
        d += len
      } else if (len < LITERAL_SET_MIN) {
        // Short literal: a byte loop beats creating a subarray and calling set.
        for (const e = s + len; s < e; s++) dst[d++] = src[s]!
      } else {
        dst.set(src.subarray(s, s + len), d) // long literal: one memmove
        s += len
        d += len
      }
      continue
    }
    // Copies.
    let len: number
    let offset: number
    if (kind === 2) { // the commonest form first: any length up to 64
      if (s + 3 > srcLen) throw malformed('a 2-byte-offset copy tag is truncated', at, { tag })
      len = 1 + (tag >>> 2)
      offset = src[s + 1]! | (src[s + 2]! << 8)
      s += 3
    } else if (kind === 1) {
      if (s + 2 > srcLen) throw malformed('a 1-byte-offset copy tag is truncated', at, { tag })
      len = 4 + ((tag >>> 2) & 7)
      offset = ((tag >>> 5) << 8) | src[s + 1]!
      s += 2
    } else {
      if (s + 5 > srcLen) throw malformed('a 4-byte-offset copy tag is truncated', at, { tag })
      len = 1 + (tag >>> 2)
      offset = (src[s + 1]! | (src[s + 2]! << 8) | (src[s + 3]! << 16) | (src[s + 4]! << 24)) >>> 0 // >>> 0: keep it unsigned
      s += 5
    }
    if (offset === 0 || offset > d || len > outLen - d) { // one branch on the way of a good copy
      if (offset === 0) throw malformed('a copy has offset 0', at, { length: len })
      if (offset > d) throw malformed(`a copy reaches ${offset} bytes back but only ${d} bytes have been written`, at, { offset, written: d })
      throw malformed(`a copy of ${len} bytes makes the output longer than the declared ${outLen} bytes`, at, { length: len, declared: outLen, written: d })
    }
    let from = d - offset
    if (offset >= 8 && outLen - d >= WIDE_COPY_ROOM) {
      // Wide copy, 8 bytes a move: moves in order are right even when the copy overlaps itself, as long as
      // each 8 bytes read were written before (offset >= 8). One DataView move costs about what one byte
      // move does, so this is several times faster than a byte loop, and faster than copyWithin, whose
      // call costs more than the 4 to 64 bytes of a snappy copy.
      // getFloat64/setFloat64 carry the 8 bytes through a float register unchanged, signalling NaNs
      // (stale markers) included: V8 never canonicalizes a NaN on this path (a test pins this down).
      // Two getUint32/setUint32 pairs are the integer alternative, measured 20 to 25% slower overall.
      // Unrolled by length class (copies are at most 64 bytes): 16, 32 or 64 bytes moved, no loop.
      words.setFloat64(d, words.getFloat64(from, true), true)
      words.setFloat64(d + 8, words.getFloat64(from + 8, true), true)
      if (len > 16) {
        words.setFloat64(d + 16, words.getFloat64(from + 16, true), true)
        words.setFloat64(d + 24, words.getFloat64(from + 24, true), true)
        if (len > 32) {
          words.setFloat64(d + 32, words.getFloat64(from + 32, true), true)
          words.setFloat64(d + 40, words.getFloat64(from + 40, true), true)
          words.setFloat64(d + 48, words.getFloat64(from + 48, true), true)
          words.setFloat64(d + 56, words.getFloat64(from + 56, true), true)
        }
      }
      d += len
    } else {
      // Offsets 1..7 (runs of a short pattern) and the last bytes of the output: a forward byte loop, which
      // repeats the last `offset` bytes when the copy overlaps itself.
      for (const end = d + len; d < end; d++) dst[d] = dst[from++]!
    }
  }
  if (d !== outLen) throw malformed(`the input ends after ${d} bytes of output, ${outLen} were declared`, s, { declared: outLen, written: d })
  return d
}

/** Builds (does not throw) the error, so the loop's `throw` sites stay visible to the reader and cheap to the compiler. */
function malformed (reason: string, offset: number, detail: Record<string, unknown> = {}): IngestError {
  return new IngestError('snappy_malformed', `snappy block: ${reason} (input offset ${offset})`, { offset, ...detail })
}

function tooLarge (declared: number, limit: number): IngestError {
  return new IngestError('decompressed_too_large', `snappy block declares ${declared} decompressed bytes, more than the limit of ${limit}`, { declared, limit })
}

/** First capacity of a SnappyDecoder's buffer; later growth doubles. */
const INITIAL_CAPACITY = 64 * 1024

/**
 * A reusable per-worker output buffer: grows by doubling up to the limit, never shrinks; `decompress`
 * returns a view of it, valid until the next call (the next body overwrites it).
 */
export class SnappyDecoder implements SnappyBlockDecoder {
  readonly maxOutput: number
  private buf: Uint8Array

  constructor (maxOutput: number) {
    if (!(Number.isInteger(maxOutput) && maxOutput >= 0)) {
      throw new IngestError('config_invalid', `snappy decoder limit must be a non-negative integer number of bytes, got ${maxOutput}`)
    }
    this.maxOutput = maxOutput
    this.buf = new Uint8Array(new ArrayBuffer(Math.min(INITIAL_CAPACITY, maxOutput)))
  }

  /** Bytes the output buffer holds now (for tests and metrics). */
  get capacity (): number { return this.buf.length }

  /** Decompresses one block; the result views this decoder's buffer and is valid until the next call. */
  decompress (src: Uint8Array): Uint8Array {
    const declared = readHeader(src)
    if (declared > this.maxOutput) throw tooLarge(declared, this.maxOutput) // before growing: a bomb allocates nothing
    if (declared > this.buf.length) this.grow(declared)
    const n = snappyDecompressInto(src, this.buf, this.maxOutput)
    return this.buf.subarray(0, n)
  }

  private grow (need: number): void {
    let cap = Math.max(this.buf.length, 1)
    while (cap < need) cap *= 2
    this.buf = new Uint8Array(new ArrayBuffer(Math.min(cap, this.maxOutput)))
  }
}
