/**
 * What a decode worker does with one task, apart from being a worker: read the body in place from
 * its slot, decode it, and wrap the batch so that piscina moves its buffer (transfer list) instead of
 * cloning it. Decode errors become data: an Error posted from a worker would lose its code.
 */
import { Piscina } from 'piscina'
import type { Decoder } from '../decode/decoder.js'
import type { ResolvedDecodeOptions } from '../decode/options.js'
import { toIngestError } from '../errors.js'
import type { DecodeResult, DecodeTask, DecodeWorkerData, GlobalRelabelRules } from './messages.js'
import { SeriesRules } from '../relabel/apply-rules.js'
import { RelabelCache } from '../relabel/relabel-cache.js'
import { RelabelCounters } from '../relabel/relabel-metrics.js'
import { Relabeler } from '../relabel/relabeler.js'

/** This worker's step of the global relabeling rules, with its own cache (the rules were validated at start-up). */
function workerRules (r: GlobalRelabelRules, decoder: Decoder): SeriesRules {
  const relabeler = Relabeler.fromConfig(r.rules, 'relabel_configs', { compat: r.compat, nameValidation: r.nameValidation })
  return new SeriesRules(new RelabelCache(relabeler, { maxSeries: r.maxSeries, maxBytes: r.cacheBytes }), decoder.index, new RelabelCounters(r.figures))
}

export class DecodeTaskRunner {
  // One view per slot class, made once: a task only names a class, a slot and a length.
  private readonly classViews: Uint8Array[]

  constructor (private readonly data: DecodeWorkerData, private readonly decoder: Decoder) {
    this.classViews = data.slotBuffers.map(b => new Uint8Array(b))
    if (data.tenantSeries !== undefined) decoder.tenantSeries = new Int32Array(data.tenantSeries)
    if (data.relabel !== undefined) decoder.rules = workerRules(data.relabel, decoder)
  }

  /** Decodes one task's body. The returned value is what the worker returns to piscina. */
  run (task: DecodeTask): unknown {
    const data = this.data
    const start = task.slotIndex * data.slotBytes[task.classIndex]!
    const body = this.classViews[task.classIndex]!.subarray(start, start + task.length)
    const options: ResolvedDecodeOptions = {
      ...data.limits,
      compressed: task.compressed,
      version: task.version,
      tenant: task.tenant,
      partial: task.partial,
      legacyNames: data.legacyNames,
      strictUtf8: data.strictUtf8,
      rejectUnsortedLabels: data.rejectUnsortedLabels,
      haReplicaLabel: task.haReplicaLabel ?? data.haReplicaLabel ?? '',
      haClusterLabel: task.haClusterLabel ?? data.haClusterLabel ?? '',
      tenantMaxSeries: task.tenantMaxSeries ?? 0,
      tenantSlot: task.tenantSlot ?? -1,
      validateOnly: data.validateOnly === true,
      maxLabelsPerSeries: task.maxLabelsPerSeries ?? data.limits.maxLabelsPerSeries,
      maxLabelNameBytes: task.maxLabelNameBytes ?? data.limits.maxLabelNameBytes,
      maxLabelValueBytes: task.maxLabelValueBytes ?? data.limits.maxLabelValueBytes
    }
    try {
      const started = performance.now()
      const { buffer, firstError, ha, tenantLimitedSeries, rulesChanged } = this.decoder.decode(body, options)
      const result: DecodeResult = { ok: true, buffer, firstError, decodeMs: performance.now() - started, ha, tenantLimitedSeries, rulesChanged }
      // The batch buffer goes in the transfer list: moved to the main thread, detached here.
      return Piscina.move({ [Piscina.transferableSymbol]: [buffer], [Piscina.valueSymbol]: result } as unknown as ArrayBuffer)
    } catch (err) {
      const result: DecodeResult = { ok: false, error: toIngestError(err).toWire() }
      return result
    }
  }
}
