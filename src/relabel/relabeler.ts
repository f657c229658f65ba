/**
 * The relabeling engine: a list of validated rules applied to one series' labels, as Prometheus'
 * model/relabel applies them, with its labels.Builder's semantics:
 *   - a label set to the empty value is deleted; a label read but absent reads as "";
 *   - labels with an empty value that arrive are kept as they are unless a rule touches them;
 *   - labelmap, labeldrop and labelkeep go over the labels as they stand when the rule starts.
 *
 * Two compat modes (rule.ts): 3 follows Prometheus 3.x, whose rules all work on one builder (so
 * labelmap sees the labels a rule added after the original ones, in the order they were added), and
 * whose replace leaves the labels alone when the expanded target is not a valid label name and deletes
 * the *expanded* target when the replacement is empty. 2 follows Prometheus 2.42: the labels are made
 * again after each rule (labelmap sees them sorted), and replace deletes the *unexpanded* target label
 * in both cases.
 *
 * After the rules, a series without any label, or without a non-empty `__name__`, is dropped (the
 * store cannot hold it), and so is one left with an empty label name (labelmap can make one;
 * Prometheus would fail the scrape).
 *
 * Input and output are name/value pairs; the output is sorted by name. The output shares the input's
 * pairs and strings (nothing is copied): treat both as read-only.
 */
import type { Labels } from '../series/labels.js'
import { expand } from './expand.js'
import { goToLower, goToUpper } from './go-case.js'
import { hashmod } from './hashmod.js'
import { nameScheme, parseRelabelConfigs, validLabelName, type NameValidation, type RelabelOptions, type RelabelRule } from './rule.js'
import type { RelabelCompat } from './go-regexp.js'

export type DropReason = 'rule' | 'no_labels' | 'no_name' | 'empty_label_name'
export const DROP_REASONS: readonly DropReason[] = ['rule', 'no_labels', 'no_name', 'empty_label_name']

export type RelabelOutcome =
  | { readonly kind: 'unchanged' }
  | { readonly kind: 'dropped', readonly reason: DropReason }
  | { readonly kind: 'relabeled', readonly labels: Labels }

export const UNCHANGED: RelabelOutcome = Object.freeze({ kind: 'unchanged' })
export const DROPPED: Readonly<Record<DropReason, RelabelOutcome>> = Object.freeze({
  rule: Object.freeze({ kind: 'dropped', reason: 'rule' }),
  no_labels: Object.freeze({ kind: 'dropped', reason: 'no_labels' }),
  no_name: Object.freeze({ kind: 'dropped', reason: 'no_name' }),
  empty_label_name: Object.freeze({ kind: 'dropped', reason: 'empty_label_name' })
})

/**
 * Prometheus' labels.Builder: `base` is the labels a pass started from (sorted), `add` the labels set
 * since, in the order they were set, `del` the names deleted since. Label sets hold a few dozen
 * labels, so lists searched in order beat maps here.
 */
class Builder {
  base: Labels = []
  addNames: string[] = []
  addValues: string[] = []
  del: string[] = []

  reset (base: Labels): void {
    this.base = base
    this.addNames.length = 0
    this.addValues.length = 0
    this.del.length = 0
  }

  get (name: string): string {
    // Del() removes from add, Set() does not remove from del: add is looked at first.
    const a = this.addNames.indexOf(name)
    if (a >= 0) return this.addValues[a]!
    if (this.del.includes(name)) return ''
    for (const [n, v] of this.base) if (n === name) return v
    return ''
  }

  set (name: string, value: string): void {
    if (value === '') { this.delete(name); return }
    const a = this.addNames.indexOf(name)
    if (a >= 0) { this.addValues[a] = value; return }
    this.addNames.push(name)
    this.addValues.push(value)
  }

  delete (name: string): void {
    const a = this.addNames.indexOf(name)
    if (a >= 0) { this.addNames.splice(a, 1); this.addValues.splice(a, 1) }
    this.del.push(name)
  }

  /** The labels as they stand: base ones not deleted or set again, then the added ones in order. */
  snapshot (): Labels {
    const out: Labels = []
    for (const l of this.base) {
      if (!this.del.includes(l[0]) && !this.addNames.includes(l[0])) out.push(l)
    }
    for (let k = 0; k < this.addNames.length; k++) out.push([this.addNames[k]!, this.addValues[k]!])
    return out
  }

  changed (): boolean {
    return this.addNames.length > 0 || this.del.length > 0
  }

