/**
 * The DuckDB sink alone: how many rows per second it commits from 10,000-series batches, what that
 * costs the event loop of the thread that calls `write()`, with DuckDB in a worker thread (the
 * default) and in-process on the main thread, its memory, and the database file size per million
 * samples.
 *
 *   npm run build && node dist/bench/duckdb-append.js [--rounds 3] [--duration 10s] [--series 160000]
 *                                                    [--concurrency 4] [--commit-interval 50] [--template FILE]
 *
 * Each round runs each mode in a fresh child process (so RSS is the mode's own) on a fresh database:
 * warm-up writes every series once (series rows are inserted then), then `--concurrency` writes are
 * kept outstanding for `--duration`. Batches are made once by decoding the bodies, then copied per
 * write with new timestamps (a memcpy and a fill), so the main thread does nothing but hand batches
 * to the sink. The event-loop delay is perf_hooks.monitorEventLoopDelay at 1 ms resolution.
 *
 * First, the two ways of feeding DuckDB's appender, alone (in-memory database, no commit): one call
 * per value and row (appendUInteger, appendTimestamp, ..., endRow) against data chunks filled by
 * bulk copies (src/sinks/duckdb/vector-copy.ts), 10,000 sample rows per run, interleaved rounds.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { DuckDBInstance, timestampValue } from '@duckdb/node-api'
import { RowBatch } from '../src/batch/row-batch.js'
import { decodeWriteRequest, localSeriesIndex } from '../src/decode/decode-write-request.js'
import { createDuckDbSink } from '../src/sinks/duckdb/duckdb-sink.js'
import { catalogue, readTemplate } from './lib/series-catalogue.js'
import { encodeV1 } from './lib/write-bodies.js'
import { fmt, interleave, printJson, printTable, summarize } from './lib/stats.js'
import { TableChunk } from '../src/sinks/duckdb/table-chunk.js'
import { CHUNK_ROWS, ChunkScratch, copyColumn, copyTimestamps, copyTimestampsZeroAsNull } from '../src/sinks/duckdb/vector-copy.js'

const MODES = ['worker', 'main'] as const
type Mode = (typeof MODES)[number]

interface RoundResult {
  mode: Mode
  rowsPerSecond: number
  writes: number
  latencyP50Ms: number
  latencyP99Ms: number
  eventLoopP50Ms: number
  eventLoopP99Ms: number
  eventLoopMaxMs: number
  rssMB: number
  peakRssMB: number
  fileBytesPerMillion: number
  transactions: number
}

function durationMs (s: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(s)
  if (m === null) throw new Error(`bad duration ${s}`)
  const n = Number(m[1])
  return m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000
}

const { values } = parseArgs({
  options: {
    child: { type: 'boolean', default: false },
    thread: { type: 'string', default: 'worker' },
    rounds: { type: 'string', default: '3' },
    duration: { type: 'string', default: '10s' },
    series: { type: 'string', default: '160000' },
    concurrency: { type: 'string', default: '4' },
    'commit-interval': { type: 'string', default: '50' },
    // Any uncompressed RW 1.0 body whose series the batches copy (default: the generated node_exporter body).
    template: { type: 'string' }
  }
})

async function child (): Promise<void> {
  const mode = values.thread as Mode
  const seriesCount = Number(values.series)
  const concurrency = Number(values.concurrency)
  const runMs = durationMs(values.duration)
  const template = readTemplate(values.template)
  const all = catalogue(template, seriesCount)

  // One decoded batch per 10,000 series; each write copies one and gives it new timestamps.
  const index = localSeriesIndex()
  const batches: RowBatch[] = []
  for (let i = 0; i < all.length; i += 10_000) {
    const encoded = encodeV1(all.slice(i, i + 10_000))
    batches.push(decodeWriteRequest(encoded.body, { compressed: false }))
  }
  let ts = Date.now()
  const copy = (k: number): RowBatch => {
    const b = batches[k % batches.length]!
    const buffer = b.buffer.slice(0)
    const out = new RowBatch(buffer, b.meta, index)
    ts += 1
    out.timestamps.fill(ts)
    return out
  }

  const dir = mkdtempSync(join(tmpdir(), 'prom-ingest-duckdb-bench-'))
  const sink = createDuckDbSink({ dataDir: dir, commitInterval: Number(values['commit-interval']), commitMaxRows: 1_000_000, retentionMs: 0, index, thread: mode })
  await sink.start()
  try {
    // Warm-up: every series once (its row is inserted), then the first batches again.
    await Promise.all(batches.map((_, k) => sink.write(copy(k))))
    const before = await sink.stats()

    const eld = monitorEventLoopDelay({ resolution: 1 })
    const latencies: number[] = []
    let rows = 0
    let k = 0
    let peakRss = 0
    const rssTimer = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage.rss()) }, 250)
    const t0 = performance.now()
    const end = t0 + runMs
    eld.enable()
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const b = copy(k++)
        const n = b.sampleCount
        const s = performance.now()
        await sink.write(b)
        latencies.push(performance.now() - s)
        rows += n
      }
    }))
    const seconds = (performance.now() - t0) / 1000
    eld.disable()
    clearInterval(rssTimer)
    const after = await sink.stats()
    const lat = latencies.sort((a, b) => a - b)
    const q = (p: number): number => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? NaN
    await sink.close()
    const fileBytes = await samplesTableBytes(dir)
    const result: RoundResult = {
      mode,
      rowsPerSecond: rows / seconds,
      writes: lat.length,
      latencyP50Ms: q(0.5),
      latencyP99Ms: q(0.99),
      eventLoopP50Ms: eld.percentile(50) / 1e6,
      eventLoopP99Ms: eld.percentile(99) / 1e6,
      eventLoopMaxMs: eld.max / 1e6,
      rssMB: process.memoryUsage.rss() / 1e6,
      peakRssMB: Math.max(peakRss, process.memoryUsage.rss()) / 1e6,
      fileBytesPerMillion: fileBytes / (after.rowsCommitted / 1e6),
      transactions: after.commits - before.commits
    }
    console.log(JSON.stringify(result))
  } finally {
    await sink.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Bytes of the blocks that hold the samples table (the file also holds series rows, metadata, free blocks). */
