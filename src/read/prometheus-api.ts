/**
 * The Prometheus HTTP API's metadata endpoints, for tools (Grafana's label browser, promtool,
 * scripts), answered from the store's `series`, `samples` and `metadata` views with Prometheus' JSON:
 *
 *   GET|POST /api/v1/labels                 match[], start, end   -> ["__name__", "job", ...]
 *   GET|POST /api/v1/label/<name>/values    match[], start, end   -> ["a", "b", ...]
 *   GET|POST /api/v1/series                 match[] (required), start, end -> [{"__name__": ..., ...}, ...]
 *   GET|POST /api/v1/metadata               metric, limit         -> {"family": [{"type", "help", "unit"}]}
 *
 * Answers are `{"status":"success","data":...}` (with `"warnings"` when the store's row limit left
 * series out), failures `{"status":"error","errorType":...,"error":...}` with the code table's status.
 * POST takes the same parameters as an application/x-www-form-urlencoded body (added to the URL's).
 *
 * Semantics: `match[]` is a series selector (`up`, `{job=~"a|b"}`, `up{job!=""}`); several select
 * their union. `start`/`end` (Unix seconds or RFC 3339) keep the series with at least one sample in
 * [start, end]; without them every stored series counts (Prometheus counts the series of every block
 * that overlaps the range, which for data in its head is every series). The tenant header selects the
 * tenant, as for writes. The queries go through the store's query path (the query gate, a READ ONLY
 * transaction, query-max-rows), behind the read credential.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { IngestError, toIngestError } from '../errors.js'
import { readLimitedBody } from '../receive/limited-body.js'
import { sendApiError } from '../receive/error-response.js'
import type { HttpRoute } from '../receive/server.js'
import { tenantOf } from '../receive/tenant.js'
import { compareUtf8, LabelMatcher, selectsAll, seriesConditions, sqlString } from './label-matcher.js'
import { parseSelector } from './series-selector.js'

/** What the routes need of the store: one read-only statement, its rows as JSON. */
export interface ApiSink {
  query(sql: string, format: 'json'): Promise<{ body: string, truncated: boolean }>
}

export interface ApiSettings {
  /** The tenant header, lower case ('' disables tenants). */
  readonly tenantHeader: string
  /** Seconds in Retry-After on retryable errors. */
  readonly retryAfterSeconds: number
}

export const LABELS_PATH = '/api/v1/labels'
export const LABEL_VALUES_PREFIX = '/api/v1/label/'
export const SERIES_PATH = '/api/v1/series'
export const METADATA_PATH = '/api/v1/metadata'

const MAX_FORM_BYTES = 1 << 20

/** Prometheus' time parameter: Unix seconds (with a fraction) or RFC 3339; returns ms. */
export function parseTime (text: string, name: string): number {
  if (/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(text)) return Math.round(Number(text) * 1000)
  const ms = Date.parse(text)
  if (!/^\d{4}-\d\d-\d\dT/.test(text) || Number.isNaN(ms)) throw new IngestError('read_request_invalid', `invalid parameter "${name}": cannot parse ${JSON.stringify(text)} to a valid timestamp`)
  return ms
}

async function params (req: IncomingMessage): Promise<URLSearchParams> {
  const url = new URL(req.url ?? '/', 'http://localhost')
  const out = new URLSearchParams(url.search)
  if (req.method !== 'POST') return out
  const type = req.headers['content-type'] ?? ''
  const body = (await readLimitedBody(req, MAX_FORM_BYTES, 'the form body')).toString('utf8')
  if (type.startsWith('application/x-www-form-urlencoded')) {
    for (const [k, v] of new URLSearchParams(body)) out.append(k, v)
  }
  return out
}

interface Scope {
  readonly tenant: string
  readonly selectors: ReadonlyArray<readonly LabelMatcher[]>
  readonly startMs: number | undefined
  readonly endMs: number | undefined
}

