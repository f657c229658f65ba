import { describe, expect, it } from 'vitest'
import { decodeWriteRequest } from '../../src/decode/decode-write-request.js'

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'))

describe('protobuf rules the walk keeps', () => {
  it('rejects a known field that arrives with another wire type instead of losing its value', () => {
    // RW1: one series {__name__="wt"} whose Sample carries the value (field 1) as a varint, not a double.
    const body = hex('0a160a0e0a085f5f6e616d655f5f12027774120408051007')
    expect(() => decodeWriteRequest(body, { compressed: false })).toThrow(expect.objectContaining({
      code: 'protobuf_malformed',
      message: expect.stringContaining('field 1 arrived with wire type 0')
    }))
  })

  it('rejects a double that runs past the end of the body as malformed, not as an internal error', () => {
    // RW1: {__name__="h"} with a Histogram whose count_float (field 2, fixed64) has 2 of its 8 bytes, at the body's end.
    const body = hex('0a140a0d0a085f5f6e616d655f5f120168220311' + '0000')
    expect(() => decodeWriteRequest(body, { compressed: false })).toThrow(expect.objectContaining({
      code: 'protobuf_malformed',
      message: expect.stringContaining('truncated double')
    }))
    for (const field of ['29', '39']) { // zero_threshold, zero_count_float
      const b = hex('0a140a0d0a085f5f6e616d655f5f1201682203' + field + '0000')
      expect(() => decodeWriteRequest(b, { compressed: false })).toThrow(expect.objectContaining({ code: 'protobuf_malformed' }))
    }
  })

  it('skips and counts fields the schema does not define', () => {
    // RW1: the same series with a well-formed sample and an unknown varint field 9 in the TimeSeries.
    const body = hex('0a1f0a0e0a085f5f6e616d655f5f12027774120b09000000000000f03f10074801')
    const batch = decodeWriteRequest(body, { compressed: false })
    expect(batch.sampleCount).toBe(1)
    expect(batch.values[0]).toBe(1)
    expect(batch.ignoredFieldCount).toBe(1)
  })

  it('merges a Remote Write 2.0 metadata field sent twice, field by field, as protobuf does', () => {
    // symbols ["", "__name__", "m", "help text"]; series {__name__="m"}; metadata {type: counter} then {help_ref: 3}.
    const body = hex('220022085f5f6e616d655f5f22016d220968656c7020746578742a100a020102120210012a0208012a021803')
    const batch = decodeWriteRequest(body, { compressed: false, version: '2.0' })
    expect(batch.metadataCount).toBe(1)
    expect(batch.metadata(0)).toMatchObject({ type: 'counter', family: 'm', help: 'help text', unit: '' })
  })

  it('writes no metadata row when type, help and unit say nothing, whatever refs point at the empty text', () => {
    // symbols ["", "__name__", "m", ""]: metadata {help_ref: 3, unit_ref: 3} both name an empty symbol.
    const body = hex('220022085f5f6e616d655f5f22016d22002a0e0a020102120210012a0418032003')
    const batch = decodeWriteRequest(body, { compressed: false, version: '2.0' })
    expect(batch.sampleCount).toBe(1)
    expect(batch.metadataCount).toBe(0)
  })
})
