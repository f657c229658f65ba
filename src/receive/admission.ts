/**
 * Admission: how many write requests may be in progress at once, from the moment they are taken on
 * until they are answered (reading, decoding and waiting for the sink all count). Slots bound the
 * bodies being read and decoded; this bounds the batches waiting for a sink as well, so that a slow
 * sink turns into 503s with Retry-After instead of memory growth.
 *
 * A request that finds no permit waits in a FIFO queue up to its deadline, then gets 'saturated'.
 * The common case (a permit is free) allocates nothing.
 */
import { IngestError } from '../errors.js'

interface Waiter {
  resolve: () => void
  reject: (err: IngestError) => void
  timer: NodeJS.Timeout
}

export class Admission {
  private inUse = 0
  private readonly waiters: Waiter[] = []

  constructor (readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new IngestError('config_invalid', `max-in-flight must be a positive integer, got ${capacity}`)
  }

  /** Requests admitted and not yet answered. */
  get admitted (): number { return this.inUse }
  /** Requests waiting to be admitted. */
  get waiting (): number { return this.waiters.length }

  /** Takes a permit if one is free now. */
  tryAcquire (): boolean {
    if (this.inUse >= this.capacity || this.waiters.length > 0) return false
    this.inUse++
    return true
  }

  /** Waits up to `timeoutMs` for a permit; rejects with IngestError('saturated') after that. */
  acquire (timeoutMs: number): Promise<void> {
    if (this.tryAcquire()) return Promise.resolve()
    return new Promise<void>((resolve, reject) => {
      const w: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          const i = this.waiters.indexOf(w)
          if (i >= 0) this.waiters.splice(i, 1)
          reject(new IngestError('saturated', `the service is saturated: ${this.inUse} requests in progress (the most allowed), ${this.waiters.length} more waiting; none finished within ${Math.round(timeoutMs)} ms`))
        }, timeoutMs)
      }
      this.waiters.push(w)
    })
  }

  /** Gives a permit back; the longest waiter gets it. */
  release (): void {
    const w = this.waiters.shift()
    if (w !== undefined) {
      // The permit passes straight to the waiter: inUse stays the same.
      clearTimeout(w.timer)
      w.resolve()
      return
    }
    this.inUse--
  }

  /** Fails every waiter (shutdown). */
  rejectWaiting (err: IngestError): void {
    for (const w of this.waiters.splice(0)) { clearTimeout(w.timer); w.reject(err) }
  }
}
