/**
 * End-to-end load generator: remote-write requests over keep-alive HTTP (undici Pool) at a fixed
 * concurrency against a running service (`--url`) or one it starts itself (`node dist/src/cli.js serve
 * --listen 127.0.0.1:0 --sink <sink>`), for a fixed duration.
 *
 *   npm run bench:e2e -- [--url http://host:port] [--sink discard|duckdb] [--concurrency 4] [--duration 30s]
 *                        [--warmup 2s] [--series 160000] [--series-per-request 10000] [--version 1.0|2.0]
 *                        [--template FILE] [--pid <server pid>] [--relabel-rounds N] [-- <serve flags>]
 *
 * Bodies are made once at start-up: the N distinct series (modelled on the template request, see
 * lib/series-catalogue.ts) in chunks of --series-per-request, each chunk encoded and snappy-compressed
 * once with its sample timestamps left patchable (lib/patchable-snappy.ts). Per request the generator
 * copies the chunk's compressed bytes into the worker's own buffer and writes a fresh timestamp into
 * them: a new, increasing timestamp for every series on every request, and no compression while it
 * measures. bench/README.md explains the choice.
 *
 * Reports samples/s and requests/s accepted (2xx), latency p50/p90/p99, status code counts, and the
 * server's CPU (utime + stime) and RSS (average and peak) from /proc: a table, then one JSON line.
 *
 * `--relabel-rounds N`: issue 12's relabeling benchmark instead. N rounds, each starting the service
 * twice, once without rules and once with the 10 gateway rules of RELABEL_RULES (the order alternates
 * between rounds), loading each for --duration after the warm-up; prints samples/s per case (median,
 * min, max) and the ratio with rules / without, per round and of the medians.
 */
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { Pool } from 'undici'
import { fmt, printJson, printTable, quantile } from './lib/stats.js'
import { catalogue, describeCatalogue, readTemplate, type Series } from './lib/series-catalogue.js'
import { encodeV1, encodeV2, timestampBytes, TIMESTAMP_WIDTH, type BodyWithHoles } from './lib/write-bodies.js'
import { compressWithHoles, patch, type PatchableBody } from './lib/patchable-snappy.js'
import { ProcessSampler, type ProcessUsage } from './lib/proc-stats.js'
import { startServe } from './lib/serve-process.js'

const snappy = createRequire(import.meta.url)('snappyjs') as { uncompress (input: Uint8Array): Uint8Array }

const HERE = dirname(fileURLToPath(import.meta.url))
/** The project root, from dist/bench/ (compiled) or bench/ (run from sources). */
const ROOT = HERE.endsWith(join('dist', 'bench')) ? resolve(HERE, '..', '..') : resolve(HERE, '..')
const CLI = join(ROOT, 'dist', 'src', 'cli.js')

interface Options {
  url: string | undefined
  sink: string
  concurrency: number
  durationMs: number
  warmupMs: number
  series: number
  seriesPerRequest: number
  version: '1.0' | '2.0'
  template: string | undefined
  pid: number | undefined
  relabelRounds: number
  /** Passes over all chunks before measuring (at least). */
  warmupPasses: number
  serveArgs: string[]
}

/**
 * Ten relabeling rules typical of a gateway, on the load's node_exporter series: drop three metrics
 * by name, labeldrop two labels, one replace, one hashmod, a keep on the job, a static label and a
 * drop by label value. About 14% of the series are dropped, every other one is relabeled (the
 * labeldrops change them all): the heavy case, where every kept series is stored under a new id.
 */
