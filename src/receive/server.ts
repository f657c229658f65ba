/**
 * The HTTP server (node:http, keep-alive): routes, auth on every endpoint but the health checks, and
 * the shutdown state that the routes read.
 *
 *   POST /api/v1/write   remote write 1.0 and 2.0 (write-route.ts)
 *   GET  /metrics        the self-metrics (prom-client exposition)
 *   GET  /healthz        alive: 200 while the process answers at all
 *   GET  /readyz         ready: 200 when the pool and the sink are up and shutdown has not begun
 *   extra routes         added by a sink that serves reads (the store's query endpoint), behind auth
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { Registry } from 'prom-client'
import { IngestError, toIngestError } from '../errors.js'
import type { ReadAuthenticator } from './auth.js'
import { answerClientError, type ClientErrorDeps } from './client-error.js'
import { sendError } from './error-response.js'
import { endLingering, isLingering } from './lingering-close.js'
import { versionOfContentType } from './content-negotiation.js'
import { DRAIN_LIMIT_BYTES, setWrittenHeaders, WRITE_PATH, WriteRoute, type ExchangeTracker, type WriteRouteDeps, type WriteRouteSettings } from './write-route.js'

/** A route beside the built-in ones, for example a sink's read-only query endpoint. */
export interface HttpRoute {
  readonly method: string
  readonly path: string
  /** Which credential opens it (auth.ts): 'write' (default, the write credentials) or 'read' (the read credential only). */
  readonly access?: 'read' | 'write'
  /** The route takes every path under `path` (which ends with '/'), such as /api/v1/label/<name>/values. */
  readonly prefix?: boolean
  handle(req: IncomingMessage, res: ServerResponse): void | Promise<void>
}

export interface IngestServerDeps extends Omit<WriteRouteDeps, 'tracker' | 'settings'> {
  readonly settings: WriteRouteSettings & {
    /** Time for a request's headers to arrive (headers-timeout), ms. */
    readonly headersTimeoutMs: number
  }
  readonly registry: Registry
  /** The read credential's check, for routes with access 'read' (default: the write check). */
  readonly readAuth?: ReadAuthenticator
  /** Whether the pool and the sink are up (for /readyz). */
  readonly ready: () => boolean
  readonly routes?: readonly HttpRoute[]
}

/** Keep-alive idle time: longer than senders' usual pause between requests, so connections are reused. */
const KEEP_ALIVE_MS = 65_000

/**
 * Node's own clocks (docs/security.md, "Slow senders"):
 * - headersTimeout: from the moment a connection opens (or a request's first byte on a kept-alive
 *   connection) to the end of the headers; Node answers 408 and closes. Idle kept-alive connections
 *   are bounded by keepAliveTimeout instead.
 * - requestTimeout: from a request's first byte to the end of its body. The write route watches its
 *   bodies itself (body-idle-timeout, body-min-rate), so this only has to bound what the route does not
 *   watch (a refused request's body being drained, other routes' bodies) and must never cut a body the
 *   route's rules accept: the largest body at body-min-rate after a first window, plus the slot waits.
 *   With body-min-rate 0 nothing bounds a body that keeps trickling, and neither does this (0).
 * - timeout (socket inactivity) stays 0: a request waiting for the sink is silent, and must not be cut.
 * - connectionsCheckingInterval: how often Node checks the first two (30 s by default, which would make
 *   headers-timeout up to 30 s late).
 */
function nodeTimeouts (s: IngestServerDeps['settings']): { headersTimeout: number, requestTimeout: number, connectionsCheckingInterval: number } {
  const headersTimeout = s.headersTimeoutMs
  const requestTimeout = s.bodyMinRate > 0
    ? Math.min(2 ** 31 - 1, headersTimeout + 2 * s.slotWaitMs + 2 * s.bodyIdleTimeoutMs + Math.ceil(s.maxBodyBytes / s.bodyMinRate) * 1000)
    : 0
  return { headersTimeout, requestTimeout, connectionsCheckingInterval: Math.min(1000, Math.max(100, Math.floor(headersTimeout / 4))) }
}

export class IngestServer implements ExchangeTracker {
  readonly server: Server
  private readonly write: WriteRoute
  private readonly routes: Map<string, HttpRoute>
  private inFlight = 0
  private idleWaiters: Array<() => void> = []
  private shuttingDown = false

