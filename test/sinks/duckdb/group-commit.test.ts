/**
 * Group commit: many writes share one transaction and each resolves only after it committed; the
 * size limit commits early; a failed transaction rejects every write in it, leaves nothing behind,
 * and the next transaction works; close() commits what is pending.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { IngestError } from '../../../src/errors.js'
import { encode1, type LabelPair } from '../../fixtures/encode.js'
import { openSink, removeTempDirs, rows, tempDir, TestDecoder } from './helpers.js'

afterAll(removeTempDirs)

const T = Date.UTC(2025, 2, 1)

/** A body of `n` series `name{i="k"}` with one sample each at `ts`. */
function body (name: string, n: number, ts: number, first = 0): Uint8Array {
  return encode1({
    timeseries: Array.from({ length: n }, (_, k) => ({
      labels: [['__name__', name], ['i', String(first + k)]] as LabelPair[],
      samples: [{ value: first + k, timestamp: ts }]
    }))
  }).body
}

async function count (sink: Parameters<typeof rows>[0], table: string): Promise<number> {
  return (await rows(sink, `SELECT count(*) AS n FROM ${table}`))[0]!.n as number
}

describe('group commit', () => {
  it('many concurrent writes share one transaction, and each resolves only after it committed', async () => {
    const d = new TestDecoder()
    // No interval or quiet commit within the test (an hour): the 20th write's rows reach commit-max-rows.
    const sink = await openSink(tempDir(), { index: d.index, commitInterval: 3_600_000, commitQuiet: 3_600_000, commitMaxRows: 1000 })
    const before = await sink.stats()
    let countAtFirstAnswer: Promise<number> | undefined
    let resolved = 0
    const write = (w: number): Promise<void> => sink.write(d.batch(body('g', 50, T + w, 0))).then(() => {
      resolved++
      countAtFirstAnswer ??= count(sink, 'samples')
    })
    const writes = Array.from({ length: 19 }, (_, w) => write(w))
    // 19 writes (950 rows) are in the open transaction: its rows are invisible and no write has been
    // answered, as a query that reaches the store after them shows.
    expect(await count(sink, 'samples')).toBe(0)
    expect(resolved).toBe(0)
    writes.push(write(19))
    await Promise.all(writes)
    // When the first write was answered, every row of all 20 was already committed.
    expect(await countAtFirstAnswer).toBe(1000)
    const after = await sink.stats()
    expect(after.commits - before.commits).toBe(1)
    expect(after.rowsCommitted - before.rowsCommitted).toBe(1000)
    expect(await count(sink, 'series')).toBe(50)
    await sink.close()
  })

  it('commits as soon as commit-max-rows rows wait, without waiting for the interval', async () => {
    const d = new TestDecoder()
    const sink = await openSink(tempDir(), { index: d.index, commitInterval: 3_600_000, commitQuiet: 3_600_000, commitMaxRows: 300 })
    // Three writes of 100 rows reach the limit: they are committed long before the hour is over.
    await Promise.all([0, 1, 2].map(w => sink.write(d.batch(body('m', 100, T + w)))))
    expect(await count(sink, 'samples')).toBe(300)
    // A fourth waits for the interval (a query that reaches the store after it sees it uncommitted); close() commits it.
    let fourth = false
    const w4 = sink.write(d.batch(body('m', 100, T + 3))).then(() => { fourth = true })
    expect(await count(sink, 'samples')).toBe(300)
    expect(fourth).toBe(false)
    await sink.close()
    await w4
    expect(fourth).toBe(true)
  })

  it('a failed transaction rejects every write in it with a retryable sink_failed, stores nothing, and the next one works', async () => {
    const d = new TestDecoder()
    const dir = tempDir()
    const sink = await openSink(dir, { index: d.index, commitInterval: 200, commitQuiet: 200, faults: { failCommits: 1 } })
    // Five writes in one transaction; the first carries 30 new series, the others known ones too.
    const first = await Promise.allSettled(Array.from({ length: 5 }, (_, w) => sink.write(d.batch(body('f', 30, T + w)))))
    expect(first.map(r => r.status)).toEqual(['rejected', 'rejected', 'rejected', 'rejected', 'rejected'])
    for (const r of first) {
      const e = (r as PromiseRejectedResult).reason as IngestError
      expect(e).toBeInstanceOf(IngestError)
      expect(e.code).toBe('sink_failed')
      expect(e.status).toBe(503)
      expect(e.retryable).toBe(true)
      expect(e.message).toMatch(/injected commit failure/)
    }
    expect(await count(sink, 'samples')).toBe(0)
    expect(await count(sink, 'series')).toBe(0)
    expect(sink.ready()).toBe(true)

    // The decoder knows these series now, so the next batches do not carry their labels: the sink
    // must see that their rows were rolled back and insert them from the series index.
    const next = d.batch(body('f', 30, T + 100))
    expect(next.newSeriesCount).toBe(0)
    await Promise.all([sink.write(next), sink.write(d.batch(body('f', 30, T + 101)))])
    expect(await count(sink, 'samples')).toBe(60)
    expect(await rows(sink, "SELECT count(*) AS n, count(DISTINCT labels['i']) AS distinct_i FROM series WHERE metric = 'f'")).toEqual([{ n: 30, distinct_i: 30 }])
    expect(await count(sink, 'samples_with_labels')).toBe(60) // every sample finds its series
    const stats = await sink.stats()
    expect(stats.failedCommits).toBe(1)
    await sink.close()
  })

  it('commits once no batch arrived for commit-quiet ms, long before the interval', async () => {
    const d = new TestDecoder()
    const sink = await openSink(tempDir(), { index: d.index, commitInterval: 3_600_000, commitQuiet: 5 })
    // Each write waits for its answer before the next is sent, as a Prometheus shard does: with only
    // the interval, each would wait an hour.
    for (let w = 0; w < 5; w++) await sink.write(d.batch(body('q', 10, T + w)))
    expect(await count(sink, 'samples')).toBe(50)
    await sink.close()
  })

  it('close() commits what is pending before it resolves, and later writes are refused', async () => {
    const d = new TestDecoder()
    const dir = tempDir()
    const sink = await openSink(dir, { index: d.index, commitInterval: 3_600_000, commitQuiet: 3_600_000 })
    const w = sink.write(d.batch(body('c', 10, T)))
    await sink.close()
    await expect(w).resolves.toBeUndefined()
    expect(sink.ready()).toBe(false)
    await expect(sink.write(d.batch(body('c', 10, T + 1)))).rejects.toMatchObject({ code: 'sink_failed' })
    const again = await openSink(dir, { index: new TestDecoder().index })
    expect(await count(again, 'samples')).toBe(10)
    await again.close()
  })
})
