/**
 * One error class for the whole service, one table of codes.
 *
 * Every failure that a user can see carries a machine-readable `code` from CODES; the HTTP status and
 * whether a sender should retry are decided here and nowhere else: `httpStatusOf` is the one mapping
 * from code to status (receive/error-response.ts answers through it). The one status a setting
 * changes, `saturated`'s (saturation-status), is set once at start-up (`setSaturationStatus`). Errors cross thread boundaries as plain data (`toWire` / `fromWire`): an
 * Error subclass posted from a worker would arrive without its code.
 */

export interface CodeInfo {
  /** HTTP status the receiver answers with. */
  readonly status: number
  /** A sender may retry the same request later. Every 5xx is retryable, no 4xx is (but 429). */
  readonly retryable: boolean
  /** One line for the table in docs/errors.md. */
  readonly description: string
}

export const CODES = {
  // Snappy block format.
  snappy_malformed: { status: 400, retryable: false, description: 'the body is not a valid snappy block: truncated, a copy offset out of range, or output shorter or longer than declared' },
  decompressed_too_large: { status: 413, retryable: false, description: 'the snappy header declares more decompressed bytes than the limit (decompression bomb guard)' },

  // Protobuf wire format.
  protobuf_malformed: { status: 400, retryable: false, description: 'the decompressed body is not a valid protobuf message of the declared protocol: truncated field, bad wire type, varint overflow' },

  // Series and labels.
  labels_empty: { status: 400, retryable: false, description: 'a series has no labels' },
  metric_name_missing: { status: 400, retryable: false, description: 'a series has no __name__ label' },
  labels_unsorted: { status: 400, retryable: false, description: 'the labels of a series are not sorted by name' },
  labels_duplicate: { status: 400, retryable: false, description: 'a label name occurs twice in one series' },
  label_name_empty: { status: 400, retryable: false, description: 'a label name is the empty string' },
  label_name_invalid: { status: 400, retryable: false, description: 'a label name does not match [a-zA-Z_][a-zA-Z0-9_]* (legacy name validation only)' },
  label_name_utf8: { status: 400, retryable: false, description: 'a label name is not valid UTF-8' },
  label_value_utf8: { status: 400, retryable: false, description: 'a label value is not valid UTF-8 (strict UTF-8 validation only)' },
  label_name_too_long: { status: 400, retryable: false, description: 'a label name is longer than the limit' },
  label_value_too_long: { status: 400, retryable: false, description: 'a label value is longer than the limit' },
  too_many_labels: { status: 400, retryable: false, description: 'a series has more labels than the limit' },
  symbol_ref_out_of_range: { status: 400, retryable: false, description: 'a Remote Write 2.0 symbol reference points past the symbols table' },
  symbol_zero_not_empty: { status: 400, retryable: false, description: 'the first symbol of a Remote Write 2.0 request is not the empty string' },
  label_refs_odd: { status: 400, retryable: false, description: 'a Remote Write 2.0 series or exemplar has an odd number of label references' },
  series_samples_and_histograms: { status: 400, retryable: false, description: 'a Remote Write 2.0 series carries both samples and histograms' },
  histogram_count_mismatch: { status: 400, retryable: false, description: 'a native histogram\'s count disagrees with the sum of its buckets and zero bucket' },
  histogram_invalid: { status: 400, retryable: false, description: 'a native histogram\'s spans and buckets disagree, or its schema is out of range' },
  metadata_invalid: { status: 400, retryable: false, description: 'a metadata entry is not valid: family name, help or unit is not valid UTF-8, or a Remote Write 2.0 reference is out of range' },
  exemplar_invalid: { status: 400, retryable: false, description: 'an exemplar\'s labels are not valid: empty, repeated or non-UTF-8 name, non-UTF-8 value, or more than 128 characters in all' },
  series_limit: { status: 400, retryable: false, description: 'new series were refused because the series index is full (max-series series, or its label key arena): their samples are not stored, those of known series are; raise max-series (and series-arena-bytes)' },
  tenant_max_ingestion_rate: { status: 429, retryable: true, description: 'the tenant sent more samples, exemplars and histograms than its ingestion-rate allows (token bucket of ingestion-burst); nothing of the request was written; retry after Retry-After (429 by default, 503 with tenant-rate-limit-status=503: Prometheus retries a 429 only with retry_on_http_429)' },
  tenant_max_series: { status: 400, retryable: false, description: 'new series of a tenant were refused because the tenant has its max-series (tenant-max-series, or max-series in tenant-limits): their samples are not stored, those of its known series are' },
  series_key_too_large: { status: 400, retryable: false, description: 'a new series\' key (its labels, canonically encoded, and its tenant) is longer than max-series-key-bytes' },

  // HTTP receiver.
  body_too_large: { status: 413, retryable: false, description: 'the request body is larger than the body size limit' },
  body_incomplete: { status: 400, retryable: false, description: 'the request body ended before its Content-Length, or the connection was closed while it was read' },
  body_timeout: { status: 408, retryable: false, description: 'the request body stalled (no byte for body-idle-timeout) or arrived slower than body-min-rate; the connection is closed' },
  headers_too_large: { status: 431, retryable: false, description: 'the request line and headers are larger than Node\'s max header size (16 KiB unless --max-http-header-size says otherwise); the connection is closed' },
  request_malformed: { status: 400, retryable: false, description: 'Node\'s HTTP parser refused the request: a malformed request line, header or chunk framing (the message names the parser\'s reason); the connection is closed' },
  chunk_extensions_too_large: { status: 413, retryable: false, description: 'the chunk extensions of a chunked body are larger than Node\'s limit (16 KiB); the connection is closed' },
  headers_timeout: { status: 408, retryable: false, description: 'the request\'s headers did not arrive whole within headers-timeout; the connection is closed' },
  request_timeout: { status: 408, retryable: false, description: 'the request did not arrive whole within Node\'s requestTimeout (derived from the body settings, docs/security.md); the connection is closed' },
  tenant_invalid: { status: 400, retryable: false, description: 'the tenant header is empty, repeated, longer than 150 characters, or has a character outside a-z A-Z 0-9 ! - _ . * \' ( )' },
  content_type_unsupported: { status: 415, retryable: false, description: 'the Content-Type is not a Remote Write 1.0 or 2.0 protobuf' },
  content_encoding_unsupported: { status: 415, retryable: false, description: 'the Content-Encoding is not snappy' },
  unauthorized: { status: 401, retryable: false, description: 'missing or wrong bearer token or basic-auth credentials' },
  forbidden: { status: 403, retryable: false, description: 'the credentials are valid but do not open this path: the query route needs the read credential (a write credential cannot read), and is closed while write auth is on and no read credential is set' },
  method_not_allowed: { status: 405, retryable: false, description: 'the path exists but not for this method' },
  not_found: { status: 404, retryable: false, description: 'no such path' },
  saturated: { status: 503, retryable: true, description: 'no slot became free within the admission timeout; retry after the Retry-After delay' },
  shutting_down: { status: 503, retryable: true, description: 'the service is shutting down and takes no new requests' },
  not_ready: { status: 503, retryable: true, description: '/readyz: the decode worker pool or the sink is not up (yet)' },

  // Pool and sinks.
  worker_died: { status: 500, retryable: true, description: 'the decode worker running this request died; the worker has been replaced' },
  sink_failed: { status: 503, retryable: true, description: 'a sink failed to store the batch; nothing of the request was acknowledged' },
  queue_full: { status: 503, retryable: true, description: 'a forward destination\'s queue is at its limit (forward-queue-limit); nothing of the request was acknowledged, retry after the Retry-After delay' },
  query_refused: { status: 400, retryable: false, description: 'a query statement would change data; only reads are allowed' },
  query_failed: { status: 400, retryable: false, description: 'the query could not be run' },
  query_too_large: { status: 400, retryable: false, description: 'the query\'s answer is larger than query-max-answer-bytes; select fewer rows or columns (past query-hold-bytes the answer is cut instead: its last line names this code and the connection closes)' },
  query_queue_full: { status: 503, retryable: true, description: 'query-concurrency queries are running and query-queue more are waiting, or a waiting query found no free turn within query-timeout; retry after the Retry-After delay' },
  compaction_failed: { status: 503, retryable: true, description: 'compacting the head into blocks failed; the head keeps its rows, and the next pass tries again' },
  parameter_invalid: { status: 400, retryable: false, description: 'a URL parameter of a request has a value that is not allowed (the message names it)' },
  status_parameter_invalid: { status: 400, retryable: false, description: 'a parameter of a status route is not valid: topN, focusLabel, match[] (a series selector), date (YYYY-MM-DD) or tenant of /api/v1/status/tsdb' },
  status_unavailable: { status: 503, retryable: true, description: 'the cardinality figures could not be computed now: the status worker failed (it is started again on the next request)' },
  read_request_invalid: { status: 400, retryable: false, description: 'a remote-read request (or a Prometheus API parameter) is not valid: an unknown matcher type, a regex Go refuses, a time that is not a number or RFC 3339' },
  read_too_large: { status: 400, retryable: false, description: 'a remote-read query selects more samples than read-max-samples (400, as Prometheus answers its own read-sample-limit); narrow its matchers or time range' },
  read_queue_full: { status: 503, retryable: true, description: 'read-max-concurrency remote reads are running and as many more are waiting, or a waiting read got no turn within query-timeout; retry after the Retry-After delay' },
  read_response_type_unsupported: { status: 406, retryable: false, description: 'a remote-read request accepts none of the answers this service gives (SAMPLES, STREAMED_XOR_CHUNKS): 406, not retryable (Prometheus answers 501; here every 5xx means retry)' },

  // Start-up.
  config_invalid: { status: 500, retryable: false, description: 'a setting has a value that is not allowed' },
  series_load_failed: { status: 500, retryable: true, description: 'loading the stored series into the series index at start-up failed (for example more stored series than max-series)' },
  internal: { status: 500, retryable: true, description: 'an unexpected internal error' }
} as const satisfies Record<string, CodeInfo>

