/**
 * The ReadRequest reader against protobufjs-encoded requests: queries, matchers, hints, both forms of
 * the repeated enum; malformed bodies are protobuf_malformed, bad values read_request_invalid.
 */
import { readFileSync } from 'node:fs'
import protobuf from 'protobufjs'
import { describe, expect, it } from 'vitest'
import { readReadRequest } from '../../src/read/read-request.js'

const root = protobuf.parse(readFileSync(new URL('../fixtures/proto/remote-read.proto', import.meta.url), 'utf8'), { keepCase: true }).root
const ReadRequest = root.lookupType('prometheus.ReadRequest')

describe('ReadRequest reader', () => {
  it('reads what protobufjs writes: queries, matchers, hints, negative times, accepted types (packed)', () => {
    const bytes = ReadRequest.encode(ReadRequest.create({
      queries: [
        { start_timestamp_ms: -5, end_timestamp_ms: 1_700_000_000_123, matchers: [{ type: 0, name: '__name__', value: 'up' }, { type: 3, name: 'job', value: 'a|b' }], hints: { step_ms: 15000, func: 'rate', start_ms: 1, end_ms: 2, grouping: ['job', 'le'], by: true, range_ms: 300000 } },
        { start_timestamp_ms: 0, end_timestamp_ms: 0, matchers: [{ type: 2, name: 'x', value: 'é' }] }
      ],
      accepted_response_types: [1, 0]
    })).finish()
    expect(readReadRequest(bytes)).toEqual({
      queries: [
        { startMs: -5, endMs: 1_700_000_000_123, matchers: [{ type: 'EQ', name: '__name__', value: 'up' }, { type: 'NRE', name: 'job', value: 'a|b' }], hints: { stepMs: 15000, func: 'rate', startMs: 1, endMs: 2, grouping: ['job', 'le'], by: true, rangeMs: 300000 } },
        { startMs: 0, endMs: 0, matchers: [{ type: 'RE', name: 'x', value: 'é' }], hints: undefined }
      ],
      acceptedResponseTypes: [1, 0]
    })
  })

  it('reads accepted types unpacked too, and skips unknown fields', () => {
    // field 2 varint 1, field 2 varint 0, field 9 (unknown) string "x"
    expect(readReadRequest(new Uint8Array([0x10, 0x01, 0x10, 0x00, 0x4a, 0x01, 0x78])).acceptedResponseTypes).toEqual([1, 0])
  })

  it('refuses a truncated body and a matcher of unknown type', () => {
    const bytes = ReadRequest.encode(ReadRequest.create({ queries: [{ matchers: [{ type: 1, name: 'a', value: 'b' }] }] })).finish()
    expect(() => readReadRequest(bytes.subarray(0, bytes.length - 1))).toThrow(expect.objectContaining({ code: 'protobuf_malformed' }))
    expect(() => readReadRequest(new Uint8Array([0x0a, 0x04, 0x1a, 0x02, 0x08, 0x09]))).toThrow(expect.objectContaining({ code: 'read_request_invalid' }))
    expect(() => readReadRequest(new Uint8Array([0x0a, 0x05, 0x1a, 0x03, 0x12, 0x01, 0xff]))).toThrow(/UTF-8/)
  })
})
