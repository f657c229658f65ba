/**
 * The decode worker: reads a body in place from a slot of the shared slot buffers, decodes it, and
 * moves the batch buffer back through the transfer list. Decode errors are returned as data (an
 * Error posted from a worker would lose its code).
 */
import { Piscina } from 'piscina'
import { Decoder } from '../src/decode/decoder.js'
import { toIngestError } from '../src/errors.js'
import { SeriesIndex } from '../src/series/series-index.js'
import type { ResolvedDecodeOptions } from '../src/decode/options.js'
import type { DecodeResult, DecodeTask, DecodeWorkerData } from '../src/pool/messages.js'

const data = Piscina.workerData as DecodeWorkerData
const decoder = new Decoder(SeriesIndex.attach(data.index), data.limits.maxDecompressedBytes)
// One view per slot class, made once: a task only names a class, a slot and a length.
const classViews = data.slotBuffers.map(b => new Uint8Array(b))

export default function decode (task: DecodeTask): unknown {
  const start = task.slotIndex * data.slotBytes[task.classIndex]!
  const body = classViews[task.classIndex]!.subarray(start, start + task.length)
  const options: ResolvedDecodeOptions = {
    ...data.limits,
    compressed: task.compressed,
    version: task.version,
    tenant: task.tenant,
    partial: task.partial,
    legacyNames: data.legacyNames,
    strictUtf8: data.strictUtf8,
    rejectUnsortedLabels: data.rejectUnsortedLabels
  }
  try {
    const { buffer, firstError } = decoder.decode(body, options)
    const result: DecodeResult = { ok: true, buffer, firstError }
    // The batch buffer goes in the transfer list: moved to the main thread, detached here.
    return Piscina.move({ [Piscina.transferableSymbol]: [buffer], [Piscina.valueSymbol]: result } as unknown as ArrayBuffer)
  } catch (err) {
    const result: DecodeResult = { ok: false, error: toIngestError(err).toWire() }
    return result
  }
}
