/**
 * The store's log (duckdb-ack log, src/sinks/duckdb/store-log.ts) through the DuckDB sink: a write is
 * acknowledged once its body is in the log, reads wait for the commit of what was acknowledged before
 * them, and what DuckDB did not commit is stored again from the log by the next replay, once.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { RowBatch } from '../../../src/batch/row-batch.js'
import { IngestError } from '../../../src/errors.js'
import type { DuckDbSink } from '../../../src/sinks/duckdb/duckdb-sink.js'
import { STORE_LOG_DIR } from '../../../src/sinks/duckdb/store-log.js'
import type { BodyDecoder } from '../../../src/sinks/sink.js'
import { encode1, type LabelPair } from '../../fixtures/encode.js'
import { openSink, removeTempDirs, rows, tempDir, TestDecoder } from './helpers.js'

afterAll(removeTempDirs)

const T = Date.UTC(2025, 5, 1)
const SERIES = 50

/** Request k: SERIES series of its own, one sample each. The log keeps the body as given (uncompressed here: the decoder below reads it so). */
function body (k: number): Uint8Array {
  return encode1({
    timeseries: Array.from({ length: SERIES }, (_, i) => ({
      labels: [['__name__', 'store_log_test'], ['request', String(k)], ['i', String(i)]] as LabelPair[],
      samples: [{ value: k * 100 + i, timestamp: T + k }]
    }))
  }).body
}

/** A write as the receiver makes it: the batch and the body it came from. */
async function write (sink: DuckDbSink, decoder: TestDecoder, k: number): Promise<void> {
  const b = body(k)
  await sink.write(decoder.batch(b), { bytes: b, version: '1.0', tenant: '' })
}

function replayDecoder (decoder: TestDecoder): BodyDecoder & { calls: number } {
  const decode = async (b: Uint8Array, _version: '1.0' | '2.0', tenant: string): Promise<RowBatch> => {
    decode.calls++
    return decoder.batch(b, { tenant })
  }
  decode.calls = 0
  return decode
}

async function count (sink: DuckDbSink): Promise<{ samples: number, rows: number }> {
  const [r] = await rows(sink, 'SELECT (SELECT count(*) FROM samples) AS samples, (SELECT count(*) FROM sample_rows) AS rows')
  return { samples: Number(r!.samples), rows: Number(r!.rows) }
}

