/**
 * The relabeling part of the service's config file, read from the parsed document (JSON or YAML):
 *
 *   relabel-compat: 3               # 3 (default): Prometheus 3 semantics; 2: Prometheus 2.42
 *   relabel_configs: [...]          # global rules, before every sink (Prometheus' own form)
 *   forward-destinations:
 *     - url: http://...
 *       relabel_configs: [...]      # rules for this destination, before its queue
 *
 * `relabel-configs` and `relabelConfigs` are taken for `relabel_configs` (the file's other keys are
 * written either way), `relabelCompat` for `relabel-compat`. The document's other keys are handed back
 * untouched (`rest`), with the relabeling keys taken out of it and of each destination, for the
 * settings schema to check.
 */
import type { RelabelCompat } from './go-regexp.js'
import { Relabeler } from './relabeler.js'
import { parseRelabelConfigs, type NameValidation } from './rule.js'

const RULE_KEYS = ['relabel_configs', 'relabel-configs', 'relabelConfigs']
const COMPAT_KEYS = ['relabel-compat', 'relabelCompat']
const DESTINATION_KEYS = ['forward-destinations', 'forwardDestinations']

export interface RelabelSettings {
  compat: RelabelCompat
  /** Rules before every sink; undefined when there are none. */
  global: Relabeler | undefined
  /** Rules per forward destination, by the destination's index in forward-destinations. */
  destinations: Map<number, Relabeler>
  /** Every problem, naming the rule by index and the field. */
  errors: string[]
  /** The document without the relabeling keys. */
  rest: Record<string, unknown>
}

function take (o: Record<string, unknown>, keys: readonly string[], errors: string[], at: string): unknown {
  const present = keys.filter(k => k in o)
  if (present.length > 1) errors.push(`${at}${present.join(' and ')}: give only one of them`)
  const value = present.length > 0 ? o[present[0]!] : undefined
  for (const k of present) delete o[k]
  return value
}

/**
 * Reads the relabeling settings of a config document. `nameValidation` follows the service's
 * legacy-label-names setting (legacy when it is on).
 */
export function readRelabelSettings (doc: Record<string, unknown>, nameValidation: NameValidation = 'utf8'): RelabelSettings {
  const errors: string[] = []
  const rest: Record<string, unknown> = { ...doc }
  const compatValue = take(rest, COMPAT_KEYS, errors, '')
  let compat: RelabelCompat = 3
  if (compatValue !== undefined) {
    if (compatValue === 2 || compatValue === '2') compat = 2
    else if (compatValue !== 3 && compatValue !== '3') errors.push(`relabel-compat: ${JSON.stringify(compatValue)} is not 2 or 3 (the Prometheus major version whose relabeling is followed)`)
  }
  const options = { compat, nameValidation }
  const build = (value: unknown, where: string): Relabeler | undefined => {
    const { rules, errors: e } = parseRelabelConfigs(value, where, options)
    errors.push(...e)
    return e.length === 0 && rules.length > 0 ? new Relabeler(rules, options) : undefined
  }
  const global = build(take(rest, RULE_KEYS, errors, ''), 'relabel_configs')
  const destinations = new Map<number, Relabeler>()
  for (const key of DESTINATION_KEYS) {
    const list = rest[key]
    if (!Array.isArray(list)) continue
    rest[key] = list.map((d: unknown, i) => {
      if (d === null || typeof d !== 'object' || Array.isArray(d)) return d
      const copy = { ...(d as Record<string, unknown>) }
      const at = `${key}[${i}].`
      const r = build(take(copy, RULE_KEYS, errors, at), `${at}relabel_configs`)
      if (r !== undefined) destinations.set(i, r)
      return copy
    })
  }
  return { compat, global, destinations, errors, rest }
}
