/**
 * The one place where an error becomes an HTTP answer. The status and whether the sender may retry
 * come from the code table (src/errors.ts, CODES); the body is one line of plain text with the reason.
 *
 * Retryable answers (every 5xx, and 429) carry Retry-After. `saturated` answers with the configured
 * saturation status (503 by default, 429 as an option: Prometheus retries a 429 only with
 * retry_on_http_429, so a default 429 would make it drop data); `httpStatusOf` in src/errors.ts is the
 * one mapping from code to status, this file does not choose statuses of its own.
 */
import { STATUS_CODES, type ServerResponse } from 'node:http'
import { CODES, type IngestError } from '../errors.js'
import { closeAfterAnswer } from './lingering-close.js'

export interface ErrorAnswerPolicy {
  /** Seconds in Retry-After on retryable answers. */
  readonly retryAfterSeconds: number
  /** WWW-Authenticate challenges sent with 401 (one header value per scheme). */
  readonly authenticate: readonly string[]
  /** Told of every error answer once it is sent (the status page's last rejected requests). */
  readonly onAnswer?: (res: ServerResponse, err: IngestError, status: number) => void
}

/**
 * Answers `err`. Headers already set on `res` (such as the 2.0 written-count headers) are kept.
 * With `close` the connection is closed after the answer: used when the body was left unread
 * (413 while streaming), so that the rest of it is never stored; the connection lingers after the
 * answer so that the sender reads it before the close (lingering-close.ts).
 */
export function sendError (res: ServerResponse, err: IngestError, policy: ErrorAnswerPolicy, close = false): number {
  const status = err.status
  if (res.headersSent) {
    // Too late for a status: the best that is left is to cut the answer short.
    res.destroy()
    return status
  }
  const retryable = CODES[err.code].retryable || status === 429
  // An error may carry its own delay (the per-tenant rate limit computes it from the bucket).
  const own = err.detail?.retryAfterSeconds
  if (retryable) res.setHeader('Retry-After', String(typeof own === 'number' ? own : policy.retryAfterSeconds))
  if (status === 401 && policy.authenticate.length > 0) res.setHeader('WWW-Authenticate', policy.authenticate as string[])
  if (close) closeAfterAnswer(res)
  res.setHeader('Content-Type', 'text/plain; charset=utf-8')
  res.setHeader('X-Prom-Ingest-Error', err.code)
  res.statusCode = status
  res.end(oneLine(err.message) + '\n')
  policy.onAnswer?.(res, err, status)
  return status
}

/**
 * `err` as a whole HTTP/1.1 answer in bytes, with the status, headers and body `sendError` gives it,
 * and `Connection: close`: for a socket that has no ServerResponse to answer on (a request Node's
 * parser refused, client-error.ts).
 */
export function errorAnswerBytes (err: IngestError, policy: ErrorAnswerPolicy): Buffer {
  const status = err.status
  const body = Buffer.from(oneLine(err.message) + '\n', 'utf8')
  const own = err.detail?.retryAfterSeconds
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nConnection: close\r\n`
  if (CODES[err.code].retryable || status === 429) head += `Retry-After: ${typeof own === 'number' ? own : policy.retryAfterSeconds}\r\n`
  head += `Content-Type: text/plain; charset=utf-8\r\nX-Prom-Ingest-Error: ${err.code}\r\nContent-Length: ${body.length}\r\n\r\n`
  return Buffer.concat([Buffer.from(head, 'latin1'), body])
}

/** The message on one line (decode errors quote label values, which may hold newlines). */
function oneLine (message: string): string {
  const s = message.replace(/[\r\n]+/g, ' ')
  return s.length > 1024 ? s.slice(0, 1021) + '...' : s
}

/** Prometheus' errorType for a status (web/api/v1: bad_data, execution, unavailable, internal, ...). */
function apiErrorType (status: number): string {
  if (status === 503) return 'unavailable'
  if (status === 422) return 'execution'
  if (status === 404) return 'not_found'
  if (status === 401 || status === 403) return 'unauthorized'
  if (status >= 500) return 'internal'
  return 'bad_data'
}

/**
 * Answers `err` as the Prometheus HTTP API does, `{"status":"error","errorType":...,"error":...}`,
 * with the same status, Retry-After and X-Prom-Ingest-Error as `sendError` (the metadata routes, whose
 * clients read Prometheus' JSON).
 */
export function sendApiError (res: ServerResponse, err: IngestError, policy: ErrorAnswerPolicy, close = false): number {
  const status = err.status
  if (res.headersSent) { res.destroy(); return status }
  const own = err.detail?.retryAfterSeconds
  if (CODES[err.code].retryable || status === 429) res.setHeader('Retry-After', String(typeof own === 'number' ? own : policy.retryAfterSeconds))
  if (close) closeAfterAnswer(res)
  res.setHeader('Content-Type', 'application/json')
  res.setHeader('X-Prom-Ingest-Error', err.code)
  res.statusCode = status
  res.end(JSON.stringify({ status: 'error', errorType: apiErrorType(status), error: oneLine(err.message) }))
  return status
}
