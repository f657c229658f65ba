/**
 * What a refusal by a per-tenant limit adds to its message: the limit's id (as Mimir's
 * err-mimir-... ids, so that it can be searched for) and how to raise it. The rate and max-series
 * refusals write theirs where they are made (tenant-gate.ts, src/decode/series-walker.ts); the label
 * limits, checked where a series is validated, get theirs here.
 */
import type { ErrorCode } from '../errors.js'

const LABEL_LIMIT_HINTS: Partial<Record<ErrorCode, string>> = {
  too_many_labels: ' (err-prom-ingest-max-label-names-per-series). To adjust, set max-labels-per-series for the tenant in tenant-limits, or max-labels-per-series for every tenant',
  label_name_too_long: ' (err-prom-ingest-label-name-too-long). To adjust, set max-label-name-bytes for the tenant in tenant-limits, or max-label-name-bytes for every tenant',
  label_value_too_long: ' (err-prom-ingest-label-value-too-long). To adjust, set max-label-value-bytes for the tenant in tenant-limits, or max-label-value-bytes for every tenant'
}

/** The id and the way to raise the limit behind `code`, or '' when the code is not a label limit. */
export function labelLimitHint (code: ErrorCode): string {
  return LABEL_LIMIT_HINTS[code] ?? ''
}
