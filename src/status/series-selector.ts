/**
 * Series selectors for `match[]` of /api/v1/status/tsdb, as PromQL writes them:
 *
 *   metric_name
 *   metric_name{label="value", other!="x"}
 *   {__name__=~"http_.*", job!~"test|dev"}
 *
 * Operators `=`, `!=`, `=~`, `!~`; values in double, single or back quotes with Go's escapes; regexes
 * anchored and run with Go's RE2 semantics as Prometheus 2 runs them (`^(?:re)$`, src/relabel/go-regexp.ts).
 * A label a series lacks has the value '' (so `{team=""}` selects the series without `team`).
 * Several `match[]` select the union of their series.
 */
import { IngestError } from '../errors.js'
import { GoRegexp } from '../relabel/go-regexp.js'

export type MatchOp = '=' | '!=' | '=~' | '!~'

export interface LabelMatcher {
  readonly name: string
  readonly op: MatchOp
  readonly value: string
}

/** One selector: a series is selected when every matcher matches. */
export type Selector = readonly LabelMatcher[]

/** The longest selector accepted, in characters: a bound on the work one parameter can ask for. */
export const MAX_SELECTOR_CHARS = 4096

function invalid (selector: string, why: string): IngestError {
  return new IngestError('status_parameter_invalid', `match[] ${JSON.stringify(selector.length > 200 ? selector.slice(0, 200) + '...' : selector)} is not a series selector: ${why}`)
}

const NAME_START = /[a-zA-Z_:]/
const NAME_PART = /[a-zA-Z0-9_:]/
const LABEL_START = /[a-zA-Z_]/
const LABEL_PART = /[a-zA-Z0-9_]/

/** Parses one selector; throws IngestError('status_parameter_invalid') naming the problem. */
export function parseSelector (text: string): Selector {
  if (text.length > MAX_SELECTOR_CHARS) throw invalid(text, `longer than ${MAX_SELECTOR_CHARS} characters`)
  const out: LabelMatcher[] = []
  let i = 0
  const skip = (): void => { while (i < text.length && /\s/.test(text[i]!)) i++ }
  skip()
  if (i < text.length && NAME_START.test(text[i]!)) {
    const start = i
    while (i < text.length && NAME_PART.test(text[i]!)) i++
    out.push({ name: '__name__', op: '=', value: text.slice(start, i) })
    skip()
  }
  if (i < text.length && text[i] === '{') {
    i++
    for (;;) {
      skip()
      if (text[i] === '}') { i++; break }
      let name: string
      if (text[i] === '"' || text[i] === '\'' || text[i] === '`') {
        const q = readQuoted(text, i)
        name = q.value
        i = q.end
      } else {
        const start = i
        if (i >= text.length || !LABEL_START.test(text[i]!)) throw invalid(text, `expected a label name at character ${i + 1}`)
        while (i < text.length && LABEL_PART.test(text[i]!)) i++
        name = text.slice(start, i)
      }
      skip()
      let op: MatchOp
      if (text.startsWith('=~', i)) op = '=~'
      else if (text.startsWith('!~', i)) op = '!~'
      else if (text.startsWith('!=', i)) op = '!='
      else if (text[i] === '=') op = '='
      else throw invalid(text, `expected =, !=, =~ or !~ after ${JSON.stringify(name)}`)
      i += op.length
      skip()
      if (text[i] !== '"' && text[i] !== '\'' && text[i] !== '`') throw invalid(text, `expected a quoted value for ${JSON.stringify(name)}`)
      const q = readQuoted(text, i)
      i = q.end
      out.push({ name, op, value: q.value })
      skip()
      if (text[i] === ',') { i++; continue }
      if (text[i] === '}') { i++; break }
      throw invalid(text, `expected , or } at character ${i + 1}`)
    }
  }
  skip()
  if (i !== text.length) throw invalid(text, `unexpected ${JSON.stringify(text[i])} at character ${i + 1}`)
  if (out.length === 0) throw invalid(text, 'it names no metric and no label')
  if (out.every(m => matcherFor(m, text).matches(''))) throw invalid(text, 'every matcher matches the empty value, so it would select every series (Prometheus refuses such selectors too)')
  return out
}

/** A quoted string starting at `at`; Go's escapes in '…' and "…", none in `…`. */
function readQuoted (text: string, at: number): { value: string, end: number } {
  const quote = text[at]!
  let i = at + 1
  let value = ''
  while (i < text.length && text[i] !== quote) {
    const c = text[i]!
    if (c === '\\' && quote !== '`') {
      const e = text[i + 1]
      const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', '\'': '\'', a: '\x07', b: '\b', f: '\f', v: '\v' }
      if (e !== undefined && simple[e] !== undefined) { value += simple[e]; i += 2; continue }
      const hex = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0
      const digits = text.slice(i + 2, i + 2 + hex)
      if (hex > 0 && digits.length === hex && /^[0-9a-fA-F]+$/.test(digits)) {
        value += String.fromCodePoint(parseInt(digits, 16))
        i += 2 + hex
        continue
      }
      throw invalid(text, `unknown escape \\${e ?? ''} at character ${i + 1}`)
    }
    value += c
    i++
  }
  if (i >= text.length) throw invalid(text, `unterminated string starting at character ${at + 1}`)
  return { value, end: i + 1 }
}

/** A compiled matcher: whether a label value (or '' when the label is absent) matches. */
export interface CompiledMatcher {
  readonly name: string
  matches(value: string): boolean
}

export function matcherFor (m: LabelMatcher, selector = ''): CompiledMatcher {
  if (m.op === '=') return { name: m.name, matches: v => v === m.value }
  if (m.op === '!=') return { name: m.name, matches: v => v !== m.value }
  let re: GoRegexp
  try {
    re = GoRegexp.compile(m.value, 2)
  } catch (err) {
    throw invalid(selector, `the regex for ${JSON.stringify(m.name)} does not compile: ${(err as Error).message}`)
  }
  return m.op === '=~' ? { name: m.name, matches: v => re.matches(v) } : { name: m.name, matches: v => !re.matches(v) }
}
