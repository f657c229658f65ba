/**
 * Density and cost of the dense tier (docs/store.md, "Blocks"), on a real Prometheus stream, with
 * VictoriaMetrics on the same stream in the same run.
 *
 *   npm run build && node dist/bench/compaction.js [--minutes 5] [--rounds 5] [--keep DIR]
 *
 * 1. The stream: a real Prometheus 2.42 (/usr/bin/prometheus) scrapes itself, VictoriaMetrics and
 *    prom-ingest every second (no node_exporter is installed here) and remote-writes everything to
 *    both prom-ingest (DuckDB sink, compaction off) and VictoriaMetrics 1.79 for --minutes.
 * 2. VictoriaMetrics: /internal/force_flush, /internal/force_merge, then its data directory is
 *    measured: the sample part (data/), the index (indexdb/) and the whole directory.
 * 3. prom-ingest: the service is stopped; its head (the DuckDB file) is copied --rounds times and
 *    each copy compacted on the file (the code of `prom-ingest compact --all`), measuring wall time
 *    and CPU (this process: DuckDB's threads run in it). Bytes per sample are the blocks' bytes over
 *    the rows compacted.
 * 4. The encodings: the same head written as one block with other Parquet settings, to show what
 *    each choice is worth (blockCopyOptions in src/sinks/duckdb/blocks/compaction.ts is the pick).
 *
 * Prints tables, then one JSON line. Numbers of a shared machine are noisy: medians and spread.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { DuckDBInstance } from '@duckdb/node-api'
import { runCompaction } from '../src/sinks/duckdb/blocks/compaction.js'
import { blockMaxRows, DEFAULT_BLOCK_WINDOW_MS } from '../src/sinks/duckdb/blocks/block-maintenance.js'
import { ensureSchema, openDatabase } from '../src/sinks/duckdb/open-database.js'
import { stopChild } from './lib/child-ready.js'
import { freePort } from './lib/free-port.js'
import { fmt, printJson, printTable, summarize } from './lib/stats.js'

const HERE = dirname(fileURLToPath(import.meta.url))
const ROOT = HERE.endsWith(join('dist', 'bench')) ? resolve(HERE, '..', '..') : resolve(HERE, '..')
const CLI = join(ROOT, 'dist', 'src', 'cli.js')
const PROMETHEUS = '/usr/bin/prometheus'
const VICTORIA = '/usr/bin/victoria-metrics'
const MEMORY_LIMIT = '96MB'

const sleep = async (ms: number): Promise<void> => await new Promise(resolve => setTimeout(resolve, ms))

/** Bytes of every file under a path. */
function treeBytes (path: string): number {
  if (!existsSync(path)) return 0
  const st = statSync(path)
  if (!st.isDirectory()) return st.size
  let n = 0
  for (const name of readdirSync(path)) n += treeBytes(join(path, name))
  return n
}

function start (cmd: string, args: string[], log: string): ChildProcess {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  const lines: string[] = []
  child.stdout?.on('data', (b: Buffer) => { lines.push(b.toString()) })
  child.stderr?.on('data', (b: Buffer) => { lines.push(b.toString()) })
  child.once('exit', () => { writeFileSync(log, lines.join('')) })
  return child
}

async function waitHttp (url: string, what: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    try { if ((await fetch(url)).ok) return } catch { /* not up yet */ }
    await sleep(100)
  }
  throw new Error(`${what} did not answer ${url} within 30 s`)
}

async function metric (url: string, name: RegExp): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text()
  let n = 0
  for (const line of text.split('\n')) if (name.test(line)) n += Number(line.slice(line.lastIndexOf(' ') + 1))
  return n
}

async function queryCount (url: string, sql: string): Promise<number> {
  const res = await fetch(`${url}/api/v1/query?format=json&query=${encodeURIComponent(sql)}`)
  const rows = await res.json() as Array<Record<string, number>>
  return Number(Object.values(rows[0] ?? {})[0] ?? 0)
}

interface Stream { dir: string, samplesPromIngest: number, vm: { rows: number, dataBytes: number, indexBytes: number, dirBytes: number }, headBytes: number }

