/**
 * The gateway decode (`validateOnly`, label-check.ts) against the full decode: on the fuzz corpus and
 * its mutated bodies, on generated requests in every odd-but-legal encoding, and on each kind of
 * invalid series, it accepts exactly what the full decode accepts, fails with the same code, message
 * and detail, and gives the same counts; it never touches the series index (unless a partial request
 * is decoded again in full), and its batch carries the counts only.
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { Decoder } from '../../src/decode/decoder.js'
import { resolveDecodeOptions, type DecodeOptions } from '../../src/decode/options.js'
import { RowBatch } from '../../src/batch/row-batch.js'
import { IngestError } from '../../src/errors.js'
import { SeriesIndex } from '../../src/series/series-index.js'
import { encode1, encode2, encodeRequest2, encodeWriteRequest1, sortLabels, type LabelPair, type TimeSeries2 } from '../fixtures/encode.js'
import { encoding, request1, request2 } from '../fixtures/arbitraries.js'
import { buildCorpus, fuzzCase } from '../fixtures/fuzz-run.js'

type Outcome =
  | { error: { code: string, message: string, detail: unknown } }
  | { counts: Record<string, number>, firstError: unknown, rowsOmitted: boolean }

/** What a decode gives, in the terms both decodes must agree on (not newSeriesCount: the gateway has no new series). */
function outcome (decoder: Decoder, body: Uint8Array, options: DecodeOptions): Outcome {
  const o = resolveDecodeOptions(options)
  try {
    const { buffer, firstError } = decoder.decode(body, o)
    if (firstError !== undefined && !o.partial) throw IngestError.fromWire(firstError)
    const b = new RowBatch(buffer, { tenant: o.tenant, firstError })
    const counts = {
      series: b.seriesCount, samples: b.sampleCount, histograms: b.histogramCount, exemplars: b.exemplarCount, metadata: b.metadataCount,
      invalid: b.invalidSeriesCount, limited: b.limitedSeriesCount, ignored: b.ignoredFieldCount,
      decompressed: b.counts.decompressedBytes, compressed: b.counts.compressedBytes
    }
    return { counts, firstError, rowsOmitted: b.rowsOmitted }
  } catch (err) {
    if (!(err instanceof IngestError)) throw err
    return { error: { code: err.code, message: err.message, detail: err.detail } }
  }
}

interface Decoders { readonly full: Decoder, readonly gateway: Decoder, readonly gatewayIndex: SeriesIndex }

/**
 * A full decoder and a gateway decoder per set of label rules, as in a service (one set of rules: a
 * series stored under some rules is not checked again under others). The gateway decoder's index is
 * used only when a partial request is decoded again in full.
 */
class Pair {
  private readonly decoders = new Map<string, Decoders>()
  fallbacks = 0
  compared = 0
  rejected = 0

  private decodersFor (o: DecodeOptions): Decoders {
    const r = resolveDecodeOptions(o)
    const key = [r.strictUtf8, r.legacyNames, r.rejectUnsortedLabels, r.maxLabelsPerSeries, r.maxLabelNameBytes, r.maxLabelValueBytes, r.maxSeriesKeyBytes, r.tenant].join('|')
    let d = this.decoders.get(key)
    if (d === undefined) {
      const gatewayIndex = SeriesIndex.create({ maxSeries: 1 << 14 })
      d = { full: new Decoder(SeriesIndex.create({ maxSeries: 1 << 14 })), gateway: new Decoder(gatewayIndex), gatewayIndex }
      this.decoders.set(key, d)
    }
    return d
  }

  /** Decodes `body` in full (series new, then known) and in the gateway; expects the same outcome. */
  check (body: Uint8Array, options: DecodeOptions, what: string): Outcome {
    const { full, gateway, gatewayIndex } = this.decodersFor(options)
    const first = outcome(full, body, options)
    const again = outcome(full, body, options) // the series are known now: the full decode skips their checks
    const sizeBefore = gatewayIndex.size
    const gw = outcome(gateway, body, { ...options, validateOnly: true })
    this.compared++
    const strip = (x: Outcome): unknown => 'error' in x ? x : { counts: x.counts, firstError: x.firstError }
    expect(strip(gw), what).toEqual(strip(first))
    expect(strip(gw), `${what} (series known to the full decode)`).toEqual(strip(again))
    if ('error' in gw) {
      this.rejected++
    } else if (gw.counts.invalid > 0) {
      // Decoded again in full: the batch has rows (the sink encodes the valid series from them).
      this.fallbacks++
      expect(gw.rowsOmitted, what).toBe(false)
    } else {
      expect(gw.rowsOmitted, what).toBe(true)
      expect(gatewayIndex.size, `${what}: the gateway decode stored series`).toBe(sizeBefore)
    }
    return gw
  }
}

