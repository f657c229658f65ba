/**
 * Our decoder against the protobufjs oracle on generated requests of both versions: valid requests
 * decode to exactly what protobufjs reads (compressed or not, in every odd-but-legal encoding), and
 * each kind of invalid series fails with its own error code and a message that names the series.
 */
import { describe, expect, it } from 'vitest'
import { fc, test } from '@fast-check/vitest'
import { decodeWriteRequest } from '../../src/decode/decode-write-request.js'
import { CODES, IngestError, type ErrorCode } from '../../src/errors.js'
import type { DecodeOptions } from '../../src/decode/options.js'
import {
  compressBody, encode1, encode2, encodeRequest2, encodeWriteRequest1, sortLabels, staleMarker, STALE_NAN_BITS,
  type Encoding, type Histogram, type LabelPair, type Request2, type TimeSeries1, type TimeSeries2, type WriteRequest1
} from '../fixtures/encode.js'
import { deltasOf, encoding, histogram, request1, request2, sample, series1, series2 } from '../fixtures/arbitraries.js'
import { bitsAt, oracle, rowsOfBatch } from '../fixtures/oracle.js'

type Version = '1.0' | '2.0'

/** Decodes `body` both ways (as sent, snappy; and raw) and checks both against the oracle. */
function expectOracle (body: Uint8Array, version: Version, unknownFields: number, options: DecodeOptions = {}): void {
  const want = oracle(body, version)
  for (const compressed of [true, false]) {
    const batch = decodeWriteRequest(compressed ? compressBody(body) : body, { ...options, version, compressed })
    expect(rowsOfBatch(batch)).toEqual(want)
    expect(batch.invalidSeriesCount).toBe(0)
    expect(batch.ignoredFieldCount).toBe(unknownFields)
  }
}

describe('valid requests decode as protobufjs reads them', () => {
  test.prop([request1], { numRuns: 100 })('RW 1.0, as Prometheus encodes', req => {
    expectOracle(encodeWriteRequest1(req), '1.0', 0)
  })

  test.prop([request2], { numRuns: 100 })('RW 2.0, as Prometheus encodes', req => {
    expectOracle(encodeRequest2(req), '2.0', 0)
  })

  test.prop([request1, encoding], { numRuns: 150 })('RW 1.0, odd-but-legal encodings (unknown fields, order, padding, packing, explicit defaults)', (req, enc) => {
    const { body, unknownFields } = encode1(req, enc)
    expectOracle(body, '1.0', unknownFields)
  })

  test.prop([request2, encoding], { numRuns: 150 })('RW 2.0, odd-but-legal encodings (also a shuffled symbols table)', (req, enc) => {
    const { body, unknownFields } = encode2(req, enc)
    expectOracle(body, '2.0', unknownFields)
  })

  test.prop([request2, encoding, fc.constantFrom<'last' | 'interleaved'>('last', 'interleaved')], { numRuns: 60 })('RW 2.0, symbols after or between the series', (req, enc, symbols) => {
    const { body, unknownFields } = encode2(req, { ...enc, symbols })
    expectOracle(body, '2.0', unknownFields)
  })

  test.prop([fc.oneof(request1.map(r => ['1.0', r] as const), request2.map(r => ['2.0', r] as const)), fc.integer()], { numRuns: 60 })('unknown groups (wire types 3 and 4) anywhere', ([version, req], seed) => {
    const enc: Encoding = { seed, unknownFields: 0.3, groups: true }
    const { body, unknownFields } = version === '1.0' ? encode1(req as WriteRequest1, enc) : encode2(req as Request2, enc)
    expectOracle(body, version, unknownFields)
  })

  it('an empty request is an empty batch, in both versions', () => {
    expectOracle(new Uint8Array(0), '1.0', 0)
    expectOracle(new Uint8Array(0), '2.0', 0)
    expectOracle(encodeRequest2({ timeseries: [] }), '2.0', 0)
  })
})

