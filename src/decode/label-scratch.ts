/**
 * A reusable buffer where the labels of one series are written in canonical form (series/labels.ts)
 * when they do not already stand canonical in the body: a new series, a 1.0 body with unusual
 * encoding, every 2.0 series (its labels are references into the symbols table). Also the place
 * where a label set is validated, once, when its series is new.
 *
 * Positions recorded per label point into `bytes`, so validation reads only this buffer.
 */
import type { ErrorCode } from '../errors.js'
import { describeSeries, labelNameOffset, labelSize, writeLabel, type Labels } from '../series/labels.js'
import { readVarint, skipVarint } from '../series/varint.js'
import { isValidUtf8 } from './utf8.js'

export interface LabelRules {
  maxLabelsPerSeries: number
  maxLabelNameBytes: number
  maxLabelValueBytes: number
  /** Longest series key: canonical label bytes plus the tenant prefix (series-index.ts). */
  maxSeriesKeyBytes: number
  legacyNames: boolean
  strictUtf8: boolean
  /**
   * Reject series whose labels are not sorted by name (labels_unsorted). Off by default: like
   * Prometheus, the receiver sorts them (senders that build labels from maps send them unsorted,
   * and the compliance suite expects them written).
   */
  rejectUnsortedLabels: boolean
}

/** What `validate` found wrong, or nothing. */
export interface LabelProblem { code: ErrorCode, reason: string }

/** Most characters an exemplar's labels may have, names and values together (Prometheus' ExemplarMaxLabelSetLength). */
export const EXEMPLAR_LABEL_CHARS = 128

const NAME = [0x5f, 0x5f, 0x6e, 0x61, 0x6d, 0x65, 0x5f, 0x5f] // "__name__"
const text = new TextDecoder('utf-8', { fatal: false })

export class LabelScratch {
  bytes = new Uint8Array(4096)
  view = new DataView(this.bytes.buffer)
  length = 0
  count = 0
  /** Per label: start and length of its name, start and length of its value, in `bytes`. */
  pos = new Uint32Array(4 * 64)

  /**
   * A label name that `add` leaves out (the HA replica label, docs/tenant-limits.md), or undefined. The
   * series key is then built without it, so the replicas of a series share one series id.
   */
  dropName: Uint8Array | undefined = undefined
  /** Where the value of the left-out label of the current series lies in its source; start -1: none. */
  droppedSource: Uint8Array | undefined = undefined
  droppedStart = -1
  droppedLength = 0

  reset (): void {
    this.length = 0
    this.count = 0
    this.droppedStart = -1
  }

  /** True when the name at [start, start + length) of src is `dropName` (checked only when one is set). */
  private isDropped (src: Uint8Array, start: number, length: number): boolean {
    const d = this.dropName!
    if (length !== d.length) return false
    for (let i = 0; i < length; i++) if (src[start + i] !== d[i]) return false
    return true
  }

  /** The value of the left-out label of the current series, or undefined. */
  droppedValue (): string | undefined {
    return this.droppedStart < 0 ? undefined : text.decode(this.droppedSource!.subarray(this.droppedStart, this.droppedStart + this.droppedLength))
  }

  /** The value of the label named `name` (UTF-8 bytes) in the scratch, or undefined. For one series per request. */
  valueOf (name: Uint8Array): string | undefined {
    for (let i = 0; i < this.count; i++) {
      const ns = this.pos[4 * i]!
      const nl = this.pos[4 * i + 1]!
      let same = nl === name.length
      for (let k = 0; same && k < nl; k++) same = this.bytes[ns + k] === name[k]
      if (same) return text.decode(this.bytes.subarray(this.pos[4 * i + 2]!, this.pos[4 * i + 2]! + this.pos[4 * i + 3]!))
    }
    return undefined
  }

