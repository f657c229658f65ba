/**
 * Compaction of the DuckDB head into Parquet blocks, on the real store (worker thread, real files):
 * every sample, histogram and exemplar is read exactly once before and after, wherever it lives;
 * resent duplicates are dropped for good; late samples reach a second block of the same window;
 * stale markers keep their bits; retention drops whole blocks; a restart removes what a crash
 * leaves in the blocks directory; a moved data directory is read where it is now.
 */
import { existsSync, readdirSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { encode1, type Float, type TimeSeries1 } from '../../../fixtures/encode.js'
import { openSink, readBits, removeTempDirs, rows, tempDir, TestDecoder } from '../helpers.js'
import type { DuckDbSink } from '../../../../src/sinks/duckdb/duckdb-sink.js'

afterAll(removeTempDirs)

const WINDOW = 10_000
const T0 = Date.UTC(2025, 8, 1) // a window boundary (a multiple of 10 s)
const STALE = 0x7ff0000000000002n
const NOW = T0 + 10 * WINDOW // every window written below is closed at this time

/** 20 series x 30 samples every second from T0 (three windows), a stale marker last, one histogram and one exemplar per series. */
function load (): TimeSeries1[] {
  const floats: TimeSeries1[] = Array.from({ length: 20 }, (_, s) => ({
    labels: [['__name__', 'c_test'], ['s', String(s)]] as Array<[string, string]>,
    samples: Array.from({ length: 30 }, (_, i) => ({ value: (i === 29 ? { bits: STALE } : s * 1000 + i) as Float, timestamp: T0 + i * 1000 })),
    exemplars: [{ labels: [['trace_id', `t${s}`]] as Array<[string, string]>, value: s, timestamp: T0 + 500 }]
  }))
  const histograms: TimeSeries1[] = Array.from({ length: 5 }, (_, s) => ({
    labels: [['__name__', 'h_test'], ['s', String(s)]] as Array<[string, string]>,
    histograms: Array.from({ length: 25 }, (_, i) => ({
      kind: 'float' as const, count: i + 3, sum: i * 1.5, schema: 1, zeroThreshold: 0.001, zeroCount: 1, negativeSpans: [], negativeBuckets: [],
      positiveSpans: [{ offset: 0, length: 2 }], positiveBuckets: [i + 1, 1], resetHint: 2, timestamp: T0 + i * 1000, customValues: []
    }))
  }))
  return [...floats, ...histograms]
}

async function snapshot (sink: DuckDbSink): Promise<unknown> {
  return {
    samples: await rows(sink, 'SELECT count(*) AS n, count(DISTINCT (series_id, ts)) AS keys, sum(value) FILTER (WHERE NOT isnan(value)) AS total, count(*) FILTER (WHERE isnan(value)) AS stale FROM samples'),
    labelled: await rows(sink, "SELECT labels['s'] AS s, count(*) AS n, min(epoch_ms(ts)) AS first, max(epoch_ms(ts)) AS last FROM samples_with_labels GROUP BY 1 ORDER BY 1::INTEGER"),
    histograms: await rows(sink, 'SELECT series_id, epoch_ms(ts) AS t, kind, "count", "sum", "schema", zero_threshold, zero_count, reset_hint, positive_spans, positive_counts, negative_spans, custom_values FROM histograms_with_labels ORDER BY series_id, ts'),
    exemplars: await rows(sink, "SELECT series_id, epoch_ms(ts) AS t, value, exemplar_labels['trace_id'] AS trace FROM exemplars_with_labels ORDER BY series_id, ts")
  }
}

const blockFiles = (dir: string): string[] => readdirSync(join(dir, 'blocks')).sort()
const opts = { blockWindowMs: WINDOW, compactionIntervalMs: 0 }

/** A sink in a new directory (no automatic compaction), holding load() once. */
async function loaded (more: { retentionMs?: number } = {}): Promise<{ dir: string, d: TestDecoder, sink: DuckDbSink }> {
  const dir = tempDir()
  const d = new TestDecoder()
  const sink = await openSink(dir, { index: d.index, ...opts, ...more })
  await sink.write(d.batch(encode1({ timeseries: load() }).body))
  return { dir, d, sink }
}

describe('compaction into blocks', () => {
  it('moves closed windows into blocks; every row is read once before and after, resends dropped, stale bits kept', async () => {
    const dir = tempDir()
    const d = new TestDecoder()
    const sink = await openSink(dir, { index: d.index, ...opts })
    const body = encode1({ timeseries: load() }).body
    await sink.write(d.batch(body))
    await sink.write(d.batch(body)) // a resend: the same rows again
    const before = await snapshot(sink)
    expect(await rows(sink, 'SELECT count(*) AS n FROM sample_rows')).toEqual([{ n: 1200 }])

    const r = await sink.compact({ nowMs: NOW })
    // Three windows of samples and of histograms, one of exemplars (not deduplicated: the resend's are kept).
    expect(r).toMatchObject({ ranges: 7, blocks: 7, rows: 20 * 30 + 5 * 25 + 2 * 20, headRows: 2 * (20 * 30 + 5 * 25 + 20) })
    expect(await snapshot(sink)).toEqual(before)
    expect(await rows(sink, 'SELECT (SELECT count(*) FROM sample_rows) + (SELECT count(*) FROM histogram_rows) + (SELECT count(*) FROM exemplar_rows) AS n')).toEqual([{ n: 0 }])
    expect(await rows(sink, 'SELECT kind, count(*) AS blocks, sum(rows) AS n FROM blocks GROUP BY kind ORDER BY kind')).toEqual([
      { kind: 'exemplars', blocks: 1, n: 40 }, { kind: 'histograms', blocks: 3, n: 125 }, { kind: 'samples', blocks: 3, n: 600 }])
    expect(blockFiles(dir).filter(f => f.endsWith('.parquet'))).toHaveLength(7)
    expect(await rows(sink, 'SELECT count(*) AS n FROM samples WHERE ts >= epoch_ms(' + (T0 + 5_000) + '::BIGINT) AND ts < epoch_ms(' + (T0 + 15_000) + '::BIGINT)')).toEqual([{ n: 20 * 10 }])
    // Nothing left to do.
    expect(await sink.compact({ nowMs: NOW })).toMatchObject({ ranges: 0, blocks: 0 })
    await sink.close()
    const bits = await readBits(dir, "SELECT value FROM samples_with_labels WHERE metric = 'c_test' AND isnan(value)")
    expect(bits).toEqual(Array(20).fill(STALE))
  })

  it('keeps late samples in the head, shows each (series, timestamp) once, and compacts them into another block of the window', async () => {
    const { d, sink } = await loaded()
    await sink.compact({ nowMs: NOW })
    const before = await snapshot(sink)
    // Late: a resend of a compacted sample with another value (the block's is kept), and a new sample in a compacted window.
    const late = encode1({ timeseries: [{ labels: [['__name__', 'c_test'], ['s', '3']], samples: [{ value: -1, timestamp: T0 + 2_000 }, { value: 7, timestamp: T0 + 2_500 }] }] }).body
    await sink.write(d.batch(late))
    const q = "SELECT epoch_ms(ts) AS t, value FROM samples_with_labels WHERE labels['s'] = '3' AND ts < epoch_ms(" + (T0 + 4_000) + '::BIGINT) ORDER BY ts'
    const expected = [{ t: T0, value: 3000 }, { t: T0 + 1000, value: 3001 }, { t: T0 + 2000, value: 3002 }, { t: T0 + 2500, value: 7 }, { t: T0 + 3000, value: 3003 }]
    expect(await rows(sink, q)).toEqual(expected)
    expect(await rows(sink, 'SELECT count(*) AS n FROM samples')).toEqual([{ n: 601 }])
    const r = await sink.compact({ nowMs: NOW })
    expect(r).toMatchObject({ ranges: 1, blocks: 1, rows: 1, headRows: 2 })
    expect(await rows(sink, q)).toEqual(expected)
    expect(await rows(sink, "SELECT count(*) AS n FROM blocks WHERE kind = 'samples' AND window_start = epoch_ms(" + T0 + '::BIGINT)')).toEqual([{ n: 2 }])
    const after = await snapshot(sink) as { samples: unknown[] }
    expect(after.samples).toEqual([{ n: 601, keys: 601, total: (before as { samples: Array<{ total: number }> }).samples[0]!.total + 7, stale: 20 }])
    await sink.close()
  })

  it('compacts the open window only when asked (all), and reads head and blocks across the boundary once', async () => {
    const { sink } = await loaded()
    // At T0 + 21 s the third window (20..30 s) is open, the second (10..20 s) closed 1 s ago, less than a
    // quarter window: only the first is compacted (its samples, histograms and exemplars).
    expect(await sink.compact({ nowMs: T0 + 21_000 })).toMatchObject({ blocks: 3 })
    expect(await rows(sink, 'SELECT count(*) AS n, count(DISTINCT (series_id, ts)) AS keys FROM samples')).toEqual([{ n: 600, keys: 600 }])
    expect(await rows(sink, 'SELECT count(*) AS n FROM sample_rows')).toEqual([{ n: 400 }])
    expect(await sink.compact({ all: true })).toMatchObject({ blocks: 4 })
    expect(await rows(sink, 'SELECT count(*) AS n FROM sample_rows')).toEqual([{ n: 0 }])
    expect(await rows(sink, 'SELECT count(*) AS n, count(DISTINCT (series_id, ts)) AS keys FROM samples')).toEqual([{ n: 600, keys: 600 }])
    await sink.close()
  })

  it('retention drops whole blocks past the cutoff, and series with nothing left', async () => {
    const { dir, sink } = await loaded({ retentionMs: 60_000 })
    await sink.compact({ nowMs: NOW })
    const files = blockFiles(dir)
    // Cutoff T0 + 12 s: the first window's blocks (0..10 s) are past it; the second (10..20 s) is not, wholly.
    const r = await sink.retention(T0 + 12_000 + 60_000)
    expect(r.droppedBlocks.map(b => b.file).sort()).toEqual(files.filter(f => f.includes('T000000Z')))
    expect(r.blockRows).toBe(20 * 10 + 5 * 10 + 20)
    expect(r.seriesIds).toEqual([])
    expect(await rows(sink, 'SELECT count(*) AS n, min(epoch_ms(ts)) AS first FROM samples')).toEqual([{ n: 400, first: T0 + 10_000 }])
    expect(await rows(sink, 'SELECT count(*) AS n FROM exemplars')).toEqual([{ n: 0 }])
    await expect.poll(() => blockFiles(dir).length).toBe(files.length - 3) // removed once no query runs
    const all = await sink.retention(Date.now() + 120_000) // past every block, and past the series' first_seen (wall clock)
    expect(all.droppedBlocks).toHaveLength(4)
    expect(all.seriesIds).toHaveLength(25)
    expect(await rows(sink, 'SELECT (SELECT count(*) FROM samples) AS s, (SELECT count(*) FROM series) AS series, (SELECT count(*) FROM blocks) AS b')).toEqual([{ s: 0, series: 0, b: 0 }])
    await sink.close()
  })

  it('at start removes temp files and files the manifest does not list, and reads a moved data directory', async () => {
    const { dir, sink } = await loaded()
    await sink.compact({ nowMs: NOW })
    const before = await snapshot(sink)
    await sink.close()
    const listed = blockFiles(dir)
    writeFileSync(join(dir, 'blocks', '.tmp-samples-20250901T000000Z-000099.parquet'), 'half a block')
    writeFileSync(join(dir, 'blocks', 'samples-20250901T000000Z-000098.parquet'), 'renamed, never committed')
    const moved = `${dir}-moved`
    renameSync(dir, moved)
    const again = await openSink(moved, { index: new TestDecoder().index, ...opts })
    expect(blockFiles(moved)).toEqual(listed)
    expect(existsSync(join(moved, 'blocks', '.tmp-samples-20250901T000000Z-000099.parquet'))).toBe(false)
    expect(await snapshot(again)).toEqual(before)
    await again.close()
    renameSync(moved, dir) // removeTempDirs removes it
  })
})
