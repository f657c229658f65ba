/**
 * `POST /api/v1/read`: Prometheus remote read (prompb/remote.proto), answered from the store.
 *
 *   body      snappy block of a ReadRequest (at most 1 MiB compressed, 8 MiB decompressed)
 *   answer    SAMPLES: a snappy ReadResponse, `Content-Type: application/x-protobuf`,
 *             `Content-Encoding: snappy`;
 *             STREAMED_XOR_CHUNKS: frames of ChunkedReadResponse,
 *             `Content-Type: application/x-streamed-protobuf; proto=prometheus.ChunkedReadResponse`
 *             The first type in accepted_response_types that is one of these two is used (none listed:
 *             SAMPLES); a list with neither gets 406 (Prometheus: 501, but here every 5xx means retry).
 *   auth      the write credentials (the server checks them before this route; `access: 'write'`)
 *   tenant    the tenant header, as for writes: a request reads its own tenant's series only
 *
 * The request is read and checked here (a bad body, matcher or regex is a 400 before any turn is
 * taken); the store's thread selects, reads and encodes (src/sinks/duckdb/remote-read.ts), bounded by
 * read-max-samples per query and read-max-concurrency reads at once.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { SnappyDecoder } from '../decode/snappy.js'
import { IngestError } from '../errors.js'
import { readLimitedBody } from '../receive/limited-body.js'
import { tenantOf } from '../receive/tenant.js'
import type { HttpRoute } from '../receive/server.js'
import { LabelMatcher } from './label-matcher.js'
import { readReadRequest, SAMPLES, STREAMED_XOR_CHUNKS, type ReadQuery } from './read-request.js'

export const READ_PATH = '/api/v1/read'

export const SAMPLES_CONTENT_TYPE = 'application/x-protobuf'
export const STREAMED_CONTENT_TYPE = 'application/x-streamed-protobuf; proto=prometheus.ChunkedReadResponse'

/** Largest compressed request body: a read request is a few queries of a few matchers. */
export const MAX_READ_BODY_BYTES = 1 << 20
const MAX_READ_DECOMPRESSED_BYTES = 8 << 20

/** What the route needs of the store. */
export interface RemoteReadSink {
  remoteRead(request: { tenant: string, queries: readonly ReadQuery[], responseType: number }): Promise<{ body: Uint8Array, series: number, samples: number }>
}

export interface RemoteReadSettings {
  /** The tenant header, lower case ('' disables tenants). */
  readonly tenantHeader: string
}

/** The first accepted type this service gives (none listed: SAMPLES); undefined when none is. */
export function negotiate (accepted: readonly number[]): number | undefined {
  if (accepted.length === 0) return SAMPLES
  return accepted.find(t => t === SAMPLES || t === STREAMED_XOR_CHUNKS)
}

export function remoteReadRoutes (sink: RemoteReadSink, settings: RemoteReadSettings): HttpRoute[] {
  const snappy = new SnappyDecoder(MAX_READ_DECOMPRESSED_BYTES)
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const tenant = tenantOf(req, settings.tenantHeader)
    if (tenant instanceof IngestError) throw tenant
    const encoding = req.headers['content-encoding']
    if (encoding !== undefined && encoding.toLowerCase() !== 'snappy') throw new IngestError('content_encoding_unsupported', `the remote-read body must be snappy-compressed, not ${JSON.stringify(encoding)}`)
    const compressed = await readLimitedBody(req, MAX_READ_BODY_BYTES, 'the remote-read request body')
    const request = readReadRequest(snappy.decompress(compressed))
    const responseType = negotiate(request.acceptedResponseTypes)
    if (responseType === undefined) {
      throw new IngestError('read_response_type_unsupported', `none of the accepted response types [${request.acceptedResponseTypes.join(', ')}] is given here: this service answers 0 (SAMPLES) and 1 (STREAMED_XOR_CHUNKS)`)
    }
    for (const q of request.queries) for (const m of q.matchers) LabelMatcher.of(m) // a bad regex is a 400 now
    const answer = await sink.remoteRead({ tenant, queries: request.queries, responseType })
    res.statusCode = 200
    if (responseType === SAMPLES) {
      res.setHeader('Content-Type', SAMPLES_CONTENT_TYPE)
      res.setHeader('Content-Encoding', 'snappy')
    } else {
      res.setHeader('Content-Type', STREAMED_CONTENT_TYPE)
    }
    res.setHeader('Content-Length', String(answer.body.length))
    res.setHeader('X-Prom-Ingest-Series', String(answer.series))
    res.setHeader('X-Prom-Ingest-Samples', String(answer.samples))
    res.end(answer.body)
  }
  return [{ method: 'POST', path: READ_PATH, access: 'write', handle }]
}