  /** Appends one label, copied from `src`, in canonical encoding (series/labels.ts). */
  add (src: Uint8Array, sv: DataView, nameStart: number, nameLength: number, valueStart: number, valueLength: number): void {
    if (this.dropName !== undefined && this.isDropped(src, nameStart, nameLength)) {
      this.droppedSource = src
      this.droppedStart = valueStart
      this.droppedLength = valueLength
      return
    }
    // Short labels (name and value under 120 bytes together) are nearly all: the canonical form with
    // one-byte lengths written here in place, one room check, no varint calls, text moved four bytes
    // at a time. Longer ones go through `writeLabel`, the one writer of the encoding.
    if (nameLength + valueLength < 120 && this.length + 128 <= this.bytes.length && 4 * this.count + 4 <= this.pos.length &&
      nameStart + nameLength + 4 <= src.length && valueStart + valueLength + 4 <= src.length) {
      const b = this.bytes
      let o = this.length
      b[o] = 0x0a
      b[o + 1] = 2 + nameLength + (valueLength > 0 ? 2 + valueLength : 0)
      b[o + 2] = 0x0a
      b[o + 3] = nameLength
      o += 4
      const p = 4 * this.count
      this.pos[p] = o
      this.pos[p + 1] = nameLength
      o = copy4(sv, nameStart, nameLength, this.view, o)
      if (valueLength > 0) { b[o] = 0x12; b[o + 1] = valueLength; o += 2 }
      this.pos[p + 2] = o
      this.pos[p + 3] = valueLength
      this.length = copy4(sv, valueStart, valueLength, this.view, o)
      this.count++
      return
    }
    this.reserve(labelSize(nameLength, valueLength))
    if (4 * this.count + 4 > this.pos.length) {
      const next = new Uint32Array(this.pos.length * 2)
      next.set(this.pos)
      this.pos = next
    }
    const o = this.length
    const p = 4 * this.count
    this.length = writeLabel(this.bytes, o, src, nameStart, nameLength, src, valueStart, valueLength)
    this.pos[p] = o + labelNameOffset(nameLength, valueLength)
    this.pos[p + 1] = nameLength
    this.pos[p + 2] = this.length - valueLength
    this.pos[p + 3] = valueLength
    this.count++
  }


  /** Appends every label of canonical label bytes (series/labels.ts; a stored series key), for messages only. */
  addCanonical (bytes: Uint8Array): void {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    let p = 0
    while (p < bytes.length) {
      const end = skipVarint(bytes, p + 1) + readVarint(bytes, p + 1)
      let q = skipVarint(bytes, p + 1)
      let nameAt = 0; let nameLength = 0; let valueAt = 0; let valueLength = 0
      while (q < end) {
        const tag = bytes[q]!
        const n = readVarint(bytes, q + 1)
        q = skipVarint(bytes, q + 1)
        if (tag === 0x0a) { nameAt = q; nameLength = n } else { valueAt = q; valueLength = n }
        q += n
      }
      this.add(bytes, view, nameAt, nameLength, valueAt, valueLength)
      p = end
    }
  }

  /**
   * Checks the label set against the rules: non-empty, has __name__, names non-empty valid UTF-8
   * (legacy charset when asked), values valid UTF-8 (strict mode), unique, within the limits. Labels out
   * of name order are sorted (the scratch is rewritten), or rejected with `rejectUnsortedLabels`.
   */
  validate (rules: LabelRules): LabelProblem | undefined {
    const n = this.count
    if (n === 0) return { code: 'labels_empty', reason: 'the series has no labels' }
    if (n > rules.maxLabelsPerSeries) return { code: 'too_many_labels', reason: `the series has ${n} labels, more than the limit of ${rules.maxLabelsPerSeries}` }
    for (let i = 1; i < n; i++) {
      if (compareBytes(this.bytes, this.pos[4 * i - 4]!, this.pos[4 * i - 3]!, this.pos[4 * i]!, this.pos[4 * i + 1]!) > 0) {
        if (rules.rejectUnsortedLabels) {
          return { code: 'labels_unsorted', reason: `labels are not sorted: "${this.str(this.pos[4 * i]!, this.pos[4 * i + 1]!)}" comes after "${this.str(this.pos[4 * i - 4]!, this.pos[4 * i - 3]!)}"` }
        }
        this.sort()
        break
      }
    }
    const b = this.bytes
    const pos = this.pos
    let hasName = false
    for (let i = 0; i < n; i++) {
      const ns = pos[4 * i]!
      const nl = pos[4 * i + 1]!
      const vs = pos[4 * i + 2]!
      const vl = pos[4 * i + 3]!
      if (nl === 0) return { code: 'label_name_empty', reason: `label ${i + 1} has an empty name` }
      if (nl > rules.maxLabelNameBytes) return { code: 'label_name_too_long', reason: `label name "${this.str(ns, 64)}..." is ${nl} bytes, more than the limit of ${rules.maxLabelNameBytes}` }
      if (vl > rules.maxLabelValueBytes) return { code: 'label_value_too_long', reason: `the value of label "${this.str(ns, nl)}" is ${vl} bytes, more than the limit of ${rules.maxLabelValueBytes}` }
      if (!isValidUtf8(b, ns, ns + nl)) return { code: 'label_name_utf8', reason: `label name "${this.str(ns, nl)}" is not valid UTF-8` }
      if (rules.legacyNames && !isLegacyName(b, ns, nl)) return { code: 'label_name_invalid', reason: `label name "${this.str(ns, nl)}" does not match [a-zA-Z_][a-zA-Z0-9_]*` }
      if (rules.strictUtf8 && !isValidUtf8(b, vs, vs + vl)) return { code: 'label_value_utf8', reason: `the value of label "${this.str(ns, nl)}" is not valid UTF-8` }
      if (i > 0) {
        const c = compareBytes(b, pos[4 * i - 4]!, pos[4 * i - 3]!, ns, nl)
        if (c === 0) return { code: 'labels_duplicate', reason: `label name "${this.str(ns, nl)}" occurs more than once` }
        if (c > 0) return { code: 'labels_unsorted', reason: `labels are not sorted: "${this.str(ns, nl)}" comes after "${this.str(pos[4 * i - 4]!, pos[4 * i - 3]!)}"` }
      }
      if (nl === 8 && vl > 0 && isMetricName(b, ns)) hasName = true
    }
    if (!hasName) return { code: 'metric_name_missing', reason: 'the series has no __name__ label (or its value is empty)' }
    return undefined
  }

