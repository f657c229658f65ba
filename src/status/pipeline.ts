/**
 * The pipeline panel of the status page, read when asked (GET /api/v1/status/pipeline): the decode
 * pool and its slots, admission, the series index's fill, each sink with its readiness and its write
 * write latency over the last minute (and DuckDB's commit latency), and each forward queue with its
 * destination. Queue figures come from the forwarder's own gauges (src/forward/metrics.ts), read
 * through the registry, so this file knows nothing of the forwarder's insides.
 */
import type { Registry } from 'prom-client'
import { FORWARD_METRICS } from '../forward/metrics.js'
import type { PoolStats } from '../pool/decode-pool.js'
import type { Sink } from '../sinks/sink.js'
import type { IngestHistory } from './ingest-history.js'

export interface PipelineSources {
  readonly pool: { stats(): PoolStats }
  readonly index: { readonly size: number, readonly maxSeries: number, readonly arenaBytesUsed: number, readonly arenaBytes: number }
  readonly admission: { readonly admitted: number, readonly waiting: number, readonly capacity: number }
  /** Each configured sink (the parts of a fan-out). */
  readonly sinks: readonly Sink[]
  /** The name the write path counts its sink writes under (the fan-out's 'duckdb+forward'). */
  readonly sinkName: string
  readonly history: IngestHistory
  readonly registry: Registry
}

export interface ForwardQueueFigures {
  destination: string
  bytes: number
  records: number
  limitBytes: number
  oldestAgeSeconds: number
  stuck: boolean
}

export interface PipelineFigures {
  time: number
  pool: { threads: number, utilization: number, queueSize: number, completed: number, workerRestarts: number }
  slots: { inUse: number, total: number, waiting: number }
  admission: { admitted: number, waiting: number, capacity: number }
  series: { known: number, maxSeries: number, arenaBytesUsed: number, arenaBytes: number }
  /** Each configured sink and whether it takes writes now. */
  sinks: Array<{ name: string, ready: boolean }>
  /** Batches handed to the sinks (all of them: a request waits for every one) over the last minute, and their mean time until stored. */
  writes: { sink: string, latencySeconds: number | null, count: number } | null
  commit: { latencySeconds: number | null, commits: number } | null
  forwardQueues: ForwardQueueFigures[]
}

interface GaugeLike { get(): Promise<{ values: Array<{ value: number, labels: Record<string, string | number | undefined> }> }> }

export async function pipelineFigures (s: PipelineSources): Promise<PipelineFigures> {
  const p = s.pool.stats()
  const latency = new Map(s.history.latency(60).map(l => [l.name, l]))
  const commit = latency.get('duckdb commit')
  const writes = latency.get(s.sinkName)
  return {
    time: Date.now(),
    pool: { threads: p.threads, utilization: p.utilization, queueSize: p.queueSize, completed: p.completed, workerRestarts: p.workerRestarts },
    slots: { inUse: p.slotsInUse, total: p.slotsTotal, waiting: p.waiting },
    admission: { admitted: s.admission.admitted, waiting: s.admission.waiting, capacity: s.admission.capacity },
    series: { known: s.index.size, maxSeries: s.index.maxSeries, arenaBytesUsed: s.index.arenaBytesUsed, arenaBytes: s.index.arenaBytes },
    sinks: s.sinks.map(k => ({ name: k.name, ready: k.ready() })),
    writes: writes === undefined ? null : { sink: writes.name, latencySeconds: writes.meanSeconds, count: writes.count },
    commit: commit === undefined ? null : { latencySeconds: commit.meanSeconds, commits: commit.count },
    forwardQueues: await forwardQueues(s.registry)
  }
}

async function forwardQueues (registry: Registry): Promise<ForwardQueueFigures[]> {
  const read = async (name: string): Promise<Map<string, number>> => {
    const m = registry.getSingleMetric(name) as GaugeLike | undefined
    const out = new Map<string, number>()
    if (m === undefined) return out
    for (const v of (await m.get()).values) out.set(String(v.labels.destination), v.value)
    return out
  }
  const [bytes, records, limit, age, stuck] = await Promise.all([
    read(FORWARD_METRICS.queueBytes), read(FORWARD_METRICS.queueRecords), read(FORWARD_METRICS.queueLimitBytes),
    read(FORWARD_METRICS.queueOldestAge), read(FORWARD_METRICS.stuck)
  ])
  return [...bytes.keys()].sort().map(d => ({
    destination: d,
    bytes: bytes.get(d) ?? 0,
    records: records.get(d) ?? 0,
    limitBytes: limit.get(d) ?? 0,
    oldestAgeSeconds: age.get(d) ?? 0,
    stuck: (stuck.get(d) ?? 0) > 0
  }))
}
