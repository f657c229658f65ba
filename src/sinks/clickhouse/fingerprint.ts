/**
 * The series fingerprint: how ClickHouse knows a series. Several prom-ingest processes write into one
 * ClickHouse, so a process-local series id must never reach it; the fingerprint is the same in every
 * process, after every restart and in every version (changing this function splits every series in
 * two: test/sinks/clickhouse/fingerprint.test.ts pins it with test vectors).
 *
 *   fingerprint = FNV-1a 64 (offset basis 0xcbf29ce484222325, prime 0x100000001b3) over
 *                 [0x7a varint(len(tenant)) tenant]   (left out when there is no tenant)
 *                 canonical label bytes               (src/series/labels.ts: sorted, RW 1.0 Label form)
 *
 * These are exactly the bytes of the series index's key (series-index.ts), so two label sets are one
 * series in ClickHouse exactly when they are one series in the process. It runs once per series per
 * process (then it is remembered by series id), never per sample.
 */
import { varintSize, writeVarint } from '../../series/varint.js'

/** [low 32 bits, high 32 bits] of the last `fingerprintOf` call (module state: nothing allocated per call). */
export const fingerprintOut = new Uint32Array(2)

const OFFSET_LO = 0x84222325
const OFFSET_HI = 0xcbf29ce4
const TWO_32 = 4294967296

/** FNV-1a 64 step over bytes [start, end) of `b`, from the state (lo, hi); result in fingerprintOut. */
function fnv1a64 (b: Uint8Array, start: number, end: number, lo: number, hi: number): void {
  for (let i = start; i < end; i++) {
    lo = (lo ^ b[i]!) >>> 0
    // h * 0x100000001b3 mod 2^64 = h * 0x1b3 + (h << 40), in two 32-bit halves: lo * 0x1b3 is below
    // 2^41, exact in a double; its carry and lo << 8 (the bits of h << 40 in the high half) go to hi.
    const t = lo * 0x1b3
    hi = (Math.imul(hi, 0x1b3) + Math.floor(t / TWO_32) + (lo << 8)) >>> 0
    lo = t >>> 0
  }
  fingerprintOut[0] = lo
  fingerprintOut[1] = hi
}

/** The tenant's bytes in the key ('' gives none): 0x7a varint(length) UTF-8. */
export function tenantPrefix (tenant: string): Uint8Array {
  if (tenant === '') return new Uint8Array(0)
  const t = new TextEncoder().encode(tenant)
  const out = new Uint8Array(1 + varintSize(t.length) + t.length)
  out[0] = 0x7a
  out.set(t, writeVarint(out, 1, t.length))
  return out
}

/** The fingerprint of a series: its tenant prefix (tenantPrefix) and canonical label bytes. Result in fingerprintOut. */
export function fingerprintOf (prefix: Uint8Array, labels: Uint8Array): void {
  fnv1a64(prefix, 0, prefix.length, OFFSET_LO, OFFSET_HI)
  fnv1a64(labels, 0, labels.length, fingerprintOut[0]!, fingerprintOut[1]!)
}

/** The fingerprint as an unsigned 64-bit integer (tests, tools; not for hot paths). */
export function fingerprintBigInt (prefix: Uint8Array, labels: Uint8Array): bigint {
  fingerprintOf(prefix, labels)
  return (BigInt(fingerprintOut[1]!) << 32n) | BigInt(fingerprintOut[0]!)
}
