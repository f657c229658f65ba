/**
 * Snappy block format encoder (the format is described above the decoder, src/decode/snappy.ts). Used
 * when the forwarder builds a body itself (a partial write, shard mode, a 413 split); a body received
 * whole is forwarded as it is and never goes through here.
 *
 * Like the reference encoder, the input is cut into fragments of 64 KiB so that every copy offset fits
 * two bytes (copy2), and a hash table of 4-byte sequences finds earlier occurrences within the fragment.
 * Matches are extended byte by byte; literals between matches are emitted whole.
 */

const FRAGMENT = 1 << 16
const HASH_BITS = 14
/** Reused across calls: one table, cleared per fragment (Int32Array.fill is a memset). */
const table = new Int32Array(1 << HASH_BITS)

/** Worst-case compressed size of `n` bytes (the reference's MaxCompressedLength). */
export function snappyMaxCompressedLength (n: number): number {
  return 32 + n + Math.floor(n / 6)
}

/** Compresses `src` into a new array holding exactly the block. */
export function snappyCompress (src: Uint8Array): Uint8Array {
  const dst = new Uint8Array(snappyMaxCompressedLength(src.length))
  const n = snappyCompressInto(src, dst)
  return dst.slice(0, n)
}

/** Compresses `src` into `dst` (at least snappyMaxCompressedLength long); returns the bytes written. */
export function snappyCompressInto (src: Uint8Array, dst: Uint8Array): number {
  let out = writeVarint(dst, 0, src.length)
  for (let start = 0; start < src.length; start += FRAGMENT) {
    out = compressFragment(src, start, Math.min(src.length, start + FRAGMENT), dst, out)
  }
  return out
}

function writeVarint (dst: Uint8Array, at: number, v: number): number {
  while (v >= 0x80) { dst[at++] = (v & 0x7f) | 0x80; v = Math.floor(v / 128) }
  dst[at++] = v
  return at
}

function load32 (s: Uint8Array, i: number): number {
  return (s[i]! | (s[i + 1]! << 8) | (s[i + 2]! << 16) | (s[i + 3]! << 24)) >>> 0
}

function hash (v: number): number {
  // Multiplicative hash of the 4 bytes (the constant the reference encoder uses).
  return Math.imul(v, 0x1e35a7bd) >>> (32 - HASH_BITS)
}

function compressFragment (src: Uint8Array, start: number, end: number, dst: Uint8Array, out: number): number {
  table.fill(-1)
  let literalStart = start
  let i = start
  // The last 4 bytes cannot start a match that load32 can read.
  const limit = end - 4
  while (i <= limit) {
    const v = load32(src, i)
    const h = hash(v)
    const candidate = table[h]!
    table[h] = i
    if (candidate < start || load32(src, candidate) !== v) {
      // Skip faster through data that does not compress (the reference's heuristic).
      i += 1 + ((i - literalStart) >>> 5)
      continue
    }
    // A match: extend it.
    let len = 4
    while (i + len < end && src[candidate + len] === src[i + len]) len++
    if (literalStart < i) out = emitLiteral(src, literalStart, i, dst, out)
    out = emitCopy(i - candidate, len, dst, out)
    i += len
    literalStart = i
    // Index the position just before the next search point, so that runs continue to be found.
    if (i - 1 <= limit && i - 1 >= start) table[hash(load32(src, i - 1))] = i - 1
  }
  if (literalStart < end) out = emitLiteral(src, literalStart, end, dst, out)
  return out
}

function emitLiteral (src: Uint8Array, from: number, to: number, dst: Uint8Array, out: number): number {
  const n = to - from - 1
  if (n < 60) {
    dst[out++] = n << 2
  } else if (n < 0x100) {
    dst[out++] = 60 << 2; dst[out++] = n
  } else if (n < 0x10000) {
    dst[out++] = 61 << 2; dst[out++] = n & 0xff; dst[out++] = n >>> 8
  } else if (n < 0x1000000) {
    dst[out++] = 62 << 2; dst[out++] = n & 0xff; dst[out++] = (n >>> 8) & 0xff; dst[out++] = n >>> 16
  } else {
    dst[out++] = 63 << 2; dst[out++] = n & 0xff; dst[out++] = (n >>> 8) & 0xff; dst[out++] = (n >>> 16) & 0xff; dst[out++] = n >>> 24
  }
  // Short literals by a byte loop: subarray + set cost more than the bytes (as in the decoder).
  if (to - from < 16) {
    for (let k = from; k < to; k++) dst[out++] = src[k]!
    return out
  }
  dst.set(src.subarray(from, to), out)
  return out + (to - from)
}

/** A copy of `len` bytes from `offset` back (offset < 65536 within a fragment). */
function emitCopy (offset: number, len: number, dst: Uint8Array, out: number): number {
  // copy2 takes up to 64 bytes; leave at least 4 for the tail so that it can be a copy1 or copy2.
  while (len >= 68) { dst[out++] = (63 << 2) | 2; dst[out++] = offset & 0xff; dst[out++] = offset >>> 8; len -= 64 }
  if (len > 64) { dst[out++] = (59 << 2) | 2; dst[out++] = offset & 0xff; dst[out++] = offset >>> 8; len -= 60 }
  if (len >= 4 && len < 12 && offset < 2048) {
    dst[out++] = ((offset >>> 8) << 5) | ((len - 4) << 2) | 1
    dst[out++] = offset & 0xff
    return out
  }
  dst[out++] = ((len - 1) << 2) | 2
  dst[out++] = offset & 0xff
  dst[out++] = offset >>> 8
  return out
}
