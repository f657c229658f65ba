/**
 * One thread's dictionary of Remote Write 2.0 symbols: symbol bytes -> a small id (from 1) that stays
 * the same from request to request, so that a series' label references, translated once per request
 * through it, can be compared as integers with the ids its labels had last time (series-symbols.ts).
 *
 * Open addressing on a 32-bit hash, the bytes compared on every hash match: two different symbols
 * never share an id. Bounded: at `maxSymbols` symbols or `maxBytes` bytes `idOf` answers 0 and the
 * owner clears it (every id it handed out is forgotten at once).
 * Plain memory, one thread's own.
 */
import { bytesEqual, hashLabels, hashOut } from '../series/label-hash.js'

export class SymbolDictionary {
  count = 0
  private table = new Int32Array(2 * 1024) // per slot: [hash, id] (id 0: empty)
  private mask = 1023
  private starts = new Uint32Array(1024) // by id
  private lengths = new Uint32Array(1024)
  private bytes = new Uint8Array(16 * 1024)
  private view = new DataView(this.bytes.buffer)
  private top = 0

  constructor (readonly maxSymbols = 1 << 20, readonly maxBytes = 16 << 20) {}

  /** The id of the symbol at bytes [start, start + length) of `d`, added when new; 0 when the dictionary is full. */
  idOf (d: DataView, start: number, length: number): number {
    hashLabels(d, start, start + length, 0)
    const h = hashOut[0]!
    let slot = h & this.mask
    for (;;) {
      const id = this.table[2 * slot + 1]!
      if (id === 0) break
      if (this.table[2 * slot] === h && this.lengths[id] === length && bytesEqual(this.view, this.starts[id]!, d, start, length)) return id
      slot = (slot + 1) & this.mask
    }
    if (this.count + 1 >= this.maxSymbols || this.top + length > this.maxBytes) return 0
    const id = ++this.count
    if (id >= this.starts.length) {
      const s = new Uint32Array(2 * this.starts.length); s.set(this.starts); this.starts = s
      const l = new Uint32Array(2 * this.lengths.length); l.set(this.lengths); this.lengths = l
    }
    if (this.top + length > this.bytes.length) {
      let n = 2 * this.bytes.length
      while (n < this.top + length) n *= 2
      const b = new Uint8Array(n); b.set(this.bytes.subarray(0, this.top)); this.bytes = b
      this.view = new DataView(b.buffer)
    }
    for (let i = 0; i < length; i++) this.bytes[this.top + i] = d.getUint8(start + i)
    this.starts[id] = this.top
    this.lengths[id] = length
    this.top += length
    this.table[2 * slot] = h
    this.table[2 * slot + 1] = id
    if (2 * this.count > this.mask) this.rehash()
    return id
  }

  /**
   * True when `id` is the id of the symbol at bytes [start, start + length) of `d`: a guess (the id the
   * same position of the last request's table had) checked by length, then bytes; no hash, no probe.
   */
  is (id: number, d: DataView, start: number, length: number): boolean {
    return id > 0 && id <= this.count && this.lengths[id] === length && bytesEqual(this.view, this.starts[id]!, d, start, length)
  }

  /** Forgets every symbol. */
  clear (): void {
    this.table.fill(0)
    this.count = 0
    this.top = 0
  }

  /** Doubles the table (kept at most half full) and puts every id back. */
  private rehash (): void {
    const old = this.table
    this.table = new Int32Array(2 * old.length)
    this.mask = (this.table.length >>> 1) - 1
    for (let at = 0; at < old.length; at += 2) {
      const id = old[at + 1]!
      if (id === 0) continue
      let slot = old[at]! & this.mask
      while (this.table[2 * slot + 1] !== 0) slot = (slot + 1) & this.mask
      this.table[2 * slot] = old[at]!
      this.table[2 * slot + 1] = id
    }
  }
}
