import { describe, expect, it } from 'vitest'
import { decodeWriteRequest } from '../../src/decode/decode-write-request.js'
import { encodeRequest2, encodeWriteRequest1, type LabelPair } from '../fixtures/encode.js'

const sorted: LabelPair[] = [['__name__', 'label_order_metric'], ['env', 'prod'], ['instance', 'a:9100'], ['job', 'node']]
const shuffled: LabelPair[] = [['job', 'node'], ['__name__', 'label_order_metric'], ['instance', 'a:9100'], ['env', 'prod']]
const sample = [{ value: 1, timestamp: 1_700_000_000_000 }]

describe('label order', () => {
  it('sorts labels sent out of order into the series of the sorted label set, in both versions', () => {
    const a = decodeWriteRequest(encodeWriteRequest1({ timeseries: [{ labels: sorted, samples: sample }] }), { compressed: false })
    const b = decodeWriteRequest(encodeWriteRequest1({ timeseries: [{ labels: shuffled, samples: sample }] }), { compressed: false })
    const c = decodeWriteRequest(encodeRequest2({ timeseries: [{ labels: shuffled, samples: sample }] }), { compressed: false, version: '2.0' })
    expect(b.seriesIds[0]).toBe(a.seriesIds[0])
    expect(c.seriesIds[0]).toBe(a.seriesIds[0])
    expect(b.labelsOf(b.seriesIds[0]!)).toEqual(sorted)
    expect(b.newSeriesCount + c.newSeriesCount).toBe(0)
  })

  it('stores a series first seen out of order with its labels sorted', () => {
    const name: LabelPair = ['__name__', 'label_order_first_unsorted']
    const batch = decodeWriteRequest(encodeRequest2({ timeseries: [{ labels: [['zone', 'z'], name, ['app', 'x']], samples: sample }] }), { compressed: false, version: '2.0' })
    expect(batch.newSeriesCount).toBe(1)
    expect(batch.labelsOf(batch.newSeriesIds[0]!)).toEqual([name, ['app', 'x'], ['zone', 'z']])
  })

  it('still rejects a label name sent twice, wherever the copies stand', () => {
    const dup: LabelPair[] = [['job', 'a'], ['__name__', 'label_order_dup'], ['job', 'b']]
    expect(() => decodeWriteRequest(encodeWriteRequest1({ timeseries: [{ labels: dup, samples: sample }] }), { compressed: false }))
      .toThrow(expect.objectContaining({ code: 'labels_duplicate', message: expect.stringContaining('"job"') }))
  })

  it('rejects unsorted labels with labels_unsorted when asked to', () => {
    expect(() => decodeWriteRequest(encodeWriteRequest1({ timeseries: [{ labels: [['job', 'x'], ['__name__', 'label_order_strict']], samples: sample }] }), { compressed: false, rejectUnsortedLabels: true }))
      .toThrow(expect.objectContaining({ code: 'labels_unsorted', message: expect.stringContaining('"__name__" comes after "job"') }))
  })
})
