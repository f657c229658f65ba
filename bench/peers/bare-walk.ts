/**
 * The floor: a walk over a Remote Write 1.0 body that reads every tag and length, steps over every
 * field and creates nothing. What any decoder of these bytes must at least do.
 */

let pos = 0

/** A varint of up to 32 bits at `pos` (tags and lengths). */
function varint (b: Uint8Array): number {
  let c = b[pos++]!
  let v = c & 0x7f
  if (c < 0x80) return v
  c = b[pos++]!; v |= (c & 0x7f) << 7
  if (c < 0x80) return v
  c = b[pos++]!; v |= (c & 0x7f) << 14
  if (c < 0x80) return v
  c = b[pos++]!; v |= (c & 0x7f) << 21
  if (c < 0x80) return v
  c = b[pos++]!; return v + (c & 0x0f) * 0x10000000
}

export function bareWalk (b: Uint8Array): number {
  let series = 0
  pos = 0
  const end = b.length
  while (pos < end) {
    const tag = varint(b)
    const len = varint(b)
    if (tag !== 0x0a) { pos += len; continue }
    const tsEnd = pos + len
    while (pos < tsEnd) {
      const t = varint(b)
      const l = varint(b)
      if (t !== 0x0a) { pos += l; continue }
      const labelEnd = pos + l
      while (pos < labelEnd) { varint(b); const n = varint(b); pos += n } // name, value: step over
    }
    series++
  }
  return series
}
