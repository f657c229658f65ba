/**
 * The forward worker: reads the forward queue and sends to the destinations, off the main thread
 * (src/forward/send-worker.ts does the work; src/forward/send-thread.ts starts it).
 */
import { parentPort, workerData } from 'node:worker_threads'
import { runSendWorker } from '../src/forward/send-worker.js'
import type { SendWorkerInit } from '../src/forward/worker-protocol.js'

if (parentPort === null) throw new Error('workers/forward-worker.js runs as a worker thread')
runSendWorker(parentPort, workerData as SendWorkerInit).catch((err: unknown) => {
  // An error the worker cannot go on from: the main thread sees the exit and starts it again.
  console.error(err instanceof Error ? err.stack : err)
  process.exit(1)
})