async function samplesTableBytes (dataDir: string): Promise<number> {
  const instance = await DuckDBInstance.create(join(dataDir, 'prom-ingest.duckdb'), { access_mode: 'READ_ONLY' })
  const c = await instance.connect()
  const blocks = await c.runAndReadAll("SELECT count(DISTINCT block_id) FROM pragma_storage_info('samples') WHERE persistent AND block_id >= 0")
  const size = await c.runAndReadAll('SELECT block_size FROM pragma_database_size()')
  const bytes = Number(blocks.getRows()[0]?.[0] ?? 0) * Number(size.getRows()[0]?.[0] ?? 0)
  c.closeSync()
  instance.closeSync()
  return bytes
}

async function runChild (mode: Mode): Promise<RoundResult> {
  const args = [fileURLToPath(import.meta.url), '--child', '--thread', mode, '--duration', values.duration, '--series', values.series, '--concurrency', values.concurrency, '--commit-interval', values['commit-interval'], ...(values.template === undefined ? [] : ['--template', values.template])]
  const p = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  p.stdout.setEncoding('utf8')
  p.stdout.on('data', (s: string) => { out += s })
  const code = await new Promise<number | null>(resolve => p.on('exit', resolve))
  const last = out.trim().split('\n').pop() ?? ''
  if (code !== 0) throw new Error(`the ${mode} run exited with code ${String(code)}: ${out}`)
  return JSON.parse(last) as RoundResult
}

