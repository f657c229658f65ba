/**
 * POST /api/v1/write: one remote-write request from arrival to answer.
 *
 *   negotiate (415) -> auth (401) -> declared length (413) -> tenant (400) -> the body starts to
 *   arrive (408 if it stalls) -> wait for a slot (503/429 after slot-wait) -> stream the body into
 *   the slot (413 while streaming, 408 if it stalls or is slower than body-min-rate) -> real length
 *   (400) -> decode in the pool (400 for a malformed body) -> store in every sink (5xx if one fails)
 *   -> 204, or 400 naming the first invalid series when some were refused (their valid neighbours
 *   are stored).
 *
 * A request takes an admission permit and a slot only once its body is arriving: its first
 * FIRST_BODY_BYTES (or all of it when smaller) are held in the request until then, so that a sender
 * that stalls after its headers holds nothing but its socket. `Expect: 100-continue` requests are the
 * exception: they get their slot first and 100 only then, so that a refused body is never sent. While
 * the body is read, it must progress in every window of body-idle-timeout: by one byte in the first
 * window, by body-min-rate x the window after it; otherwise the answer is 408 and the slot is free.
 * The clock stops while the request waits for a slot (that wait is the service's, not the sender's).
 *
 * The body is copied chunk by chunk from the socket into the slot's SharedArrayBuffer region at a
 * running offset: no Buffer.concat, no copy of the whole body. While a request waits for a slot its
 * body stays in the socket (Node pauses reading when the request stream's buffer is full), so memory
 * stays bounded by the slots whatever the offered load.
 *
 * Per request there is one WriteExchange object; the stream listeners are module-level functions that
 * find it on the request (no closures per request).
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { performance } from 'node:perf_hooks'
import type { RowBatch } from '../batch/row-batch.js'
import type { ProtocolVersion } from '../decode/options.js'
import { IngestError, toIngestError } from '../errors.js'
import type { Logger } from '../logger.js'
import type { IngestMetrics } from '../metrics/ingest-metrics.js'
import type { DecodePool } from '../pool/decode-pool.js'
import type { Slot } from '../pool/slot-pool.js'
import type { ReceivedBody, Sink } from '../sinks/sink.js'
import type { TenantGate } from '../limits/tenant-gate.js'
import type { Admission } from './admission.js'
import type { Authenticator } from './auth.js'
import { negotiateVersion, versionOfContentType } from './content-negotiation.js'
import { sendError, type ErrorAnswerPolicy } from './error-response.js'
import { tenantOf } from './tenant.js'

export const WRITE_PATH = '/api/v1/write'

const SAMPLES_WRITTEN = 'X-Prometheus-Remote-Write-Samples-Written'
const HISTOGRAMS_WRITTEN = 'X-Prometheus-Remote-Write-Histograms-Written'
const EXEMPLARS_WRITTEN = 'X-Prometheus-Remote-Write-Exemplars-Written'

/** Body bytes that must have arrived before a request takes a slot (Node's default stream buffer). */
export const FIRST_BODY_BYTES = 16 * 1024
/**
 * Largest unread rest of a body that is read and dropped after an early answer (401, 415, 503, ...),
 * so that the connection stays usable; a larger rest, or a chunked one, closes the connection.
 */
export const DRAIN_LIMIT_BYTES = 1024 * 1024

export interface WriteRouteSettings {
  /** Size of a normal slot: what a request without Content-Length starts in. */
  readonly slotBytes: number
  /** Largest body accepted, compressed. */
  readonly maxBodyBytes: number
  /** How long to wait for a free slot, ms. */
  readonly slotWaitMs: number
  /** Lower-case tenant header name, '' for none. */
  readonly tenantHeader: string
  /** A body must progress in every window of this many ms (body-idle-timeout). */
  readonly bodyIdleTimeoutMs: number
  /** Bytes per second a body must arrive at after its first window (body-min-rate); 0 for none. */
  readonly bodyMinRate: number
}

