/**
 * Retention deletes samples, histograms and exemplars older than the cutoff, metadata not seen since,
 * and series with nothing left; it keeps the rest; a deleted series comes back (same id) when it is
 * written again; and it runs on its own schedule.
 */
import { afterAll, describe, expect, it } from 'vitest'
import type { SinkLogger } from '../../../src/sinks/duckdb/duckdb-sink.js'
import { encode1, type Histogram, type LabelPair, type TimeSeries1 } from '../../fixtures/encode.js'
import { openSink, removeTempDirs, rows, tempDir, TestDecoder } from './helpers.js'

afterAll(removeTempDirs)

const HOUR = 3_600_000

const hist = (timestamp: number): Histogram => ({
  kind: 'float', count: 1, sum: 1, schema: 0, zeroThreshold: 0, zeroCount: 0, negativeSpans: [], negativeBuckets: [],
  positiveSpans: [{ offset: 0, length: 1 }], positiveBuckets: [1], resetHint: 0, timestamp, customValues: []
})
const labels = (name: string): LabelPair[] => [['__name__', name], ['job', 'ret']]

describe('retention', () => {
  it('deletes what is older than the cutoff and series with nothing left, and keeps the rest', async () => {
    const now = Date.now()
    // Retention runs "3 h from now" with a 1 h retention: the cutoff is now + 2 h.
    const runAt = now + 3 * HOUR
    const oldTs = now
    const newTs = now + 2.5 * HOUR
    const d = new TestDecoder()
    const sink = await openSink(tempDir(), { index: d.index, retentionMs: HOUR, retentionIntervalMs: 24 * HOUR })
    const timeseries: TimeSeries1[] = [
      { labels: labels('only_old'), samples: [{ value: 1, timestamp: oldTs }], exemplars: [{ labels: [['trace_id', 'x']], value: 1, timestamp: oldTs }] },
      { labels: labels('mixed'), samples: [{ value: 1, timestamp: oldTs }, { value: 2, timestamp: newTs }], exemplars: [{ labels: [['trace_id', 'y']], value: 2, timestamp: newTs }] },
      { labels: labels('only_new'), samples: [{ value: 3, timestamp: newTs }] },
      { labels: labels('hist_old'), histograms: [hist(oldTs)] },
      { labels: labels('hist_mixed'), histograms: [hist(oldTs), hist(newTs)] }
    ]
    const batch = d.batch(encode1({ timeseries, metadata: [{ type: 2, family: 'mixed', help: 'h', unit: '' }] }).body)
    const ids = Array.from(batch.seriesRefs)
    await sink.write(batch)

    const result = await sink.retention(runAt)
    expect(result).toMatchObject({ cutoffMs: runAt - HOUR, samples: 2, histograms: 2, exemplars: 1, metadata: 1 })
    expect(result.seriesIds.sort((x, y) => x - y)).toEqual([ids[0], ids[3]].sort((x, y) => x! - y!))

    expect(await rows(sink, 'SELECT metric, value FROM samples_with_labels ORDER BY metric')).toEqual([{ metric: 'mixed', value: 2 }, { metric: 'only_new', value: 3 }])
    expect(await rows(sink, 'SELECT metric, epoch_ms(ts) AS ts FROM histograms_with_labels')).toEqual([{ metric: 'hist_mixed', ts: newTs }])
    expect(await rows(sink, "SELECT exemplar_labels['trace_id'] AS trace FROM exemplars_with_labels")).toEqual([{ trace: 'y' }])
    expect(await rows(sink, 'SELECT metric FROM series ORDER BY metric')).toEqual([{ metric: 'hist_mixed' }, { metric: 'mixed' }, { metric: 'only_new' }])
    expect(await rows(sink, 'SELECT count(*) AS n FROM metadata')).toEqual([{ n: 0 }])

    // The deleted series is written again (the decoder knows it, so the batch does not carry its
    // labels): the sink forgot it was stored and stores its row again, under the same id.
    const back = d.batch(encode1({ timeseries: [{ labels: labels('only_old'), samples: [{ value: 9, timestamp: newTs + 1 }] }] }).body)
    expect(back.newSeriesCount).toBe(0)
    await sink.write(back)
    expect(await rows(sink, "SELECT series_id, value FROM samples_with_labels WHERE metric = 'only_old'")).toEqual([{ series_id: ids[0], value: 9 }])
    await sink.close()
  })

  // Depends on time by design: retention runs every retention-interval (100 ms here) by the clock.
  // The test waits for the run's log line, not for a time.
  it('runs on its schedule', async () => {
    const now = Date.now()
    const d = new TestDecoder()
    let ran!: (obj: object) => void
    const deleted = new Promise<object>(resolve => { ran = resolve })
    const note = (obj: object, msg?: string): void => { if (msg === 'retention deleted old rows') ran(obj) }
    const logger: SinkLogger = { debug: note, info: note, warn: note, error: note }
    const sink = await openSink(tempDir(), { index: d.index, logger, retentionMs: HOUR, retentionIntervalMs: 100 })
    await sink.write(d.batch(encode1({ timeseries: [{ labels: labels('sched'), samples: [{ value: 1, timestamp: now - 2 * HOUR }, { value: 2, timestamp: now }] }] }).body))
    expect(await deleted).toMatchObject({ samples: 1, series: 0 })
    expect(await rows(sink, 'SELECT value FROM samples')).toEqual([{ value: 2 }])
    await sink.close()
  })
})
