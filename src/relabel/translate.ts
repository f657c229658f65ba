/**
 * Translation of an RE2 (Go regexp/syntax) pattern into a V8 RegExp source that provably behaves the
 * same, for speed; a pattern outside the subset below is not translated and runs on re2js. The
 * pattern has already been accepted by re2js, so only patterns valid in RE2 reach this code.
 *
 * Differences handled (each checked against re2js and Go's regexp/syntax documentation; the tests in
 * test/relabel/go-regexp.test.ts exercise every one, and a property test compares translated
 * patterns with re2js on random patterns and inputs):
 *   `.`          RE2 without the s flag: any code point but `\n` (it matches `\r`, U+2028, U+2029);
 *                JS excludes all four. Emitted as `[^\n]`, or `[^]` under (?s).
 *   `\s`, `\S`   RE2: ASCII `[\t\n\f\r ]` only (not `\v`, not U+00A0 or U+2028); JS: Unicode spaces.
 *                Emitted as the explicit class.
 *   `\A`, `\z`   no such escapes in JS: `^` and `$` (neither has the m flag here, so both mean the
 *                ends of the text in both engines).
 *   `\a`         bell in RE2, a syntax error in JS with the u flag: `\x07`.
 *   `\x{1F600}`  RE2's braced hex: `\u{1F600}`.
 *   `\_`, `\#`.. RE2 lets `\` quote any ASCII punctuation; JS (u flag) only its syntax characters.
 *   `]`, `}`, `{` RE2 takes them as literals where they cannot be syntax (`a]`, `a{,3}`); JS (u flag)
 *                refuses them: emitted escaped.
 *   `(?P<n>x)`, `(?<n>x)`  named groups: emitted as plain groups (Go allows names JS does not,
 *                such as `1a`, and repeated names); go-regexp.ts maps names to numbers.
 *   `(?s)`, `(?-s)`, `(?s:x)`  the s flag is tracked per group and changes how `.` is emitted.
 * Not translated (re2js runs them): `(?i)` and the other flags (Go's case folding differs from JS's
 * for some letters), `\p{..}` (Unicode versions and property names differ), `\Q..\E`, octal escapes,
 * POSIX classes `[[:alpha:]]`, a class starting with `]`, `\S` inside a class.
 * Code points: the u flag makes JS match code points, as RE2 matches runes (an emoji is one `.`).
 *
 * Captures: JS resets the groups inside a repeated group at each repetition; RE2 keeps the last value
 * that matched (`(?:(a)|b)+` on "ab": RE2 group 1 is "a", JS undefined). A pattern with a group inside
 * a repetition is translated for matching only (`capturesInRepeat`), never for its groups.
 */

export interface Translation {
  /** The JS source of the pattern's body (not anchored). */
  readonly source: string
  /** Capturing groups, in order (1-based numbers). */
  readonly groups: number
  /** A capturing group sits inside a repeated atom: JS and RE2 may disagree on its value. */
  readonly capturesInRepeat: boolean
}

