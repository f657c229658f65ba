/**
 * Label checks in place, for the gateway decode (series-walker.ts `validateOnly`): the labels of a
 * series are checked where they lie in the body, without the copy into the label scratch.
 *
 * Each check answers true only for a label set that `LabelScratch.validate` accepts as it stands
 * (sorted, so not rewritten) and whose key is within max-series-key-bytes. Anything else, including
 * every invalid series, answers false and goes through the scratch and `validate`, as a new series
 * does in the full decode: so the errors, their codes and messages are the full decode's by
 * construction, and only the common valid case is made fast.
 */
import { compareBytes, isLegacyName, isMetricName, type LabelRules } from './label-scratch.js'
import { labelSize } from '../series/labels.js'
import { isValidUtf8 } from './utf8.js'

/**
 * A Remote Write 1.0 series' label fields, bytes [start, end) of the body (`count` Label messages, one
 * after the other): true when each is in canonical form (series/labels.ts: 0x0a len 0x0a len name
 * [0x12 len value], the value field only when not empty, lengths of one or two bytes) and the set passes
 * every rule of `validate` in name order. The canonical bytes are then the series key itself, so the
 * key's length is `end - start` plus the tenant's prefix.
 */
export function labelRunValid (u8: Uint8Array, d: DataView, start: number, end: number, count: number, rules: LabelRules, prefixBytes: number): boolean {
  if (count > rules.maxLabelsPerSeries || prefixBytes + end - start > rules.maxSeriesKeyBytes) return false
  // With one-byte lengths every framing byte is below 0x80, so a run with no byte of 0x80 or more
  // holds ASCII text only (valid UTF-8): ORs of sixteen bytes per step instead of a UTF-8 walk per
  // label. A run with a longer label (a two-byte length) has its text checked label by label.
  let high = 0
  let i = start
  for (; i + 16 <= end; i += 16) high |= d.getInt32(i, true) | d.getInt32(i + 4, true) | d.getInt32(i + 8, true) | d.getInt32(i + 12, true)
  for (; i + 4 <= end; i += 4) high |= d.getInt32(i, true)
  for (; i < end; i++) high |= u8[i]!
  const ascii = (high & 0x80808080) === 0
  const legacy = rules.legacyNames
  const strict = rules.strictUtf8
  let prevName = -1
  let prevLength = 0
  let hasName = false
  let p = start
  while (p < end) {
    // 0x0a len(Label) 0x0a len(name) name [0x12 len(value) value]; lengths are minimal varints of one
    // or two bytes (labels under 16 KiB), as the canonical writer makes them: anything else is the scratch's.
    let labelEnd: number
    let nl: number
    let q: number
    const h = p + 4 <= end ? d.getInt32(p, true) : 0
    if ((h & 0x80ff80ff) === 0x000a000a) {
      // The usual label, one-byte lengths: its four header bytes checked in one read.
      labelEnd = p + 2 + ((h >>> 8) & 0x7f)
      nl = h >>> 24
      q = p + 4
    } else {
      if (u8[p] !== 0x0a) return false
      const inner = length2(u8, p + 1)
      if (inner < 0) return false
      labelEnd = after + inner
      if (u8[after] !== 0x0a) return false
      nl = length2(u8, after + 1)
      if (nl < 0) return false
      q = after
    }
    if (labelEnd > end) return false
    const ns = q
    q += nl
    let vl = 0
    if (q < labelEnd) {
      // An empty value written out (0x12 0x00) is legal but not canonical: the scratch drops it.
      if (u8[q] !== 0x12) return false
      vl = length2(u8, q + 1)
      if (vl <= 0) return false
      q = after + vl
    }
    if (q !== labelEnd || nl === 0 || nl > rules.maxLabelNameBytes || vl > rules.maxLabelValueBytes) return false
    if (!ascii && !(isValidUtf8(u8, ns, ns + nl) && (!strict || isValidUtf8(u8, q - vl, q)))) return false
    if (legacy && !isLegacyName(u8, ns, nl)) return false
    // Strictly increasing names: out of order (sorted by the scratch) or twice (an error) are the
    // scratch's. Neighbouring names nearly always differ in their first byte: no call for those.
    if (prevName >= 0) {
      const first = u8[prevName]! - u8[ns]!
      if (first > 0 || (first === 0 && compareBytes(u8, prevName, prevLength, ns, nl) >= 0)) return false
    }
    // "__name__" as two little-endian words, "__na" and "me__": no byte loop for the 8-byte names.
    if (nl === 8 && vl > 0 && d.getInt32(ns, true) === 0x616e5f5f && d.getInt32(ns + 4, true) === 0x5f5f656d) hasName = true
    prevName = ns
    prevLength = nl
    p = labelEnd
  }
  return hasName
}

