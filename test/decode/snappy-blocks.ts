/**
 * A tiny, readable builder of snappy blocks, element by element, for tests: valid blocks the compressor
 * would never produce (long overlapping copies, 4-byte offsets) and malformed ones (truncated tags, bad
 * offsets, lengths that disagree with the header).
 *
 *   block(header(5), literal([1, 2]), copy1(2, 4))   // "1 2" then 4 bytes copied from 2 back: 1 2 1 2 1 2
 *
 * Every piece is a plain byte array; `block` concatenates them. Nothing here checks validity: that is
 * the decoder's job.
 */

/** The length header: `declared` as a varint (unsigned LEB128). */
export function header (declared: number): number[] {
  const out: number[] = []
  let v = declared
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80)
    v = Math.floor(v / 0x80)
  }
  out.push(v)
  return out
}

/** Raw header bytes, for overlong and truncated varints. */
export function rawHeader (...bytes: number[]): number[] {
  return bytes
}

/**
 * A literal element: tag plus `bytes`. Lengths up to 60 fit the tag; longer ones take 1 to 4 length bytes
 * (the fewest needed, or `lengthBytes` to force a wider form).
 */
export function literal (bytes: ArrayLike<number>, lengthBytes?: 0 | 1 | 2 | 3 | 4): number[] {
  return [...literalTag(bytes.length, lengthBytes), ...Array.from(bytes)]
}

/** The tag (and length bytes) of a literal of `length` bytes, without the bytes. */
export function literalTag (length: number, lengthBytes?: 0 | 1 | 2 | 3 | 4): number[] {
  const n = length - 1
  const width = lengthBytes ?? (n < 60 ? 0 : n < 0x100 ? 1 : n < 0x10000 ? 2 : n < 0x1000000 ? 3 : 4)
  if (width === 0) return [n << 2]
  const out = [(59 + width) << 2]
  for (let i = 0, v = n; i < width; i++, v = Math.floor(v / 256)) out.push(v % 256)
  return out
}

/** Copy with a 1-byte offset: length 4..11, offset 0..2047. */
export function copy1 (offset: number, length: number): number[] {
  return [((offset >> 8) << 5) | ((length - 4) << 2) | 1, offset & 0xff]
}

/** Copy with a 2-byte offset: length 1..64, offset 0..65535. */
export function copy2 (offset: number, length: number): number[] {
  return [((length - 1) << 2) | 2, offset & 0xff, (offset >> 8) & 0xff]
}

/** Copy with a 4-byte offset: length 1..64, offset 0..2^32-1. */
export function copy4 (offset: number, length: number): number[] {
  return [((length - 1) << 2) | 3, offset & 0xff, (offset >>> 8) & 0xff, (offset >>> 16) & 0xff, (offset >>> 24) & 0xff]
}

/** Concatenates pieces into one block. */
export function block (...pieces: number[][]): Uint8Array {
  return Uint8Array.from(pieces.flat())
}
