/**
 * The DuckDB sink worker: the thread that owns the database file. It appends batches (moved here
 * from the main thread), runs the group commits, retention and queries, and reports back. Keeping
 * DuckDB's synchronous calls (appending data chunks, flushing appenders) here leaves the main
 * thread's event loop free for HTTP.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { freeBuffers } from '../../batch/free-buffers.js'
import { RowBatch } from '../../batch/row-batch.js'
import { IngestError, toIngestError } from '../../errors.js'
import { SeriesIndex } from '../../series/series-index.js'
import { DuckDbStore } from './duckdb-store.js'
import { QUERY_WINDOW, type Call, type FromWorker, type SinkWorkerData, type ToWorker } from './worker-messages.js'

const port = parentPort!
const data = workerData as SinkWorkerData
const index = data.index !== undefined ? SeriesIndex.attach(data.index) : undefined
const post = (m: FromWorker): void => port.postMessage(m)
/** The buffer of each write not settled yet, freed as soon as it settles (src/batch/free-buffers.ts). */
const buffers = new Map<number, ArrayBuffer>()

function settled (seqs: readonly number[]): void {
  const done: ArrayBuffer[] = []
  for (const seq of seqs) {
    const b = buffers.get(seq)
    if (b === undefined) continue
    buffers.delete(seq)
    done.push(b)
  }
  freeBuffers(done)
}

async function call (store: DuckDbStore, c: Call): Promise<unknown> {
  switch (c.kind) {
    case 'retention': return await store.retention(c.nowMs)
    case 'stats': return store.stats()
    case 'probe': return await store.probe()
    case 'commit-now': store.commitNow(); return undefined
    case 'compact': return await store.compact(c.request)
    case 'read': return await store.remoteRead(c.request)
    case 'log-start': return await store.logStart(c.cursor, c.head)
  }
}

async function main (): Promise<void> {
  let store: DuckDbStore | undefined
  try {
    const opened = await DuckDbStore.open({
      ...data.options,
      ...(index !== undefined ? { index } : {}),
      log: (level, msg, obj) => post({ t: 'log', level, msg, obj }),
      // DuckDB cannot go on with this database: close it and end the thread; the sink starts a new one.
      onInvalidated: () => { store?.abandon(); setTimeout(() => process.exit(71), 20) }
    }, r => {
      post({ t: 'settled', seqs: r.seqs, rows: r.rows, transactionMs: r.transactionMs, commitMs: r.commitMs, error: r.error?.toWire() })
      settled(r.seqs)
    })
    store = opened.store
    post({ t: 'ready', loaded: opened.loaded })
  } catch (err) {
    post({ t: 'start-failed', error: toIngestError(err).toWire() })
    return
  }

  /** Running queries: parts they may still send before a query-pull, and who waits for one. */
  const queries = new Map<number, { credit: number, wake: (() => void) | undefined, cancelled: boolean, readonly stop: AbortController }>()
  let writes = 0
  const exitAt = data.options.faults?.exitWorkerAtWrite
  const running = store // narrowed: the message handler below runs only once the store is open
  port.on('message', (m: ToWorker) => {
    switch (m.t) {
      case 'write':
        if (++writes === exitAt) process.exit(70) // a fault on purpose (tests): the thread dies mid-stream
        buffers.set(m.seq, m.buffer)
        running.submit(m.seq, new RowBatch(m.buffer, m.meta, index), m.log)
        break
      case 'log-pass':
        running.passLog(m.range)
        break
      case 'call':
        call(running, m.call).then(
          // A remote-read answer's body is moved, not copied.
          value => m.call.kind === 'read' ? port.postMessage({ t: 'reply', id: m.id, value } satisfies FromWorker, [(value as { body: Uint8Array }).body.buffer as ArrayBuffer]) : post({ t: 'reply', id: m.id, value }),
          err => post({ t: 'reply', id: m.id, error: toIngestError(err).toWire() }))
        break
      case 'query': {
        const q = { credit: QUERY_WINDOW, wake: undefined as (() => void) | undefined, cancelled: false, stop: new AbortController() }
        queries.set(m.id, q)
        const gone = (): IngestError => new IngestError('query_failed', 'the query was stopped: its answer is no longer wanted (the client went away)')
        store.streamQuery(m.sql, m.format, async text => {
          if (q.cancelled) throw gone()
          post({ t: 'query-part', id: m.id, text })
          if (--q.credit <= 0) await new Promise<void>(resolve => { q.wake = resolve })
          if (q.cancelled) throw gone()
        }, q.stop.signal).then(
          summary => post({ t: 'query-end', id: m.id, summary }),
          err => post({ t: 'query-end', id: m.id, error: toIngestError(err).toWire() })
        ).finally(() => queries.delete(m.id))
        break
      }
      case 'query-pull':
      case 'query-cancel': {
        const q = queries.get(m.id)
        if (q === undefined) break
        if (m.t === 'query-pull') q.credit++
        else { q.cancelled = true; q.stop.abort() }
        const wake = q.wake
        q.wake = undefined
        wake?.()
        break
      }
      case 'close':
        running.close().then(
          () => { post({ t: 'closed' }); port.close() },
          err => { post({ t: 'log', level: 'error', msg: 'closing the DuckDB store failed', obj: { reason: (err as Error).message } }); post({ t: 'closed' }); port.close() })
        break
    }
  })
}

void main()
