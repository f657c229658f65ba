/**
 * The store's DuckDB settings: the defaults it opens with are the settings' defaults (one schema),
 * and duckdb-memory-limit, duckdb-threads and duckdb-checkpoint-threshold reach the database the
 * sink runs on.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { SETTINGS } from '../../../src/config/schema.js'
import { DEFAULT_CHECKPOINT_THRESHOLD, DEFAULT_MEMORY_LIMIT, DEFAULT_THREADS, duckDbBytes } from '../../../src/sinks/duckdb/duckdb-store.js'
import { openSink, removeTempDirs, rows, tempDir } from './helpers.js'

afterAll(() => removeTempDirs())

/** DuckDB's own view of a setting, through the sink's read-only query path. */
async function setting (sink: Awaited<ReturnType<typeof openSink>>, name: string): Promise<string> {
  const r = await rows(sink, `SELECT current_setting('${name}')::VARCHAR AS v`)
  return String(r[0]!.v)
}

describe('the store\'s DuckDB settings', () => {
  it('defaults to the settings\' defaults', () => {
    expect(SETTINGS.duckdbMemoryLimit.default).toBe(duckDbBytes(DEFAULT_MEMORY_LIMIT))
    expect(SETTINGS.duckdbThreads.default).toBe(DEFAULT_THREADS)
    expect(SETTINGS.duckdbCheckpointThreshold.default).toBe(duckDbBytes(DEFAULT_CHECKPOINT_THRESHOLD))
  })

  it('opens with the default memory limit, thread count and checkpoint threshold when none is given', async () => {
    // openSink lays the given options over TEST_SINK: undefined takes TEST_SINK's own away.
    const sink = await openSink(tempDir(), { threads: undefined, memoryLimit: undefined })
    try {
      // DuckDB shows the limit in MiB with one decimal: compare within that rounding.
      const limit = duckDbBytes((await setting(sink, 'memory_limit')).replace(/\s/g, ''))!
      expect(Math.abs(limit - duckDbBytes(DEFAULT_MEMORY_LIMIT)!)).toBeLessThan(2 ** 20 / 10)
      expect(await setting(sink, 'threads')).toBe(String(DEFAULT_THREADS))
      expect(duckDbBytes((await setting(sink, 'checkpoint_threshold')).replace(/\s/g, ''))).toBe(duckDbBytes(DEFAULT_CHECKPOINT_THRESHOLD))
    } finally {
      await sink.close()
    }
  })

  it('takes the thread count and checkpoint threshold it is given (0 threads: one per core, DuckDB\'s own)', async () => {
    const sink = await openSink(tempDir(), { threads: 2, checkpointThreshold: '40MiB' })
    try {
      expect(await setting(sink, 'threads')).toBe('2')
      expect(await setting(sink, 'checkpoint_threshold')).toBe('40.0 MiB')
    } finally {
      await sink.close()
    }
    const own = await openSink(tempDir(), { threads: 0 })
    try {
      expect(Number(await setting(own, 'threads'))).toBeGreaterThanOrEqual(1)
    } finally {
      await own.close()
    }
  })
})
