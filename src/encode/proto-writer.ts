/**
 * A growable protobuf writer for the bodies the forwarder builds itself. Wire types: 0 varint,
 * 1 fixed64, 2 length-delimited. Nested messages are written into a second writer and copied in with
 * their length (a message is small next to the request; the copy keeps lengths minimal varints, which
 * every receiver reads).
 */
const encoder = new TextEncoder()

export class ProtoWriter {
  bytes: Uint8Array
  pos = 0

  constructor (capacity = 1 << 16) { this.bytes = new Uint8Array(capacity) }

  reset (): void { this.pos = 0 }

  private room (n: number): void {
    if (this.pos + n <= this.bytes.length) return
    // Growth doubles (reuse capacity before growing).
    let size = this.bytes.length * 2
    while (size < this.pos + n) size *= 2
    const next = new Uint8Array(size)
    next.set(this.bytes.subarray(0, this.pos))
    this.bytes = next
  }

  /** An unsigned varint of a non-negative safe integer. */
  varint (v: number): void {
    this.room(10)
    const b = this.bytes
    while (v >= 0x80) { b[this.pos++] = (v % 128) | 0x80; v = Math.floor(v / 128) }
    b[this.pos++] = v
  }

  /** int64 as protobuf writes it: a negative value is its 64-bit two's complement (10 bytes). */
  int64 (v: number): void {
    if (v >= 0) return this.varint(v)
    let u = BigInt.asUintN(64, BigInt(Math.trunc(v)))
    this.room(10)
    while (u >= 0x80n) { this.bytes[this.pos++] = Number(u & 0x7fn) | 0x80; u >>= 7n }
    this.bytes[this.pos++] = Number(u)
  }

  /** sint32/sint64 (zigzag). */
  sint (v: number): void { this.varint(v >= 0 ? 2 * v : -2 * v - 1) }

  tag (field: number, wire: number): void { this.varint(field * 8 + wire) }

  /** 8 bytes copied as they are (doubles keep their NaN payloads: stale markers). */
  raw8 (src: Uint8Array, at: number): void {
    this.room(8)
    const b = this.bytes
    for (let k = 0; k < 8; k++) b[this.pos + k] = src[at + k]!
    this.pos += 8
  }

  double (v: number): void {
    this.room(8)
    new DataView(this.bytes.buffer, this.bytes.byteOffset + this.pos, 8).setFloat64(0, v, true)
    this.pos += 8
  }

  /** Bytes [start, start + length) of `src` as they are. */
  raw (src: Uint8Array, start: number, length: number): void {
    this.room(length)
    const b = this.bytes
    // Label text is short: a loop, no subarray object; long runs go through set().
    if (length > 64) b.set(src.subarray(start, start + length), this.pos)
    else for (let i = 0; i < length; i++) b[this.pos + i] = src[start + i]!
    this.pos += length
  }

  bytesField (field: number, data: Uint8Array): void {
    this.tag(field, 2)
    this.varint(data.length)
    this.room(data.length)
    this.bytes.set(data, this.pos)
    this.pos += data.length
  }

  string (field: number, s: string): void {
    // Short strings (at most 127 bytes even at 3 bytes per UTF-16 unit: one length byte) are encoded in
    // place, without the array encode() allocates.
    if (s.length <= 42) {
      this.tag(field, 2)
      this.room(1 + 3 * s.length)
      const n = encoder.encodeInto(s, this.bytes.subarray(this.pos + 1)).written
      this.bytes[this.pos] = n
      this.pos += 1 + n
      return
    }
    this.bytesField(field, encoder.encode(s))
  }

  /** A nested message written by `w`. */
  message (field: number, w: ProtoWriter): void { this.bytesField(field, w.bytes.subarray(0, w.pos)) }

  /** The bytes written so far (a copy). */
  finish (): Uint8Array { return this.bytes.slice(0, this.pos) }
}
