/**
 * Relabeling regexes behave as Go's RE2 does, whichever engine runs them. Each JavaScript-versus-RE2
 * difference has a case: what RE2 (re2js, checked against Go's documentation and, for refusals,
 * Prometheus 2.42's promtool) answers, what a plain JS RegExp would answer, and that GoRegexp answers
 * as RE2 does. A property test then compares every translated pattern with re2js on random patterns
 * and inputs.
 */
import { fc, test as fcTest } from '@fast-check/vitest'
import { RE2JS } from 're2js'
import { describe, expect, it } from 'vitest'
import { expand } from '../../src/relabel/expand.js'
import { GoRegexp } from '../../src/relabel/go-regexp.js'
import { translate } from '../../src/relabel/translate.js'

/** What Go answers: re2js with the pattern anchored as Prometheus 3 (s) or 2 anchors it. */
function re2Matches (pattern: string, s: string, compat: 2 | 3 = 3): boolean {
  return RE2JS.compile((compat === 3 ? '^(?s:' : '^(?:') + pattern + ')$').matches(s)
}

function both (pattern: string, compat: 2 | 3 = 3): GoRegexp[] {
  return [GoRegexp.compile(pattern, compat), GoRegexp.compile(pattern, compat, { translate: false })]
}

describe('JavaScript and RE2 differ; GoRegexp answers as RE2', () => {
  it('`.` without the s flag matches \\r, U+2028 and U+2029 in RE2, not in JS; never \\n', () => {
    for (const ch of ['\r', '\u2028', '\u2029']) {
      expect(/^.$/.test(ch)).toBe(false)
      expect(re2Matches('.', ch, 2)).toBe(true)
      for (const re of both('.', 2)) expect(re.matches(ch)).toBe(true)
    }
    expect(re2Matches('.', '\n', 2)).toBe(false)
    for (const re of both('.', 2)) expect(re.matches('\n')).toBe(false)
    expect(GoRegexp.compile('.', 2).matchEngine).toBe('v8')
  })
  it('`.` under Prometheus 3 anchoring (?s:…) matches \\n; (?-s:.) does not', () => {
    for (const re of both('a.b', 3)) expect(re.matches('a\nb')).toBe(true)
    for (const re of both('a(?-s:.)b', 3)) expect(re.matches('a\nb')).toBe(false)
    for (const re of both('a(?-s).b', 3)) expect(re.matches('a\nb')).toBe(false)
    for (const re of both('(?s)a.b', 2)) expect(re.matches('a\nb')).toBe(true)
  })
  it('`.` is one code point in both (an emoji is one `.`), with the u flag', () => {
    expect(/^.$/.test('😀')).toBe(false) // without u, two UTF-16 units
    for (const re of both('.')) expect(re.matches('😀')).toBe(true)
  })
  it('\\s is ASCII [\\t\\n\\f\\r ] in RE2: not \\v, U+00A0, U+2028, U+FEFF (JS matches them all)', () => {
    for (const ch of ['\v', '\u00a0', '\u2028', '\ufeff', '\u3000']) {
      expect(/^\s$/.test(ch)).toBe(true)
      expect(re2Matches('\\s', ch)).toBe(false)
      for (const re of both('\\s')) expect(re.matches(ch)).toBe(false)
      for (const re of both('\\S')) expect(re.matches(ch)).toBe(true)
      for (const re of both('[\\s]')) expect(re.matches(ch)).toBe(false)
    }
    for (const ch of ['\t', '\n', '\f', '\r', ' ']) for (const re of both('\\s')) expect(re.matches(ch)).toBe(true)
    expect(GoRegexp.compile('\\s', 3).matchEngine).toBe('v8')
  })
  it('\\d, \\w and \\b are ASCII in both', () => {
    for (const re of both('\\d')) expect(re.matches('\u0663')).toBe(false) // Arabic-Indic three
    for (const re of both('\\w')) expect(re.matches('é')).toBe(false)
    for (const re of both('.*\\bx')) expect(re.matches('éx')).toBe(true) // é is not a word character
    expect(/^\d$/u.test('\u0663')).toBe(false)
  })
  it('(?i) is a syntax error in JS, valid in RE2, and runs on re2js', () => {
    // biome-ignore lint/complexity/useRegexLiterals: a literal would not compile; the throw is what is tested
    expect(() => new RegExp('(?i)abc', 'u')).toThrow()
    for (const re of both('(?i)abc')) expect(re.matches('ABC')).toBe(true)
    expect(GoRegexp.compile('(?i)abc', 3).matchEngine).toBe('re2js')
    // Go folds K (Kelvin sign) with k, and does not fold İ with i.
    for (const re of both('(?i)k')) expect(re.matches('\u212a')).toBe(true)
    for (const re of both('(?i)i')) expect(re.matches('İ')).toBe(false)
  })
  it('(?m) runs on re2js: JS ^ and $ in m mode also break at \\r, U+2028', () => {
    expect(/^a$/mu.test('a\rb')).toBe(true)
    expect(RE2JS.compile('(?m)^a$').matcher('a\rb').find()).toBe(false)
    for (const re of both('(?m)a$\\r.*')) expect(re.matches('a\rb')).toBe(false)
    expect(GoRegexp.compile('(?m)a$', 3).matchEngine).toBe('re2js')
  })
  it('backreferences and lookaround: JS accepts them, RE2 and Prometheus refuse them', () => {
    for (const p of ['(a)\\1', 'a(?=b)', 'a(?!b)', '(?<=a)b', '(?<!a)b', '(?<n>a)\\k<n>']) {
      expect(() => new RegExp(p, 'u')).not.toThrow()
      expect(() => GoRegexp.compile(p, 3), p).toThrow(/error parsing regexp/)
      expect(() => GoRegexp.compile(p, 2), p).toThrow(/error parsing regexp/)
    }
  })
  it('other patterns Go refuses: \\C, \\Z, \\8, repeat counts above 1000, nested repetition', () => {
    for (const p of ['\\C', '\\Z', '\\8', 'a{1001}', 'a**', 'a*+', 'x{2}{3}', '[\\b]', '(']) {
      expect(() => GoRegexp.compile(p, 3), p).toThrow(/error parsing regexp/)
    }
    expect(() => GoRegexp.compile('a{1000}', 3)).not.toThrow()
  })
  it('(?<name>x) is Go 1.22 syntax: Prometheus 3 takes it, Prometheus 2.42 (Go 1.19) refuses it', () => {
    expect(() => GoRegexp.compile('(?<n>x)', 3)).not.toThrow()
    expect(() => GoRegexp.compile('(?<n>x)', 2)).toThrow(/invalid or unsupported Perl syntax: `\(\?<`/)
    expect(() => GoRegexp.compile('(?P<n>x)', 2)).not.toThrow()
    expect(() => GoRegexp.compile('\\(?<n>x', 2)).not.toThrow() // an escaped paren is no group
  })
  it('two groups of one name: Go accepts them (re2js alone would not); $name is the first that took part', () => {
    expect(() => RE2JS.compile('(?P<n>a)|(?P<n>b)')).toThrow(/duplicate capture group name/)
    for (const re of both('(?P<n>a)|(?P<n>b)')) {
      expect(expand('$n', re.exec('b')!, re.names)).toBe('b')
      expect(expand('$n', re.exec('a')!, re.names)).toBe('a')
    }
    for (const re of both('(?P<n>a*)(?P<n>b)')) expect(expand('[$n]', re.exec('b')!, re.names)).toBe('[]') // the first took part, empty
  })
  it('\\A and \\z are RE2 escapes JS lacks; $ is the end of the text in both (not before a final \\n)', () => {
    for (const re of both('\\Aab\\z')) expect(re.matches('ab')).toBe(true)
    for (const re of both('ab$\\n', 2)) expect(re.matches('ab\n')).toBe(false)
    expect(GoRegexp.compile('\\Aab\\z', 3).matchEngine).toBe('v8')
  })
  it('escapes RE2 has and JS (u flag) refuses: \\a, \\_, \\#, \\x{…}', () => {
    for (const p of ['\\a', '\\_', '\\#', '\\x{1F600}']) expect(() => new RegExp(p, 'u'), p).toThrow()
    for (const re of both('\\a')) expect(re.matches('\x07')).toBe(true)
    for (const re of both('a\\_b\\#')) expect(re.matches('a_b#')).toBe(true)
    for (const re of both('\\x{1F600}')) expect(re.matches('😀')).toBe(true)
    expect(GoRegexp.compile('a\\_b\\#\\x{1F600}\\a', 3).matchEngine).toBe('v8')
  })
  it('literal ], }, { and a{,3} (RE2 literals, JS u-mode syntax errors)', () => {
    for (const [p, s] of [['a]', 'a]'], ['a}', 'a}'], ['a{', 'a{'], ['a{,3}', 'a{,3}'], ['a{x}', 'a{x}']]) {
      expect(() => new RegExp(p!, 'u'), p).toThrow()
      for (const re of both(p!)) expect(re.matches(s!), p).toBe(true)
    }
  })
  it('classes: ] first is a literal in RE2 (an empty class in JS); [a-c-e] is a-c, - and e in both', () => {
    for (const re of both('[]a]+')) expect(re.matches(']a')).toBe(true)
    // biome-ignore lint/correctness/noEmptyCharacterClassInRegex: the empty JS class is the point of this check
    expect(/^[]a]+$/.test(']a')).toBe(false)
    for (const re of both('[a-c-e]')) expect([re.matches('d'), re.matches('-'), re.matches('e')]).toEqual([false, true, true])
    expect(() => GoRegexp.compile('(?P=n)', 3)).toThrow(/error parsing regexp/)
    for (const re of both('[[:alpha:]]+')) expect(re.matches('abZ')).toBe(true)
    for (const re of both('[^\\S]')) expect(re.matches('\v')).toBe(false)
  })
  it('\\pL, \\p{Greek}, \\Q…\\E and octal escapes run on re2js', () => {
    for (const [p, s] of [['\\pL+', 'aé'], ['\\p{Greek}', 'λ'], ['\\Qa.b\\E', 'a.b'], ['\\101', 'A']]) {
      const re = GoRegexp.compile(p!, 3)
      expect(re.matchEngine, p).toBe('re2js')
      expect(re.matches(s!), p).toBe(true)
    }
    expect(GoRegexp.compile('\\Qa.b\\E', 3).matches('axb')).toBe(false)
  })
  it('a group in a repetition keeps its last match in RE2; JS resets it: groups come from re2js then', () => {
    expect(/^(?:(a)|b)+$/u.exec('ab')![1]).toBeUndefined()
    const re = GoRegexp.compile('(?:(a)|b)+', 3)
    expect(re.matchEngine).toBe('v8')
    expect(re.execEngine).toBe('re2js')
    expect(re.exec('ab')![1]).toBe('a')
  })
  it('leftmost-first groups agree where no group repeats', () => {
    for (const re of both('(a|ab)(c|bcd)(d*)')) expect(Array.from(re.exec('abcd')!)).toEqual(['abcd', 'a', 'bcd', ''])
    expect(GoRegexp.compile('(a|ab)(c|bcd)(d*)', 3).execEngine).toBe('v8')
  })
})

