/**
 * Stale markers and other NaN payloads keep their exact bits through the DuckDB sink: into the
 * database (both from the write-ahead log after a crash and from checkpointed, compressed storage)
 * and back out. Bits are read from DuckDB's raw result vectors, never through a JavaScript number.
 */
import { spawn } from 'node:child_process'
import { statSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { encode1, type Float, type WriteRequest1 } from '../../fixtures/encode.js'
import { databaseFile } from '../../../src/sinks/duckdb/open-database.js'
import { ensureWorkerBuilt, openSink, readBits, removeTempDirs, ROOT, tempDir, TestDecoder } from './helpers.js'

afterAll(removeTempDirs)

const T = Date.UTC(2025, 1, 1)

/** Bits of every value in the order written (timestamps T, T+1, ...). */
const BITS = [
  0x7ff0000000000002n, // Prometheus stale marker
  0x7ff8000000000001n, // Prometheus' "normal" NaN
  0x7ff8000000000abcn, // a quiet NaN with a payload
  0xfff8000000000000n, // negative NaN
  0x7ff0000000000001n, // signalling NaN, lowest payload
  0x8000000000000000n, // -0
  0x3ff8000000000000n, // 1.5
  0x7ff0000000000000n //  +Inf
]

function request (): WriteRequest1 {
  const values: Float[] = BITS.map(bits => ({ bits }))
  return {
    timeseries: [
      { labels: [['__name__', 'stale_test'], ['job', 'bits']], samples: values.map((value, i) => ({ value, timestamp: T + i })) },
      {
        labels: [['__name__', 'stale_histogram'], ['job', 'bits']],
        histograms: [{ kind: 'int', count: 0, sum: { bits: BITS[0]! }, schema: 0, zeroThreshold: 0, zeroCount: 0, negativeSpans: [], negativeBuckets: [], positiveSpans: [], positiveBuckets: [], resetHint: 0, timestamp: T, customValues: [] }]
      }
    ]
  }
}

describe('stale markers through the DuckDB sink', () => {
  it('keep their bits in checkpointed storage (after close)', async () => {
    const dir = tempDir()
    const d = new TestDecoder()
    const batch = d.batch(encode1(request()).body)
    // The decoder copied the request's bytes: the batch holds the stale marker as sent.
    expect(batch.valueBits(0)).toBe(BITS[0])
    const sink = await openSink(dir, { index: d.index })
    await sink.write(batch)
    await sink.close() // checkpoints: values are compressed into the file
    expect(await readBits(dir, 'SELECT value FROM samples ORDER BY ts')).toEqual(BITS)
    expect(await readBits(dir, 'SELECT sum FROM histograms')).toEqual([BITS[0]])
    // And SQL sees them as NaN, as a Prometheus reader expects.
    expect((await readBits(dir, "SELECT value FROM samples WHERE isnan(value) ORDER BY ts")).length).toBe(5)
  })

  it('keep their bits when replayed from the write-ahead log after a crash', async () => {
    ensureWorkerBuilt()
    const dir = tempDir()
    // A child process writes the batch, sees the write resolve (committed), and is killed before it
    // can close or checkpoint: the rows exist only in the WAL.
    const script = `
      import { Decoder } from ${JSON.stringify(join(ROOT, 'dist/src/decode/decoder.js'))}
      import { resolveDecodeOptions } from ${JSON.stringify(join(ROOT, 'dist/src/decode/options.js'))}
      import { SeriesIndex } from ${JSON.stringify(join(ROOT, 'dist/src/series/series-index.js'))}
      import { RowBatch } from ${JSON.stringify(join(ROOT, 'dist/src/batch/row-batch.js'))}
      import { createDuckDbSink } from ${JSON.stringify(join(ROOT, 'dist/src/sinks/duckdb/index.js'))}
      const body = Buffer.from(process.argv[1], 'base64')
      const index = SeriesIndex.create({ maxSeries: 1024 })
      const { buffer } = new Decoder(index).decode(body, resolveDecodeOptions({ compressed: false }))
      const sink = createDuckDbSink({ dataDir: process.argv[2], commitInterval: 5, commitMaxRows: 1e6, retentionMs: 0, index, checkpointThreshold: '1GB' })
      await sink.start()
      await sink.write(new RowBatch(buffer, { tenant: '' }, index))
      process.stdout.write('committed\\n')
      process.kill(process.pid, 'SIGKILL')
    `
    const body = Buffer.from(encode1(request()).body).toString('base64')
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, body, dir], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (b: Buffer) => { out += b.toString() })
    child.stderr.on('data', (b: Buffer) => { err += b.toString() })
    const signal = await new Promise<NodeJS.Signals | null>(resolve => child.on('exit', (_code, s) => resolve(s)))
    expect(err).toBe('')
    expect(out).toBe('committed\n')
    expect(signal).toBe('SIGKILL')
    expect(statSync(`${databaseFile(dir)}.wal`).size).toBeGreaterThan(0) // the rows are in the log, not yet checkpointed
    expect(await readBits(dir, 'SELECT value FROM samples ORDER BY ts')).toEqual(BITS)
    expect(await readBits(dir, 'SELECT sum FROM histograms')).toEqual([BITS[0]])
  })
})
