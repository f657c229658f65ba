/**
 * The main thread's pool of SharedArrayBuffer regions ("slots") that request bodies are streamed
 * into and decode workers read in place.
 *
 * Layout: one SharedArrayBuffer per size class, cut into `count` slots of `bytes` each; slot i of a
 * class is bytes [i * bytes, (i + 1) * bytes). Only the main thread writes a slot (the body, while it
 * streams in); the worker that decodes it only reads, and the slot is not handed out again before
 * that worker is done (the task settled). The buffers are given to every worker once, at start-up
 * (workerData): a task names a slot by class and index, it never carries a buffer.
 *
 * Memory is bounded by the slots: a request that finds none free waits in a FIFO queue for at most
 * its timeout, then gets IngestError('saturated'). Pages of a slot are only resident once a body has
 * been written there.
 */
import { IngestError } from '../errors.js'

export interface SlotClassConfig {
  /** Capacity of each slot of the class, bytes. */
  readonly bytes: number
  /** Number of slots of the class. */
  readonly count: number
}

export interface Slot {
  /** Index of the slot's class in the pool's classes. */
  readonly classIndex: number
  /** Index of the slot in its class. */
  readonly index: number
  /** The slot's bytes: a view of the shared buffer (borrowed until `release`). */
  readonly bytes: Uint8Array
  /** Gives the slot back. Idempotent. */
  release(): void
}

interface Waiter {
  readonly need: number
  readonly resolve: (slot: Slot) => void
  readonly reject: (err: IngestError) => void
  timer: NodeJS.Timeout | undefined
  done: boolean
  onAbort: (() => void) | undefined
  signal: AbortSignal | undefined
}

class SlotClass {
  readonly buffer: SharedArrayBuffer
  readonly free: number[] = []
  constructor (readonly config: SlotClassConfig) {
    this.buffer = new SharedArrayBuffer(config.bytes * config.count)
    for (let i = config.count - 1; i >= 0; i--) this.free.push(i)
  }
}

export class SlotPool {
  private readonly classes: SlotClass[]
  private readonly waiters: Waiter[] = []
  private inUse = 0

  constructor (classes: readonly SlotClassConfig[]) {
    if (classes.length === 0) throw new IngestError('config_invalid', 'the slot pool needs at least one slot class')
    for (const c of classes) {
      if (!Number.isInteger(c.bytes) || c.bytes < 1024) throw new IngestError('config_invalid', `slot size must be an integer of at least 1024 bytes, got ${c.bytes}`)
      if (!Number.isInteger(c.count) || c.count < 0) throw new IngestError('config_invalid', `slot count must be a non-negative integer, got ${c.count}`)
    }
    this.classes = [...classes].filter(c => c.count > 0).sort((a, b) => a.bytes - b.bytes).map(c => new SlotClass(c))
    if (this.classes.length === 0) throw new IngestError('config_invalid', 'the slot pool has no slots')
  }

  /** The shared buffers, one per class, in class order (for workerData). */
  get buffers (): SharedArrayBuffer[] { return this.classes.map(c => c.buffer) }
  /** Largest body a slot can hold. */
  get maxSlotBytes (): number { return this.classes[this.classes.length - 1]!.config.bytes }
  /** Slot capacity of the smallest class. */
  get minSlotBytes (): number { return this.classes[0]!.config.bytes }
  get total (): number { return this.classes.reduce((n, c) => n + c.config.count, 0) }
  get used (): number { return this.inUse }
  get waiting (): number { return this.waiters.length }

  /**
   * A free slot of at least `need` bytes: the smallest class that has one free. When none is free,
   * waits up to `timeoutMs` (FIFO), then rejects with IngestError('saturated'); rejects at once with
   * 'body_too_large' when no class is big enough.
   */
  acquire (need: number, timeoutMs: number, signal?: AbortSignal): Promise<Slot> {
    if (need > this.maxSlotBytes) return Promise.reject(new IngestError('body_too_large', `the body of ${need} bytes is larger than the largest slot (${this.maxSlotBytes} bytes)`))
    const slot = this.take(need)
    if (slot !== undefined) return Promise.resolve(slot)
    return new Promise<Slot>((resolve, reject) => {
      const w: Waiter = { need, resolve, reject, timer: undefined, done: false, onAbort: undefined, signal }
      w.timer = setTimeout(() => {
        this.drop(w)
        reject(new IngestError('saturated', `no slot of ${need} bytes became free within ${Math.round(timeoutMs)} ms: ${this.inUse} of ${this.total} slots in use, ${this.waiters.length} requests waiting`))
      }, timeoutMs)
      if (signal !== undefined) {
        w.onAbort = () => {
          this.drop(w)
          reject(new IngestError('body_incomplete', 'the request was closed while it waited for a slot'))
        }
        signal.addEventListener('abort', w.onAbort, { once: true })
      }
      this.waiters.push(w)
    })
  }

  /** Fails every waiting request (shutdown). */
  rejectWaiting (err: IngestError): void {
    for (const w of this.waiters.splice(0)) { this.settle(w); w.reject(err) }
  }

  private take (need: number): Slot | undefined {
    for (let ci = 0; ci < this.classes.length; ci++) {
      const c = this.classes[ci]!
      if (c.config.bytes < need || c.free.length === 0) continue
      const index = c.free.pop()!
      this.inUse++
      return this.makeSlot(ci, index)
    }
    return undefined
  }

  private makeSlot (classIndex: number, index: number): Slot {
    const c = this.classes[classIndex]!
    let released = false
    return {
      classIndex,
      index,
      bytes: new Uint8Array(c.buffer, index * c.config.bytes, c.config.bytes),
      release: () => {
        if (released) return
        released = true
        this.inUse--
        c.free.push(index)
        this.wake()
      }
    }
  }

  /** Hands freed slots to waiters, first come first served among those a free slot fits. */
  private wake (): void {
    for (let i = 0; i < this.waiters.length; i++) {
      const w = this.waiters[i]!
      const slot = this.take(w.need)
      if (slot === undefined) continue
      this.waiters.splice(i, 1)
      this.settle(w)
      w.resolve(slot)
      return
    }
  }

  private drop (w: Waiter): void {
    const i = this.waiters.indexOf(w)
    if (i >= 0) this.waiters.splice(i, 1)
    this.settle(w)
  }

  private settle (w: Waiter): void {
    if (w.done) return
    w.done = true
    if (w.timer !== undefined) clearTimeout(w.timer)
    if (w.signal !== undefined && w.onAbort !== undefined) w.signal.removeEventListener('abort', w.onAbort)
  }
}