/** Set by `length2`: the position after the length it read. */
let after = 0

/** A length at `at` written as a minimal varint of one or two bytes (as the canonical writer writes it), or -1. */
function length2 (u8: Uint8Array, at: number): number {
  const a = u8[at]!
  if (a < 0x80) { after = at + 1; return a }
  const b = u8[at + 1]!
  if (!(b >= 1 && b <= 0x7f)) return -1 // not minimal, longer, or past the end
  after = at + 2
  return (a & 0x7f) | (b << 7)
}

/** What a Remote Write 2.0 symbol is, as a label name or value (`symbolInfo`, its low byte). */
export const SYMBOL_UTF8 = 1
export const SYMBOL_LEGACY_NAME = 2
export const SYMBOL_METRIC_NAME = 4

/**
 * The symbol at bytes [start, start + length) as label text: its first three bytes (zeros past its
 * end) in the top 24 bits, which order two names unless they are equal, and its flags in the low 8.
 * The legacy charset is tested only when `legacy`.
 */
export function symbolInfo (u8: Uint8Array, start: number, length: number, legacy: boolean): number {
  let f = isValidUtf8(u8, start, start + length) ? SYMBOL_UTF8 : 0
  if (legacy && isLegacyName(u8, start, length)) f |= SYMBOL_LEGACY_NAME
  if (length === 8 && isMetricName(u8, start)) f |= SYMBOL_METRIC_NAME
  const prefix = (length > 0 ? u8[start]! << 16 : 0) | (length > 1 ? u8[start + 1]! << 8 : 0) | (length > 2 ? u8[start + 2]! : 0)
  return (prefix << 8) | f
}

/**
 * A Remote Write 2.0 series' label references, `refs[0, refCount)`: true when they are name, value
 * pairs inside the symbols table of `symbolCount` symbols and the label set passes every rule of
 * `validate` in name order, with its canonical key within max-series-key-bytes. `info` holds the
 * symbols' `symbolInfo`: a pair costs four reads of per-symbol arrays, and a name's bytes are read
 * only when its first three bytes equal the previous name's.
 */
export function refLabelsValid (u8: Uint8Array, refs: Uint32Array, refCount: number, symbolCount: number, starts: Uint32Array, lengths: Uint32Array, info: Int32Array, rules: LabelRules, prefixBytes: number): boolean {
  if (refCount === 0 || (refCount & 1) !== 0 || refCount / 2 > rules.maxLabelsPerSeries) return false
  const legacy = rules.legacyNames
  const strict = rules.strictUtf8
  let keyBytes = prefixBytes
  let prev = -1
  let prevPrefix = 0
  let hasName = false
  for (let i = 0; i < refCount; i += 2) {
    const n = refs[i]!
    const v = refs[i + 1]!
    if (n >= symbolCount || v >= symbolCount) return false
    const ni = info[n]!
    const nl = lengths[n]!
    const vl = lengths[v]!
    if (nl === 0 || nl > rules.maxLabelNameBytes || vl > rules.maxLabelValueBytes) return false
    if ((ni & SYMBOL_UTF8) === 0 || (legacy && (ni & SYMBOL_LEGACY_NAME) === 0) || (strict && (info[v]! & SYMBOL_UTF8) === 0)) return false
    // Strictly increasing names (out of order or twice: the scratch's), by the first three bytes first.
    const prefix = ni >>> 8
    if (prev >= 0 && (prevPrefix > prefix || (prevPrefix === prefix && compareBytes(u8, starts[prev]!, lengths[prev]!, starts[n]!, nl) >= 0))) return false
    if ((ni & SYMBOL_METRIC_NAME) !== 0 && vl > 0) hasName = true
    // The label's canonical size: one-byte lengths for short labels, the encoding's own count otherwise.
    const inner = 2 + nl + (vl > 0 ? 2 + vl : 0)
    keyBytes += inner < 128 ? 2 + inner : labelSize(nl, vl)
    prev = n
    prevPrefix = prefix
  }
  return hasName && keyBytes <= rules.maxSeriesKeyBytes
}
