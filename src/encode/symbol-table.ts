/**
 * The symbols table of one Remote Write 2.0 request, keyed by bytes: label names and values are looked
 * up straight from the series' canonical label bytes (src/series/labels.ts), with no string made per
 * label. The table is open addressing over refs; a symbol's bytes are where the request's symbols field
 * (4) holds them, in `out`, so each symbol is stored once. "" is ref 0.
 */
import { ProtoWriter } from './proto-writer.js'

const utf8 = new TextEncoder()
const FNV_OFFSET = 0x811c9dc5
const FNV_PRIME = 0x01000193

export class SymbolTable {
  /** The symbols fields (4) of the request, in ref order. */
  readonly out = new ProtoWriter(1 << 12)
  /** Slots: ref + 1, 0 when empty. Size a power of two, at most half full. */
  private slots = new Int32Array(1 << 10)
  /** Per ref: hash, start of its bytes in out.bytes, length. */
  private hashes = new Uint32Array(256)
  private starts = new Int32Array(256)
  private lengths = new Int32Array(256)
  count = 0

  constructor () { this.clear() }

  clear (): void {
    this.out.reset()
    this.slots.fill(0)
    this.count = 0
    this.ref(new Uint8Array(0), 0, 0)
  }

  /** The ref of bytes [start, start + length) of `src`, added when new. */
  ref (src: Uint8Array, start: number, length: number): number {
    // FNV-1a over the bytes: label text is short, a plain loop.
    let h = FNV_OFFSET
    for (let i = 0; i < length; i++) h = Math.imul(h ^ src[start + i]!, FNV_PRIME)
    h >>>= 0
    const mask = this.slots.length - 1
    for (let at = h & mask; ; at = (at + 1) & mask) {
      const r = this.slots[at]! - 1
      if (r < 0) return this.insert(at, h, src, start, length)
      if (this.hashes[r] === h && this.lengths[r] === length && this.equals(r, src, start, length)) return r
    }
  }

  /** The ref of a string (metadata help and unit, exemplar labels: not on the hot path). */
  refOfString (s: string): number {
    const b = utf8.encode(s)
    return this.ref(b, 0, b.length)
  }

  private equals (r: number, src: Uint8Array, start: number, length: number): boolean {
    const b = this.out.bytes
    const o = this.starts[r]!
    for (let i = 0; i < length; i++) if (b[o + i] !== src[start + i]) return false
    return true
  }

  private insert (at: number, h: number, src: Uint8Array, start: number, length: number): number {
    const r = this.count++
    if (r >= this.hashes.length) {
      this.hashes = grow32(this.hashes, new Uint32Array(this.hashes.length * 2))
      this.starts = grow32(this.starts, new Int32Array(this.starts.length * 2))
      this.lengths = grow32(this.lengths, new Int32Array(this.lengths.length * 2))
    }
    const w = this.out
    w.tag(4, 2)
    w.varint(length)
    w.raw(src, start, length)
    this.hashes[r] = h
    this.starts[r] = w.pos - length
    this.lengths[r] = length
    this.slots[at] = r + 1
    if (this.count * 2 > this.slots.length) this.rehash()
    return r
  }

  private rehash (): void {
    const slots = new Int32Array(this.slots.length * 2)
    const mask = slots.length - 1
    for (let r = 0; r < this.count; r++) {
      let at = this.hashes[r]! & mask
      while (slots[at] !== 0) at = (at + 1) & mask
      slots[at] = r + 1
    }
    this.slots = slots
  }
}

function grow32<T extends Int32Array | Uint32Array> (from: T, to: T): T {
  to.set(from)
  return to
}
