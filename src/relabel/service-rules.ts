/**
 * The relabeling rules of a running service, from its validated settings: the global rules for the
 * decode workers (in their config form: each worker compiles them and keeps its own cache), the
 * rules of each forward destination (by its index among the sink's destinations: forward-url ones
 * first, then forward-destinations), and the figures buffer they all write (relabel-metrics.ts).
 */
import type { Config } from '../config/schema.js'
import { IngestError } from '../errors.js'
import type { GlobalRelabelRules } from '../pool/messages.js'
import { relabelFiguresBuffer } from './relabel-metrics.js'
import { readRelabelSettings } from './relabel-settings.js'
import type { Relabeler } from './relabeler.js'

export interface ServiceRules {
  readonly figures: SharedArrayBuffer
  /** For the decode workers; undefined when there are no global rules. */
  readonly global: GlobalRelabelRules | undefined
  /** Rules by forward destination index. */
  readonly destinations: ReadonlyMap<number, Relabeler>
}

/** The service's rules, or undefined when there are none. load-config validated them already. */
export function serviceRules (config: Config): ServiceRules | undefined {
  const nameValidation = config.legacyLabelNames ? 'legacy' : 'utf8'
  const settings = readRelabelSettings({ relabel_configs: config.relabelConfigs, 'relabel-compat': config.relabelCompat, 'forward-destinations': config.forwardDestinations }, nameValidation)
  if (settings.errors.length > 0) throw new IngestError('config_invalid', `invalid configuration: ${settings.errors.join('; ')}`, { errors: settings.errors })
  if (settings.global === undefined && settings.destinations.size === 0) return undefined
  const figures = relabelFiguresBuffer()
  const destinations = new Map<number, Relabeler>()
  for (const [i, r] of settings.destinations) destinations.set(config.forwardUrl.length + i, r)
  return {
    figures,
    global: settings.global === undefined
      ? undefined
      : { rules: config.relabelConfigs, compat: settings.compat, nameValidation, cacheBytes: config.relabelCacheBytes, maxSeries: config.maxSeries, figures },
    destinations
  }
}
