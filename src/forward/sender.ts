/**
 * Sends one destination's share of the queue, in queue order, through the destination's cursor, and
 * moves the cursor only past records the destination took (2xx) or that were dropped for a stated reason
 * (see answer-table.ts). A record is never skipped because the destination is down: the sender retries
 * it for ever, so a SIGKILL loses nothing that was acknowledged, and after a restart the records from the
 * cursor on are sent again (at least once; duplicates are bounded by the records in flight).
 *
 * Ordering: with maxInFlight 1 (the default) requests are strictly serial, in queue order. With N > 1,
 * records go through ordered lanes: a record's lane is a hash of its tenant modulo N; each lane sends
 * its records one after the other, in queue order (a retried record is retried before the next of its
 * lane), and up to N lanes send at once. Records of one tenant never overtake each other, so every
 * series arrives in order at a receiver that refuses out-of-order samples (Prometheus). The cursor is
 * committed up to the first record not yet done, so a restart sends again at most what was in flight
 * or waiting behind it (docs/forwarding.md, "Ordering").
 *
 * HTTP: an undici keep-alive Pool per destination with `maxInFlight` connections, driven through its
 * low-level `dispatch` with a handler of our own (post()): no response stream, no promise per stage,
 * header names and values as one prebuilt array. That halves what undici's `request()` cost per request
 * in user CPU (bench/README.md, "forward"); connections, parsing and timeouts are undici's as before.
 */
import { performance } from 'node:perf_hooks'
import { Pool } from 'undici'
import type { LogCursor, LogRecord } from '../queue/durable-log.js'
import { actionOf, parseRetryAfter, retryDelayMs, type Backoff } from './answer-table.js'
import type { Destination } from './destinations.js'
import type { SenderFigures } from './metrics.js'
import { ALL_DESTINATIONS, parseRecord, type ParsedRecord } from './record.js'

const V1_CONTENT_TYPE = 'application/x-protobuf'
const V2_CONTENT_TYPE = 'application/x-protobuf;proto=io.prometheus.write.v2.Request'

/** Where a sender logs (the service's logger, or its relay from the forward worker). */
export interface SendLog {
  info(obj: object, msg: string): void
  warn(obj: object, msg: string): void
  error(obj: object, msg: string): void
}

export interface SenderOptions {
  readonly destination: Destination
  /** Index of the destination (shard mode: records carry the index of the one they go to). */
  readonly index: number
  readonly cursor: LogCursor
  readonly figures: SenderFigures
  readonly backoff: Backoff
  /** Header that carries a record's tenant, '' for none. */
  readonly tenantHeader: string
  readonly logger: SendLog
  /** Re-encodes a record: in another protocol version, or split in two for a 413. undefined: not possible. */
  readonly transcode?: Transcoder
}

export interface Transcoder {
  /** The record's series in `version`, in bodies of at most 10,000 samples or 8 MiB. */
  convert(record: ParsedRecord, version: '1.0' | '2.0'): ParsedRecord[] | undefined
  /** The record's series in two halves (a 413), or undefined when it holds a single sample. */
  split(record: ParsedRecord): ParsedRecord[] | undefined
}

/** Thrown inside the loop when the sender stops (shutdown): the record stays in the queue. */
class Stopped extends Error {}

/** The answer to one POST: the status (0: no answer, `reason` says why), Retry-After, and for a non-2xx the start of the body. */
interface Answer { status: number, retryAfter: string | string[] | undefined, reason: string }

/** Bytes of a non-2xx answer's body kept for the log (the reason shown is at most 512 characters of it). */
const REASON_BYTES = 2048

export class DestinationSender {
  private readonly pool: Pool
  private readonly stop = new AbortController()
  private running: Promise<void> | undefined
  /** The request headers without a tenant, per protocol version, as undici's flat [name, value, ...] array. */
  private readonly headersV1: string[]
  private readonly headersV2: string[]