/** What the route shares with the server: counts of requests in progress, shutdown state. */
export interface ExchangeTracker {
  /** True once shutdown began: answers close their connection. */
  readonly closing: boolean
  begin(): void
  end(): void
}

export interface WriteRouteDeps {
  readonly pool: DecodePool
  readonly admission: Admission
  /** Where batches go (several sinks are one FanOutSink; see src/sinks/sink.ts for who owns the batch). */
  readonly sink: Sink
  readonly metrics: IngestMetrics
  readonly policy: ErrorAnswerPolicy
  readonly auth: Authenticator
  readonly logger: Logger
  readonly settings: WriteRouteSettings
  readonly tracker: ExchangeTracker
  /** Per-tenant limits checked after the decode, before any sink (absent or disabled: none). */
  readonly gate?: TenantGate | undefined
}

const EXCHANGE = Symbol('prom-ingest.write-exchange')
type WriteRequest = IncomingMessage & { [EXCHANGE]?: WriteExchange }

export class WriteRoute {
  constructor (readonly deps: WriteRouteDeps) {}

  handle (req: IncomingMessage, res: ServerResponse): void {
    new WriteExchange(this.deps, req as WriteRequest, res).start()
  }
}

class WriteExchange {
  private slot: Slot | undefined
  /** Bytes of the body copied into the slot so far. */
  private offset = 0
  /** Bytes of the body that arrived so far (in the slot, or held before it). */
  private received = 0
  /** Content-Length, or -1 when the body is chunked. */
  private declared = -1
  private version: ProtocolVersion | undefined
  private tenant = ''
  private answered = false
  /** Holds an admission permit (given back in finish). */
  private admitted = false
  /** The body's first chunks while they wait for a slot (the stream is paused once they are enough). */
  private held: Buffer[] | undefined
  /** The body ended before the request had its slot. */
  private ended = false
  /** Waiting for admission and a slot, or holding them. */
  private waiting = false
  /** The current chunk while the body moves to a large slot (the stream is paused meanwhile). */
  private pending: Buffer | undefined
  /** The body-progress clock: runs only while the body is read from the socket. */
  private timer: NodeJS.Timeout | undefined
  /** `received` when the current window began; windows passed. */
  private windowStart = 0
  private windows = 0
  private readonly started = performance.now()
  /** When the wait for admission and a slot began (slot-wait runs from here). */
  private waitStarted = 0

  constructor (private readonly deps: WriteRouteDeps, private readonly req: WriteRequest, private readonly res: ServerResponse) {}

  start (): void {
    const { req, deps } = this
    deps.tracker.begin()
    deps.metrics.inFlight.inc()
    const headers = req.headers
    const negotiated = negotiateVersion(headers['content-type'], headers['content-encoding'])
    this.version = negotiated instanceof IngestError ? versionOfContentType(headers['content-type']) : negotiated
    if (this.version === '2.0') this.setWritten(0, 0, 0)
    // Node's parser has checked that Content-Length is digits. Known before any refusal, so that a
    // refused body can be drained and the connection kept.
    const cl = headers['content-length']
    if (cl !== undefined) this.declared = Number(cl)

    if (!deps.auth.check(req)) return this.refuseUnread(new IngestError('unauthorized', 'missing or wrong credentials'))
    if (negotiated instanceof IngestError) return this.refuseUnread(negotiated)
    // The declared length is checked before reading.
    if (this.declared > deps.settings.maxBodyBytes) {
      return this.refuseUnread(new IngestError('body_too_large', `the body is ${this.declared} bytes (Content-Length), more than the limit of ${deps.settings.maxBodyBytes}`))
    }
    const tenant = tenantOf(req, deps.settings.tenantHeader)
    if (tenant instanceof IngestError) return this.refuseUnread(tenant)
    this.tenant = tenant

    req[EXCHANGE] = this
    req.on('error', onAborted)
    req.on('close', onClose)
    // 100-continue: the slot first, then 100, then the body. An empty body has nothing to wait for.
    if (headers.expect !== undefined || this.declared === 0) return this.waitForSlot()
    this.held = []
    req.on('data', onData)
    req.on('end', onEnd)
    this.startClock()
  }

