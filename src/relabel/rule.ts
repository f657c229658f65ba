/**
 * Relabeling rules in Prometheus' own form (`relabel_configs`), read from a parsed JSON or YAML
 * value and validated as Prometheus validates them at config load, so that a rule Prometheus refuses
 * is refused here too, with the rule's index and the field in the message:
 *
 *   relabel_configs[2].regex: "a(?=b)" is not a valid RE2 regular expression: error parsing regexp: ...
 *
 * Defaults: action replace, separator ";", regex "(.*)", replacement "$1". The action is matched
 * without regard to case. Unknown fields are refused (Prometheus reads its config strictly).
 *
 * `compat` picks the Prometheus whose rules are followed: 3 (the default) is Prometheus 3.x (regexes
 * anchored as `^(?s:…)$`, label names UTF-8 unless `nameValidation: 'legacy'`); 2 is Prometheus 2.42
 * (`^(?:…)$`, legacy label names `[a-zA-Z_][a-zA-Z0-9_]*`, and its replace quirks; see relabeler.ts).
 */
import { RE2JS } from 're2js'
import { GoRegexp, type RelabelCompat } from './go-regexp.js'

export const RELABEL_ACTIONS = ['replace', 'keep', 'drop', 'keepequal', 'dropequal', 'hashmod', 'labelmap', 'labeldrop', 'labelkeep', 'lowercase', 'uppercase'] as const
export type RelabelAction = (typeof RELABEL_ACTIONS)[number]

export type NameValidation = 'utf8' | 'legacy'

/** One validated rule, ready to run. */
export interface RelabelRule {
  readonly action: RelabelAction
  readonly sourceLabels: readonly string[]
  readonly separator: string
  readonly regex: GoRegexp
  /** True when the rule gave no regex (the default `(.*)`). */
  readonly regexDefault: boolean
  /** Positive; a bigint only beyond 2^53-1. */
  readonly modulus: number | bigint
  readonly targetLabel: string
  readonly replacement: string
}

export interface RelabelOptions {
  /** 3 (default): Prometheus 3 semantics; 2: Prometheus 2.42. */
  compat?: RelabelCompat
  /** Label names allowed as targets (Prometheus 3 only; Prometheus 2 knows only legacy names). Default utf8. */
  nameValidation?: NameValidation
  /** false keeps every regex on re2js (tests and benchmarks compare the engines). */
  translate?: boolean
}

export const DEFAULT_SEPARATOR = ';'
export const DEFAULT_REGEX = '(.*)'
export const DEFAULT_REPLACEMENT = '$1'

const FIELDS = new Set(['source_labels', 'separator', 'regex', 'modulus', 'target_label', 'replacement', 'action'])

const LEGACY_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/
/**
 * Prometheus' target_label pattern for legacy names: name characters plus `$1`, `${name}` references.
 * Its nested repetition would backtrack exponentially in V8 on a long bad name, so RE2 runs it.
 */
const RELABEL_TARGET_LEGACY = RE2JS.compile('^(?:(?:[a-zA-Z_]|\\$(?:\\{\\w+\\}|\\w+))+\\w*)+$')
const LONE_SURROGATE = /[\uD800-\uDFFF]/u

/** Non-empty and well-formed UTF-16 (valid UTF-8 once encoded): Prometheus 3's label names. */
function utf8Name (s: string): boolean {
  return s.length > 0 && !LONE_SURROGATE.test(s)
}

export function validLabelName (s: string, scheme: NameValidation): boolean {
  return scheme === 'legacy' ? LEGACY_NAME.test(s) : utf8Name(s)
}

/** The scheme in force: Prometheus 2 knows only legacy names. */
export function nameScheme (options: RelabelOptions): NameValidation {
  return (options.compat ?? 3) === 2 ? 'legacy' : options.nameValidation ?? 'utf8'
}

