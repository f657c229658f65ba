/**
 * The global relabeling rules in the write path (src/relabel/apply-rules.ts), through the service
 * over real HTTP with the real decode pool: what the sink stores is the relabeled series, dropped
 * series write no rows and are counted by reason, two received series that relabel to one label set
 * are one series, and a request sent again (the steady state: every series known to the worker's
 * cache) is stored the same way without relabeling anything again.
 */
import { Registry } from 'prom-client'
import { afterEach, describe, expect, it } from 'vitest'
import type { RowBatch } from '../../src/batch/row-batch.js'
import type { Service } from '../../src/main.js'
import type { ReceivedBody } from '../../src/sinks/sink.js'
import { compressBody, encodeRequest2, encodeWriteRequest1, type TimeSeries1 } from '../fixtures/encode.js'
import { parseExposition, sumOf } from '../helpers/exposition.js'
import { postWrite } from '../helpers/remote-write.js'
import { startInProcess } from '../helpers/service-in-process.js'
import { RecordingSink } from '../helpers/test-sinks.js'
import { T0 } from '../receive/bodies.js'

const RULES = [
  { source_labels: ['__name__'], regex: 'drop_me_.*', action: 'drop' },
  { regex: 'pod|instance_id', action: 'labeldrop' },
  { source_labels: ['env'], target_label: 'environment' },
  { regex: 'env', action: 'labeldrop' },
  // A rule that leaves some series without a name: dropped and counted as no_name.
  { source_labels: ['__name__'], regex: 'nameless_.*', target_label: '__name__', replacement: '' }
]

/** Records the series and whether a body came with the batch (the forward sink's question). */
class BodyRecordingSink extends RecordingSink {
  readonly wantsBody = true
  bodies: Array<ReceivedBody | undefined> = []
  /** The batches' new series (what a store adds to its series table). */
  newSeries: string[] = []
  override async write (batch: RowBatch, body?: ReceivedBody): Promise<void> {
    this.bodies.push(body)
    for (const id of batch.newSeriesIds) this.newSeries.push(text(batch.labelsOf(id) ?? []))
    this.record(batch)
  }
}

let service: Service | undefined
afterEach(async () => { await service?.close(); service = undefined })

function ts (labels: Array<[string, string]>, samples = 1): TimeSeries1 {
  return { labels, samples: Array.from({ length: samples }, (_, k) => ({ value: k, timestamp: T0 + k })) }
}

const REQUEST = [
  ts([['__name__', 'kept_total'], ['job', 'a']], 2),
  ts([['__name__', 'drop_me_total'], ['job', 'a']], 3),
  ts([['__name__', 'pods'], ['env', 'prod'], ['pod', 'p-1']], 1),
  ts([['__name__', 'pods'], ['env', 'prod'], ['pod', 'p-2']], 1),
  ts([['__name__', 'nameless_total'], ['job', 'a']], 4)
]

function text (labels: Array<[string, string]>): string {
  return labels.map(([n, v]) => `${n}=${v}`).join(',')
}

async function metrics (registry: Registry): Promise<ReturnType<typeof parseExposition>> {
  return parseExposition(await registry.metrics())
}

describe('global relabel_configs in the write path', () => {
  for (const version of ['1.0', '2.0'] as const) {
    it(`stores the relabeled series and counts what was dropped (Remote Write ${version})`, async () => {
      const sink = new BodyRecordingSink()
      const registry = new Registry()
      service = await startInProcess(['--relabel-configs', JSON.stringify(RULES), '--threads', '2'], { sink, registry })
      const body = version === '1.0'
        ? compressBody(encodeWriteRequest1({ timeseries: REQUEST }))
        : compressBody(encodeRequest2({ timeseries: REQUEST.map(s => ({ labels: s.labels, samples: s.samples })) }))
      for (let round = 0; round < 3; round++) {
        const res = await postWrite(service.url, body, { version })
        expect(res.status).toBe(204)
      }
      expect(sink.stored).toHaveLength(3)
      for (const b of sink.stored) {
        // kept_total as it is; the two pods series are one relabeled series (pod dropped, env renamed).
        expect(b.seriesLabels.map(text)).toEqual(['__name__=kept_total,job=a', '__name__=pods,environment=prod', '__name__=pods,environment=prod'])
        expect(b.samples).toBe(4)
      }
      // Only series with rows are new series: the received ones the rules dropped or changed are not.
      expect(sink.newSeries.sort()).toEqual(['__name__=kept_total,job=a', '__name__=pods,environment=prod'])
      // The rules changed the request: the received body comes marked as changed (sent on as it is, it
      // would carry the dropped series; the forward sink encodes the batch instead).
      expect(sink.bodies.map(b => b?.changed)).toEqual([true, true, true])
      const m = await metrics(registry)
      expect(sumOf(m, 'prom_ingest_relabel_samples_dropped_total', { reason: 'rule' })).toBe(9)
      expect(sumOf(m, 'prom_ingest_relabel_samples_dropped_total', { reason: 'no_name' })).toBe(12)
      // Series counts are per cache (one per worker): each dropped series at least once, at most once per worker.
      const noName = sumOf(m, 'prom_ingest_relabel_series_dropped_total', { reason: 'no_name' })
      expect(noName).toBeGreaterThanOrEqual(1)
      expect(noName).toBeLessThanOrEqual(2)
      const relabeled = sumOf(m, 'prom_ingest_relabel_series_relabeled_total')
      expect(relabeled).toBeGreaterThanOrEqual(2)
      expect(relabeled).toBeLessThanOrEqual(4)
      // Steady state: 4 series were relabeled per worker at most, never once per request.
      expect(sumOf(m, 'prom_ingest_relabel_cache_misses_total')).toBeLessThanOrEqual(10)
      expect(sumOf(m, 'prom_ingest_relabel_cache_bytes')).toBeGreaterThan(0)
    })
  }

  it('leaves a request the rules do not change as it came (its body goes on)', async () => {
    const sink = new BodyRecordingSink()
    service = await startInProcess(['--relabel-configs', JSON.stringify(RULES)], { sink, registry: new Registry() })
    const res = await postWrite(service.url, compressBody(encodeWriteRequest1({ timeseries: [REQUEST[0]!] })))
    expect(res.status).toBe(204)
    expect(sink.bodies[0]?.changed).toBe(false)
    expect(sink.stored[0]!.seriesLabels.map(text)).toEqual(['__name__=kept_total,job=a'])
  })

  it('refuses a relabeled series that breaks a label limit, naming it, and writes the rest', async () => {
    const sink = new BodyRecordingSink()
    const rules = [{ source_labels: ['job'], regex: '(.*)', target_label: 'long', replacement: '${1}${1}${1}' }]
    service = await startInProcess(['--relabel-configs', JSON.stringify(rules), '--max-label-value-bytes', '8'], { sink, registry: new Registry() })
    const res = await postWrite(service.url, compressBody(encodeWriteRequest1({ timeseries: [ts([['__name__', 'a'], ['job', 'xx']]), ts([['__name__', 'b'], ['job', 'xyz']])] })))
    expect(res.status).toBe(400)
    expect(res.headers['x-prom-ingest-error']).toBe('label_value_too_long')
    expect(res.body).toContain('(after relabeling)')
    expect(sink.stored[0]!.seriesLabels.map(text)).toEqual(['__name__=a,job=xx,long=xxxxxx'])
  })
})
