/**
 * Remote-read latency (issue 14, Benchmarks): a 1-hour range query over 1,000 series through a
 * Prometheus 2.42 whose `remote_read` points at prom-ingest (B), against the same query on a
 * Prometheus that holds the same data in its own TSDB (A), in interleaved rounds of the same run.
 *
 * Setup: prom-ingest (the DuckDB store) and Prometheus A (--web.enable-remote-write-receiver) get the
 * same Remote Write 1.0 bodies: 1,000 series `bench_metric{group, instance, job}` of counters, one
 * sample every 15 s for the last hour (240 a series, 240,000 in all). Prometheus B holds nothing and
 * reads prom-ingest (read_recent: true). Before timing, B's answer is checked equal to A's.
 *
 * Timed, per round (the order of A and B alternates):
 *   rate     sum by (group) (rate(bench_metric[5m]))  over the hour, step 15 s  (reads every series)
 *   raw      bench_metric                              over the hour, step 60 s  (1,000 series back)
 *   and remote read alone, from this process: POST /api/v1/read for the hour's 240,000 samples, as
 *   SAMPLES and as STREAMED_XOR_CHUNKS (what B's query costs prom-ingest).
 *
 *   npm run bench:remote-read -- [--rounds 15] [--series 1000] [--prometheus /usr/bin/prometheus]
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { setTimeout as sleep } from 'node:timers/promises'
import { request } from 'undici'
import { ProtoWriter } from '../src/encode/proto-writer.js'
import { snappyCompress } from '../src/encode/snappy-encode.js'
import { freePort } from './lib/free-port.js'
import { listeningPort, stopChild } from './lib/child-ready.js'
import { fmt, printJson, printTable, summarize } from './lib/stats.js'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const CLI = join(ROOT, 'dist', 'src', 'cli.js')

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '15' },
    series: { type: 'string', default: '1000' },
    prometheus: { type: 'string', default: '/usr/bin/prometheus' }
  }
})
const ROUNDS = Number(args.rounds)
const SERIES = Number(args.series)
const STEP_MS = 15_000
const HOUR_MS = 3_600_000

interface Proc { url: string, child: ChildProcess, dir: string }

async function stop (p: Proc): Promise<void> {
  await stopChild(p.child, 15_000)
  rmSync(p.dir, { recursive: true, force: true })
}

async function waitReady (url: string, child: ChildProcess, what: string): Promise<void> {
  for (let i = 0; ; i++) {
    try { const r = await request(url); await r.body.dump(); if (r.statusCode === 200) return } catch { /* starting */ }
    if (i > 600 || child.exitCode !== null) throw new Error(`${what} did not start`)
    await sleep(100)
  }
}

