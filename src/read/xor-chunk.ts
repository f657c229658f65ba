/**
 * Prometheus' XOR chunk encoding (tsdb/chunkenc/xor.go, Gorilla compression), written from the format,
 * with a decoder for tests and tools. Pure, no I/O. Remote read's STREAMED_XOR_CHUNKS answers carry
 * float samples in these chunks.
 *
 *   chunk = u16 big-endian sample count, then a bit stream (most significant bit first, the last
 *           byte padded with zero bits):
 *   sample 0   varint(t) (signed, zigzag)         then the value's 64 bits
 *   sample 1   uvarint(t1 - t0)                    then the value as an XOR (below)
 *   sample n   dod = (tn - tn-1) - (tn-1 - tn-2):
 *                0                    '0'
 *                -8191..8192          '10'   + 14 bits (two's complement)
 *                -65535..65536        '110'  + 17 bits
 *                -524287..524288      '1110' + 20 bits
 *                otherwise            '1111' + 64 bits
 *              then the value as an XOR
 *   value XOR  x = bits(v) ^ bits(previous v):
 *                x == 0                                          '0'
 *                x's meaningful bits fit the previous window     '10' + (64 - lead - trail) bits of x >> trail
 *                otherwise                                       '11' + 5 bits leading zeros (at most 31)
 *                                                                + 6 bits of meaningful bit count (64 written as 0)
 *                                                                + those bits of x >> trailing
 *
 * Values travel as their two 32-bit words (little-endian order: low word first, as a Float64Array's
 * bytes read through a Uint32Array), never as JavaScript numbers, so that a stale marker (NaN
 * 0x7ff0000000000002) and every other NaN payload keep their bits.
 */

/** Samples per chunk: Prometheus cuts its head chunks at 120 samples. */
export const SAMPLES_PER_CHUNK = 120

/** A growable bit stream written most significant bit first. */
class BitWriter {
  bytes: Uint8Array
  /** Index of the byte being filled. */
  pos: number
  /** Bits still free in bytes[pos] (0: the next write starts a new byte). */
  free = 0

  constructor (capacity: number, headerBytes: number) {
    this.bytes = new Uint8Array(Math.max(capacity, headerBytes + 16))
    this.pos = headerBytes - 1
  }

  private room (): void {
    if (this.pos + 1 < this.bytes.length) return
    const next = new Uint8Array(this.bytes.length * 2)
    next.set(this.bytes)
    this.bytes = next
  }

  /** The low `n` bits of `v` (n <= 32, v taken as unsigned). */
  bits (v: number, n: number): void {
    while (n > 0) {
      if (this.free === 0) { this.room(); this.pos++; this.bytes[this.pos] = 0; this.free = 8 }
      const k = Math.min(n, this.free)
      // The next k bits of v (from the top of the n still to write): k <= 8, so the mask is small.
      const chunk = (v >>> (n - k)) & ((1 << k) - 1)
      this.bytes[this.pos]! |= chunk << (this.free - k)
      this.free -= k
      n -= k
    }
  }

  /** The low `n` bits (n <= 64) of the 64-bit word hi:lo. */
  bits64 (hi: number, lo: number, n: number): void {
    if (n > 32) { this.bits(hi, n - 32); this.bits(lo, 32) } else this.bits(lo, n)
  }

  /** A whole byte, at any bit position (Prometheus writes its varints this way). */
  byte (b: number): void { this.bits(b, 8) }

  /** The bytes written, a copy. */
  finish (): Uint8Array { return this.bytes.slice(0, this.pos + 1) }
}

function clz64 (hi: number, lo: number): number { return hi !== 0 ? Math.clz32(hi) : 32 + Math.clz32(lo) }
function ctz32 (x: number): number { return 31 - Math.clz32(x & -x) }
function ctz64 (hi: number, lo: number): number { return lo !== 0 ? ctz32(lo) : 32 + ctz32(hi) }

/** Writes an unsigned varint of a non-negative safe integer, one byte at a time through the bit stream. */
function uvarint (w: BitWriter, v: number): void {
  while (v >= 0x80) { w.byte((v % 128) | 0x80); v = Math.floor(v / 128) }
  w.byte(v)
}

