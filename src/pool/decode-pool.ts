/**
 * The decode worker pool (piscina) and the slots it reads from.
 *
 * The main thread acquires a slot, streams a body into it, and calls `decode`; a worker reads the
 * slot in place and moves back one ArrayBuffer holding the row batch. The slot is released when the
 * task settles, whatever its outcome. A worker that dies is replaced by piscina; its task fails with
 * IngestError('worker_died').
 */
import { availableParallelism } from 'node:os'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Piscina } from 'piscina'
import { RowBatch } from '../batch/row-batch.js'
import { IngestError } from '../errors.js'
import { DEFAULT_LIMITS, type DecodeLimits, type ProtocolVersion } from '../decode/options.js'
import { SeriesIndex, type SeriesIndexOptions } from '../series/series-index.js'
import type { DecodeResult, DecodeTask, DecodeWorkerData, GlobalRelabelRules } from './messages.js'
import { SlotPool, type Slot, type SlotClassConfig } from './slot-pool.js'
import { workerResourceLimits } from './worker-limits.js'

export interface DecodePoolOptions {
  /** Decode worker threads (default: one per core). */
  threads?: number
  /** V8 young-generation bytes of each worker (0 or absent: V8's default; see `workerResourceLimits`). */
  youngGenerationBytes?: number
  /** Slot classes (default: see `defaultSlotClasses`). */
  slotClasses?: SlotClassConfig[]
  /** The series index to use; default: a new one with `series` options. */
  index?: SeriesIndex
  series?: SeriesIndexOptions
  limits?: Partial<DecodeLimits>
  legacyNames?: boolean
  strictUtf8?: boolean
  rejectUnsortedLabels?: boolean
  /** HA deduplication: the replica label left out of every series ('' or absent: off) and the cluster label. */
  haReplicaLabel?: string
  haClusterLabel?: string
  /** Series per tenant, when a per-tenant max-series is set (src/limits/tenant-series.ts). */
  tenantSeries?: SharedArrayBuffer
  /** Global relabeling rules, applied in the workers (src/relabel/apply-rules.ts). */
  relabel?: GlobalRelabelRules
  /** Gateway decode: check and count without the series index; batches carry counts only (docs/forwarding.md). */
  validateOnly?: boolean
}

export interface DecodeRequest {
  version: ProtocolVersion
  tenant?: string
  /** Keep the valid series of a body with invalid ones (default true: the receiver writes them). */
  partial?: boolean
  /** The slot holds a snappy body (default true). */
  compressed?: boolean
  /** Leave the slot to the caller, who releases it (a sink wants the body after the decode). Default false. */
  keepSlot?: boolean
  /** Per-tenant max-series of the tenant (0: none) and its counter slot. */
  tenantMaxSeries?: number
  tenantSlot?: number
  /** Per-tenant label limits (absent: the pool's). */
  maxLabelsPerSeries?: number | undefined
  maxLabelNameBytes?: number | undefined
  maxLabelValueBytes?: number | undefined
  /** The tenant's HA labels (absent: the pool's; '' replica: HA off for this request). */
  haReplicaLabel?: string | undefined
  haClusterLabel?: string | undefined
}

export interface PoolStats {
  threads: number
  slotsTotal: number
  slotsInUse: number
  waiting: number
  /** piscina's utilisation: share of the pool's capacity spent running tasks since start. */
  utilization: number
  queueSize: number
  completed: number
  workerRestarts: number
}

/**
 * Default slots: enough normal slots for every worker to have one decoding and a few queued
 * (`4 * threads + 4`, 1 MiB each: a 10,000-series body is about 215 KB), and two slots as large as
 * the body limit for the odd big body. 2 cores: 12 normal slots; 64 cores: 260.
 */
export function defaultSlotClasses (threads: number, maxBodyBytes = 32 * 1024 * 1024): SlotClassConfig[] {
  const normal = Math.min(1024 * 1024, maxBodyBytes)
  const classes = [{ bytes: normal, count: 4 * threads + 4 }]
  if (maxBodyBytes > normal) classes.push({ bytes: maxBodyBytes, count: 2 })
  return classes
}

/** The compiled worker: beside this file when built, under dist/ when running from sources (tests). */
function workerFile (): string {
  const built = fileURLToPath(new URL('../../workers/decode-worker.js', import.meta.url))
  if (existsSync(built)) return built
  const fromSources = fileURLToPath(new URL('../../dist/workers/decode-worker.js', import.meta.url))
  if (existsSync(fromSources)) return fromSources
  throw new IngestError('internal', `decode worker not found at ${built} nor ${fromSources}: run \`npm run build\``)
}

