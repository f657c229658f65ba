/**
 * The hashmod action, as Prometheus computes it: the MD5 of the joined source values (their UTF-8
 * bytes), its last 8 bytes read as a big-endian unsigned 64-bit integer, modulo the modulus, written
 * in decimal. Prometheus' shards therefore come out the same here (VictoriaMetrics' differ: it
 * hashes with xxhash).
 */
import { createHash } from 'node:crypto'

const TWO_32 = 4294967296

/** `modulus` is a positive integer: a number up to 2^53-1, or a bigint up to 2^64-1. */
export function hashmod (value: string, modulus: number | bigint): string {
  const d = createHash('md5').update(value, 'utf8').digest()
  const hi = d.readUInt32BE(8)
  const lo = d.readUInt32BE(12)
  if (typeof modulus === 'number' && modulus <= 0x4000000) {
    // (hi * 2^32 + lo) mod m in doubles: each product stays below 2^52 when m <= 2^26, so it is exact.
    return String(((hi % modulus) * (TWO_32 % modulus) + (lo % modulus)) % modulus)
  }
  const h = (BigInt(hi) << 32n) | BigInt(lo)
  return String(h % BigInt(modulus))
}