/** Writes an unsigned varint of a 64-bit two's complement value (a negative delta, out of order input). */
function uvarintBig (w: BitWriter, v: bigint): void {
  let u = BigInt.asUintN(64, v)
  while (u >= 0x80n) { w.byte(Number(u & 0x7fn) | 0x80); u >>= 7n }
  w.byte(Number(u))
}

/** -(2^(n-1) - 1) <= x <= 2^(n-1): Prometheus' bitRange, which is one wider on the positive side. */
function fits (x: number, n: number): boolean {
  const half = 2 ** (n - 1)
  return x >= -(half - 1) && x <= half
}

/**
 * Encodes samples [from, to) as one XOR chunk (at most 65,535 samples; Prometheus uses 120).
 * `ts`: millisecond timestamps (integers). `words`: each value's two 32-bit words, low word first
 * (`words[2i]` low, `words[2i + 1]` high).
 */
export function encodeXorChunk (ts: ArrayLike<number>, words: ArrayLike<number>, from = 0, to = ts.length): Uint8Array {
  const n = to - from
  if (n < 0 || n > 0xffff) throw new RangeError(`an XOR chunk holds 0 to 65535 samples, not ${n}`)
  const w = new BitWriter(2 + n * 2 + 16, 2)
  w.bytes[0] = n >>> 8
  w.bytes[1] = n & 0xff
  let t = 0
  let tDelta = 0
  let vhi = 0
  let vlo = 0
  let leading = 0xff // none yet: the first XOR always writes its window
  let trailing = 0
  for (let i = from; i < to; i++) {
    const ti = ts[i]!
    const lo = words[2 * i]! >>> 0
    const hi = words[2 * i + 1]! >>> 0
    if (i === from) {
      // Signed varint: zigzag, then unsigned. Timestamps are within ±2^52, so 2t stays exact.
      uvarint(w, ti >= 0 ? 2 * ti : -2 * ti - 1)
      w.bits(hi, 32)
      w.bits(lo, 32)
    } else {
      const d = ti - t
      if (i === from + 1) {
        if (d >= 0) uvarint(w, d)
        else uvarintBig(w, BigInt(d))
      } else {
        const dod = d - tDelta
        if (dod === 0) w.bits(0, 1)
        else if (fits(dod, 14)) { w.bits(0b10, 2); w.bits(dod & 0x3fff, 14) }
        else if (fits(dod, 17)) { w.bits(0b110, 3); w.bits(dod & 0x1ffff, 17) }
        else if (fits(dod, 20)) { w.bits(0b1110, 4); w.bits(dod & 0xfffff, 20) }
        else {
          w.bits(0b1111, 4)
          const u = BigInt.asUintN(64, BigInt(dod))
          w.bits(Number(u >> 32n), 32)
          w.bits(Number(u & 0xffffffffn), 32)
        }
      }
      tDelta = d
      const xhi = (hi ^ vhi) >>> 0
      const xlo = (lo ^ vlo) >>> 0
      if (xhi === 0 && xlo === 0) {
        w.bits(0, 1)
      } else {
        w.bits(1, 1)
        let lead = clz64(xhi, xlo)
        const trail = ctz64(xhi, xlo)
        if (lead >= 32) lead = 31 // 5 bits hold at most 31 (Prometheus clamps the same way)
        if (leading !== 0xff && lead >= leading && trail >= trailing) {
          // Fits the previous window: '0' and the window's bits.
          w.bits(0, 1)
          writeShifted(w, xhi, xlo, trailing, 64 - leading - trailing)
        } else {
          leading = lead
          trailing = trail
          const sig = 64 - lead - trail
          w.bits(1, 1)
          w.bits(lead, 5)
          w.bits(sig & 0x3f, 6) // 64 meaningful bits are written as 0
          writeShifted(w, xhi, xlo, trail, sig)
        }
      }
    }
    t = ti
    vhi = hi
    vlo = lo
  }
  return w.finish()
}

/** Writes the low `n` bits of (hi:lo >> shift). */
function writeShifted (w: BitWriter, hi: number, lo: number, shift: number, n: number): void {
  let shi: number
  let slo: number
  if (shift === 0) { shi = hi; slo = lo } else if (shift < 32) {
    slo = ((lo >>> shift) | (hi << (32 - shift))) >>> 0
    shi = hi >>> shift
  } else { slo = hi >>> (shift - 32); shi = 0 }
  w.bits64(shi, slo, n)
}

