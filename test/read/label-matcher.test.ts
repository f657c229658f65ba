/**
 * Label matchers with Prometheus' semantics: which label sets a matcher selects (an absent label is
 * the empty value; regexes are anchored at both ends, Go RE2), and what is pushed down to SQL.
 */
import { describe, expect, it } from 'vitest'
import { compareUtf8, LabelMatcher, selectsAll, seriesConditions } from '../../src/read/label-matcher.js'

describe('label matchers', () => {
  const set = (o: Record<string, string>): Map<string, string> => new Map(Object.entries(o))
  const m = (type: 'EQ' | 'NEQ' | 'RE' | 'NRE', name: string, value: string): LabelMatcher => LabelMatcher.of({ type, name, value })

  it('an absent label is the empty value', () => {
    expect(m('EQ', 'job', '').selects(set({ a: '1' }))).toBe(true)
    expect(m('EQ', 'job', '').selects(set({ job: 'x' }))).toBe(false)
    expect(m('NEQ', 'job', '').selects(set({ a: '1' }))).toBe(false)
    expect(m('RE', 'job', '.*').selects(set({}))).toBe(true)
    expect(m('RE', 'job', '.+').selects(set({}))).toBe(false)
    expect(m('NRE', 'job', 'x|').selects(set({}))).toBe(false)
  })

  it('regexes are anchored at both ends, Go syntax, no dot-all (Prometheus 2)', () => {
    expect(m('RE', 'a', 'b').selects(set({ a: 'abc' }))).toBe(false)
    expect(m('RE', 'a', 'a|b').selects(set({ a: 'ab' }))).toBe(false)
    expect(m('RE', 'a', '.*').selects(set({ a: 'x\ny' }))).toBe(false)
    expect(m('RE', 'a', '(?i)ABC').selects(set({ a: 'abc' }))).toBe(true)
    expect(m('RE', 'a', '\\pL+').selects(set({ a: 'éa' }))).toBe(true)
    expect(() => m('RE', 'a', '(a)\\1')).toThrow(/invalid regex/)
  })

  it('all must select; only non-empty equalities are pushed to SQL, quoted', () => {
    const ms = [m('EQ', '__name__', 'up'), m('EQ', 'job', "o'k"), m('EQ', 'x', ''), m('RE', 'y', 'z')]
    expect(seriesConditions(ms)).toEqual(["metric = 'up'", "labels['job'] = 'o''k'"])
    expect(selectsAll(ms, set({ __name__: 'up', job: "o'k", y: 'z' }))).toBe(true)
    expect(selectsAll(ms, set({ __name__: 'up', job: "o'k", y: 'z', x: '1' }))).toBe(false)
  })

  it('sorts by UTF-8 bytes, as Go does', () => {
    const words = ['b', 'a', '\u{1F600}', '\uFF5E', 'é', 'Z']
    const byBytes = [...words].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)))
    expect([...words].sort(compareUtf8)).toEqual(byBytes)
  })
})
