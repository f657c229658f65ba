/**
 * Forwarding throughput (issue "Forward ... with a durable on-disk queue", Benchmark): the bench:e2e load
 * (its generator, dist/bench/e2e.js, run as a child with --url) against four targets, in interleaved
 * rounds of the same run, every target started afresh each round:
 *
 *   forward   prom-ingest --sink forward --forward-url <discard receiver>  (durable queue, fsync before 204)
 *   vmagent   Debian's vmagent -remoteWrite.url <discard receiver> -remoteWrite.tmpDataPath <dir>
 *   gateway   the same forward target with --forward-decode validate-only (no series index in the decode)
 *   discard   prom-ingest --sink discard (receiving alone: the pass-through goal is within 15% of it)
 *
 * The discard receiver is an HTTP server in this process that reads each body, answers 204, and writes
 * the bodies of the round to a file with the time each arrived; after the round (never while the load
 * runs) it counts the samples in them. Reported per target:
 *   - acknowledged samples/s: 2xx at the front over the generator's measured window (the issue's headline);
 *   - delivered samples/s: samples the receiver got inside that same window, ÷ its length. vmagent
 *     answers before it sends (and fsyncs at most once a second), so its acknowledged rate can run ahead
 *     of what it forwards; prom-ingest answers after the queue's fsync, and its sender follows;
 *   - drain: seconds from the end of the load until the receiver got the last of the backlog (the
 *     target's queue metric at 0 and nothing received for 2 s; bounded by --drain-timeout);
 *   - p99 latency, server RSS and CPU (the generator's /proc sampling), the backlog in the queue when
 *     the load stopped, and for prom-ingest the queue's fsyncs per second;
 *   - where the machine's cores went in the window: busy in all (/proc/stat), the server, the
 *     generator, the receiver. The machine is busy on every core in these runs, so a target's samples/s
 *     follows the CPU per sample of everything on it, the receiver's included.
 *
 *   npm run bench:forward -- [--rounds 3] [--duration 15s] [--concurrency 4] [--series 160000]
 *                            [--series-per-request 10000] [--template PATH] [--vmagent /usr/bin/vmagent]
 *                            [--targets forward,gateway,vmagent,discard] [--serve-node-arg FLAG ...]
 *
 * `--serve-node-arg` (repeatable) gives node a flag before the script of the prom-ingest targets only
 * (forward, gateway, discard), for V8 flags that NODE_OPTIONS refuses, as the gateway overlay starts
 * it (`--serve-node-arg=--initial-old-space-size=64`); vmagent, the receiver and the generator run as before.
 */
import { spawn } from 'node:child_process'
import { closeSync, ftruncateSync, mkdtempSync, openSync, readSync, rmSync, writevSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { availableParallelism, tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { request } from 'undici'
import { childExited, listeningPort, stopChild, waitForHealth } from './lib/child-ready.js'
import { forEachLine } from './lib/lines.js'
import { fmt, printJson, printTable, quantile } from './lib/stats.js'
import { freePort } from './lib/free-port.js'
import { countSamples } from './lib/count-samples.js'
import { machineAndOwnCpu, Timeline } from './lib/proc-stats.js'

const HERE = dirname(fileURLToPath(import.meta.url))
const ROOT = HERE.endsWith(join('dist', 'bench')) ? resolve(HERE, '..', '..') : resolve(HERE, '..')
const CLI = join(ROOT, 'dist', 'src', 'cli.js')
const E2E = join(ROOT, 'dist', 'bench', 'e2e.js')

type TargetName = 'forward' | 'gateway' | 'vmagent' | 'discard'
const TARGETS: readonly TargetName[] = ['forward', 'gateway', 'vmagent', 'discard']

interface Target { url: string, pid: number, stop(): Promise<void>, backlogBytes(): Promise<number>, fsyncs(): Promise<number | undefined> }

interface E2eJson {
  samplesPerSecond: number
  durationSeconds: number
  latencyMs: { p50: number, p99: number }
  statuses: Record<string, number>
  window: { fromMs: number | undefined, toMs: number | undefined }
  server: { cores: number, avgRssBytes: number, peakRssBytes: number } | null
  generatorCores: number
}

interface RoundResult {
  samplesPerSecond: number
  /** Samples the receiver got inside the measured window ÷ its length (discard: the acknowledged rate, it is the end). */
  deliveredPerSecond: number
  /** Seconds from the end of the load to the last delivery of the backlog; undefined when it did not drain in time. */
  drainSeconds: number | undefined
  p99Ms: number
  rssMiB: number
  cores: number
  receivedMiBps: number
  receivedRequests: number
  backlogMiB: number
  fsyncsPerSecond: number | undefined
  statuses: Record<string, number>
  /** Cores busy in the measured window: the whole machine's (/proc/stat), the generator's, and the receiver's (this process). */
  machineCores: number
  generatorCores: number
  receiverCores: number
}

function opts (): { rounds: number, duration: string, concurrency: string, series: string, perRequest: string, template: string | undefined, vmagent: string, drainTimeoutS: number, targets: TargetName[], serveNodeArgs: string[] } {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '3' },
      duration: { type: 'string', default: '15s' },
      concurrency: { type: 'string', default: '4' },
      series: { type: 'string', default: '160000' },
      'series-per-request': { type: 'string', default: '10000' },
      template: { type: 'string' },
      vmagent: { type: 'string', default: '/usr/bin/vmagent' },
      'drain-timeout': { type: 'string', default: '120' },
      targets: { type: 'string', default: TARGETS.join(',') },
      'serve-node-arg': { type: 'string', multiple: true, default: [] }
    }
  })
  const targets = values.targets.split(',').map(t => t.trim()) as TargetName[]
  for (const t of targets) if (!TARGETS.includes(t)) throw new Error(`--targets: unknown target ${t} (known: ${TARGETS.join(', ')})`)
  return { rounds: Number(values.rounds), duration: values.duration, concurrency: values.concurrency, series: values.series, perRequest: values['series-per-request'], template: values.template, vmagent: values.vmagent, drainTimeoutS: Number(values['drain-timeout']), targets, serveNodeArgs: values['serve-node-arg'] }
}