const RELABEL_RULES = [
  { source_labels: ['__name__'], regex: 'node_scrape_collector_.*', action: 'drop' },
  { source_labels: ['__name__'], regex: 'node_cooling_device_.*', action: 'drop' },
  { source_labels: ['__name__'], regex: 'go_gc_duration_seconds.*', action: 'drop' },
  { regex: 'replica', action: 'labeldrop' },
  { regex: 'revision', action: 'labeldrop' },
  { source_labels: ['instance'], regex: 'host-(.*)', target_label: 'host', replacement: '$1' },
  { source_labels: ['__name__', 'instance'], target_label: 'shard', modulus: 8, action: 'hashmod' },
  { source_labels: ['job'], regex: 'node_exporter|kubernetes-.*', action: 'keep' },
  { target_label: 'env', replacement: 'prod' },
  { source_labels: ['fstype'], regex: 'tmpfs|ramfs', action: 'drop' }
]

function parseDuration (s: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(s.trim())
  if (m === null) throw new Error(`--${what}: "${s}" is not a duration (for example 30s, 500ms, 1m)`)
  const n = Number(m[1])
  return m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000
}

function positiveInt (s: string, what: string): number {
  const n = Number(s)
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--${what}: "${s}" is not a positive integer`)
  return n
}

function parseOptions (argv: string[]): Options {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      sink: { type: 'string', default: 'discard' },
      concurrency: { type: 'string', default: '4' },
      duration: { type: 'string', default: '30s' },
      warmup: { type: 'string', default: '2s' },
      series: { type: 'string', default: '160000' },
      'series-per-request': { type: 'string', default: '10000' },
      version: { type: 'string', default: '1.0' },
      template: { type: 'string' },
      pid: { type: 'string' },
      'relabel-rounds': { type: 'string' },
      'warmup-passes': { type: 'string' },
      help: { type: 'boolean', default: false }
    }
  })
  if (values.help) {
    console.log(fileHelp())
    process.exit(0)
  }
  if (values.version !== '1.0' && values.version !== '2.0') throw new Error(`--version: "${values.version}" is not 1.0 or 2.0`)
  if (!['discard', 'duckdb', 'clickhouse'].includes(values.sink)) throw new Error(`--sink: "${values.sink}" is not discard, duckdb or clickhouse (give clickhouse its --clickhouse-url after --)`)
  return {
    url: values.url,
    sink: values.sink,
    concurrency: positiveInt(values.concurrency, 'concurrency'),
    durationMs: parseDuration(values.duration, 'duration'),
    warmupMs: values.warmup === '0' ? 0 : parseDuration(values.warmup, 'warmup'),
    series: positiveInt(values.series, 'series'),
    seriesPerRequest: positiveInt(values['series-per-request'], 'series-per-request'),
    version: values.version,
    template: values.template,
    pid: values.pid === undefined ? undefined : positiveInt(values.pid, 'pid'),
    relabelRounds: values['relabel-rounds'] === undefined ? 0 : positiveInt(values['relabel-rounds'], 'relabel-rounds'),
    // Relabeling caches are per decode worker: each worker must have seen every series before the
    // steady state is measured, and requests go to whichever worker is free (8 passes: a given worker
    // misses a given chunk with odds of 1 in 256).
    warmupPasses: values['warmup-passes'] !== undefined ? positiveInt(values['warmup-passes'], 'warmup-passes') : values['relabel-rounds'] !== undefined ? 8 : 1,
    serveArgs: positionals
  }
}

function fileHelp (): string {
  return `Usage: node dist/bench/e2e.js [options] [-- <extra flags for prom-ingest serve>]
  --url URL                 service to load (default: start one: node dist/src/cli.js serve --listen 127.0.0.1:0)
  --sink discard|duckdb|clickhouse  sink of the service started here (default discard; duckdb stores under a temp dir;
                            clickhouse needs -- --clickhouse-url URL, see bench/clickhouse.ts)
  --concurrency N           requests in flight, one keep-alive connection each (default 4)
  --duration D              measured time, e.g. 30s (default 30s)
  --warmup D                load before measuring, not counted (default 2s, and at least one pass over all series)
  --series N                distinct series (default 160000)
  --series-per-request N    series (samples) per request (default 10000; Prometheus sends 500 at most by default)
  --version 1.0|2.0         remote-write protocol version (default 1.0)
  --template FILE           uncompressed RW 1.0 request whose series the load copies (default: the generated
                            10,000-series node_exporter body, test/fixtures/node-exporter-body.ts)
  --pid PID                 server process to read CPU and RSS from, with --url (default: the one started here)
  --warmup-passes N         passes over all series before measuring (default 1; 8 with --relabel-rounds)
  --relabel-rounds N        relabeling benchmark: N rounds of (no rules, 10 gateway rules), interleaved, each on a
                            fresh service; prints the ratio of samples/s with rules to without (bench/README.md#relabel)`
}

// ---------------------------------------------------------------------------------------------------
// Bodies

interface Chunk extends PatchableBody {
  readonly series: number
  /** Last timestamp sent with this chunk: the next one is later, so every series' samples increase. */
  lastTimestamp: number
}

function buildChunks (all: readonly Series[], perRequest: number, version: '1.0' | '2.0'): Chunk[] {
  const chunks: Chunk[] = []
  for (let start = 0; start < all.length; start += perRequest) {
    const slice = all.slice(start, start + perRequest)
    const encoded: BodyWithHoles = version === '2.0' ? encodeV2(slice) : encodeV1(slice)
    const compressed = compressWithHoles(encoded.body, encoded.holes, TIMESTAMP_WIDTH)
    verifyChunk(encoded, compressed)
    chunks.push({ ...compressed, series: encoded.series, lastTimestamp: 0 })
  }
  return chunks
}

/** Patches a copy with a test timestamp and checks that it decompresses to the body with that timestamp. */
function verifyChunk (encoded: BodyWithHoles, body: PatchableBody): void {
  const ts = timestampBytes(Date.now() + 12_345)
  const copy = body.compressed.slice()
  patch(body, copy, ts)
  const got = snappy.uncompress(copy)
  const want = encoded.body.slice()
  for (let i = 0; i < encoded.holes.length; i++) want.set(ts, encoded.holes[i]!)
  if (got.length !== want.length || !Buffer.from(got.buffer, got.byteOffset, got.length).equals(want)) {
    throw new Error('a patched body does not decompress to the body with the new timestamp (bug in lib/patchable-snappy.ts)')
  }
}

// ---------------------------------------------------------------------------------------------------
// The service, when the generator starts it

interface Started {
  url: string
  child: ChildProcess
  /** The store's directory (duckdb sink), removed by cleanup(). */
  dataDir: string | undefined
  /** Stops the service (SIGTERM: it flushes its sink and exits). */
  stop (): Promise<void>
  cleanup (): void
}

async function startService (sink: string, extra: string[]): Promise<Started> {
  let dataDir: string | undefined
  const args = ['--sink', sink]
  if (sink === 'duckdb') {
    dataDir = mkdtempSync(join(tmpdir(), 'prom-ingest-bench-'))
    args.push('--data-dir', dataDir)
  }
  const served = await startServe(CLI, [...args, ...extra])
  return {
    url: served.url,
    child: served.child,
    dataDir,
    stop: served.stop,
    cleanup () {
      if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true })
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// The load

interface Results {
  requests: number
  samples: number
  statuses: Map<string, number>
  latenciesMs: number[]
  seconds: number
  errors: string[]
  /** CPU the generator itself used while measuring (it shares the machine with the server). */
  clientCpuSeconds: number
  /** Samples acknowledged over the whole run, warm-up included (what a store holds at the end). */
  allAcceptedSamples: number
  /** The measured window, wall-clock ms (bench/forward.ts counts what a destination received in it). */
  windowFromMs?: number
  windowToMs?: number
}

const CONTENT_TYPE = { '1.0': 'application/x-protobuf', '2.0': 'application/x-protobuf;proto=io.prometheus.write.v2.Request' } as const
const VERSION_HEADER = { '1.0': '0.1.0', '2.0': '2.0.0' } as const

async function runLoad (url: string, chunks: Chunk[], o: Options, onMeasureStart: () => void, onMeasureEnd: () => void): Promise<Results> {
  const origin = new URL(url)
  const path = origin.pathname === '/' ? '/api/v1/write' : origin.pathname
  const pool = new Pool(origin.origin, { connections: o.concurrency, pipelining: 1, keepAliveTimeout: 60_000 })
  const headers = {
    'content-type': CONTENT_TYPE[o.version],
    'content-encoding': 'snappy',
    'x-prometheus-remote-write-version': VERSION_HEADER[o.version],
    'user-agent': 'prom-ingest-bench/1'
  }

  const t0 = performance.now()
  // Measuring starts after the warm-up time and once every chunk has been answered at least once, so
  // that every series is known to the service (steady state: no first-sight inserts in the window).
  const warmupUntil = t0 + o.warmupMs
  let measureFrom = Infinity
  let measureTo = Infinity
  let measuring = false
  let stopping = false
  let next = 0
  let answered = 0

  const results: Results = { requests: 0, samples: 0, statuses: new Map(), latenciesMs: [], seconds: o.durationMs / 1000, errors: [], clientCpuSeconds: 0, allAcceptedSamples: 0 }
  let cpuAtStart = process.cpuUsage()
  // Per-second figures for the progress line.
  let tickRequests = 0
  let tickSamples = 0
  const tickLatencies: number[] = []

  const progress = setInterval(() => {
    const now = performance.now()
    const phase = measuring ? 'measure' : 'warmup '
    const elapsed = ((now - (measuring ? measureFrom : t0)) / 1000).toFixed(0)
    tickLatencies.sort((a, b) => a - b)
    const codes = [...results.statuses].map(([k, v]) => `${k}:${v}`).join(' ')
    process.stderr.write(`\r${phase} ${elapsed.padStart(3)}s  ${String(tickRequests).padStart(5)} req/s  ${fmtRate(tickSamples).padStart(7)} samples/s  p99 ${fmt(quantile(tickLatencies, 0.99))} ms  ${codes}   `)
    tickRequests = 0
    tickSamples = 0
    tickLatencies.length = 0
  }, 1000)

  const phaseTimer = setInterval(() => {
    const now = performance.now()
    if (!measuring && now >= warmupUntil && answered >= chunks.length * o.warmupPasses) {
      measuring = true
      measureFrom = now
      measureTo = now + o.durationMs
      results.windowFromMs = performance.timeOrigin + measureFrom
      results.windowToMs = performance.timeOrigin + measureTo
      cpuAtStart = process.cpuUsage()
      onMeasureStart()
    }
    if (measuring && now >= measureTo) { stopping = true; clearInterval(phaseTimer) }
  }, 5)

  const maxLength = Math.max(...chunks.map(c => c.compressed.length))
  const worker = async (): Promise<void> => {
    // Each worker owns a buffer: the chunk's bytes are copied in and patched there, so that two
    // requests in flight never share (and never patch) the same bytes.
    const buffer = new Uint8Array(maxLength)
    const ts = new Uint8Array(TIMESTAMP_WIDTH)
    while (!stopping) {
      const chunk = chunks[next++ % chunks.length]!
      const body = buffer.subarray(0, chunk.compressed.length)
      body.set(chunk.compressed)
      const timestamp = Math.max(Date.now(), chunk.lastTimestamp + 1)
      chunk.lastTimestamp = timestamp
      patch(chunk, body, timestampBytes(timestamp, ts))
      const started = performance.now()
      const countIt = measuring
      let status: string
      try {
        const res = await pool.request({ path, method: 'POST', headers, body })
        status = String(res.statusCode)
        if (res.statusCode >= 300) {
          const text = await res.body.text()
          if (results.errors.length < 5) results.errors.push(`${res.statusCode} ${text.slice(0, 200)}`)
        } else {
          await res.body.dump()
        }
      } catch (err) {
        status = (err as { code?: string }).code ?? 'error'
        if (results.errors.length < 5) results.errors.push(String(err))
        if (stopping) break
      }
      const ended = performance.now()
      const ms = ended - started
      const ok = status.startsWith('2')
      answered++
      tickRequests++
      if (ok) { tickSamples += chunk.series; results.allAcceptedSamples += chunk.series }
      tickLatencies.push(ms)
      // Count requests that started and ended inside the measured window.
      if (countIt && ended <= measureTo) {
        results.requests++
        results.statuses.set(status, (results.statuses.get(status) ?? 0) + 1)
        results.latenciesMs.push(ms)
        if (ok) results.samples += chunk.series
      }
    }
  }

  await Promise.all(Array.from({ length: o.concurrency }, worker))
  const cpu = process.cpuUsage(cpuAtStart)
  results.clientCpuSeconds = (cpu.user + cpu.system) / 1e6
  clearInterval(progress)
  clearInterval(phaseTimer)
  onMeasureEnd()
  process.stderr.write('\n')
  await pool.close()
  return results
}

/** Bytes of every file under `dir`. */
function directorySize (dir: string): number {
  let total = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    total += entry.isDirectory() ? directorySize(path) : statSync(path).size
  }
  return total
}

function fmtRate (n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : n.toFixed(0)
}

function mib (bytes: number): string {
  return (bytes / 2 ** 20).toFixed(0)
}

// ---------------------------------------------------------------------------------------------------

async function main (): Promise<void> {
  const o = parseOptions(process.argv.slice(2))

  const tBuild = performance.now()
  const all = catalogue(readTemplate(o.template), o.series)
  const chunks = buildChunks(all, o.seriesPerRequest, o.version)
  const buildMs = performance.now() - tBuild
  const shape = describeCatalogue(all)
  const compressedAvg = chunks.reduce((a, c) => a + c.compressed.length, 0) / chunks.length
  const uncompressedAvg = chunks.reduce((a, c) => a + c.uncompressedLength, 0) / chunks.length
  const patchesAvg = chunks.reduce((a, c) => a + c.patchOffsets.length, 0) / chunks.length
  console.error(`bodies: ${chunks.length} chunks of ${o.seriesPerRequest} series (RW ${o.version}), ${shape.labelsPerSeries.toFixed(2)} labels/series, ` +
    `${(uncompressedAvg / 1024).toFixed(0)} KiB -> ${(compressedAvg / 1024).toFixed(0)} KiB snappy, ${patchesAvg.toFixed(0)} timestamp bytes patched per request; built in ${buildMs.toFixed(0)} ms`)

  if (o.relabelRounds > 0) { await relabelComparison(o, chunks); return }

  let started: Started | undefined
  let url = o.url
  let pid = o.pid
  if (url === undefined) {
    started = await startService(o.sink, o.serveArgs)
    url = started.url
    pid = started.child.pid
    console.error(`service: ${url} (pid ${String(pid)}, sink ${o.sink})`)
  }

  let sampler: ProcessSampler | undefined
  let usage: ProcessUsage | undefined
  let results: Results
  try {
    results = await runLoad(url, chunks, o,
      () => { if (pid !== undefined) { sampler = new ProcessSampler(pid); sampler.start() } },
      () => { usage = sampler?.stop() })
  } finally {
    await started?.stop()
  }
  // The store's size once the service has flushed and exited (duckdb sink only).
  let storeBytes: number | undefined
  if (started?.dataDir !== undefined) {
    storeBytes = directorySize(started.dataDir)
  }
  started?.cleanup()

  const lat = [...results.latenciesMs].sort((a, b) => a - b)
  const samplesPerSec = results.samples / results.seconds
  const requestsPerSec = results.requests / results.seconds
  const statuses = Object.fromEntries([...results.statuses].sort())
  const setup = `RW ${o.version}, ${o.series} series in requests of ${o.seriesPerRequest}, concurrency ${o.concurrency}, ${results.seconds} s` +
    (started !== undefined ? `, sink ${o.sink}` : `, ${url}`)
  console.log(`\ne2e: ${setup}`)
  printTable(['measure', 'value'], [
    ['samples/s accepted', fmtRate(samplesPerSec)],
    ['requests/s', requestsPerSec.toFixed(1)],
    ['latency p50 ms', fmt(quantile(lat, 0.5))],
    ['latency p90 ms', fmt(quantile(lat, 0.9))],
    ['latency p99 ms', fmt(quantile(lat, 0.99))],
    ['latency max ms', fmt(lat[lat.length - 1] ?? NaN)],
    ['status codes', Object.entries(statuses).map(([k, v]) => `${k}:${v}`).join(' ')],
    ['server CPU cores', usage === undefined ? 'n/a (no --pid)' : usage.cores.toFixed(2)],
    ['server RSS avg MiB', usage === undefined ? 'n/a' : mib(usage.avgRssBytes)],
    ['server RSS peak MiB', usage === undefined ? 'n/a' : mib(usage.peakRssBytes)],
    ['server RSS lifetime peak MiB', usage === undefined ? 'n/a' : mib(usage.lifetimePeakRssBytes)],
    ['generator CPU cores', (results.clientCpuSeconds / results.seconds).toFixed(2)],
    ...(storeBytes === undefined
      ? []
      : [['store MiB (all samples, warm-up included)', mib(storeBytes)], ['store MiB per million samples', (storeBytes / 2 ** 20 / (results.allAcceptedSamples / 1e6)).toFixed(1)]])
  ])
  for (const e of results.errors) console.log(`error sample: ${e}`)
  printJson('e2e', {
    version: o.version,
    sink: started !== undefined ? o.sink : undefined,
    url: started === undefined ? url : undefined,
    concurrency: o.concurrency,
    durationSeconds: results.seconds,
    window: { fromMs: results.windowFromMs, toMs: results.windowToMs },
    series: o.series,
    seriesPerRequest: o.seriesPerRequest,
    labelsPerSeries: Number(shape.labelsPerSeries.toFixed(2)),
    bodyBytes: { uncompressed: Math.round(uncompressedAvg), compressed: Math.round(compressedAvg) },
    samplesPerSecond: Math.round(samplesPerSec),
    requestsPerSecond: Number(requestsPerSec.toFixed(1)),
    latencyMs: { p50: quantile(lat, 0.5), p90: quantile(lat, 0.9), p99: quantile(lat, 0.99), max: lat[lat.length - 1] ?? null },
    statuses,
    server: usage === undefined
      ? null
      : { cpuSeconds: usage.cpuSeconds, cores: usage.cores, avgRssBytes: Math.round(usage.avgRssBytes), peakRssBytes: usage.peakRssBytes, lifetimePeakRssBytes: usage.lifetimePeakRssBytes },
    generatorCores: results.clientCpuSeconds / results.seconds,
    store: storeBytes === undefined ? undefined : { bytes: storeBytes, samples: results.allAcceptedSamples, bytesPerMillionSamples: Math.round(storeBytes / (results.allAcceptedSamples / 1e6)) }
  })
}

/** Issue 12's benchmark: the same load without and with RELABEL_RULES, interleaved rounds, fresh services. */
async function relabelComparison (o: Options, chunks: Chunk[]): Promise<void> {
  if (o.url !== undefined) throw new Error('--relabel-rounds starts its own services: leave out --url')
  const cases = { none: 'no rules', rules: `${RELABEL_RULES.length} gateway rules` } as const
  const rates: Record<keyof typeof cases, number[]> = { none: [], rules: [] }
  const cores: Record<keyof typeof cases, number[]> = { none: [], rules: [] }
  const ratios: number[] = []
  const misses: number[] = []
  for (let round = 0; round < o.relabelRounds; round++) {
    const order: Array<keyof typeof cases> = round % 2 === 0 ? ['none', 'rules'] : ['rules', 'none']
    const got: Partial<Record<keyof typeof cases, number>> = {}
    for (const c of order) {
      const extra = c === 'rules' ? ['--relabel-configs', JSON.stringify(RELABEL_RULES), ...o.serveArgs] : o.serveArgs
      const started = await startService(o.sink, extra)
      for (const chunk of chunks) chunk.lastTimestamp = 0
      let sampler: ProcessSampler | undefined
      let usage: ProcessUsage | undefined
      let missesAtStart: Promise<number> | undefined
      try {
        const r = await runLoad(started.url, chunks, o, () => {
          sampler = new ProcessSampler(started.child.pid!)
          sampler.start()
          missesAtStart = relabelMisses(started.url)
        }, () => { usage = sampler?.stop() })
        if (r.errors.length > 0) console.error(`round ${round + 1} ${cases[c]}: errors: ${r.errors.join(' | ')}`)
        got[c] = r.samples / r.seconds
        if (usage !== undefined) cores[c].push(usage.cores)
        // Series relabeled inside the measured window: 0 in the steady state this benchmark is about.
        if (c === 'rules' && missesAtStart !== undefined) misses.push(await relabelMisses(started.url) - await missesAtStart)
      } finally {
        await started.stop()
        started.cleanup()
      }
      rates[c].push(got[c]!)
      console.error(`round ${round + 1}/${o.relabelRounds} ${cases[c]}: ${fmtRate(got[c]!)} samples/s`)
    }
    ratios.push(got.rules! / got.none!)
  }
  const med = (a: number[]): number => quantile([...a].sort((x, y) => x - y), 0.5)
  const min = (a: number[]): number => Math.min(...a)
  const max = (a: number[]): number => Math.max(...a)
  console.log(`
relabel e2e: RW ${o.version}, ${o.series} series in requests of ${o.seriesPerRequest}, concurrency ${o.concurrency}, ${o.durationMs / 1000} s per case, ${o.relabelRounds} interleaved rounds, sink ${o.sink}`)
  printTable(['case', 'median samples/s', 'min', 'max', 'server cores (median)'], (Object.keys(cases) as Array<keyof typeof cases>).map(c => [
    cases[c], fmtRate(med(rates[c])), fmtRate(min(rates[c])), fmtRate(max(rates[c])), cores[c].length > 0 ? med(cores[c]).toFixed(2) : 'n/a'
  ]))
  const ratioOfMedians = med(rates.rules) / med(rates.none)
  console.log(`with rules / without: ${ratioOfMedians.toFixed(3)} (ratio of medians); per round ${ratios.map(r => r.toFixed(3)).join(', ')}; goal >= 0.80`)
  console.log(`series relabeled (cache misses) while measuring, per round: ${misses.join(', ')} (0: steady state)`)
  printJson('relabel-e2e', {
    version: o.version,
    sink: o.sink,
    series: o.series,
    seriesPerRequest: o.seriesPerRequest,
    concurrency: o.concurrency,
    durationSeconds: o.durationMs / 1000,
    rounds: o.relabelRounds,
    rules: RELABEL_RULES.length,
    samplesPerSecond: { none: rates.none.map(Math.round), rules: rates.rules.map(Math.round) },
    serverCores: cores,
    ratioOfMedians,
    ratioPerRound: ratios,
    missesWhileMeasuring: misses
  })
}

/** prom_ingest_relabel_cache_misses_total of a running service. */
async function relabelMisses (url: string): Promise<number> {
  const res = await fetch(`${url}/metrics`)
  const m = /^prom_ingest_relabel_cache_misses_total (\S+)$/m.exec(await res.text())
  return m === null ? 0 : Number(m[1])
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err)
  process.exit(1)
})