  constructor (private readonly o: SenderOptions) {
    const d = o.destination
    this.pool = new Pool(d.origin, { connections: d.maxInFlight, pipelining: 1, keepAliveTimeout: 30_000, headersTimeout: d.timeoutMs, bodyTimeout: d.timeoutMs })
    const base: Record<string, string> = { 'content-encoding': 'snappy', 'user-agent': 'prom-ingest', ...d.headers }
    const flat = (h: Record<string, string>): string[] => Object.entries(h).flat()
    this.headersV1 = flat({ ...base, 'content-type': V1_CONTENT_TYPE, 'x-prometheus-remote-write-version': '0.1.0' })
    this.headersV2 = flat({ ...base, 'content-type': V2_CONTENT_TYPE, 'x-prometheus-remote-write-version': '2.0.0' })
  }

  get name (): string { return this.o.destination.name }

  start (): void {
    this.running ??= this.loop().catch(err => {
      if (!(err instanceof Stopped)) this.o.logger.error({ destination: this.name, err: err instanceof Error ? err.stack : String(err) }, 'forward sender stopped by an unexpected error')
    })
  }

  /** Stops sending (what is not delivered stays in the queue) and closes the connections. */
  async close (): Promise<void> {
    this.stop.abort()
    // Fails the request in flight or waiting for a connection at once (post() answers status 0, the loop stops).
    await this.pool.destroy().catch(() => {})
    await this.running
  }

  private async loop (): Promise<void> {
    if (this.o.destination.maxInFlight > 1) return await this.laneLoop()
    const { cursor } = this.o
    const max = 1
    const signal = this.stop.signal
    while (!signal.aborted) {
      try {
        const records = await cursor.read(max, 64 << 20)
        if (records.length === 0) {
          await this.untilStopped(cursor.waitForData())
          continue
        }
        for (const record of records) {
          const parsed = this.parse(record)
          if (parsed !== undefined && this.isMine(parsed)) await this.deliver(parsed)
        }
        // A full queue in drop-oldest mode may have moved the cursor past these records meanwhile.
        const next = records[records.length - 1]!.next
        if (next > cursor.position) await cursor.commit(next)
      } catch (err) {
        if (err instanceof Stopped || signal.aborted) return
        // The queue could not be read or the cursor not written (I/O error): nothing is skipped, the
        // same records are read again after a pause.
        this.o.logger.error({ destination: this.name, err: err instanceof Error ? err.message : String(err) }, 'forward queue read failed; retrying')
        cursor.rewind()
        await sleep(this.o.backoff.maxMs, signal).catch(() => {})
      }
    }
  }

  /**
   * maxInFlight N > 1: ordered lanes (see the file comment). `window` holds the records read and not
   * yet committed, in queue order; at most 4N, so a lane stuck on a retry holds back reading, and
   * memory, after 4N records. Payload views are valid only until the cursor's next read, so a record
   * waiting in a lane keeps a copy of its body.
   */
  private async laneLoop (): Promise<void> {
    const { cursor } = this.o
    const n = this.o.destination.maxInFlight
    const windowMax = 4 * n
    const signal = this.stop.signal
    const window: Array<{ next: number, done: boolean }> = []
    const lanes = new Map<number, Array<{ entry: { done: boolean }, record: ParsedRecord }>>()
    let wake = (): void => {}
    let progress = new Promise<void>(resolve => { wake = resolve })
    const kick = (): void => { const w = wake; progress = new Promise<void>(resolve => { wake = resolve }); w() }
    const runLane = async (key: number, queue: Array<{ entry: { done: boolean }, record: ParsedRecord }>): Promise<void> => {
      try {
        while (queue.length > 0) {
          await this.deliver(queue[0]!.record)
          queue.shift()!.entry.done = true
          kick()
        }
      } catch {
        // Stopped: what is not done stays in the queue.
      } finally {
        lanes.delete(key)
        kick()
      }
    }
    const commitDone = async (): Promise<void> => {
      let k = 0
      while (k < window.length && window[k]!.done) k++
      if (k === 0) return
      const next = window[k - 1]!.next
      window.splice(0, k)
      // A full queue in drop-oldest mode may have moved the cursor past these records meanwhile.
      if (next > cursor.position) await cursor.commit(next)
    }
    while (!signal.aborted) {
      try {
        await commitDone()
        if (window.length >= windowMax) {
          await this.untilStopped(progress)
          continue
        }
        const records = await cursor.read(windowMax - window.length, 64 << 20)
        if (records.length === 0) {
          await this.untilStopped(window.length === 0 ? cursor.waitForData() : Promise.race([cursor.waitForData(), progress]))
          continue
        }
        for (const record of records) {
          const entry = { next: record.next, done: false }
          window.push(entry)
          const parsed = this.parse(record)
          if (parsed === undefined || !this.isMine(parsed)) { entry.done = true; continue }
          const item = { entry, record: { ...parsed, body: parsed.body.slice() } }
          const key = laneOf(parsed.tenant, n)
          const queue = lanes.get(key)
          if (queue !== undefined) { queue.push(item); continue }
          const fresh = [item]
          lanes.set(key, fresh)
          void runLane(key, fresh)
        }
      } catch (err) {
        if (signal.aborted) return
        this.o.logger.error({ destination: this.name, err: err instanceof Error ? err.message : String(err) }, 'forward queue read failed; retrying')
        // Let the lanes finish what they hold, then read again from the first record not done.
        for (let i = 0; lanes.size > 0 && i < 1_000_000 && !signal.aborted; i++) await this.untilStopped(progress)
        await commitDone().catch(() => {})
        window.length = 0
        cursor.rewind()
        await sleep(this.o.backoff.maxMs, signal).catch(() => {})
      }
    }
  }