async function startIngest (): Promise<Proc> {
  const dir = mkdtempSync(join(tmpdir(), 'prom-ingest-bench-rr-'))
  const child = spawn(process.execPath, [CLI, 'serve', '--listen', '127.0.0.1:0', '--sink', 'duckdb', '--threads', '1', '--log-level', 'warn', '--data-dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] })
  const port = await listeningPort(child, 60_000)
  return { url: `http://127.0.0.1:${port}`, child, dir }
}

async function startPrometheus (binary: string, config: string): Promise<Proc> {
  const dir = mkdtempSync(join(tmpdir(), 'prometheus-bench-rr-'))
  writeFileSync(join(dir, 'prometheus.yml'), config)
  const port = await freePort()
  const child = spawn(binary, [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${port}`, '--web.enable-remote-write-receiver', '--log.level=warn'], { stdio: ['ignore', 'ignore', 'ignore'] })
  const url = `http://127.0.0.1:${port}`
  await waitReady(`${url}/-/ready`, child, 'Prometheus')
  return { url, child, dir }
}

/** Remote Write 1.0 bodies: every series, `steps` steps each, in time order. */
function bodies (t0: number, steps: number, stepsPerBody: number): Uint8Array[] {
  const out: Uint8Array[] = []
  const w = new ProtoWriter(1 << 22)
  const ts = new ProtoWriter(1 << 12)
  const small = new ProtoWriter(256)
  for (let from = 0; from < steps; from += stepsPerBody) {
    w.reset()
    for (let s = 0; s < SERIES; s++) {
      ts.reset()
      for (const [n, v] of [['__name__', 'bench_metric'], ['group', `g${s % 10}`], ['instance', `host-${s}:9100`], ['job', 'bench']] as const) {
        small.reset(); small.string(1, n); small.string(2, v); ts.message(1, small)
      }
      for (let i = from; i < Math.min(steps, from + stepsPerBody); i++) {
        small.reset()
        small.tag(1, 1); small.double(i * (1 + (s % 7)) + ((s * 31 + i * 17) % 5))
        small.tag(2, 0); small.int64(t0 + i * STEP_MS)
        ts.message(2, small)
      }
      w.message(1, ts)
    }
    out.push(snappyCompress(w.finish()))
  }
  return out
}

/** A ReadRequest for `bench_metric` over [start, end], as a snappy body. */
function readBody (start: number, end: number, type: number): Uint8Array {
  const w = new ProtoWriter(256)
  const q = new ProtoWriter(256)
  const m = new ProtoWriter(64)
  q.tag(1, 0); q.int64(start)
  q.tag(2, 0); q.int64(end)
  m.tag(1, 0); m.varint(0); m.string(2, '__name__'); m.string(3, 'bench_metric')
  q.message(3, m)
  w.message(1, q)
  w.tag(2, 0); w.varint(type)
  return snappyCompress(w.finish())
}

async function timed (f: () => Promise<string>): Promise<{ ms: number, body: string }> {
  const t = process.hrtime.bigint()
  const body = await f()
  return { ms: Number(process.hrtime.bigint() - t) / 1e6, body }
}

async function promql (url: string, query: string, start: number, end: number, step: number): Promise<string> {
  const res = await request(`${url}/api/v1/query_range?${new URLSearchParams({ query, start: String(start / 1000), end: String(end / 1000), step: String(step) }).toString()}`)
  const text = await res.body.text()
  if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${text.slice(0, 300)}`)
  return text
}

async function main (): Promise<void> {
  const ingest = await startIngest()
  const a = await startPrometheus(args.prometheus, 'global:\n  scrape_interval: 1h\n')
  const b = await startPrometheus(args.prometheus, `global:\n  scrape_interval: 1h\nremote_read:\n  - url: ${ingest.url}/api/v1/read\n    read_recent: true\n`)
  try {
    const end = Math.floor(Date.now() / STEP_MS) * STEP_MS - STEP_MS
    const steps = HOUR_MS / STEP_MS
    const t0 = end - (steps - 1) * STEP_MS
    for (const body of bodies(t0, steps, 20)) {
      for (const url of [ingest.url, a.url]) {
        const res = await request(`${url}/api/v1/write`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy', 'x-prometheus-remote-write-version': '0.1.0' }, body })
        const text = await res.body.text()
        if (res.statusCode !== 204) throw new Error(`write to ${url}: ${res.statusCode} ${text}`)
      }
    }
    const queries = [
      { name: 'rate', query: 'sum by (group) (rate(bench_metric[5m]))', step: 15 },
      { name: 'raw', query: 'bench_metric', step: 60 }
    ]
    for (const q of queries) {
      const [fromA, fromB] = [await promql(a.url, q.query, t0, end, q.step), await promql(b.url, q.query, t0, end, q.step)]
      if (fromA !== fromB) throw new Error(`${q.name}: Prometheus with remote_read answered differently from Prometheus with the data:\n${fromA.slice(0, 300)}\n${fromB.slice(0, 300)}`)
    }
    const read = async (type: number): Promise<string> => {
      const res = await request(`${ingest.url}/api/v1/read`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' }, body: readBody(t0, end, type) })
      const buf = Buffer.from(await res.body.arrayBuffer())
      if (res.statusCode !== 200) throw new Error(`remote read: ${res.statusCode} ${buf.toString()}`)
      return `${res.headers['x-prom-ingest-samples'] as string} samples, ${buf.length} bytes`
    }
    const checked = await read(0)
    const times = new Map<string, number[]>()
    const add = (k: string, ms: number): void => { const l = times.get(k) ?? []; l.push(ms); times.set(k, l) }
    const warmup = 2
    for (let r = 0; r < warmup + ROUNDS; r++) {
      const cases: Array<[string, () => Promise<string>]> = []
      for (const q of queries) {
        const pa: [string, () => Promise<string>] = [`${q.name}: Prometheus, own TSDB`, async () => await promql(a.url, q.query, t0, end, q.step)]
        const pb: [string, () => Promise<string>] = [`${q.name}: Prometheus, remote_read`, async () => await promql(b.url, q.query, t0, end, q.step)]
        cases.push(...(r % 2 === 0 ? [pa, pb] : [pb, pa]))
      }
      cases.push(['remote read alone, SAMPLES', async () => await read(0)], ['remote read alone, STREAMED_XOR_CHUNKS', async () => await read(1)])
      for (const [name, run] of cases) {
        const t = await timed(run)
        if (r >= warmup) add(name, t.ms)
      }
    }
    const rows: string[][] = []
    const json: Record<string, unknown> = {}
    for (const [name, values] of times) {
      const s = summarize(name, values)
      const q = name.split(':')[0]!
      const own = times.get(`${q}: Prometheus, own TSDB`)
      const ratio = name.endsWith('remote_read') && own !== undefined ? s.median / summarize('', own).median : undefined
      rows.push([name, fmt(s.median), `${fmt(s.p10)}-${fmt(s.p90)}`, ratio === undefined ? '' : `${ratio.toFixed(2)}x`])
      json[name] = { median_ms: s.median, p10_ms: s.p10, p90_ms: s.p90, rounds: s.samples, ...(ratio !== undefined ? { ratio_to_own_tsdb: ratio } : {}) }
    }
    console.log(`${SERIES} series, 1 hour at 15 s (${checked}), ${ROUNDS} interleaved rounds after ${warmup} warm-up; B's answers checked equal to A's`)
    printTable(['case', 'median ms', 'p10-p90', 'vs own TSDB'], rows)
    printJson('remote-read', { series: SERIES, rounds: ROUNDS, cases: json })
  } finally {
    await stop(b)
    await stop(a)
    await stop(ingest)
  }
}

await main()
