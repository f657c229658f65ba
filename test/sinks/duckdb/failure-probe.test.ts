/**
 * FailureProbe, driven by hand: the clock is passed in (unready), and the probe's check is a function
 * the test answers, so nothing here waits on time beyond the probe's own first turn.
 */
import { describe, expect, it } from 'vitest'
import { FailureProbe } from '../../../src/sinks/duckdb/failure-probe.js'

describe('FailureProbe', () => {
  it('turns unready only after unreadyAfterMs of failure, and ready again on the first success', () => {
    const recovered: number[] = []
    const p = new FailureProbe(1_000, async () => { throw new Error('still failing') }, ms => recovered.push(ms))
    const t0 = performance.now()
    expect(p.unready(t0)).toBe(false)
    p.failed()
    expect(p.unready(t0 + 10)).toBe(false)
    expect(p.unready(t0 + 2_000)).toBe(true)
    p.failed() // a second failure does not move the start
    expect(p.unready(t0 + 2_000)).toBe(true)
    p.worked()
    expect(p.unready(t0 + 2_000)).toBe(false)
    expect(recovered).toHaveLength(1)
    p.worked() // nothing to recover from: no second report
    expect(recovered).toHaveLength(1)
    p.stop()
  })

  it('never turns unready with unreadyAfterMs 0', () => {
    const p = new FailureProbe(0, async () => { throw new Error('x') }, () => {})
    p.failed()
    expect(p.unready(performance.now() + 3_600_000)).toBe(false)
    p.stop()
  })

  it('probes until the check succeeds, then reports the recovery once and stops probing', async () => {
    let calls = 0
    let recoveredAfter: number | undefined
    const done = new Promise<void>(resolve => {
      const p = new FailureProbe(1_000, async () => {
        calls++
        if (calls < 2) throw new Error('still failing')
      }, ms => { recoveredAfter = ms; resolve() })
      p.failed()
    })
    await done
    expect(calls).toBe(2)
    expect(recoveredAfter).toBeGreaterThanOrEqual(0)
  })

  it('stop() ends the probing', async () => {
    let calls = 0
    const p = new FailureProbe(1_000, async () => { calls++; throw new Error('x') }, () => {})
    p.failed()
    p.stop()
    // Longer than one probe turn (at most a quarter of 1 s, at least 250 ms): the stopped probe never ran.
    await new Promise(resolve => setTimeout(resolve, 400))
    expect(calls).toBe(0)
  })
})
