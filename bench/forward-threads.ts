/**
 * Where forwarding's CPU goes, per thread (issue 11): the bench:e2e load (its generator,
 * dist/bench/e2e.js, as a child) against the service with each variant, in interleaved rounds, and the
 * user and system CPU of every thread of the service read from /proc/<pid>/task/<tid>/stat over the
 * generator's measured window, in CPU seconds per million acknowledged samples.
 *
 * Threads are told apart by a preload (bench/lib/thread-roles.cts): main, the forward worker, the
 * other workers (the decode pool), the threads that exist before the service's code runs (V8's
 * platform workers: GC and compiler helpers, and Node's own), and the rest (libuv's pool: fdatasync,
 * file reads). The destination is a receiver in a process of its own (this file with --receiver: reads
 * each body, answers 204), whose CPU is reported beside the service's.
 *
 *   node dist/bench/forward-threads.js [--rounds 3] [--duration 10s] [--concurrency 4]
 *        [--variant name=sink[@root]] ...   (default: forward=forward discard=discard; root: another
 *                                            build of the project, e.g. a checkout of main, to compare)
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { childExited, listeningPort, stopChild } from './lib/child-ready.js'
import { forEachLine } from './lib/lines.js'
import { Timeline } from './lib/proc-stats.js'
import { printJson, printTable, quantile } from './lib/stats.js'

const HERE = dirname(fileURLToPath(import.meta.url))
const ROOT = HERE.endsWith(join('dist', 'bench')) ? resolve(HERE, '..', '..') : resolve(HERE, '..')
const CLOCK_TICKS = 100
const ROLES = ['main', 'other workers', 'forward worker', 'startup (V8 helpers)', 'libuv pool', 'service', 'receiver'] as const
type Role = typeof ROLES[number]

interface Variant { name: string, sink: 'forward' | 'discard', root: string }

/** user and system CPU seconds of each thread of `pid` now. */
function threadTimes (pid: number): Map<number, { user: number, sys: number }> {
  const out = new Map<number, { user: number, sys: number }>()
  let tids: string[] = []
  try { tids = readdirSync(`/proc/${pid}/task`) } catch { return out }
  for (const tid of tids) {
    let stat: string
    try { stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8') } catch { continue }
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    out.set(Number(tid), { user: Number(f[11]) / CLOCK_TICKS, sys: Number(f[12]) / CLOCK_TICKS })
  }
  return out
}


async function runReceiver (): Promise<void> {
  const server = createServer((req, res) => {
    req.on('data', () => {})
    req.on('end', () => { res.statusCode = 204; res.end() })
  })
  server.keepAliveTimeout = 60_000
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  console.log(JSON.stringify({ msg: 'listening', port: (server.address() as AddressInfo).port }))
  process.on('SIGTERM', () => { server.closeAllConnections(); server.close(() => process.exit(0)) })
}


interface RoundCpu { samplesPerSecond: number, cpu: Record<Role, { user: number, sys: number }> }

async function round (v: Variant, receiverUrl: string, receiverPid: number, o: { duration: string, concurrency: string }): Promise<RoundCpu> {
  const dir = mkdtempSync(join(tmpdir(), 'prom-ingest-bench-threads-'))
  const rolesFile = join(dir, 'threads.jsonl')
  const args = ['--require', join(ROOT, 'dist', 'bench', 'lib', 'thread-roles.cjs'), join(v.root, 'dist', 'src', 'cli.js'), 'serve', '--listen', '127.0.0.1:0', '--sink', v.sink, '--log-level', 'warn', '--data-dir', join(dir, 'data')]
  if (v.sink === 'forward') args.push('--forward-url', receiverUrl)
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, BENCH_THREAD_ROLES: rolesFile } })
  try {
    const port = await listeningPort(child)
    const pid = child.pid!
    const timeline = new Timeline(() => ({ service: threadTimes(pid), receiver: threadTimes(receiverPid) }), 100)
    timeline.start()
    const gen = spawn(process.execPath, [join(ROOT, 'dist', 'bench', 'e2e.js'), '--url', `http://127.0.0.1:${port}`, '--duration', o.duration, '--concurrency', o.concurrency], { stdio: ['ignore', 'pipe', 'inherit'] })
    let json: { samplesPerSecond: number, window: { fromMs?: number, toMs?: number } } | undefined
    forEachLine([gen.stdout!], line => {
      if (!line.startsWith('{')) return
      try { const j = JSON.parse(line) as { bench?: string }; if (j.bench === 'e2e') json = j as never } catch {}
    })
    await childExited(gen)
    timeline.stop()
    const from = json?.window.fromMs
    const to = json?.window.toMs
    if (json === undefined || from === undefined || to === undefined) throw new Error('bench:e2e reported no measured window')
    const { first: a, last: b, seconds } = timeline.window(from, to)
    const roles = new Map<number, Role>()
    for (const line of readFileSync(rolesFile, 'utf8').split('\n')) {
      if (line === '') continue
      const r = JSON.parse(line) as { tid: number, role: string, startup?: number[] }
      roles.set(r.tid, r.role === 'main' ? 'main' : r.role === 'forward worker' ? 'forward worker' : 'other workers')
      for (const t of r.startup ?? []) roles.set(t, 'startup (V8 helpers)')
    }
    const cpu = Object.fromEntries(ROLES.map(r => [r, { user: 0, sys: 0 }])) as Record<Role, { user: number, sys: number }>
    // CPU s per million samples: (CPU s / wall s) / (samples / s) * 1e6.
    const per = 1e6 / seconds / json.samplesPerSecond
    const add = (role: Role, before: { user: number, sys: number } | undefined, after: { user: number, sys: number }): void => {
      cpu[role].user += (after.user - (before?.user ?? 0)) * per
      cpu[role].sys += (after.sys - (before?.sys ?? 0)) * per
    }
    for (const [tid, t] of b.service) {
      const role = roles.get(tid) ?? 'libuv pool'
      add(role, a.service.get(tid), t)
      add('service', a.service.get(tid), t)
    }
    for (const [tid, t] of b.receiver) add('receiver', a.receiver.get(tid), t)
    return { samplesPerSecond: json.samplesPerSecond, cpu }
  } finally {
    await stopChild(child)
    rmSync(dir, { recursive: true, force: true })
  }
}

