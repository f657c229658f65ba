/**
 * The service's read-only query route, `GET/POST /api/v1/query` (mounted by the receiver behind the
 * same auth as the write route). Parameters: `query` (the SQL) and `format` (table, csv, json;
 * default json); GET takes them from the URL, POST from an application/x-www-form-urlencoded body
 * with a `query` field, or else the whole body is the SQL (`format` in the URL).
 *
 * The answer: 200 with the rows in the requested format (`X-Prom-Ingest-Truncated: true` when the row
 * limit left rows out), or the error code's status with a one-line plain-text reason (400
 * query_refused for statements that would change data, 400 query_failed, 503 sink_failed when no
 * DuckDB sink is running).
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { IngestError, toIngestError } from '../../errors.js'
import type { HttpRoute } from '../../receive/server.js'
import { isQueryFormat, QUERY_FORMATS, type QueryFormat, type QueryOutput } from './result-format.js'

/** What the handler needs of a sink. */
export interface QuerySink {
  query(sql: string, format: QueryFormat): Promise<QueryOutput>
}

let active: QuerySink | undefined

/** Called by the DuckDB sink: the started sink answers queries; `undefined` (with the sink) unsets it. */
export function setQuerySink (sink: QuerySink | undefined, only?: QuerySink): void {
  if (sink === undefined && only !== undefined && active !== only) return
  active = sink
}

export interface QueryResponse {
  readonly status: number
  readonly headers: Record<string, string>
  readonly body: string
}

export const QUERY_PATH = '/api/v1/query'

/** Answers one query; never throws. `sink` defaults to the DuckDB sink of this process (null: none). */
export async function handleQuery (sql: string, format: string = 'json', sink: QuerySink | null | undefined = active): Promise<QueryResponse> {
  try {
    if (!isQueryFormat(format)) throw new IngestError('query_failed', `unknown format ${JSON.stringify(format)}: use one of ${QUERY_FORMATS.join(', ')}`)
    if (sink === undefined || sink === null) throw new IngestError('sink_failed', 'no DuckDB sink is running in this service (sink=discard?)')
    const out = await sink.query(sql, format)
    const headers: Record<string, string> = { 'content-type': out.contentType, 'x-prom-ingest-rows': String(out.rowCount) }
    if (out.truncated) headers['x-prom-ingest-truncated'] = 'true'
    return { status: 200, headers, body: out.body }
  } catch (err) {
    const e = toIngestError(err)
    return { status: e.status, headers: { 'content-type': 'text/plain; charset=utf-8', 'x-prom-ingest-error': e.code }, body: `${e.message}\n` }
  }
}

/** Reads `query` and `format` from a request's URL search parameters and body (see above). */
export function queryParams (search: URLSearchParams, body?: string, contentType?: string): { sql: string, format: string } {
  let sql = search.get('query') ?? ''
  let format = search.get('format') ?? 'json'
  if (body !== undefined && body !== '') {
    const form = (contentType ?? '').startsWith('application/x-www-form-urlencoded') ? new URLSearchParams(body) : undefined
    if (form?.has('query') === true) {
      sql = form.get('query')!
      format = form.get('format') ?? format
    } else {
      sql = body // plain SQL (also what `curl --data-binary` sends under its default form content type)
    }
  }
  return { sql, format }
}

const MAX_QUERY_BODY = 1024 * 1024

/** A request's body as text, at most MAX_QUERY_BODY bytes. */
async function readBody (req: IncomingMessage): Promise<string> {
  const parts: Buffer[] = []
  let size = 0
  for await (const part of req) {
    const b = part as Buffer
    size += b.length
    if (size > MAX_QUERY_BODY) throw new IngestError('body_too_large', `the query body is larger than ${MAX_QUERY_BODY} bytes`)
    parts.push(b)
  }
  return Buffer.concat(parts).toString('utf8')
}

/** The GET and POST routes of /api/v1/query for the service's server (auth is checked before them). */
export function queryRoutes (sink: QuerySink): HttpRoute[] {
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    const body = req.method === 'POST' ? await readBody(req) : undefined
    const { sql, format } = queryParams(url.searchParams, body, req.headers['content-type'])
    const answer = await handleQuery(sql, format, sink)
    res.statusCode = answer.status
    for (const [k, v] of Object.entries(answer.headers)) res.setHeader(k, v)
    res.end(answer.body)
  }
  return [{ method: 'GET', path: QUERY_PATH, handle }, { method: 'POST', path: QUERY_PATH, handle }]
}
