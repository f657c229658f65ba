/**
 * CPU time and memory of another process, read from Linux /proc: utime + stime from /proc/<pid>/stat
 * (all threads of the process, so the decode workers count too) and VmRSS / VmHWM from
 * /proc/<pid>/status. Sampled a few times a second while the load runs: average and peak RSS over the
 * run, CPU seconds between the first and the last reading.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'

/** Clock ticks per second of utime/stime (USER_HZ); 100 on every common Linux. */
const CLOCK_TICKS = ((): number => {
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim())
    return Number.isFinite(n) && n > 0 ? n : 100
  } catch { return 100 }
})()

/** User + system CPU seconds the process used so far. */
export function cpuSeconds (pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // The command name (field 2) may hold spaces and parentheses: fields are counted after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  // fields[0] is field 3 (state); utime is field 14, stime field 15.
  const utime = Number(fields[11])
  const stime = Number(fields[12])
  return (utime + stime) / CLOCK_TICKS
}

/** Resident set size now and its high-water mark, bytes. */
export function memory (pid: number): { rss: number, hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (key: string): number => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)
    return m === null ? NaN : Number(m[1]) * 1024
  }
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') }
}

export interface ProcessUsage {
  /** CPU seconds (user + system) between start() and stop(). */
  cpuSeconds: number
  /** cpuSeconds / wall seconds: cores kept busy on average. */
  cores: number
  avgRssBytes: number
  peakRssBytes: number
  /** VmHWM at the end: the peak over the process' whole life, start-up included. */
  lifetimePeakRssBytes: number
}

/** Samples a process' RSS every `intervalMs` and measures its CPU time between start and stop. */
export class ProcessSampler {
  private timer: NodeJS.Timeout | undefined
  private cpu0 = 0
  private t0 = 0
  private rssSum = 0
  private rssCount = 0
  private rssPeak = 0

  constructor (readonly pid: number, private readonly intervalMs = 250) {}

  start (): void {
    this.cpu0 = cpuSeconds(this.pid)
    this.t0 = performance.now()
    this.sample()
    this.timer = setInterval(() => this.sample(), this.intervalMs)
    this.timer.unref()
  }

  private sample (): void {
    try {
      const { rss } = memory(this.pid)
      this.rssSum += rss
      this.rssCount++
      if (rss > this.rssPeak) this.rssPeak = rss
    } catch { /* the process is gone: stop() reports what was seen */ }
  }

  stop (): ProcessUsage {
    clearInterval(this.timer)
    this.sample()
    const wall = (performance.now() - this.t0) / 1000
    const cpu = cpuSeconds(this.pid) - this.cpu0
    return {
      cpuSeconds: cpu,
      cores: cpu / wall,
      avgRssBytes: this.rssSum / Math.max(1, this.rssCount),
      peakRssBytes: this.rssPeak,
      lifetimePeakRssBytes: memory(this.pid).hwm
    }
  }
}

/**
 * The whole machine's CPU seconds so far, from the first line of /proc/stat: busy (user, nice,
 * system, irq, softirq, steal) and idle (idle, iowait), summed over every core.
 */
export function machineCpuSeconds (): { busy: number, idle: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!
  const f = line.trim().split(/\s+/).slice(1).map(Number)
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = f
  return { busy: (user + nice + system + irq + softirq + steal) / CLOCK_TICKS, idle: (idle + iowait) / CLOCK_TICKS }
}

/**
 * Readings taken every `intervalMs` while a load runs, so that a window known only afterwards (the
 * generator's measured window) can be cut out of them: `window(from, to)` gives the readings nearest
 * its two ends and the seconds between them.
 */
export class Timeline<T> {
  private readonly taken: Array<{ atMs: number, value: T }> = []
  private timer: NodeJS.Timeout | undefined

  constructor (private readonly read: () => T, private readonly intervalMs = 250) {}

  start (): void {
    this.taken.length = 0
    this.take()
    this.timer = setInterval(() => this.take(), this.intervalMs)
  }

  stop (): void {
    clearInterval(this.timer)
    this.take()
  }

  /** The readings nearest `fromMs` and `toMs` (wall clock), and the seconds between them (0 when they are one reading). */
  window (fromMs: number, toMs: number): { first: T, last: T, seconds: number } {
    const a = this.nearest(fromMs)
    const b = this.nearest(toMs)
    return { first: a.value, last: b.value, seconds: (b.atMs - a.atMs) / 1000 }
  }

  private nearest (t: number): { atMs: number, value: T } {
    return this.taken.reduce((a, b) => Math.abs(b.atMs - t) < Math.abs(a.atMs - t) ? b : a)
  }

  private take (): void {
    this.taken.push({ atMs: Date.now(), value: this.read() })
  }
}

/** The machine's busy CPU seconds and this process' own, for a `Timeline`. */
export function machineAndOwnCpu (): { machineBusy: number, own: number } {
  const u = process.cpuUsage()
  return { machineBusy: machineCpuSeconds().busy, own: (u.user + u.system) / 1e6 }
}
