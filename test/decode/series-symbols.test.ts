import { describe, expect, it } from 'vitest'
import { SeriesSymbols } from '../../src/decode/series-symbols.js'
import { tenantKey } from '../../src/series/series-index.js'

/** Packed varints. */
function packed (refs: readonly number[]): Uint8Array {
  const out: number[] = []
  for (let r of refs) { while (r >= 0x80) { out.push((r & 0x7f) | 0x80); r >>>= 7 } out.push(r) }
  return Uint8Array.from(out)
}

describe('SeriesSymbols', () => {
  const ids = Int32Array.from({ length: 300 }, (_, i) => 1000 + i) // ref -> symbol id
  const ids200 = Int32Array.from(ids, (id, ref) => ref < 200 ? id : 0) // a table of 200 symbols: 0 past it

  it('matches a series only with the same tenant, the same count and the same symbol ids', () => {
    const s = new SeriesSymbols()
    const t = s.tenantNumber(tenantKey(''))
    const other = s.tenantNumber(tenantKey('team-a'))
    expect(t).not.toBe(other)
    const refs = Uint32Array.from([1, 2, 200, 3])
    s.record(5, t, refs, 4, ids)
    expect(s.matches(5, t, refs, 4, ids)).toBe(true)
    expect(s.matches(5, other, refs, 4, ids)).toBe(false)
    expect(s.matches(5, t, refs, 2, ids)).toBe(false)
    expect(s.matches(6, t, refs, 4, ids)).toBe(false)
    expect(s.matches(5, t, Uint32Array.from([1, 2, 201, 3]), 4, ids)).toBe(false)
    const body = packed([1, 2, 200, 3])
    expect(s.matchesPacked(5, t, body, 0, body.length, ids)).toBe(true)
    expect(s.matchesPacked(5, t, body, 0, body.length - 1, ids)).toBe(false) // one ref short
    expect(s.matchesPacked(5, t, body, 0, body.length, ids200)).toBe(false) // ref 200 outside the table
    const beyond = packed([1, 2, 5000, 3])
    expect(s.matchesPacked(5, t, beyond, 0, beyond.length, ids)).toBe(false) // outside the ids array
    const longer = packed([1, 2, 200, 3, 4, 5])
    expect(s.matchesPacked(5, t, longer, 0, longer.length, ids)).toBe(false)
  })

  it('reads references it cannot compare (too long, cut off) as a mismatch', () => {
    const s = new SeriesSymbols()
    const t = s.tenantNumber(tenantKey(''))
    s.record(1, t, Uint32Array.from([1, 2]), 2, ids)
    const cut = Uint8Array.from([0x01, 0x82]) // the second varint runs past the end
    expect(s.matchesPacked(1, t, cut, 0, cut.length, ids)).toBe(false)
    const tooLong = Uint8Array.from([0x01, 0x82, 0x80, 0x80, 0x80, 0x80, 0x00])
    expect(s.matchesPacked(1, t, tooLong, 0, tooLong.length, ids)).toBe(false)
  })

  it('rewrites a record when a series is spelled another way, and forgets all on clear', () => {
    const s = new SeriesSymbols(64)
    const t = s.tenantNumber(tenantKey(''))
    s.record(9000, t, Uint32Array.from([1, 2]), 2, ids)
    s.record(9000, t, Uint32Array.from([3, 4, 5, 6]), 4, ids)
    expect(s.matches(9000, t, Uint32Array.from([3, 4, 5, 6]), 4, ids)).toBe(true)
    expect(s.matches(9000, t, Uint32Array.from([1, 2]), 2, ids)).toBe(false)
    // Bounded: past maxWords nothing new is recorded.
    for (let id = 1; id < 40; id++) s.record(id, t, Uint32Array.from([1, 2]), 2, ids)
    expect(s.matches(39, t, Uint32Array.from([1, 2]), 2, ids)).toBe(false)
    s.clear()
    expect(s.matches(9000, t, Uint32Array.from([3, 4, 5, 6]), 4, ids)).toBe(false)
  })
})
