/**
 * The answer encoders: frames carry their length and CRC-32C, a series longer than a frame is split
 * over several (each with its labels, as Prometheus splits it), chunks hold at most 120 samples.
 */
import { describe, expect, it } from 'vitest'
import { encodeChunkedSeries, frame } from '../../src/read/read-response.js'
import { wordsOf } from '../../src/read/xor-chunk.js'
import { decodeStreamed } from '../helpers/remote-read.js'

describe('streamed frames', () => {
  it('one frame: uvarint length, big-endian CRC-32C, the message', () => {
    const f = frame(new TextEncoder().encode('123456789'))
    expect(Buffer.from(f).toString('hex')).toBe('09' + 'e3069283' + Buffer.from('123456789').toString('hex'))
  })

  it('a long series is split over frames of about maxFrameBytes, every chunk at most 120 samples', () => {
    const n = 1000
    const ts = new Float64Array(Array.from({ length: n }, (_, i) => 1_700_000_000_000 + i * 15_000))
    const values = Array.from({ length: n }, (_, i) => Math.sin(i) * 1000)
    const labels: Array<[string, string]> = [['__name__', 'x'], ['job', 'y']]
    const frames: Uint8Array[] = []
    encodeChunkedSeries(3, { labels: [labels, [['__name__', 'z']]], offsets: new Uint32Array([0, n, n]), ts, words: wordsOf(values) }, f => frames.push(f), 2048)
    expect(frames.length).toBeGreaterThan(2)
    for (const f of frames) expect(f.length).toBeLessThan(2048 + 2 * 1500) // past the budget by at most one chunk
    const body = Buffer.concat(frames)
    const decoded = decodeStreamed(body)
    expect(decoded.results[3]).toEqual([{ labels, samples: Array.from(ts, (t, i) => [t, new BigUint64Array(new Float64Array([values[i]!]).buffer)[0]!]) }])
    expect(decoded.chunks.every(c => c.count <= 120)).toBe(true)
    expect(decoded.chunks.map(c => c.count).reduce((a, b) => a + b)).toBe(n)
    // A damaged byte is caught by the CRC.
    body[body.length - 3]! ^= 1
    expect(() => decodeStreamed(body)).toThrow(/CRC-32C/)
  })
})
