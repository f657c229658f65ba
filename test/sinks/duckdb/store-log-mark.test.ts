/**
 * DuckDB's mark in the store log (src/sinks/duckdb/store-log-mark.ts), driven by hand: which position a
 * transaction may write, given the ranges of its writes and of those before it.
 */
import { describe, expect, it } from 'vitest'
import { LogMark } from '../../../src/sinks/duckdb/store-log-mark.js'

/** Records of 10 bytes each, from position `at`. */
const r = (k: number, at = 0): { from: number, to: number } => ({ from: at + k * 10, to: at + (k + 1) * 10 })

describe('store log mark', () => {
  it('moves over the ranges of a committed transaction, and the next one continues from there', () => {
    const m = new LogMark(0)
    m.add(1, r(0)); m.add(2, r(1)); m.add(3, r(2))
    expect(m.target([1, 2])).toBe(20)
    m.committed([1, 2], 20)
    expect(m.position).toBe(20)
    expect(m.target([3])).toBe(30)
    m.committed([3], 30)
    expect(m.target([])).toBeUndefined()
  })

  it('stops at a write that is neither committed nor in the transaction, and passes it once it is', () => {
    const m = new LogMark(0)
    m.add(1, r(0)); m.add(2, r(1)); m.add(3, r(2))
    // Write 2 went to another transaction (refused alone, or still open): the mark stops before it.
    expect(m.target([1, 3])).toBe(10)
    m.committed([1, 3], 10)
    expect(m.target([2])).toBe(30) // 3 is committed already
  })

  it('never passes a write whose transaction failed', () => {
    const m = new LogMark(0)
    m.add(1, r(0)); m.add(2, r(1))
    // Transaction of 1 failed (no committed() call); a later one holding 2 commits.
    expect(m.target([2])).toBeUndefined()
    m.committed([2], undefined)
    expect(m.position).toBe(0)
  })

  it('passes a record that will never be stored', () => {
    const m = new LogMark(0)
    m.add(1, r(0)); m.pass(r(1)); m.add(2, r(2))
    expect(m.target([1, 2])).toBe(30)
  })

  it('stops at a gap between ranges (a record it was not told of)', () => {
    const m = new LogMark(0)
    m.add(1, r(0)); m.add(2, r(2))
    expect(m.target([1, 2])).toBe(10)
  })

  it('restarts at the log\'s cursor when it is ahead, and at the log\'s head when the mark is past it', () => {
    const behind = new LogMark(20)
    behind.add(1, r(2))
    expect(behind.restart(50, 100)).toEqual({ from: 50, changed: true })
    expect(behind.target([1])).toBeUndefined() // what was queued is replayed instead

    expect(new LogMark(70).restart(50, 100)).toEqual({ from: 70, changed: false })
    // The log was removed and starts again: positions go back to its head.
    expect(new LogMark(500).restart(0, 40)).toEqual({ from: 40, changed: true })
  })
})