describe('stale markers keep their exact bits', () => {
  const stale = { value: staleMarker, timestamp: 1_700_000_000_000 }
  const staleHistogram: Histogram = {
    kind: 'int', count: 0, sum: staleMarker, schema: 0, zeroThreshold: 0, zeroCount: 0,
    negativeSpans: [], negativeBuckets: [], positiveSpans: [], positiveBuckets: [], resetHint: 0, timestamp: 1_700_000_000_000, customValues: []
  }
  const cases: Array<[Version, Uint8Array]> = [
    ['1.0', encodeWriteRequest1({ timeseries: [{ labels: [['__name__', 'stale_1'], ['job', 'a']], samples: [stale, stale], exemplars: [{ labels: [], ...stale }], histograms: [staleHistogram] }] })],
    ['2.0', encodeRequest2({ timeseries: [
      { labels: [['__name__', 'stale_2'], ['job', 'a']], samples: [stale, stale], exemplars: [{ labels: [], ...stale }] },
      { labels: [['__name__', 'stale_2h'], ['job', 'a']], histograms: [{ ...staleHistogram, kind: 'float' }] }
    ] })]
  ]
  it.each(cases)('RW %s: samples, exemplars and histogram sums hold 0x7ff0000000000002', (version, body) => {
    for (const compressed of [true, false]) {
      const batch = decodeWriteRequest(compressed ? compressBody(body) : body, { version, compressed })
      expect(batch.sampleCount).toBe(2)
      expect(batch.histogramCount).toBe(1)
      for (let i = 0; i < batch.sampleCount; i++) {
        expect(batch.valueBits(i)).toBe(STALE_NAN_BITS)
        expect(bitsAt(batch.values, i)).toBe(STALE_NAN_BITS)
      }
      expect(bitsAt(batch.exemplarValues, 0)).toBe(STALE_NAN_BITS)
      expect(bitsAt(batch.histogramSums, 0)).toBe(STALE_NAN_BITS)
      // The same 8 bytes are in the buffer the batch hands on (what a sink or another thread sees).
      const raw = new DataView(batch.buffer, batch.values.byteOffset, 8).getBigUint64(0, true)
      expect(raw).toBe(STALE_NAN_BITS)
    }
  })
})

// ---------------------------------------------------------------------------------------------------
// Invalid series

let unique = 0
/** A metric name no other test uses, so that the series is new (limits and checks apply to new series). */
const freshName = (): string => `invalid_${process.pid}_${++unique}`

/** A series label set with a fresh __name__ and at least `min` other labels with plain ASCII names. */
const plainLabels = (min: number): fc.Arbitrary<LabelPair[]> =>
  fc.uniqueArray(fc.tuple(fc.stringMatching(/^[a-z][a-z0-9_]{0,10}$/), fc.string({ maxLength: 8 })), { selector: l => l[0], minLength: min, maxLength: min + 4 })
    .map(rest => sortLabels<LabelPair>([['__name__', freshName()], ...rest]))

interface Corruption {
  readonly code: ErrorCode
  /** The labels to send instead (raw bytes allowed), the options, and words the message must contain. */
  readonly labels: (labels: LabelPair[]) => LabelPair[]
  readonly options?: DecodeOptions
  readonly mentions?: (labels: LabelPair[]) => string[]
  readonly min?: number
}

const at = <T>(l: readonly T[], i: number): T => l[i]!
const nameOf = (l: LabelPair): string => l[0] as string

