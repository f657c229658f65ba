/**
 * A preload for the service under bench/forward-threads.ts (`node --require <this> cli.js serve ...`):
 * each thread writes its Linux thread id and role to the file named by BENCH_THREAD_ROLES, one JSON
 * line each, so that the per-thread CPU read from /proc/<pid>/task/<tid>/stat can be told apart
 * (every thread of a Node process is named "node"). The main thread also writes the threads that exist
 * before the service's code runs: V8's platform workers (its GC and compiler helpers) and Node's own;
 * threads that come later and write nothing are libuv's pool (fdatasync, file reads). Bench only.
 */
import { appendFileSync, readdirSync, readlinkSync } from 'node:fs'
import { isMainThread, workerData } from 'node:worker_threads'

const file = process.env.BENCH_THREAD_ROLES
if (file !== undefined && file !== '') {
  const tid = Number(readlinkSync('/proc/thread-self').split('/').pop())
  if (isMainThread) {
    const startup = readdirSync('/proc/self/task').map(Number).filter(t => t !== tid)
    appendFileSync(file, JSON.stringify({ tid, role: 'main', startup }) + '\n')
  } else {
    // The forward worker's workerData holds the log's snapshot (src/forward/worker-protocol.ts).
    const data = workerData as { snapshot?: unknown } | undefined
    appendFileSync(file, JSON.stringify({ tid, role: data?.snapshot !== undefined ? 'forward worker' : 'other workers' }) + '\n')
  }
}
