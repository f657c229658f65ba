/**
 * Fuzz: 100,000 mutated or truncated valid bodies per run (both versions, raw and snappy, random
 * options). Each decodes or fails with the project's error; nothing else is thrown, nothing hangs (a
 * watchdog kills the run and names the case if one stalls), and the heap stays bounded.
 * The seed changes every run and is printed; FUZZ_SEED replays one. bench/fuzz.ts runs millions.
 */
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { afterAll, describe, expect, it } from 'vitest'
import { decodeWriteRequest } from '../../src/decode/decode-write-request.js'
import { CODES } from '../../src/errors.js'
import { buildCorpus, runFuzz, type CorpusEntry } from '../fixtures/fuzz-run.js'
import { Watchdog } from '../fixtures/watchdog.js'

const CASES = 100_000
const seed = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : Math.floor(Math.random() * 2 ** 31)

// A full collection before each heap reading, so that the readings compare live data, not garbage.
setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

describe(`fuzz (seed ${seed})`, () => {
  const watchdog = new Watchdog(`fuzz seed ${seed}`)
  afterAll(async () => { await watchdog.stop() })

  let corpus: CorpusEntry[] = []

  it('has a corpus of valid bodies of both versions that decode', () => {
    corpus = buildCorpus(seed)
    expect(corpus.length).toBeGreaterThanOrEqual(32)
    expect(new Set(corpus.map(e => e.version))).toEqual(new Set(['1.0', '2.0']))
    for (const e of corpus) {
      expect(decodeWriteRequest(e.raw, { version: e.version, compressed: false }).invalidSeriesCount).toBe(0)
      expect(decodeWriteRequest(e.compressed, { version: e.version }).invalidSeriesCount).toBe(0)
    }
  })

  it(`${CASES} mutated or truncated bodies: each decodes or throws an IngestError with a known code`, () => {
    const decode = decodeWriteRequest
    // Warm up (code, buffers, series index) before the first heap reading.
    runFuzz({ seed: seed + 1, count: 5_000, corpus, decode })
    gc()
    const heapBefore = process.memoryUsage().heapUsed

    const report = runFuzz({ seed, count: CASES, corpus, decode, onCase: n => watchdog.tick(n) })

    gc()
    const heapGrowth = process.memoryUsage().heapUsed - heapBefore
    const rejected = Object.values(report.rejected).reduce((a, b) => a + b, 0)
    console.log(`fuzz seed ${seed}: ${report.cases} cases, ${report.decoded} decoded, ${rejected} rejected ${JSON.stringify(report.rejected)}, heap +${(heapGrowth / 2 ** 20).toFixed(1)} MiB`)

    expect(report.findings, `replay with FUZZ_SEED=${seed}; fuzzCase(corpus, seed, n) rebuilds case n`).toEqual([])
    expect(report.cases).toBe(CASES)
    expect(report.decoded + rejected).toBe(CASES)
    for (const code of Object.keys(report.rejected)) expect(Object.keys(CODES)).toContain(code)
    // Both outcomes occur: the mutations are neither all harmless nor all fatal.
    expect(report.decoded).toBeGreaterThan(CASES / 100)
    expect(rejected).toBeGreaterThan(CASES / 10)
    // Bodies are a few KiB: a leak of even a few bytes per case would show here.
    expect(heapGrowth).toBeLessThan(32 * 2 ** 20)
  })
})