// Random patterns from the grammar translate.ts handles (and a little beyond it), random inputs from
// an alphabet that holds every character the differences are about.
const ALPHABET = ['a', 'b', 'A', '1', '_', ' ', '\n', '\r', '\t', '\v', '\f', '\u2028', '\u00a0', 'é', '😀', '-', ']', '.']
const atom: fc.Arbitrary<string> = fc.constantFrom(
  'a', 'b', 'A', '1', '.', '\\s', '\\S', '\\d', '\\D', '\\w', '\\W', '\\b', '\\B', '[ab]', '[^a]', '[a-z]', '[\\s1]', '[-a]', '[a-]',
  '\\.', '\\-', '\\]', ']', '}', '\\_', '\\x41', '\\x{1F600}', '😀', '\\n', '\\r', '\\v', '\\a', '^', '$', '\\A', '\\z', 'é', '[^\\d\\s]'
)
const pattern: fc.Arbitrary<string> = fc.letrec<{ re: string, seq: string, item: string }>(tie => ({
  re: fc.oneof({ depthSize: 'small', withCrossShrink: true }, tie('seq'), fc.tuple(tie('seq'), tie('seq')).map(([x, y]) => `${x}|${y}`)),
  seq: fc.array(tie('item'), { minLength: 0, maxLength: 4 }).map(items => items.join('')),
  item: fc.oneof(
    { depthSize: 'small' },
    atom,
    fc.tuple(atom, fc.constantFrom('*', '+', '?', '*?', '{2}', '{1,2}', '{0,}')).map(([x, q]) => x === '^' || x === '$' || x === '\\A' || x === '\\z' || x === '\\b' || x === '\\B' ? x : x + q),
    fc.tuple(fc.constantFrom('(', '(?:', '(?P<g>', '(?s:', '(?-s:'), tie('re'), fc.constantFrom(')', ')*', ')+', ')?')).map(([o, r, c]) => o + r + c)
  )
})).re
const input = fc.array(fc.constantFrom(...ALPHABET), { maxLength: 8 }).map(cs => cs.join(''))

