/**
 * The remote-read request (prompb/remote.proto, prompb/types.proto), read from its decompressed
 * protobuf bytes. Pure, no I/O. Requests are small (a few queries of a few matchers), so this one makes
 * plain objects, unlike the write path's walk.
 *
 *   message ReadRequest  { repeated Query queries = 1; repeated ResponseType accepted_response_types = 2; }
 *   enum ResponseType    { SAMPLES = 0; STREAMED_XOR_CHUNKS = 1; }
 *   message Query        { int64 start_timestamp_ms = 1; int64 end_timestamp_ms = 2;
 *                          repeated LabelMatcher matchers = 3; ReadHints hints = 4; }
 *   message LabelMatcher { Type type = 1; string name = 2; string value = 3; }   // EQ 0, NEQ 1, RE 2, NRE 3
 *   message ReadHints    { int64 step_ms = 1; string func = 2; int64 start_ms = 3; int64 end_ms = 4;
 *                          repeated string grouping = 5; bool by = 6; int64 range_ms = 7; }
 *
 * Hints are read (a malformed one is still an error) and not used: every query returns its raw
 * samples, which is what Prometheus' own remote-read handler does.
 */
import { IngestError } from '../errors.js'
import { fields, WireReader } from '../decode/wire-reader.js'

export type MatchType = 'EQ' | 'NEQ' | 'RE' | 'NRE'
export const MATCH_TYPES: readonly MatchType[] = ['EQ', 'NEQ', 'RE', 'NRE']

export interface WireMatcher {
  readonly type: MatchType
  readonly name: string
  readonly value: string
}

export interface ReadHints {
  readonly stepMs: number
  readonly func: string
  readonly startMs: number
  readonly endMs: number
  readonly grouping: readonly string[]
  readonly by: boolean
  readonly rangeMs: number
}

export interface ReadQuery {
  readonly startMs: number
  readonly endMs: number
  readonly matchers: readonly WireMatcher[]
  readonly hints: ReadHints | undefined
}

export const SAMPLES = 0
export const STREAMED_XOR_CHUNKS = 1

export interface ReadRequest {
  readonly queries: readonly ReadQuery[]
  /** Response types in the client's order of preference (numbers: unknown ones are kept). */
  readonly acceptedResponseTypes: readonly number[]
}

const decoder = new TextDecoder('utf-8', { fatal: true })

class ReadRequestReader extends WireReader {
  read (body: Uint8Array): ReadRequest {
    this.point(body, new DataView(body.buffer, body.byteOffset, body.byteLength))
    const queries: ReadQuery[] = []
    const accepted: number[] = []
    const end = body.length
    while (this.pos < end) {
      const tag = this.varint(end)
      if (tag === (1 << 3 | 2)) {
        const e = this.lengthDelimited(end, 'query')
        queries.push(this.query(e))
      } else if (tag === (2 << 3 | 0)) {
        accepted.push(this.varint(end))
      } else if (tag === (2 << 3 | 2)) { // packed
        const e = this.lengthDelimited(end, 'accepted_response_types')
        while (this.pos < e) accepted.push(this.varint(e))
      } else {
        this.unknown(tag, end, fields(1, 2))
      }
    }
    return { queries, acceptedResponseTypes: accepted }
  }

  private string (limit: number, what: string): string {
    const e = this.lengthDelimited(limit, what)
    let s: string
    try {
      s = decoder.decode(this.u8.subarray(this.pos, e))
    } catch {
      this.malformed(`${what} is not valid UTF-8`, this.pos)
    }
    this.pos = e
    return s
  }

  private query (end: number): ReadQuery {
    let startMs = 0
    let endMs = 0
    const matchers: WireMatcher[] = []
    let hints: ReadHints | undefined
    while (this.pos < end) {
      const tag = this.varint(end)
      switch (tag) {
        case 1 << 3 | 0: startMs = this.int64(end); break
        case 2 << 3 | 0: endMs = this.int64(end); break
        case 3 << 3 | 2: matchers.push(this.matcher(this.lengthDelimited(end, 'matcher'))); break
        case 4 << 3 | 2: hints = this.hints(this.lengthDelimited(end, 'hints')); break
        default: this.unknown(tag, end, fields(1, 2, 3, 4))
      }
    }
    return { startMs, endMs, matchers, hints }
  }

  private matcher (end: number): WireMatcher {
    let type = 0
    let name = ''
    let value = ''
    while (this.pos < end) {
      const tag = this.varint(end)
      switch (tag) {
        case 1 << 3 | 0: type = this.varint(end); break
        case 2 << 3 | 2: name = this.string(end, 'matcher name'); break
        case 3 << 3 | 2: value = this.string(end, 'matcher value'); break
        default: this.unknown(tag, end, fields(1, 2, 3))
      }
    }
    const t = MATCH_TYPES[type]
    if (t === undefined) throw new IngestError('read_request_invalid', `the matcher on ${JSON.stringify(name)} has type ${type}; known are 0 (=), 1 (!=), 2 (=~), 3 (!~)`)
    return { type: t, name, value }
  }

  private hints (end: number): ReadHints {
    const h = { stepMs: 0, func: '', startMs: 0, endMs: 0, grouping: [] as string[], by: false, rangeMs: 0 }
    while (this.pos < end) {
      const tag = this.varint(end)
      switch (tag) {
        case 1 << 3 | 0: h.stepMs = this.int64(end); break
        case 2 << 3 | 2: h.func = this.string(end, 'hints func'); break
        case 3 << 3 | 0: h.startMs = this.int64(end); break
        case 4 << 3 | 0: h.endMs = this.int64(end); break
        case 5 << 3 | 2: h.grouping.push(this.string(end, 'hints grouping')); break
        case 6 << 3 | 0: h.by = this.varint(end) !== 0; break
        case 7 << 3 | 0: h.rangeMs = this.int64(end); break
        default: this.unknown(tag, end, fields(1, 2, 3, 4, 5, 6, 7))
      }
    }
    return h
  }
}

/** Reads a decompressed ReadRequest; throws protobuf_malformed or read_request_invalid. */
export function readReadRequest (body: Uint8Array): ReadRequest {
  return new ReadRequestReader().read(body)
}