/** A body the receiver got: when, and where it is in the receiver's file. */
interface Delivery { readonly atMs: number, readonly from: number, readonly to: number }

interface Receiver {
  url: string
  counts: { requests: number, bytes: number, lastAtMs: number }
  /** The bodies received since the last take(), with their arrival times. */
  take(): Delivery[]
  /** A body taken, read back from the file (until clear()). */
  body(d: Delivery): Buffer
  /** Forgets every body received so far. */
  clear(): void
  close(): Promise<void>
}

/**
 * The receiver every forwarder sends to: reads the body, answers 204, counts, and keeps the body for
 * counting its samples after the round. It stands in for a destination on another machine, so it
 * should take as little of the 2 cores as it can: each body is written to a file once it is whole
 * (the page cache takes it), not kept in memory. Keeping 10 s of bodies in the heap (up to 900 MB)
 * cost 0.8 ms of CPU per 223 KB request, the file 0.4 ms, dropping them 0.25 ms (one sender, 3,000
 * requests, 2026-12-04; the receiver took half a core with the forward target).
 */
async function startDiscardReceiver (): Promise<Receiver> {
  const counts = { requests: 0, bytes: 0, lastAtMs: 0 }
  const dir = mkdtempSync(join(tmpdir(), 'prom-ingest-bench-receiver-'))
  const fd = openSync(join(dir, 'bodies'), 'w+')
  let end = 0
  let kept: Delivery[] = []
  const server = createServer((req, res) => {
    // A body's chunks are written together once it is whole, so that concurrent bodies do not interleave in the file.
    const parts: Buffer[] = []
    req.on('data', (c: Buffer) => { counts.bytes += c.length; parts.push(c) })
    req.on('end', () => {
      const encoding = req.headers['content-encoding']
      if (encoding !== 'snappy') { res.statusCode = 415; res.end(`bench receiver: content-encoding ${String(encoding)}, snappy expected`); return }
      const atMs = Date.now()
      counts.requests++
      counts.lastAtMs = atMs
      const from = end
      end += writevSync(fd, parts, from)
      kept.push({ atMs, from, to: end })
      res.statusCode = 204
      res.end()
    })
  })
  server.keepAliveTimeout = 60_000
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}/api/v1/write`,
    counts,
    take: () => { const k = kept; kept = []; return k },
    clear: () => { kept = []; ftruncateSync(fd, 0); end = 0 },
    body: d => { const b = Buffer.allocUnsafe(d.to - d.from); readSync(fd, b, 0, b.length, d.from); return b },
    close: () => new Promise(resolve => { server.closeAllConnections(); server.close(() => { closeSync(fd); rmSync(dir, { recursive: true, force: true }); resolve() }) })
  }
}

/**
 * Waits until the target's queue is empty and the receiver got nothing for 2 s (vmagent flushes its
 * buffered series once a second), at most `timeoutS`; returns the seconds from `loadEndMs` to the last
 * delivery, or undefined when it did not drain in time.
 */
async function drain (target: Target, receiver: Receiver, loadEndMs: number, timeoutS: number): Promise<number | undefined> {
  const deadline = Date.now() + timeoutS * 1000
  for (let i = 0; Date.now() < deadline && i < 100_000; i++) {
    const backlog = await target.backlogBytes().catch(() => 1)
    if (backlog === 0 && Date.now() - Math.max(receiver.counts.lastAtMs, loadEndMs) >= 2000) {
      return Math.max(0, receiver.counts.lastAtMs - loadEndMs) / 1000
    }
    await new Promise(resolve => setTimeout(resolve, 200))
  }
  return undefined
}

async function metricValue (url: string, name: string): Promise<number> {
  const res = await request(url)
  const text = await res.body.text()
  let sum = 0
  for (const m of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))) sum += Number(m[1])
  return sum
}


async function startIngest (name: 'forward' | 'gateway' | 'discard', receiver: string, nodeArgs: readonly string[]): Promise<Target> {
  const dir = mkdtempSync(join(tmpdir(), 'prom-ingest-bench-forward-'))
  const sink = name === 'discard' ? 'discard' : 'forward'
  const args = [CLI, 'serve', '--listen', '127.0.0.1:0', '--sink', sink, '--log-level', 'warn', '--data-dir', dir]
  if (sink === 'forward') args.push('--forward-url', receiver)
  // gateway: the same forward sink with the validation-only decode (docs/forwarding.md "Gateway decode").
  if (name === 'gateway') args.push('--forward-decode', 'validate-only')
  const child = spawn(process.execPath, [...nodeArgs, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  const port = await listeningPort(child)
  const url = `http://127.0.0.1:${port}`
  return {
    url,
    pid: child.pid!,
    async stop () { await stopChild(child); rmSync(dir, { recursive: true, force: true }) },
    backlogBytes: async () => sink === 'forward' ? await metricValue(`${url}/metrics`, 'prom_ingest_forward_queue_bytes') : 0,
    fsyncs: async () => sink === 'forward' ? await metricValue(`${url}/metrics`, 'prom_ingest_forward_queue_fsyncs_total') : undefined
  }
}

