import { MessageChannel } from 'node:worker_threads'
import { Piscina } from 'piscina'
import { describe, expect, it } from 'vitest'
import { Decoder } from '../../src/decode/decoder.js'
import { DEFAULT_LIMITS } from '../../src/decode/options.js'
import { DecodeTaskRunner } from '../../src/pool/decode-task.js'
import type { DecodeResult, DecodeWorkerData } from '../../src/pool/messages.js'
import { SeriesIndex } from '../../src/series/series-index.js'
import { compressBody, encodeWriteRequest1 } from '../fixtures/encode.js'

function runner (): { run: DecodeTaskRunner, slots: SharedArrayBuffer } {
  const index = SeriesIndex.create({ maxSeries: 1000 })
  const slots = new SharedArrayBuffer(2 * 4096)
  const data: DecodeWorkerData = {
    index: index.shared, slotBuffers: [slots], slotBytes: [4096], limits: { ...DEFAULT_LIMITS },
    legacyNames: false, strictUtf8: true, rejectUnsortedLabels: false
  }
  return { run: new DecodeTaskRunner(data, new Decoder(index)), slots }
}

const task = { classIndex: 0, slotIndex: 1, version: '1.0' as const, tenant: '', compressed: true, partial: true }

describe('decode task', () => {
  it('reads the body in place from its slot and hands back a batch buffer that moves, not copies', async () => {
    const { run, slots } = runner()
    const body = compressBody(encodeWriteRequest1({ timeseries: [{ labels: [['__name__', 'moved']], samples: [{ value: 2, timestamp: 5 }] }] }))
    new Uint8Array(slots, 4096).set(body)
    const out = run.run({ ...task, length: body.length }) as Record<symbol, unknown>
    const transfer = out[Piscina.transferableSymbol] as ArrayBuffer[]
    const result = out[Piscina.valueSymbol] as DecodeResult
    expect(result.ok).toBe(true)
    if (!result.ok) return
    expect(transfer).toEqual([result.buffer])
    expect(result.buffer.byteLength).toBeGreaterThan(0)

    // Post it as piscina does, with the transfer list: the sender's buffer is detached afterwards.
    const { port1, port2 } = new MessageChannel()
    const received = new Promise<DecodeResult>(resolve => port2.once('message', resolve))
    port1.postMessage(result, transfer)
    const got = await received
    port1.close(); port2.close()
    expect(result.buffer.byteLength).toBe(0)
    expect(got.ok && got.buffer.byteLength).toBeGreaterThan(0)
  })

  it('returns a decode error as data with its code', () => {
    const { run, slots } = runner()
    new Uint8Array(slots, 4096).set([0x05, 0x10, 0x0a, 0xff, 0xff])
    const result = run.run({ ...task, length: 5 }) as DecodeResult
    expect(result).toMatchObject({ ok: false, error: { code: 'snappy_malformed' } })
  })
})