function scopeOf (req: IncomingMessage, p: URLSearchParams, tenantHeader: string): Scope {
  const tenant = tenantOf(req, tenantHeader)
  if (tenant instanceof IngestError) throw tenant
  const selectors = p.getAll('match[]').map(s => parseSelector(s, 'read_request_invalid').map(m => LabelMatcher.of(m)))
  const start = p.get('start')
  const end = p.get('end')
  const startMs = start === null || start === '' ? undefined : parseTime(start, 'start')
  const endMs = end === null || end === '' ? undefined : parseTime(end, 'end')
  // end before start is no error (Prometheus 2.42 answers it): nothing is in that range.
  return { tenant, selectors, startMs, endMs }
}

/** The WHERE of a series query: tenant, pushed-down equalities, and samples in the time range. */
function seriesWhere (scope: Scope, matchers: readonly LabelMatcher[]): string {
  const where = [`tenant = ${sqlString(scope.tenant)!}`, ...seriesConditions(matchers)]
  if (scope.startMs !== undefined || scope.endMs !== undefined) {
    const range: string[] = []
    if (scope.startMs !== undefined) range.push(`ts >= epoch_ms(${scope.startMs}::BIGINT)`)
    if (scope.endMs !== undefined) range.push(`ts <= epoch_ms(${scope.endMs}::BIGINT)`)
    where.push(`id IN (SELECT DISTINCT series_id FROM samples WHERE ${range.join(' AND ')})`)
  }
  return where.join(' AND ')
}

interface Answer { data: unknown, warnings: string[] }

function truncationWarning (what: string): string {
  return `the answer is incomplete: the store's row limit (query-max-rows) left ${what} out`
}

/** The label sets the scope's selectors select (their union), each once. */
async function selectedSeries (sink: ApiSink, scope: Scope, warnings: string[]): Promise<Array<Record<string, string>>> {
  const byId = new Map<number, Record<string, string>>()
  for (const matchers of scope.selectors) {
    const out = await sink.query(`SELECT id, labels FROM series WHERE ${seriesWhere(scope, matchers)}`, 'json')
    if (out.truncated) warnings.push(truncationWarning('series'))
    for (const row of JSON.parse(out.body) as Array<{ id: number, labels: Record<string, string> }>) {
      if (byId.has(row.id)) continue
      if (selectsAll(matchers, new Map(Object.entries(row.labels)))) byId.set(row.id, row.labels)
    }
  }
  return [...byId.values()]
}

async function labels (sink: ApiSink, scope: Scope): Promise<Answer> {
  const warnings: string[] = []
  let names: Set<string>
  if (scope.selectors.length === 0) {
    const out = await sink.query(`SELECT DISTINCT unnest(map_keys(labels)) AS name FROM series WHERE ${seriesWhere(scope, [])}`, 'json')
    if (out.truncated) warnings.push(truncationWarning('label names'))
    names = new Set((JSON.parse(out.body) as Array<{ name: string }>).map(r => r.name))
  } else {
    names = new Set()
    for (const s of await selectedSeries(sink, scope, warnings)) for (const n of Object.keys(s)) names.add(n)
  }
  return { data: [...names].sort(compareUtf8), warnings }
}

async function labelValues (sink: ApiSink, scope: Scope, name: string): Promise<Answer> {
  const warnings: string[] = []
  let values: Set<string>
  if (scope.selectors.length === 0) {
    const n = sqlString(name)
    if (n === undefined) return { data: [], warnings } // no stored label name holds a NUL
    const column = name === '__name__' ? 'metric' : `labels[${n}]`
    const out = await sink.query(`SELECT DISTINCT ${column} AS value FROM series WHERE ${seriesWhere(scope, [])} AND ${column} IS NOT NULL AND ${column} <> ''`, 'json')
    if (out.truncated) warnings.push(truncationWarning('label values'))
    values = new Set((JSON.parse(out.body) as Array<{ value: string }>).map(r => r.value))
  } else {
    values = new Set()
    for (const s of await selectedSeries(sink, scope, warnings)) {
      const v = s[name]
      if (v !== undefined && v !== '') values.add(v)
    }
  }
  return { data: [...values].sort(compareUtf8), warnings }
}

