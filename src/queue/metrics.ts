/**
 * The forward queue's own metrics, beside the code they count: the log's files, fsyncs and damage,
 * and per destination what its cursor has pending. Everything is read from the open logs at scrape
 * time (the log owns the counts). One set per registry (the process registry, or a test's own); a log
 * is counted from `queueMetrics(registry).logs.add(log)` until it is deleted from the set.
 *
 * The forwarder's own figures (requests sent, dropped, retried by answer code, send latency, last
 * success) belong beside the forwarder.
 */
import { Counter, Gauge, type Registry } from 'prom-client'
import { registry as processRegistry } from '../metrics/registry.js'
import type { DurableLog } from './durable-log.js'

export const METRIC = {
  segments: 'prom_ingest_forward_queue_segments',
  diskBytes: 'prom_ingest_forward_queue_disk_bytes',
  fsyncs: 'prom_ingest_forward_queue_fsyncs_total',
  appendGroups: 'prom_ingest_forward_queue_append_groups_total',
  damagedRecords: 'prom_ingest_forward_queue_damaged_records_total',
  tornTailBytes: 'prom_ingest_forward_queue_torn_tail_bytes_total',
  pendingBytes: 'prom_ingest_forward_queue_pending_bytes',
  pendingRecords: 'prom_ingest_forward_queue_pending_records',
  oldestAge: 'prom_ingest_forward_queue_oldest_record_age_seconds'
} as const

/** What the metrics read from a log: its stats and its cursors. */
export type QueueFigures = Pick<DurableLog, 'stats' | 'cursorNames' | 'cursor'>

export class QueueMetrics {
  readonly logs = new Set<QueueFigures>()

  constructor (registry: Registry) {
    const registers = [registry]
    const logs = this.logs
    const sum = (read: (s: ReturnType<QueueFigures['stats']>) => number): number => {
      let n = 0
      for (const l of logs) n += read(l.stats())
      return n
    }
    const gauge = (name: string, help: string, read: (s: ReturnType<QueueFigures['stats']>) => number): void => {
      new Gauge({ name, help, registers, collect () { this.set(sum(read)) } }) // eslint-disable-line no-new
    }
    const counter = (name: string, help: string, read: (s: ReturnType<QueueFigures['stats']>) => number): void => {
      new Counter({ // eslint-disable-line no-new
        name,
        help,
        registers,
        collect () {
          // The log owns the count; reset-then-inc shows it as it is.
          const v = sum(read)
          this.reset()
          if (v > 0) this.inc(v)
        }
      })
    }
    gauge(METRIC.segments, 'Segment files of the forward queue.', s => s.segments)
    gauge(METRIC.diskBytes, 'Bytes in the forward queue\'s segment files.', s => s.bytes)
    counter(METRIC.fsyncs, 'fsyncs made to acknowledge appends to the forward queue (segments and directory).', s => s.fsyncs)
    counter(METRIC.appendGroups, 'Groups of appends written to the forward queue, one vectored write and one fdatasync each.', s => s.appendGroups)
    counter(METRIC.damagedRecords, 'Damaged stretches of the forward queue skipped (each lost at least one record), at open or while reading.', s => s.damagedRecords)
    counter(METRIC.tornTailBytes, 'Bytes cut from the end of the forward queue at open: a record whose write a crash interrupted.', s => s.tornTailBytes)

    const perDestination = (name: string, help: string, read: (c: ReturnType<QueueFigures['cursor']>) => number | undefined): void => {
      new Gauge({ // eslint-disable-line no-new
        name,
        help,
        labelNames: ['destination'] as const,
        registers,
        collect () {
          this.reset()
          for (const l of logs) {
            for (const destination of l.cursorNames()) {
              const v = read(l.cursor(destination))
              if (v !== undefined) this.set({ destination }, v)
            }
          }
        }
      })
    }
    perDestination(METRIC.pendingBytes, 'Bytes of the forward queue a destination has not yet delivered (or dropped).', c => c.pendingBytes)
    perDestination(METRIC.pendingRecords, 'Records (requests) of the forward queue a destination has not yet delivered (or dropped).', c => c.pendingRecords)
    perDestination(METRIC.oldestAge, 'Age of the oldest record a destination has not yet delivered; 0 when it has caught up.', c => {
      const t = c.oldestPendingAppendedAtMs()
      return t === undefined ? 0 : Math.max(0, (Date.now() - t) / 1000)
    })
  }
}

const byRegistry = new WeakMap<Registry, QueueMetrics>()

export function queueMetrics (registry: Registry = processRegistry): QueueMetrics {
  let m = byRegistry.get(registry)
  if (m === undefined) {
    m = new QueueMetrics(registry)
    byRegistry.set(registry, m)
  }
  return m
}