  /**
   * Resolves when `p` settles or the sender stops. Unlike a race with one long-lived "stopped" promise,
   * it leaves nothing attached behind (a race adds a reaction to that promise per wait, for ever).
   */
  private untilStopped (p: Promise<unknown>): Promise<void> {
    const signal = this.stop.signal
    if (signal.aborted) return Promise.resolve()
    return new Promise<void>(resolve => {
      const done = (): void => { signal.removeEventListener('abort', done); resolve() }
      signal.addEventListener('abort', done, { once: true })
      p.then(done, done)
    })
  }

  private isMine (record: ParsedRecord): boolean {
    return record.target === ALL_DESTINATIONS || record.target === this.o.index
  }

  /** The record's payload, or undefined (counted, logged) when its header is not ours. */
  private parse (record: LogRecord): ParsedRecord | undefined {
    try {
      return parseRecord(record.payload)
    } catch (err) {
      this.o.figures.request('dropped', 'damaged').inc()
      this.o.logger.error({ destination: this.name, position: record.position, err: (err as Error).message }, 'forward queue record has no valid header: skipped')
      return undefined
    }
  }

  /** Sends one record until the destination took it or it is dropped; converts it when the destination speaks another version. */
  private async deliver (record: ParsedRecord): Promise<void> {
    const want = this.o.destination.protocol
    if (want !== undefined && want !== record.version) {
      let parts: ParsedRecord[] | undefined
      try {
        parts = this.o.transcode?.convert(record, want)
      } catch (err) {
        return this.dropped(record, 'unconvertible', `the record could not be converted to ${want}: ${(err as Error).message}`)
      }
      if (parts === undefined) return this.dropped(record, 'unconvertible', `the record is Remote Write ${record.version} and no converter to ${want} is available`)
      for (const p of parts) await this.deliverAsIs(p)
      return
    }
    return this.deliverAsIs(record)
  }

  private async deliverAsIs (record: ParsedRecord): Promise<void> {
    const { figures, backoff, logger } = this.o
    const signal = this.stop.signal
    let attempt = 0
    let stuck = false
    for (;;) {
      if (signal.aborted) throw new Stopped()
      const t = performance.now()
      const { status, retryAfter, reason } = await this.post(record)
      if (signal.aborted) throw new Stopped()
      figures.sendDuration.observe((performance.now() - t) / 1000)
      const code = status === 0 ? 'network' : String(status)
      const action = actionOf(status)
      if (action === 'done') {
        figures.request('sent', code).inc()
        figures.samplesSent.inc(record.samples + record.histograms)
        figures.lastSuccess.set(Date.now() / 1000)
        if (stuck) { figures.stuck.set(0); logger.info({ destination: this.name }, 'forward destination takes requests again') }
        return
      }
      if (action === 'drop') return this.dropped(record, code, reason)
      if (action === 'split') {
        let halves: ParsedRecord[] | undefined
        try { halves = this.o.transcode?.split(record) } catch { halves = undefined }
        if (halves === undefined) return this.dropped(record, code, `too large for the destination and cannot be split further: ${reason}`)
        figures.request('retried', code).inc()
        for (const h of halves) await this.deliverAsIs(h)
        return
      }
      figures.request('retried', code).inc()
      if (action === 'stuck' && !stuck) {
        stuck = true
        figures.stuck.set(1)
        logger.error({ destination: this.name, status, reason }, 'forward destination refuses the requests (check its URL and credentials); retrying at the longest backoff, its queue grows')
      }
      const delay = retryDelayMs(backoff, attempt++, action, parseRetryAfter(retryAfter))
      if (attempt === 1 || attempt % 10 === 0) logger.warn({ destination: this.name, status: code, reason, retryInMs: Math.round(delay), attempt }, 'forward request failed, will retry')
      await sleep(delay, signal)
    }
  }

