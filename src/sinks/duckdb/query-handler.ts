/**
 * The service's read-only query route, `GET/POST /api/v1/query` (mounted by the receiver behind the
 * read credential, see src/receive/auth.ts). Parameters: `query` (the SQL) and `format` (table, csv,
 * json; default json); GET takes them from the URL, POST from an application/x-www-form-urlencoded
 * body with a `query` field, or else the whole body is the SQL (`format` in the URL).
 *
 * The answer streams: parts come from the DuckDB worker as its rows are formatted and are written as
 * they come, but the first `queryHoldBytes` (1 MiB) are held back before the status is sent. So an
 * answer that ends within them (most do) gets 200 with `X-Prom-Ingest-Rows` and, when the row limit
 * left rows out, `X-Prom-Ingest-Truncated: true`; and a failure within them (the query refused or
 * failed, the byte limit, a full query queue) gets its own status through the one error answer
 * (src/receive/error-response.ts: thrown to the server, which sends it). Past the held bytes the
 * status is out: the rows and truncation then come as HTTP trailers, and a failure (query_too_large,
 * the time limit) cuts the answer off: its last line names the error and the connection closes
 * without the end of the chunked body, so that no client can take a cut answer for a whole one.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { IngestError, toIngestError } from '../../errors.js'
import { readLimitedBody } from '../../receive/limited-body.js'
import type { HttpRoute } from '../../receive/server.js'
import type { PartWriter, QuerySummary } from './query-guard.js'
import { CONTENT_TYPES, isQueryFormat, QUERY_FORMATS, type QueryFormat } from './result-format.js'

/** What the route needs of a sink. */
export interface QuerySink {
  streamQuery(sql: string, format: QueryFormat, write: PartWriter, signal?: AbortSignal): Promise<QuerySummary>
  /** Bytes of an answer held before the status is sent. */
  readonly queryHoldBytes: number
}

export const QUERY_PATH = '/api/v1/query'

/** Headers that carry an answer's row count and truncation (as trailers once the answer streams). */
const ROWS_HEADER = 'X-Prom-Ingest-Rows'
const TRUNCATED_HEADER = 'X-Prom-Ingest-Truncated'

/** One answer: held until `hold` bytes, then streamed with backpressure. */
class HeldAnswer {
  private held: string[] = []
  private heldBytes = 0
  started = false

  constructor (private readonly res: ServerResponse, private readonly format: QueryFormat, private readonly hold: number) {}

  readonly write: PartWriter = async (text: string): Promise<void> => {
    if (this.res.destroyed) throw new IngestError('query_failed', 'the client went away')
    if (!this.started) {
      this.held.push(text)
      this.heldBytes += Buffer.byteLength(text)
      if (this.heldBytes < this.hold) return
      this.started = true
      this.res.statusCode = 200
      this.res.setHeader('Content-Type', CONTENT_TYPES[this.format])
      this.res.setHeader('Trailer', `${ROWS_HEADER}, ${TRUNCATED_HEADER}`)
      text = this.held.join('')
      this.held = []
    }
    if (this.res.write(text)) return
    await new Promise<void>((resolve, reject) => {
      const done = (): void => { this.res.off('drain', done); this.res.off('close', gone); resolve() }
      const gone = (): void => { this.res.off('drain', done); reject(new IngestError('query_failed', 'the client went away')) }
      this.res.once('drain', done)
      this.res.once('close', gone)
    })
  }

  end (s: QuerySummary): void {
    if (!this.started) {
      this.res.statusCode = 200
      this.res.setHeader('Content-Type', s.contentType)
      this.res.setHeader(ROWS_HEADER, String(s.rowCount))
      if (s.truncated) this.res.setHeader(TRUNCATED_HEADER, 'true')
      this.res.end(this.held.join(''))
      return
    }
    this.res.addTrailers({ [ROWS_HEADER]: String(s.rowCount), [TRUNCATED_HEADER]: String(s.truncated) })
    this.res.end()
  }

  /** The status is out: the last line names the error, and the chunked body is never ended. */
  cut (err: IngestError): void {
    if (this.res.destroyed) return
    this.res.write(`\nprom-ingest: the answer was cut off: ${err.code}: ${err.message.replace(/[\r\n]+/g, ' ')}\n`, () => this.res.destroy())
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

/** The GET and POST routes of /api/v1/query (the server checks the read credential before them, and answers what they throw). */
export function queryRoutes (sink: QuerySink): HttpRoute[] {
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    let body: string | undefined
    if (req.method === 'POST') {
      body = (await readLimitedBody(req, MAX_QUERY_BODY, 'the query body')).toString('utf8')
    }
    const { sql, format } = queryParams(url.searchParams, body, req.headers['content-type'])
    if (!isQueryFormat(format)) throw new IngestError('query_failed', `unknown format ${JSON.stringify(format)}: use one of ${QUERY_FORMATS.join(', ')}`)
    const answer = new HeldAnswer(res, format, sink.queryHoldBytes)
    // A client that goes away gives its query up: it leaves the queue, or its connection is interrupted.
    const gone = new AbortController()
    const onClose = (): void => { if (!res.writableFinished) gone.abort() }
    res.once('close', onClose)
    let summary: QuerySummary
    try {
      summary = await sink.streamQuery(sql, format, answer.write, gone.signal)
    } catch (err) {
      if (!answer.started) throw err // nothing sent yet: the server answers with the error's own status
      answer.cut(toIngestError(err))
      return
    } finally {
      res.off('close', onClose)
    }
    answer.end(summary)
  }
  return [{ method: 'GET', path: QUERY_PATH, access: 'read', handle }, { method: 'POST', path: QUERY_PATH, access: 'read', handle }]
}