describe('translated patterns agree with re2js (property)', () => {
  fcTest.prop([pattern, fc.array(input, { minLength: 1, maxLength: 12 }), fc.constantFrom(2 as const, 3 as const)], { numRuns: 1500 })(
    'matches and groups', (p, inputs, compat) => {
      let re2: RE2JS
      try {
        re2 = RE2JS.compile((compat === 3 ? '^(?s:' : '^(?:') + p.replace(/\(\?P<g>/g, () => `(?P<g${Math.random().toString(36).slice(2, 8)}>`) + ')$')
      } catch {
        return // not RE2 syntax; GoRegexp refuses it too (checked elsewhere)
      }
      let re: GoRegexp
      try { re = GoRegexp.compile(p, compat) } catch { return } // e.g. duplicate-free renaming above made it valid
      for (const s of inputs) {
        expect(re.matches(s), `${JSON.stringify(p)} on ${JSON.stringify(s)} (${re.matchEngine})`).toBe(re2.matches(s))
        const m = re2.matcher(s)
        const want = m.matches() ? Array.from({ length: re2.groupCount() + 1 }, (_, k) => m.group(k) ?? undefined) : null
        const got = re.exec(s)
        expect(got === null ? null : Array.from(got, g => g ?? undefined), `groups of ${JSON.stringify(p)} on ${JSON.stringify(s)} (${re.execEngine})`).toEqual(want)
      }
    })

  it('the property runs mostly on V8 (the translation covers the generated grammar)', () => {
    const samples = fc.sample(pattern, { numRuns: 500, seed: 42 })
    let translated = 0
    let valid = 0
    for (const p of samples) {
      try { GoRegexp.compile(p.replace(/\(\?P<g>/g, '('), 3) } catch { continue }
      valid++
      if (translate(p.replace(/\(\?P<g>/g, '('), true) !== undefined) translated++
    }
    expect(valid).toBeGreaterThan(100)
    expect(translated / valid).toBeGreaterThan(0.8)
  })
})