const corruptions: Record<string, Corruption> = {
  'labels not sorted (with rejectUnsortedLabels; by default they are sorted)': {
    code: 'labels_unsorted',
    options: { rejectUnsortedLabels: true },
    min: 2,
    labels: l => { const c = [...l]; const i = c.length - 2; [c[i], c[i + 1]] = [at(c, i + 1), at(c, i)]; return c },
    mentions: l => [nameOf(at(l, l.length - 1)), nameOf(at(l, l.length - 2))]
  },
  'a label name twice': {
    code: 'labels_duplicate',
    min: 1,
    labels: l => [...l, [at(l, l.length - 1)[0], 'again']],
    mentions: l => [nameOf(at(l, l.length - 1))]
  },
  'no __name__': {
    code: 'metric_name_missing',
    min: 1,
    labels: l => l.filter(([n]) => n !== '__name__'),
    mentions: () => ['__name__']
  },
  'an empty __name__': {
    code: 'metric_name_missing',
    min: 1,
    labels: l => l.map(([n, v]) => [n, n === '__name__' ? '' : v] as const),
    mentions: () => ['__name__']
  },
  'no labels at all': { code: 'labels_empty', labels: () => [] },
  'an empty label name': {
    code: 'label_name_empty',
    labels: l => [['', 'v'], ...l]
  },
  'a label name that is not UTF-8': {
    code: 'label_name_utf8',
    labels: l => sortLabels<LabelPair>([...l, [Uint8Array.from([0x7a, 0x7a, 0xc3, 0x28]), 'v']])
  },
  'a label name with a UTF-8-encoded surrogate': {
    code: 'label_name_utf8',
    labels: l => sortLabels<LabelPair>([...l, [Uint8Array.from([0x7a, 0xed, 0xa0, 0x80]), 'v']])
  },
  'a label value that is not UTF-8': {
    code: 'label_value_utf8',
    min: 1,
    labels: l => l.map(([n, v], i) => [n, i === l.length - 1 ? Uint8Array.from([0x61, 0xff, 0x62]) : v] as const),
    mentions: l => [nameOf(at(l, l.length - 1))]
  },
  'an overlong UTF-8 value': {
    code: 'label_value_utf8',
    min: 1,
    labels: l => l.map(([n, v], i) => [n, i === l.length - 1 ? Uint8Array.from([0xc0, 0xaf]) : v] as const),
    mentions: l => [nameOf(at(l, l.length - 1))]
  },
  'more labels than the limit': {
    code: 'too_many_labels',
    min: 3,
    labels: l => l,
    options: { maxLabelsPerSeries: 3 },
    mentions: () => ['3']
  },
  'a name longer than the limit': {
    code: 'label_name_too_long',
    labels: l => sortLabels<LabelPair>([...l, ['n'.repeat(33), 'v']]),
    options: { maxLabelNameBytes: 32 }
  },
  'a value longer than the limit': {
    code: 'label_value_too_long',
    min: 1,
    labels: l => l.map(([n, v], i) => [n, i === l.length - 1 ? 'v'.repeat(101) : v] as const),
    options: { maxLabelValueBytes: 100 },
    mentions: l => [nameOf(at(l, l.length - 1))]
  },
  'a dotted name in legacy mode': {
    code: 'label_name_invalid',
    labels: l => sortLabels<LabelPair>([...l, ['http.method', 'GET']]),
    options: { legacyNames: true },
    mentions: () => ['http.method']
  }
}

/** A request of valid series with the series at `pos` replaced by `bad`; returns the body and the 1-based ordinal. */
function withBadSeries1 (valid: TimeSeries1[], pos: number, bad: LabelPair[]): { body: Uint8Array, ordinal: number } {
  const i = pos % (valid.length + 1)
  const timeseries = [...valid.slice(0, i), { labels: bad, samples: [{ value: 1, timestamp: 1 }] }, ...valid.slice(i)]
  return { body: encodeWriteRequest1({ timeseries }), ordinal: i + 1 }
}

function withBadSeries2 (valid: TimeSeries2[], pos: number, bad: TimeSeries2): { body: Uint8Array, ordinal: number } {
  const i = pos % (valid.length + 1)
  return { body: encodeRequest2({ timeseries: [...valid.slice(0, i), bad, ...valid.slice(i)] }), ordinal: i + 1 }
}

/** The decode must fail with `code`, and the message must name the series (ordinal) and what is wrong. */
function expectError (body: Uint8Array, version: Version, options: DecodeOptions, code: ErrorCode, mentions: string[]): IngestError {
  let caught: unknown
  try {
    decodeWriteRequest(body, { ...options, version, compressed: false })
  } catch (err) {
    caught = err
  }
  expect(caught).toBeInstanceOf(IngestError)
  const e = caught as IngestError
  expect({ code: e.code, message: e.message }).toEqual({ code, message: expect.any(String) })
  expect(Object.keys(CODES)).toContain(e.code)
  for (const m of mentions) expect(e.message).toContain(m)
  return e
}

/**
 * Valid series to put around the bad one. Where a corruption sets limits or legacy names, they must
 * pass those too: plain names, at most 3 labels, short values.
 */
const modestLabels: fc.Arbitrary<LabelPair[]> = fc.uniqueArray(fc.tuple(fc.stringMatching(/^[a-z][a-z0-9_]{0,10}$/), fc.string({ maxLength: 8 })), { selector: l => l[0], maxLength: 2 })
  .map(rest => sortLabels<LabelPair>([['__name__', 'ok_' + String(rest.length)], ...rest]))

