/**
 * Snappy block compression of a body with "holes": byte ranges (the timestamps) whose content changes
 * from one request to the next. The load generator compresses each body once at start-up and, per
 * request, writes the new timestamp straight into the compressed bytes, so it never compresses while
 * it measures.
 *
 * Every hole has the same width and, in the body given, the same placeholder bytes. The compressor
 * keeps the holes patchable: a copy (back-reference) may cover hole bytes only when its source covers
 * hole bytes at the same positions (the k-th byte of some hole copies the k-th byte of another), so
 * that once every literal hole byte is patched with the new timestamp, every copied one decodes to it
 * too. Hole bytes that land in literals are recorded; `patch` rewrites exactly those.
 *
 * The snappy block format (github.com/google/snappy, format_description.txt):
 *   preamble: uvarint(uncompressed length)
 *   elements: tag & 3 == 0 literal:  (len-1) << 2 when len <= 60, else 60..63 << 2 then len-1 in 1..4 bytes LE
 *             tag & 3 == 2 copy:     (len-1) << 2 | 2, then a 2-byte LE offset (1 <= len <= 64, offset < 65536)
 * (only these two element kinds are written: enough for a good ratio, and every decoder reads them).
 */

export interface PatchableBody {
  /** The compressed body; `patch` rewrites it in place (give each in-flight request its own copy). */
  readonly compressed: Uint8Array
  /** Offsets in `compressed` of hole bytes that sit in literals... */
  readonly patchOffsets: Int32Array
  /** ...and which byte of the hole each one is (0 = first). */
  readonly patchByte: Uint8Array
  readonly uncompressedLength: number
}

const HASH_BITS = 14
const MAX_OFFSET = 65535 // 2-byte copy offsets
const MAX_COPY = 64 //      longest 2-byte copy element

/**
 * Compresses `src`, in which `holeStarts` (ascending) each begin a hole of `holeWidth` bytes.
 */
export function compressWithHoles (src: Uint8Array, holeStarts: ArrayLike<number>, holeWidth: number): PatchableBody {
  if (holeWidth < 1 || holeWidth > 255) throw new RangeError(`hole width ${holeWidth} out of range`)
  const n = src.length
  // holeTag[i] = 0 for an ordinary byte, k + 1 for the k-th byte of a hole.
  const holeTag = new Uint8Array(n)
  for (let h = 0; h < holeStarts.length; h++) {
    const start = holeStarts[h]!
    for (let k = 0; k < holeWidth; k++) holeTag[start + k] = k + 1
  }

  // Worst case: all literals, with a tag every 60 bytes, plus the preamble.
  const out = new Uint8Array(n + Math.ceil(n / 60) * 5 + 16)
  let o = writeUvarint(out, 0, n)
  const patchOffsets: number[] = []
  const patchByte: number[] = []

  const emitLiteral = (from: number, to: number): void => {
    while (from < to) {
      const len = Math.min(to - from, 1 << 16)
      if (len <= 60) {
        out[o++] = (len - 1) << 2
      } else if (len <= 256) {
        out[o++] = 60 << 2
        out[o++] = len - 1
      } else {
        out[o++] = 61 << 2
        out[o++] = (len - 1) & 0xff
        out[o++] = (len - 1) >> 8
      }
      for (let i = from; i < from + len; i++) {
        const tag = holeTag[i]!
        if (tag !== 0) { patchOffsets.push(o); patchByte.push(tag - 1) }
        out[o++] = src[i]!
      }
      from += len
    }
  }

  // Greedy matching over a hash of the next 4 bytes (the plain snappy scheme, without its skip heuristic).
  const table = new Int32Array(1 << HASH_BITS).fill(-1)
  let i = 0
  let literalStart = 0
  while (i + 4 <= n) {
    const word = (src[i]! | (src[i + 1]! << 8) | (src[i + 2]! << 16) | (src[i + 3]! << 24)) >>> 0
    const h = Math.imul(word, 0x1e35a7bd) >>> (32 - HASH_BITS) // multiplicative hash: cheap, spreads well
    const candidate = table[h]!
    table[h] = i
    if (candidate < 0 || i - candidate > MAX_OFFSET || !sameAt(src, holeTag, candidate, i, 4)) {
      i++
      continue
    }
    let len = 4
    while (i + len < n && src[candidate + len] === src[i + len] && holeTag[candidate + len] === holeTag[i + len]) len++
    emitLiteral(literalStart, i)
    const offset = i - candidate
    let left = len
    while (left > 0) {
      // Never leave a piece shorter than 4 (still legal for 2-byte copies, but wasteful): split 64+rest evenly.
      const piece = left > MAX_COPY ? (left - MAX_COPY < 4 ? left - 4 : MAX_COPY) : left
      out[o++] = ((piece - 1) << 2) | 2
      out[o++] = offset & 0xff
      out[o++] = offset >> 8
      left -= piece
    }
    i += len
    literalStart = i
  }
  emitLiteral(literalStart, n)

  return {
    compressed: out.slice(0, o),
    patchOffsets: Int32Array.from(patchOffsets),
    patchByte: Uint8Array.from(patchByte),
    uncompressedLength: n
  }
}

function sameAt (src: Uint8Array, holeTag: Uint8Array, a: number, b: number, len: number): boolean {
  for (let k = 0; k < len; k++) {
    if (src[a + k] !== src[b + k] || holeTag[a + k] !== holeTag[b + k]) return false
  }
  return true
}

function writeUvarint (out: Uint8Array, o: number, v: number): number {
  while (v >= 0x80) {
    out[o++] = (v & 0x7f) | 0x80
    v = Math.floor(v / 128)
  }
  out[o++] = v
  return o
}

/** Writes `holeBytes` (the new content of every hole) into `compressed` (a copy of `body.compressed`). */
export function patch (body: PatchableBody, compressed: Uint8Array, holeBytes: Uint8Array): void {
  const offsets = body.patchOffsets
  const which = body.patchByte
  for (let i = 0; i < offsets.length; i++) compressed[offsets[i]!] = holeBytes[which[i]!]!
}
