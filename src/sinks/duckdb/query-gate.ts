/**
 * How many queries run at once, and how many may wait for a turn. A query beyond both is refused at
 * once with 503 query_queue_full (retryable, with Retry-After), and so is a waiting query that got no
 * turn within `waitMs`: a client learns early that the store is busy, instead of waiting behind a
 * queue of slow queries for minutes.
 */
import { IngestError, type ErrorCode } from '../../errors.js'

export interface QueryGateOptions {
  /** Queries that run at once (the store has one reader connection for each). */
  readonly concurrency: number
  /** Queries that may wait for a turn. */
  readonly queue: number
  /** Longest a query waits for a turn, ms. */
  readonly waitMs: number
  /** The refusal (default query_queue_full, named by the query settings); remote reads have their own. */
  readonly refusal?: { readonly code: ErrorCode, readonly one: string, readonly many: string, readonly setting: string, readonly queueSetting: string }
}

const QUERY_REFUSAL = { code: 'query_queue_full', one: 'query', many: 'queries', setting: 'query-concurrency', queueSetting: 'query-queue' } as const

/** Leaves the gate: the next waiting query gets the turn. Call exactly once. */
export type Leave = () => void

interface Waiter { readonly admit: (leave: Leave) => void, readonly timer: NodeJS.Timeout }

export class QueryGate {
  private active = 0
  private readonly waiters: Waiter[] = []

  constructor (private readonly o: QueryGateOptions) {}

  get running (): number { return this.active }
  get waiting (): number { return this.waiters.length }

  /** Resolves when the query may run; throws query_queue_full when the queue is full or the wait too long. */
  async enter (signal?: AbortSignal): Promise<Leave> {
    if (signal?.aborted === true) throw new IngestError('query_failed', 'the query was given up before it ran (the client went away)')
    if (this.active < this.o.concurrency) {
      this.active++
      return this.leaver()
    }
    const r = this.o.refusal ?? QUERY_REFUSAL
    if (this.waiters.length >= this.o.queue) {
      throw new IngestError(r.code, `the ${r.one} was refused: ${this.active} ${r.many} are running and ${this.waiters.length} are waiting (${r.setting} ${this.o.concurrency}, ${r.queueSetting} ${this.o.queue}); retry later`)
    }
    return await new Promise<Leave>((resolve, reject) => {
      const out = (err: IngestError): void => {
        const i = this.waiters.indexOf(waiter)
        if (i >= 0) this.waiters.splice(i, 1)
        clearTimeout(waiter.timer)
        signal?.removeEventListener('abort', given)
        reject(err)
      }
      const given = (): void => out(new IngestError('query_failed', 'the query was given up while it waited for a turn (the client went away)'))
      const waiter: Waiter = {
        admit: leave => { signal?.removeEventListener('abort', given); resolve(leave) },
        timer: setTimeout(() => out(new IngestError(r.code, `the ${r.one} waited ${Math.round(this.o.waitMs / 1000)} s (query-timeout) for a turn and got none: ${this.active} ${r.many} are running; retry later`)), this.o.waitMs)
      }
      signal?.addEventListener('abort', given)
      this.waiters.push(waiter)
    })
  }

  private leaver (): Leave {
    let left = false
    return () => {
      if (left) return
      left = true
      const next = this.waiters.shift()
      if (next === undefined) { this.active--; return }
      clearTimeout(next.timer)
      next.admit(this.leaver()) // the turn passes on: `active` stays the same
    }
  }
}
