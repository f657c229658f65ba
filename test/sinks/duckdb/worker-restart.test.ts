/**
 * The sink worker dies: every write waiting for it is answered with a retryable sink_failed, the
 * sink is not ready until a new worker has opened the file again, and then writes succeed, with the
 * series stored before the death known (not stored twice).
 */
import { afterAll, describe, expect, it } from 'vitest'
import type { SinkLogger } from '../../../src/sinks/duckdb/duckdb-sink.js'
import { encode1, type LabelPair } from '../../fixtures/encode.js'
import { openSink, removeTempDirs, rows, tempDir, TestDecoder } from './helpers.js'

afterAll(removeTempDirs)

const T = Date.UTC(2025, 7, 1)
const body = (ts: number): Uint8Array => encode1({
  timeseries: Array.from({ length: 20 }, (_, i) => ({ labels: [['__name__', 'w'], ['i', String(i)]] as LabelPair[], samples: [{ value: i, timestamp: ts }] }))
}).body

describe('sink worker death', () => {
  it('answers the waiting writes with sink_failed, restarts, and takes writes again', async () => {
    const d = new TestDecoder()
    // The sink logs when its new worker is up: the test waits for that line, not for a time.
    let startedAgain!: () => void
    const restarted = new Promise<void>(resolve => { startedAgain = resolve })
    const note = (_: object, msg?: string): void => { if (msg === 'DuckDB sink worker started again') startedAgain() }
    const logger: SinkLogger = { debug: note, info: note, warn: note, error: note }
    const sink = await openSink(tempDir(), { index: d.index, logger, faults: { exitWorkerAtWrite: 3 } })
    await sink.write(d.batch(body(T)))
    await sink.write(d.batch(body(T + 1)))
    // The third write kills the worker before it is stored.
    await expect(sink.write(d.batch(body(T + 2)))).rejects.toMatchObject({ code: 'sink_failed', retryable: true })
    expect(sink.ready()).toBe(false)
    await expect(sink.write(d.batch(body(T + 3)))).rejects.toMatchObject({ code: 'sink_failed' })
    await restarted
    expect(sink.ready()).toBe(true)
    expect(sink.loaded?.count).toBe(20) // the new worker loaded the series stored before
    await sink.write(d.batch(body(T + 4)))
    expect(await rows(sink, 'SELECT count(*) AS samples, count(DISTINCT series_id) AS series FROM samples')).toEqual([{ samples: 60, series: 20 }])
    expect(await rows(sink, 'SELECT count(*) AS n FROM series')).toEqual([{ n: 20 }])
    await sink.close()
  })
})
