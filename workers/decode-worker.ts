/**
 * The decode worker: piscina calls the default export with a DecodeTask; src/pool/decode-task.ts
 * does the work. The series index and the slot buffers arrive once, in workerData.
 */
import { Piscina } from 'piscina'
import { Decoder } from '../src/decode/decoder.js'
import { SeriesIndex } from '../src/series/series-index.js'
import { DecodeTaskRunner } from '../src/pool/decode-task.js'
import type { DecodeTask, DecodeWorkerData } from '../src/pool/messages.js'

const data = Piscina.workerData as DecodeWorkerData
const runner = new DecodeTaskRunner(data, new Decoder(SeriesIndex.attach(data.index), data.limits.maxDecompressedBytes))

export default function decode (task: DecodeTask): unknown {
  return runner.run(task)
}