  /** Stops reading and waits for admission and a slot (the body's first bytes are held). */
  private waitForSlot (): void {
    this.stopClock()
    this.waiting = true
    this.waitStarted = performance.now()
    if (this.deps.admission.tryAcquire()) {
      this.admitted = true
      void this.acquire()
    } else {
      void this.admit()
    }
  }

  /** Waits for an admission permit (max-in-flight reached), within slot-wait. */
  private async admit (): Promise<void> {
    try {
      await this.deps.admission.acquire(this.deps.settings.slotWaitMs)
    } catch (err) {
      return this.refuseUnread(toIngestError(err))
    }
    if (this.answered) {
      // The sender went away while it waited.
      this.deps.admission.release()
      return
    }
    this.admitted = true
    return this.acquire()
  }

  private async acquire (): Promise<void> {
    const { deps, req } = this
    const max = deps.settings.maxBodyBytes
    if (this.declared < 0 && this.received > max) {
      return this.refuseStreaming(new IngestError('body_too_large', `the body is more than the limit of ${max} bytes (found while reading it)`))
    }
    // A chunked body that ended already is as large as what arrived.
    const size = this.declared >= 0 ? this.declared : this.ended ? this.received : Math.max(deps.settings.slotBytes, this.received)
    // slot-wait bounds admission and slot waits together.
    const waitMs = Math.max(1, Math.round(deps.settings.slotWaitMs - (performance.now() - this.waitStarted)))
    let slot: Slot
    try {
      slot = await deps.pool.acquireSlot(size, waitMs)
    } catch (err) {
      return this.refuseUnread(toIngestError(err))
    }
    if (req.destroyed || this.answered) {
      // The sender went away while it waited.
      slot.release()
      return this.abandon()
    }
    this.slot = slot
    const held = this.held
    if (held === undefined) {
      if (req.headers.expect !== undefined) this.res.writeContinue()
      req.on('data', onData)
      req.on('end', onEnd)
      this.startClock()
      return
    }
    this.held = undefined
    for (const chunk of held) this.chunk(chunk)
    if (this.answered) return
    if (this.ended) return this.bodyEnd()
    this.startClock()
    req.resume()
  }

  /** One chunk of the body arrived: held until the request has a slot, copied into it after. */
  arrived (chunk: Buffer): void {
    if (this.answered) return
    this.received += chunk.length
    if (this.slot !== undefined) return this.chunk(chunk)
    const held = this.held
    if (held === undefined) return
    held.push(chunk)
    const first = this.declared >= 0 ? Math.min(this.declared, FIRST_BODY_BYTES) : FIRST_BODY_BYTES
    if (!this.waiting && this.received >= first) {
      this.req.pause()
      this.waitForSlot()
    }
  }

  /** The body's end arrived. */
  end (): void {
    this.stopClock()
    if (this.slot !== undefined) return void this.bodyEnd()
    if (this.answered) return
    // A chunked body smaller than FIRST_BODY_BYTES: all of it is held.
    this.ended = true
    if (!this.waiting) this.waitForSlot()
  }

  /** Copies one chunk of the body into the slot; moves to a large slot when a chunked body outgrows it. */
  private chunk (chunk: Buffer): void {
    if (this.answered || this.slot === undefined) return
    const end = this.offset + chunk.length
    const max = this.deps.settings.maxBodyBytes
    if (end > this.slot.bytes.length) {
      if (end > max) {
        return this.refuseStreaming(new IngestError('body_too_large', `the body is more than the limit of ${max} bytes (found while reading it)`))
      }
      if (this.declared >= 0) {
        // Node frames the body by Content-Length, so this is a slot smaller than asked for.
        return this.refuseStreaming(new IngestError('internal', `slot of ${this.slot.bytes.length} bytes is smaller than the declared body of ${this.declared} bytes`))
      }
      this.req.pause()
      this.stopClock()
      this.pending = chunk
      void this.moveToLargeSlot()
      return
    }
    this.slot.bytes.set(chunk, this.offset)
    this.offset = end
  }

