/**
 * Remote-read answers, encoded from columns (pure, no I/O): the SAMPLES answer (one ReadResponse,
 * snappy-compressed by the caller) and the STREAMED_XOR_CHUNKS answer (frames of ChunkedReadResponse).
 *
 *   message ReadResponse        { repeated QueryResult results = 1; }
 *   message QueryResult         { repeated TimeSeries timeseries = 1; }
 *   message TimeSeries          { repeated Label labels = 1; repeated Sample samples = 2; ... }
 *   message Label               { string name = 1; string value = 2; }
 *   message Sample              { double value = 1; int64 timestamp = 2; }
 *
 *   message ChunkedReadResponse { repeated ChunkedSeries chunked_series = 1; int64 query_index = 2; }
 *   message ChunkedSeries       { repeated Label labels = 1; repeated Chunk chunks = 2; }
 *   message Chunk               { int64 min_time_ms = 1; int64 max_time_ms = 2; Encoding type = 3; bytes data = 4; }  // XOR = 1
 *
 *   frame = uvarint(message length) ++ CRC-32C of the message (4 bytes, big-endian) ++ message
 *
 * Values are copied as their 8 bytes (stale markers keep their bits). As Prometheus does, a frame
 * holds one series (or a part of one): chunks are added until the frame holds about `maxFrameBytes`.
 */
import { ProtoWriter } from '../encode/proto-writer.js'
import { crc32c } from '../queue/crc32c.js'
import { encodeXorChunk, SAMPLES_PER_CHUNK } from './xor-chunk.js'

export type LabelPairs = ReadonlyArray<readonly [string, string]>

/** The samples of one query's series: series i has samples [offsets[i], offsets[i + 1]). */
export interface SeriesColumns {
  readonly labels: readonly LabelPairs[]
  readonly offsets: Uint32Array
  /** Millisecond timestamps. */
  readonly ts: Float64Array
  /** Each value's two 32-bit words, low word first (the bytes of a little-endian double). */
  readonly words: Uint32Array
  /** Native histograms of the same series (SAMPLES only), already encoded as prompb.Histogram messages, per series. */
  readonly histograms?: ReadonlyArray<readonly Uint8Array[]>
}

function writeLabels (w: ProtoWriter, field: number, labels: LabelPairs, scratch: ProtoWriter): void {
  for (const [name, value] of labels) {
    scratch.reset()
    scratch.string(1, name)
    scratch.string(2, value)
    w.message(field, scratch)
  }
}

/** Bytes of a timestamp's int64 varint (negative: 10, two's complement). */
function varintLength (v: number): number {
  if (v < 0) return 10
  let n = 1
  while (v >= 0x80) { v = Math.floor(v / 128); n++ }
  return n
}

/** One ReadResponse (uncompressed) holding a QueryResult per query. */
export function encodeReadResponse (results: readonly SeriesColumns[]): Uint8Array {
  const out = new ProtoWriter(1 << 16)
  const result = new ProtoWriter(1 << 16)
  const series = new ProtoWriter(1 << 12)
  const small = new ProtoWriter(64)
  const bytes = new Uint8Array(8)
  const words = new Uint32Array(bytes.buffer)
  for (const r of results) {
    result.reset()
    for (let s = 0; s < r.labels.length; s++) {
      series.reset()
      writeLabels(series, 1, r.labels[s]!, small)
      for (let i = r.offsets[s]!; i < r.offsets[s + 1]!; i++) {
        // Sample { double value = 1; int64 timestamp = 2; } written in place: tag 0x09, the value's
        // 8 bytes as stored (little endian on the wire and here), tag 0x10, the timestamp varint.
        const t = r.ts[i]!
        series.tag(2, 2)
        series.varint(10 + varintLength(t))
        words[0] = r.words[2 * i]!
        words[1] = r.words[2 * i + 1]!
        series.varint(0x09)
        series.raw8(bytes, 0)
        series.varint(0x10)
        series.int64(t)
      }
      for (const h of r.histograms?.[s] ?? []) series.bytesField(4, h)
      result.message(1, series)
    }
    out.message(1, result)
  }
  return out.finish()
}

/** One frame around a message. */
export function frame (message: Uint8Array): Uint8Array {
  const head = new ProtoWriter(16)
  head.varint(message.length)
  const out = new Uint8Array(head.pos + 4 + message.length)
  out.set(head.bytes.subarray(0, head.pos))
  new DataView(out.buffer).setUint32(head.pos, crc32c(message), false)
  out.set(message, head.pos + 4)
  return out
}

/** Prometheus' default frame size (--storage.remote.read-max-bytes-in-frame). */
export const MAX_FRAME_BYTES = 1 << 20

/**
 * The frames of one query's answer, in series order; each frame is handed to `emit` as it is made.
 * Series without samples are left out (they have no chunk).
 */
export function encodeChunkedSeries (queryIndex: number, r: SeriesColumns, emit: (frame: Uint8Array) => void, maxFrameBytes = MAX_FRAME_BYTES): void {
  const labelsW = new ProtoWriter(1 << 10)
  const small = new ProtoWriter(64)
  const chunkW = new ProtoWriter(1 << 12)
  const seriesW = new ProtoWriter(1 << 16)
  const msg = new ProtoWriter(1 << 16)
  for (let s = 0; s < r.labels.length; s++) {
    const from = r.offsets[s]!
    const to = r.offsets[s + 1]!
    if (to <= from) continue
    labelsW.reset()
    writeLabels(labelsW, 1, r.labels[s]!, small)
    const budget = maxFrameBytes - labelsW.pos
    let left = budget
    seriesW.reset()
    writeLabels(seriesW, 1, r.labels[s]!, small)
    for (let i = from; i < to; i += SAMPLES_PER_CHUNK) {
      const end = Math.min(to, i + SAMPLES_PER_CHUNK)
      chunkW.reset()
      chunkW.tag(1, 0); chunkW.int64(r.ts[i]!)
      chunkW.tag(2, 0); chunkW.int64(r.ts[end - 1]!)
      chunkW.tag(3, 0); chunkW.varint(1) // XOR
      chunkW.bytesField(4, encodeXorChunk(r.ts, r.words, i, end))
      seriesW.message(2, chunkW)
      left -= chunkW.pos
      // Like Prometheus: the frame may pass its size by one chunk.
      if (left > 0 && end < to) continue
      msg.reset()
      msg.message(1, seriesW)
      if (queryIndex !== 0) { msg.tag(2, 0); msg.int64(queryIndex) }
      emit(frame(msg.finish()))
      seriesW.reset()
      writeLabels(seriesW, 1, r.labels[s]!, small)
      left = budget
    }
  }
}
