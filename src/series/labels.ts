/**
 * The canonical label encoding: how a series' label set is stored as bytes everywhere in prom-ingest
 * (series index arena, the batch's new-series blob, exemplar labels).
 *
 * It is the Remote Write 1.0 wire form of `repeated Label labels = 1`, exactly as Prometheus' Go
 * encoder writes it, so that a 1.0 body's label bytes usually are canonical as they stand:
 *
 *   per label, sorted by name:  0x0a varint(len(Label))  0x0a varint(len(name)) name  [0x12 varint(len(value)) value]
 *
 * The value field is left out when the value is empty (as proto3 encoders do). Names are never empty.
 */
import { readVarint, skipVarint, varintSize, writeVarint } from './varint.js'

export type Labels = Array<[name: string, value: string]>

// ignoreBOM: a label that starts with U+FEFF keeps it (the default would strip it as a byte-order mark).
const utf8 = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true })
const utf8Encoder = new TextEncoder()

/** Bytes of the Label message body: name field, and value field unless the value is empty. */
function innerSize (nameLength: number, valueLength: number): number {
  return 1 + varintSize(nameLength) + nameLength + (valueLength > 0 ? 1 + varintSize(valueLength) + valueLength : 0)
}

/** Bytes one label takes in canonical form. */
export function labelSize (nameLength: number, valueLength: number): number {
  const inner = innerSize(nameLength, valueLength)
  return 1 + varintSize(inner) + inner
}

/** Where a label's name starts, counted from the start of its canonical form (its value ends the form). */
export function labelNameOffset (nameLength: number, valueLength: number): number {
  return 2 + varintSize(innerSize(nameLength, valueLength)) + varintSize(nameLength)
}

/**
 * Writes one label in canonical form at `o` of `out` (room for `labelSize` bytes is the caller's):
 * the name is bytes [nameStart, nameStart + nameLength) of `name`, the value likewise. Returns the end.
 * The one writer of the encoding: the label scratch and `encodeLabels` both write through it.
 */
export function writeLabel (out: Uint8Array, o: number, name: Uint8Array, nameStart: number, nameLength: number, value: Uint8Array, valueStart: number, valueLength: number): number {
  out[o++] = 0x0a
  o = writeVarint(out, o, innerSize(nameLength, valueLength))
  out[o++] = 0x0a
  o = writeVarint(out, o, nameLength)
  o = copyBytes(name, nameStart, nameLength, out, o)
  if (valueLength > 0) {
    out[o++] = 0x12
    o = writeVarint(out, o, valueLength)
    o = copyBytes(value, valueStart, valueLength, out, o)
  }
  return o
}

/** Copies n bytes; returns the end in `to`. Label text is short: a loop, no subarray object, no memcpy call. */
function copyBytes (from: Uint8Array, at: number, n: number, to: Uint8Array, o: number): number {
  if (n > 64) { to.set(from.subarray(at, at + n), o); return o + n }
  for (let i = 0; i < n; i++) to[o + i] = from[at + i]!
  return o + n
}

/** Reads canonical label bytes back into name/value strings. Not for hot paths: it makes strings. */
export function decodeLabels (bytes: Uint8Array, start = 0, end = bytes.length): Labels {
  const out: Labels = []
  let pos = start
  while (pos < end) {
    // 0x0a len(Label)
    const len = readVarint(bytes, pos + 1)
    pos = skipVarint(bytes, pos + 1)
    const labelEnd = pos + len
    let name = ''
    let value = ''
    while (pos < labelEnd) {
      const tag = bytes[pos]!
      const n = readVarint(bytes, pos + 1)
      pos = skipVarint(bytes, pos + 1)
      const s = utf8.decode(bytes.subarray(pos, pos + n))
      if (tag === 0x0a) name = s
      else value = s
      pos += n
    }
    out.push([name, value])
  }
  return out
}

/** Encodes a label set canonically. The pairs must already be sorted by name. */
export function encodeLabels (labels: ReadonlyArray<readonly [string, string]>): Uint8Array {
  const parts = labels.map(([n, v]) => [utf8Encoder.encode(n), utf8Encoder.encode(v)] as const)
  let size = 0
  for (const [n, v] of parts) size += labelSize(n.length, v.length)
  const out = new Uint8Array(size)
  let pos = 0
  for (const [n, v] of parts) pos = writeLabel(out, pos, n, 0, n.length, v, 0, v.length)
  return out
}

/** The Prometheus text form: `name{a="b",c="d"}` (label values escaped as in the exposition format). */
export function formatSeries (labels: Labels): string {
  return format(labels, Infinity, Infinity)
}

/** Longest value, and most labels, an error message quotes. */
const DESCRIBE_CHARS = 200
const DESCRIBE_LABELS = 32

/**
 * A series named in an error message: the Prometheus text form of `formatSeries`, with values cut at
 * 200 characters and at most 32 labels. The one way errors name a series, new or known.
 */
export function describeSeries (labels: Labels): string {
  return format(labels, DESCRIBE_CHARS, DESCRIBE_LABELS)
}

function format (labels: Labels, maxChars: number, maxLabels: number): string {
  let name = ''
  const rest: string[] = []
  for (const [n, v] of labels) {
    if (n === '__name__') { name = cut(v, maxChars); continue }
    if (rest.length === maxLabels) { rest.push('...'); break }
    rest.push(`${cut(n, maxChars)}="${cut(v, maxChars).replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')}"`)
  }
  return rest.length > 0 ? `${name}{${rest.join(',')}}` : name
}

function cut (s: string, max: number): string {
  return s.length > max ? s.slice(0, max) + '...' : s
}

/** The metric name of a label set, or '' when it has none. */
export function metricNameOf (labels: Labels): string {
  for (const [n, v] of labels) if (n === '__name__') return v
  return ''
}
