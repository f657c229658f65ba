/**
 * A fast 64-bit hash (two 32-bit lanes) of canonical label bytes, the key of the series index.
 *
 * Not cryptographic, and it does not need to be: the index compares the bytes on every hit, so a
 * collision costs one extra comparison and never merges two label sets. What it must be is fast on
 * the steady-state path, where every series of every request is hashed.
 *
 * Results are returned through `hashOut` (module state) so the hot path allocates nothing.
 */

/** [lane 1, lane 2] of the last `hashLabels` call. */
export const hashOut = new Int32Array(2)

/** Seed of the hash for a tenant ('' = no tenant): folds the tenant into series identity. */
export function tenantSeed (tenant: string): number {
  let h = 0x2f6b1d3b | 0
  for (let i = 0; i < tenant.length; i++) h = Math.imul(h ^ tenant.charCodeAt(i), 0x01000193)
  return h
}

/**
 * Hashes bytes [start, end) of the DataView `d` (a view over the whole buffer) with `seed`.
 * Writes the two lanes into hashOut.
 */
export function hashLabels (d: DataView, start: number, end: number, seed: number): void {
  let h1 = seed ^ 0x12345679
  let h2 = Math.imul(seed, 0x85ebca6b) ^ (end - start)
  let h3 = seed ^ 0x3c6ef372
  let h4 = seed ^ 0x27d4eb2f
  let i = start
  // Sixteen bytes per step, one 32-bit word into each of four lanes: DataView loads are single
  // unaligned machine loads in optimised code, and four independent lanes keep the multiplier busy.
  for (; i + 16 <= end; i += 16) {
    h1 = Math.imul(h1 ^ d.getInt32(i, true), 0x01000193)
    h2 = Math.imul(h2 ^ d.getInt32(i + 4, true), 0x5bd1e995)
    h3 = Math.imul(h3 ^ d.getInt32(i + 8, true), 0x85ebca6b)
    h4 = Math.imul(h4 ^ d.getInt32(i + 12, true), 0xc2b2ae35)
  }
  for (; i + 4 <= end; i += 4) {
    h1 = Math.imul(h1 ^ d.getInt32(i, true), 0x01000193)
    h1 = (h1 << 13) | (h1 >>> 19)
  }
  for (; i < end; i++) h2 = Math.imul(h2 ^ d.getUint8(i), 0x5bd1e995)
  // Final avalanche (murmur3 fmix32), every lane mixed into both halves, so that every input bit
  // reaches the table index.
  h1 ^= Math.imul((h3 << 15) | (h3 >>> 17), 0x1b873593)
  h2 ^= Math.imul((h4 << 13) | (h4 >>> 19), 0xcc9e2d51)
  h1 ^= h2
  h1 = Math.imul(h1 ^ (h1 >>> 16), 0x85ebca6b)
  h1 = Math.imul(h1 ^ (h1 >>> 13), 0xc2b2ae35)
  h1 ^= h1 >>> 16
  h2 ^= h1
  h2 = Math.imul(h2 ^ (h2 >>> 16), 0x85ebca6b)
  h2 = Math.imul(h2 ^ (h2 >>> 13), 0xc2b2ae35)
  h2 ^= h2 >>> 16
  hashOut[0] = h1
  hashOut[1] = h2
}

/** True when bytes [aStart, aStart+n) of `a` equal bytes [bStart, bStart+n) of `b`. */
export function bytesEqual (a: DataView, aStart: number, b: DataView, bStart: number, n: number): boolean {
  let i = 0
  // Sixteen bytes and one branch per step: the labels of a known series are compared in full on every hit.
  for (; i + 16 <= n; i += 16) {
    const x = (a.getInt32(aStart + i, true) ^ b.getInt32(bStart + i, true)) |
      (a.getInt32(aStart + i + 4, true) ^ b.getInt32(bStart + i + 4, true)) |
      (a.getInt32(aStart + i + 8, true) ^ b.getInt32(bStart + i + 8, true)) |
      (a.getInt32(aStart + i + 12, true) ^ b.getInt32(bStart + i + 12, true))
    if (x !== 0) return false
  }
  for (; i + 4 <= n; i += 4) if (a.getInt32(aStart + i, true) !== b.getInt32(bStart + i, true)) return false
  for (; i < n; i++) if (a.getUint8(aStart + i) !== b.getUint8(bStart + i)) return false
  return true
}
