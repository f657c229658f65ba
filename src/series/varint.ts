/**
 * Protobuf base-128 varints of at most 32 bits, for the bytes prom-ingest writes itself: canonical
 * label encodings (labels.ts) and tenant prefixes (series-index.ts). The decoder reads request bodies
 * with its own unrolled readers (src/decode/wire-reader.ts).
 */

/** Bytes of the varint of n (n < 2^35). */
export function varintSize (n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5
}

/** Writes the varint of n (n < 2^32) at o; returns the position after it. */
export function writeVarint (b: Uint8Array, o: number, n: number): number {
  while (n >= 0x80) { b[o++] = (n & 0x7f) | 0x80; n >>>= 7 }
  b[o++] = n
  return o
}

/** The value of the varint at pos (at most 32 bits). */
export function readVarint (b: Uint8Array, pos: number): number {
  let v = 0
  let shift = 0
  for (;;) {
    const byte = b[pos++]!
    v += (byte & 0x7f) * 2 ** shift
    if (byte < 0x80) return v
    shift += 7
  }
}

/** The position after the varint at pos. */
export function skipVarint (b: Uint8Array, pos: number): number {
  while (b[pos++]! >= 0x80);
  return pos
}
