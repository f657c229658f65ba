import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DecodePool } from '../../src/pool/decode-pool.js'
import { Decoder } from '../../src/decode/decoder.js'
import { resolveDecodeOptions } from '../../src/decode/options.js'
import { RowBatch } from '../../src/batch/row-batch.js'
import { SeriesIndex } from '../../src/series/series-index.js'
import { compressBody, encodeWriteRequest1, encodeRequest2, type TimeSeries1 } from '../fixtures/encode.js'

/** Body k of a family: series job=k%7, instance=i, one sample each; overlapping label sets across bodies. */
function series (k: number, n: number, name = 'pool_test_metric'): TimeSeries1[] {
  const out: TimeSeries1[] = []
  for (let i = 0; i < n; i++) {
    out.push({
      labels: [['__name__', name], ['instance', `host-${(i + k * 13) % 300}`], ['job', `job-${k % 7}`]],
      samples: [{ value: i + k / 10, timestamp: 1_700_000_000_000 + k * 1000 + i }]
    })
  }
  return out
}

function rows (batch: RowBatch): string[] {
  const out: string[] = []
  for (let i = 0; i < batch.sampleCount; i++) {
    out.push(`${JSON.stringify(batch.labelsOf(batch.seriesIds[i]!))} ${batch.timestamps[i]} ${batch.valueBits(i)}`)
  }
  return out
}

async function decodeInPool (pool: DecodePool, body: Uint8Array, version: '1.0' | '2.0'): Promise<RowBatch> {
  const slot = await pool.acquireSlot(body.length, 5_000)
  slot.bytes.set(body)
  return await pool.decode(slot, body.length, { version })
}

describe('decode pool', () => {
  let pool: DecodePool
  beforeAll(() => {
    pool = new DecodePool({ threads: 2, slotClasses: [{ bytes: 64 * 1024, count: 3 }, { bytes: 1024 * 1024, count: 1 }] })
  })
  afterAll(async () => { await pool.close() })

  it('gives the same rows as the single-thread decode, for many bodies at once through few slots', async () => {
    const bodies = Array.from({ length: 24 }, (_, k) => k % 2 === 0
      ? { version: '1.0' as const, body: compressBody(encodeWriteRequest1({ timeseries: series(k, 200) })) }
      : { version: '2.0' as const, body: compressBody(encodeRequest2({ timeseries: series(k, 200) })) })
    const batches = await Promise.all(bodies.map(b => decodeInPool(pool, b.body, b.version)))
    const local = new Decoder(SeriesIndex.create({ maxSeries: 10_000 }))
    for (let k = 0; k < bodies.length; k++) {
      const { buffer, firstError } = local.decode(bodies[k]!.body, resolveDecodeOptions({ version: bodies[k]!.version }))
      expect(firstError).toBeUndefined()
      const expected = new RowBatch(buffer, { tenant: '' }, local.index)
      expect(rows(batches[k]!)).toEqual(rows(expected))
      expect(batches[k]!.buffer).toBeInstanceOf(ArrayBuffer)
    }
    expect(pool.stats().slotsInUse).toBe(0)
  })

  it('gives one series one id whichever worker decodes it, and reports each new series once', async () => {
    const body = compressBody(encodeWriteRequest1({ timeseries: series(1000, 300, 'pool_identity_metric') }))
    const batches = await Promise.all(Array.from({ length: 8 }, () => decodeInPool(pool, body, '1.0')))
    const first = Array.from(batches[0]!.seriesIds)
    for (const b of batches) expect(Array.from(b.seriesIds)).toEqual(first)
    expect(new Set(first).size).toBe(300)
    const reportedNew = batches.reduce((n, b) => n + b.newSeriesCount, 0)
    expect(reportedNew).toBe(300) // the series were new to the process: each reported by exactly one batch
    const newIds = batches.flatMap(b => Array.from(b.newSeriesIds))
    expect(new Set(newIds).size).toBe(newIds.length) // never reported new twice
  })

  it('rejects a malformed body with its error code and keeps decoding others', async () => {
    const bad = new Uint8Array([0x05, 0x10, 0x0a, 0xff, 0xff]) // snappy: declares 5 bytes, literal overruns
    await expect(decodeInPool(pool, bad, '1.0')).rejects.toMatchObject({ code: 'snappy_malformed' })
    const good = compressBody(encodeWriteRequest1({ timeseries: series(3, 10) }))
    expect((await decodeInPool(pool, good, '1.0')).sampleCount).toBe(10)
  })

  it('fails the task of a worker that dies with worker_died, replaces the worker, and goes on', async () => {
    const big = compressBody(encodeWriteRequest1({ timeseries: series(7, 20_000) }))
    const slot = await pool.acquireSlot(big.length, 5_000)
    slot.bytes.set(big)
    const outcome = pool.decode(slot, big.length, { version: '1.0' }).then(() => 'decoded', (err: unknown) => err)
    await Promise.all(pool.workerThreads.map(t => t.terminate()))
    expect(await outcome).toMatchObject({ code: 'worker_died' })
    const good = compressBody(encodeWriteRequest1({ timeseries: series(8, 10) }))
    expect((await decodeInPool(pool, good, '1.0')).sampleCount).toBe(10)
    expect(pool.stats().workerRestarts).toBeGreaterThan(0)
    expect(pool.stats().slotsInUse).toBe(0)
  })

  it('answers saturated when no slot frees in time, and releases slots after use', async () => {
    const held = await Promise.all([pool.acquireSlot(1000, 100), pool.acquireSlot(1000, 100), pool.acquireSlot(1000, 100), pool.acquireSlot(1000, 100)])
    await expect(pool.acquireSlot(1000, 50)).rejects.toMatchObject({ code: 'saturated' })
    const waiting = pool.acquireSlot(1000, 5_000)
    held[0]!.release()
    const got = await waiting
    got.release()
    for (const s of held) s.release()
    expect(pool.stats().slotsInUse).toBe(0)
    await expect(pool.acquireSlot(2 * 1024 * 1024, 50)).rejects.toMatchObject({ code: 'body_too_large' })
  })
})
