/**
 * A remote-read client for tests: builds a ReadRequest with protobufjs (from
 * test/fixtures/proto/remote-read.proto), posts it snappy-compressed as Prometheus does, and decodes
 * either answer independently of the service's encoder: SAMPLES with protobufjs (values as their bits),
 * STREAMED_XOR_CHUNKS frame by frame (length, CRC-32C checked, ChunkedReadResponse with protobufjs,
 * chunks with the XOR decoder).
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import protobuf from 'protobufjs'
import { request } from 'undici'
import { crc32c } from '../../src/queue/crc32c.js'
import { decodeXorChunk } from '../../src/read/xor-chunk.js'

// snappyjs ships no types: the two functions used here.
const snappyjs = createRequire(import.meta.url)('snappyjs') as { compress (input: Uint8Array): Uint8Array, uncompress (input: Uint8Array): Uint8Array }

const root = protobuf.parse(readFileSync(new URL('../fixtures/proto/remote-read.proto', import.meta.url), 'utf8'), { keepCase: true }).root
const ReadRequest = root.lookupType('prometheus.ReadRequest')
const ReadResponse = root.lookupType('prometheus.ReadResponse')
const ChunkedReadResponse = root.lookupType('prometheus.ChunkedReadResponse')

export type Matcher = readonly ['=' | '!=' | '=~' | '!~', string, string]
export interface ReadQuerySpec { startMs: number, endMs: number, matchers: readonly Matcher[] }

/** One series of an answer: labels as "name=value" pairs in order, samples as [ms, value bits]. */
export interface ReadSeries { labels: Array<[string, string]>, samples: Array<[number, bigint]> }

export interface ReadAnswer {
  status: number
  headers: Record<string, string>
  /** Per query, its series in answer order (streamed: parts of a series over several frames joined). */
  results: ReadSeries[][]
  /** The error text when the status is not 200. */
  text: string
  /** Streamed answers: frames read, and every chunk's [min, max, samples, first ts, last ts] for checks. */
  frames: number
  chunks: Array<{ min: number, max: number, count: number, first: number, last: number }>
}

const OPS = { '=': 0, '!=': 1, '=~': 2, '!~': 3 } as const

export function encodeReadRequest (queries: readonly ReadQuerySpec[], accepted: readonly number[] = [0]): Uint8Array {
  const msg = ReadRequest.create({
    queries: queries.map(q => ({
      start_timestamp_ms: q.startMs,
      end_timestamp_ms: q.endMs,
      matchers: q.matchers.map(([op, name, value]) => ({ type: OPS[op], name, value }))
    })),
    accepted_response_types: [...accepted]
  })
  return new Uint8Array(snappyjs.compress(ReadRequest.encode(msg).finish()))
}

const toNumber = (v: unknown): number => typeof v === 'number' ? v : Number((v as { toString(): string }).toString())
const toBits = (v: unknown): bigint => BigInt((v as { toString(): string }).toString())

function labelsOf (labels: Array<{ name: string, value: string }>): Array<[string, string]> {
  return labels.map(l => [l.name, l.value])
}

/** Decodes a streamed answer's bytes: frames, CRCs, messages and chunks. */
export function decodeStreamed (body: Uint8Array): Pick<ReadAnswer, 'results' | 'frames' | 'chunks'> {
  const results: ReadSeries[][] = []
  const chunks: ReadAnswer['chunks'] = []
  let frames = 0
  let pos = 0
  while (pos < body.length) {
    let len = 0
    let shift = 1
    for (;;) {
      const b = body[pos++]!
      len += (b & 0x7f) * shift
      shift *= 128
      if (b < 0x80) break
    }
    const crc = new DataView(body.buffer, body.byteOffset + pos, 4).getUint32(0, false)
    pos += 4
    const message = body.subarray(pos, pos + len)
    if (message.length !== len) throw new Error(`frame ${frames} is cut: ${message.length} of ${len} bytes`)
    if (crc32c(message) !== crc) throw new Error(`frame ${frames}: CRC-32C ${crc32c(message).toString(16)} != ${crc.toString(16)}`)
    pos += len
    frames++
    const m = ChunkedReadResponse.toObject(ChunkedReadResponse.decode(message), { longs: String, defaults: true }) as { chunked_series: Array<{ labels: Array<{ name: string, value: string }>, chunks: Array<{ min_time_ms: string, max_time_ms: string, type: number, data: Uint8Array }> }>, query_index: string }
    const q = Number(m.query_index)
    if (results[q] === undefined) results[q] = []
    const list = results[q]
    for (const s of m.chunked_series) {
      const labels = labelsOf(s.labels)
      const key = JSON.stringify(labels)
      let series = list.find(x => JSON.stringify(x.labels) === key)
      if (series === undefined) { series = { labels, samples: [] }; list.push(series) }
      for (const c of s.chunks) {
        if (c.type !== 1) throw new Error(`chunk type ${c.type}, not XOR`)
        const d = decodeXorChunk(c.data)
        chunks.push({ min: Number(c.min_time_ms), max: Number(c.max_time_ms), count: d.ts.length, first: d.ts[0]!, last: d.ts[d.ts.length - 1]! })
        d.ts.forEach((t, i) => { series.samples.push([t, (BigInt(d.words[2 * i + 1]!) << 32n) | BigInt(d.words[2 * i]!)]) })
      }
    }
  }
  return { results, frames, chunks }
}

/** Decodes a SAMPLES answer (snappy ReadResponse). */
export function decodeSamples (body: Uint8Array): ReadSeries[][] {
  const raw = new Uint8Array(snappyjs.uncompress(body))
  const m = ReadResponse.toObject(ReadResponse.decode(raw), { longs: String, defaults: true }) as { results: Array<{ timeseries: Array<{ labels: Array<{ name: string, value: string }>, samples: Array<{ value: string, timestamp: string }> }> }> }
  return m.results.map(r => r.timeseries.map(ts => ({ labels: labelsOf(ts.labels), samples: ts.samples.map(s => [toNumber(s.timestamp), toBits(s.value)] as [number, bigint]) })))
}

export async function remoteRead (url: string, queries: readonly ReadQuerySpec[], accepted: readonly number[] = [0], headers: Record<string, string> = {}): Promise<ReadAnswer> {
  const res = await request(`${url}/api/v1/read`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy', 'x-prometheus-remote-read-version': '0.1.0', ...headers },
    body: encodeReadRequest(queries, accepted)
  })
  const body = new Uint8Array(await res.body.arrayBuffer())
  const flat: Record<string, string> = {}
  for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) flat[k] = Array.isArray(v) ? v.join(', ') : v
  if (res.statusCode !== 200) return { status: res.statusCode, headers: flat, results: [], text: Buffer.from(body).toString('utf8'), frames: 0, chunks: [] }
  if ((flat['content-type'] ?? '').startsWith('application/x-streamed-protobuf')) {
    return { status: 200, headers: flat, text: '', ...decodeStreamed(body) }
  }
  return { status: 200, headers: flat, results: decodeSamples(body), text: '', frames: 0, chunks: [] }
}
