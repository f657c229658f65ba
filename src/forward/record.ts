/**
 * The payload of one record in the forward queue (the log treats it as opaque bytes; this file defines it):
 *
 *   offset  size  field
 *   0       u8    format (1)
 *   1       u8    protocol version of the body: 1 (Remote Write 1.0) or 2 (2.0)
 *   2       u16   target: the destination index in shard mode, ALL_DESTINATIONS (0xffff) otherwise
 *   4       u32   samples in the body
 *   8       u32   native histograms in the body
 *   12      u32   exemplars in the body
 *   16      u32   tenant length in bytes (UTF-8)
 *   20      ...   tenant, then the body: snappy-compressed protobuf, exactly as sent on the wire
 *
 * The header is written as its own part of a vectored append beside the body, which is a view of the
 * request's slot: the body's bytes are copied once, from the slot into the queue file.
 */
import { IngestError } from '../errors.js'

export const RECORD_FORMAT = 1
export const RECORD_HEADER_BYTES = 20
export const ALL_DESTINATIONS = 0xffff

export interface RecordInfo {
  readonly version: '1.0' | '2.0'
  readonly target: number
  readonly samples: number
  readonly histograms: number
  readonly exemplars: number
  readonly tenant: string
}

export interface ParsedRecord extends RecordInfo {
  /** The compressed body: a view of the record's payload. */
  readonly body: Uint8Array
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** The header part (with the tenant) of a record whose body follows it as a second part. */
export function recordHeader (info: RecordInfo): Uint8Array {
  const tenant = encoder.encode(info.tenant)
  const out = new Uint8Array(RECORD_HEADER_BYTES + tenant.length)
  const v = new DataView(out.buffer)
  v.setUint8(0, RECORD_FORMAT)
  v.setUint8(1, info.version === '2.0' ? 2 : 1)
  v.setUint16(2, info.target, true)
  v.setUint32(4, info.samples, true)
  v.setUint32(8, info.histograms, true)
  v.setUint32(12, info.exemplars, true)
  v.setUint32(16, tenant.length, true)
  out.set(tenant, RECORD_HEADER_BYTES)
  return out
}

/** Reads a record's payload (views, valid as long as the payload). */
export function parseRecord (payload: Uint8Array): ParsedRecord {
  if (payload.length < RECORD_HEADER_BYTES || payload[0] !== RECORD_FORMAT) {
    throw new IngestError('internal', `forward queue record of ${payload.length} bytes has no valid header`)
  }
  const v = new DataView(payload.buffer, payload.byteOffset, payload.byteLength)
  const tenantLength = v.getUint32(16, true)
  const bodyStart = RECORD_HEADER_BYTES + tenantLength
  if (bodyStart > payload.length) throw new IngestError('internal', 'forward queue record: tenant runs past the record')
  return {
    version: v.getUint8(1) === 2 ? '2.0' : '1.0',
    target: v.getUint16(2, true),
    samples: v.getUint32(4, true),
    histograms: v.getUint32(8, true),
    exemplars: v.getUint32(12, true),
    tenant: tenantLength === 0 ? '' : decoder.decode(payload.subarray(RECORD_HEADER_BYTES, bodyStart)),
    body: payload.subarray(bodyStart)
  }
}