/**
 * Reads and validates `relabel_configs`. `where` names the list in messages (`relabel_configs`, or
 * `forward-destinations[1].relabel_configs`). Every error is returned, none thrown.
 */
export function parseRelabelConfigs (value: unknown, where: string, options: RelabelOptions = {}): { rules: RelabelRule[], errors: string[] } {
  const rules: RelabelRule[] = []
  const errors: string[] = []
  if (value === undefined || value === null) return { rules, errors }
  if (!Array.isArray(value)) {
    errors.push(`${where}: must be a list of rules`)
    return { rules, errors }
  }
  value.forEach((raw, i) => {
    const rule = parseRule(raw, `${where}[${i}]`, options, errors)
    if (rule !== undefined) rules.push(rule)
  })
  return { rules, errors }
}

function show (v: unknown): string {
  return typeof v === 'bigint' ? String(v) : JSON.stringify(v)
}

/** A string field: strings as they are; numbers and booleans as YAML would give them to Go's string. */
function stringField (o: Record<string, unknown>, key: string, def: string, at: string, errors: string[]): string {
  if (!(key in o)) return def
  const v = o[key]
  if (v === null) return '' // YAML null: Go's zero value
  if (typeof v === 'string') return v
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v)
  errors.push(`${at}.${key}: must be a string, not ${Array.isArray(v) ? 'a list' : typeof v}`)
  return def
}

