/**
 * The generated 10,000-series body (test/fixtures/node-exporter-body.ts, uncompressed RW 1.0): decoded,
 * raw and snappy, it has the counts the generator describes, and protobufjs agrees row for row.
 */
import { describe, expect, it } from 'vitest'
import { decodeWriteRequest } from '../../src/decode/decode-write-request.js'
import { compressBody } from '../fixtures/encode.js'
import { nodeExporterBody } from '../fixtures/node-exporter-body.js'
import { modelOf1, oracle, rowsOfBatch } from '../fixtures/oracle.js'

const { body, description, request } = nodeExporterBody()

describe('the generated node_exporter body', () => {
  it('decodes to the series, samples, labels and timestamp sum the generator describes', () => {
    expect(description).toMatchObject({ series: 10_000, samples: 10_000, hosts: 14, labelNames: 60 })
    for (const compressed of [false, true]) {
      const batch = decodeWriteRequest(compressed ? compressBody(body) : body, { compressed })
      expect(batch.seriesCount).toBe(description.series)
      expect(batch.sampleCount).toBe(description.samples)
      expect(batch.exemplarCount + batch.histogramCount + batch.metadataCount).toBe(0)
      let labels = 0
      const distinct = new Set<number>()
      for (let i = 0; i < batch.seriesCount; i++) {
        const id = batch.seriesRefs[i]!
        distinct.add(id)
        labels += batch.labelsOf(id)!.length
      }
      expect(distinct.size).toBe(description.series)
      expect(labels).toBe(description.labels)
      // Each timestamp is an exact integer below 2^53, their sum is not: add them as BigInts.
      let sum = 0n
      for (let i = 0; i < batch.sampleCount; i++) sum += BigInt(batch.timestamps[i]!)
      expect(sum).toBe(description.timestampSum)
      // The second decode finds every series known: no new series, same ids.
      expect(batch.newSeriesCount).toBe(compressed ? 0 : description.series)
    }
  })

  it('decodes to what protobufjs reads, and to the request the generator encoded, row for row', () => {
    const rows = rowsOfBatch(decodeWriteRequest(body, { compressed: false }))
    expect(rows).toEqual(oracle(body, '1.0'))
    expect(rows).toEqual(modelOf1(request))
  })
})
