/**
 * The framing of one forward-queue record on disk: a 24-byte header, then the payload (opaque bytes,
 * the forwarder's format). Pure, no I/O.
 *
 *   offset  size  field
 *        0     4  crc       u32 LE: CRC-32C of bytes 4..24 of the header, then of the payload
 *        4     4  length    u32 LE: payload bytes (at most MAX_PAYLOAD_BYTES)
 *        8     8  position  u64 LE: the record's own log position (segment base + offset in the file)
 *       16     8  appended  f64 LE: wall-clock ms when the record was appended
 *       24     n  payload
 *
 * The position field makes resynchronising after damage safe and cheap: a candidate header at file
 * offset q must name base + q as its position before its length and CRC are even looked at, so stale
 * or shifted bytes (another segment's records, a payload that happens to hold a record) do not pass.
 */
import { crc32c } from './crc32c.js'

export const HEADER_BYTES = 24
/** Largest payload a record may hold; request bodies are far smaller (the receiver's body limit). */
export const MAX_PAYLOAD_BYTES = 1 << 30

const TWO_32 = 2 ** 32

/** Fills `header` (24 bytes) for a record at `position` whose payload is `parts` in turn. */
export function encodeHeader (header: Uint8Array, parts: readonly Uint8Array[], payloadBytes: number, position: number, appendedAtMs: number): void {
  const view = new DataView(header.buffer, header.byteOffset, HEADER_BYTES)
  view.setUint32(4, payloadBytes, true)
  view.setUint32(8, position % TWO_32, true)
  view.setUint32(12, Math.floor(position / TWO_32), true)
  view.setFloat64(16, appendedAtMs, true)
  let crc = crc32c(header, 4, HEADER_BYTES)
  for (const p of parts) crc = crc32c(p, 0, p.length, crc)
  view.setUint32(0, crc, true)
}

/** The header fields of the record at `at` in `bytes` (at least 24 bytes there), unchecked. */
export interface HeaderFields {
  crc: number
  length: number
  position: number
  appendedAtMs: number
}

export function readHeader (bytes: Uint8Array, at: number, out: HeaderFields): HeaderFields {
  const view = new DataView(bytes.buffer, bytes.byteOffset + at, HEADER_BYTES)
  out.crc = view.getUint32(0, true)
  out.length = view.getUint32(4, true)
  out.position = view.getUint32(8, true) + view.getUint32(12, true) * TWO_32
  out.appendedAtMs = view.getFloat64(16, true)
  return out
}

/** The low 32 bits of the position field at `at`: the first, cheapest test of a resync candidate. */
export function positionLow (bytes: Uint8Array, at: number): number {
  return (bytes[at + 8]! | (bytes[at + 9]! << 8) | (bytes[at + 10]! << 16) | (bytes[at + 11]! << 24)) >>> 0
}

/** The low 32 bits of a position, to compare with `positionLow`. */
export function low32 (position: number): number {
  return position % TWO_32
}

/** CRC of the header fields after the crc word (continue it over the payload to check a record). */
export function headerCrc (bytes: Uint8Array, at: number): number {
  return crc32c(bytes, at + 4, at + HEADER_BYTES)
}

/**
 * Whether the complete record at `at` (header and payload in `bytes`) is intact and belongs at
 * `position`: the position field, the length and the CRC all check out.
 */
export function recordIntact (bytes: Uint8Array, at: number, position: number, h: HeaderFields): boolean {
  readHeader(bytes, at, h)
  if (h.position !== position || h.length > MAX_PAYLOAD_BYTES || at + HEADER_BYTES + h.length > bytes.length) return false
  return crc32c(bytes, at + HEADER_BYTES, at + HEADER_BYTES + h.length, headerCrc(bytes, at)) === h.crc
}
