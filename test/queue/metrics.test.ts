/**
 * The forward queue's metrics, scraped from a registry of their own: fsyncs and append groups count
 * up, pending bytes, records and the oldest age per destination follow the cursors.
 */
import { Registry } from 'prom-client'
import { afterAll, describe, expect, it } from 'vitest'
import { DurableLog } from '../../src/queue/durable-log.js'
import { METRIC, queueMetrics } from '../../src/queue/metrics.js'
import { HEADER_BYTES } from '../../src/queue/record.js'
import { payload, removeTempDirs, tempDir } from './helpers.js'

afterAll(removeTempDirs)

async function values (registry: Registry): Promise<Map<string, number>> {
  const out = new Map<string, number>()
  for (const m of await registry.getMetricsAsJSON()) {
    for (const v of m.values) {
      const labels = Object.entries(v.labels).map(([k, x]) => `${k}=${String(x)}`).join(',')
      out.set(labels === '' ? m.name : `${m.name}{${labels}}`, v.value)
    }
  }
  return out
}

describe('forward queue metrics', () => {
  it('report the log\'s fsyncs and segments, and each destination\'s pending bytes, records and oldest age', async () => {
    const registry = new Registry()
    const log = await DurableLog.open({ dir: tempDir() })
    queueMetrics(registry).logs.add(log)
    const a = log.cursor('a')
    log.cursor('b')
    await Promise.all([1, 2, 3].map(async k => await log.append([payload(k, 100)])))
    const records = await a.read(1, 1e9)
    await a.commit(records[0]!.next)

    const v = await values(registry)
    expect(v.get(METRIC.fsyncs)).toBe(1)
    expect(v.get(METRIC.appendGroups)).toBe(1)
    expect(v.get(METRIC.segments)).toBe(1)
    expect(v.get(METRIC.diskBytes)).toBe(3 * (HEADER_BYTES + 100))
    expect(v.get(`${METRIC.pendingBytes}{destination=a}`)).toBe(2 * (HEADER_BYTES + 100))
    expect(v.get(`${METRIC.pendingBytes}{destination=b}`)).toBe(3 * (HEADER_BYTES + 100))
    expect(v.get(`${METRIC.pendingRecords}{destination=a}`)).toBe(2)
    expect(v.get(`${METRIC.pendingRecords}{destination=b}`)).toBe(3)
    expect(v.get(`${METRIC.oldestAge}{destination=a}`)).toBeGreaterThanOrEqual(0)
    expect(v.get(METRIC.damagedRecords)).toBe(0)

    await a.commit(log.head)
    expect((await values(registry)).get(`${METRIC.oldestAge}{destination=a}`)).toBe(0)
    queueMetrics(registry).logs.delete(log)
    await log.close()
  })
})