  /** The labels sorted by name (the base itself when nothing changed). */
  labels (): Labels {
    if (!this.changed()) return this.base
    const out = this.snapshot()
    out.sort(byName)
    return out
  }
}

function byName (a: readonly [string, string], b: readonly [string, string]): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0
}

function isSorted (labels: Labels): boolean {
  for (let k = 1; k < labels.length; k++) if (labels[k - 1]![0] >= labels[k]![0]) return false
  return true
}

export class Relabeler {
  readonly rules: readonly RelabelRule[]
  readonly compat: RelabelCompat
  readonly nameValidation: NameValidation
  private readonly builder = new Builder()
  private readonly values: string[] = []

  constructor (rules: readonly RelabelRule[], options: RelabelOptions = {}) {
    this.rules = rules
    this.compat = options.compat ?? 3
    this.nameValidation = nameScheme(options)
  }

  /** Rules from their config form; throws an Error listing every problem. */
  static fromConfig (value: unknown, where = 'relabel_configs', options: RelabelOptions = {}): Relabeler {
    const { rules, errors } = parseRelabelConfigs(value, where, options)
    if (errors.length > 0) throw new Error(`invalid relabeling rules: ${errors.join('; ')}`)
    return new Relabeler(rules, options)
  }

  /** Relabels one series. `labels` need not be sorted; it is not changed. */
  relabel (labels: Labels): RelabelOutcome {
    const input = isSorted(labels) ? labels : [...labels].sort(byName)
    const b = this.builder
    b.reset(input)
    const v2 = this.compat === 2
    for (const rule of this.rules) {
      if (!this.apply(rule, b)) return DROPPED.rule
      // Prometheus 2 made the labels again after every rule.
      if (v2 && b.changed()) b.reset(b.labels())
    }
    const out = b.labels()
    if (out.length === 0) return DROPPED.no_labels
    let name = ''
    for (const [n, v] of out) {
      if (n === '__name__') name = v
      else if (n === '') return DROPPED.empty_label_name
    }
    if (name === '') return DROPPED.no_name
    if (out === input) return UNCHANGED
    if (out.length === input.length) {
      let same = true
      for (let k = 0; k < out.length && same; k++) same = out[k]![0] === input[k]![0] && out[k]![1] === input[k]![1]
      if (same) return UNCHANGED // the same set: the series keeps its identity
    }
    return { kind: 'relabeled', labels: out }
  }

  /** One rule on the builder; false when the rule drops the series. */
  private apply (rule: RelabelRule, b: Builder): boolean {
    const src = rule.sourceLabels
    let val: string
    if (src.length === 1) {
      val = b.get(src[0]!)
    } else {
      const values = this.values
      values.length = 0
      for (const n of src) values.push(b.get(n))
      val = values.join(rule.separator)
    }
    switch (rule.action) {
      case 'drop': return !rule.regex.matches(val)
      case 'keep': return rule.regex.matches(val)
      case 'dropequal': return b.get(rule.targetLabel) !== val
      case 'keepequal': return b.get(rule.targetLabel) === val
      case 'replace': this.replace(rule, b, val); return true
      case 'lowercase': b.set(rule.targetLabel, goToLower(val)); return true
      case 'uppercase': b.set(rule.targetLabel, goToUpper(val)); return true
      case 'hashmod': b.set(rule.targetLabel, hashmod(val, rule.modulus)); return true
      case 'labelmap':
        for (const [n, v] of b.snapshot()) {
          const groups = rule.regex.exec(n)
          if (groups !== null) b.set(expand(rule.replacement, groups, rule.regex.names), v)
        }
        return true
      case 'labeldrop':
        for (const [n] of b.snapshot()) if (rule.regex.matches(n)) b.delete(n)
        return true
      case 'labelkeep':
        for (const [n] of b.snapshot()) if (!rule.regex.matches(n)) b.delete(n)
        return true
    }
  }

  private replace (rule: RelabelRule, b: Builder, val: string): void {
    const groups = rule.regex.exec(val)
    if (groups === null) return // no match: nothing is replaced
    const names = rule.regex.names
    const target = expand(rule.targetLabel, groups, names)
    const res = expand(rule.replacement, groups, names)
    if (this.compat === 2) {
      // Prometheus 2.42: an invalid expanded target, or an empty result, deletes the label as written.
      if (!validLabelName(target, 'legacy') || res === '') { b.delete(rule.targetLabel); return }
      b.set(target, res)
      return
    }
    if (!validLabelName(target, this.nameValidation)) return
    if (res === '') { b.delete(target); return }
    b.set(target, res)
  }
}
