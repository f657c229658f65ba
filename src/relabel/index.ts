/** Relabeling with Prometheus' semantics: rules, the engine, and the cache by series id. */
export { expand } from './expand.js'
export { goToLower, goToUpper } from './go-case.js'
export { GoRegexp, type RelabelCompat, type RegexEngine } from './go-regexp.js'
export { hashmod } from './hashmod.js'
export { RelabelCache, type CachedOutcome, type RelabelCacheOptions, type RelabelCacheStats, type RelabeledSeries } from './relabel-cache.js'
export { DROP_REASONS, DROPPED, Relabeler, UNCHANGED, type DropReason, type RelabelOutcome } from './relabeler.js'
export { parseRelabelConfigs, RELABEL_ACTIONS, validLabelName, type NameValidation, type RelabelAction, type RelabelOptions, type RelabelRule } from './rule.js'
export { readRelabelSettings, type RelabelSettings } from './relabel-settings.js'
