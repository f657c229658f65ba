/**
 * The library entry point: decode one remote-write body in the calling thread.
 */
import { RowBatch } from '../batch/row-batch.js'
import { IngestError } from '../errors.js'
import { SeriesIndex } from '../series/series-index.js'
import { Decoder } from './decoder.js'
import { resolveDecodeOptions, type DecodeOptions } from './options.js'

let threadDecoder: Decoder | undefined

/** The series index of this thread's `decodeWriteRequest` calls (created on first use). */
export function localSeriesIndex (): SeriesIndex {
  return localDecoder().index
}

function localDecoder (): Decoder {
  threadDecoder ??= new Decoder(SeriesIndex.create())
  return threadDecoder
}

/**
 * Decodes one Remote Write body (snappy-compressed unless `compressed: false`; protocol `version`
 * '1.0' unless '2.0') into a row batch. Series ids come from this thread's series index, so the same
 * label set gets the same id in every call. Throws IngestError for a malformed body, and for the first
 * invalid series unless `partial: true` (then the batch holds the valid series and `firstError` says
 * what was wrong with the others).
 */
export function decodeWriteRequest (body: Uint8Array, options: DecodeOptions = {}): RowBatch {
  const o = resolveDecodeOptions(options)
  const decoder = localDecoder()
  const { buffer, firstError } = decoder.decode(body, o)
  const batch = new RowBatch(buffer, { tenant: o.tenant, firstError }, decoder.index)
  if (firstError !== undefined && !o.partial) throw IngestError.fromWire(firstError)
  return batch
}
