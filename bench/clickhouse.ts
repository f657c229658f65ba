/**
 * The bench:e2e load committed to ClickHouse 18.16 (a server started here, on the same machine: it
 * shares the cores), beside the same load into the DuckDB sink and straight into VictoriaMetrics 1.79
 * (`/api/v1/write`, no prom-ingest in between), in interleaved rounds; then disk bytes per sample in
 * ClickHouse after OPTIMIZE TABLE … FINAL.
 *
 *   npm run build && node dist/bench/clickhouse.js [--rounds 3] [--duration 15s] [--concurrency 4] [--template FILE]
 *                                                 [--targets clickhouse,duckdb,victoriametrics] [--victoria-metrics /usr/bin/victoria-metrics]
 *
 * Each round runs `node dist/bench/e2e.js` once per target and reads its JSON line: for the sinks
 * against a service process it starts (`--sink clickhouse|duckdb`), for VictoriaMetrics against the
 * server started here (`--url … --pid …`). The table gives median and spread (min..max) of samples/s
 * committed (2xx), the ratio to DuckDB, p99 latency, and the CPU of the server process(es): prom-ingest
 * (e2e's --pid reading) and, for the ClickHouse target, clickhouse-server's over the same e2e run.
 * See bench/README.md.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { waitForHealth } from './lib/child-ready.js'
import { clickhouseAvailable, CLICKHOUSE_SERVER, startClickHouse } from './lib/clickhouse-server.js'
import { freePort } from './lib/free-port.js'
import { cpuSeconds } from './lib/proc-stats.js'
import { fmt, printJson, printTable, quantile } from './lib/stats.js'

const HERE = dirname(fileURLToPath(import.meta.url))
const E2E = join(HERE, 'e2e.js')

const TARGETS = ['clickhouse', 'duckdb', 'victoriametrics'] as const
type Target = (typeof TARGETS)[number]

interface E2eResult { samplesPerSecond: number, statuses: Record<string, number>, latencyMs: { p50: number, p99: number }, server: { cores: number } | null }
interface Round extends E2eResult { clickhouseCores?: number }

async function runE2e (args: string[]): Promise<E2eResult> {
  const child = spawn(process.execPath, [E2E, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  child.stdout.setEncoding('utf8')
  child.stdout.on('data', (chunk: string) => { out += chunk; process.stdout.write(chunk) })
  const code = await new Promise<number | null>(resolve => child.once('exit', resolve))
  if (code !== 0) throw new Error(`e2e exited with ${String(code)}`)
  const line = out.split('\n').find(l => l.startsWith('{"bench":"e2e"'))
  if (line === undefined) throw new Error('e2e printed no JSON line')
  return JSON.parse(line) as E2eResult
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
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '3' },
      duration: { type: 'string', default: '15s' },
      concurrency: { type: 'string', default: '4' },
      template: { type: 'string' },
      targets: { type: 'string', default: TARGETS.join(',') },
      'victoria-metrics': { type: 'string', default: '/usr/bin/victoria-metrics' }
    }
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
  const results: Record<Target, Round[]> = { clickhouse: [], duckdb: [], victoriametrics: [] }
  try {
    for (let r = 0; r < rounds; r++) {
      for (const target of targets) {
        if (target === 'clickhouse') {
          // ClickHouse's own CPU over the e2e run (start-up and warm-up included: a rough share).
          const chPid = ch.pid!
          const cpu0 = cpuSeconds(chPid)
          const t0 = performance.now()
          const res = await runE2e(['--sink', 'clickhouse', ...common, '--', '--clickhouse-url', ch.url, '--clickhouse-database', 'bench'])
          results.clickhouse.push({ ...res, clickhouseCores: (cpuSeconds(chPid) - cpu0) / ((performance.now() - t0) / 1000) })
        } else if (target === 'duckdb') {
          results.duckdb.push(await runE2e(['--sink', 'duckdb', ...common]))
        } else {
          results.victoriametrics.push(await runE2e(['--url', vm!.url, '--pid', String(vm!.pid), ...common]))
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
    const rate = (t: Target): number[] => results[t].map(x => x.samplesPerSecond)
    const duck = targets.includes('duckdb') ? median(rate('duckdb')) : NaN
    console.log()
    printTable(['target', 'samples/s median', 'spread', 'ratio to duckdb', 'p99 ms (median)', 'server cores (median)', 'clickhouse-server cores'], targets.map(t => [
      t === 'victoriametrics' ? 'victoriametrics (direct)' : `prom-ingest → ${t}`,
      fmt(median(rate(t))),
      `${fmt(Math.min(...rate(t)))}..${fmt(Math.max(...rate(t)))}`,
      (median(rate(t)) / duck).toFixed(2),
      fmt(median(results[t].map(x => x.latencyMs.p99))),
      median(results[t].map(x => x.server?.cores ?? NaN)).toFixed(2),
      t === 'clickhouse' ? median(results[t].map(x => x.clickhouseCores ?? NaN)).toFixed(2) : ''
    ]))
    if (disk !== undefined) {
      console.log(`ClickHouse after OPTIMIZE FINAL: ${fmt(disk.samples)} samples in ${(disk.samplesBytes / 2 ** 20).toFixed(1)} MiB = ${(disk.samplesBytes / disk.samples).toFixed(2)} bytes/sample; series table ${fmt(disk.seriesRows)} rows, ${(disk.seriesBytes / 2 ** 20).toFixed(1)} MiB`)
    }
    printJson('clickhouse', {
      rounds,
      samplesPerSecond: Object.fromEntries(targets.map(t => [t, rate(t)])),
      statuses: Object.fromEntries(targets.map(t => [t, results[t].map(x => x.statuses)])),
      serverCores: Object.fromEntries(targets.map(t => [t, results[t].map(x => x.server?.cores ?? null)])),
      clickhouseServerCores: results.clickhouse.map(x => x.clickhouseCores),
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