describe('duckdb-ack log', () => {
  it('refuses writes until the log was replayed, then acknowledges at the log; a read sees every acknowledged write', async () => {
    const dir = tempDir()
    const decoder = new TestDecoder()
    const sink = await openSink(dir, { index: decoder.index, ack: 'log', thread: 'main' })
    try {
      expect(sink.ready()).toBe(false)
      const early = write(sink, decoder, 0)
      await expect(early).rejects.toThrow(IngestError)
      await expect(early).rejects.toMatchObject({ code: 'sink_failed' })
      await sink.replay(replayDecoder(decoder))
      expect(sink.ready()).toBe(true)
      for (let k = 1; k <= 4; k++) await write(sink, decoder, k)
      // The transaction gathers batches for LOG_COMMIT_INTERVAL_MS; the read asks for the commit and waits for it.
      expect(await count(sink)).toEqual({ samples: 4 * SERIES, rows: 4 * SERIES })
    } finally {
      await sink.close()
    }
    // Committed, every record is behind the log's cursor: the next start reads none back.
    const next = new TestDecoder()
    const again = await openSink(dir, { index: next.index, ack: 'log', thread: 'main' })
    try {
      const decode = replayDecoder(next)
      await again.replay(decode)
      expect(decode.calls).toBe(0)
      expect(await count(again)).toEqual({ samples: 4 * SERIES, rows: 4 * SERIES })
    } finally {
      await again.close()
    }
  })

  it('a read asks the open transaction to commit instead of waiting out its interval', async () => {
    const dir = tempDir()
    const decoder = new TestDecoder()
    // An hour between commits: only the read's request for a commit (commit-now) can make the rows visible within the test.
    const sink = await openSink(dir, { index: decoder.index, ack: 'log', thread: 'worker', commitInterval: 3_600_000 })
    try {
      await sink.replay(replayDecoder(decoder))
      await Promise.all([1, 2, 3].map(async k => { await write(sink, decoder, k) }))
      expect(await count(sink)).toEqual({ samples: 3 * SERIES, rows: 3 * SERIES })
      await write(sink, decoder, 4)
      expect(await count(sink)).toEqual({ samples: 4 * SERIES, rows: 4 * SERIES })
    } finally {
      await sink.close()
    }
  })

  it('stores again, once, what was acknowledged but not committed when the sink stopped', async () => {
    const dir = tempDir()
    const first = new TestDecoder()
    // Every commit fails: the writes are acknowledged at the log all the same, and DuckDB holds none of them.
    const a = await openSink(dir, { index: first.index, ack: 'log', thread: 'main', faults: { failCommits: 1_000 } })
    await a.replay(replayDecoder(first))
    // Sent together, all six are acknowledged before the transaction holding them commits (and fails).
    await Promise.all([1, 2, 3, 4, 5, 6].map(async k => { await write(a, first, k) }))
    await a.close()

    // The next start (a fresh series index, as a new process has) stores the log again before any write.
    const second = new TestDecoder()
    const b = await openSink(dir, { index: second.index, ack: 'log', thread: 'main' })
    const decode = replayDecoder(second)
    await b.replay(decode)
    expect(decode.calls).toBeGreaterThanOrEqual(6)
    expect(await count(b)).toEqual({ samples: 6 * SERIES, rows: 6 * SERIES })
    await b.close()

    // Committed, the records are behind the log's cursor: the third start reads nothing back and stores nothing twice.
    const third = new TestDecoder()
    const c = await openSink(dir, { index: third.index, ack: 'log', thread: 'main' })
    const none = replayDecoder(third)
    await c.replay(none)
    expect(none.calls).toBe(0)
    expect(await count(c)).toEqual({ samples: 6 * SERIES, rows: 6 * SERIES })
    await c.close()
  })

  it('does not store twice what DuckDB committed before the log\'s cursor moved (a process killed between the two)', async () => {
    const dir = tempDir()
    const cursorFile = join(dir, STORE_LOG_DIR, 'cursors', 'duckdb')
    const first = new TestDecoder()
    const a = await openSink(dir, { index: first.index, ack: 'log', thread: 'main' })
    await a.replay(replayDecoder(first))
    await write(a, first, 0)
    expect((await count(a)).samples).toBe(SERIES)
    await a.close()
    const before = readFileSync(cursorFile) // the cursor after request 0

    const second = new TestDecoder()
    const b = await openSink(dir, { index: second.index, ack: 'log', thread: 'worker' })
    await b.replay(replayDecoder(second))
    for (let k = 1; k <= 6; k++) await write(b, second, k)
    expect((await count(b)).samples).toBe(7 * SERIES) // committed
    await b.close()
    // As if the process had died after DuckDB's COMMIT and before the cursor file was written.
    writeFileSync(cursorFile, before)

    const third = new TestDecoder()
    const c = await openSink(dir, { index: third.index, ack: 'log', thread: 'main' })
    const decode = replayDecoder(third)
    await c.replay(decode)
    expect(decode.calls).toBe(0) // DuckDB's mark is past all six
    expect(await count(c)).toEqual({ samples: 7 * SERIES, rows: 7 * SERIES })
    await write(c, third, 7)
    expect(await count(c)).toEqual({ samples: 8 * SERIES, rows: 8 * SERIES })
    await c.close()
    expect(readFileSync(cursorFile).equals(before)).toBe(false) // the cursor moved up to the mark
  })

  it('stores the log again while running when a transaction of acknowledged writes failed', async () => {
    const dir = tempDir()
    const decoder = new TestDecoder()
    // The first two commits fail: the writes in them are acknowledged, and the sink stores the log again by itself.
    const sink = await openSink(dir, { index: decoder.index, ack: 'log', thread: 'worker', faults: { failCommits: 2 } })
    try {
      const decode = replayDecoder(decoder)
      await sink.replay(decode)
      for (let k = 1; k <= 3; k++) await write(sink, decoder, k)
      // The read asks for the commit, which fails; the sink stores the log again (that commit fails too,
      // the next, 0.1 s later, works), and the read waits for it: it sees every acknowledged write.
      expect((await count(sink)).samples).toBe(3 * SERIES)
      expect(decode.calls).toBeGreaterThanOrEqual(3)
      expect(sink.ready()).toBe(true)
      await write(sink, decoder, 4)
      expect((await count(sink)).samples).toBe(4 * SERIES)
    } finally {
      await sink.close()
    }
  })
})
