/**
 * Where the store runs: in a dedicated worker thread (the default: DuckDB's synchronous appends and
 * flushes never block the main thread's event loop), or in-process on the calling thread (for tools
 * and for measuring the difference). Both take batches with a sequence number and report each
 * transaction's outcome through one callback.
 */
import { existsSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import type { RowBatch } from '../../batch/row-batch.js'
import { IngestError } from '../../errors.js'
import type { SeriesIndex } from '../../series/series-index.js'
import { workerResourceLimits } from '../../pool/worker-limits.js'
import { DuckDbStore, type LogFn, type StoreOptions } from './duckdb-store.js'
import type { CommitReport } from './group-commit.js'
import type { PartWriter, QuerySummary } from './query-guard.js'
import type { QueryFormat } from './result-format.js'
import type { LoadedSeries } from './series-loader.js'
import type { MarkRange } from './store-log-mark.js'
import type { Call, CallResult, FromWorker, SinkWorkerData, ToWorker } from './worker-messages.js'

export interface StoreHost {
  start(): Promise<LoadedSeries>
  /** Takes the batch; for the worker host its buffer is moved (the caller's views are detached). */
  submit(seq: number, batch: RowBatch, log?: MarkRange): void
  /** A store log record that will never be stored (duckdb-ack log): DuckDB's mark may pass it. */
  passLog(range: MarkRange): void
  call<K extends Call['kind']>(c: Extract<Call, { kind: K }>): Promise<CallResult[K]>
  /** Runs a read-only query; `write` gets its answer in parts, each awaited before more are sent. */
  streamQuery(sql: string, format: QueryFormat, write: PartWriter, signal?: AbortSignal): Promise<QuerySummary>
  close(): Promise<void>
}

export interface HostOptions {
  readonly store: Omit<StoreOptions, 'index' | 'log'>
  readonly index?: SeriesIndex | undefined
  /** V8 young-generation bytes of the worker thread (0 or absent: V8's default). */
  readonly youngGenerationBytes?: number | undefined
  readonly log: LogFn
  readonly onSettled: (report: CommitReport) => void
  /** Called when the host stops without being closed (the worker died). */
  readonly onLost: (error: IngestError) => void
}

export class InProcessHost implements StoreHost {
  private store: DuckDbStore | undefined
  constructor (private readonly o: HostOptions) {}

  async start (): Promise<LoadedSeries> {
    const onInvalidated = (error: IngestError): void => {
      this.store?.abandon()
      this.store = undefined
      this.o.onLost(error)
    }
    const { store, loaded } = await DuckDbStore.open({ ...this.o.store, ...(this.o.index !== undefined ? { index: this.o.index } : {}), log: this.o.log, onInvalidated }, this.o.onSettled)
    this.store = store
    return loaded
  }

  submit (seq: number, batch: RowBatch, log?: MarkRange): void {
    if (this.store === undefined) throw new IngestError('sink_failed', 'the DuckDB store is not open')
    this.store.submit(seq, batch, log)
  }

  passLog (range: MarkRange): void {
    if (this.store === undefined) throw new IngestError('sink_failed', 'the DuckDB store is not open')
    this.store.passLog(range)
  }

  async call<K extends Call['kind']> (c: Extract<Call, { kind: K }>): Promise<CallResult[K]> {
    const store = this.store
    if (store === undefined) throw new IngestError('sink_failed', 'the DuckDB store is not open')
    const call = c as Call
    switch (call.kind) {
      case 'retention': return await store.retention(call.nowMs) as CallResult[K]
      case 'stats': return store.stats() as CallResult[K]
      case 'probe': return await store.probe() as CallResult[K]
      case 'commit-now': store.commitNow(); return undefined as CallResult[K]
      case 'compact': return await store.compact(call.request) as CallResult[K]
      case 'read': return await store.remoteRead(call.request) as CallResult[K]
      case 'log-start': return await store.logStart(call.cursor, call.head) as CallResult[K]
    }
  }

  async streamQuery (sql: string, format: QueryFormat, write: PartWriter, signal?: AbortSignal): Promise<QuerySummary> {
    return await this.store!.streamQuery(sql, format, write, signal)
  }

  async close (): Promise<void> { await this.store?.close() }
}

/**
 * The compiled worker file. From dist/ it sits beside this module; when this module runs from its
 * TypeScript source (tests), the compiled copy under dist/ is used (`npm run build` makes it).
 */
export function sinkWorkerFile (): string {
  const here = fileURLToPath(import.meta.url)
  if (here.endsWith('.js')) return join(dirname(here), 'sink-worker.js')
  const root = resolve(dirname(here), '../../..')
  const compiled = join(root, 'dist', relative(root, join(dirname(here), 'sink-worker.js')))
  if (!existsSync(compiled)) throw new IngestError('internal', `the DuckDB sink worker is not built (${compiled} is missing): run npm run build`)
  return compiled
}

export class WorkerHost implements StoreHost {
  private worker: Worker | undefined
  private nextCall = 1
  private readonly calls = new Map<number, { resolve: (v: unknown) => void, reject: (e: unknown) => void }>()
  private readonly queries = new Map<number, { write: PartWriter, taken: Promise<void>, failed: unknown, resolve: (s: QuerySummary) => void, reject: (e: unknown) => void }>()
  private closing = false
  private closedWaiter: (() => void) | undefined

  constructor (private readonly o: HostOptions) {}

  async start (): Promise<LoadedSeries> {
    const data: SinkWorkerData = { options: this.o.store, index: this.o.index?.shared }
    // No inherited execArgv: the parent's flags (--input-type, -e, test-runner loaders) mean nothing to this file.
    const worker = new Worker(sinkWorkerFile(), { workerData: data, name: 'prom-ingest-duckdb', execArgv: [], ...workerResourceLimits(this.o.youngGenerationBytes) })
    this.worker = worker
    return await new Promise<LoadedSeries>((resolve, reject) => {
      let started = false
      worker.on('message', (m: FromWorker) => {
        switch (m.t) {
          case 'ready': started = true; resolve(m.loaded); break
          case 'start-failed': reject(IngestError.fromWire(m.error)); void worker.terminate(); break
          case 'settled': this.o.onSettled({ seqs: m.seqs, rows: m.rows, transactionMs: m.transactionMs, commitMs: m.commitMs, error: m.error !== undefined ? IngestError.fromWire(m.error) : undefined }); break
          case 'reply': {
            const c = this.calls.get(m.id)
            this.calls.delete(m.id)
            if (m.error !== undefined) c?.reject(IngestError.fromWire(m.error))
            else c?.resolve(m.value)
            break
          }
          case 'query-part': this.queryPart(m.id, m.text); break
          case 'query-end': {
            const q = this.queries.get(m.id)
            this.queries.delete(m.id)
            if (q === undefined) break
            // Parts still being written come first; a writer that failed is the answer's failure.
            void q.taken.then(() => {
              if (q.failed !== undefined) q.reject(q.failed)
              else if (m.error !== undefined) q.reject(IngestError.fromWire(m.error))
              else q.resolve(m.summary!)
            })
            break
          }
          case 'log': this.o.log(m.level, m.msg, m.obj); break
          case 'closed': this.closedWaiter?.(); break
        }
      })
      worker.on('error', err => {
        if (!started) reject(new IngestError('sink_failed', `the DuckDB sink worker failed to start: ${err.message}`))
        else this.lost(new IngestError('sink_failed', `the DuckDB sink worker failed: ${err.message}`))
      })
      worker.on('exit', code => {
        this.worker = undefined
        this.closedWaiter?.()
        if (!started) reject(new IngestError('sink_failed', `the DuckDB sink worker exited (code ${code}) before it was ready`))
        else if (!this.closing) this.lost(new IngestError('sink_failed', `the DuckDB sink worker exited unexpectedly (code ${code})`))
      })
    })
  }

  submit (seq: number, batch: RowBatch, log?: MarkRange): void {
    const m: ToWorker = { t: 'write', seq, buffer: batch.buffer, meta: batch.meta, log }
    this.worker!.postMessage(m, [batch.buffer]) // moved: one transfer, no copy
  }

  passLog (range: MarkRange): void {
    const m: ToWorker = { t: 'log-pass', range }
    this.worker!.postMessage(m)
  }

  async call<K extends Call['kind']> (c: Extract<Call, { kind: K }>): Promise<CallResult[K]> {
    const worker = this.worker
    if (worker === undefined) throw new IngestError('sink_failed', 'the DuckDB sink worker is not running')
    const id = this.nextCall++
    return await new Promise<CallResult[K]>((resolve, reject) => {
      this.calls.set(id, { resolve: resolve as (v: unknown) => void, reject })
      const m: ToWorker = { t: 'call', id, call: c }
      worker.postMessage(m)
    })
  }

  async streamQuery (sql: string, format: QueryFormat, write: PartWriter, signal?: AbortSignal): Promise<QuerySummary> {
    const worker = this.worker
    if (worker === undefined) throw new IngestError('sink_failed', 'the DuckDB sink worker is not running')
    const id = this.nextCall++
    const cancel = (): void => { const m: ToWorker = { t: 'query-cancel', id }; this.worker?.postMessage(m) }
    signal?.addEventListener('abort', cancel)
    try {
      return await new Promise<QuerySummary>((resolve, reject) => {
        this.queries.set(id, { write, taken: Promise.resolve(), failed: undefined, resolve, reject })
        const m: ToWorker = { t: 'query', id, sql, format }
        worker.postMessage(m)
      })
    } finally {
      signal?.removeEventListener('abort', cancel)
    }
  }

  /** Hands a part to the query's writer in order; once taken, the worker may send one more. */
  private queryPart (id: number, text: string): void {
    const q = this.queries.get(id)
    if (q === undefined) return
    q.taken = q.taken.then(async () => {
      if (q.failed !== undefined) return
      try {
        await q.write(text)
        const m: ToWorker = { t: 'query-pull', id }
        this.worker?.postMessage(m)
      } catch (err) {
        q.failed = err
        const m: ToWorker = { t: 'query-cancel', id }
        this.worker?.postMessage(m)
      }
    })
  }

  async close (): Promise<void> {
    const worker = this.worker
    if (worker === undefined) return
    this.closing = true
    await new Promise<void>(resolve => {
      this.closedWaiter = resolve
      const m: ToWorker = { t: 'close' }
      worker.postMessage(m)
    })
    await worker.terminate()
  }

  private lost (error: IngestError): void {
    for (const c of this.calls.values()) c.reject(error)
    this.calls.clear()
    for (const q of this.queries.values()) q.reject(error)
    this.queries.clear()
    this.o.onLost(error)
  }
}
