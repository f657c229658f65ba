/**
 * `$` expansion of a replacement template, as Go's regexp.Expand does it (Prometheus expands
 * `target_label` and `replacement` with it):
 *
 *   `$$` is a literal `$`; `$name` takes the longest run of letters, digits and `_` as the name, so
 *   `$1_x` names the group `1_x` (no such group: it expands to nothing); `${1}_x` is group 1 then `_x`;
 *   a name that is all digits (no leading zero, below 1e8) is a group number, any other a group name;
 *   a group that did not take part in the match expands to nothing; a `$` not followed by a name (or
 *   `${` without its `}`) stays as it is.
 *
 * Letters and digits are Unicode ones (Go's unicode.IsLetter and unicode.IsDigit: categories L and Nd).
 */

/** The groups of one match: index 0 is the whole match; undefined for a group that did not take part. */
export type Groups = ArrayLike<string | undefined>

const NAME_CHAR = /[\p{L}\p{Nd}_]/u

interface Ref { name: string, num: number, rest: number }

/** Go's regexp `extract`: the name after a `$` starting at `at`, or undefined when there is none. */
function extract (template: string, at: number): Ref | undefined {
  let i = at
  const brace = template.charCodeAt(i) === 0x7b /* { */
  if (brace) i++
  const start = i
  while (i < template.length) {
    const cp = template.codePointAt(i)!
    const ch = String.fromCodePoint(cp)
    if (!NAME_CHAR.test(ch)) break
    i += ch.length
  }
  if (i === start) return undefined
  const name = template.slice(start, i)
  if (brace) {
    if (i >= template.length || template.charCodeAt(i) !== 0x7d /* } */) return undefined
    i++
  }
  let num = 0
  for (let k = 0; k < name.length; k++) {
    const c = name.charCodeAt(k)
    if (c < 0x30 || c > 0x39 || num >= 1e8) { num = -1; break }
    num = num * 10 + c - 0x30
  }
  if (name.charCodeAt(0) === 0x30 && name.length > 1) num = -1
  return { name, num, rest: i }
}

/**
 * Expands `template` with the groups of a match. `names` maps a group name to its numbers in order;
 * Go takes the first of them that took part in the match.
 */
export function expand (template: string, groups: Groups, names: ReadonlyMap<string, readonly number[]>): string {
  let dollar = template.indexOf('$')
  if (dollar < 0) return template
  let out = ''
  let pos = 0
  while (dollar >= 0) {
    out += template.slice(pos, dollar)
    pos = dollar + 1
    if (template.charCodeAt(pos) === 0x24 /* $ */) {
      out += '$'
      pos++
    } else {
      const ref = extract(template, pos)
      if (ref === undefined) {
        out += '$' // malformed: the `$` is kept as text
      } else {
        pos = ref.rest
        if (ref.num >= 0) {
          if (ref.num < groups.length) out += groups[ref.num] ?? ''
        } else {
          for (const index of names.get(ref.name) ?? []) {
            const g = groups[index]
            if (g !== undefined) { out += g; break }
          }
        }
      }
    }
    dollar = template.indexOf('$', pos)
  }
  return out + template.slice(pos)
}

/** True when the template holds a `$` (Prometheus: a target label that may need expanding). */
export function hasVariable (template: string): boolean {
  return template.includes('$')
}
