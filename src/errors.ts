/**
 * One error class for the whole service, one table of codes.
 *
 * Every failure that a user can see carries a machine-readable `code` from CODES; the HTTP status and
 * whether a sender should retry are decided here and nowhere else (receive/ maps errors to answers
 * through `httpStatusOf`). Errors cross thread boundaries as plain data (`toWire` / `fromWire`): an
 * Error subclass posted from a worker would arrive without its code.
 */

export interface CodeInfo {
  /** HTTP status the receiver answers with. */
  readonly status: number
  /** A sender may retry the same request later. Every 5xx is retryable, no 4xx is (but 429). */
  readonly retryable: boolean
  /** One line for the README's table. */
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
  exemplar_invalid: { status: 400, retryable: false, description: 'an exemplar\'s labels are not valid: empty or non-UTF-8 name, non-UTF-8 value' },
  series_limit: { status: 503, retryable: true, description: 'the series index is full: no new series can be taken until it is made larger' },

  // HTTP receiver.
  body_too_large: { status: 413, retryable: false, description: 'the request body is larger than the body size limit' },
  body_incomplete: { status: 400, retryable: false, description: 'the request body ended before its Content-Length, or the connection was closed while it was read' },
  content_type_unsupported: { status: 415, retryable: false, description: 'the Content-Type is not a Remote Write 1.0 or 2.0 protobuf' },
  content_encoding_unsupported: { status: 415, retryable: false, description: 'the Content-Encoding is not snappy' },
  unauthorized: { status: 401, retryable: false, description: 'missing or wrong bearer token or basic-auth credentials' },
  method_not_allowed: { status: 405, retryable: false, description: 'the path exists but not for this method' },
  not_found: { status: 404, retryable: false, description: 'no such path' },
  saturated: { status: 503, retryable: true, description: 'no slot became free within the admission timeout; retry after the Retry-After delay' },
  shutting_down: { status: 503, retryable: true, description: 'the service is shutting down and takes no new requests' },

  // Pool and sinks.
  worker_died: { status: 500, retryable: true, description: 'the decode worker running this request died; the worker has been replaced' },
  sink_failed: { status: 503, retryable: true, description: 'a sink failed to store the batch; nothing of the request was acknowledged' },
  queue_full: { status: 503, retryable: true, description: 'a forward destination\'s queue is at its limit (forward-queue-limit); nothing of the request was acknowledged, retry after the Retry-After delay' },
  query_refused: { status: 400, retryable: false, description: 'a query statement would change data; only reads are allowed' },
  query_failed: { status: 400, retryable: false, description: 'the query could not be run' },

  // Start-up.
  config_invalid: { status: 500, retryable: false, description: 'a setting has a value that is not allowed' },
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

  get status (): number { return CODES[this.code].status }
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

export function httpStatusOf (code: ErrorCode): number {
  return CODES[code].status
}
