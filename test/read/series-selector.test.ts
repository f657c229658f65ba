/**
 * Series selectors (`match[]`): what a selector parses to, and what it refuses (as PromQL does).
 */
import { describe, expect, it } from 'vitest'
import { parseSelector } from '../../src/read/series-selector.js'

describe('series selectors', () => {
  it('metric, braces, both; every operator; quotes and escapes', () => {
    expect(parseSelector('up')).toEqual([{ type: 'EQ', name: '__name__', value: 'up' }])
    expect(parseSelector(' up { job = "a" , instance!~\'b.*\', } ')).toEqual([
      { type: 'EQ', name: '__name__', value: 'up' }, { type: 'EQ', name: 'job', value: 'a' }, { type: 'NRE', name: 'instance', value: 'b.*' }
    ])
    expect(parseSelector('{a!="x",b=~`\\d+`}')).toEqual([{ type: 'NEQ', name: 'a', value: 'x' }, { type: 'RE', name: 'b', value: '\\d+' }])
    expect(parseSelector('{a="q\\"\\n\\u00e9\\x41\\101"}')[0]!.value).toBe('q"\né\x41A')
    expect(parseSelector('node:cpu:rate5m')[0]!.value).toBe('node:cpu:rate5m')
  })

  it('refuses what PromQL refuses, naming why', () => {
    expect(() => parseSelector('{job=~".*"}')).toThrow(/at least one non-empty matcher/)
    expect(() => parseSelector('{}')).toThrow(/at least one non-empty matcher/)
    expect(() => parseSelector('up{job="a"')).toThrow(/expected/)
    expect(() => parseSelector('up{job="a}')).toThrow(/unterminated/)
    expect(() => parseSelector('up{job=a}')).toThrow(/quoted string/)
    expect(() => parseSelector('up{1a="x"}')).toThrow(/label name/)
    expect(() => parseSelector('up{a="\\q"}')).toThrow(/escape/)
    expect(() => parseSelector('up extra')).toThrow(/unexpected/)
    expect(() => parseSelector('{a=~"("}')).toThrow(/invalid regex/)
    try { parseSelector('{') } catch (err) { expect((err as { code: string }).code).toBe('read_request_invalid') }
  })
})
