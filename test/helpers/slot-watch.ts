/**
 * Tells an in-process test when the service's slots reach a state, as it happens: the pool's
 * `acquireSlot` and every slot's `release` are wrapped, and each change checks the waiting
 * conditions (no polling). The deadline is only a safety net that names what was awaited.
 */
import type { DecodePool } from '../../src/pool/decode-pool.js'
import type { Slot } from '../../src/pool/slot-pool.js'

export interface SlotCounts {
  /** Slots held now. */
  readonly inUse: number
  /** Slots handed out since the watch began. */
  readonly acquired: number
  /** Slots given back since the watch began. */
  readonly released: number
}

export interface SlotWatch {
  /** Resolves once `check` holds (at once if it does now); rejects after `timeoutMs`. */
  when(what: string, check: (c: SlotCounts) => boolean, timeoutMs?: number): Promise<void>
}

/** Watches `pool` from now on: call it before the requests it is to see. */
export function watchSlots (pool: DecodePool): SlotWatch {
  let acquired = 0
  let released = 0
  const counts = (): SlotCounts => ({ inUse: pool.stats().slotsInUse, acquired, released })
  const waiters = new Set<{ check: (c: SlotCounts) => boolean, resolve: () => void }>()
  const changed = (): void => {
    const c = counts()
    for (const w of waiters) if (w.check(c)) { waiters.delete(w); w.resolve() }
  }
  const acquire = pool.acquireSlot.bind(pool)
  pool.acquireSlot = async (byteLength, timeoutMs, signal) => {
    const slot = await acquire(byteLength, timeoutMs, signal)
    acquired++
    const release = slot.release
    let done = false
    const watched: Slot = {
      ...slot,
      release: () => {
        release()
        if (done) return // release is idempotent: count it once
        done = true
        released++
        changed()
      }
    }
    changed()
    return watched
  }
  return {
    async when (what, check, timeoutMs = 10_000) {
      if (check(counts())) return
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(w)
          reject(new Error(`slots: ${what} did not happen within ${timeoutMs} ms (${JSON.stringify(counts())})`))
        }, timeoutMs)
        const w = { check, resolve: () => { clearTimeout(timer); resolve() } }
        waiters.add(w)
      })
    }
  }
}