  private dropped (record: ParsedRecord, code: string, reason: string): void {
    this.o.figures.request('dropped', code).inc()
    this.o.figures.samplesDropped.inc(record.samples + record.histograms)
    this.o.logger.warn({ destination: this.name, status: code, samples: record.samples, reason }, 'forward request dropped: the destination can never take it')
  }

  private headersOf (record: ParsedRecord): string[] {
    const h = record.version === '2.0' ? this.headersV2 : this.headersV1
    const name = this.o.tenantHeader
    if (record.tenant === '' || name === '') return h
    const out = [...h]
    // The record's tenant replaces a configured header of the same name, as an object key would.
    for (let i = 0; i < out.length; i += 2) if (out[i] === name) { out[i + 1] = record.tenant; return out }
    out.push(name, record.tenant)
    return out
  }

  /**
   * POSTs the record's body once. Never rejects: a failure without an answer (connection refused,
   * timeout, reset, or the pool destroyed at close) is status 0 with the error's code and message as reason.
   */
  private post (record: ParsedRecord): Promise<Answer> {
    return new Promise<Answer>(resolve => {
      const answer: Answer = { status: 0, retryAfter: undefined, reason: '' }
      let kept: Buffer[] | undefined
      let keptBytes = 0
      const settle = (): void => { resolve(answer) }
      this.pool.dispatch({ method: 'POST', path: this.o.destination.path, headers: this.headersOf(record), body: record.body }, {
        onConnect: () => {},
        onHeaders: (statusCode: number, rawHeaders: Buffer[]) => {
          answer.status = statusCode
          if (statusCode < 200 || statusCode >= 300) {
            kept = []
            answer.retryAfter = headerValues(rawHeaders, 'retry-after')
          }
          return true
        },
        onData: (chunk: Buffer) => {
          if (kept !== undefined && keptBytes < REASON_BYTES) { kept.push(chunk); keptBytes += chunk.length }
          return true
        },
        onComplete: () => {
          if (kept !== undefined) answer.reason = Buffer.concat(kept).toString('utf8').slice(0, 512).trim()
          settle()
        },
        onError: (err: Error) => {
          answer.status = 0
          answer.retryAfter = undefined
          answer.reason = `${(err as NodeJS.ErrnoException).code ?? err.name}: ${err.message}`
          settle()
        }
      })
    })
  }
}

/** The values of header `name` (lower case) among undici's raw [name, value, ...] buffers: undefined, one, or several. */
function headerValues (raw: readonly Buffer[], name: string): string | string[] | undefined {
  let out: string | string[] | undefined
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const n = raw[i]!
    if (n.length !== name.length || n.toString('latin1').toLowerCase() !== name) continue
    const v = raw[i + 1]!.toString('latin1')
    out = out === undefined ? v : Array.isArray(out) ? [...out, v] : [out, v]
  }
  return out
}

/** The lane of a tenant's records: FNV-1a of the tenant, modulo the lanes. */
export function laneOf (tenant: string, lanes: number): number {
  let h = 0x811c9dc5
  for (let i = 0; i < tenant.length; i++) h = Math.imul(h ^ tenant.charCodeAt(i), 0x01000193)
  return (h >>> 0) % lanes
}

function sleep (ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) { reject(new Stopped()); return }
    const onAbort = (): void => { clearTimeout(timer); reject(new Stopped()) }
    const timer = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve() }, ms)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}
