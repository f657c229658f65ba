/**
 * hashmod equals Prometheus': the expected values are the ones in Prometheus' relabel_test.go (976 and
 * 734 for modulus 1000) and values computed independently here from the definition (MD5, last 8
 * bytes big-endian, BigInt modulo). prometheus-differential.test.ts compares with a real Prometheus.
 */
import { createHash } from 'node:crypto'
import { fc, test as fcTest } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import { hashmod } from '../../src/relabel/hashmod.js'

function reference (value: string, modulus: bigint): string {
  const d = createHash('md5').update(Buffer.from(value, 'utf8')).digest()
  return String(d.readBigUInt64BE(8) % modulus)
}

describe('hashmod', () => {
  it('gives the values of Prometheus\' own tests', () => {
    expect(hashmod('baz', 1000)).toBe('976')
    expect(hashmod('foo\nbar', 1000)).toBe('734')
  })
  it('takes a modulus up to 2^64-1', () => {
    expect(hashmod('baz', 2n ** 64n - 1n)).toBe(reference('baz', 2n ** 64n - 1n))
    expect(hashmod('baz', 2 ** 53 - 1)).toBe(reference('baz', 2n ** 53n - 1n))
  })
  fcTest.prop([fc.string({ unit: 'grapheme', maxLength: 40 }), fc.integer({ min: 1, max: 2 ** 31 })])('the fast path equals BigInt arithmetic', (value, modulus) => {
    expect(hashmod(value, modulus)).toBe(reference(value, BigInt(modulus)))
  })
})