export class DecodePool {
  readonly index: SeriesIndex
  readonly slots: SlotPool
  readonly threads: number
  private readonly piscina: Piscina
  private restarts = 0
  private closing = false

  constructor (options: DecodePoolOptions = {}) {
    this.threads = options.threads ?? availableParallelism()
    if (!Number.isInteger(this.threads) || this.threads < 1) throw new IngestError('config_invalid', `threads must be a positive integer, got ${this.threads}`)
    const limits = { ...DEFAULT_LIMITS, ...options.limits }
    this.index = options.index ?? SeriesIndex.create(options.series)
    this.slots = new SlotPool(options.slotClasses ?? defaultSlotClasses(this.threads))
    const workerData: DecodeWorkerData = {
      index: this.index.shared,
      slotBuffers: this.slots.buffers,
      slotBytes: (options.slotClasses ?? defaultSlotClasses(this.threads)).filter(c => c.count > 0).map(c => c.bytes).sort((a, b) => a - b),
      limits,
      legacyNames: options.legacyNames ?? false,
      strictUtf8: options.strictUtf8 ?? true,
      rejectUnsortedLabels: options.rejectUnsortedLabels ?? false,
      haReplicaLabel: options.haReplicaLabel ?? '',
      haClusterLabel: options.haClusterLabel ?? '',
      tenantSeries: options.tenantSeries,
      relabel: options.relabel,
      validateOnly: options.validateOnly === true
    }
    this.piscina = new Piscina({
      filename: workerFile(),
      minThreads: this.threads,
      maxThreads: this.threads,
      idleTimeout: Infinity, // decode workers live as long as the service: their buffers stay warm
      workerData,
      ...workerResourceLimits(options.youngGenerationBytes)
    })
    this.piscina.on('workerDestroy', () => { if (!this.closing) this.restarts++ })
    // A crashed worker surfaces as a failed task; piscina's pool-level 'error' must not take the process down.
    this.piscina.on('error', () => {})
  }

  /** A free slot of at least `byteLength` bytes, waiting at most `timeoutMs` (see SlotPool.acquire). */
  acquireSlot (byteLength: number, timeoutMs: number, signal?: AbortSignal): Promise<Slot> {
    return this.slots.acquire(byteLength, timeoutMs, signal)
  }

  /**
   * Decodes the first `length` bytes of `slot` in a worker and releases the slot when the worker is
   * done (unless `keepSlot`: then the caller releases it, whatever the outcome). Rejects with the decode's IngestError, or 'worker_died'.
   */
  async decode (slot: Slot, length: number, request: DecodeRequest): Promise<RowBatch> {
    const tenant = request.tenant ?? ''
    const task: DecodeTask = {
      classIndex: slot.classIndex,
      slotIndex: slot.index,
      length,
      version: request.version,
      tenant,
      compressed: request.compressed ?? true,
      partial: request.partial ?? true,
      tenantMaxSeries: request.tenantMaxSeries ?? 0,
      tenantSlot: request.tenantSlot ?? -1,
      maxLabelsPerSeries: request.maxLabelsPerSeries,
      maxLabelNameBytes: request.maxLabelNameBytes,
      maxLabelValueBytes: request.maxLabelValueBytes,
      haReplicaLabel: request.haReplicaLabel,
      haClusterLabel: request.haClusterLabel
    }
    let result: DecodeResult
    try {
      result = await this.piscina.run(task) as DecodeResult
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err)
      throw new IngestError('worker_died', `the decode worker died while decoding this request (${message}); it has been replaced`)
    } finally {
      if (request.keepSlot !== true) slot.release()
    }
    if (!result.ok) throw IngestError.fromWire(result.error)
    return new RowBatch(result.buffer, { tenant, firstError: result.firstError, decodeMs: result.decodeMs, ha: result.ha, tenantLimitedSeries: result.tenantLimitedSeries, rulesChanged: result.rulesChanged }, this.index)
  }

  stats (): PoolStats {
    return {
      threads: this.threads,
      slotsTotal: this.slots.total,
      slotsInUse: this.slots.used,
      waiting: this.slots.waiting,
      utilization: this.piscina.utilization,
      queueSize: this.piscina.queueSize,
      completed: this.piscina.completed,
      workerRestarts: this.restarts
    }
  }

  /** The worker threads (tests kill one to check that its task fails and the pool recovers). */
  get workerThreads (): ReadonlyArray<{ terminate(): Promise<number> }> {
    return this.piscina.threads
  }

  async close (): Promise<void> {
    this.closing = true
    this.slots.rejectWaiting(new IngestError('shutting_down', 'the service is shutting down'))
    await this.piscina.close()
  }
}