function parseRule (raw: unknown, at: string, options: RelabelOptions, errors: string[]): RelabelRule | undefined {
  const compat = options.compat ?? 3
  const scheme = nameScheme(options)
  if (raw === null || raw === undefined) { errors.push(`${at}: empty or null relabeling rule`); return undefined }
  if (typeof raw !== 'object' || Array.isArray(raw)) { errors.push(`${at}: must be a mapping of fields (source_labels, regex, action, ...)`); return undefined }
  const o = raw as Record<string, unknown>
  const before = errors.length
  for (const key of Object.keys(o)) {
    if (!FIELDS.has(key)) errors.push(`${at}: unknown field ${JSON.stringify(key)} (fields: ${[...FIELDS].join(', ')})`)
  }

  // action
  let action: RelabelAction | undefined = 'replace'
  if ('action' in o) {
    action = undefined
    const a = o.action
    if (a === null || a === '') {
      errors.push(`${at}.action: relabel action cannot be empty`)
    } else if (typeof a !== 'string' || !(RELABEL_ACTIONS as readonly string[]).includes(a.toLowerCase())) {
      errors.push(`${at}.action: unknown relabel action ${show(a)} (one of ${RELABEL_ACTIONS.join(', ')})`)
    } else {
      action = a.toLowerCase() as RelabelAction
    }
  }

  // source_labels
  let sourceLabels: string[] = []
  const sourceGiven = 'source_labels' in o && o.source_labels !== null
  if (sourceGiven) {
    const s = o.source_labels
    if (!Array.isArray(s)) {
      errors.push(`${at}.source_labels: must be a list of label names`)
    } else {
      s.forEach((n, k) => {
        if (typeof n !== 'string') errors.push(`${at}.source_labels[${k}]: must be a string`)
        else if (!validLabelName(n, compat === 2 ? 'legacy' : 'utf8')) errors.push(`${at}.source_labels[${k}]: ${show(n)} is not a valid label name`)
        else sourceLabels.push(n)
      })
      if (sourceLabels.length !== s.length) sourceLabels = []
    }
  }

  const separator = stringField(o, 'separator', DEFAULT_SEPARATOR, at, errors)
  const targetLabel = stringField(o, 'target_label', '', at, errors)
  const replacement = stringField(o, 'replacement', DEFAULT_REPLACEMENT, at, errors)

  // modulus: an unsigned 64-bit integer in Prometheus.
  let modulus: number | bigint = 0
  if ('modulus' in o && o.modulus !== null) {
    const m = o.modulus
    if (typeof m === 'number' && Number.isSafeInteger(m) && m >= 0) modulus = m
    else if (typeof m === 'bigint' && m >= 0n && m < 2n ** 64n) modulus = m <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(m) : m
    else errors.push(`${at}.modulus: ${show(m)} is not an unsigned whole number`)
  }

  // regex
  const regexGiven = 'regex' in o
  let regexSource = DEFAULT_REGEX
  if (regexGiven) {
    const r = o.regex
    if (r === null) regexSource = '' // Prometheus: a null regex is the empty one
    else if (typeof r === 'string') regexSource = r
    else if (typeof r === 'number' || typeof r === 'boolean') regexSource = String(r)
    else errors.push(`${at}.regex: must be a string`)
  }
  let regex: GoRegexp | undefined
  try {
    regex = GoRegexp.compile(regexSource, compat, { translate: options.translate })
  } catch (err) {
    errors.push(`${at}.regex: ${show(regexSource)} is not a valid RE2 regular expression (Prometheus refuses it too): ${(err as Error).message}`)
  }

  // What each action requires and forbids (Prometheus' model/relabel Config.Validate).
  if (action === undefined) return undefined // its error is said; the checks below depend on the action
  if (action === 'hashmod' && modulus === 0) errors.push(`${at}.modulus: relabel configuration for hashmod requires non-zero modulus`)
  const needsTarget = action === 'replace' || action === 'hashmod' || action === 'lowercase' || action === 'uppercase' || action === 'keepequal' || action === 'dropequal'
  if (needsTarget && targetLabel === '') {
    errors.push(`${at}.target_label: relabel configuration for ${action} action requires 'target_label' value`)
  } else if (needsTarget) {
    let ok: boolean
    if (compat === 2) {
      ok = action === 'hashmod' ? LEGACY_NAME.test(targetLabel) : RELABEL_TARGET_LEGACY.matches(targetLabel)
    } else if (action === 'replace' && targetLabel.includes('$')) {
      ok = scheme === 'utf8' ? utf8Name(targetLabel) : RELABEL_TARGET_LEGACY.matches(targetLabel)
    } else {
      ok = validLabelName(targetLabel, scheme)
    }
    if (!ok) errors.push(`${at}.target_label: ${show(targetLabel)} is invalid 'target_label' for ${action} action`)
  }
  if ((action === 'lowercase' || action === 'uppercase' || action === 'keepequal' || action === 'dropequal') && replacement !== DEFAULT_REPLACEMENT) {
    errors.push(`${at}.replacement: 'replacement' can not be set for ${action} action`)
  }
  if (action === 'labelmap') {
    const ok = compat === 3 && scheme === 'utf8' ? utf8Name(replacement) : RELABEL_TARGET_LEGACY.matches(replacement)
    if (!ok) errors.push(`${at}.replacement: ${show(replacement)} is invalid 'replacement' for labelmap action`)
  }
  if (action === 'keepequal' || action === 'dropequal') {
    const extra = [regexGiven && 'regex', modulus !== 0 && 'modulus', separator !== DEFAULT_SEPARATOR && 'separator', replacement !== DEFAULT_REPLACEMENT && 'replacement'].filter(f => f !== false)
    if (extra.length > 0) errors.push(`${at}.${extra.join(', ')}: ${action} action requires only 'source_labels' and 'target_label', and no other fields`)
  }
  if (action === 'labeldrop' || action === 'labelkeep') {
    const extra = [sourceGiven && 'source_labels', targetLabel !== '' && 'target_label', modulus !== 0 && 'modulus', separator !== DEFAULT_SEPARATOR && 'separator', replacement !== DEFAULT_REPLACEMENT && 'replacement'].filter(f => f !== false)
    if (extra.length > 0) errors.push(`${at}.${extra.join(', ')}: ${action} action requires only 'regex', and no other fields`)
  }

  if (errors.length > before || regex === undefined) return undefined
  return { action, sourceLabels, separator, regex, regexDefault: !regexGiven, modulus, targetLabel, replacement }
}