  private spare = new Uint8Array(4096)
  private order = new Uint32Array(64)
  private sortedPos = new Uint32Array(4 * 64)

  /** Puts the labels in name order (canonical form), rewriting `bytes`. Insertion sort: label sets are small. */
  private sort (): void {
    const n = this.count
    if (this.order.length < n) { this.order = new Uint32Array(2 * n); this.sortedPos = new Uint32Array(8 * n) }
    const order = this.order
    const pos = this.pos
    const b = this.bytes
    for (let i = 0; i < n; i++) {
      let j = i
      while (j > 0 && compareBytes(b, pos[4 * order[j - 1]!]!, pos[4 * order[j - 1]! + 1]!, pos[4 * i]!, pos[4 * i + 1]!) > 0) {
        order[j] = order[j - 1]!
        j--
      }
      order[j] = i
    }
    if (this.spare.length < this.bytes.length) this.spare = new Uint8Array(this.bytes.length)
    const out = this.spare
    const outPos = this.sortedPos
    let o = 0
    for (let k = 0; k < n; k++) {
      const i = order[k]!
      const ns = pos[4 * i]!
      const nl = pos[4 * i + 1]!
      const vs = pos[4 * i + 2]!
      const vl = pos[4 * i + 3]!
      outPos[4 * k] = o + labelNameOffset(nl, vl)
      outPos[4 * k + 1] = nl
      o = writeLabel(out, o, b, ns, nl, b, vs, vl)
      outPos[4 * k + 2] = o - vl
      outPos[4 * k + 3] = vl
    }
    // Swap the buffers: the sorted encoding becomes the scratch.
    this.spare = this.bytes
    this.bytes = out
    this.view = new DataView(out.buffer)
    this.pos.set(outPos.subarray(0, 4 * n))
  }

  /**
   * Checks an exemplar's labels: at most EXEMPLAR_LABEL_CHARS characters in all (names and values, as
   * Prometheus counts them), names non-empty, valid UTF-8 and unique, values valid UTF-8 (strict mode).
   */
  validateExemplar (rules: LabelRules): string | undefined {
    const b = this.bytes
    const pos = this.pos
    let chars = 0
    for (let i = 0; i < this.count; i++) {
      const ns = pos[4 * i]!
      const nl = pos[4 * i + 1]!
      const vs = pos[4 * i + 2]!
      const vl = pos[4 * i + 3]!
      // Characters are counted as UTF-8 lead bytes (every byte that is not a continuation byte).
      chars += utf8Chars(b, ns, nl) + utf8Chars(b, vs, vl)
      if (chars > EXEMPLAR_LABEL_CHARS) return `labels are more than ${EXEMPLAR_LABEL_CHARS} characters long (names and values together)`
      if (nl === 0) return `label ${i + 1} has an empty name`
      if (!isValidUtf8(b, ns, ns + nl)) return `label name "${this.str(ns, nl)}" is not valid UTF-8`
      if (rules.strictUtf8 && !isValidUtf8(b, vs, vs + vl)) return `the value of label "${this.str(ns, nl)}" is not valid UTF-8`
      // At most 128 labels fit in 128 characters: comparing with each earlier name is cheap.
      for (let j = 0; j < i; j++) {
        if (compareBytes(b, pos[4 * j]!, pos[4 * j + 1]!, ns, nl) === 0) return `label name "${this.str(ns, nl)}" occurs more than once`
      }
    }
    return undefined
  }

