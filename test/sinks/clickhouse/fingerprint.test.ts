import { describe, expect, it } from 'vitest'
import { encodeLabels } from '../../../src/series/labels.js'
import { fingerprintBigInt, tenantPrefix } from '../../../src/sinks/clickhouse/fingerprint.js'

const utf8 = new TextEncoder()

/** FNV-1a 64 with BigInt, straight from its definition: the reference for the 32-bit-halves version. */
function reference (bytes: Uint8Array): bigint {
  let h = 0xcbf29ce484222325n
  for (const b of bytes) h = ((h ^ BigInt(b)) * 0x100000001b3n) & 0xffffffffffffffffn
  return h
}

describe('series fingerprint', () => {
  it('is FNV-1a 64: the published vectors', () => {
    expect(fingerprintBigInt(new Uint8Array(0), utf8.encode(''))).toBe(0xcbf29ce484222325n)
    expect(fingerprintBigInt(new Uint8Array(0), utf8.encode('a'))).toBe(0xaf63dc4c8601ec8cn)
    expect(fingerprintBigInt(new Uint8Array(0), utf8.encode('foobar'))).toBe(0x85944171f73967e8n)
  })

  // Pinned: these values are in ClickHouse tables written by every version. Changing one splits
  // every stored series in two; do not "fix" them.
  it.each([
    [[['__name__', 'up']], '', 0x7bb4854eeb9a6a31n],
    [[['__name__', 'up'], ['instance', 'localhost:9090'], ['job', 'prometheus']], '', 0x6fd13bd349acb0d2n],
    [[['__name__', 'up'], ['instance', 'localhost:9090'], ['job', 'prometheus']], 'team-a', 0xf2a15bdd34ee43e7n],
    [[['__name__', 'temperature_°C'], ['room', 'küche']], '', 0x2e35e93a3dc57c57n]
  ] as Array<[Array<[string, string]>, string, bigint]>)('labels %j, tenant %j', (labels, tenant, expected) => {
    expect(fingerprintBigInt(tenantPrefix(tenant), encodeLabels(labels))).toBe(expected)
  })

  it('equals the BigInt reference over the tenant prefix and the canonical label bytes', () => {
    for (let n = 0; n < 200; n++) {
      const labels: Array<[string, string]> = [['__name__', `m${n}`], ['k', 'v'.repeat(n)], ['z', String.fromCodePoint(0x1f600 + n)]]
      const tenant = n % 3 === 0 ? '' : `t${n}`
      const prefix = tenantPrefix(tenant)
      const key = new Uint8Array([...prefix, ...encodeLabels(labels)])
      expect(fingerprintBigInt(prefix, encodeLabels(labels))).toBe(reference(key))
    }
  })

  it('tells tenants apart', () => {
    const labels = encodeLabels([['__name__', 'up']])
    expect(fingerprintBigInt(tenantPrefix('a'), labels)).not.toBe(fingerprintBigInt(tenantPrefix(''), labels))
  })
})
