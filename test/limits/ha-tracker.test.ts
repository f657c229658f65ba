/**
 * The HA election with explicit clock values (no waiting): the first replica of a (tenant, cluster)
 * is elected, the other is deduplicated while the elected one keeps sending, and takes over only
 * after the failover timeout of silence; tenants and clusters elect apart; silent entries are swept.
 */
import { describe, expect, it } from 'vitest'
import { HaTracker } from '../../src/limits/ha-tracker.js'

describe('HaTracker', () => {
  it('elects the first replica, deduplicates the other, fails over after the timeout of silence', () => {
    const t = new HaTracker(30_000)
    expect(t.decide('t', 'c', 'a', 0)).toBe('elected')
    expect(t.decide('t', 'c', 'b', 1)).toBe('deduplicated')
    expect(t.decide('t', 'c', 'a', 20_000)).toBe('accepted')
    // b is refused as long as a was heard from within 30 s.
    expect(t.decide('t', 'c', 'b', 50_000)).toBe('deduplicated')
    expect(t.decide('t', 'c', 'b', 50_001)).toBe('failover')
    expect(t.elected('t', 'c')).toBe('b')
    expect(t.decide('t', 'c', 'a', 50_002)).toBe('deduplicated')
  })

  it('keeps tenants and clusters apart', () => {
    const t = new HaTracker(1000)
    expect(t.decide('t1', 'c', 'a', 0)).toBe('elected')
    expect(t.decide('t2', 'c', 'b', 0)).toBe('elected')
    expect(t.decide('t1', 'd', 'b', 0)).toBe('elected')
    expect(t.decide('t1', 'c', 'b', 0)).toBe('deduplicated')
  })

  it('sweeps elections whose replica is silent past the timeout once many exist', () => {
    const t = new HaTracker(1000)
    for (let i = 0; i < 10_000; i++) t.decide('t', `c${i}`, 'a', 0)
    expect(t.size).toBe(10_000)
    t.decide('t', 'new', 'a', 2000)
    expect(t.size).toBe(1)
  })
})
