/**
 * Request bodies for the receiver tests, built with the readable encoders of test/fixtures/encode.ts.
 */
import { compressBody, encodeRequest2, encodeWriteRequest1, type Histogram, type TimeSeries1, type TimeSeries2 } from '../fixtures/encode.js'

export const T0 = 1_700_000_000_000

/** `n` series `metric{instance="i<k>",job=...}` with `samplesEach` samples each, as RW 1.0 series. */
export function series1 (n: number, samplesEach = 1, job = 'test', from = 0): TimeSeries1[] {
  const out: TimeSeries1[] = []
  for (let k = from; k < from + n; k++) {
    const samples = []
    for (let s = 0; s < samplesEach; s++) samples.push({ value: k + s / 10, timestamp: T0 + s * 1000 })
    out.push({ labels: [['__name__', 'test_metric'], ['instance', `i${k}`], ['job', job]], samples })
  }
  return out
}

/** A snappy RW 1.0 body of `n` series with `samplesEach` samples each. */
export function body1 (n: number, samplesEach = 1, job = 'test', from = 0): Uint8Array {
  return compressBody(encodeWriteRequest1({ timeseries: series1(n, samplesEach, job, from) }))
}

/** A valid integer native histogram: zero bucket 1 + positive buckets 2 and 2 = count 5. */
export function histogram (timestamp: number): Histogram {
  return {
    kind: 'int',
    count: 5,
    sum: 10,
    schema: 0,
    zeroThreshold: 0.001,
    zeroCount: 1,
    negativeSpans: [],
    negativeBuckets: [],
    positiveSpans: [{ offset: 0, length: 2 }],
    positiveBuckets: [2, 0],
    resetHint: 0,
    timestamp,
    customValues: []
  }
}

/** RW 2.0 series: `floats` float series (2 samples and 1 exemplar each) and `histos` histogram series (1 histogram each). */
export function series2 (floats: number, histos: number): TimeSeries2[] {
  const out: TimeSeries2[] = []
  for (let k = 0; k < floats; k++) {
    out.push({
      labels: [['__name__', 'v2_metric'], ['instance', `i${k}`]],
      samples: [{ value: 1, timestamp: T0 }, { value: 2, timestamp: T0 + 1000 }],
      exemplars: [{ labels: [['trace_id', `t${k}`]], value: 2, timestamp: T0 + 1000 }],
      metadata: { type: 1, help: 'a counter', unit: '' }
    })
  }
  for (let k = 0; k < histos; k++) {
    out.push({ labels: [['__name__', 'v2_histogram'], ['instance', `i${k}`]], histograms: [histogram(T0)] })
  }
  return out
}

export function body2 (floats: number, histos: number): Uint8Array {
  return compressBody(encodeRequest2({ timeseries: series2(floats, histos) }))
}
