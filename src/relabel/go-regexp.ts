/**
 * A relabeling regex with Go's RE2 semantics, fully anchored as Prometheus anchors it:
 * `^(?s:…)$` (Prometheus 3, the default) or `^(?:…)$` (Prometheus 2, `relabel-compat: 2`).
 *
 * Every pattern is compiled by re2js (a port of Go's regexp), which refuses what Go refuses:
 * backreferences, lookahead and lookbehind, `\Z`, repeat counts above 1000, nested repetition. The
 * pattern then runs on V8 when translate.ts has a translation that behaves the same, and on re2js
 * otherwise; `engine` says which, per use (matching only, or matching with groups).
 */
import { RE2JS } from 're2js'
import type { Groups } from './expand.js'
import { translate } from './translate.js'

export type RelabelCompat = 2 | 3

export type RegexEngine = 'v8' | 're2js'

export class GoRegexp {
  /** The pattern as written in the rule. */
  readonly source: string
  /** Group name -> numbers (several when the name repeats), for `$name` expansion. */
  readonly names: ReadonlyMap<string, readonly number[]>
  /** Which engine answers `matches`, and which answers `exec`. */
  readonly matchEngine: RegexEngine
  readonly execEngine: RegexEngine
  private readonly re2: RE2JS
  private readonly groupCount: number
  private readonly jsMatch: RegExp | undefined
  private readonly jsExec: RegExp | undefined

  private constructor (source: string, re2: RE2JS, names: Map<string, number[]>, groupCount: number, jsMatch: RegExp | undefined, jsExec: RegExp | undefined) {
    this.source = source
    this.re2 = re2
    this.names = names
    this.groupCount = groupCount
    this.jsMatch = jsMatch
    this.jsExec = jsExec
    this.matchEngine = jsMatch === undefined ? 're2js' : 'v8'
    this.execEngine = jsExec === undefined ? 're2js' : 'v8'
  }

  /**
   * Compiles `source` as Prometheus does; throws an Error whose message is re2js' (Go's) reason when
   * the pattern is refused. `translate: false` keeps every match on re2js (tests, benchmarks).
   */
  static compile (source: string, compat: RelabelCompat, options: { translate?: boolean } = {}): GoRegexp {
    const dotAll = compat === 3
    const anchored = (dotAll ? '^(?s:' : '^(?:') + source + ')$'
    const named = scanNamedGroups(source)
    if (compat === 2 && named.some(g => !g.p)) {
      // `(?<name>x)` came with Go 1.22; Prometheus 2.x was built with older Go, which refuses it.
      throw new Error('error parsing regexp: invalid or unsupported Perl syntax: `(?<` (Prometheus 2 takes only (?P<name>...))')
    }
    // Go accepts two groups of one name (`(?P<n>a)|(?P<n>b)`; $n is the first that took part); re2js
    // refuses them, so it is given the pattern with the later ones renamed.
    const re2 = RE2JS.compile(renameDuplicates(anchored, scanNamedGroups(anchored))) // throws with Go's message
    const groupCount = re2.groupCount()
    const t = options.translate === false ? undefined : translate(source, dotAll)
    const names = new Map<string, number[]>()
    let jsMatch: RegExp | undefined
    let jsExec: RegExp | undefined
    if (t !== undefined && t.groups === groupCount) {
      try {
        jsMatch = new RegExp('^(?:' + t.source + ')$', 'u')
        if (!t.capturesInRepeat) jsExec = jsMatch
      } catch {
        // A translation V8 refuses (a corner of the grammar translate.ts did not foresee): re2js runs it.
      }
    }
    for (const g of named) {
      const list = names.get(g.name)
      if (list === undefined) names.set(g.name, [g.index])
      else list.push(g.index)
    }
    return new GoRegexp(source, re2, names, groupCount, jsMatch, jsExec)
  }

  /** Whether the whole of `s` matches. */
  matches (s: string): boolean {
    if (this.jsMatch !== undefined) return this.jsMatch.test(s)
    return this.re2.matches(s)
  }

  /** The groups of a whole-string match (index 0 the match; undefined for a group that took no part), or null. */
  exec (s: string): Groups | null {
    if (this.jsExec !== undefined) return this.jsExec.exec(s)
    const m = this.re2.matcher(s)
    if (!m.matches()) return null
    const out = new Array<string | undefined>(this.groupCount + 1)
    for (let k = 0; k <= this.groupCount; k++) out[k] = m.group(k) ?? undefined
    return out
  }
}

interface NamedGroup {
  /** Where `(` is, and where the name starts and ends. */
  at: number
  nameStart: number
  nameEnd: number
  name: string
  /** Its group number. */
  index: number
  /** Written `(?P<name>`; false for `(?<name>`. */
  p: boolean
}

/** The named groups of an RE2 pattern, found outside classes and escapes. */
function scanNamedGroups (pattern: string): NamedGroup[] {
  const out: NamedGroup[] = []
  let index = 0
  let inClass = false
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]
    if (c === '\\') {
      if (pattern[i + 1] === 'Q') { // \Q...\E quotes everything up to \E
        const e = pattern.indexOf('\\E', i + 2)
        i = e < 0 ? pattern.length : e + 1
      } else {
        i++
      }
      continue
    }
    if (inClass) {
      if (c === ']') inClass = false
      continue
    }
    if (c === '[') {
      inClass = true
      if (pattern[i + 1] === '^') i++
      if (pattern[i + 1] === ']') i++ // `[]a]`, `[^]a]`: that `]` is a literal
      continue
    }
    if (c !== '(') continue
    if (pattern[i + 1] !== '?') { index++; continue }
    const m = /^\(\?(P?)<([^>]*)>/.exec(pattern.slice(i, i + 512))
    if (m === null || (m[1] === '' && (m[2]!.startsWith('=') || m[2]!.startsWith('!')))) continue
    index++
    const nameStart = i + 3 + m[1]!.length
    out.push({ at: i, nameStart, nameEnd: nameStart + m[2]!.length, name: m[2]!, index, p: m[1] === 'P' })
  }
  return out
}

function renameDuplicates (pattern: string, groups: readonly NamedGroup[]): string {
  const seen = new Set<string>()
  let out = ''
  let pos = 0
  let n = 0
  for (const g of groups) {
    if (!seen.has(g.name)) { seen.add(g.name); continue }
    out += pattern.slice(pos, g.nameEnd) + `_${++n}x` // still a valid name when the first one is
    pos = g.nameEnd
  }
  return out + pattern.slice(pos)
}
