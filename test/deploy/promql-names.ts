/**
 * The metric names a PromQL expression reads, for checking alerts and dashboard queries against what
 * the service exposes. Not a PromQL parser (promtool checks the syntax): strings, label matchers,
 * range and subquery brackets and grouping clauses are cut out, then every identifier left that is not
 * a function call, a keyword or a number is a metric name. Grafana's `$variables` live only inside
 * the parts cut out.
 */

const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'offset', 'bool', 'inf', 'nan', 'atan2', 'start', 'end'])

export function metricNames (expr: string): string[] {
  const cut = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
  const names = new Set<string>()
  for (const m of cut.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const word = m[0]
    const after = cut.slice(m.index + word.length)
    if (/^\s*\(/.test(after)) continue // a function
    if (KEYWORDS.has(word.toLowerCase())) continue
    // The exponent of a number like 1e3 or a duration unit after a number.
    const before = cut[m.index - 1]
    if (before !== undefined && /[0-9.]/.test(before)) continue
    names.add(word)
  }
  return [...names].sort()
}

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped'

/** Metric families declared in a text exposition (`# TYPE name type`). */
export function declaredFamilies (exposition: string): Map<string, MetricType> {
  const families = new Map<string, MetricType>()
  for (const m of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) families.set(m[1]!, m[2] as MetricType)
  return families
}

/**
 * Whether a name read by a query is exposed: a declared family, or a histogram's or summary's
 * `_bucket`, `_sum` or `_count` series.
 */
export function isExposed (name: string, families: ReadonlyMap<string, MetricType>): boolean {
  if (families.has(name)) return true
  const m = /^(.*)_(bucket|sum|count)$/.exec(name)
  if (m === null) return false
  const type = families.get(m[1]!)
  return type === 'histogram' || (type === 'summary' && m[2] !== 'bucket')
}