describe.each(Object.entries(corruptions))('an invalid series: %s', (_what, c) => {
  const valid1 = c.options === undefined ? fc.array(series1, { maxLength: 3 }) : fc.array(modestLabels.map(labels => ({ labels, samples: [{ value: 1, timestamp: 1 }] })), { maxLength: 3 })
  const valid2 = c.options === undefined ? fc.array(series2, { maxLength: 3 }) : fc.array(modestLabels.map(labels => ({ labels, samples: [{ value: 1, timestamp: 1 }] })), { maxLength: 3 })

  test.prop([plainLabels(c.min ?? 0), valid1, fc.nat()], { numRuns: 25 })('RW 1.0', (labels, valid, pos) => {
    const { body, ordinal } = withBadSeries1(valid, pos, c.labels(labels))
    expectError(body, '1.0', c.options ?? {}, c.code, [`series ${ordinal}`, ...(c.mentions?.(labels) ?? [])])
  })

  test.prop([plainLabels(c.min ?? 0), valid2, fc.nat()], { numRuns: 25 })('RW 2.0', (labels, valid, pos) => {
    const { body, ordinal } = withBadSeries2(valid, pos, { labels: c.labels(labels), samples: [{ value: 1, timestamp: 1 }] })
    expectError(body, '2.0', c.options ?? {}, c.code, [`series ${ordinal}`, ...(c.mentions?.(labels) ?? [])])
  })
})

describe('invalid RW 2.0 requests', () => {
  test.prop([plainLabels(1), fc.array(series2, { maxLength: 3 }), fc.nat(), fc.integer({ min: 0, max: 1000 })], { numRuns: 30 })('a label ref outside the symbols table', (labels, valid, pos, past) => {
    // The refs of the bad series point `past` symbols beyond the end of the table (raw refs add no symbols).
    const symbols = countSymbols(withBadSeries2(valid, pos, { labels, labelsRefs: [0, 0, 0, 0] }).body)
    const { body, ordinal } = withBadSeries2(valid, pos, { labels, labelsRefs: [0, 0, symbols + past, 0], samples: [{ value: 1, timestamp: 1 }] })
    expectError(body, '2.0', {}, 'symbol_ref_out_of_range', [`series ${ordinal}`, String(symbols + past)])
  })

  test.prop([fc.array(series2, { maxLength: 3 }), fc.nat()], { numRuns: 20 })('an odd number of label refs', (valid, pos) => {
    const { body, ordinal } = withBadSeries2(valid, pos, { labels: [], labelsRefs: [0], samples: [{ value: 1, timestamp: 1 }] })
    expectError(body, '2.0', {}, 'label_refs_odd', [`series ${ordinal}`])
  })

  test.prop([fc.array(series2, { minLength: 1, maxLength: 3 }), fc.string({ minLength: 1 })], { numRuns: 20 })('a first symbol that is not the empty string', (valid, first) => {
    const body = encodeRequest2({ symbols: [first], timeseries: valid })
    expectError(body, '2.0', {}, 'symbol_zero_not_empty', ['first symbol'])
  })

  test.prop([plainLabels(0), fc.array(series2, { maxLength: 3 }), fc.nat(), histogram(true)], { numRuns: 30 })('a series with samples and histograms', (labels, valid, pos, h) => {
    const { body, ordinal } = withBadSeries2(valid, pos, { labels, samples: [{ value: 1, timestamp: 1 }], histograms: [h] })
    expectError(body, '2.0', {}, 'series_samples_and_histograms', [`series ${ordinal}`, at(labels, 0)[1] as string])
  })
})

describe('histograms whose count disagrees with their buckets', () => {
  /** A histogram with buckets adding up to `total`, and a count of `total + by`. */
  const miscounted = (kind: 'int' | 'float', by: number, sum: number): Histogram => {
    const counts = [3, 0, 5]
    const total = 2 + 8
    return {
      kind, count: total + by, sum, schema: 1, zeroThreshold: 0.001, zeroCount: 2,
      negativeSpans: [], negativeBuckets: [], positiveSpans: [{ offset: -2, length: 3 }],
      positiveBuckets: kind === 'int' ? deltasOf(counts) : counts,
      resetHint: 0, timestamp: 1000, customValues: []
    }
  }
  const cases: Array<[string, Histogram]> = [
    ['an integer histogram with a count below its buckets', miscounted('int', -1, 12.5)],
    ['an integer histogram with a count above its buckets (sum not NaN)', miscounted('int', 1, 12.5)],
    ['a float histogram with a count below its buckets', miscounted('float', -1.5, 12.5)]
  ]
  describe.each(cases)('%s', (_what, h) => {
    it.each(['1.0', '2.0'] as const)('RW %s', version => {
      const name = freshName()
      const body = version === '1.0'
        ? encodeWriteRequest1({ timeseries: [{ labels: [['__name__', name]], histograms: [h] }] })
        : encodeRequest2({ timeseries: [{ labels: [['__name__', name]], histograms: [h] }] })
      expectError(body, version, {}, 'histogram_count_mismatch', ['series 1', name, String(h.count)])
    })
  })

  it('a NaN sum allows a count above the buckets (observations of NaN), as Prometheus does', () => {
    const body = encodeWriteRequest1({ timeseries: [{ labels: [['__name__', freshName()]], histograms: [miscounted('int', 1, NaN)] }] })
    expect(decodeWriteRequest(body, { compressed: false }).histogramCount).toBe(1)
  })
})