async function startVmagent (binary: string, receiver: string): Promise<Target> {
  const dir = mkdtempSync(join(tmpdir(), 'vmagent-bench-'))
  const port = await freePort()
  const child = spawn(binary, [`-remoteWrite.url=${receiver}`, `-remoteWrite.tmpDataPath=${dir}`, `-httpListenAddr=127.0.0.1:${port}`, '-loggerLevel=ERROR'], { stdio: ['ignore', 'ignore', 'pipe'] })
  const url = `http://127.0.0.1:${port}`
  await waitForHealth(url, child, 'vmagent')
  return {
    url,
    pid: child.pid!,
    async stop () { await stopChild(child); rmSync(dir, { recursive: true, force: true }) },
    backlogBytes: async () => await metricValue(`${url}/metrics`, 'vmagent_remotewrite_pending_data_bytes'),
    fsyncs: async () => undefined
  }
}

async function runE2e (url: string, pid: number, o: ReturnType<typeof opts>): Promise<E2eJson> {
  const args = [E2E, '--url', url, '--pid', String(pid), '--duration', o.duration, '--concurrency', o.concurrency, '--series', o.series, '--series-per-request', o.perRequest]
  if (o.template !== undefined) args.push('--template', o.template)
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] })
  let json: E2eJson | undefined
  forEachLine([child.stdout!], line => {
    if (line.startsWith('{')) { try { const v = JSON.parse(line) as { bench?: string }; if (v.bench === 'e2e') json = v as unknown as E2eJson } catch {} }
  })
  await childExited(child)
  if (json === undefined) throw new Error(`bench:e2e printed no JSON line (exit ${String(child.exitCode)})`)
  return json
}

function median (xs: readonly number[]): number { return quantile([...xs].sort((a, b) => a - b), 0.5) }
function spread (xs: readonly number[]): string { const s = [...xs].sort((a, b) => a - b); return `${fmtM(s[0]!)}..${fmtM(s[s.length - 1]!)}` }
function fmtM (n: number): string { return (n / 1e6).toFixed(2) + 'M' }

