/**
 * Series selectors (`match[]`): what a selector parses to (PromQL's forms, Go's escapes), and what it
 * refuses, as PromQL does, naming the problem with the code the caller asked for.
 */
import { describe, expect, it } from 'vitest'
import { LabelMatcher } from '../../src/read/label-matcher.js'
import { parseSelector } from '../../src/read/series-selector.js'

const parse = (text: string): ReturnType<typeof parseSelector> => parseSelector(text, 'read_request_invalid')

describe('series selectors', () => {
  it('metric, braces, both; every operator; quotes and escapes', () => {
    expect(parse('up')).toEqual([{ type: 'EQ', name: '__name__', value: 'up' }])
    expect(parse(' up { job = "a" , instance!~\'b.*\', } ')).toEqual([
      { type: 'EQ', name: '__name__', value: 'up' }, { type: 'EQ', name: 'job', value: 'a' }, { type: 'NRE', name: 'instance', value: 'b.*' }
    ])
    expect(parse(' http_requests_total { code =~ "5..", job!="a\\"b", path!~\'/x\' } ')).toEqual([
      { type: 'EQ', name: '__name__', value: 'http_requests_total' },
      { type: 'RE', name: 'code', value: '5..' },
      { type: 'NEQ', name: 'job', value: 'a"b' },
      { type: 'NRE', name: 'path', value: '/x' }
    ])
    expect(parse('{a!="x",b=~`\\d+`}')).toEqual([{ type: 'NEQ', name: 'a', value: 'x' }, { type: 'RE', name: 'b', value: '\\d+' }])
    expect(parse('{x=`raw\\n`}')).toEqual([{ type: 'EQ', name: 'x', value: 'raw\\n' }])
    expect(parse('{a="q\\"\\n\\u00e9\\x41\\101"}')[0]!.value).toBe('q"\né\x41A')
    expect(parse('{"service.name"="a\\u00fc\\n",}')).toEqual([{ type: 'EQ', name: 'service.name', value: 'aü\n' }])
    expect(parse('node:cpu:rate5m')[0]!.value).toBe('node:cpu:rate5m')
  })

  it('refuses what PromQL refuses, naming why', () => {
    const cases: Array<[string, RegExp]> = [
      ['', /names no metric/],
      ['{', /expected a label name/],
      ['up{', /expected a label name/],
      ['{}', /at least one non-empty matcher/],
      ['{job=~".*"}', /at least one non-empty matcher: every matcher matches the empty value/],
      ['up{job="a"', /expected , or }/],
      ['{job}', /expected =, !=, =~ or !~/],
      ['up{job=a}', /quoted string/],
      ['{job="x" code="1"}', /expected , or }/],
      ['up{job="a}', /unterminated/],
      ['{job="x', /unterminated/],
      ['up{1a="x"}', /label name/],
      ['up{a="\\q"}', /unknown escape/],
      ['up extra', /unexpected/],
      ['up{__name__="x"}', /metric name must not be set twice/],
      ['{a=~"("}', /invalid regex/],
      ['{a="' + 'x'.repeat(5000) + '"}', /longer than 4096/]
    ]
    for (const [text, why] of cases) {
      for (const code of ['read_request_invalid', 'status_parameter_invalid'] as const) {
        let caught: unknown
        try { parseSelector(text, code) } catch (err) { caught = err }
        expect((caught as Error | undefined)?.message, text).toMatch(why)
        expect((caught as { code?: string }).code, text).toBe(code)
      }
    }
  })

  it('anchors regexes as Prometheus does, and an absent label is the empty value', () => {
    const m = LabelMatcher.of({ type: 'RE', name: 'code', value: '5..' })
    expect(m.matches('503')).toBe(true)
    expect(m.matches('5030')).toBe(false)
    expect(LabelMatcher.of({ type: 'NRE', name: 'code', value: '2.*|' }).matches('')).toBe(false)
    expect(LabelMatcher.of({ type: 'NEQ', name: 'code', value: '' }).matches('')).toBe(false)
    expect(() => LabelMatcher.of({ type: 'RE', name: 'code', value: '(' }, 'status_parameter_invalid')).toThrow(expect.objectContaining({ code: 'status_parameter_invalid' }))
  })
})
