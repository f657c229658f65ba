/**
 * lowercase and uppercase map code points one to one as Go's strings.ToLower/ToUpper do (simple case
 * mapping), where JavaScript's full mapping differs. The expected values for ß, İ and the Greek
 * final sigma are Go's (unicode.ToUpper/ToLower tables); the differential test against Prometheus
 * 2.42 (prometheus-differential.test.ts) checks ß and İ through a real Prometheus too.
 */
import { describe, expect, it } from 'vitest'
import { goToLower, goToUpper } from '../../src/relabel/go-case.js'

describe('Go case mapping', () => {
  it('differs from JS where the full mapping has several code points', () => {
    expect('ß'.toUpperCase()).toBe('SS')
    expect(goToUpper('straße')).toBe('STRAßE')
    expect('İ'.toLowerCase()).toBe('i\u0307')
    expect(goToLower('İSTANBUL')).toBe('istanbul')
    expect(goToUpper('ﬀ')).toBe('ﬀ')
    expect(goToUpper('ᾳ')).toBe('ᾼ') // simple mapping to the titlecase form
    expect(goToUpper('ᾀ')).toBe('ᾈ')
    expect(goToUpper('ŉ')).toBe('ŉ')
  })
  it('has no final sigma: Σ always lowercases to σ', () => {
    expect('ΟΔΟΣ'.toLowerCase()).toBe('οδος')
    expect(goToLower('ΟΔΟΣ')).toBe('οδοσ')
  })
  it('agrees with JS elsewhere (ASCII, accents, emoji, Kelvin sign, dotless i)', () => {
    expect(goToUpper('bAr123Foo😀é')).toBe('BAR123FOO😀É')
    expect(goToLower('bAr123Foo😀É\u212a')).toBe('bar123foo😀ék')
    expect(goToUpper('ı')).toBe('I')
    expect(goToUpper('ſ')).toBe('S')
  })
  it('the lists of special code points are complete: every other code point maps to one code point in JS', () => {
    // Walks every code point but the surrogates: a code point whose JS mapping is longer than one code
    // point must be handled by the special path (and come out as one code point).
    const bad: string[] = []
    for (let cp = 0; cp <= 0x10ffff; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue
      const ch = String.fromCodePoint(cp)
      const up = goToUpper(ch)
      const low = goToLower(ch)
      if ([...up].length !== 1 || [...low].length !== 1) bad.push(cp.toString(16))
      if ([...ch.toUpperCase()].length === 1 && up !== ch.toUpperCase()) bad.push('u' + cp.toString(16))
      if ([...ch.toLowerCase()].length === 1 && low !== ch.toLowerCase()) bad.push('l' + cp.toString(16))
    }
    expect(bad).toEqual([])
  })
})
