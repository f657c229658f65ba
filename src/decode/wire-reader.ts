/**
 * The protobuf wire format, read in place: a cursor over the decompressed body and the readers of its
 * primitive values (varints of 32 and 64 bits, zigzag, doubles, length prefixes) and of fields a
 * message does not take (skipped, counted as ignored, or refused when a known field arrives with the
 * wrong wire type).
 *
 * Nothing here makes an object or a string: values come back as numbers, a 64-bit varint in `lo`/`hi`.
 * Every read is checked against a `limit` (the end of the enclosing message) and a body that breaks
 * the wire format throws `protobuf_malformed`.
 * Borrowed data: `u8`/`d` view the body (a slot or the snappy buffer) for the length of one walk.
 */
import { IngestError } from '../errors.js'

const TWO_32 = 4294967296

/** Field numbers a message's schema defines, as bit masks (bit n = field n): see `unknown`. */
export function fields (...numbers: number[]): number { return numbers.reduce((m, n) => m | (1 << n), 0) }

export class WireReader {
  u8: Uint8Array = new Uint8Array(0)
  d: DataView = new DataView(new ArrayBuffer(0))
  pos = 0
  /** Low and high 32 bits of the last 64-bit varint read by `varint64`. */
  lo = 0
  hi = 0
  /** Fields skipped because their number is not in the schema (unknown fields) in this walk. */
  ignoredFieldCount = 0

  /** Points the reader at a body; `u8` and `d` view the same bytes. */
  protected point (u8: Uint8Array, d: DataView): void {
    this.u8 = u8
    this.d = d
    this.pos = 0
    this.ignoredFieldCount = 0
  }

  malformed (what: string, at: number): never {
    throw new IngestError('protobuf_malformed', `malformed protobuf: ${what} at byte ${at} of ${this.u8.length}`, { at })
  }

  /** A varint of up to 32 significant bits (tags, lengths, enums, uint32 fields). */
  varint (limit: number): number {
    const b = this.u8
    let p = this.pos
    // Unrolled: tags and lengths are one or two bytes nearly always.
    let c = b[p++]!
    let v = c & 0x7f
    if (c > 0x7f) {
      c = b[p++]!; v |= (c & 0x7f) << 7
      if (c > 0x7f) {
        c = b[p++]!; v |= (c & 0x7f) << 14
        if (c > 0x7f) {
          c = b[p++]!; v |= (c & 0x7f) << 21
          if (c > 0x7f) {
            c = b[p++]!; v += (c & 0x0f) * 0x10000000
            // Bytes 6 to 10 of a 64-bit varint (negative int32 values are sign-extended): bits above 32 are dropped.
            for (let i = 0; c > 0x7f; i++) {
              if (i === 5) this.malformed('varint longer than 10 bytes', this.pos)
              c = b[p++]!
            }
          }
        }
      }
    }
    if (p > limit) this.malformed('truncated varint', this.pos)
    this.pos = p
    return v
  }

