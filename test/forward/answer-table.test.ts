/**
 * The answer table and the retry delays as pure functions (the forwarder's behaviour per answer is
 * tested against a real HTTP destination in forward-sink.test.ts).
 */
import { describe, expect, it } from 'vitest'
import { actionOf, parseRetryAfter, retryDelayMs } from '../../src/forward/answer-table.js'

describe('answer table', () => {
  it('maps every status of the table to its action', () => {
    for (const s of [200, 202, 204]) expect(actionOf(s)).toBe('done')
    for (const s of [400, 409, 415, 422]) expect(actionOf(s)).toBe('drop')
    expect(actionOf(413)).toBe('split')
    for (const s of [0, 408, 429, 500, 502, 503, 504]) expect(actionOf(s)).toBe('retry')
    for (const s of [401, 403, 404, 301, 405, 418]) expect(actionOf(s)).toBe('stuck')
  })

  it('backs off exponentially from min to max, with jitter in [0.5, 1)', () => {
    const b = { minMs: 1000, maxMs: 60_000 }
    expect(retryDelayMs(b, 0, 'retry', undefined, () => 0.999)).toBeCloseTo(999.5, 0)
    expect(retryDelayMs(b, 0, 'retry', undefined, () => 0)).toBe(500)
    expect(retryDelayMs(b, 3, 'retry', undefined, () => 0.999)).toBeCloseTo(7996, 0)
    expect(retryDelayMs(b, 40, 'retry', undefined, () => 0.999)).toBeLessThanOrEqual(60_000)
    expect(retryDelayMs(b, 40, 'retry', undefined, () => 0)).toBe(30_000)
    expect(retryDelayMs(b, 0, 'stuck', undefined)).toBe(60_000)
  })

  it('honours Retry-After (seconds or a date), capped at the longest backoff', () => {
    const b = { minMs: 1000, maxMs: 60_000 }
    expect(retryDelayMs(b, 0, 'retry', parseRetryAfter('7'))).toBe(7000)
    expect(retryDelayMs(b, 0, 'retry', parseRetryAfter('3600'))).toBe(60_000)
    const now = Date.parse('2026-01-01T00:00:00Z')
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5000)
    expect(parseRetryAfter(undefined)).toBeUndefined()
    expect(parseRetryAfter('soon')).toBeUndefined()
  })
})
