/**
 * One thread's decoder: snappy into a reused buffer, the protobuf walk into a reused batch builder,
 * series ids from the (shared) series index, or none in the gateway decode (`validateOnly`). A worker owns one; `decodeWriteRequest` uses one per
 * calling thread. Not reentrant: one body at a time.
 */
import { BatchBuilder } from '../batch/batch-builder.js'
import { IngestError, type WireError } from '../errors.js'
import { tenantKey, type SeriesIndex } from '../series/series-index.js'
import type { ResolvedDecodeOptions } from './options.js'
import { walkWriteRequestV1 } from './rw1.js'
import { walkRequestV2 } from './rw2.js'
import type { SnappyBlockDecoder } from './snappy.js'
import { createSnappyDecoder, type SnappyImplementation } from './snappy-wasm.js'
import { Walker } from './series-walker.js'
import type { SeriesRules } from '../relabel/apply-rules.js'

/** A decoded body: the batch buffer (to be moved) and what travels beside it. */
export interface DecodedBody {
  readonly buffer: ArrayBuffer
  readonly firstError: WireError | undefined
  /** HA deduplication: the first series' cluster and replica ('' when absent or off), and whether a replica label was left out. */
  readonly ha?: HaLabels
  /** New series refused for the tenant's max-series. */
  readonly tenantLimitedSeries?: number
  /** The global relabeling rules dropped or changed some series: the received body no longer matches the batch. */
  readonly rulesChanged?: boolean
}

export interface HaLabels {
  readonly cluster: string
  readonly replica: string
  readonly labelsChanged: boolean
}

export class Decoder {
  private readonly builder = new BatchBuilder()
  private readonly walker: Walker
  private snappy: SnappyBlockDecoder
  private snappyLimit: number

  /** `snappyImplementation`: which snappy decoder (snappy-wasm.ts); by default WebAssembly where the engine runs it. */
  constructor (readonly index: SeriesIndex, maxDecompressedBytes = 32 * 1024 * 1024, private readonly snappyImplementation: SnappyImplementation = 'auto') {
    this.walker = new Walker(this.builder, index)
    this.snappyLimit = maxDecompressedBytes
    this.snappy = createSnappyDecoder(maxDecompressedBytes, snappyImplementation)
  }

  /** Series per tenant shared by every worker, for the per-tenant max-series (src/limits/tenant-series.ts). */
  set tenantSeries (counts: Int32Array | undefined) { this.walker.tenantSeries = counts }

  /** The global relabeling rules applied to every series (src/relabel/apply-rules.ts). */
  set rules (rules: SeriesRules | undefined) { this.walker.rules = rules }

  /**
   * Decodes one body. `body` may view a SharedArrayBuffer slot: it is only read, during this call.
   * Throws IngestError for a malformed body (and for the first invalid series unless `partial`).
   */
  decode (body: Uint8Array, o: ResolvedDecodeOptions): DecodedBody {
    let raw = body
    if (o.compressed) {
      if (o.maxDecompressedBytes !== this.snappyLimit) {
        this.snappyLimit = o.maxDecompressedBytes
        this.snappy = createSnappyDecoder(o.maxDecompressedBytes, this.snappyImplementation)
      }
      raw = this.snappy.decompress(body)
    } else if (body.length > o.maxDecompressedBytes) {
      throw new IngestError('decompressed_too_large', `the body is ${body.length} bytes, more than the limit of ${o.maxDecompressedBytes} decompressed bytes`)
    }
    const d = new DataView(raw.buffer, raw.byteOffset, raw.byteLength)
    const b = this.builder
    const w = this.walker
    // Gateway decode only where nothing needs series ids: HA labels, tenant series counts, rules.
    let validateOnly = o.validateOnly && o.haReplicaLabel === '' && o.tenantMaxSeries === 0 && w.rules === undefined
    this.walk(raw, d, o, validateOnly)
    if (validateOnly && w.firstError !== undefined) {
      // Some series are invalid: the sink encodes the valid ones from the rows, so the rows are decoded
      // after all, from the body already decompressed (rare: a request with a 400).
      validateOnly = false
      this.walk(raw, d, o, false)
    }
    b.ignoredFieldCount = w.ignoredFieldCount
    return {
      buffer: b.finish(o.version === '2.0' ? 2 : 1, raw.length, body.length, validateOnly),
      firstError: w.firstError,
      ha: o.haReplicaLabel === '' ? undefined : { cluster: w.haCluster, replica: w.haReplica, labelsChanged: w.labelsChanged },
      tenantLimitedSeries: w.tenantLimitedSeries,
      rulesChanged: w.rules?.changed === true
    }
  }

  /** One walk of the decompressed body into the reset builder; in gateway mode with `validateOnly`. */
  private walk (raw: Uint8Array, d: DataView, o: ResolvedDecodeOptions, validateOnly: boolean): void {
    const w = this.walker
    this.builder.reset()
    w.validateOnly = validateOnly
    w.begin(raw, d, tenantKey(o.tenant), o)
    w.rules?.begin()
    try {
      if (o.version === '2.0') walkRequestV2(w, 0, raw.length)
      else walkWriteRequestV1(w, 0, raw.length)
    } catch (err) {
      // Every read is bounds-checked; should one be missed, a read past the end of the body is still
      // the body's fault: a 400 the sender will not retry, never a 500 it would retry for ever.
      if (err instanceof RangeError) throw new IngestError('protobuf_malformed', `malformed protobuf: a field runs past the end of the body (${err.message})`)
      throw err
    }
  }
}