  /** A 64-bit varint into `lo`/`hi`. */
  varint64 (limit: number): void {
    const b = this.u8
    let p = this.pos
    let c = b[p++]!
    let lo = c & 0x7f
    let hi = 0
    if (c > 0x7f) {
      c = b[p++]!; lo |= (c & 0x7f) << 7
      if (c > 0x7f) {
        c = b[p++]!; lo |= (c & 0x7f) << 14
        if (c > 0x7f) {
          c = b[p++]!; lo |= (c & 0x7f) << 21
          if (c > 0x7f) {
            c = b[p++]!; lo |= (c & 0x7f) << 28; hi = (c & 0x7f) >>> 4
            if (c > 0x7f) {
              c = b[p++]!; hi |= (c & 0x7f) << 3
              if (c > 0x7f) {
                c = b[p++]!; hi |= (c & 0x7f) << 10
                if (c > 0x7f) {
                  c = b[p++]!; hi |= (c & 0x7f) << 17
                  if (c > 0x7f) {
                    c = b[p++]!; hi |= (c & 0x7f) << 24
                    if (c > 0x7f) {
                      c = b[p++]!; hi |= (c & 0x01) << 31
                      if (c > 0x7f) this.malformed('varint longer than 10 bytes', this.pos)
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
    if (p > limit) this.malformed('truncated varint', this.pos)
    this.pos = p
    this.lo = lo
    this.hi = hi
  }

  /** An int64 field as a number (exact below 2^53; timestamps in ms are). */
  int64 (limit: number): number {
    this.varint64(limit)
    return (this.hi | 0) * TWO_32 + (this.lo >>> 0)
  }

  uint64 (limit: number): number {
    this.varint64(limit)
    return (this.hi >>> 0) * TWO_32 + (this.lo >>> 0)
  }

  /** A zigzag-encoded sint64 as a number. */
  sint64 (limit: number): number {
    this.varint64(limit)
    const lo = this.lo >>> 0
    const hi = this.hi >>> 0
    const n = (hi >>> 1) * TWO_32 + (((lo >>> 1) | ((hi & 1) << 31)) >>> 0)
    return (lo & 1) === 1 ? -n - 1 : n
  }

  /** A zigzag-encoded sint32. */
  sint32 (limit: number): number {
    const z = this.varint(limit) >>> 0
    return (z >>> 1) ^ -(z & 1)
  }

  /** A double (fixed64) read as a number, after checking that its 8 bytes are inside the message. */
  double (limit: number): number {
    if (this.pos + 8 > limit) this.malformed('truncated double', this.pos)
    const v = this.d.getFloat64(this.pos, true)
    this.pos += 8
    return v
  }

  /** Reads a length prefix and checks that the bytes it announces are there; returns their end. */
  lengthDelimited (limit: number, what: string): number {
    const at = this.pos
    const n = this.varint(limit)
    const end = this.pos + n
    if (end > limit) this.malformed(`${what} of ${n} bytes overruns its message`, at)
    return end
  }

  /** Skips a field the walk does not read; counts it as ignored when `count`. */
  skip (tag: number, limit: number, count: boolean): void {
    const at = this.pos
    if (tag >>> 3 === 0) this.malformed('field number 0', at)
    switch (tag & 7) {
      case 0: this.varint64(limit); break
      case 1: this.pos += 8; break
      case 2: this.pos = this.lengthDelimited(limit, `field ${tag >>> 3}`); break
      case 5: this.pos += 4; break
      case 3: this.skipGroup(tag >>> 3, limit, 0); break
      default: this.malformed(`wire type ${tag & 7} of field ${tag >>> 3}`, at)
    }
    if (this.pos > limit) this.malformed(`truncated field ${tag >>> 3}`, at)
    if (count) this.ignoredFieldCount++
  }

  /**
   * A field the reader did not take: an unknown field number is skipped and counted as ignored; a
   * field number the schema defines (`known`, a `fields(...)` mask) arriving with another wire type
   * is malformed, as protobuf decoders reject it (its value would otherwise be lost).
   */
  unknown (tag: number, limit: number, known: number): void {
    const field = tag >>> 3
    if (field < 31 && (known & (1 << field)) !== 0) this.malformed(`field ${field} arrived with wire type ${tag & 7}, which its schema does not allow`, this.pos)
    this.skip(tag, limit, true)
  }

  private skipGroup (field: number, limit: number, depth: number): void {
    if (depth > 32) this.malformed('groups nested too deep', this.pos)
    while (this.pos < limit) {
      const tag = this.varint(limit)
      if ((tag & 7) === 4) {
        if (tag >>> 3 !== field) this.malformed(`end of group ${tag >>> 3} inside group ${field}`, this.pos)
        return
      }
      if ((tag & 7) === 3) this.skipGroup(tag >>> 3, limit, depth + 1)
      else this.skip(tag, limit, false)
    }
    this.malformed(`unterminated group ${field}`, this.pos)
  }
}
