/**
 * The bench:e2e load committed to ClickHouse 18.16 (a server started here, on the same machine: it
 * shares the cores), beside the same load into the DuckDB sink and straight into VictoriaMetrics 1.79
 * (`/api/v1/write`, no prom-ingest in between), in interleaved rounds; then disk bytes per sample in
 * ClickHouse after OPTIMIZE TABLE … FINAL.
 *
 *   npm run build && node dist/bench/clickhouse.js [--rounds 3] [--duration 15s] [--concurrency 4] [--template FILE]
 *                                                 [--targets clickhouse,duckdb,victoriametrics] [--victoria-metrics /usr/bin/victoria-metrics]
 *                                                 [--variant 'NAME: SERVE FLAGS' ...] [-- <serve flags for every ClickHouse variant>]
 *
 * `--variant` (repeatable) runs the ClickHouse target once per variant in each round, with these
 * serve flags (for example `--variant 'gap 50ms: --clickhouse-flush-gap 50ms' --variant 'gap 20ms:'`);
 * `--cli=PATH` among them runs another build (`--variant 'main: --cli=/path/to/main/dist/src/cli.js'`).
 *
 * Each round runs `node dist/bench/e2e.js` once per target and reads its JSON line: for the sinks
 * against a service process it starts (`--sink clickhouse|duckdb`), for VictoriaMetrics against the
 * server started here (`--url … --pid …`). The table gives median and spread (min..max) of samples/s
 * committed (2xx), the ratio to DuckDB, p99 latency, and the CPU of the server process(es): prom-ingest
 * (e2e's --pid reading) and, for the ClickHouse target, clickhouse-server's over the same e2e run.
 *
 * For the ClickHouse target the bench starts the prom-ingest service itself (so that it can read its
 * /metrics) and, over e2e's measuring window (from its `measure` progress line to its end), reads where
 * the time goes: CPU of prom-ingest's main thread (HTTP, sink) and of its other threads (decode
 * workers), of clickhouse-server; the sink's flushes, rows per flush and time per flush
 * (prom_ingest_clickhouse_*); ClickHouse's own counters (system.events: INSERTs, blocks it found
 * already sorted, query-thread time, merges). See bench/README.md.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { waitForHealth } from './lib/child-ready.js'
import { clickhouseAvailable, CLICKHOUSE_SERVER, startClickHouse, type ClickHouse } from './lib/clickhouse-server.js'
import { freePort } from './lib/free-port.js'
import { startServe } from './lib/serve-process.js'
import { cpuSeconds } from './lib/proc-stats.js'
import { threadCpuSeconds } from './lib/thread-cpu.js'
import { fmt, printJson, printTable, quantile } from './lib/stats.js'

const HERE = dirname(fileURLToPath(import.meta.url))
const E2E = join(HERE, 'e2e.js')
const CLI = join(HERE, '..', 'src', 'cli.js')

const TARGETS = ['clickhouse', 'duckdb', 'victoriametrics'] as const
type Target = (typeof TARGETS)[number]

interface E2eResult { samplesPerSecond: number, statuses: Record<string, number>, latencyMs: { p50: number, p99: number }, server: { cores: number } | null }
interface Round extends E2eResult { clickhouseCores?: number, where?: WhereTimeGoes }

/** Runs e2e; `onMeasure` is called once when its progress line says it measures. */
async function runE2e (args: string[], onMeasure?: () => void): Promise<E2eResult> {
  const child = spawn(process.execPath, [E2E, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.setEncoding('utf8')
  child.stdout.on('data', (chunk: string) => { out += chunk; process.stdout.write(chunk) })
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (chunk: string) => {
    process.stderr.write(chunk)
    if (onMeasure !== undefined && chunk.includes('measure ')) { onMeasure(); onMeasure = undefined }
  })
  const code = await new Promise<number | null>(resolve => child.once('exit', resolve))
  if (code !== 0) throw new Error(`e2e exited with ${String(code)}`)
  const line = out.split('\n').find(l => l.startsWith('{"bench":"e2e"'))
  if (line === undefined) throw new Error('e2e printed no JSON line')
  return JSON.parse(line) as E2eResult
}

/** The readings taken at the start and the end of the measuring window. */
interface Reading {
  t: number
  ingestMain: number
  ingestOthers: number
  clickhouseCpu: number
  /** prom-ingest's /metrics: name{labels} → value (the prom_ingest_clickhouse_* lines). */
  sink: Map<string, number>
  /** ClickHouse's system.events. */
  events: Map<string, number>
  activeParts: number
}

/** Where the time went over the measuring window of one ClickHouse round. */
interface WhereTimeGoes {
  ingestMainCores: number
  ingestOtherCores: number
  clickhouseCores: number
  flushesPerSecond: number
  samplesPerFlush: number
  msPerFlush: number
  /** INSERTs ClickHouse ran, blocks it found already sorted (no sort needed), rows. */
  inserts: number
  alreadySorted: number
  /** ClickHouse query-thread wall time per INSERT (ms): parse, sort, write the part. */
  insertThreadMs: number
  /** ClickHouse query-thread CPU per INSERT (ms). */
  insertCpuMs: number
  /** Merge time ClickHouse spent per second of the window (ms/s; merges run beside the inserts). */
  mergeMsPerSecond: number
  /** Active parts of the samples table at the end of the window (Too many parts at 300 a partition). */
  activeParts: number
}

async function reading (ingestPid: number, ch: ClickHouse, ingestUrl: string): Promise<Reading> {
  const t = performance.now()
  const threads = threadCpuSeconds(ingestPid)
  const clickhouseCpu = cpuSeconds(ch.pid!)
  const [metrics, events, parts] = await Promise.all([
    fetch(`${ingestUrl}/metrics`).then(async r => await r.text()),
    ch.query('SELECT event, value FROM system.events FORMAT TabSeparated'),
    ch.query("SELECT count() FROM system.parts WHERE active AND database = 'bench' AND table = 'prom_samples' FORMAT TabSeparated")
  ])
  const sink = new Map<string, number>()
  for (const line of metrics.split('\n')) {
    if (!line.startsWith('prom_ingest_clickhouse_')) continue
    const at = line.lastIndexOf(' ')
    sink.set(line.slice(0, at), Number(line.slice(at + 1)))
  }
  const ev = new Map<string, number>()
  for (const line of events.trim().split('\n')) { const [k, v] = line.split('\t'); ev.set(k!, Number(v)) }
  return { t, ingestMain: threads.main, ingestOthers: threads.others, clickhouseCpu, sink, events: ev, activeParts: Number(parts.trim()) }
}

function whereTimeGoes (a: Reading, b: Reading): WhereTimeGoes {
  const s = (b.t - a.t) / 1000
  const sink = (k: string): number => (b.sink.get(k) ?? 0) - (a.sink.get(k) ?? 0)
  const ev = (k: string): number => (b.events.get(k) ?? 0) - (a.events.get(k) ?? 0)
  const flushes = sink('prom_ingest_clickhouse_flushes_total{result="confirmed"}') + sink('prom_ingest_clickhouse_flushes_total{result="failed"}')
  const inserts = ev('InsertQuery')
  return {
    ingestMainCores: (b.ingestMain - a.ingestMain) / s,
    ingestOtherCores: (b.ingestOthers - a.ingestOthers) / s,
    clickhouseCores: (b.clickhouseCpu - a.clickhouseCpu) / s,
    flushesPerSecond: flushes / s,
    samplesPerFlush: sink('prom_ingest_clickhouse_rows_inserted_total{table="samples"}') / flushes,
    msPerFlush: 1000 * sink('prom_ingest_clickhouse_flush_duration_seconds_sum') / flushes,
    inserts,
    alreadySorted: ev('MergeTreeDataWriterBlocksAlreadySorted'),
    // Query threads' time over every query of the window: the INSERTs, and the few SELECTs of the readings.
    insertThreadMs: ev('RealTimeMicroseconds') / 1000 / inserts,
    insertCpuMs: (ev('UserTimeMicroseconds') + ev('SystemTimeMicroseconds')) / 1000 / inserts,
    mergeMsPerSecond: ev('MergesTimeMilliseconds') / s,
    activeParts: b.activeParts
  }
}

interface IngestService { readonly url: string, readonly pid: number, stop(): Promise<void> }

async function startIngest (args: string[], cli = CLI): Promise<IngestService> {
  return await startServe(cli, args)
}

interface VictoriaMetrics { readonly url: string, readonly pid: number, stop(): Promise<void> }

async function startVictoriaMetrics (binary: string): Promise<VictoriaMetrics> {
  const dir = mkdtempSync(join(tmpdir(), 'vm-bench-'))
  const port = await freePort()
  const child: ChildProcess = spawn(binary, [`-storageDataPath=${dir}`, `-httpListenAddr=127.0.0.1:${port}`, '-loggerLevel=ERROR'], { stdio: ['ignore', 'ignore', 'inherit'] })
  const url = `http://127.0.0.1:${port}`
  await waitForHealth(url, child, 'victoria-metrics')
  return {
    url,
    pid: child.pid!,
    async stop () {
      if (child.exitCode === null) {
        child.kill('SIGTERM')
        await new Promise(resolve => child.once('exit', resolve))
      }
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

async function main (): Promise<void> {
  const { values, positionals } = parseArgs({
    options: {
      rounds: { type: 'string', default: '3' },
      duration: { type: 'string', default: '15s' },
      concurrency: { type: 'string', default: '4' },
      template: { type: 'string' },
      targets: { type: 'string', default: TARGETS.join(',') },
      'victoria-metrics': { type: 'string', default: '/usr/bin/victoria-metrics' },
      variant: { type: 'string', multiple: true }
    },
    allowPositionals: true
  })
  const targets = values.targets.split(',').map(t => t.trim()) as Target[]
  for (const t of targets) if (!TARGETS.includes(t)) { console.error(`--targets: ${t} is not one of ${TARGETS.join(', ')}`); process.exit(2) }
  if (!clickhouseAvailable()) { console.error(`${CLICKHOUSE_SERVER} is not installed`); process.exit(2) }
  const vmBinary = values['victoria-metrics']
  if (targets.includes('victoriametrics') && !existsSync(vmBinary)) { console.error(`${vmBinary} is not installed (or pass --targets clickhouse,duckdb)`); process.exit(2) }
  const rounds = Number(values.rounds)
  const common = ['--duration', values.duration, '--concurrency', values.concurrency, ...(values.template !== undefined ? ['--template', values.template] : [])]
  const ch = await startClickHouse()
  const vm = targets.includes('victoriametrics') ? await startVictoriaMetrics(vmBinary) : undefined
  // The rows of the table: the ClickHouse target once per variant (serve flags), each other target once.
  const variants = (values.variant ?? []).map(v => {
    const at = v.indexOf(':')
    const words = at < 0 ? [] : v.slice(at + 1).trim().split(/\s+/).filter(f => f !== '')
    // --cli=PATH: another build's dist/src/cli.js (main's, to compare two commits in one run).
    const cli = words.find(f => f.startsWith('--cli='))?.slice('--cli='.length)
    return { name: at < 0 ? v : v.slice(0, at).trim(), flags: words.filter(f => !f.startsWith('--cli=')), cli }
  })
  if (variants.length === 0) variants.push({ name: '', flags: [], cli: undefined })
  interface Line { key: string, target: Target, flags: string[], cli?: string | undefined }
  const lines: Line[] = targets.flatMap((t): Line[] => t === 'clickhouse'
    ? variants.map(v => ({ key: v.name === '' ? 'prom-ingest → clickhouse' : `prom-ingest → clickhouse (${v.name})`, target: t, flags: v.flags, cli: v.cli }))
    : [{ key: t === 'victoriametrics' ? 'victoriametrics (direct)' : `prom-ingest → ${t}`, target: t, flags: [] }])
  const results = new Map<string, Round[]>(lines.map(l => [l.key, []]))
  try {
    for (let r = 0; r < rounds; r++) {
      for (const { key, target, flags, cli } of lines) {
        const out = results.get(key)!
        if (target === 'clickhouse') {
          // ClickHouse's own CPU over the e2e run (start-up and warm-up included: a rough share).
          const chPid = ch.pid!
          const ingest = await startIngest(['--sink', 'clickhouse', '--clickhouse-url', ch.url, '--clickhouse-database', 'bench', ...flags, ...positionals], cli)
          try {
            const cpu0 = cpuSeconds(chPid)
            const t0 = performance.now()
            let start: Promise<Reading> | undefined
            const res = await runE2e(['--url', ingest.url, '--pid', String(ingest.pid), ...common], () => { start = reading(ingest.pid, ch, ingest.url) })
            const end = await reading(ingest.pid, ch, ingest.url)
            const where = start === undefined ? undefined : whereTimeGoes(await start, end)
            out.push({ ...res, clickhouseCores: (cpuSeconds(chPid) - cpu0) / ((performance.now() - t0) / 1000), where })
          } finally {
            await ingest.stop()
          }
        } else if (target === 'duckdb') {
          out.push(await runE2e(['--sink', 'duckdb', ...common]))
        } else {
          out.push(await runE2e(['--url', vm!.url, '--pid', String(vm!.pid), ...common]))
        }
      }
    }
    // Disk bytes per sample once parts are merged.
    let disk: { samplesBytes: number, samples: number, seriesBytes: number, seriesRows: number } | undefined
    if (targets.includes('clickhouse')) {
      await ch.query('OPTIMIZE TABLE bench.prom_samples FINAL')
      await ch.query('OPTIMIZE TABLE bench.prom_series FINAL')
      const [samplesBytes, samples, seriesBytes, seriesRows] = (await ch.query(`SELECT
        (SELECT sum(bytes_on_disk) FROM system.parts WHERE active AND database = 'bench' AND table = 'prom_samples'),
        (SELECT count() FROM bench.prom_samples),
        (SELECT sum(bytes_on_disk) FROM system.parts WHERE active AND database = 'bench' AND table = 'prom_series'),
        (SELECT count() FROM bench.prom_series) FORMAT TabSeparated`)).trim().split('\t').map(Number) as [number, number, number, number]
      disk = { samplesBytes, samples, seriesBytes, seriesRows }
    }
    const median = (xs: number[]): number => quantile([...xs].sort((a, b) => a - b), 0.5) ?? 0
    const rate = (key: string): number[] => results.get(key)!.map(x => x.samplesPerSecond)
    const duck = targets.includes('duckdb') ? median(rate('prom-ingest → duckdb')) : NaN
    console.log()
    printTable(['target', 'samples/s median', 'spread', 'ratio to duckdb', 'p99 ms (median)', 'server cores (median)', 'clickhouse-server cores'], lines.map(({ key, target }) => [
      key,
      fmt(median(rate(key))),
      `${fmt(Math.min(...rate(key)))}..${fmt(Math.max(...rate(key)))}`,
      (median(rate(key)) / duck).toFixed(2),
      fmt(median(results.get(key)!.map(x => x.latencyMs.p99))),
      median(results.get(key)!.map(x => x.server?.cores ?? NaN)).toFixed(2),
      target === 'clickhouse' ? median(results.get(key)!.map(x => x.clickhouseCores ?? NaN)).toFixed(2) : ''
    ]))
    const chLines = lines.filter(l => l.target === 'clickhouse')
    if (chLines.length > 0) {
      const wheres = (key: string): WhereTimeGoes[] => results.get(key)!.map(x => x.where).filter((w): w is WhereTimeGoes => w !== undefined)
      console.log('\nClickHouse target, over the measuring window (median of the rounds):')
      printTable(['target', 'prom-ingest main thread cores', 'other threads cores', 'clickhouse-server cores', 'flushes/s', 'samples per flush', 'ms per flush',
        'INSERTs found sorted', 'ClickHouse ms per INSERT (thread wall)', 'ClickHouse CPU ms per INSERT', 'merge ms/s', 'active parts at the end'], chLines.map(({ key }) => {
        const m = (f: (w: WhereTimeGoes) => number, digits: number): string => median(wheres(key).map(f)).toFixed(digits)
        return [key, m(w => w.ingestMainCores, 2), m(w => w.ingestOtherCores, 2), m(w => w.clickhouseCores, 2),
        m(w => w.flushesPerSecond, 1), m(w => w.samplesPerFlush, 0), m(w => w.msPerFlush, 1),
        `${m(w => w.alreadySorted, 0)} of ${m(w => w.inserts, 0)}`, m(w => w.insertThreadMs, 1), m(w => w.insertCpuMs, 1), m(w => w.mergeMsPerSecond, 0), m(w => w.activeParts, 0)]
      }))
    }
    if (disk !== undefined) {
      console.log(`ClickHouse after OPTIMIZE FINAL: ${fmt(disk.samples)} samples in ${(disk.samplesBytes / 2 ** 20).toFixed(1)} MiB = ${(disk.samplesBytes / disk.samples).toFixed(2)} bytes/sample; series table ${fmt(disk.seriesRows)} rows, ${(disk.seriesBytes / 2 ** 20).toFixed(1)} MiB`)
    }
    printJson('clickhouse', {
      rounds,
      samplesPerSecond: Object.fromEntries(lines.map(({ key }) => [key, rate(key)])),
      statuses: Object.fromEntries(lines.map(({ key }) => [key, results.get(key)!.map(x => x.statuses)])),
      serverCores: Object.fromEntries(lines.map(({ key }) => [key, results.get(key)!.map(x => x.server?.cores ?? null)])),
      clickhouseServerCores: Object.fromEntries(chLines.map(({ key }) => [key, results.get(key)!.map(x => x.clickhouseCores)])),
      clickhouseWhereTimeGoes: Object.fromEntries(chLines.map(({ key }) => [key, results.get(key)!.map(x => x.where)])),
      clickhouseBytesPerSample: disk === undefined ? undefined : disk.samplesBytes / disk.samples,
      clickhouseSamples: disk?.samples,
      clickhouseSeriesRows: disk?.seriesRows,
      clickhouseSeriesBytes: disk?.seriesBytes
    })
  } finally {
    await vm?.stop()
    await ch.stop()
  }
}

main().catch(err => { console.error(err); process.exit(1) })
