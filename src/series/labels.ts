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

export type Labels = Array<[name: string, value: string]>

// ignoreBOM: a label that starts with U+FEFF keeps it (the default would strip it as a byte-order mark).
const utf8 = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true })
const utf8Encoder = new TextEncoder()

function readVarint32 (b: Uint8Array, pos: number): [value: number, next: number] {
  let v = 0
  let shift = 0
  for (;;) {
    const byte = b[pos++]!
    v += (byte & 0x7f) * 2 ** shift
    if (byte < 0x80) return [v, pos]
    shift += 7
  }
}

function varintSize (n: number): number {
  let s = 1
  while (n >= 0x80) { n = Math.floor(n / 128); s++ }
  return s
}

function writeVarint (out: Uint8Array, pos: number, n: number): number {
  while (n >= 0x80) { out[pos++] = (n & 0x7f) | 0x80; n = Math.floor(n / 128) }
  out[pos++] = n
  return pos
}

/** Reads canonical label bytes back into name/value strings. Not for hot paths: it makes strings. */
export function decodeLabels (bytes: Uint8Array, start = 0, end = bytes.length): Labels {
  const out: Labels = []
  let pos = start
  while (pos < end) {
    // 0x0a len(Label)
    let len: number
    ;[len, pos] = readVarint32(bytes, pos + 1)
    const labelEnd = pos + len
    let name = ''
    let value = ''
    while (pos < labelEnd) {
      const tag = bytes[pos]!
      let n: number
      ;[n, pos] = readVarint32(bytes, pos + 1)
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
  for (const [n, v] of parts) {
    const inner = 1 + varintSize(n.length) + n.length + (v.length > 0 ? 1 + varintSize(v.length) + v.length : 0)
    size += 1 + varintSize(inner) + inner
  }
  const out = new Uint8Array(size)
  let pos = 0
  for (const [n, v] of parts) {
    const inner = 1 + varintSize(n.length) + n.length + (v.length > 0 ? 1 + varintSize(v.length) + v.length : 0)
    out[pos++] = 0x0a
    pos = writeVarint(out, pos, inner)
    out[pos++] = 0x0a
    pos = writeVarint(out, pos, n.length)
    out.set(n, pos); pos += n.length
    if (v.length > 0) {
      out[pos++] = 0x12
      pos = writeVarint(out, pos, v.length)
      out.set(v, pos); pos += v.length
    }
  }
  return out
}

/** The Prometheus text form: `name{a="b",c="d"}` (label values escaped as in the exposition format). */
export function formatSeries (labels: Labels): string {
  let name = ''
  const rest: string[] = []
  for (const [n, v] of labels) {
    if (n === '__name__') name = v
    else rest.push(`${n}="${v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')}"`)
  }
  return rest.length > 0 ? `${name}{${rest.join(',')}}` : name
}

/** The metric name of a label set, or '' when it has none. */
export function metricNameOf (labels: Labels): string {
  for (const [n, v] of labels) if (n === '__name__') return v
  return ''
}
