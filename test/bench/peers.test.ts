/**
 * The decode benchmark's peers really decode the whole shared body: protobufjs static code and
 * @bufbuild/protobuf fromBinary both find its 10,000 series, 10,000 samples and 64,383 labels.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'

const body = new Uint8Array(readFileSync(new URL('../../../shared/data/write-request-10k.pb', import.meta.url)))

interface Decoded { timeseries: Array<{ labels: unknown[], samples: Array<{ timestamp: number | bigint | { toString (): string } }> }> }

function expectWholeBody (req: Decoded): void {
  expect(req.timeseries.length).toBe(10_000)
  let labels = 0
  let samples = 0
  let sum = 0n
  for (const ts of req.timeseries) {
    labels += ts.labels.length
    samples += ts.samples.length
    for (const s of ts.samples) sum += BigInt(typeof s.timestamp === 'object' ? s.timestamp.toString() : s.timestamp)
  }
  expect({ labels, samples, sum }).toEqual({ labels: 64_383, samples: 10_000, sum: 17_093_805_594_622_430n })
}

describe('decode benchmark peers', () => {
  beforeAll(() => {
    // The static code is generated, not committed: make it the way `npm run bench:decode` does.
    execFileSync('npm', ['run', '--silent', 'bench:gen'], { cwd: fileURLToPath(new URL('../../', import.meta.url)), stdio: 'pipe' })
  })

  it('protobufjs static code decodes all 10,000 series', async () => {
    const { decodeWithProtobufjs } = await import('../../bench/peers/protobufjs.js')
    expectWholeBody(decodeWithProtobufjs(body))
  })

  it('@bufbuild/protobuf fromBinary decodes all 10,000 series', async () => {
    const { decodeWithBufbuild } = await import('../../bench/peers/bufbuild.js')
    expectWholeBody(decodeWithBufbuild(body))
  })
})
