/**
 * The messages between the forward sink (main thread: appends and fsyncs the log, owns the cursor
 * files and the metrics) and the forward worker (reads the log through its mirror, sends to the
 * destinations): src/forward/send-thread.ts and src/forward/send-worker.ts.
 */
import type { Destination } from './destinations.js'
import type { Backoff } from './answer-table.js'
import type { LogSnapshot } from '../queue/durable-log.js'
import type { RingShare } from '../queue/log-ring.js'
import type { FiguresDelta } from './figures-relay.js'

/** workerData of the forward worker. */
export interface SendWorkerInit {
  readonly snapshot: LogSnapshot
  /** Each destination's committed position, in destination order. */
  readonly positions: readonly number[]
  readonly destinations: readonly Destination[]
  readonly backoff: Backoff
  readonly tenantHeader: string
  /** Whether records may be converted or split (the batch encoder is available). */
  readonly transcode: boolean
  /** The log's newest records in memory (src/queue/log-ring.ts), when it keeps them. */
  readonly ring?: RingShare | undefined
}

/** Main thread to worker. */
export type ToWorker =
  | { readonly t: 'appended', readonly segments: ReadonlyArray<{ base: number, file: string }>, readonly records: Float64Array, readonly ringFrom?: number | undefined }
  | { readonly t: 'released', readonly tail: number }
  | { readonly t: 'moved', readonly name: string, readonly position: number }
  | { readonly t: 'close' }

/** Worker to main thread. */
export type FromWorker =
  | { readonly t: 'started' }
  /**
   * What the senders did since the last such message, gathered over one turn of the worker's event
   * loop (one message, not one per record): each destination's newest commit, and the figures.
   */
  | { readonly t: 'progress', readonly commits: ReadonlyArray<readonly [string, number]>, readonly figures: readonly FiguresDelta[] }
  | { readonly t: 'damaged', readonly file: string, readonly position: number, readonly bytes: number, readonly cursor: string }
  | { readonly t: 'log', readonly level: 'info' | 'warn' | 'error', readonly obj: object, readonly msg: string }
  | { readonly t: 'closed' }