export type ErrorCode = keyof typeof CODES

/** The error as it crosses a thread boundary. */
export interface WireError {
  readonly code: ErrorCode
  readonly message: string
  readonly detail?: Record<string, unknown> | undefined
}

export class IngestError extends Error {
  override readonly name = 'IngestError'
  readonly code: ErrorCode
  readonly detail: Record<string, unknown> | undefined

  constructor (code: ErrorCode, message: string, detail?: Record<string, unknown>) {
    super(message)
    this.code = code
    this.detail = detail
  }

  /** The HTTP status of the code, as answered (the configured saturation-status for `saturated`). */
  get status (): number { return httpStatusOf(this.code) }
  get retryable (): boolean { return CODES[this.code].retryable }

  toWire (): WireError {
    return { code: this.code, message: this.message, detail: this.detail }
  }

  static fromWire (wire: WireError): IngestError {
    return new IngestError(isErrorCode(wire.code) ? wire.code : 'internal', wire.message, wire.detail)
  }
}

export function isErrorCode (code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.prototype.hasOwnProperty.call(CODES, code)
}

/** Turns anything thrown into an IngestError; unknown errors become `internal`. */
export function toIngestError (err: unknown): IngestError {
  if (err instanceof IngestError) return err
  if (err !== null && typeof err === 'object' && isErrorCode((err as { code?: unknown }).code)) {
    const e = err as { code: ErrorCode, message?: unknown, detail?: Record<string, unknown> }
    return new IngestError(e.code, String(e.message ?? e.code), e.detail)
  }
  const message = err instanceof Error ? err.message : String(err)
  return new IngestError('internal', message)
}

let saturationStatus: 503 | 429 = 503
let rateLimitStatus: 503 | 429 = 429

/** Sets the status of `tenant_max_ingestion_rate` answers (the tenant-rate-limit-status setting), once at start-up. */
export function setRateLimitStatus (status: 503 | 429): void {
  rateLimitStatus = status
}

/**
 * Sets the status of `saturated` answers (the saturation-status setting), once at start-up. The
 * setting is process-wide: every service in a process answers saturation the same way.
 */
export function setSaturationStatus (status: 503 | 429): void {
  saturationStatus = status
}

/** The one mapping from code to HTTP status. */
export function httpStatusOf (code: ErrorCode): number {
  if (code === 'tenant_max_ingestion_rate') return rateLimitStatus
  return code === 'saturated' ? saturationStatus : CODES[code].status
}
