/**
 * The bench:e2e load committed to ClickHouse 18.16 (a server started here, on the same machine: it
 * shares the cores), beside the same load into the DuckDB sink, in interleaved rounds; then disk bytes
 * per sample in ClickHouse after OPTIMIZE TABLE … FINAL.
 *
 *   npm run build && node dist/bench/clickhouse.js [--rounds 3] [--duration 15s] [--concurrency 4] [--template FILE]
 *
 * Each round runs `node dist/bench/e2e.js --sink <sink>` (its own service process) once per sink and
 * reads its JSON line; the table gives median and spread (min..max) of samples/s committed (2xx) and
 * the ratio to DuckDB. See bench/README.md.
 */
import { spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { clickhouseAvailable, CLICKHOUSE_SERVER, startClickHouse } from './lib/clickhouse-server.js'
import { fmt, printJson, printTable, quantile } from './lib/stats.js'

const HERE = dirname(fileURLToPath(import.meta.url))
const E2E = join(HERE, 'e2e.js')

interface E2eResult { samplesPerSecond: number, statuses: Record<string, number>, latencyMs: { p50: number, p99: number }, server: { cores: number } | null }

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

async function main (): Promise<void> {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '3' },
      duration: { type: 'string', default: '15s' },
      concurrency: { type: 'string', default: '4' },
      template: { type: 'string' }
    }
  })
  if (!clickhouseAvailable()) { console.error(`${CLICKHOUSE_SERVER} is not installed`); process.exit(2) }
  const rounds = Number(values.rounds)
  const common = ['--duration', values.duration!, '--concurrency', values.concurrency!, ...(values.template !== undefined ? ['--template', values.template] : [])]
  const ch = await startClickHouse()
  const results: Record<'clickhouse' | 'duckdb', E2eResult[]> = { clickhouse: [], duckdb: [] }
  try {
    for (let r = 0; r < rounds; r++) {
      results.clickhouse.push(await runE2e(['--sink', 'clickhouse', ...common, '--', '--clickhouse-url', ch.url, '--clickhouse-database', 'bench']))
      results.duckdb.push(await runE2e(['--sink', 'duckdb', ...common]))
    }
    // Disk bytes per sample once parts are merged.
    await ch.query('OPTIMIZE TABLE bench.prom_samples FINAL')
    await ch.query('OPTIMIZE TABLE bench.prom_series FINAL')
    const [samplesBytes, samples, seriesBytes, seriesRows] = (await ch.query(`SELECT
      (SELECT sum(bytes_on_disk) FROM system.parts WHERE active AND database = 'bench' AND table = 'prom_samples'),
      (SELECT count() FROM bench.prom_samples),
      (SELECT sum(bytes_on_disk) FROM system.parts WHERE active AND database = 'bench' AND table = 'prom_series'),
      (SELECT count() FROM bench.prom_series) FORMAT TabSeparated`)).trim().split('\t').map(Number) as [number, number, number, number]
    const median = (xs: number[]): number => quantile([...xs].sort((a, b) => a - b), 0.5) ?? 0
    const rate = (sink: 'clickhouse' | 'duckdb'): number[] => results[sink].map(x => x.samplesPerSecond)
    const duck = median(rate('duckdb'))
    console.log()
    printTable(['sink', 'samples/s median', 'spread', 'ratio to duckdb', 'p99 ms (median)'], (['clickhouse', 'duckdb'] as const).map(sink => [
      sink,
      fmt(median(rate(sink))),
      `${fmt(Math.min(...rate(sink)))}..${fmt(Math.max(...rate(sink)))}`,
      (median(rate(sink)) / duck).toFixed(2),
      fmt(median(results[sink].map(x => x.latencyMs.p99)))
    ]))
    console.log(`ClickHouse after OPTIMIZE FINAL: ${fmt(samples)} samples in ${(samplesBytes / 2 ** 20).toFixed(1)} MiB = ${(samplesBytes / samples).toFixed(2)} bytes/sample; series table ${fmt(seriesRows)} rows, ${(seriesBytes / 2 ** 20).toFixed(1)} MiB`)
    printJson('clickhouse', {
      rounds,
      samplesPerSecond: { clickhouse: rate('clickhouse'), duckdb: rate('duckdb') },
      statuses: { clickhouse: results.clickhouse.map(x => x.statuses), duckdb: results.duckdb.map(x => x.statuses) },
      clickhouseBytesPerSample: samplesBytes / samples,
      clickhouseSamples: samples,
      clickhouseSeriesRows: seriesRows,
      clickhouseSeriesBytes: seriesBytes
    })
  } finally {
    await ch.stop()
  }
}

main().catch(err => { console.error(err); process.exit(1) })
