/**
 * The parameters of GET /api/v1/status/tsdb, checked on the main thread before any work is queued:
 *
 *   topN        entries per list, 1 to 1000 (default 10, Prometheus' fixed number); `limit`, Prometheus'
 *               later name for it, is taken too
 *   focusLabel  a label name: adds seriesCountByFocusLabelValue
 *   match[]     series selectors (src/read/series-selector.ts), at most 16; their union is counted
 *   date        YYYY-MM-DD (UTC): series this process first saw on that day
 *   tenant      only this tenant's series (prom-ingest's own; absent: every tenant, empty: no tenant)
 *
 * A bad value answers 400 status_parameter_invalid naming the parameter.
 */
import { IngestError } from '../errors.js'
import type { TsdbQuery } from './cardinality.js'
import { parseSelector } from '../read/series-selector.js'

export const DEFAULT_TOP_N = 10
export const MAX_TOP_N = 1000
export const MAX_SELECTORS = 16

function invalid (message: string): IngestError {
  return new IngestError('status_parameter_invalid', message)
}

export function parseTsdbQuery (params: URLSearchParams): TsdbQuery {
  const topText = params.get('topN') ?? params.get('limit')
  let topN = DEFAULT_TOP_N
  if (topText !== null && topText !== '') {
    topN = Number(topText)
    if (!/^[0-9]+$/.test(topText) || topN < 1 || topN > MAX_TOP_N) throw invalid(`topN must be an integer from 1 to ${MAX_TOP_N}, got ${JSON.stringify(topText.slice(0, 40))}`)
  }
  const focusLabel = params.get('focusLabel') ?? ''
  if (focusLabel.length > 1024) throw invalid('focusLabel is longer than 1024 characters')
  const selectors = params.getAll('match[]').filter(s => s.trim() !== '')
  if (selectors.length > MAX_SELECTORS) throw invalid(`at most ${MAX_SELECTORS} match[] selectors, got ${selectors.length}`)
  const match = selectors.map(s => parseSelector(s, 'status_parameter_invalid'))
  const date = params.get('date') ?? ''
  if (date !== '' && (!/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/.test(date) || Number.isNaN(Date.parse(date + 'T00:00:00Z')) || new Date(date + 'T00:00:00Z').toISOString().slice(0, 10) !== date)) {
    throw invalid(`date must be a day as YYYY-MM-DD, got ${JSON.stringify(date.slice(0, 40))}`)
  }
  const tenant = params.get('tenant') ?? undefined
  if (tenant !== undefined && tenant.length > 150) throw invalid('tenant is longer than 150 characters')
  return { topN, focusLabel, match, date, tenant }
}

/** The cache key of a query: equal for queries with equal answers. */
export function queryKey (q: TsdbQuery): string {
  return JSON.stringify([q.topN, q.focusLabel, q.match, q.date, q.tenant ?? null])
}