  /** Byte range of the __name__ value, or [0, 0] when there is none. */
  metricName (): [start: number, length: number] {
    for (let i = 0; i < this.count; i++) {
      if (this.pos[4 * i + 1] === 8 && isMetricName(this.bytes, this.pos[4 * i]!)) return [this.pos[4 * i + 2]!, this.pos[4 * i + 3]!]
    }
    return [0, 0]
  }

  /**
   * The label set as error messages name a series (`describeSeries`), in name order whatever order the
   * labels came in: the same text for a series new or known, found invalid before or after sorting.
   */
  describe (): string {
    const labels: Labels = []
    const pos = this.pos
    const order = Array.from({ length: this.count }, (_, i) => i)
    order.sort((a, b) => compareBytes(this.bytes, pos[4 * a]!, pos[4 * a + 1]!, pos[4 * b]!, pos[4 * b + 1]!))
    for (const i of order) {
      const ns = this.pos[4 * i]!
      const nl = this.pos[4 * i + 1]!
      // A message quotes at most 32 labels (and __name__ wherever it is): no strings for the rest.
      if (labels.length > 32 && !(nl === 8 && isMetricName(this.bytes, ns))) continue
      labels.push([this.str(ns, nl), this.str(this.pos[4 * i + 2]!, this.pos[4 * i + 3]!)])
    }
    return describeSeries(labels)
  }

  private str (start: number, length: number): string {
    const s = text.decode(this.bytes.subarray(start, start + Math.min(length, 200)))
    return length > 200 ? s + '...' : s
  }

  private reserve (extra: number): void {
    if (this.length + extra <= this.bytes.length) return
    let cap = this.bytes.length * 2
    while (cap < this.length + extra) cap *= 2
    const next = new Uint8Array(cap)
    next.set(this.bytes.subarray(0, this.length))
    this.bytes = next
    this.view = new DataView(next.buffer)
  }
}

/**
 * Copies n bytes four at a time; returns the end in `to`. It reads and writes up to 3 bytes past the
 * end: the caller makes sure both buffers have them, and the bytes written there are overwritten next.
 */
function copy4 (from: DataView, at: number, n: number, to: DataView, o: number): number {
  for (let i = 0; i < n; i += 4) to.setInt32(o + i, from.getInt32(at + i, true), true)
  return o + n
}

/** The 8 bytes at `at` are `__name__`. */
export function isMetricName (b: Uint8Array, at: number): boolean {
  for (let i = 0; i < 8; i++) if (b[at + i] !== NAME[i]) return false
  return true
}

/** The n bytes at `at` match [a-zA-Z_][a-zA-Z0-9_]*. */
export function isLegacyName (b: Uint8Array, at: number, n: number): boolean {
  for (let i = 0; i < n; i++) {
    const c = b[at + i]!
    const ok = (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || (i > 0 && c >= 0x30 && c <= 0x39)
    if (!ok) return false
  }
  return true
}

/** Characters in n UTF-8 bytes: the bytes that are not continuation bytes (10xxxxxx). */
function utf8Chars (b: Uint8Array, at: number, n: number): number {
  let c = 0
  for (let i = at; i < at + n; i++) if ((b[i]! & 0xc0) !== 0x80) c++
  return c
}

/** Byte-wise comparison, as Go compares strings. */
export function compareBytes (b: Uint8Array, as: number, al: number, bs: number, bl: number): number {
  const n = Math.min(al, bl)
  for (let i = 0; i < n; i++) {
    const d = b[as + i]! - b[bs + i]!
    if (d !== 0) return d
  }
  return al - bl
}
