/**
 * The status page (GET /) and its JSON routes, served behind the same auth as /metrics (the write
 * credentials; a browser gets the Basic challenge when basic auth is configured):
 *
 *   GET /                          the page (src/ui/index.html); its script and style are
 *   GET /ui/app.js, /ui/app.css    same-origin files, as the Content-Security-Policy demands
 *   GET /api/v1/status/ingest      the last 15 minutes of ingest, one point per second (ingest-history.ts)
 *   GET /api/v1/status/pipeline    pool, slots, sinks, forward queues (pipeline.ts)
 *   GET /api/v1/status/rejected    the last 50 rejected write requests (rejection-log.ts)
 *   GET /api/v1/status/tsdb        cardinality, Prometheus' format with VictoriaMetrics' parameters
 *                                  (cardinality.ts), computed in a worker and cached (cardinality-service.ts)
 *
 * Every answer carries the CSP, nosniff, no-referrer and no-framing headers. Sender data (label
 * values, tenants, messages) goes out only inside JSON; the page writes it with textContent.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Registry } from 'prom-client'
import type { IngestMetrics } from '../metrics/ingest-metrics.js'
import type { PoolStats } from '../pool/decode-pool.js'
import type { HttpRoute } from '../receive/server.js'
import type { SeriesIndex } from '../series/series-index.js'
import type { Sink } from '../sinks/sink.js'
import { CONTENT_SECURITY_POLICY, uiAssets, type Asset } from '../ui/assets.js'
import { CardinalityService } from './cardinality-service.js'
import { IngestHistory } from './ingest-history.js'
import { pipelineFigures } from './pipeline.js'
import { RejectionLog } from './rejection-log.js'
import { parseTsdbQuery } from './tsdb-query.js'

export interface StatusPageDeps {
  readonly metrics: IngestMetrics
  readonly registry: Registry
  readonly pool: { stats(): PoolStats }
  readonly index: SeriesIndex
  readonly admission: { readonly admitted: number, readonly waiting: number, readonly capacity: number }
  /** Each configured sink (the parts of a fan-out). */
  readonly sinks: readonly Sink[]
  /** The service's sink name as the write path counts it (a fan-out's is 'duckdb+forward'). */
  readonly sinkName: string
  /** The tenant header, lower-case ('' when tenants are off). */
  readonly tenantHeader: string
  /** How long cardinality answers are reused, ms (default 5000). */
  readonly cacheMs?: number
  /** ms between ingest readings (default 1000). */
  readonly intervalMs?: number
}

export class StatusPage {
  readonly history: IngestHistory
  readonly rejections: RejectionLog
  readonly cardinality: CardinalityService
  readonly routes: readonly HttpRoute[]

  constructor (deps: StatusPageDeps) {
    this.history = new IngestHistory({ metrics: deps.metrics, registry: deps.registry, index: deps.index, intervalMs: deps.intervalMs })
    this.rejections = new RejectionLog(deps.tenantHeader)
    this.cardinality = new CardinalityService({
      index: deps.index.shared,
      marks: () => this.history.marks(),
      headTimes: () => this.history.headTimes()
    }, deps.cacheMs)
    const assets = uiAssets()
    const file = (path: string, name: string): HttpRoute => ({ method: 'GET', path, handle: (req, res) => sendAsset(req, res, assets.get(name)!) })
    const json = (path: string, answer: (url: URL) => Promise<unknown> | unknown): HttpRoute => ({
      method: 'GET',
      path,
      handle: async (req, res) => { sendJson(res, await answer(new URL(req.url ?? '/', 'http://status'))) }
    })
    this.routes = [
      file('/', 'index.html'),
      file('/ui/app.js', 'app.js'),
      file('/ui/app.css', 'app.css'),
      json('/api/v1/status/ingest', () => ({ status: 'success', data: this.history.series() })),
      json('/api/v1/status/pipeline', async () => ({ status: 'success', data: await pipelineFigures({ ...deps, history: this.history }) })),
      json('/api/v1/status/rejected', () => ({ status: 'success', data: { total: this.rejections.total, capacity: this.rejections.capacity, requests: this.rejections.list() } })),
      json('/api/v1/status/tsdb', async url => {
        const q = parseTsdbQuery(url.searchParams)
        const { status, computedAt } = await this.cardinality.status(q)
        return { status: 'success', computedAt, data: status }
      })
    ]
  }

  /** Starts the ingest readings. */
  start (): void { this.history.start() }

  async close (): Promise<void> {
    this.history.stop()
    await this.cardinality.close()
  }
}

function securityHeaders (res: ServerResponse): void {
  res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY)
  res.setHeader('X-Content-Type-Options', 'nosniff')
  res.setHeader('Referrer-Policy', 'no-referrer')
  res.setHeader('X-Frame-Options', 'DENY')
}

function sendAsset (req: IncomingMessage, res: ServerResponse, asset: Asset): void {
  securityHeaders(res)
  res.setHeader('Content-Type', asset.contentType)
  res.setHeader('Cache-Control', 'no-cache')
  res.setHeader('ETag', asset.etag)
  if (req.headers['if-none-match'] === asset.etag) {
    res.statusCode = 304
    res.end()
    return
  }
  res.statusCode = 200
  res.end(asset.body)
}

function sendJson (res: ServerResponse, value: unknown): void {
  securityHeaders(res)
  res.setHeader('Content-Type', 'application/json; charset=utf-8')
  res.setHeader('Cache-Control', 'no-store')
  res.statusCode = 200
  res.end(JSON.stringify(value))
}