  /** A chunked body outgrew its normal slot: continue in a slot of max-body-bytes. */
  private async moveToLargeSlot (): Promise<void> {
    const small = this.slot!
    let large: Slot
    try {
      large = await this.deps.pool.acquireSlot(this.deps.settings.maxBodyBytes, this.deps.settings.slotWaitMs)
    } catch (err) {
      return this.refuseStreaming(toIngestError(err))
    }
    if (this.answered) { large.release(); return }
    large.bytes.set(small.bytes.subarray(0, this.offset), 0)
    small.release()
    this.slot = large
    const chunk = this.pending!
    this.pending = undefined
    this.chunk(chunk)
    this.startClock()
    this.req.resume()
  }

  /** Starts a window of body-idle-timeout (reading starts or resumes). */
  private startClock (): void {
    if (this.answered) return
    this.windowStart = this.received
    if (this.timer === undefined) this.timer = setTimeout(onBodyWindow, this.deps.settings.bodyIdleTimeoutMs, this)
    else this.timer.refresh()
  }

  private stopClock (): void {
    if (this.timer === undefined) return
    clearTimeout(this.timer)
    this.timer = undefined
  }

  /**
   * A window of body-idle-timeout ended while the body was read: the body must have progressed by a
   * byte in the first window and by body-min-rate x the window in every later one, else 408.
   */
  windowEnd (): void {
    if (this.answered || this.timer === undefined) return
    const { bodyIdleTimeoutMs: ms, bodyMinRate } = this.deps.settings
    const got = this.received - this.windowStart
    const need = this.windows === 0 ? 1 : Math.max(1, Math.ceil(bodyMinRate * ms / 1000))
    if (got >= need) {
      this.windows++
      this.windowStart = this.received
      this.timer.refresh()
      return
    }
    this.timer = undefined
    const why = got === 0
      ? `no byte of the body arrived for ${ms} ms (body-idle-timeout)`
      : `the body arrived at ${Math.round(got * 1000 / ms)} bytes/s over the last ${ms} ms, slower than body-min-rate (${bodyMinRate} bytes/s)`
    this.refuseStreaming(new IngestError('body_timeout', `${why}; ${this.received}${this.declared >= 0 ? ` of ${this.declared}` : ''} bytes arrived`))
  }

  /** The body is complete: check its length, decode, store, answer. */
  async bodyEnd (): Promise<void> {
    try {
      await this.decodeAndStore()
    } catch (err) {
      // Whatever went wrong unexpectedly, this request gets an answer and the others go on.
      this.deps.logger.error({ err: err instanceof Error ? err.stack : String(err) }, 'write request failed unexpectedly')
      this.refuse(toIngestError(err))
    }
  }

  private async decodeAndStore (): Promise<void> {
    if (this.answered || this.slot === undefined) return
    if (this.declared >= 0 && this.offset !== this.declared) {
      return this.refuse(new IngestError('body_incomplete', `the body is ${this.offset} bytes, its Content-Length says ${this.declared}`))
    }
    const { deps } = this
    const slot = this.slot
    this.slot = undefined // the pool releases it once the worker is done with it, unless a sink wants the body
    const keepSlot = deps.sink.wantsBody === true
    try {
      await this.decodeAndStoreFrom(slot, keepSlot)
    } finally {
      if (keepSlot) slot.release()
    }
  }

