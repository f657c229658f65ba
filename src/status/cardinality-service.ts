/**
 * The main thread's side of the cardinality figures: one worker thread (workers/status-worker.ts),
 * started at the first request, that walks the series index; answers cached for `cacheMs`, and one
 * computation per distinct query at a time (callers of the same query share it). A page load costs the
 * main thread a message and a JSON answer, never the walk.
 *
 * The worker dies with its error answered as 503 status_unavailable; the next request starts another.
 */
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { IngestError, type WireError } from '../errors.js'
import type { SeriesIndexShared } from '../series/series-index.js'
import type { IdMarks, TsdbQuery, TsdbStatus } from './cardinality.js'
import { queryKey } from './tsdb-query.js'

export interface StatusWorkerRequest {
  readonly id: number
  readonly query: TsdbQuery
  readonly marks: IdMarks
  readonly headTimes: { minTime: number, maxTime: number }
  readonly now: number
}

export type StatusWorkerAnswer =
  | { readonly id: number, readonly ok: true, readonly status: TsdbStatus }
  | { readonly id: number, readonly ok: false, readonly error: WireError }

/** The compiled worker: beside this file when built, under dist/ when running from sources (tests). */
function workerFile (): string {
  const built = fileURLToPath(new URL('../../workers/status-worker.js', import.meta.url))
  if (existsSync(built)) return built
  const fromSources = fileURLToPath(new URL('../../dist/workers/status-worker.js', import.meta.url))
  if (existsSync(fromSources)) return fromSources
  throw new IngestError('status_unavailable', `status worker not found at ${built} nor ${fromSources}: run \`npm run build\``)
}

export interface CardinalitySource {
  readonly index: SeriesIndexShared
  /** When ids were handed out (ingest-history.ts). */
  marks(): IdMarks
  /** headStats' minTime and maxTime. */
  headTimes(): { minTime: number, maxTime: number }
}

interface Cached { readonly at: number, readonly status: TsdbStatus }

/** Most distinct queries kept in the cache. */
const CACHE_ENTRIES = 64

export class CardinalityService {
  private worker: Worker | undefined
  private nextId = 1
  private readonly pending = new Map<number, { resolve(s: TsdbStatus): void, reject(e: Error): void }>()
  private readonly running = new Map<string, Promise<TsdbStatus>>()
  private readonly cache = new Map<string, Cached>()
  private closed = false

  constructor (private readonly source: CardinalitySource, private readonly cacheMs = 5000) {}

  /** The figures for `q`, and when they were computed (ms); from the cache when younger than cacheMs. */
  async status (q: TsdbQuery): Promise<{ status: TsdbStatus, computedAt: number }> {
    const key = queryKey(q)
    const hit = this.cache.get(key)
    const now = Date.now()
    if (hit !== undefined && now - hit.at < this.cacheMs) return { status: hit.status, computedAt: hit.at }
    let run = this.running.get(key)
    if (run === undefined) {
      run = this.compute(q, now)
      this.running.set(key, run)
      const done = (): void => { this.running.delete(key) }
      run.then(done, done)
    }
    const status = await run
    this.cache.delete(key)
    if (this.cache.size >= CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value!)
    this.cache.set(key, { at: now, status })
    return { status, computedAt: now }
  }

  private compute (query: TsdbQuery, now: number): Promise<TsdbStatus> {
    if (this.closed) return Promise.reject(new IngestError('shutting_down', 'the service is shutting down'))
    const worker = this.ensureWorker()
    const id = this.nextId++
    const req: StatusWorkerRequest = { id, query, marks: this.source.marks(), headTimes: this.source.headTimes(), now }
    return new Promise<TsdbStatus>((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      worker.postMessage(req)
    })
  }

  private ensureWorker (): Worker {
    if (this.worker !== undefined) return this.worker
    const worker = new Worker(workerFile(), { workerData: { index: this.source.index } })
    worker.unref() // the service's life is decided elsewhere; an idle status worker keeps nothing alive
    worker.on('message', (a: StatusWorkerAnswer) => {
      const p = this.pending.get(a.id)
      if (p === undefined) return
      this.pending.delete(a.id)
      if (a.ok) p.resolve(a.status)
      else p.reject(IngestError.fromWire(a.error))
    })
    const fail = (why: string): void => {
      if (this.worker !== worker) return
      this.worker = undefined
      for (const p of this.pending.values()) p.reject(new IngestError('status_unavailable', `the status worker stopped (${why}); it is started again on the next request`))
      this.pending.clear()
    }
    worker.on('error', err => fail(err.message))
    worker.on('exit', code => fail(`exit code ${code}`))
    this.worker = worker
    return worker
  }

  /** Stops the worker; requests waiting for it get 503. */
  async close (): Promise<void> {
    this.closed = true
    const w = this.worker
    if (w !== undefined) await w.terminate()
  }
}