describe('the gateway decode agrees with the full decode', () => {
  it('on the fuzz corpus and 20,000 mutated or truncated bodies (raw and snappy, random options)', () => {
    const seed = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : Math.floor(Math.random() * 2 ** 31)
    const corpus = buildCorpus(seed)
    const pair = new Pair()
    for (const e of corpus) {
      pair.check(e.raw, { version: e.version, compressed: false }, `corpus body (seed ${seed})`)
      pair.check(e.compressed, { version: e.version }, `corpus body, snappy (seed ${seed})`)
    }
    for (let n = 0; n < 20_000; n++) {
      const c = fuzzCase(corpus, seed, n)
      pair.check(c.body, c.options, `fuzz seed ${seed} case ${n} (${c.mode}, ${JSON.stringify(c.options)}): replay with FUZZ_SEED=${seed}`)
    }
    // Both outcomes, and partial requests decoded again in full, occur: the comparison covered each path.
    expect(pair.rejected).toBeGreaterThan(1000)
    expect(pair.compared - pair.rejected).toBeGreaterThan(1000)
    expect(pair.fallbacks).toBeGreaterThan(0)
  })

  it('on generated requests of both versions, in odd-but-legal encodings', () => {
    const pair = new Pair()
    const reqs1 = fc.sample(fc.tuple(request1, encoding), { seed: 11, numRuns: 200 })
    const reqs2 = fc.sample(fc.tuple(request2, encoding), { seed: 12, numRuns: 200 })
    for (const [req, enc] of reqs1) {
      pair.check(encodeWriteRequest1(req), { version: '1.0', compressed: false }, 'RW 1.0 as Prometheus encodes')
      pair.check(encode1(req, enc).body, { version: '1.0', compressed: false }, `RW 1.0 ${JSON.stringify(enc)}`)
    }
    for (const [req, enc] of reqs2) {
      pair.check(encodeRequest2(req), { version: '2.0', compressed: false }, 'RW 2.0 as Prometheus encodes')
      pair.check(encode2(req, enc).body, { version: '2.0', compressed: false }, `RW 2.0 ${JSON.stringify(enc)}`)
    }
    expect(pair.rejected).toBe(0)
  })

  // Each kind of invalid label set, in both versions, alone (throws) and among valid series (partial).
  const name = (s: string): LabelPair => ['__name__', s]
  const long = 'v'.repeat(300) // a two-byte length in the canonical form
  const labelCases: Array<[string, LabelPair[], DecodeOptions?]> = [
    ['valid, sorted', [name('ok'), ['a', '1'], ['job', 'j']]],
    ['valid, with a long value (two-byte lengths)', [name('ok_long'), ['a', long], ['job', 'j']]],
    ['valid, non-ASCII text', [name('ök'), ['ä', 'ü'], ['job', '日本語']]],
    ['valid, an empty value', [name('ok_empty'), ['a', ''], ['job', 'j']]],
    ['unsorted (sorted, as Prometheus does)', [['job', 'j'], name('unsorted'), ['a', '1']]],
    ['unsorted with rejectUnsortedLabels', [['job', 'j'], name('unsorted'), ['a', '1']], { rejectUnsortedLabels: true }],
    ['a name twice', [name('dup'), ['a', '1'], ['a', '2']]],
    ['a name twice, unsorted', [['a', '1'], name('dup'), ['a', '2']]],
    ['no __name__', [['a', '1'], ['job', 'j']]],
    ['an empty __name__', [name(''), ['a', '1']]],
    ['no labels', []],
    ['an empty name', [['', 'v'], name('x')]],
    ['a name not UTF-8', [name('x'), [Uint8Array.from([0x7a, 0xc3, 0x28]), 'v']]],
    ['a value not UTF-8', [name('x'), ['a', Uint8Array.from([0x61, 0xff])]]],
    ['a value not UTF-8, lax', [name('x'), ['a', Uint8Array.from([0x61, 0xff])]], { strictUtf8: false }],
    ['an overlong value', [name('x'), ['a', Uint8Array.from([0xc0, 0xaf])]]],
    ['too many labels', [name('x'), ['a', '1'], ['b', '2'], ['c', '3']], { maxLabelsPerSeries: 3 }],
    ['a name too long', [name('x'), ['n'.repeat(33), 'v']], { maxLabelNameBytes: 32 }],
    ['a value too long', [name('x'), ['a', 'v'.repeat(101)]], { maxLabelValueBytes: 100 }],
    ['a dotted name in legacy mode', [name('x'), ['http.method', 'GET']], { legacyNames: true }],
    ['a valid name in legacy mode', [name('x'), ['http_method', 'GET']], { legacyNames: true }],
    ['a key too long', [name('x'), ['a', long], ['b', long]], { maxSeriesKeyBytes: 500 }],
    ['a key too long with a tenant', [name('x'), ['a', 'v'.repeat(90)]], { maxSeriesKeyBytes: 110, tenant: 'team-a' }]
  ]
  const valid: LabelPair[][] = [[name('before'), ['job', 'j']], [name('after'), ['job', 'k']]]

  it.each(labelCases)('%s', (_what, labels, options = {}) => {
    const pair = new Pair()
    for (const partial of [false, true]) {
      const series1 = [...valid.slice(0, 1), labels, ...valid.slice(1)].map(l => ({ labels: l, samples: [{ value: 1, timestamp: 1 }] }))
      pair.check(encodeWriteRequest1({ timeseries: series1 }), { ...options, version: '1.0', compressed: false, partial }, `1.0 partial ${partial}`)
      pair.check(encodeWriteRequest1({ timeseries: series1.slice(1, 2) }), { ...options, version: '1.0', compressed: false, partial }, `1.0 alone, partial ${partial}`)
      const series2: TimeSeries2[] = [...valid.slice(0, 1), labels, ...valid.slice(1)].map(l => ({ labels: l, samples: [{ value: 1, timestamp: 1 }] }))
      pair.check(encodeRequest2({ timeseries: series2 }), { ...options, version: '2.0', compressed: false, partial }, `2.0 partial ${partial}`)
    }
  })

  it('rows found invalid after the labels were checked in place name the series (exemplar, histogram, metadata)', () => {
    const pair = new Pair()
    const labels: LabelPair[] = sortLabels([name('rows'), ['job', 'j']])
    const badExemplar = { labels: [['', 'x']] as LabelPair[], value: 1, timestamp: 1 }
    const badHistogram = { kind: 'int' as const, count: 5, sum: 1, schema: 0, zeroThreshold: 0, zeroCount: 0, negativeSpans: [], negativeBuckets: [], positiveSpans: [], positiveBuckets: [], resetHint: 0, timestamp: 2, customValues: [] }
    for (const partial of [false, true]) {
      const o = { compressed: false, partial }
      const ex = pair.check(encodeWriteRequest1({ timeseries: [{ labels, samples: [{ value: 1, timestamp: 1 }], exemplars: [badExemplar] }] }), { ...o, version: '1.0' }, '1.0 exemplar')
      const hi = pair.check(encodeWriteRequest1({ timeseries: [{ labels, histograms: [badHistogram] }] }), { ...o, version: '1.0' }, '1.0 histogram')
      pair.check(encodeRequest2({ timeseries: [{ labels, samples: [{ value: 1, timestamp: 1 }], exemplars: [badExemplar] }] }), { ...o, version: '2.0' }, '2.0 exemplar')
      pair.check(encodeRequest2({ timeseries: [{ labels, histograms: [badHistogram] }] }), { ...o, version: '2.0' }, '2.0 histogram')
      pair.check(encodeRequest2({ timeseries: [{ labels, samples: [{ value: 1, timestamp: 1 }], metadata: { type: 1, help: 'h', unit: 'u', helpRef: 999 } }] }), { ...o, version: '2.0' }, '2.0 metadata')
      pair.check(encodeRequest2({ timeseries: [{ labels, samples: [{ value: 1, timestamp: 1 }], metadata: { type: 1, help: 'h', unit: 'u' } }] }), { ...o, version: '2.0' }, '2.0 valid metadata')
      pair.check(encodeRequest2({ timeseries: [{ labels, samples: [{ value: 1, timestamp: 1 }] }, { labels, labelsRefs: [1, 2, 3] }] }), { ...o, version: '2.0' }, '2.0 odd refs')
      pair.check(encodeRequest2({ timeseries: [{ labels, samples: [{ value: 1, timestamp: 1 }] }, { labels, labelsRefs: [1, 999] }] }), { ...o, version: '2.0' }, '2.0 ref out of range')
      pair.check(encodeRequest2({ timeseries: [{ labels, samples: [{ value: 1, timestamp: 1 }], histograms: [{ ...badHistogram, count: 0 }] }] }), { ...o, version: '2.0' }, '2.0 samples and histograms')
      for (const x of [ex, hi]) {
        const message = 'error' in x ? x.error.message : String((x.firstError as { message: string }).message)
        expect(message).toContain('rows')
      }
    }
  })
})
