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
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { DurableLog } from '../src/queue/durable-log.js'
import { fmt, printJson, printTable, quantile } from './lib/stats.js'

const { values } = parseArgs({
  options: {
    writers: { type: 'string', default: '4' },
    bytes: { type: 'string', default: '215391' },
    duration: { type: 'string', default: '10' },
    readers: { type: 'string', default: '0' },
    dir: { type: 'string' }
  }
})
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
