/**
 * The status worker: computes /api/v1/status/tsdb off the main thread. It attaches the series index
 * (its SharedArrayBuffers arrive once, in workerData) and answers each message with the figures of
 * src/status/cardinality.ts, or with an error as data (code and message). It runs at the lowest CPU
 * priority, so that computing the figures never takes CPU from ingest.
 */
import { setPriority } from 'node:os'
import { parentPort, workerData } from 'node:worker_threads'
import { toIngestError } from '../src/errors.js'
import { SeriesIndex, type SeriesIndexShared } from '../src/series/series-index.js'
import { SeriesCatalog } from '../src/status/cardinality.js'
import type { StatusWorkerRequest, StatusWorkerAnswer } from '../src/status/cardinality-service.js'

// The lowest CPU priority: on Linux a nice value belongs to the calling thread, so this thread gets
// only the CPU that decoding and storing leave (elsewhere it may apply to the process: then it is not done).
if (process.platform === 'linux') {
  try { setPriority(19) } catch { /* not allowed here: run at the normal priority */ }
}

const index = SeriesIndex.attach((workerData as { index: SeriesIndexShared }).index)
const catalog = new SeriesCatalog()

parentPort!.on('message', (req: StatusWorkerRequest) => {
  let answer: StatusWorkerAnswer
  try {
    catalog.update(index)
    answer = { id: req.id, ok: true, status: catalog.compute(req.query, req.marks, req.headTimes, req.now) }
  } catch (err) {
    answer = { id: req.id, ok: false, error: toIngestError(err).toWire() }
  }
  parentPort!.postMessage(answer)
})
