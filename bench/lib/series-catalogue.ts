/**
 * The series the load generator sends, modelled on a real request: the label sets and sample values of
 * the template body (by default the generated 10,000 node_exporter series from 14 hosts, 60 label
 * names, ~6.4 labels per series, see lib/template-body.ts; `--template FILE` takes any RW 1.0 body). To get N distinct series, copy k of the template (k = 0, 1, ...) gives every
 * `instance` value the suffix `-k` (copy 0 keeps the values as they are), so names, values, label
 * counts and sizes stay those of the real request.
 */
import { templateBody } from './template-body.js'

export type LabelSet = ReadonlyArray<readonly [name: string, value: string]>

export interface Series {
  readonly labels: LabelSet
  readonly value: number
}

/**
 * Reads the label sets and first sample values of a Remote Write 1.0 body (uncompressed):
 *   WriteRequest { repeated TimeSeries timeseries = 1; }
 *   TimeSeries   { repeated Label labels = 1; repeated Sample samples = 2; }
 *   Label        { string name = 1; string value = 2; }
 *   Sample       { double value = 1; int64 timestamp = 2; }
 */
export function readTemplate (path?: string): Series[] {
  const { body, name } = templateBody(path)
  const b = Buffer.from(body.buffer, body.byteOffset, body.byteLength)
  const text = new TextDecoder()
  let p = 0
  const varint = (): number => {
    let v = 0
    for (let shift = 0; ; shift += 7) {
      const byte = b[p++]!
      v += (byte & 0x7f) * 2 ** shift
      if (byte < 0x80) return v
    }
  }
  const skip = (wireType: number): void => {
    if (wireType === 0) varint()
    else if (wireType === 1) p += 8
    else if (wireType === 2) p += varint()
    else if (wireType === 5) p += 4
    else throw new Error(`${name}: unexpected wire type ${wireType} at byte ${p}`)
  }
  const series: Series[] = []
  while (p < b.length) {
    const tag = varint()
    if (tag !== 0x0a) { skip(tag & 7); continue }
    const end = p + varint()
    const labels: Array<[string, string]> = []
    let value = 0
    let sawSample = false
    while (p < end) {
      const t = varint()
      if (t === 0x0a) {
        const labelEnd = p + varint()
        let name = ''
        let val = ''
        while (p < labelEnd) {
          const lt = varint()
          const len = varint()
          const s = text.decode(b.subarray(p, p + len))
          p += len
          if (lt === 0x0a) name = s
          else if (lt === 0x12) val = s
        }
        labels.push([name, val])
      } else if (t === 0x12) {
        const sampleEnd = p + varint()
        while (p < sampleEnd) {
          const st = varint()
          if (st === 0x09 && !sawSample) value = b.readDoubleLE(p)
          skip(st & 7)
        }
        sawSample = true
      } else {
        skip(t & 7)
      }
    }
    series.push({ labels, value })
  }
  if (series.length === 0) throw new Error(`${name}: no series found`)
  return series
}

/** `count` distinct series: template copies with the `instance` value suffixed by the copy number. */
export function catalogue (template: readonly Series[], count: number): Series[] {
  const out: Series[] = []
  for (let i = 0; i < count; i++) {
    const copy = Math.floor(i / template.length)
    const t = template[i % template.length]!
    if (copy === 0) { out.push(t); continue }
    out.push({ labels: t.labels.map(([n, v]) => [n, n === 'instance' ? `${v}-${copy}` : v] as const), value: t.value })
  }
  return out
}

/** Average labels per series and distinct label names / values, for the report. */
export function describeCatalogue (series: readonly Series[]): { series: number, labelsPerSeries: number, names: number, values: number } {
  const names = new Set<string>()
  const values = new Set<string>()
  let labels = 0
  for (const s of series) {
    labels += s.labels.length
    for (const [n, v] of s.labels) { names.add(n); values.add(v) }
  }
  return { series: series.length, labelsPerSeries: labels / series.length, names: names.size, values: values.size }
}
