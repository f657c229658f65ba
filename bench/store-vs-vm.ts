/**
 * The store against VictoriaMetrics in one run: interleaved rounds of the e2e load (bench/e2e.ts)
 * against prom-ingest with the DuckDB sink (one or more variants) and against VictoriaMetrics 1.79
 * single-node, each started fresh for its round on an empty data directory and stopped after it.
 *
 *   npm run bench:store -- [--rounds 3] [--duration 20s] [--vm /usr/bin/victoria-metrics]
 *                          [--variant 'name: [ENV=value ...] [serve flags]'] ... [-- e2e flags]
 *
 * Each round runs every case once, the order rotating from round to round so that the machine's load
 * falls on each case alike. A variant's first words may be `root=DIR` (run the build of another
 * checkout, for before/after in one run) and ENV=value (the environment of the service it starts);
 * the rest are extra `prom-ingest serve` flags. Double quotes keep blanks in one word
 * (`NODE_OPTIONS="--max-semi-space-size=1 --optimize-for-size"`). Prints, per case, the median samples/s with
 * its range, the median p99 latency, the median peak RSS, the ratio to VictoriaMetrics per round,
 * and the load average; then one JSON line.
 *
 * prom-ingest runs with the process environment that the container image sets (deploy/Dockerfile:
 * MALLOC_ARENA_MAX, NODE_OPTIONS; bench/lib/deploy-env.ts), as a deployment runs it, and the report
 * says so; a variant's own ENV=value words override it (`ENV=` removes it), `--no-image-env` leaves it out. (The
 * environment reaches the load generator's process too, which starts the service.)
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { request } from 'undici'
import { freePort } from './lib/free-port.js'
import { fmt, printJson, printTable, quantile } from './lib/stats.js'
import { forEachLine } from './lib/lines.js'
import { processEnv } from './lib/deploy-env.js'

const HERE = dirname(fileURLToPath(import.meta.url))
const E2E = join(HERE, 'e2e.js')
const VM_NAME = 'victoria-metrics'

interface Variant {
  readonly name: string
  readonly env: Record<string, string>
  readonly serveArgs: string[]
  /** Another built checkout (its dist/bench/e2e.js starts its own dist/src/cli.js): before/after in one run. */
  readonly root: string | undefined
}

interface Round {
  readonly samplesPerSecond: number
  readonly p99: number
  readonly p50: number
  readonly peakRss: number
  readonly avgRss: number
  readonly cores: number
  readonly load: number
  readonly statuses: Record<string, number>
}

/** The fields of bench/e2e.ts' JSON line that this report uses. */
interface E2eJson {
  samplesPerSecond: number
  latencyMs: { p50: number, p99: number }
  statuses: Record<string, number>
  server: { cores: number, avgRssBytes: number, peakRssBytes: number } | null
}

/** Splits on blanks; double quotes keep blanks in a word and are dropped (`NODE_OPTIONS="--a --b"`). */
function words (text: string): string[] {
  const out: string[] = []
  for (const m of text.matchAll(/(?:"[^"]*"|[^\s"])+/g)) out.push(m[0].replace(/"/g, ''))
  return out
}

function parseVariant (spec: string): Variant {
  const colon = spec.indexOf(':')
  const name = colon < 0 ? spec.trim() : spec.slice(0, colon).trim()
  if (name === '' || name === VM_NAME) throw new Error(`--variant "${spec}": give it a name before ':' (not ${VM_NAME})`)
  const env: Record<string, string> = {}
  const serveArgs: string[] = []
  let root: string | undefined
  for (const word of words(colon < 0 ? '' : spec.slice(colon + 1))) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(word)
    if (word.startsWith('root=') && serveArgs.length === 0) root = word.slice('root='.length)
    else if (m !== null && serveArgs.length === 0) env[m[1]!] = m[2]!
    else serveArgs.push(word)
  }
  return { name, env, serveArgs, root }
}

function loadAverage (): number {
  return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0])
}