  private async decodeAndStoreFrom (slot: Slot, keepSlot: boolean): Promise<void> {
    const { deps } = this
    let batch: RowBatch
    const decodeStart = performance.now()
    const m = deps.metrics
    const version = this.version ?? '1.0'
    try {
      batch = await deps.pool.decode(slot, this.offset, { version, tenant: this.tenant, partial: true, keepSlot, ...deps.gate?.decodeLimits(this.tenant) })
    } catch (err) {
      m.decodeDuration.observe((performance.now() - decodeStart) / 1000)
      return this.refuse(toIngestError(err))
    }
    m.decodeDuration.observe((performance.now() - decodeStart) / 1000)
    m.compressedBytes.inc(batch.counts.compressedBytes)
    m.decompressedBytes.inc(batch.counts.decompressedBytes)
    m.ignoredFields.inc(batch.ignoredFieldCount)

    const gate = deps.gate
    if (gate?.enabled === true) {
      const refused = gate.check(this.tenant, batch)
      // A replica that is not elected: accepted, nothing written (the 2.0 written counts stay 0).
      if (refused === 'deduplicated') return this.answer(202)
      if (refused !== undefined) return this.refuse(refused)
    }
    // HA deduplication left replica labels out, or relabeling changed series: the body as received no longer matches the batch.
    const asReceived = keepSlot && batch.meta.ha?.labelsChanged !== true && batch.meta.rulesChanged !== true
    if (batch.seriesCount > 0 || batch.metadataCount > 0) {
      try {
        // The body is a view of the slot, held until the store settles (released by decodeAndStore).
        await this.store(batch, keepSlot ? { bytes: slot.bytes.subarray(0, this.offset), version, tenant: this.tenant, changed: !asReceived } : undefined)
      } catch (err) {
        const e = toIngestError(err)
        return this.refuse(e.code === 'internal' ? new IngestError('sink_failed', `storing the batch failed: ${e.message}`) : e)
      }
    }
    m.samples.inc(batch.sampleCount)
    m.histograms.inc(batch.histogramCount)
    m.exemplars.inc(batch.exemplarCount)
    m.metadata.inc(batch.metadataCount)
    m.series.inc(batch.seriesCount)
    if (this.version === '2.0') this.setWritten(batch.sampleCount, batch.histogramCount, batch.exemplarCount)

    const first = batch.firstError
    if (first !== undefined) {
      m.invalidSeries.inc(batch.invalidSeriesCount)
      const limited = batch.limitedSeriesCount
      if (limited > 0) m.seriesRefused.inc({ reason: 'series_limit' }, limited)
      const tenantLimited = batch.meta.tenantLimitedSeries ?? 0
      if (tenantLimited > 0) m.seriesRefused.inc({ reason: 'tenant_max_series' }, tenantLimited)
      const total = batch.seriesCount + batch.invalidSeriesCount
      const why = limited > 0 ? ` (${limited} new series because the series index is full)` : ''
      return this.refuse(new IngestError(first.code, `${batch.invalidSeriesCount} of ${total} series refused${why}, the valid ones were written; first: ${first.message}`, first.detail))
    }
    this.answer(204)
  }

  /** Hands the batch to the sink; resolves once it is stored there. */
  private async store (batch: RowBatch, body: ReceivedBody | undefined): Promise<void> {
    const sink = this.deps.sink
    const figures = this.deps.metrics.sink(sink.name)
    const t = performance.now()
    try {
      await sink.write(batch, body)
    } catch (err) {
      figures.failures.inc()
      this.deps.logger.error({ sink: sink.name, err: toIngestError(err).message }, 'sink write failed')
      throw err
    } finally {
      figures.duration.observe((performance.now() - t) / 1000)
    }
  }

  /** The sender went away before the body was complete. */
  aborted (): void {
    if (this.answered) return
    this.deps.metrics.rejected.inc({ reason: 'body_incomplete' })
    this.releaseSlot()
    this.finish(400)
  }

