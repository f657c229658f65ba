/**
 * A PromQL series selector, as the Prometheus API's `match[]` takes it: `metric`, `metric{...}` or
 * `{...}`, the braces holding `name op "value"` pairs separated by commas (a trailing comma allowed),
 * op one of `=`, `!=`, `=~`, `!~`. Values are PromQL strings: double or single quotes with Go's escapes
 * (\n \t \\ \" \' \xNN \uNNNN \UNNNNNNNN, octal \NNN), or backquotes taken as they are. As in
 * PromQL, a selector needs one matcher that does not match the empty string (`{job=~".*"}` alone is
 * refused: it would select every series).
 */
import { IngestError } from '../errors.js'
import type { MatchType, WireMatcher } from './read-request.js'
import { LabelMatcher } from './label-matcher.js'

const METRIC = /^[a-zA-Z_:][a-zA-Z0-9_:]*/
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*/
const OPS: ReadonlyArray<readonly [string, MatchType]> = [['=~', 'RE'], ['!~', 'NRE'], ['!=', 'NEQ'], ['=', 'EQ']]

function bad (selector: string, why: string): IngestError {
  return new IngestError('read_request_invalid', `invalid parameter "match[]": ${JSON.stringify(selector)}: ${why}`)
}

/** Reads a quoted string at `s[i]`; returns its value and the index after it. */
function quoted (s: string, i: number, selector: string): [string, number] {
  const q = s[i]
  if (q === '`') {
    const end = s.indexOf('`', i + 1)
    if (end < 0) throw bad(selector, 'unterminated raw string')
    return [s.slice(i + 1, end), end + 1]
  }
  if (q !== '"' && q !== "'") throw bad(selector, `expected a quoted string at position ${i}`)
  let out = ''
  let j = i + 1
  for (;;) {
    if (j >= s.length) throw bad(selector, 'unterminated string')
    const c = s[j]!
    if (c === q) return [out, j + 1]
    if (c === '\n') throw bad(selector, 'newline in a string')
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
      case '"': case "'": if (e !== q) throw bad(selector, `unknown escape \\${e}`); out += e; break
      case 'x': case 'u': case 'U': {
        const n = e === 'x' ? 2 : e === 'u' ? 4 : 8
        const hex = s.slice(j, j + n)
        if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(hex)) throw bad(selector, `bad escape \\${e}${hex}`)
        const code = parseInt(hex, 16)
        if (e === 'x') out += String.fromCharCode(code) // a byte; PromQL strings are UTF-8, so only ASCII is exact
        else if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) throw bad(selector, `bad escape \\${e}${hex}`)
        else out += String.fromCodePoint(code)
        j += n
        break
      }
      default: {
        const oct = s.slice(j - 1, j + 2)
        if (!/^[0-7]{3}$/.test(oct)) throw bad(selector, `unknown escape \\${e ?? ''}`)
        out += String.fromCharCode(parseInt(oct, 8))
        j += 2
      }
    }
  }
}

/** The matchers of a series selector; throws read_request_invalid naming what is wrong. */
export function parseSelector (selector: string): WireMatcher[] {
  const s = selector
  const out: WireMatcher[] = []
  let i = 0
  const space = (): void => { while (i < s.length && /\s/.test(s[i]!)) i++ }
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
      const name = LABEL.exec(s.slice(i))
      if (name === null) throw bad(selector, `expected a label name at position ${i}`)
      i += name[0].length
      space()
      const op = OPS.find(([text]) => s.startsWith(text, i))
      if (op === undefined) throw bad(selector, `expected =, !=, =~ or !~ at position ${i}`)
      i += op[0].length
      space()
      const [value, next] = quoted(s, i, selector)
      i = next
      out.push({ type: op[1], name: name[0], value })
      space()
      if (s[i] === ',') { i++; continue }
      if (s[i] === '}') { i++; break }
      throw bad(selector, `expected , or } at position ${i}`)
    }
  } else if (metric === null) {
    throw bad(selector, 'expected a metric name or {')
  }
  space()
  if (i !== s.length) throw bad(selector, `unexpected ${JSON.stringify(s.slice(i, i + 10))} at position ${i}`)
  if (out.filter(m => m.name === '__name__').length > 1 && metric !== null) throw bad(selector, 'metric name must not be set twice')
  if (!out.some(m => !LabelMatcher.of(m).matches(''))) throw bad(selector, 'vector selector must contain at least one non-empty matcher')
  return out
}