function median (xs: readonly number[]): number { return quantile([...xs].sort((a, b) => a - b), 0.5) }

async function main (): Promise<void> {
  const { values } = parseArgs({
    options: {
      receiver: { type: 'boolean', default: false },
      rounds: { type: 'string', default: '3' },
      duration: { type: 'string', default: '10s' },
      concurrency: { type: 'string', default: '4' },
      variant: { type: 'string', multiple: true }
    }
  })
  if (values.receiver) { await runReceiver(); return }
  const variants: Variant[] = (values.variant ?? ['forward=forward', 'discard=discard']).map(s => {
    const m = /^([^=]+)=(forward|discard)(?:@(.+))?$/.exec(s)
    if (m === null) throw new Error(`--variant name=forward|discard[@root], got ${s}`)
    return { name: m[1]!, sink: m[2] as 'forward' | 'discard', root: resolve(m[3] ?? ROOT) }
  })
  const rounds = Number(values.rounds)
  const receiver = spawn(process.execPath, [fileURLToPath(import.meta.url), '--receiver'], { stdio: ['ignore', 'pipe', 'pipe'] })
  const results = new Map<string, RoundCpu[]>(variants.map(v => [v.name, []]))
  try {
    const port = await listeningPort(receiver)
    const url = `http://127.0.0.1:${port}/api/v1/write`
    for (let r = 0; r < rounds; r++) {
      // Interleaved, the order rotating per round.
      for (let i = 0; i < variants.length; i++) {
        const v = variants[(i + r) % variants.length]!
        const res = await round(v, url, receiver.pid!, { duration: values.duration, concurrency: values.concurrency })
        results.get(v.name)!.push(res)
        console.error(`round ${r + 1} ${v.name}: ${(res.samplesPerSecond / 1e6).toFixed(2)}M samples/s, service ${(res.cpu.service.user + res.cpu.service.sys).toFixed(3)} CPU s / M samples (main ${(res.cpu.main.user + res.cpu.main.sys).toFixed(3)}, forward worker ${(res.cpu['forward worker'].user + res.cpu['forward worker'].sys).toFixed(3)})`)
      }
    }
  } finally {
    await stopChild(receiver)
  }
  console.log(`\nforward-threads: bench:e2e load, concurrency ${values.concurrency}, ${rounds} interleaved rounds of ${values.duration}; CPU s per million acknowledged samples, median of rounds (user + system, and system alone)`)
  const header = ['variant', 'samples/s', ...ROLES]
  const rows = variants.map(v => {
    const rs = results.get(v.name)!
    return [v.name, `${(median(rs.map(x => x.samplesPerSecond)) / 1e6).toFixed(2)}M`, ...ROLES.map(role => {
      const total = median(rs.map(x => x.cpu[role].user + x.cpu[role].sys))
      const sys = median(rs.map(x => x.cpu[role].sys))
      const lo = Math.min(...rs.map(x => x.cpu[role].user + x.cpu[role].sys))
      const hi = Math.max(...rs.map(x => x.cpu[role].user + x.cpu[role].sys))
      return `${total.toFixed(3)} (${lo.toFixed(2)}–${hi.toFixed(2)}; sys ${sys.toFixed(3)})`
    })]
  })
  printTable(header, rows)
  printJson('forward-threads', { rounds, duration: values.duration, concurrency: Number(values.concurrency), variants, results: Object.fromEntries(results) })
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err)
  process.exit(1)
})
