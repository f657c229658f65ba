/**
 * One thread's record of how each Remote Write 2.0 series was spelled the last time it was resolved
 * here: its tenant (a number per TenantKey, see `tenantNumber`) and its label references translated
 * into the thread's symbol ids (symbol-dictionary.ts). A series whose references, translated the same
 * way, give the same numbers names the same label strings in the same order, so it is that series:
 * found with a few integer comparisons, without copying its label bytes into canonical form.
 *
 * Kept only while no HA replica label is left out (the walker uses it then only). Bounded: at
 * `maxWords` 32-bit words no new series is recorded (they take the slower paths, which stay exact);
 * `clear` forgets everything (when the symbol dictionary is cleared, its ids mean nothing any more).
 * Plain memory, one thread's own.
 */
import type { TenantKey } from '../series/series-index.js'

export class SeriesSymbols {
  /** Per series id: where its record starts in `words` (0: none; word 0 is never a record). */
  private at = new Int32Array(4096)
  /** Records: [tenant number, reference count, symbol ids...]. */
  private words = new Int32Array(1 << 16)
  private top = 1
  private readonly tenants = new Map<TenantKey, number>()

  constructor (readonly maxWords = 4 << 20) {}

  /** A number for `tk` in this thread (one per TenantKey object: two numbers are never the same tenant's and another's). */
  tenantNumber (tk: TenantKey): number {
    let n = this.tenants.get(tk)
    if (n === undefined) {
      n = this.tenants.size + 1
      if (this.tenants.size < 10_000) this.tenants.set(tk, n)
      else n = -1 // not remembered: never matches a record
    }
    return n
  }

  /**
   * True when series `id` was last recorded for tenant number `tenant` with the references `refs[0, n)`
   * translated through `ids` (reference -> symbol id).
   */
  matches (id: number, tenant: number, refs: Uint32Array, n: number, ids: Int32Array): boolean {
    const r = id < this.at.length ? this.at[id]! : 0
    if (r === 0) return false
    const w = this.words
    if (w[r] !== tenant || w[r + 1] !== n) return false
    for (let i = 0; i < n; i++) if (ids[refs[i]!] !== w[r + 2 + i]) return false
    return true
  }

  /**
   * `matches` for references still packed in the body (labels_refs, bytes [start, end) of `u8`), read
   * as they are compared: the steady state decodes no reference into a scratch. `ids` must hold 0 for
   * every reference past the request's symbols table (symbol ids are never 0), so a reference outside
   * the table is a mismatch without a check of its own; so is a varint too long or running past `end`
   * (the caller's general path then reports what is wrong).
   */
  matchesPacked (id: number, tenant: number, u8: Uint8Array, start: number, end: number, ids: Int32Array): boolean {
    const r = id < this.at.length ? this.at[id]! : 0
    if (r === 0) return false
    const w = this.words
    if (w[r] !== tenant) return false
    const n = w[r + 1]! + r + 2 // end of the record
    let i = r + 2
    let p = start
    while (p < end) {
      // References are one or two bytes below 16,384 symbols: two unrolled steps, then a bounded loop.
      let c = u8[p++]!
      let ref = c & 0x7f
      if (c > 0x7f) {
        c = u8[p++]!
        ref |= (c & 0x7f) << 7
        for (let shift = 14; c > 0x7f; shift += 7) {
          if (shift > 21) return false
          c = u8[p++]!
          ref |= (c & 0x7f) << shift
        }
      }
      // One check per reference: a ref outside `ids` reads undefined, one outside the table reads 0.
      // No check of `i` against the record's end here: past it `w` holds the next record or reads
      // undefined, and the check after the loop refuses a series with more references than the record.
      if (ids[ref] !== w[i]) return false
      i++
    }
    return i === n && p === end // a varint that ran past `end` read bytes of the next field: no match
  }

  /** Records series `id` as spelled by `refs[0, n)` through `ids` (no symbol id may be 0). */
  record (id: number, tenant: number, refs: Uint32Array, n: number, ids: Int32Array): void {
    if (tenant < 0) return
    if (id >= this.at.length) {
      let size = 2 * this.at.length
      while (size <= id) size *= 2
      const next = new Int32Array(size); next.set(this.at); this.at = next
    }
    // A record of the same length is overwritten in place; otherwise a new one is appended.
    let r = this.at[id]!
    if (r === 0 || this.words[r + 1] !== n) {
      if (this.top + n + 2 > this.maxWords) return
      if (this.top + n + 2 > this.words.length) {
        let size = 2 * this.words.length
        while (size < this.top + n + 2) size *= 2
        const next = new Int32Array(Math.min(size, this.maxWords)); next.set(this.words.subarray(0, this.top)); this.words = next
      }
      r = this.top
      this.top += n + 2
      this.at[id] = r
    }
    const w = this.words
    w[r] = tenant
    w[r + 1] = n
    for (let i = 0; i < n; i++) w[r + 2 + i] = ids[refs[i]!]!
  }

  /** Forgets every record. */
  clear (): void {
    this.at.fill(0)
    this.top = 1
  }
}
