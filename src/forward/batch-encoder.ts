/**
 * Bodies the forwarder builds itself, when the received body cannot go on as it is:
 * - a partial write (some series were invalid and must not be forwarded): the valid series, encoded
 *   from the batch at receive time (the sink borrows the batch, see src/sinks/sink.ts);
 * - shard mode: each series to the destination a rendezvous hash of its labels picks, one body per
 *   destination, at receive time;
 * - at send time, a record for a destination configured with the other protocol version, and
 *   a 413 split: the record is decoded again (src/decode) and encoded in the new shape.
 *
 * Encoding at receive time keeps the send path a plain read-and-send for every record (the common case
 * costs nothing extra) and writes each shard's body once; the cost lands only on the requests that need it.
 * A body is built in the request's protocol version (src/encode/rw1-encode.ts, rw2-encode.ts), so a 2.0
 * request keeps what only 2.0 carries (start timestamps, per-series metadata); a conversion builds the
 * destination's version, and a 413 split keeps the record's.
 */
import type { RowBatch } from '../batch/row-batch.js'
import { Decoder } from '../decode/decoder.js'
import { resolveDecodeOptions } from '../decode/options.js'
import { RowBatch as Batch } from '../batch/row-batch.js'
import { encodeBatchRw1, type EncodedRequest, type EncodeOptions } from '../encode/rw1-encode.js'
import { encodeBatchRw2 } from '../encode/rw2-encode.js'
import { encodeLabels } from '../series/labels.js'
import { hashLabels, hashOut, tenantSeed } from '../series/label-hash.js'
import { SeriesIndex } from '../series/series-index.js'
import type { BatchEncoder } from './forward-sink.js'
import { ALL_DESTINATIONS, type ParsedRecord, type RecordInfo } from './record.js'

/** The decoder of records at send time has its own series index, started afresh when it fills. */
const TRANSCODE_INDEX_SERIES = 1 << 17

export function createBatchEncoder (): BatchEncoder {
  let decoder: Decoder | undefined
  const decode = (record: ParsedRecord): RowBatch => {
    if (decoder === undefined || decoder.index.size > TRANSCODE_INDEX_SERIES / 2) decoder = new Decoder(SeriesIndex.create({ maxSeries: TRANSCODE_INDEX_SERIES }))
    const o = resolveDecodeOptions({ version: record.version, tenant: record.tenant, partial: true, strictUtf8: false })
    const { buffer, firstError } = decoder.decode(record.body, o)
    return new Batch(buffer, { tenant: record.tenant, firstError }, decoder.index)
  }
  const encode = (batch: RowBatch, version: '1.0' | '2.0', options: EncodeOptions = {}): EncodedRequest[] =>
    version === '2.0' ? encodeBatchRw2(batch, options) : encodeBatchRw1(batch, options)
  const toRecords = (parts: EncodedRequest[], version: '1.0' | '2.0', tenant: string, target: number): ParsedRecord[] =>
    parts.map(p => ({ version, target, samples: p.samples, histograms: p.histograms, exemplars: p.exemplars, tenant, body: p.body }))

  return {
    encodeBatch (batch, version, route, labelsOf) {
      const parts = encode(batch, version, { ...(route === undefined ? {} : { route }), ...(labelsOf === undefined ? {} : { labelsOf }) })
      return parts.map(p => ({
        info: { version, target: p.target < 0 ? ALL_DESTINATIONS : p.target, samples: p.samples, histograms: p.histograms, exemplars: p.exemplars, tenant: batch.tenant } satisfies RecordInfo,
        body: p.body
      }))
    },
    router (batch, destinations) {
      return rendezvousRouter(batch, destinations.map(d => d.name))
    },
    convert (record, version) {
      return toRecords(encode(decode(record), version), version, record.tenant, record.target)
    },
    split (record) {
      const n = record.samples + record.histograms
      if (n <= 1) return undefined
      const parts = encode(decode(record), record.version, { maxSamples: Math.ceil(n / 2) })
      return parts.length > 1 ? toRecords(parts, record.version, record.tenant, record.target) : undefined
    }
  }
}

/**
 * Rendezvous (highest random weight) hashing: a series goes to the destination whose hash of
 * (destination name, tenant, label bytes) is the highest. It depends only on the labels and the
 * destination names, so it is the same across restarts, and adding a destination moves only the series
 * that now score highest there (about 1/n of them).
 */
export function rendezvousRouter (batch: RowBatch, names: readonly string[]): (seriesId: number) => number {
  const seeds = names.map(n => tenantSeed(n + '\u0000' + batch.tenant))
  const cache = new Map<number, number>()
  return seriesId => {
    let best = cache.get(seriesId)
    if (best !== undefined) return best
    best = rendezvousPick(encodeLabels(batch.labelsOf(seriesId) ?? []), seeds)
    cache.set(seriesId, best)
    return best
  }
}

/** The index of the seed that scores highest for these canonical label bytes. */
export function rendezvousPick (labelBytes: Uint8Array, seeds: readonly number[]): number {
  const d = new DataView(labelBytes.buffer, labelBytes.byteOffset, labelBytes.byteLength)
  let best = 0
  let bestHi = -1
  let bestLo = -1
  for (let i = 0; i < seeds.length; i++) {
    hashLabels(d, 0, labelBytes.length, seeds[i]!)
    const hi = hashOut[0]! >>> 0
    const lo = hashOut[1]! >>> 0
    if (hi > bestHi || (hi === bestHi && lo > bestLo)) { best = i; bestHi = hi; bestLo = lo }
  }
  return best
}
