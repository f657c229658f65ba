/**
 * The hashmod action, as Prometheus computes it: the MD5 of the joined source values (their UTF-8
 * bytes), its last 8 bytes read as a big-endian unsigned 64-bit integer, modulo the modulus, written
 * in decimal. Prometheus' shards therefore come out the same here (VictoriaMetrics' differ: it
 * hashes with xxhash).
 */
import * as crypto from 'node:crypto'

type OneShotHash = (algorithm: string, data: string, encoding: 'buffer') => Buffer
/** crypto.hash (Node 20.12+): one call instead of a Hash object per series. */
const oneShot = (crypto as unknown as { hash?: OneShotHash }).hash
const md5 = oneShot !== undefined
  ? (s: string): Buffer => oneShot('md5', s, 'buffer')
  : (s: string): Buffer => crypto.createHash('md5').update(s, 'utf8').digest()

const TWO_32 = 4294967296

/** `modulus` is a positive integer: a number up to 2^53-1, or a bigint up to 2^64-1. */
export function hashmod (value: string, modulus: number | bigint): string {
  const d = md5(value)
  const hi = d.readUInt32BE(8)
  const lo = d.readUInt32BE(12)
  if (typeof modulus === 'number' && modulus <= 0x4000000) {
    // (hi * 2^32 + lo) mod m in doubles: each product stays below 2^52 when m <= 2^26, so it is exact.
    return String(((hi % modulus) * (TWO_32 % modulus) + (lo % modulus)) % modulus)
  }
  const h = (BigInt(hi) << 32n) | BigInt(lo)
  return String(h % BigInt(modulus))
}
