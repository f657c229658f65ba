/**
 * The shared sample body (../shared/data/write-request-10k.pb, uncompressed RW 1.0, 10,000 series):
 * decoded, it has the counts the shared README gives, and protobufjs agrees row for row.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { decodeWriteRequest } from '../../src/decode/decode-write-request.js'
import { compressBody } from '../fixtures/encode.js'
import { oracle, rowsOfBatch } from '../fixtures/oracle.js'

const file = new URL('../../../shared/data/write-request-10k.pb', import.meta.url)

describe('write-request-10k.pb', () => {
  // The file lives beside the project (../shared) on every developer machine and in CI: no skip when it is missing.
  it('decodes to 10,000 series, 10,000 samples, 64,383 labels and the known timestamp sum', () => {
    const body = new Uint8Array(readFileSync(file))
    expect(body.length).toBe(1_690_278)
    for (const compressed of [false, true]) {
      const batch = decodeWriteRequest(compressed ? compressBody(body) : body, { compressed })
      expect(batch.seriesCount).toBe(10_000)
      expect(batch.sampleCount).toBe(10_000)
      expect(batch.exemplarCount + batch.histogramCount + batch.metadataCount).toBe(0)
      let labels = 0
      const distinct = new Set<number>()
      for (let i = 0; i < batch.seriesCount; i++) {
        const id = batch.seriesRefs[i]!
        distinct.add(id)
        labels += batch.labelsOf(id)!.length
      }
      expect(distinct.size).toBe(10_000)
      expect(labels).toBe(64_383)
      // Each timestamp is an exact integer below 2^53, their sum is not: add them as BigInts.
      let sum = 0n
      for (let i = 0; i < batch.sampleCount; i++) sum += BigInt(batch.timestamps[i]!)
      expect(sum).toBe(17_093_805_594_622_430n)
      // The second decode finds every series known: no new series, same ids.
      expect(batch.newSeriesCount).toBe(compressed ? 0 : 10_000)
    }
  })

  it('decodes to what protobufjs reads, row for row', () => {
    const body = new Uint8Array(readFileSync(file))
    expect(rowsOfBatch(decodeWriteRequest(body, { compressed: false }))).toEqual(oracle(body, '1.0'))
  })
})
