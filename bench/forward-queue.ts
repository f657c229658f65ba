/**
 * Forward queue append throughput: `--writers` concurrent appenders (each waits for its append to be
 * fsync'd before the next, as a request waits for its 204) put records of `--bytes` bytes into a
 * DurableLog in a temp directory for `--duration` seconds, optionally with `--readers` cursors reading
 * and committing everything behind them (as destinations do). Reports appends/s, MB/s, fsyncs/s,
 * records per fsync group, append latency and the process' CPU; then how long it takes to open the
 * queue again (every record read back and its CRC checked).
 *
 * `npm run build && node dist/bench/forward-queue.js [--writers 4] [--bytes 215391] [--duration 10] [--readers 0] [--dir DIR]`
 * The temp directory is on the same file system as the data directory would be (os.tmpdir() unless --dir).
 *
 * To compare builds: `--variant name@root` (repeatable; root: a directory holding another build's dist/,
 * e.g. a build of main) with `--rounds N` runs this bench of each build as a child, in N interleaved
 * rounds (the order rotating per round), and prints medians, spreads and the ratio to the first variant.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { DurableLog } from '../src/queue/durable-log.js'
import { fmt, printJson, printTable, quantile } from './lib/stats.js'

const { values } = parseArgs({
  options: {
    writers: { type: 'string', default: '4' },
    bytes: { type: 'string', default: '215391' },
    duration: { type: 'string', default: '10' },
    readers: { type: 'string', default: '0' },
    dir: { type: 'string' },
    variant: { type: 'string', multiple: true },
    rounds: { type: 'string', default: '3' }
  }
})
if (values.variant !== undefined) {
  compare(values.variant, Number(values.rounds))
  process.exit(0)
}
const writers = Number(values.writers)
const bytes = Number(values.bytes)
const durationMs = Number(values.duration) * 1000
const readers = Number(values.readers)

const dir = mkdtempSync(join(values.dir ?? tmpdir(), 'prom-ingest-queue-bench-'))
try {
  const log = await DurableLog.open({ dir })
  const body = new Uint8Array(bytes)
  for (let i = 0; i < bytes; i++) body[i] = (i * 2654435761) >>> 24
  const latencies: number[] = []
  let appended = 0
  let stop = false
  const before = log.stats()
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()

  const writer = async (): Promise<void> => {
    while (!stop) {
      const s = performance.now()
      await log.append([body])
      latencies.push(performance.now() - s)
      appended++
    }
  }
  let read = 0
  const reader = async (name: string): Promise<void> => {
    const c = log.cursor(name, { start: 'head' })
    while (!stop) {
      const batch = await c.read(16, 8 << 20)
      if (batch.length === 0) { await Promise.race([c.waitForData(), new Promise(resolve => setTimeout(resolve, 50))]); continue }
      read += batch.length
      await c.commit(batch[batch.length - 1]!.next)
    }
  }
  const timer = setTimeout(() => { stop = true }, durationMs)
  await Promise.all([...Array.from({ length: writers }, writer), ...Array.from({ length: readers }, async (_, k) => await reader(`r${k}`))])
  clearTimeout(timer)
  const seconds = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  const after = log.stats()
  await log.close()
  // Start-up after a stop: open reads every record back and checks its CRC (the files are in the page cache).
  const r0 = performance.now()
  const reopened = await DurableLog.open({ dir })
  const reopenMs = performance.now() - r0
  await reopened.close()

  latencies.sort((a, b) => a - b)
  const fsyncs = after.fsyncs - before.fsyncs
  const groups = after.appendGroups - before.appendGroups
  const result = {
    writers, bytes, readers, seconds,
    appendsPerSec: appended / seconds,
    mbPerSec: appended * bytes / 1e6 / seconds,
    fsyncsPerSec: fsyncs / seconds,
    recordsPerGroup: appended / groups,
    latencyP50: quantile(latencies, 0.5),
    latencyP99: quantile(latencies, 0.99),
    readsPerSec: read / seconds,
    cpuCores: (cpu.user + cpu.system) / 1e6 / seconds,
    queueBytes: after.bytes,
    reopenMs,
    reopenMbPerSec: after.bytes / 1e6 / (reopenMs / 1e3)
  }
  console.log(`forward queue: ${writers} writers, ${bytes}-byte records, ${readers} readers, ${fmt(seconds)} s, ${dir}`)
  printTable(['appends/s', 'MB/s', 'fsyncs/s', 'records/group', 'p50 ms', 'p99 ms', 'reads/s', 'CPU cores', 'reopen ms', 'reopen MB/s'], [[
    fmt(result.appendsPerSec), fmt(result.mbPerSec), fmt(result.fsyncsPerSec), fmt(result.recordsPerGroup), fmt(result.latencyP50), fmt(result.latencyP99), fmt(result.readsPerSec), fmt(result.cpuCores, 2),
    fmt(reopenMs), fmt(result.reopenMbPerSec)
  ]])
  printJson('forward-queue', result)
} finally {
  rmSync(dir, { recursive: true, force: true })
}

/** Runs each variant's build of this bench as a child, in interleaved rounds; prints medians, spreads and ratios. */
function compare (specs: readonly string[], rounds: number): void {
  const here = dirname(fileURLToPath(import.meta.url))
  const variants = specs.map(spec => {
    const m = /^([^@]+)@(.+)$/.exec(spec)
    if (m === null) throw new Error(`--variant name@root, got ${spec}`)
    return { name: m[1]!, script: join(resolve(m[2]!), 'dist', 'bench', 'forward-queue.js') }
  })
  if (variants.length === 0) throw new Error('--variant name@root, at least one')
  const args = ['--writers', values.writers, '--bytes', values.bytes, '--duration', values.duration, '--readers', values.readers, ...(values.dir === undefined ? [] : ['--dir', values.dir])]
  type Result = { appendsPerSec: number, latencyP50: number, latencyP99: number, cpuCores: number, fsyncsPerSec: number }
  const results = new Map<string, Result[]>(variants.map(v => [v.name, []]))
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < variants.length; i++) {
      const v = variants[(i + r) % variants.length]!
      const out = execFileSync(process.execPath, [v.script, ...args], { encoding: 'utf8', cwd: here })
      const line = out.split('\n').find(l => l.startsWith('{') && l.includes('"forward-queue"'))
      if (line === undefined) throw new Error(`${v.name}: no result line in\n${out}`)
      const res = JSON.parse(line) as Result
      results.get(v.name)!.push(res)
      console.error(`round ${r + 1} ${v.name}: ${fmt(res.appendsPerSec)} appends/s, p50 ${fmt(res.latencyP50)} ms, p99 ${fmt(res.latencyP99)} ms, ${fmt(res.cpuCores, 2)} cores`)
    }
  }
  const med = (xs: number[]): number => quantile([...xs].sort((a, b) => a - b), 0.5)
  const cell = (xs: number[], digits = 3): string => `${fmt(med(xs), digits)} (${fmt(Math.min(...xs), digits)}–${fmt(Math.max(...xs), digits)})`
  const first = results.get(variants[0]!.name)!
  console.log(`\nforward queue: ${values.writers} writers, ${values.bytes}-byte records, ${values.readers} readers, ${rounds} interleaved rounds of ${values.duration} s; median (min–max)`)
  printTable(['variant', 'appends/s', 'p50 ms', 'p99 ms', 'fsyncs/s', 'CPU ms per append', 'appends/s ÷ first', 'p50 ÷ first'], variants.map(v => {
    const rs = results.get(v.name)!
    const cpuMs = rs.map(x => x.cpuCores * 1000 / x.appendsPerSec)
    return [v.name, cell(rs.map(x => x.appendsPerSec)), cell(rs.map(x => x.latencyP50)), cell(rs.map(x => x.latencyP99)), cell(rs.map(x => x.fsyncsPerSec)), cell(cpuMs),
      fmt(med(rs.map(x => x.appendsPerSec)) / med(first.map(x => x.appendsPerSec)), 2), fmt(med(rs.map(x => x.latencyP50)) / med(first.map(x => x.latencyP50)), 2)]
  }))
  printJson('forward-queue-compare', { rounds, args, results: Object.fromEntries(results) })
}