  constructor (private readonly deps: IngestServerDeps) {
    this.write = new WriteRoute({ ...deps, tracker: this })
    this.routes = new Map((deps.routes ?? []).map(r => [`${r.method.toUpperCase()} ${r.path}`, r]))
    this.server = createServer({ keepAlive: true, keepAliveTimeout: KEEP_ALIVE_MS, ...nodeTimeouts(deps.settings) }, (req, res) => this.route(req, res))
    // `Expect: 100-continue`: the write route sends 100 only once it will read the body, so that a
    // refused request (401, 413, 415, 503) never makes the sender send its body.
    this.server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
      if (!(req.url ?? '').startsWith(WRITE_PATH)) res.writeContinue()
      this.route(req, res)
    })
    this.server.keepAliveTimeout = KEEP_ALIVE_MS
    // Requests Node's parser refuses (headers too large, malformed, headers timeout) get the service's own answer.
    const refused: ClientErrorDeps = { policy: deps.policy, count: status => this.count('other', status) }
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => answerClientError(this.server, err, socket, refused))
  }

  get closing (): boolean { return this.shuttingDown }
  /** Requests being answered now (write requests and extra routes). */
  get active (): number { return this.inFlight }

  begin (): void { this.inFlight++ }

  end (): void {
    if (--this.inFlight === 0 && this.idleWaiters.length > 0) {
      for (const w of this.idleWaiters.splice(0)) w()
    }
  }

  listen (host: string, port: number): Promise<{ address: string, port: number }> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err)
      this.server.once('error', onError)
      this.server.listen(port, host, () => {
        this.server.removeListener('error', onError)
        const a = this.server.address()
        if (a === null || typeof a === 'string') return reject(new Error('server has no TCP address'))
        resolve({ address: a.address, port: a.port })
      })
    })
  }

  /**
   * Stops accepting: the listening socket closes, idle keep-alive connections close, requests that
   * arrive on open connections get 503 shutting_down, and answers close their connection.
   */
  beginShutdown (): void {
    if (this.shuttingDown) return
    this.shuttingDown = true
    this.server.close()
    this.server.closeIdleConnections()
    endLingering(this.server)
  }

  /** Resolves true when no request is in progress, false if `deadline` (ms since epoch) came first. */
  async drained (deadline: number): Promise<boolean> {
    if (this.inFlight === 0) return true
    return new Promise<boolean>(resolve => {
      let done = false
      const waiter = (): void => { if (!done) { done = true; clearTimeout(timer); resolve(true) } }
      const timer = setTimeout(() => {
        if (done) return
        done = true
        this.idleWaiters = this.idleWaiters.filter(w => w !== waiter)
        resolve(false)
      }, Math.max(0, deadline - Date.now()))
      this.idleWaiters.push(waiter)
    })
  }

  /** Closes every connection at once (after the grace period). */
  destroyConnections (): void {
    this.server.closeAllConnections()
  }

  private route (req: IncomingMessage, res: ServerResponse): void {
    // A request parsed from what a sender sends after its refused body: the connection is closing.
    if (isLingering(req.socket)) return void req.socket.destroy()
    const url = req.url ?? '/'
    const q = url.indexOf('?')
    const path = q < 0 ? url : url.slice(0, q)
    const method = req.method ?? 'GET'

    if (path === WRITE_PATH) {
      if (method !== 'POST') return this.refuse(req, res, path, new IngestError('method_not_allowed', `${method} is not allowed on ${path}; use POST`), 'POST')
      if (this.shuttingDown) return this.refuse(req, res, path, new IngestError('shutting_down', 'the service is shutting down and takes no new requests'))
      return this.write.handle(req, res)
    }
    if (path === '/healthz') return this.health(req, res, path, method, true, 'ok')
    if (path === '/readyz') {
      const ready = !this.shuttingDown && this.deps.ready()
      return this.health(req, res, path, method, ready, ready ? 'ready' : this.shuttingDown ? 'shutting down' : 'not ready: the worker pool or the sink is not up')
    }
    if (path === '/metrics') {
      if (method !== 'GET' && method !== 'HEAD') return this.refuse(req, res, path, new IngestError('method_not_allowed', `${method} is not allowed on ${path}; use GET`), 'GET, HEAD')
      if (!this.deps.auth.check(req)) return this.refuse(req, res, path, new IngestError('unauthorized', 'missing or wrong credentials'))
      void this.metrics(res, path)
      return
    }
    const extra = this.routes.get(`${method} ${path}`) ?? this.prefixRoute(method, path)
    if (extra !== undefined) {
      if (extra.access === 'read' && this.deps.readAuth !== undefined) {
        const refused = this.deps.readAuth.check(req)
        if (refused !== undefined) return this.refuse(req, res, path, refused)
      } else if (!this.deps.auth.check(req)) {
        return this.refuse(req, res, path, new IngestError('unauthorized', 'missing or wrong credentials'))
      }
      void this.extra(extra, req, res)
      return
    }
    this.refuse(req, res, path, new IngestError('not_found', `no such path: ${path}`))
  }

  private prefixRoute (method: string, path: string): HttpRoute | undefined {
    for (const r of this.routes.values()) if (r.prefix === true && r.method === method && path.startsWith(r.path)) return r
    return undefined
  }

  private health (req: IncomingMessage, res: ServerResponse, path: string, method: string, ok: boolean, text: string): void {
    if (method !== 'GET' && method !== 'HEAD') return this.refuse(req, res, path, new IngestError('method_not_allowed', `${method} is not allowed on ${path}; use GET`), 'GET, HEAD')
    if (!ok) {
      // Not ready is an error answer like the others (503 with Retry-After).
      this.count(path, sendError(res, new IngestError(this.shuttingDown ? 'shutting_down' : 'not_ready', text), this.deps.policy, this.shuttingDown))
      return
    }
    res.statusCode = 200
    res.setHeader('Content-Type', 'text/plain; charset=utf-8')
    if (this.shuttingDown) res.setHeader('Connection', 'close')
    res.end(text + '\n')
    this.count(path, res.statusCode)
  }

  private async metrics (res: ServerResponse, path: string): Promise<void> {
    try {
      const text = await this.deps.registry.metrics()
      res.statusCode = 200
      res.setHeader('Content-Type', this.deps.registry.contentType)
      if (this.shuttingDown) res.setHeader('Connection', 'close')
      res.end(text)
      this.count(path, 200)
    } catch (err) {
      this.deps.logger.error({ err: toIngestError(err).message }, 'collecting metrics failed')
      this.count(path, sendError(res, toIngestError(err), this.deps.policy, this.shuttingDown))
    }
  }

  private async extra (route: HttpRoute, req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.begin()
    try {
      await route.handle(req, res)
      this.count(route.path, res.statusCode)
    } catch (err) {
      // An answer before the whole body was read closes the connection: the rest of the body is never read.
      this.count(route.path, sendError(res, toIngestError(err), this.deps.policy, this.shuttingDown || !req.complete))
    } finally {
      this.end()
    }
  }

  private refuse (req: IncomingMessage, res: ServerResponse, path: string, err: IngestError, allow?: string): void {
    if (allow !== undefined) res.setHeader('Allow', allow)
    // Every answer to a 2.0 write carries the written counts, here none.
    if (path === WRITE_PATH && versionOfContentType(req.headers['content-type']) === '2.0') setWrittenHeaders(res, 0, 0, 0)
    // A body of a refused request is drained by Node when it is small and declared; otherwise the connection closes.
    const cl = req.headers['content-length']
    const close = this.shuttingDown || (req.method !== 'GET' && req.method !== 'HEAD' && (cl === undefined ? req.headers['transfer-encoding'] !== undefined : Number(cl) > DRAIN_LIMIT_BYTES))
    const status = sendError(res, err, this.deps.policy, close)
    this.count(path === WRITE_PATH || path === '/metrics' || path === '/healthz' || path === '/readyz' || this.routes.has(`${req.method ?? 'GET'} ${path}`) ? path : 'other', status)
    if (path === WRITE_PATH) this.deps.metrics.rejected.inc({ reason: err.code })
  }

  private count (path: string, status: number): void {
    this.deps.metrics.requests.inc({ path, code: String(status), version: 'none' })
  }
}
