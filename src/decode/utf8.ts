/**
 * UTF-8 validation over bytes, without making a string (label names and values of new series).
 * Rejects overlong forms, surrogates and code points above U+10FFFF, as Go's utf8.Valid does.
 */
export function isValidUtf8 (b: Uint8Array, start: number, end: number): boolean {
  let i = start
  while (i < end) {
    const c = b[i]!
    // ASCII is nearly all of real label text: one compare per byte.
    if (c < 0x80) { i++; continue }
    if (c >= 0xc2 && c <= 0xdf) {
      if (i + 1 >= end || (b[i + 1]! & 0xc0) !== 0x80) return false
      i += 2
    } else if (c >= 0xe0 && c <= 0xef) {
      if (i + 2 >= end) return false
      const c1 = b[i + 1]!
      if ((c1 & 0xc0) !== 0x80 || (b[i + 2]! & 0xc0) !== 0x80) return false
      if (c === 0xe0 && c1 < 0xa0) return false // overlong
      if (c === 0xed && c1 > 0x9f) return false // surrogate
      i += 3
    } else if (c >= 0xf0 && c <= 0xf4) {
      if (i + 3 >= end) return false
      const c1 = b[i + 1]!
      if ((c1 & 0xc0) !== 0x80 || (b[i + 2]! & 0xc0) !== 0x80 || (b[i + 3]! & 0xc0) !== 0x80) return false
      if (c === 0xf0 && c1 < 0x90) return false // overlong
      if (c === 0xf4 && c1 > 0x8f) return false // above U+10FFFF
      i += 4
    } else {
      return false
    }
  }
  return true
}
