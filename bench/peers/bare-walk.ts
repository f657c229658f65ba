/**
 * The floor: a walk over a Remote Write 1.0 body that reads every tag and length, steps over every
 * field and creates nothing. What any decoder of these bytes must at least do.
 */
export function bareWalk (b: Uint8Array): number {
  let series = 0
  let pos = 0
  const end = b.length
  const varint = (): number => {
    let v = 0
    let shift = 0
    for (;;) {
      const c = b[pos++]!
      v += (c & 0x7f) * 2 ** shift
      if (c < 0x80) return v
      shift += 7
    }
  }
  while (pos < end) {
    const tag = varint()
    const len = (tag & 7) === 2 ? varint() : 0
    if (tag === 0x0a) {
      const tsEnd = pos + len
      while (pos < tsEnd) {
        const t = varint()
        const l = varint()
        if (t === 0x0a) { // label: step over name and value
          const labelEnd = pos + l
          while (pos < labelEnd) { varint(); const n = varint(); pos += n }
        } else {
          pos += l
        }
      }
      series++
    } else {
      pos += len
    }
  }
  return series
}
