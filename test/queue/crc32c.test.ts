/**
 * CRC-32C: the check value and RFC 3720 (iSCSI) appendix B.4 vectors, agreement with a bit-at-a-time
 * reference on random inputs at every length and offset, and chaining over parts; the WebAssembly path
 * (inputs of WASM_MIN bytes and more) against the JavaScript loop and the definition, across its window.
 */
import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import { CRC32C_WAT, WASM_MIN, crc32c, crc32cJs } from '../../src/queue/crc32c.js'
import { assembleWat } from '../../src/decode/wasm/wat-assembler.js'

/** The definition, one bit at a time: slow and obviously right. */
function reference (bytes: Uint8Array): number {
  let crc = 0xffffffff
  for (const b of bytes) {
    crc ^= b
    for (let k = 0; k < 8; k++) crc = (crc & 1) !== 0 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1
  }
  return (crc ^ 0xffffffff) >>> 0
}

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'))

describe('crc32c', () => {
  it('gives the check value and the RFC 3720 B.4 vectors', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283)
    expect(crc32c(new Uint8Array(0))).toBe(0)
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa) // 32 bytes of zeros
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43) // 32 bytes of ones
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e) // incrementing
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i))).toBe(0x113fdb5c) // decrementing
    // An iSCSI SCSI Read (10) command PDU.
    const pdu = hex(`01 c0 00 00 00 00 00 00 00 00 00 00 00 00 00 00
      14 00 00 00 00 00 04 00 00 00 00 14 00 00 00 18
      28 00 00 00 00 00 00 00 02 00 00 00 00 00 00 00`)
    expect(crc32c(pdu)).toBe(0xd9963a56)
  })

  it('agrees with the bit-at-a-time definition at every length from 0 to 300 and on a long input', () => {
    const bytes = Uint8Array.from({ length: 300 }, (_, i) => (i * 151 + 7) & 0xff)
    for (let n = 0; n <= 300; n++) expect(crc32c(bytes, 0, n)).toBe(reference(bytes.subarray(0, n)))
    const long = Uint8Array.from({ length: 100_003 }, (_, i) => (i * 2654435761) >>> 24)
    expect(crc32c(long)).toBe(reference(long))
  })

  it('refuses a range outside the bytes', () => {
    expect(() => crc32c(new Uint8Array(4), 2, 5)).toThrow(RangeError)
    expect(() => crc32c(new Uint8Array(4), 3, 2)).toThrow(RangeError)
  })

  test.prop([fc.uint8Array({ maxLength: 2000 }), fc.nat(), fc.nat()], { numRuns: 300 })('agrees with the definition on any range of any view', (data, a, b) => {
    // A view at an odd offset inside a larger buffer: the 8-byte steps must not assume alignment.
    const backing = new Uint8Array(data.length + 3)
    backing.set(data, 3)
    const view = backing.subarray(3)
    const start = data.length === 0 ? 0 : a % (data.length + 1)
    const end = start + (data.length - start === 0 ? 0 : b % (data.length - start + 1))
    expect(crc32c(view, start, end)).toBe(reference(data.subarray(start, end)))
  })

  test.prop([fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 6 })], { numRuns: 200 })('chains over parts: the CRC of the parts in turn is the CRC of their concatenation', parts => {
    let crc = 0
    for (const p of parts) crc = crc32c(p, 0, p.length, crc)
    expect(crc).toBe(reference(Uint8Array.from(Buffer.concat(parts))))
  })

  it('takes long inputs through WebAssembly with the same results: around WASM_MIN, across the window, at odd offsets', () => {
    // The module assembles (it would fall back to the JavaScript loop silently otherwise).
    expect(WebAssembly.validate(assembleWat(CRC32C_WAT))).toBe(true)
    const bytes = Uint8Array.from({ length: 700_001 }, (_, i) => (i * 2654435761) >>> 24)
    for (let n = WASM_MIN - 20; n <= WASM_MIN + 40; n++) expect(crc32c(bytes, 3, 3 + n)).toBe(crc32cJs(bytes, 3, 3 + n))
    // More than two windows (304 KiB each): the register carries over from one call to the next.
    expect(crc32c(bytes)).toBe(reference(bytes))
    expect(crc32c(bytes, 1, 650_000, 0x12345678)).toBe(crc32cJs(bytes, 1, 650_000, 0x12345678))
    let chained = 0
    for (let at = 0; at < bytes.length; at += 100_000) chained = crc32c(bytes, at, Math.min(bytes.length, at + 100_000), chained)
    expect(chained).toBe(reference(bytes))
  })
})
