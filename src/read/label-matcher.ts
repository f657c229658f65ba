/**
 * Label matchers with Prometheus' semantics (model/labels/matcher.go):
 *
 *   =   the label's value equals the text          !=  it does not
 *   =~  the value matches the regex                !~  it does not
 *
 * A series without the label has the value "" for every matcher: `job=""` selects the series that
 * have no `job`, `job!=""` those that have one, `job=~".*"` every series. Regexes are Go RE2,
 * anchored at both ends as Prometheus 2 anchors them, `^(?:…)$` (src/relabel/go-regexp.ts, which also
 * refuses what Go refuses: backreferences, lookaround).
 */
import { type ErrorCode, IngestError } from '../errors.js'
import { GoRegexp } from '../relabel/go-regexp.js'
import type { MatchType, WireMatcher } from './read-request.js'

export const MATCH_OPERATORS: Readonly<Record<MatchType, string>> = { EQ: '=', NEQ: '!=', RE: '=~', NRE: '!~' }

export class LabelMatcher {
  private readonly re: GoRegexp | undefined

  private constructor (readonly type: MatchType, readonly name: string, readonly value: string, re: GoRegexp | undefined) {
    this.re = re
  }

  /**
   * Compiles a matcher; an invalid regex is an IngestError(code) (read_request_invalid on the read
   * routes, status_parameter_invalid on the status route: both a 400) naming the matcher and Go's reason.
   */
  static of (m: WireMatcher, code: ErrorCode = 'read_request_invalid'): LabelMatcher {
    let re: GoRegexp | undefined
    if (m.type === 'RE' || m.type === 'NRE') {
      try {
        re = GoRegexp.compile(m.value, 2)
      } catch (err) {
        throw new IngestError(code, `the matcher ${m.name}${MATCH_OPERATORS[m.type]}${JSON.stringify(m.value)} has an invalid regex: ${(err as Error).message}`)
      }
    }
    return new LabelMatcher(m.type, m.name, m.value, re)
  }

  /** Whether a label value (undefined: the series has no such label) is selected. */
  matches (value: string | undefined): boolean {
    const v = value ?? ''
    switch (this.type) {
      case 'EQ': return v === this.value
      case 'NEQ': return v !== this.value
      case 'RE': return this.re!.matches(v)
      case 'NRE': return !this.re!.matches(v)
    }
  }

  /** Whether a label set (name -> value) is selected. */
  selects (labels: ReadonlyMap<string, string>): boolean {
    return this.matches(labels.get(this.name))
  }

  toString (): string { return `${this.name}${MATCH_OPERATORS[this.type]}${JSON.stringify(this.value)}` }
}

/** Whether every matcher selects the label set. */
export function selectsAll (matchers: readonly LabelMatcher[], labels: ReadonlyMap<string, string>): boolean {
  for (const m of matchers) if (!m.selects(labels)) return false
  return true
}

/** A SQL string literal (standard quoting: ' doubled); undefined for text DuckDB cannot hold in a literal (NUL). */
export function sqlString (s: string): string | undefined {
  if (s.includes('\u0000')) return undefined
  return `'${s.replace(/'/g, "''")}'`
}

/**
 * SQL conditions on the `series` table that select a superset of what the matchers select: equality
 * with a non-empty value (`__name__` on the `metric` column, others on `labels[name]`). The rest of
 * the matchers are applied to the label sets that come back.
 */
export function seriesConditions (matchers: readonly LabelMatcher[]): string[] {
  const out: string[] = []
  for (const m of matchers) {
    if (m.type !== 'EQ' || m.value === '') continue
    const v = sqlString(m.value)
    const n = sqlString(m.name)
    if (v === undefined || n === undefined) continue
    out.push(m.name === '__name__' ? `metric = ${v}` : `labels[${n}] = ${v}`)
  }
  return out
}

/** Compares two strings by their UTF-8 bytes (Go's string order, which Prometheus sorts labels by). */
export function compareUtf8 (a: string, b: string): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i)
    const y = b.charCodeAt(i)
    if (x === y) continue
    // UTF-16 order differs from UTF-8 order only between surrogates (U+10000 and up) and U+E000..U+FFFF.
    const sx = x >= 0xd800 && x <= 0xdfff
    const sy = y >= 0xd800 && y <= 0xdfff
    if (sx !== sy && (x >= 0xe000 || y >= 0xe000)) return sx ? 1 : -1
    return x < y ? -1 : 1
  }
  return a.length - b.length
}

/** Compares label sets (sorted pairs) as Prometheus' labels.Compare does: name, then value, pair by pair. */
export function compareLabelSets (a: ReadonlyArray<readonly [string, string]>, b: ReadonlyArray<readonly [string, string]>): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const c = compareUtf8(a[i]![0], b[i]![0]) || compareUtf8(a[i]![1], b[i]![1])
    if (c !== 0) return c
  }
  return a.length - b.length
}
