/**
 * A remote-write client for tests: posts one body with the headers a Prometheus sender of the given
 * protocol version would send, over undici (keep-alive), and returns status, headers and body text.
 *
 * The body is sent as given: pass snappy-compressed bytes (use `snappyCompress` on a protobuf body),
 * or raw bytes to provoke errors. Any default header can be replaced, or removed with `undefined`.
 */
import { request, type Dispatcher } from 'undici'
import { compressBody } from '../fixtures/encode.js'

export type RemoteWriteVersion = '1.0' | '2.0'

export const CONTENT_TYPE_V1 = 'application/x-protobuf'
export const CONTENT_TYPE_V2 = 'application/x-protobuf;proto=io.prometheus.write.v2.Request'

export interface PostWriteOptions {
  /** Protocol version whose headers to send (default '1.0'). */
  version?: RemoteWriteVersion
  /** Extra or replacing headers; a header set to undefined is not sent at all. */
  headers?: Record<string, string | undefined>
  /** Path appended when `url` is a bare origin (default '/api/v1/write'). */
  path?: string
  /** undici dispatcher (default the global keep-alive agent). */
  dispatcher?: Dispatcher
  /** Abort the request (for tests that cut a request short). */
  signal?: AbortSignal
}

export interface WriteAnswer {
  status: number
  headers: Record<string, string>
  body: string
}

/** Snappy block compression, as remote-write senders use it (the fixtures' compressor). */
export const snappyCompress = compressBody

/** The headers a sender of `version` sends. */
export function defaultWriteHeaders (version: RemoteWriteVersion): Record<string, string> {
  return {
    'content-type': version === '2.0' ? CONTENT_TYPE_V2 : CONTENT_TYPE_V1,
    'content-encoding': 'snappy',
    'x-prometheus-remote-write-version': version === '2.0' ? '2.0.0' : '0.1.0',
    'user-agent': 'prom-ingest-test/1'
  }
}

/** The URL to post to: `url` itself when it has a path, else `url` + options.path. */
export function writeUrl (url: string, path = '/api/v1/write'): string {
  const u = new URL(url)
  if (u.pathname === '/' || u.pathname === '') u.pathname = path
  return u.toString()
}

export async function postWrite (url: string, body: Uint8Array | string, options: PostWriteOptions = {}): Promise<WriteAnswer> {
  const headers: Record<string, string> = defaultWriteHeaders(options.version ?? '1.0')
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    const key = name.toLowerCase()
    if (value === undefined) delete headers[key]
    else headers[key] = value
  }
  const res = await request(writeUrl(url, options.path), {
    method: 'POST',
    headers,
    body,
    dispatcher: options.dispatcher,
    signal: options.signal
  })
  const text = await res.body.text()
  return { status: res.statusCode, headers: flattenHeaders(res.headers), body: text }
}

function flattenHeaders (h: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined) continue
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v
  }
  return out
}
