/**
 * The main thread's side of the forward worker (src/forward/send-worker.ts, workers/forward-worker.ts):
 * starts it with a snapshot of the log and each destination's committed position, tells it of every
 * durable group and release (a LogWatcher), persists the commits it sends back (the cursor files and
 * segment deletion stay with the log's owner, this thread), and turns its figures and log lines into
 * metrics and log lines here.
 *
 * A worker that exits unexpectedly is started again (after the shortest retry backoff) from the
 * committed positions: what it had read but not committed is read and sent again (at least once).
 */
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { IngestError } from '../errors.js'
import type { Logger } from '../logger.js'
import type { DurableLog, LogCursor } from '../queue/durable-log.js'
import { DEFAULT_RING_BYTES, type LogRing } from '../queue/log-ring.js'
import type { Backoff } from './answer-table.js'
import type { Destination } from './destinations.js'
import { applyDelta } from './figures-relay.js'
import type { DestinationFigures } from './metrics.js'
import type { FromWorker, SendWorkerInit, ToWorker } from './worker-protocol.js'

export interface SendThreadOptions {
  readonly log: DurableLog
  readonly destinations: readonly Destination[]
  /** Each destination's cursor in the log, in destination order. */
  readonly cursors: readonly LogCursor[]
  readonly figures: readonly DestinationFigures[]
  readonly backoff: Backoff
  readonly tenantHeader: string
  readonly transcode: boolean
  readonly logger: Logger
  /** Bytes of the newest records kept in memory for the worker (src/queue/log-ring.ts; 0: none, every record is read from the files). */
  readonly ringBytes?: number
}

/** The compiled worker: beside this file's build when built, under dist/ when running from sources (tests). */
function workerFile (): string {
  const built = fileURLToPath(new URL('../../workers/forward-worker.js', import.meta.url))
  if (existsSync(built)) return built
  const fromSources = fileURLToPath(new URL('../../dist/workers/forward-worker.js', import.meta.url))
  if (existsSync(fromSources)) return fromSources
  throw new IngestError('internal', `forward worker not found at ${built} nor ${fromSources}: run \`npm run build\``)
}

export class SendThread {
  private worker: Worker | undefined
  private closing = false
  private stopWatching: (() => void) | undefined
  /** Commits are persisted one after the other, in the order the worker made them. */
  private commits: Promise<void> = Promise.resolve()
  private closed: (() => void) | undefined
  private restartTimer: NodeJS.Timeout | undefined
  private readonly byName: Map<string, { index: number, cursor: LogCursor, figures: DestinationFigures }>
  private ring: LogRing | undefined
  /**
   * Per destination, the worker's last commit as heard here: the worker is done with the bytes before
   * it, so the ring may overwrite them. Unlike the cursor's position, a drop-oldest does not move it
   * (the worker may still be sending a record that was dropped).
   */
  private readonly holds: number[]

  constructor (private readonly o: SendThreadOptions) {
    this.byName = new Map(o.destinations.map((d, i) => [d.name, { index: i, cursor: o.cursors[i]!, figures: o.figures[i]! }]))
    this.holds = o.cursors.map(c => c.position)
  }

  /** Starts the worker; resolves once its senders run. */
  async start (): Promise<void> {
    const ringBytes = this.o.ringBytes ?? DEFAULT_RING_BYTES
    if (this.ring === undefined && ringBytes > 0) this.ring = this.o.log.keepInMemory(ringBytes, () => this.floor())
    this.stopWatching ??= this.o.log.watch({
      appended: (segments, records, ringFrom) => this.post({ t: 'appended', segments, records, ringFrom }),
      released: tail => this.post({ t: 'released', tail }),
      // The worker may still read what it has not committed (a drop-oldest moves only the cursor): no recycling under it.
      floor: () => this.floor()
    })
    await this.spawn()
  }

  /** The lowest position the worker may still read: the ring overwrites only what lies before it. */
  private floor (): number {
    let min = Infinity
    for (const h of this.holds) if (h < min) min = h
    return min
  }

  /** A drop-oldest in this thread moved a cursor on: the worker skips what was dropped. */
  moved (name: string, position: number): void {
    this.post({ t: 'moved', name, position })
  }

  private post (m: ToWorker): void {
    this.worker?.postMessage(m)
  }

  private spawn (): Promise<void> {
    const { o } = this
    const positions = o.cursors.map(c => c.position)
    // A new worker starts at the committed positions (never behind the holds: those only lag them).
    for (let i = 0; i < positions.length; i++) this.holds[i] = Math.max(this.holds[i]!, positions[i]!)
    const init: SendWorkerInit = {
      snapshot: o.log.snapshot(),
      positions,
      destinations: o.destinations,
      backoff: o.backoff,
      tenantHeader: o.tenantHeader,
      transcode: o.transcode,
      ring: this.ring?.share()
    }
    const worker = new Worker(workerFile(), { workerData: init, stdout: false, stderr: false })
    this.worker = worker
    return new Promise<void>((resolve, reject) => {
      let started = false
      worker.on('message', (m: FromWorker) => {
        if (m.t === 'started') { started = true; resolve(); return }
        this.onMessage(m)
      })
      worker.on('error', err => {
        o.logger.error({ err: err.stack ?? err.message }, 'forward worker failed')
      })
      worker.on('exit', code => {
        if (this.worker === worker) this.worker = undefined
        if (!started) { reject(new IngestError('internal', `the forward worker stopped before it started (exit code ${code})`)); return }
        if (this.closing) { this.closed?.(); return }
        o.logger.error({ code }, 'forward worker stopped unexpectedly; starting it again from the committed positions')
        this.restartTimer = setTimeout(() => {
          this.restartTimer = undefined
          if (!this.closing) this.spawn().catch(err => o.logger.error({ err: (err as Error).message }, 'forward worker could not be started again'))
        }, o.backoff.minMs)
      })
    })
  }

  private onMessage (m: FromWorker): void {
    const { o } = this
    switch (m.t) {
      case 'progress': {
        for (const [name, position] of m.commits) this.committed(name, position)
        for (const delta of m.figures) { const d = this.byName.get(delta.destination); if (d !== undefined) applyDelta(d.figures, delta) }
        break
      }
      case 'damaged': o.log.damagedElsewhere(m.file, m.position, m.bytes, m.cursor); break
      case 'log': o.logger[m.level](m.obj, m.msg); break
      case 'closed': this.closed?.(); break
      case 'started': break
    }
  }

  /** The worker committed `position` for destination `name`: the ring may overwrite what is before it; persisted in order. */
  private committed (name: string, position: number): void {
    const { o } = this
    const d = this.byName.get(name)
    if (d === undefined) return
    if (position > this.holds[d.index]!) this.holds[d.index] = position
    this.commits = this.commits.then(async () => await d.cursor.commit(position)).catch(err => {
      // Not persisted: after a restart these records are sent again (at least once).
      o.logger.error({ destination: name, err: (err as Error).message }, 'forward queue: a delivered position could not be written to the cursor file')
    })
  }

  /** Stops the senders (what is not delivered stays in the queue) and persists their last commits. */
  async close (): Promise<void> {
    this.closing = true
    this.stopWatching?.()
    if (this.restartTimer !== undefined) clearTimeout(this.restartTimer)
    const worker = this.worker
    if (worker !== undefined) {
      const done = new Promise<void>(resolve => { this.closed = resolve })
      worker.postMessage({ t: 'close' } satisfies ToWorker)
      await done
      await worker.terminate()
    }
    await this.commits
  }
}