/** Steps 1 and 2: the live stream into both stores; prom-ingest's data directory is left in `dir/prom-ingest`. */
async function recordStream (dir: string, minutes: number): Promise<Stream> {
  const [vmPort, piPort, promPort] = [await freePort(), await freePort(), await freePort()]
  const vmUrl = `http://127.0.0.1:${vmPort}`
  const piUrl = `http://127.0.0.1:${piPort}`
  const piDir = join(dir, 'prom-ingest')
  const vm = start(VICTORIA, ['-storageDataPath', join(dir, 'vm'), '-httpListenAddr', `127.0.0.1:${vmPort}`], join(dir, 'vm.log'))
  const pi = start(process.execPath, [CLI, 'serve', '--listen', `127.0.0.1:${piPort}`, '--data-dir', piDir, '--compaction-interval', '0', '--duckdb-memory-limit', MEMORY_LIMIT, '--log-level', 'warn'], join(dir, 'prom-ingest.log'))
  let prom: ChildProcess | undefined
  try {
    await waitHttp(`${vmUrl}/health`, 'VictoriaMetrics')
    await waitHttp(`${piUrl}/healthz`, 'prom-ingest')
    const config = `global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: prometheus
    static_configs: [{targets: ['127.0.0.1:${promPort}']}]
  - job_name: victoria-metrics
    static_configs: [{targets: ['127.0.0.1:${vmPort}']}]
  - job_name: prom-ingest
    static_configs: [{targets: ['127.0.0.1:${piPort}']}]
remote_write:
  - url: ${piUrl}/api/v1/write
  - url: ${vmUrl}/api/v1/write
`
    writeFileSync(join(dir, 'prometheus.yml'), config)
    prom = start(PROMETHEUS, [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'prometheus')}`, `--web.listen-address=127.0.0.1:${promPort}`], join(dir, 'prometheus.log'))
    await waitHttp(`http://127.0.0.1:${promPort}/-/ready`, 'Prometheus')
    const end = Date.now() + minutes * 60_000
    while (Date.now() < end) {
      await sleep(Math.min(30_000, end - Date.now()))
      console.error(`stream: ${Math.round((end - Date.now()) / 1000)} s left, prom-ingest has ${await queryCount(piUrl, 'SELECT count(*) FROM sample_rows')} sample rows`)
    }
    await stopChild(prom) // Prometheus sends what its queues hold before it exits
    // Both stores settle: no more rows arrive.
    let last = -1
    for (let i = 0; i < 60; i++) {
      const n = await queryCount(piUrl, 'SELECT count(*) FROM samples')
      if (n === last) break
      last = n
      await sleep(1000)
    }
    const samplesPromIngest = last
    await fetch(`${vmUrl}/internal/force_flush`)
    await fetch(`${vmUrl}/internal/force_merge`)
    for (let i = 0; i < 120; i++) {
      await sleep(1000)
      if (await metric(vmUrl, /^vm_active_merges\{/) === 0) break
    }
    const vmRows = await metric(vmUrl, /^vm_rows\{type="storage\//)
    await stopChild(vm)
    await stopChild(pi)
    const vmDir = join(dir, 'vm')
    return {
      dir: piDir,
      samplesPromIngest,
      vm: { rows: vmRows, dataBytes: treeBytes(join(vmDir, 'data')), indexBytes: treeBytes(join(vmDir, 'indexdb')), dirBytes: treeBytes(vmDir) },
      headBytes: treeBytes(piDir)
    }
  } finally {
    if (prom !== undefined) await stopChild(prom)
    await stopChild(vm)
    await stopChild(pi)
  }
}

interface Round { ms: number, cpuMs: number, rows: number, bytes: number, blocks: number }

/** Step 3: compacts a copy of the head on the file, as `prom-ingest compact --all` does. */
async function compactCopy (head: string, work: string): Promise<Round> {
  rmSync(work, { recursive: true, force: true })
  cpSync(head, work, { recursive: true })
  const instance = await openDatabase(work, { memoryLimit: MEMORY_LIMIT })
  const c = await instance.connect()
  try {
    await ensureSchema(c)
    const cpu = process.cpuUsage()
    const t0 = performance.now()
    const r = await runCompaction(c, work, { windowMs: DEFAULT_BLOCK_WINDOW_MS, maxRows: blockMaxRows(96e6), beforeMs: undefined })
    const ms = performance.now() - t0
    const used = process.cpuUsage(cpu)
    await c.run('CHECKPOINT')
    return { ms, cpuMs: (used.user + used.system) / 1000, rows: r.rows, bytes: r.bytes, blocks: r.blocks }
  } finally {
    c.closeSync()
    instance.closeSync()
  }
}

/** Step 4: the head's samples as one Parquet file with other settings. */
async function encodings (head: string, work: string): Promise<Array<{ name: string, bytes: number, ms: number }>> {
  rmSync(work, { recursive: true, force: true })
  cpSync(head, work, { recursive: true })
  const instance = await DuckDBInstance.create(join(work, 'prom-ingest.duckdb'), { memory_limit: MEMORY_LIMIT })
  const c = await instance.connect()
  const out: Array<{ name: string, bytes: number, ms: number }> = []
  const ms = 'series_id, ts::TIMESTAMP_MS AS ts, value, start_ts::TIMESTAMP_MS AS start_ts'
  const us = 'series_id, ts, value, start_ts'
  const variants: Array<[string, string, string, string]> = [
    ['the pick: ms, no dictionary, ZSTD 9, 1M-row groups', ms, 'series_id, ts', 'COMPRESSION zstd, COMPRESSION_LEVEL 9, DICTIONARY_SIZE_LIMIT 1, ROW_GROUP_SIZE 1048576'],
    ['DuckDB defaults + ZSTD (dictionaries, 122,880-row groups)', us, 'series_id, ts', 'COMPRESSION zstd'],
    ['dictionaries, ZSTD 9, 1M-row groups', ms, 'series_id, ts', 'COMPRESSION zstd, COMPRESSION_LEVEL 9, ROW_GROUP_SIZE 1048576'],
    ['no dictionary, ZSTD 3', ms, 'series_id, ts', 'COMPRESSION zstd, COMPRESSION_LEVEL 3, DICTIONARY_SIZE_LIMIT 1, ROW_GROUP_SIZE 1048576'],
    ['no dictionary, ZSTD 19', ms, 'series_id, ts', 'COMPRESSION zstd, COMPRESSION_LEVEL 19, DICTIONARY_SIZE_LIMIT 1, ROW_GROUP_SIZE 1048576'],
    ['Parquet 2 encodings (delta, byte-stream-split)', ms, 'series_id, ts', 'COMPRESSION zstd, COMPRESSION_LEVEL 9, DICTIONARY_SIZE_LIMIT 1, ROW_GROUP_SIZE 1048576, PARQUET_VERSION v2'],
    ['timestamps in µs', us, 'series_id, ts', 'COMPRESSION zstd, COMPRESSION_LEVEL 9, DICTIONARY_SIZE_LIMIT 1, ROW_GROUP_SIZE 1048576'],
    ['122,880-row groups', ms, 'series_id, ts', 'COMPRESSION zstd, COMPRESSION_LEVEL 9, DICTIONARY_SIZE_LIMIT 1'],
    ['sorted by time, then series', ms, 'ts, series_id', 'COMPRESSION zstd, COMPRESSION_LEVEL 9, DICTIONARY_SIZE_LIMIT 1, ROW_GROUP_SIZE 1048576']
  ]
  try {
    for (const [name, cols, order, options] of variants) {
      const file = join(work, 'variant.parquet')
      const t0 = performance.now()
      await c.run(`COPY (SELECT ${cols} FROM samples ORDER BY ${order}) TO '${file}' (FORMAT parquet, ${options})`)
      out.push({ name, bytes: statSync(file).size, ms: performance.now() - t0 })
      rmSync(file)
    }
  } finally {
    c.closeSync()
    instance.closeSync()
  }
  return out
}

async function main (): Promise<void> {
  const { values } = parseArgs({ options: { minutes: { type: 'string', default: '5' }, rounds: { type: 'string', default: '5' }, keep: { type: 'string' } } })
  const minutes = Number(values.minutes)
  const rounds = Number(values.rounds)
  if (!(minutes > 0) || !Number.isInteger(rounds) || rounds < 1) throw new Error('--minutes must be > 0 and --rounds a positive integer')
  for (const bin of [PROMETHEUS, VICTORIA]) if (!existsSync(bin)) throw new Error(`${bin} is not installed`)
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: npm run build first`)
  const dir = values.keep ?? mkdtempSync(join(tmpdir(), 'prom-ingest-bench-compaction-'))
  mkdirSync(dir, { recursive: true })
  try {
    const s = await recordStream(dir, minutes)
    const results: Round[] = []
    for (let r = 0; r < rounds; r++) results.push(await compactCopy(s.dir, join(dir, 'work')))
    const work = join(dir, 'work')
    const afterFile = treeBytes(join(work, 'prom-ingest.duckdb'))
    const rows = results[0]!.rows
    const bytes = results[0]!.bytes
    const variants = await encodings(s.dir, join(dir, 'variants'))

    console.log(`\nstream: ${minutes} min of Prometheus 2.42 scraping itself, VictoriaMetrics and prom-ingest every 1 s; ${s.samplesPromIngest} samples in prom-ingest, ${s.vm.rows} rows in VictoriaMetrics\n`)
    printTable(['store', 'bytes', 'bytes per sample'], [
      ['prom-ingest blocks (Parquet, samples)', String(bytes), fmt(bytes / rows)],
      ['prom-ingest head before compaction (DuckDB file)', String(s.headBytes), fmt(s.headBytes / s.samplesPromIngest)],
      ['prom-ingest DuckDB file after compaction (series, free pages)', String(afterFile), fmt(afterFile / rows)],
      ['VictoriaMetrics data/ (samples)', String(s.vm.dataBytes), fmt(s.vm.dataBytes / s.vm.rows)],
      ['VictoriaMetrics indexdb/ (series)', String(s.vm.indexBytes), fmt(s.vm.indexBytes / s.vm.rows)],
      ['VictoriaMetrics whole directory', String(s.vm.dirBytes), fmt(s.vm.dirBytes / s.vm.rows)],
      ['ratio: prom-ingest blocks / VictoriaMetrics data/', '', fmt((bytes / rows) / (s.vm.dataBytes / s.vm.rows))]
    ])
    const speed = summarize('samples/s', results.map(r => r.rows / (r.ms / 1000)), 'samples/s')
    const cpu = summarize('cpu', results.map(r => r.cpuMs / r.ms), 'cores')
    const perSample = summarize('cpu µs/sample', results.map(r => r.cpuMs * 1000 / r.rows), 'µs')
    console.log(`\ncompaction on the file (${rounds} rounds, 2 h windows, memory limit ${MEMORY_LIMIT}): ${rows} samples into ${results[0]!.blocks} blocks\n`)
    printTable(['', 'median', 'p10', 'p90'], [
      ['samples/s', fmt(speed.median), fmt(speed.p10), fmt(speed.p90)],
      ['CPU cores busy', fmt(cpu.median), fmt(cpu.p10), fmt(cpu.p90)],
      ['CPU µs per sample', fmt(perSample.median), fmt(perSample.p10), fmt(perSample.p90)]
    ])
    console.log('\nencodings (the head\'s samples as one file, sorted by series and time unless said)\n')
    printTable(['variant', 'bytes per sample', 'ms'], variants.map(v => [v.name, fmt(v.bytes / s.samplesPromIngest), fmt(v.ms)]))
    printJson('compaction', { minutes, samples: s.samplesPromIngest, vmRows: s.vm.rows, blockBytesPerSample: bytes / rows, vmDataBytesPerSample: s.vm.dataBytes / s.vm.rows, vmDirBytesPerSample: s.vm.dirBytes / s.vm.rows, headBytesPerSample: s.headBytes / s.samplesPromIngest, compaction: { speed, cpu, perSample }, variants })
  } finally {
    if (values.keep === undefined) rmSync(dir, { recursive: true, force: true })
  }
}

main().catch(err => { console.error(err); process.exitCode = 1 })
