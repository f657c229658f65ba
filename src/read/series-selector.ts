/**
 * A PromQL series selector, as `match[]` takes it (the Prometheus API routes and
 * /api/v1/status/tsdb alike):
 *
 *   metric_name
 *   metric_name{label="value", other!="x"}
 *   {__name__=~"http_.*", job!~"test|dev", "service.name"="api"}
 *
 * The braces hold `name op "value"` pairs separated by commas (a trailing comma allowed), op one of
 * `=`, `!=`, `=~`, `!~`; a label name bare or quoted. Values are PromQL strings: double or single
 * quotes with Go's escapes (\n \t \\ \" \' \xNN \uNNNN \UNNNNNNNN, octal \NNN), or backquotes taken
 * as they are. As in PromQL, a selector needs one matcher that does not match the empty string
 * (`{job=~".*"}` alone is refused: it would select every series), and names the metric once.
 * Matchers compile with label-matcher.ts (anchored Go RE2 regexes).
 *
 * Each route answers a bad selector with its own code (read_request_invalid on the read routes,
 * status_parameter_invalid on the status route), so the caller passes it.
 */
import { type ErrorCode, IngestError } from '../errors.js'
import type { MatchType, WireMatcher } from './read-request.js'
import { LabelMatcher } from './label-matcher.js'

/** One selector: a series is selected when every matcher selects it. */
export type Selector = readonly WireMatcher[]

/** The longest selector accepted, in characters: a bound on the work one parameter can ask for. */
export const MAX_SELECTOR_CHARS = 4096

const METRIC = /^[a-zA-Z_:][a-zA-Z0-9_:]*/
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*/
const OPS: ReadonlyArray<readonly [string, MatchType]> = [['=~', 'RE'], ['!~', 'NRE'], ['!=', 'NEQ'], ['=', 'EQ']]

/** Parses one selector; throws IngestError(code) naming what is wrong. */
export function parseSelector (selector: string, code: ErrorCode): WireMatcher[] {
  const bad = (why: string): IngestError => {
    const shown = selector.length > 200 ? selector.slice(0, 200) + '...' : selector
    return new IngestError(code, `match[] ${JSON.stringify(shown)} is not a series selector: ${why}`)
  }
  if (selector.length > MAX_SELECTOR_CHARS) throw bad(`longer than ${MAX_SELECTOR_CHARS} characters`)
  const s = selector
  const out: WireMatcher[] = []
  let i = 0
  const space = (): void => { while (i < s.length && /\s/.test(s[i]!)) i++ }
  const quotedAt = (): string => {
    const [value, next] = quoted(s, i, bad)
    i = next
    return value
  }
  space()
  const metric = METRIC.exec(s.slice(i))
  if (metric !== null) {
    out.push({ type: 'EQ', name: '__name__', value: metric[0] })
    i += metric[0].length
    space()
  }
  if (s[i] === '{') {
    i++
    for (;;) {
      space()
      if (s[i] === '}') { i++; break }
      let name: string
      if (s[i] === '"' || s[i] === "'" || s[i] === '`') {
        name = quotedAt()
      } else {
        const bare = LABEL.exec(s.slice(i))
        if (bare === null) throw bad(`expected a label name at character ${i + 1}`)
        name = bare[0]
        i += name.length
      }
      space()
      const op = OPS.find(([text]) => s.startsWith(text, i))
      if (op === undefined) throw bad(`expected =, !=, =~ or !~ after ${JSON.stringify(name)} at character ${i + 1}`)
      i += op[0].length
      space()
      if (s[i] !== '"' && s[i] !== "'" && s[i] !== '`') throw bad(`expected a quoted string as the value of ${JSON.stringify(name)} at character ${i + 1}`)
      out.push({ type: op[1], name, value: quotedAt() })
      space()
      if (s[i] === ',') { i++; continue }
      if (s[i] === '}') { i++; break }
      throw bad(`expected , or } at character ${i + 1}`)
    }
  } else if (metric === null) {
    throw bad('it names no metric and no label: expected a metric name or {')
  }
  space()
  if (i !== s.length) throw bad(`unexpected ${JSON.stringify(s.slice(i, i + 10))} at character ${i + 1}`)
  if (metric !== null && out.filter(m => m.name === '__name__').length > 1) throw bad('the metric name must not be set twice')
  let selective = false
  for (const m of out) {
    let compiled: LabelMatcher
    try {
      compiled = LabelMatcher.of(m, code)
    } catch (err) {
      throw bad((err as Error).message)
    }
    if (!compiled.matches('')) selective = true
  }
  if (!selective) {
    throw bad('vector selector must contain at least one non-empty matcher: every matcher matches the empty value, so it would select every series')
  }
  return out
}

/** Reads a quoted string at `s[i]`; returns its value and the index after it. */
function quoted (s: string, i: number, bad: (why: string) => IngestError): [string, number] {
  const q = s[i]
  if (q === '`') {
    const end = s.indexOf('`', i + 1)
    if (end < 0) throw bad(`unterminated raw string starting at character ${i + 1}`)
    return [s.slice(i + 1, end), end + 1]
  }
  let out = ''
  let j = i + 1
  for (;;) {
    if (j >= s.length) throw bad(`unterminated string starting at character ${i + 1}`)
    const c = s[j]!
    if (c === q) return [out, j + 1]
    if (c === '\n') throw bad(`newline in the string starting at character ${i + 1}`)
    if (c !== '\\') { out += c; j++; continue }
    const e = s[j + 1]
    j += 2
    switch (e) {
      case 'a': out += '\x07'; break
      case 'b': out += '\b'; break
      case 'f': out += '\f'; break
      case 'n': out += '\n'; break
      case 'r': out += '\r'; break
      case 't': out += '\t'; break
      case 'v': out += '\v'; break
      case '\\': out += '\\'; break
      case '"': case "'": if (e !== q) throw bad(`unknown escape \\${e} at character ${j - 1}`); out += e; break
      case 'x': case 'u': case 'U': {
        const n = e === 'x' ? 2 : e === 'u' ? 4 : 8
        const hex = s.slice(j, j + n)
        if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(hex)) throw bad(`bad escape \\${e}${hex} at character ${j - 1}`)
        const code = parseInt(hex, 16)
        if (e === 'x') out += String.fromCharCode(code) // a byte; PromQL strings are UTF-8, so only ASCII is exact
        else if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) throw bad(`bad escape \\${e}${hex} at character ${j - 1}`)
        else out += String.fromCodePoint(code)
        j += n
        break
      }
      default: {
        const oct = s.slice(j - 1, j + 2)
        if (!/^[0-7]{3}$/.test(oct)) throw bad(`unknown escape \\${e ?? ''} at character ${j - 1}`)
        out += String.fromCharCode(parseInt(oct, 8))
        j += 2
      }
    }
  }
}
