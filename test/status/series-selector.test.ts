/**
 * Series selectors for match[]: PromQL's forms, Go's escapes, Prometheus 2's anchored RE2 regexes, and
 * a clear refusal naming the problem.
 */
import { describe, expect, it } from 'vitest'
import { matcherFor, parseSelector } from '../../src/status/series-selector.js'

describe('parseSelector', () => {
  it('reads a bare metric name, braces, and both together', () => {
    expect(parseSelector('up')).toEqual([{ name: '__name__', op: '=', value: 'up' }])
    expect(parseSelector(' http_requests_total { code =~ "5..", job!="a\\"b", path!~\'/x\' } ')).toEqual([
      { name: '__name__', op: '=', value: 'http_requests_total' },
      { name: 'code', op: '=~', value: '5..' },
      { name: 'job', op: '!=', value: 'a"b' },
      { name: 'path', op: '!~', value: '/x' }
    ])
    expect(parseSelector('{"service.name"="a\\u00fc\\n",}')).toEqual([{ name: 'service.name', op: '=', value: 'aü\n' }])
    expect(parseSelector('{x=`raw\\n`}')).toEqual([{ name: 'x', op: '=', value: 'raw\\n' }])
  })

  it('refuses what is not a selector, naming the problem', () => {
    const cases: Array<[string, RegExp]> = [
      ['', /names no metric/],
      ['up{', /expected a label name/],
      ['{job}', /expected =, !=, =~ or !~/],
      ['{job=x}', /quoted value/],
      ['{job="x" code="1"}', /expected , or }/],
      ['{job="x', /unterminated/],
      ['{job="\\q"}', /unknown escape/],
      ['{job=~"("}', /does not compile/],
      ['{job=~".*"}', /empty value/],
      ['up extra', /unexpected/],
      ['{a="' + 'x'.repeat(5000) + '"}', /longer than 4096/]
    ]
    for (const [text, why] of cases) {
      expect(() => parseSelector(text), text).toThrow(why)
      try { parseSelector(text) } catch (err) { expect((err as { code: string }).code).toBe('status_parameter_invalid') }
    }
  })

  it('anchors regexes as Prometheus does, and an absent label is the empty value', () => {
    const m = matcherFor({ name: 'code', op: '=~', value: '5..' })
    expect(m.matches('503')).toBe(true)
    expect(m.matches('5030')).toBe(false)
    expect(matcherFor({ name: 'code', op: '!~', value: '2.*|' }).matches('')).toBe(false)
    expect(matcherFor({ name: 'code', op: '!=', value: '' }).matches('')).toBe(false)
  })
})
