/**
 * Remote-write bodies for the load generator: one body per chunk of series, one sample per series,
 * every sample timestamp a 6-byte varint "hole" that `timestampBytes` fills per request (see
 * patchable-snappy.ts). Both protocol versions, written as Prometheus writes them (proto3: a zero value
 * is left out; 2.0: the non-nullable metadata message is written empty).
 */
import type { Series } from './series-catalogue.js'

/** Width of a millisecond timestamp as a varint from 2^35 ms (1971) to 2^42 ms (2109). */
export const TIMESTAMP_WIDTH = 6

export interface BodyWithHoles {
  /** Uncompressed protobuf. */
  readonly body: Uint8Array
  /** Byte offset of each sample timestamp varint (TIMESTAMP_WIDTH bytes each), ascending. */
  readonly holes: Int32Array
  readonly series: number
}

/** The 6 varint bytes of a millisecond timestamp (written into `out`). */
export function timestampBytes (ms: number, out = new Uint8Array(TIMESTAMP_WIDTH)): Uint8Array {
  if (!Number.isSafeInteger(ms) || ms < 2 ** 35 || ms >= 2 ** 42) throw new RangeError(`timestamp ${ms} does not take exactly ${TIMESTAMP_WIDTH} varint bytes`)
  let v = ms
  for (let k = 0; k < TIMESTAMP_WIDTH; k++) {
    const low = v % 128
    v = Math.floor(v / 128)
    out[k] = k < TIMESTAMP_WIDTH - 1 ? low | 0x80 : low
  }
  return out
}

class Writer {
  buf = new Uint8Array(1 << 16)
  len = 0
  ensure (n: number): void {
    if (this.len + n <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < this.len + n) size *= 2
    const next = new Uint8Array(size)
    next.set(this.buf.subarray(0, this.len))
    this.buf = next
  }
  byte (b: number): void { this.ensure(1); this.buf[this.len++] = b }
  varint (v: number): void {
    this.ensure(10)
    while (v >= 0x80) { this.buf[this.len++] = (v % 128) | 0x80; v = Math.floor(v / 128) }
    this.buf[this.len++] = v
  }
  bytes (b: Uint8Array): void { this.ensure(b.length); this.buf.set(b, this.len); this.len += b.length }
  double (d: number): void { this.ensure(8); new DataView(this.buf.buffer).setFloat64(this.len, d, true); this.len += 8 }
  finish (): Uint8Array { return this.buf.slice(0, this.len) }
}

function varintSize (v: number): number {
  let s = 1
  while (v >= 0x80) { v = Math.floor(v / 128); s++ }
  return s
}

const utf8 = new TextEncoder()
const PLACEHOLDER = timestampBytes(2 ** 40) // any 6-byte timestamp: every hole starts out the same

/**
 * message Sample { double value = 1; int64 timestamp = 2; } (the same in both versions), as the
 * field `fieldNo` of its parent. Returns the offset of the timestamp hole.
 */
function writeSample (w: Writer, fieldNo: number, value: number): number {
  const hasValue = !Object.is(value, 0)
  w.byte((fieldNo << 3) | 2)
  w.varint((hasValue ? 9 : 0) + 1 + TIMESTAMP_WIDTH)
  if (hasValue) { w.byte(0x09); w.double(value) }
  w.byte(0x10)
  const hole = w.len
  w.bytes(PLACEHOLDER)
  return hole
}

/**
 * Remote Write 1.0:
 *   WriteRequest { repeated TimeSeries timeseries = 1; }
 *   TimeSeries   { repeated Label labels = 1; repeated Sample samples = 2; }
 *   Label        { string name = 1; string value = 2; }
 */
export function encodeV1 (series: readonly Series[]): BodyWithHoles {
  const w = new Writer()
  const holes = new Int32Array(series.length)
  series.forEach((s, i) => {
    const labels = s.labels.map(([n, v]) => [utf8.encode(n), utf8.encode(v)] as const)
    let inner = 0
    for (const [n, v] of labels) {
      const label = 1 + varintSize(n.length) + n.length + (v.length > 0 ? 1 + varintSize(v.length) + v.length : 0)
      inner += 1 + varintSize(label) + label
    }
    const sample = (Object.is(s.value, 0) ? 0 : 9) + 1 + TIMESTAMP_WIDTH
    inner += 1 + varintSize(sample) + sample
    w.byte(0x0a)
    w.varint(inner)
    for (const [n, v] of labels) {
      w.byte(0x0a)
      w.varint(1 + varintSize(n.length) + n.length + (v.length > 0 ? 1 + varintSize(v.length) + v.length : 0))
      w.byte(0x0a); w.varint(n.length); w.bytes(n)
      if (v.length > 0) { w.byte(0x12); w.varint(v.length); w.bytes(v) }
    }
    holes[i] = writeSample(w, 2, s.value)
  })
  return { body: w.finish(), holes, series: series.length }
}

/**
 * Remote Write 2.0:
 *   Request    { repeated string symbols = 4; repeated TimeSeries timeseries = 5; }
 *   TimeSeries { repeated uint32 labels_refs = 1; repeated Sample samples = 2; Metadata metadata = 5; }
 * Symbols: "" first, then each string where it is first used.
 */
export function encodeV2 (series: readonly Series[]): BodyWithHoles {
  const symbols: string[] = ['']
  const refs = new Map<string, number>([['', 0]])
  const ref = (s: string): number => {
    let r = refs.get(s)
    if (r === undefined) { r = symbols.length; symbols.push(s); refs.set(s, r) }
    return r
  }
  const labelRefs = series.map(s => s.labels.flatMap(([n, v]) => [ref(n), ref(v)]))

  const w = new Writer()
  for (const s of symbols) {
    const b = utf8.encode(s)
    w.byte(0x22); w.varint(b.length); w.bytes(b)
  }
  const holes = new Int32Array(series.length)
  series.forEach((s, i) => {
    const refsOf = labelRefs[i]!
    let packed = 0
    for (const r of refsOf) packed += varintSize(r)
    const sample = (Object.is(s.value, 0) ? 0 : 9) + 1 + TIMESTAMP_WIDTH
    const inner = 1 + varintSize(packed) + packed + 1 + varintSize(sample) + sample + 2
    w.byte(0x2a)
    w.varint(inner)
    w.byte(0x0a); w.varint(packed)
    for (const r of refsOf) w.varint(r)
    holes[i] = writeSample(w, 2, s.value)
    w.byte(0x2a); w.byte(0x00) // metadata: empty (gogoproto non-nullable, as Prometheus writes it)
  })
  return { body: w.finish(), holes, series: series.length }
}
