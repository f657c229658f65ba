/**
 * The store's worker frees each batch's buffer as soon as its transaction settles, not at the next
 * garbage collection of its thread: after many committed writes its memory outside the JavaScript
 * heap holds no more than a few batches.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { encode1, type LabelPair } from '../../fixtures/encode.js'
import { openSink, removeTempDirs, tempDir, TestDecoder } from './helpers.js'

afterAll(removeTempDirs)

const T = Date.UTC(2025, 2, 1)
const SERIES = 20_000
const WRITES = 40

/** One sample for each of `SERIES` series at `ts`: a batch of about 0.6 MB. */
function body (ts: number): Uint8Array {
  return encode1({
    timeseries: Array.from({ length: SERIES }, (_, k) => ({
      labels: [['__name__', 'm'], ['i', String(k)]] as LabelPair[],
      samples: [{ value: k, timestamp: ts }]
    }))
  }).body
}

describe('the DuckDB sink worker', () => {
  it('frees committed batches at once: its external memory stays under a few batches', async () => {
    const d = new TestDecoder()
    const sink = await openSink(tempDir(), { index: d.index })
    try {
      let batchBytes = 0
      const b = body(T) // the same samples each time: the rows are stored again, which is all this needs
      for (let w = 0; w < WRITES; w++) {
        const batch = d.batch(b)
        batchBytes = batch.buffer.byteLength
        await sink.write(batch)
      }
      const stats = await sink.stats()
      // Without freeing, the 40 batches (24 MB) stay until the worker's next full collection, which
      // V8 starts only once external memory has grown by 64 MiB: every one of them would be counted.
      expect(batchBytes).toBeGreaterThan(500_000)
      expect(stats.rowsCommitted).toBe(SERIES * WRITES)
      expect(stats.externalBytes).toBeLessThan(batchBytes * WRITES / 4)
    } finally {
      await sink.close()
    }
  })
})
