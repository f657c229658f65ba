/**
 * CPU seconds of each thread of another process, from Linux /proc/<pid>/task/<tid>/stat, grouped by
 * role: the main thread (tid = pid; in prom-ingest the HTTP server and the sinks) and the rest (the
 * decode workers, libuv's pool, V8's helpers). Threads that exited between two readings are lost,
 * so read it over a window in which the process keeps its threads.
 */
import { readdirSync, readFileSync } from 'node:fs'

const CLOCK_TICKS = 100

export interface ThreadCpu { main: number, others: number }

export function threadCpuSeconds (pid: number): ThreadCpu {
  const out: ThreadCpu = { main: 0, others: 0 }
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let stat: string
    try { stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8') } catch { continue }
    // The thread name (field 2) may hold spaces and parentheses: fields are counted after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const seconds = (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS
    if (Number(tid) === pid) out.main += seconds
    else out.others += seconds
  }
  return out
}