/** A decoded chunk: timestamps, and each value's two 32-bit words (low first). */
export interface XorSamples {
  readonly ts: number[]
  readonly words: Uint32Array
}

/** Reads a bit stream most significant bit first; reading past the end throws. */
class BitReader {
  private pos: number
  private bit = 0
  constructor (private readonly b: Uint8Array, start: number) { this.pos = start }

  one (): number {
    if (this.pos >= this.b.length) throw new RangeError('the XOR chunk ends in the middle of a sample')
    const v = (this.b[this.pos]! >>> (7 - this.bit)) & 1
    if (++this.bit === 8) { this.bit = 0; this.pos++ }
    return v
  }

  /** n <= 32 bits as an unsigned number. */
  bits (n: number): number {
    let v = 0
    for (let k = 0; k < n; k++) v = v * 2 + this.one()
    return v
  }

  byte (): number { return this.bits(8) }
}

function readUvarint (r: BitReader): bigint {
  let v = 0n
  for (let shift = 0n; shift < 70n; shift += 7n) {
    const b = r.byte()
    v |= BigInt(b & 0x7f) << shift
    if (b < 0x80) return v
  }
  throw new RangeError('the XOR chunk has a varint longer than 10 bytes')
}

/** Decodes an XOR chunk (a decoder for tests and tools; the service only encodes). */
export function decodeXorChunk (chunk: Uint8Array): XorSamples {
  if (chunk.length < 2) throw new RangeError('an XOR chunk has at least its 2-byte sample count')
  const n = (chunk[0]! << 8) | chunk[1]!
  const r = new BitReader(chunk, 2)
  const ts: number[] = []
  const words = new Uint32Array(2 * n)
  let t = 0n
  let tDelta = 0n
  let vhi = 0
  let vlo = 0
  let leading = 0
  let trailing = 0
  for (let i = 0; i < n; i++) {
    if (i === 0) {
      const z = readUvarint(r)
      t = (z & 1n) === 0n ? z >> 1n : -(z >> 1n) - 1n
      vhi = r.bits(32)
      vlo = r.bits(32)
    } else {
      if (i === 1) {
        tDelta = BigInt.asIntN(64, readUvarint(r))
      } else {
        let prefix = 0
        while (prefix < 4 && r.one() === 1) prefix++
        let dod = 0n
        if (prefix === 4) {
          dod = BigInt.asIntN(64, (BigInt(r.bits(32)) << 32n) | BigInt(r.bits(32)))
        } else if (prefix > 0) {
          const size = [0, 14, 17, 20][prefix]!
          let bits = r.bits(size)
          if (bits > 2 ** (size - 1)) bits -= 2 ** size // Prometheus' sign rule: one wider on the positive side
          dod = BigInt(bits)
        }
        tDelta += dod
      }
      t += tDelta
      if (r.one() === 1) {
        if (r.one() === 1) {
          leading = r.bits(5)
          let sig = r.bits(6)
          if (sig === 0) sig = 64
          trailing = 64 - leading - sig
        }
        const sig = 64 - leading - trailing
        let xhi = 0
        let xlo = 0
        if (sig > 32) { xhi = r.bits(sig - 32); xlo = r.bits(32) } else xlo = r.bits(sig)
        // Shift hi:lo left by trailing.
        if (trailing >= 32) { xhi = xlo << (trailing - 32); xlo = 0 } else if (trailing > 0) {
          xhi = (xhi << trailing) | (xlo >>> (32 - trailing))
          xlo = xlo << trailing
        }
        vhi = (vhi ^ xhi) >>> 0
        vlo = (vlo ^ xlo) >>> 0
      }
    }
    ts.push(Number(t))
    words[2 * i] = vlo
    words[2 * i + 1] = vhi
  }
  return { ts, words }
}

/** Value words of numbers (tests and tools): each number's bits, low word first. */
export function wordsOf (values: readonly number[] | Float64Array): Uint32Array {
  const f = values instanceof Float64Array ? values : Float64Array.from(values)
  return new Uint32Array(f.buffer, f.byteOffset, f.length * 2)
}
