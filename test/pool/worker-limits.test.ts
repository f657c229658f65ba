import { Worker } from 'node:worker_threads'
import { describe, expect, it } from 'vitest'
import { workerResourceLimits } from '../../src/pool/worker-limits.js'

describe('workerResourceLimits', () => {
  it('is empty when unset or 0 (V8\'s own young generation)', () => {
    expect(workerResourceLimits(undefined)).toEqual({})
    expect(workerResourceLimits(0)).toEqual({})
  })

  it('gives the young generation in whole MiB, at least 1', () => {
    expect(workerResourceLimits(8 << 20)).toEqual({ resourceLimits: { maxYoungGenerationSizeMb: 8 } })
    expect(workerResourceLimits(1000)).toEqual({ resourceLimits: { maxYoungGenerationSizeMb: 1 } })
  })

  it('reaches the worker: it runs with that limit', async () => {
    const worker = new Worker("require('node:worker_threads').parentPort.postMessage(require('node:worker_threads').resourceLimits)", { eval: true, ...workerResourceLimits(6 << 20) })
    const limits = await new Promise<{ maxYoungGenerationSizeMb: number }>((resolve, reject) => { worker.once('message', resolve); worker.once('error', reject) })
    await worker.terminate()
    expect(limits.maxYoungGenerationSizeMb).toBe(6)
  })
})