async function series (sink: ApiSink, scope: Scope): Promise<Answer> {
  if (scope.selectors.length === 0) throw new IngestError('read_request_invalid', 'no match[] parameter provided')
  const warnings: string[] = []
  const all = await selectedSeries(sink, scope, warnings)
  // As Prometheus orders them: by label set, pair by pair.
  const sorted = all.map(s => Object.entries(s).sort((a, b) => compareUtf8(a[0], b[0])))
    .sort((a, b) => {
      const n = Math.min(a.length, b.length)
      for (let i = 0; i < n; i++) {
        const c = compareUtf8(a[i]![0], b[i]![0]) || compareUtf8(a[i]![1], b[i]![1])
        if (c !== 0) return c
      }
      return a.length - b.length
    })
  return { data: sorted.map(pairs => Object.fromEntries(pairs)), warnings }
}

async function metadata (sink: ApiSink, req: IncomingMessage, p: URLSearchParams, tenantHeader: string): Promise<Answer> {
  const tenant = tenantOf(req, tenantHeader)
  if (tenant instanceof IngestError) throw tenant
  const limitText = p.get('limit')
  let limit = -1
  if (limitText !== null && limitText !== '') {
    if (!/^[+-]?\d+$/.test(limitText)) throw new IngestError('read_request_invalid', 'limit must be a number')
    limit = Number(limitText)
  }
  const where = [`tenant = ${sqlString(tenant)!}`]
  const metric = p.get('metric')
  if (metric !== null && metric !== '') {
    const m = sqlString(metric)
    if (m === undefined) return { data: {}, warnings: [] }
    where.push(`family = ${m}`)
  }
  const out = await sink.query(`SELECT family, CAST(type AS VARCHAR) AS type, help, unit FROM metadata WHERE ${where.join(' AND ')} ORDER BY family`, 'json')
  const warnings = out.truncated ? [truncationWarning('metric families')] : []
  const data: Record<string, Array<{ type: string, help: string, unit: string }>> = {}
  let count = 0
  for (const row of JSON.parse(out.body) as Array<{ family: string, type: string, help: string, unit: string }>) {
    if (limit >= 0 && count >= limit) break
    data[row.family] = [{ type: row.type, help: row.help, unit: row.unit }]
    count++
  }
  return { data, warnings }
}

function send (res: ServerResponse, a: Answer): void {
  const body: Record<string, unknown> = { status: 'success', data: a.data }
  if (a.warnings.length > 0) body.warnings = [...new Set(a.warnings)]
  res.statusCode = 200
  res.setHeader('Content-Type', 'application/json')
  res.end(JSON.stringify(body))
}

export function prometheusApiRoutes (sink: ApiSink, settings: ApiSettings): HttpRoute[] {
  const policy = { retryAfterSeconds: settings.retryAfterSeconds, authenticate: [] }
  const wrap = (answer: (req: IncomingMessage, p: URLSearchParams) => Promise<Answer>) => async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    try {
      send(res, await answer(req, await params(req)))
    } catch (err) {
      sendApiError(res, toIngestError(err), policy, !req.complete)
    }
  }
  const routes: HttpRoute[] = []
  const both = (path: string, handle: HttpRoute['handle'], prefix = false): void => {
    routes.push({ method: 'GET', path, access: 'read', prefix, handle }, { method: 'POST', path, access: 'read', prefix, handle })
  }
  both(LABELS_PATH, wrap(async (req, p) => await labels(sink, scopeOf(req, p, settings.tenantHeader))))
  both(SERIES_PATH, wrap(async (req, p) => await series(sink, scopeOf(req, p, settings.tenantHeader))))
  both(METADATA_PATH, wrap(async (req, p) => await metadata(sink, req, p, settings.tenantHeader)))
  both(LABEL_VALUES_PREFIX, wrap(async (req, p) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname
    const m = /^\/api\/v1\/label\/([^/]+)\/values$/.exec(path)
    if (m === null) throw new IngestError('not_found', `no such path: ${path}`)
    let name: string
    try { name = decodeURIComponent(m[1]!) } catch { throw new IngestError('read_request_invalid', `invalid label name: ${JSON.stringify(m[1])}`) }
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name)) throw new IngestError('read_request_invalid', `invalid label name: ${JSON.stringify(name)}`)
    return await labelValues(sink, scopeOf(req, p, settings.tenantHeader), name)
  }), true)
  return routes
}