describe('lax UTF-8 mode', () => {
  it('lets a non-UTF-8 label value through when strictUtf8 is false', () => {
    const body = encodeWriteRequest1({ timeseries: [{ labels: [['__name__', freshName()], ['v', Uint8Array.from([0xff])]], samples: [{ value: 1, timestamp: 1 }] }] })
    expectError(body, '1.0', {}, 'label_value_utf8', ['series 1'])
    expect(decodeWriteRequest(body, { compressed: false, strictUtf8: false }).seriesCount).toBe(1)
  })
})

describe('partial: true keeps the valid series', () => {
  const badKinds = Object.entries(corruptions).filter(([, c]) => c.options === undefined)

  test.prop([
    fc.array(fc.tuple(series1, fc.boolean(), fc.constantFrom(...badKinds), plainLabels(3)), { minLength: 1, maxLength: 6 })
  ], { numRuns: 60 })('RW 1.0', entries => {
    const all: TimeSeries1[] = entries.map(([s, bad, [, c], l]) => bad ? { ...s, labels: c.labels(l) } : s)
    const good = all.filter((_s, i) => !at(entries, i)[1])
    checkPartial('1.0', encodeWriteRequest1({ timeseries: all }), encodeWriteRequest1({ timeseries: good }), entries.map(([, bad, [, c]]) => bad ? c.code : undefined))
  })

  test.prop([
    fc.array(fc.tuple(series2, fc.boolean(), fc.constantFrom(...badKinds), plainLabels(3)), { minLength: 1, maxLength: 6 })
  ], { numRuns: 60 })('RW 2.0', entries => {
    const all: TimeSeries2[] = entries.map(([s, bad, [, c], l]) => bad ? { ...s, labels: c.labels(l) } : s)
    const good = all.filter((_s, i) => !at(entries, i)[1])
    checkPartial('2.0', encodeRequest2({ timeseries: all }), encodeRequest2({ timeseries: good }), entries.map(([, bad, [, c]]) => bad ? c.code : undefined))
  })

  function checkPartial (version: Version, body: Uint8Array, goodOnly: Uint8Array, codes: Array<ErrorCode | undefined>): void {
    const batch = decodeWriteRequest(body, { version, compressed: false, partial: true })
    const bad = codes.filter(c => c !== undefined)
    const want = oracle(goodOnly, version)
    // Metadata of an invalid RW 2.0 series is dropped with it; RW 1.0 metadata is not tied to a series.
    expect(rowsOfBatch(batch)).toEqual(want)
    expect(batch.invalidSeriesCount).toBe(bad.length)
    if (bad.length === 0) expect(batch.firstError).toBeUndefined()
    else {
      const first = codes.findIndex(c => c !== undefined)
      expect(batch.firstError).toMatchObject({ code: bad[0], message: expect.stringContaining(`series ${first + 1}`) })
    }
  }
})

describe('one series id per label set', () => {
  test.prop([fc.array(sample(false), { minLength: 1, maxLength: 5 })], { numRuns: 20 })('the same labels in RW 1.0 and RW 2.0 get the same id', samples => {
    const labels: LabelPair[] = [['__name__', freshName()], ['job', 'x']]
    const a = decodeWriteRequest(encodeWriteRequest1({ timeseries: [{ labels, samples }] }), { compressed: false })
    const b = decodeWriteRequest(encodeRequest2({ timeseries: [{ labels, samples }] }), { compressed: false, version: '2.0' })
    expect(a.seriesRefs[0]).toBeGreaterThan(0)
    expect(b.seriesRefs[0]).toBe(a.seriesRefs[0])
    expect(a.newSeriesCount).toBe(1)
    expect(b.newSeriesCount).toBe(0)
  })
})

/** How many symbols the encoder put in a RW 2.0 body (field 4 of Request). */
function countSymbols (body: Uint8Array): number {
  let n = 0
  let pos = 0
  const varint = (): number => { let v = 0; let s = 1; for (;;) { const x = body[pos++]!; v += (x & 0x7f) * s; if (x < 0x80) return v; s *= 128 } }
  while (pos < body.length) {
    const tag = varint()
    const len = varint()
    if (tag === 0x22) n++
    pos += len
  }
  return n
}