/** Runs bench/e2e.js once and returns its JSON line. */
async function runE2e (args: string[], env: Record<string, string>, root?: string): Promise<E2eJson> {
  const e2e = root === undefined ? E2E : join(root, 'dist', 'bench', 'e2e.js')
  // `KEY=` removes KEY: an empty value is not the same as none to everyone (glibc reads an empty
  // MALLOC_MMAP_THRESHOLD_ as 0: every allocation its own mapping).
  const merged: Record<string, string | undefined> = { ...process.env, ...env }
  for (const [k, v] of Object.entries(env)) if (v === '') delete merged[k]
  const child = spawn(process.execPath, [e2e, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: merged })
  let json: E2eJson | undefined
  const tail: string[] = []
  forEachLine([child.stdout!], line => {
    if (line.startsWith('{"bench":"e2e"')) json = JSON.parse(line) as E2eJson
    else { tail.push(line); if (tail.length > 40) tail.shift() }
  })
  child.stderr!.on('data', (b: Buffer) => { const s = b.toString(); if (!s.startsWith('\r')) tail.push(s.trim()) })
  const code = await new Promise<number | null>(resolve => child.once('exit', c => resolve(c)))
  if (code !== 0 || json === undefined) throw new Error(`e2e ${args.join(' ')} exited ${String(code)}:\n${tail.join('\n')}`)
  return json
}

async function startVm (binary: string): Promise<{ url: string, child: ChildProcess, stop: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'prom-ingest-bench-vm-'))
  const port = await freePort()
  const child = spawn(binary, ['-storageDataPath', dir, '-httpListenAddr', `127.0.0.1:${port}`, '-loggerLevel', 'ERROR'], { stdio: 'ignore' })
  const exited = new Promise<void>(resolve => child.once('exit', () => resolve()))
  const url = `http://127.0.0.1:${port}`
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
      await exited
      clearTimeout(timer)
    }
    rmSync(dir, { recursive: true, force: true })
  }
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) { await stop(); throw new Error(`${binary} exited with ${child.exitCode}`) }
    try {
      const res = await request(`${url}/health`)
      await res.body.dump()
      if (res.statusCode === 200) return { url, child, stop }
    } catch { /* not listening yet */ }
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  await stop()
  throw new Error(`${binary} did not answer /health in 30 s`)
}

function toRound (j: E2eJson, load: number): Round {
  return {
    samplesPerSecond: j.samplesPerSecond,
    p50: j.latencyMs.p50,
    p99: j.latencyMs.p99,
    peakRss: j.server?.peakRssBytes ?? NaN,
    avgRss: j.server?.avgRssBytes ?? NaN,
    cores: j.server?.cores ?? NaN,
    load,
    statuses: j.statuses
  }
}

function median (values: number[]): number {
  return quantile([...values].sort((a, b) => a - b), 0.5)
}

