/**
 * freeBuffers: the memory of each buffer is given back at once (not at the next garbage collection),
 * and the buffer is left detached; detached buffers and an empty list are accepted.
 */
import { describe, expect, it } from 'vitest'
import { freeBuffers } from '../../src/batch/free-buffers.js'

const MiB = 2 ** 20

describe('freeBuffers', () => {
  it('gives the memory back before it returns, and leaves the buffers detached', () => {
    const buffers = [new ArrayBuffer(16 * MiB), new ArrayBuffer(16 * MiB)]
    const view = new Float64Array(buffers[0]!)
    view[0] = 1
    const held = process.memoryUsage().arrayBuffers
    freeBuffers(buffers)
    // No garbage collection runs in between (none is asked for, and this is synchronous): only freeing does this.
    expect(held - process.memoryUsage().arrayBuffers).toBeGreaterThanOrEqual(32 * MiB)
    expect(buffers.map(b => b.byteLength)).toEqual([0, 0])
    expect(view.length).toBe(0)
  })

  it('skips buffers that are already detached, and works again after', () => {
    const a = new ArrayBuffer(8 * MiB)
    freeBuffers([a])
    freeBuffers([a, new ArrayBuffer(0)])
    freeBuffers([])
    const b = new ArrayBuffer(8 * MiB)
    const held = process.memoryUsage().arrayBuffers
    freeBuffers([b, a])
    expect(held - process.memoryUsage().arrayBuffers).toBeGreaterThanOrEqual(8 * MiB)
    expect(b.byteLength).toBe(0)
  })
})