async function main (): Promise<void> {
  const o = opts()
  const receiver = await startDiscardReceiver()
  const targets = o.targets
  const results = new Map<TargetName, RoundResult[]>(targets.map(t => [t, []]))
  try {
    for (let round = 0; round < o.rounds; round++) {
      // Interleaved, and the order rotates per round so that no target always runs first.
      const order = targets.map((_, i) => targets[(i + round) % targets.length]!)
      for (const name of order) {
        const target = name === 'vmagent' ? await startVmagent(o.vmagent, receiver.url) : await startIngest(name, receiver.url, o.serveNodeArgs)
        receiver.clear()
        const before = { ...receiver.counts }
        const t0 = Date.now()
        let stopped = false
        // The machine's CPU and the receiver's (this process) through the run, cut to the generator's window afterwards.
        const timeline = new Timeline(machineAndOwnCpu)
        timeline.start()
        try {
          const e = await runE2e(target.url, target.pid, o).finally(() => timeline.stop())
          const elapsed = (Date.now() - t0) / 1000
          const backlog = await target.backlogBytes()
          const fsyncs = await target.fsyncs()
          const { fromMs, toMs } = e.window
          if (fromMs === undefined || toMs === undefined) throw new Error('bench:e2e reported no measured window')
          const cpu = timeline.window(fromMs, toMs)
          const drainSeconds = name === 'discard' ? 0 : await drain(target, receiver, toMs, o.drainTimeoutS)
          const got = { requests: receiver.counts.requests - before.requests, bytes: receiver.counts.bytes - before.bytes }
          await target.stop()
          stopped = true
          // Counted now that the load and the target are stopped: the decoding takes no CPU from them.
          let inWindow = 0
          for (const d of receiver.take()) if (d.atMs >= fromMs && d.atMs <= toMs) inWindow += countSamples(receiver.body(d))
          const r: RoundResult = {
            samplesPerSecond: e.samplesPerSecond,
            deliveredPerSecond: name === 'discard' ? e.samplesPerSecond : inWindow / ((toMs - fromMs) / 1000),
            drainSeconds,
            p99Ms: e.latencyMs.p99,
            rssMiB: (e.server?.avgRssBytes ?? 0) / 2 ** 20,
            cores: e.server?.cores ?? 0,
            receivedMiBps: got.bytes / 2 ** 20 / elapsed,
            receivedRequests: got.requests,
            backlogMiB: backlog / 2 ** 20,
            fsyncsPerSecond: fsyncs === undefined ? undefined : fsyncs / elapsed,
            statuses: e.statuses,
            machineCores: (cpu.last.machineBusy - cpu.first.machineBusy) / cpu.seconds,
            generatorCores: e.generatorCores,
            receiverCores: (cpu.last.own - cpu.first.own) / cpu.seconds
          }
          results.get(name)!.push(r)
          console.error(`round ${round + 1} ${name}: acknowledged ${fmtM(r.samplesPerSecond)} samples/s, delivered ${fmtM(r.deliveredPerSecond)} samples/s, p99 ${fmt(r.p99Ms)} ms, backlog ${r.backlogMiB.toFixed(1)} MiB at the end of the load, drained in ${r.drainSeconds === undefined ? `more than ${o.drainTimeoutS}` : r.drainSeconds.toFixed(1)} s, received ${r.receivedRequests} requests`)
        } finally {
          if (!stopped) await target.stop()
        }
      }
    }
  } finally {
    await receiver.close()
  }

  const med = (t: TargetName, f: (r: RoundResult) => number): number => median(results.get(t)!.map(f))
  const acked = (t: TargetName): number => med(t, r => r.samplesPerSecond)
  const delivered = (t: TargetName): number => med(t, r => r.deliveredPerSecond)
  const drains = (t: TargetName): string => {
    const d = results.get(t)!.map(r => r.drainSeconds)
    if (t === 'discard') return '-'
    if (d.some(x => x === undefined)) return `> ${o.drainTimeoutS} (${d.filter(x => x === undefined).length} rounds)`
    const s = (d as number[]).sort((a, b) => a - b)
    return `${median(s).toFixed(1)} (${s[0]!.toFixed(1)}..${s[s.length - 1]!.toFixed(1)})`
  }
  console.log(`\nforward: bench:e2e load (${o.series} series, ${o.perRequest} per request, concurrency ${o.concurrency}), ${o.rounds} interleaved rounds of ${o.duration}${o.serveNodeArgs.length > 0 ? `; node flags: ${o.serveNodeArgs.join(' ')}` : ''}`)
  // CPU seconds the server spent per million acknowledged samples: less sensitive than samples/s to what
  // else runs on the machine (a starved server is slow but not costly).
  printTable(['target', 'acknowledged/s', 'spread', 'delivered/s', 'spread', 'drain s', 'p99 ms', 'RSS MiB', 'server cores', 'CPU s / M samples', 'received MiB/s', 'backlog MiB at end', 'queue fsyncs/s'], targets.map(t => [
    t,
    fmtM(acked(t)),
    spread(results.get(t)!.map(r => r.samplesPerSecond)),
    t === 'discard' ? '-' : fmtM(delivered(t)),
    t === 'discard' ? '-' : spread(results.get(t)!.map(r => r.deliveredPerSecond)),
    drains(t),
    fmt(med(t, r => r.p99Ms)),
    med(t, r => r.rssMiB).toFixed(0),
    med(t, r => r.cores).toFixed(2),
    med(t, r => r.cores / r.samplesPerSecond * 1e6).toFixed(2),
    med(t, r => r.receivedMiBps).toFixed(1),
    med(t, r => r.backlogMiB).toFixed(1),
    t === 'forward' || t === 'gateway' ? med(t, r => r.fsyncsPerSecond ?? 0).toFixed(0) : '-'
  ]))
  // Where the machine's cores went in the window: the server, the load generator, the receiver (this
  // process), and the rest (the kernel's softirq work for loopback, other processes). When the machine
  // is busy on every core, samples/s is cores ÷ (CPU per sample of everything on it), the generator's
  // and the receiver's included, so a target that makes the receiver work pays for it too.
  console.log(`\nwhere the machine's ${availableParallelism()} cores went in the measured window (medians over rounds):`)
  printTable(['target', 'machine busy cores', 'server', 'generator', 'receiver', 'machine CPU s / M samples', 'generator + receiver CPU s / M'], targets.map(t => [
    t,
    med(t, r => r.machineCores).toFixed(2),
    med(t, r => r.cores).toFixed(2),
    med(t, r => r.generatorCores).toFixed(2),
    med(t, r => r.receiverCores).toFixed(2),
    med(t, r => r.machineCores / r.samplesPerSecond * 1e6).toFixed(2),
    med(t, r => (r.generatorCores + r.receiverCores) / r.samplesPerSecond * 1e6).toFixed(2)
  ]))
  const has = (t: TargetName): boolean => targets.includes(t)
  const ratios = {
    forwardToVmagent: has('forward') && has('vmagent') ? acked('forward') / acked('vmagent') : null,
    forwardToVmagentDelivered: has('forward') && has('vmagent') ? delivered('forward') / delivered('vmagent') : null,
    forwardToDiscard: has('forward') && has('discard') ? acked('forward') / acked('discard') : null,
    forwardDeliveredToDiscard: has('forward') && has('discard') ? delivered('forward') / acked('discard') : null,
    gatewayToForward: has('gateway') && has('forward') ? acked('gateway') / acked('forward') : null,
    gatewayToDiscard: has('gateway') && has('discard') ? acked('gateway') / acked('discard') : null
  }
  const x = (r: number | null, digits = 2): string => r === null ? '-' : r.toFixed(digits)
  console.log(`forward / vmagent: ${x(ratios.forwardToVmagent)}x acknowledged (goal >= 1.5x), ${x(ratios.forwardToVmagentDelivered)}x delivered`)
  console.log(`forward / discard: ${x(ratios.forwardToDiscard)} acknowledged (goal >= 0.85), ${x(ratios.forwardDeliveredToDiscard)} delivered`)
  console.log(`gateway (forward-decode validate-only) / forward: ${x(ratios.gatewayToForward)} acknowledged; gateway / discard ${x(ratios.gatewayToDiscard)}`)
  const cpu = (t: TargetName): number => med(t, r => r.cores / r.samplesPerSecond * 1e6)
  const cpuRatio = (a: TargetName, b: TargetName): string => has(a) && has(b) ? (cpu(a) / cpu(b)).toFixed(2) : '-'
  // Per round, gateway's CPU per sample over forward's of the same round (paired: a burst of load hits both).
  const paired = has('gateway') && has('forward') ? results.get('gateway')!.map((g, i) => { const f = results.get('forward')![i]!; return (g.cores / g.samplesPerSecond) / (f.cores / f.samplesPerSecond) }) : []
  console.log(`CPU per sample: vmagent / forward ${cpuRatio('vmagent', 'forward')}x, discard / forward ${cpuRatio('discard', 'forward')}, gateway / forward ${cpuRatio('gateway', 'forward')} (per round: ${paired.map(r => r.toFixed(2)).join(', ') || '-'})`)
  printJson('forward', { rounds: o.rounds, duration: o.duration, concurrency: Number(o.concurrency), series: Number(o.series), seriesPerRequest: Number(o.perRequest), targets, results: Object.fromEntries(results), ratios, gatewayOverForwardCpuPerRound: paired })
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err)
  process.exit(1)
})