async function main (): Promise<void> {
  const { values, positionals } = parseArgs({
    args: process.argv.slice(2),
    allowPositionals: true,
    options: {
      rounds: { type: 'string', default: '3' },
      duration: { type: 'string', default: '20s' },
      vm: { type: 'string', default: '/usr/bin/victoria-metrics' },
      variant: { type: 'string', multiple: true },
      'no-image-env': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false }
    }
  })
  if (values.help) {
    console.log('Usage: node dist/bench/store-vs-vm.js [--rounds 3] [--duration 20s] [--vm BINARY] [--no-image-env] [--variant \'name: [root=DIR] [ENV=v ...] [serve flags]\' (ENV="a b" for blanks)] ... [-- e2e flags]')
    return
  }
  const rounds = Number(values.rounds)
  if (!Number.isSafeInteger(rounds) || rounds < 1) throw new Error(`--rounds: "${values.rounds}" is not a positive integer`)
  const variants = (values.variant ?? ['prom-ingest:']).map(parseVariant)
  const cases = [VM_NAME, ...variants.map(v => v.name)]
  if (new Set(cases).size !== cases.length) throw new Error('two variants have the same name')
  const imageEnv = values['no-image-env'] ? {} : processEnv()
  const imageEnvText = Object.entries(imageEnv).map(([k, v]) => `${k}=${v}`).join(' ')
  const common = ['--duration', values.duration, ...positionals]
  const results = new Map<string, Round[]>(cases.map(c => [c, []]))

  for (let r = 0; r < rounds; r++) {
    const order = cases.map((_, i) => cases[(i + r) % cases.length]!)
    for (const name of order) {
      const load = loadAverage()
      process.stderr.write(`round ${r + 1}/${rounds}: ${name} (load ${load})\n`)
      let j: E2eJson
      if (name === VM_NAME) {
        const vm = await startVm(values.vm)
        try {
          j = await runE2e([...common, '--url', `${vm.url}/api/v1/write`, '--pid', String(vm.child.pid)], {})
        } finally {
          await vm.stop()
        }
      } else {
        const v = variants.find(x => x.name === name)!
        j = await runE2e([...common, '--sink', 'duckdb', '--', ...v.serveArgs], { ...imageEnv, ...v.env }, v.root)
      }
      const round = toRound(j, load)
      results.get(name)!.push(round)
      process.stderr.write(`  ${(round.samplesPerSecond / 1e6).toFixed(3)}M samples/s, p99 ${fmt(round.p99)} ms, RSS peak ${(round.peakRss / 2 ** 20).toFixed(0)} MiB, ${round.cores.toFixed(2)} cores, ${JSON.stringify(round.statuses)}\n`)
    }
  }

  const vm = results.get(VM_NAME)!
  const rows: string[][] = []
  const out: Record<string, unknown> = {}
  for (const name of cases) {
    const rs = results.get(name)!
    const rates = rs.map(x => x.samplesPerSecond)
    const ratios = rs.map((x, i) => x.samplesPerSecond / vm[i]!.samplesPerSecond)
    const s = {
      samplesPerSecond: { median: median(rates), min: Math.min(...rates), max: Math.max(...rates), rounds: rates },
      ratioToVm: { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios) },
      p50Ms: median(rs.map(x => x.p50)),
      p99Ms: { median: median(rs.map(x => x.p99)), max: Math.max(...rs.map(x => x.p99)) },
      peakRssMiB: median(rs.map(x => x.peakRss / 2 ** 20)),
      avgRssMiB: median(rs.map(x => x.avgRss / 2 ** 20)),
      cores: median(rs.map(x => x.cores)),
      cpuMicrosPerSample: median(rs.map(x => x.cores / x.samplesPerSecond * 1e6)),
      loadAverage: median(rs.map(x => x.load))
    }
    out[name] = s
    rows.push([name, `${(s.samplesPerSecond.median / 1e6).toFixed(3)}M`, `${(s.samplesPerSecond.min / 1e6).toFixed(2)}-${(s.samplesPerSecond.max / 1e6).toFixed(2)}M`,
      name === VM_NAME ? '1' : `${s.ratioToVm.median.toFixed(2)} (${s.ratioToVm.min.toFixed(2)}-${s.ratioToVm.max.toFixed(2)})`,
      fmt(s.p50Ms), fmt(s.p99Ms.median), `${s.avgRssMiB.toFixed(0)} / ${s.peakRssMiB.toFixed(0)}`, s.cores.toFixed(2), s.cpuMicrosPerSample.toFixed(2), s.loadAverage.toFixed(1)])
  }
  console.log(`\nstore vs VictoriaMetrics: ${rounds} interleaved rounds of ${values.duration}, e2e flags: ${common.slice(2).join(' ') || '(defaults)'}`)
  console.log(imageEnvText === '' ? 'prom-ingest runs without the image\'s process environment (--no-image-env)' : `prom-ingest runs with the process environment of the container image (deploy/Dockerfile): ${imageEnvText}; a variant's ENV=value words override it`)
  printTable(['case', 'samples/s median', 'range', 'ratio to VM (per round)', 'p50 ms', 'p99 ms', 'RSS avg / peak MiB', 'cores', 'CPU µs/sample', 'load avg'], rows)
  printJson('store-vs-vm', { rounds, duration: values.duration, imageEnv, variants, cases: out })
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err)
  process.exit(1)
})