/** RE2 escapes of punctuation that JS (u flag) also accepts escaped; others are emitted as literals. */
const JS_SYNTAX = new Set('^$\\.*+?()[]{}|/'.split(''))
const ASCII_PUNCT = /^[!-/:-@[-`{-~]$/
const SPACE_CLASS = '\\t\\n\\f\\r '

class Bail extends Error {}

function literal (ch: string): string {
  if (JS_SYNTAX.has(ch)) return '\\' + ch
  return ch
}

/** A literal inside a JS class (u flag): escape what could be class syntax. */
function classLiteral (ch: string): string {
  if (ch === '\\' || ch === ']' || ch === '[' || ch === '^' || ch === '-') return '\\' + ch
  return ch
}

interface Frame { dotAll: boolean, hasCapture: boolean }

export function translate (pattern: string, dotAll: boolean): Translation | undefined {
  try {
    return translateOrThrow(pattern, dotAll)
  } catch (err) {
    if (err instanceof Bail) return undefined
    throw err
  }
}

function translateOrThrow (p: string, initialDotAll: boolean): Translation {
  let out = ''
  let i = 0
  let groups = 0
  let capturesInRepeat = false
  const stack: Frame[] = [{ dotAll: initialDotAll, hasCapture: false }]
  // Whether the atom just emitted holds a capture (for a quantifier that follows it).
  let lastAtomCaptures = false
  const top = (): Frame => stack[stack.length - 1]!

  const quantifier = (): boolean => {
    const c = p[i]
    let q = ''
    if (c === '*' || c === '+' || c === '?') {
      q = c
      i++
    } else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(p.slice(i))
      if (m === null) return false
      q = m[0]
      i += q.length
    } else {
      return false
    }
    if (p[i] === '?') { q += '?'; i++ }
    if (lastAtomCaptures) capturesInRepeat = true
    out += q
    return true
  }

  while (i < p.length) {
    const cp = p.codePointAt(i)!
    const ch = String.fromCodePoint(cp)
    if (ch === '(') {
      if (p.startsWith('(?', i)) {
        const named = /^\(\?P?<([^>]+)>/.exec(p.slice(i))
        if (named !== null) {
          groups++
          for (const f of stack) f.hasCapture = true
          stack.push({ dotAll: top().dotAll, hasCapture: true })
          out += '('
          i += named[0].length
          continue
        }
        const flags = /^\(\?([a-zA-Z-]*)(:|\))/.exec(p.slice(i))
        if (flags === null) throw new Bail()
        const f = flags[1]!
        if (!/^(s|-s|)$/.test(f)) throw new Bail() // i, m, U and combinations run on re2js
        const dot = f === '' ? top().dotAll : f === 's'
        i += flags[0].length
        if (flags[2] === ')') {
          top().dotAll = dot // (?s) sets the flag up to the end of the enclosing group
          lastAtomCaptures = false
          continue
        }
        stack.push({ dotAll: dot, hasCapture: false })
        out += '(?:'
        continue
      }
      groups++
      for (const f of stack) f.hasCapture = true
      stack.push({ dotAll: top().dotAll, hasCapture: true })
      out += '('
      i++
      continue
    }
    if (ch === ')') {
      const frame = stack.pop()
      if (frame === undefined || stack.length === 0) throw new Bail()
      out += ')'
      i++
      lastAtomCaptures = frame.hasCapture
      quantifier()
      continue
    }
    if (ch === '|') { out += '|'; i++; lastAtomCaptures = false; continue }
    if (ch === '^' || ch === '$') { out += ch; i++; lastAtomCaptures = false; quantifier(); continue }
    if (ch === '.') { out += top().dotAll ? '[^]' : '[^\\n]'; i++; lastAtomCaptures = false; quantifier(); continue }
    if (ch === '[') { out += charClass(); lastAtomCaptures = false; quantifier(); continue }
    if (ch === '\\') { out += escapeAt(); lastAtomCaptures = false; quantifier(); continue }
    if (ch === '*' || ch === '+' || ch === '?') throw new Bail() // RE2 refuses these; never reached
    if (ch === '{') {
      // A `{` that is not a repetition is a literal in RE2.
      if (/^\{(\d+)(,(\d*))?\}/.test(p.slice(i))) throw new Bail()
      out += '\\{'
      i++
      lastAtomCaptures = false
      quantifier()
      continue
    }
    out += literal(ch)
    i += ch.length
    lastAtomCaptures = false
    quantifier()
  }
  if (stack.length !== 1) throw new Bail()
  return { source: out, groups, capturesInRepeat }

  function escapeAt (): string {
    const c = p[i + 1]
    if (c === undefined) throw new Bail()
    i += 2
    switch (c) {
      case 'd': case 'D': case 'w': case 'W': case 'b': case 'B':
      case 'f': case 't': case 'n': case 'r': case 'v':
        return '\\' + c
      case 's': return `[${SPACE_CLASS}]`
      case 'S': return `[^${SPACE_CLASS}]`
      case 'A': return '^'
      case 'z': return '$'
      case 'a': return '\\x07'
      case 'x': return hexEscape()
    }
    if (ASCII_PUNCT.test(c)) return literal(c)
    throw new Bail() // \p, \P, \Q, octal and anything else: re2js
  }

  function hexEscape (): string {
    if (p[i] === '{') {
      const m = /^\{([0-9a-fA-F]+)\}/.exec(p.slice(i))
      if (m === null) throw new Bail()
      i += m[0].length
      const n = parseInt(m[1]!, 16)
      if (n > 0x10ffff) throw new Bail()
      return `\\u{${n.toString(16)}}`
    }
    const m = /^[0-9a-fA-F]{2}/.exec(p.slice(i))
    if (m === null) throw new Bail()
    i += 2
    return '\\x' + m[0]
  }

  /** One class item: a single code point (`char`, may start or end a range) or a set like `\d`. */
  function classAtom (): { text: string, kind: 'char' | 'set' } {
    const cp = p.codePointAt(i)!
    const ch = String.fromCodePoint(cp)
    if (ch === '[') throw new Bail() // POSIX classes `[:alpha:]`
    if (ch !== '\\') { i += ch.length; return { text: classLiteral(ch), kind: 'char' } }
    const c = p[i + 1]
    if (c === undefined) throw new Bail()
    i += 2
    switch (c) {
      case 'd': case 'D': case 'w': case 'W':
        return { text: '\\' + c, kind: 'set' }
      case 's': return { text: SPACE_CLASS, kind: 'set' }
      case 'f': case 't': case 'n': case 'r': case 'v':
        return { text: '\\' + c, kind: 'char' }
      case 'a': return { text: '\\x07', kind: 'char' }
      case 'x': return { text: hexEscape(), kind: 'char' }
    }
    if (ASCII_PUNCT.test(c)) return { text: classLiteral(c), kind: 'char' }
    throw new Bail() // \S in a class (no JS form without the v flag), \p, octal: re2js
  }

  function charClass (): string {
    let s = '['
    i++
    if (p[i] === '^') { s += '^'; i++ }
    if (p[i] === ']') throw new Bail() // `[]a]`: `]` first is a literal in RE2, an empty class in JS
    // What came last: nothing, a single code point (a range may follow), or a range or set.
    let prev: 'none' | 'char' | 'other' = 'none'
    for (;;) {
      if (i >= p.length) throw new Bail()
      const ch = p[i]
      if (ch === ']') { i++; break }
      if (ch === '-') {
        i++
        if (prev === 'none' || p[i] === ']') { s += '\\-'; prev = 'other'; continue } // a literal in both
        if (prev !== 'char') throw new Bail() // `[a-c-e]`: RE2 reads a range `-`..`e`, JS a literal `-`
        const hi = classAtom()
        if (hi.kind !== 'char') throw new Bail()
        s += '-' + hi.text
        prev = 'other'
        continue
      }
      const atom = classAtom()
      s += atom.text
      prev = atom.kind === 'char' ? 'char' : 'other'
    }
    return s + ']'
  }
}
