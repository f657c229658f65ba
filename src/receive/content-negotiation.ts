/**
 * Which Remote Write protocol a request speaks, from its Content-Type and Content-Encoding:
 *
 *   (none) or application/x-protobuf                              -> 1.0
 *   application/x-protobuf;proto=prometheus.WriteRequest          -> 1.0
 *   application/x-protobuf;proto=io.prometheus.write.v2.Request   -> 2.0
 *   anything else (application/json, ...;proto=...v99.Request)   -> 415 content_type_unsupported
 *   Content-Encoding absent or snappy                             -> fine; anything else -> 415
 */
import { IngestError } from '../errors.js'
import type { ProtocolVersion } from '../decode/options.js'

const V1_PROTO = 'prometheus.writerequest'
const V2_PROTO = 'io.prometheus.write.v2.request'

/** The protocol version of a request, or an IngestError (415) saying what is not supported. */
export function negotiateVersion (contentType: string | undefined, contentEncoding: string | undefined): ProtocolVersion | IngestError {
  if (contentEncoding !== undefined && contentEncoding !== 'snappy' && contentEncoding.trim().toLowerCase() !== 'snappy') {
    return new IngestError('content_encoding_unsupported', `unsupported Content-Encoding ${JSON.stringify(contentEncoding)}: only snappy is accepted`)
  }
  // The two forms senders use, compared as they come: no parsing for the common case.
  if (contentType === undefined || contentType === 'application/x-protobuf') return '1.0'
  if (contentType === 'application/x-protobuf;proto=io.prometheus.write.v2.Request') return '2.0'
  return parseContentType(contentType)
}

/** The version named by the Content-Type header of a request, undefined when it names none we know. */
export function versionOfContentType (contentType: string | undefined): ProtocolVersion | undefined {
  const v = negotiateVersion(contentType, undefined)
  return v instanceof IngestError ? undefined : v
}

function parseContentType (contentType: string): ProtocolVersion | IngestError {
  const parts = contentType.split(';')
  const mediaType = parts[0]!.trim().toLowerCase()
  if (mediaType === '' && parts.length === 1) return '1.0'
  if (mediaType !== 'application/x-protobuf') {
    return new IngestError('content_type_unsupported', `unsupported Content-Type ${JSON.stringify(contentType)}: expected application/x-protobuf (Remote Write 1.0) or application/x-protobuf;proto=io.prometheus.write.v2.Request (2.0)`)
  }
  let proto: string | undefined
  for (let i = 1; i < parts.length; i++) {
    const p = parts[i]!
    const eq = p.indexOf('=')
    if (eq < 0) continue
    if (p.slice(0, eq).trim().toLowerCase() === 'proto') proto = p.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1')
  }
  if (proto === undefined || proto.toLowerCase() === V1_PROTO) return '1.0'
  if (proto.toLowerCase() === V2_PROTO) return '2.0'
  return new IngestError('content_type_unsupported', `unsupported remote-write proto ${JSON.stringify(proto)}: expected prometheus.WriteRequest (1.0) or io.prometheus.write.v2.Request (2.0)`)
}