/** Row-at-a-time appends against data-chunk appends of the same 10,000 rows; rows per second. */
async function appendPaths (): Promise<Map<string, number[]>> {
  const instance = await DuckDBInstance.create(':memory:')
  const c = await instance.connect()
  for (const t of ['by_row', 'by_chunk']) await c.run(`CREATE TABLE ${t} (series_id UINTEGER NOT NULL, ts TIMESTAMP NOT NULL, value DOUBLE NOT NULL, start_ts TIMESTAMP)`)
  const n = 10_000
  const ids = new Uint32Array(n).map((_, i) => i + 1)
  const ts = new Float64Array(n).fill(Date.now())
  const values = new Float64Array(n).map((_, i) => i * 0.5)
  const starts = new Float64Array(n)
  const rowAppender = await c.createAppender('by_row')
  const chunk = await TableChunk.create(c, 'by_chunk')
  const scratch = new ChunkScratch()
  const times = interleave([
    {
      name: 'row at a time',
      run: () => {
        for (let i = 0; i < n; i++) {
          rowAppender.appendUInteger(ids[i]!)
          rowAppender.appendTimestamp(timestampValue(BigInt(ts[i]! * 1000)))
          rowAppender.appendDouble(values[i]!)
          rowAppender.appendNull()
          rowAppender.endRow()
        }
        rowAppender.flushSync()
        return n
      }
    },
    {
      name: 'data chunks',
      run: () => {
        for (let start = 0; start < n; start += CHUNK_ROWS) {
          const k = Math.min(CHUNK_ROWS, n - start)
          const v = chunk.begin()
          copyColumn(v[0]!, ids, start, k)
          copyTimestamps(v[1]!, ts, start, k, scratch)
          copyColumn(v[2]!, values, start, k)
          copyTimestampsZeroAsNull(v[3]!, starts, start, k, scratch)
          chunk.end(k)
        }
        chunk.flush()
        return n
      }
    }
  ], 60)
  rowAppender.closeSync()
  chunk.close()
  c.closeSync()
  instance.closeSync()
  const perSecond = new Map<string, number[]>()
  for (const [name, ms] of times) perSecond.set(name, ms.map(t => n / (t / 1000)))
  return perSecond
}

async function parent (): Promise<void> {
  const paths = await appendPaths()
  console.log('\nAppender paths: 10,000 sample rows per run (series_id, ts, value, start_ts), in-memory, no commit, 60 rounds (median, p10-p90)\n')
  printTable(['path', 'M rows/s'], [...paths].map(([name, v]) => {
    const s = summarize(name, v)
    return [name, `${fmt(s.median / 1e6)} (${fmt(s.p10 / 1e6)}-${fmt(s.p90 / 1e6)})`]
  }))
  const rounds = Number(values.rounds)
  const results = new Map<Mode, RoundResult[]>(MODES.map(m => [m, []]))
  for (let r = 0; r < rounds; r++) {
    for (const mode of MODES) {
      const res = await runChild(mode)
      results.get(mode)!.push(res)
      console.error(`round ${r + 1}/${rounds} ${mode}: ${fmt(res.rowsPerSecond / 1e6)}M rows/s, event loop p99 ${fmt(res.eventLoopP99Ms)} ms, max ${fmt(res.eventLoopMaxMs)} ms`)
    }
  }
  const med = (mode: Mode, f: (r: RoundResult) => number): { median: number, p10: number, p90: number } => summarize(mode, results.get(mode)!.map(f))
  const cell = (mode: Mode, f: (r: RoundResult) => number, scale = 1): string => {
    const s = med(mode, f)
    return `${fmt(s.median / scale)} (${fmt(s.p10 / scale)}-${fmt(s.p90 / scale)})`
  }
  console.log(`\nDuckDB sink alone: ${values.series} series in 10,000-series batches, ${values.concurrency} writes outstanding, ${values.duration} per run, ${rounds} rounds (median, p10-p90)\n`)
  printTable(['thread', 'M rows/s', 'write p50 ms', 'write p99 ms', 'loop p99 ms', 'loop max ms', 'RSS MB', 'peak RSS MB', 'samples MB / M'], MODES.map(m => [
    m,
    cell(m, r => r.rowsPerSecond, 1e6),
    cell(m, r => r.latencyP50Ms),
    cell(m, r => r.latencyP99Ms),
    cell(m, r => r.eventLoopP99Ms),
    cell(m, r => r.eventLoopMaxMs),
    cell(m, r => r.rssMB),
    cell(m, r => r.peakRssMB),
    cell(m, r => r.fileBytesPerMillion, 1e6)
  ]))
  printJson('duckdb-append', { appendPathsRowsPerSecond: Object.fromEntries(paths), series: Number(values.series), concurrency: Number(values.concurrency), duration: values.duration, rounds: Object.fromEntries(results) })
}

if (values.child === true) await child()
else await parent()