  private setWritten (samples: number, histograms: number, exemplars: number): void {
    setWrittenHeaders(this.res, samples, histograms, exemplars)
  }

  private answer (status: number): void {
    if (this.answered) return
    const res = this.res
    if (this.deps.tracker.closing) res.setHeader('Connection', 'close')
    res.statusCode = status
    res.end()
    this.finish(status)
  }

  /** Answers an error after the body was read whole (the connection stays usable). */
  private refuse (err: IngestError): void {
    if (this.answered) return
    this.releaseSlot()
    this.deps.metrics.rejected.inc({ reason: err.code })
    const status = sendError(this.res, err, this.deps.policy, this.deps.tracker.closing)
    this.finish(status)
  }

  /**
   * Answers an error before the body was read. When the unread rest of a declared body within the
   * limit is at most DRAIN_LIMIT_BYTES it is read and dropped after the answer, and the connection
   * stays usable; otherwise the connection is closed.
   */
  private refuseUnread (err: IngestError): void {
    const { declared, received, req } = this
    // A 100-continue sender refused before its 100 may never send the body: nothing to drain.
    const drainable = declared >= 0 && declared <= this.deps.settings.maxBodyBytes && declared - received <= DRAIN_LIMIT_BYTES && req.headers.expect === undefined
    if (!drainable || this.deps.tracker.closing) return this.refuseStreaming(err)
    // Node drops the body of a request nobody read; one whose first bytes were read is resumed here.
    if (this.held !== undefined) {
      req.removeListener('data', onData)
      req.removeListener('end', onEnd)
      req.resume()
    }
    this.refuse(err)
  }

  /** Answers an error and stops reading the body: the connection is closed after the answer. */
  private refuseStreaming (err: IngestError): void {
    if (this.answered) return
    this.releaseSlot()
    this.deps.metrics.rejected.inc({ reason: err.code })
    const req = this.req
    req.removeListener('data', onData)
    // The connection closes after the answer (lingering first, so that the sender reads it): the rest
    // of the body is read and dropped, never copied anywhere.
    const status = sendError(this.res, err, this.deps.policy, true)
    this.finish(status)
  }

  private releaseSlot (): void {
    const slot = this.slot
    this.slot = undefined
    slot?.release()
  }

  /** The request left without an answer (sender gone while it waited for a slot). */
  private abandon (): void {
    this.deps.metrics.rejected.inc({ reason: 'body_incomplete' })
    this.finish(400)
  }

  /** Counts the request once, whatever way it ended. */
  private finish (status: number): void {
    if (this.answered) return
    this.answered = true
    this.stopClock()
    this.held = undefined
    this.pending = undefined
    if (this.admitted) {
      this.admitted = false
      this.deps.admission.release()
    }
    const { metrics, tracker } = this.deps
    metrics.writeAnswered(WRITE_PATH, status, this.version ?? 'none', (performance.now() - this.started) / 1000)
    metrics.inFlight.dec()
    tracker.end()
  }
}

/** The Remote Write 2.0 written-count headers (every 2.0 answer carries them; 1.0 answers never). */
export function setWrittenHeaders (res: ServerResponse, samples: number, histograms: number, exemplars: number): void {
  res.setHeader(SAMPLES_WRITTEN, String(samples))
  res.setHeader(HISTOGRAMS_WRITTEN, String(histograms))
  res.setHeader(EXEMPLARS_WRITTEN, String(exemplars))
}

function onData (this: WriteRequest, chunk: Buffer): void {
  this[EXCHANGE]!.arrived(chunk)
}

function onEnd (this: WriteRequest): void {
  this[EXCHANGE]!.end()
}

function onBodyWindow (exchange: WriteExchange): void {
  exchange.windowEnd()
}

function onAborted (this: WriteRequest): void {
  this[EXCHANGE]?.aborted()
}

function onClose (this: WriteRequest): void {
  if (!this.complete) this[EXCHANGE]?.aborted()
}
