/**
 * What the forwarder does with a destination's answer (docs/forwarding.md has the same table):
 *
 *   answer                          action
 *   2xx                             done
 *   400, 409, 415, 422              drop: the data can never be written there (counted, reason logged)
 *   413                             split the request in two and send each half
 *   408, 429, 5xx, network error    retry for ever: exponential backoff (min..max), jitter, Retry-After
 *   401, 403, 404                   stuck: retry at the longest backoff, raise the stuck metric
 *   anything else (1xx, 3xx, 4xx)   stuck as well: a misconfiguration must never lose data silently
 */
export type AnswerAction = 'done' | 'drop' | 'split' | 'retry' | 'stuck'

/** Status 0 stands for a network error or a timeout (no answer). */
export function actionOf (status: number): AnswerAction {
  if (status >= 200 && status < 300) return 'done'
  if (status === 400 || status === 409 || status === 415 || status === 422) return 'drop'
  if (status === 413) return 'split'
  if (status === 0 || status === 408 || status === 429 || (status >= 500 && status < 600)) return 'retry'
  return 'stuck'
}

export interface Backoff {
  readonly minMs: number
  readonly maxMs: number
}

/**
 * The wait before retry number `attempt` (0 for the first retry): min * 2^attempt capped at max, times
 * a jitter factor in [0.5, 1) so that many senders do not retry in step. A Retry-After the destination
 * gave wins (capped at max); a stuck destination waits max.
 */
export function retryDelayMs (b: Backoff, attempt: number, action: 'retry' | 'stuck', retryAfterMs: number | undefined, random = Math.random): number {
  if (action === 'stuck') return b.maxMs
  if (retryAfterMs !== undefined) return Math.min(b.maxMs, Math.max(0, retryAfterMs))
  const base = Math.min(b.maxMs, b.minMs * 2 ** Math.min(attempt, 30))
  return Math.max(b.minMs / 2, base * (0.5 + random() / 2))
}

/** Retry-After as seconds or an HTTP date, in ms from `nowMs`; undefined when absent or unreadable. */
export function parseRetryAfter (value: string | string[] | undefined, nowMs = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value
  if (v === undefined || v.trim() === '') return undefined
  if (/^\s*\d+\s*$/.test(v)) return Number(v) * 1000
  const t = Date.parse(v)
  return Number.isNaN(t) ? undefined : Math.max(0, t - nowMs)
}
