/**
 * The decode benchmark's peers really decode the whole generated 10k body: protobufjs static code
 * and @bufbuild/protobuf fromBinary both find every series, sample and label the generator describes.
 */
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'
import { nodeExporterBody } from '../fixtures/node-exporter-body.js'

const { body, description } = nodeExporterBody()

interface Decoded { timeseries: Array<{ labels: unknown[], samples: Array<{ timestamp: number | bigint | { toString (): string } }> }> }

function expectWholeBody (req: Decoded): void {
  expect(req.timeseries.length).toBe(description.series)
  let labels = 0
  let samples = 0
  let sum = 0n
  for (const ts of req.timeseries) {
    labels += ts.labels.length
    samples += ts.samples.length
    for (const s of ts.samples) sum += BigInt(typeof s.timestamp === 'object' ? s.timestamp.toString() : s.timestamp)
  }
  expect({ labels, samples, sum }).toEqual({ labels: description.labels, samples: description.samples, sum: description.timestampSum })
}

describe('decode benchmark peers', () => {
  beforeAll(() => {
    // The static code is generated, not committed: make it the way `npm run bench:decode` does.
    execFileSync('npm', ['run', '--silent', 'bench:gen'], { cwd: fileURLToPath(new URL('../../', import.meta.url)), stdio: 'pipe' })
  })

  it('protobufjs static code decodes every series', async () => {
    const { decodeWithProtobufjs } = await import('../../bench/peers/protobufjs.js')
    expectWholeBody(decodeWithProtobufjs(body))
  })

  it('@bufbuild/protobuf fromBinary decodes every series', async () => {
    const { decodeWithBufbuild } = await import('../../bench/peers/bufbuild.js')
    expectWholeBody(decodeWithBufbuild(body))
  })
})
