import { openSync, readSync, writeSync, closeSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { DurableLog } from '../../src/queue/durable-log.js'
import { LogMirror } from '../../src/queue/log-mirror.js'
import { LogRing, RingReader } from '../../src/queue/log-ring.js'
import { HEADER_BYTES } from '../../src/queue/record.js'
import { readAll, removeTempDirs, tempDir } from './helpers.js'

afterEach(removeTempDirs)

function bytes (n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n)
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff
  return b
}

const header = new Uint8Array(HEADER_BYTES)

describe('LogRing', () => {
  it('gives back the payload put at a position, as a view of the shared buffer', () => {
    const ring = LogRing.create(4096, 1000)
    const reader = new RingReader(ring.share())
    const a = bytes(100, 1)
    const b = bytes(50, 2)
    ring.put(1000, header, [a.subarray(0, 30), a.subarray(30)], 100, 1000)
    ring.put(1000 + HEADER_BYTES + 100, header, [b], 50, 1000)
    ring.publish()
    const pa = reader.payload(1000, 100)!
    expect(Buffer.from(pa)).toEqual(Buffer.from(a))
    expect(pa.buffer).toBe(ring.buffer)
    expect(Buffer.from(reader.payload(1000 + HEADER_BYTES + 100, 50)!)).toEqual(Buffer.from(b))
    expect(ring.kept).toBe(2)
  })

  it('never overwrites bytes at or after the floor: the record is left to the file and `from` moves past it', () => {
    const ring = LogRing.create(1024, 0)
    const reader = new RingReader(ring.share())
    let position = 0
    const kept: Array<{ position: number, payload: Uint8Array }> = []
    // 4 records of 200 (+24) bytes fill the ring up to 896 bytes; a fifth would overwrite position 0.
    for (let k = 0; k < 4; k++) {
      const p = bytes(200, k)
      ring.put(position, header, [p], 200, 0)
      kept.push({ position, payload: p })
      position += HEADER_BYTES + 200
    }
    ring.put(position, header, [bytes(200, 9)], 200, 0)
    expect(ring.skipped).toBe(1)
    expect(ring.from).toBe(position + HEADER_BYTES + 200)
    ring.publish()
    reader.moved(ring.from)
    // The reader at the floor still sees its bytes unchanged; it is told to read the later records from the file.
    expect(Buffer.from(new RingReader({ ...ring.share(), from: 0 }).payload(0, 200)!)).toEqual(Buffer.from(kept[0]!.payload))
    expect(reader.payload(0, 200)).toBeUndefined()
    expect(reader.payload(position, 200)).toBeUndefined()
  })

  it('overwrites what lies before the floor, and leaves a record that wraps around the end to the file', () => {
    const ring = LogRing.create(1024, 0)
    const reader = new RingReader(ring.share())
    let position = 0
    const records: Array<{ position: number, payload: Uint8Array }> = []
    for (let k = 0; k < 12; k++) {
      const p = bytes(200, k)
      // The reader keeps up: everything but the last two records is behind it.
      const floor = records.length >= 2 ? records[records.length - 2]!.position : 0
      ring.put(position, header, [p], 200, floor)
      records.push({ position, payload: p })
      position += HEADER_BYTES + 200
    }
    ring.publish()
    expect(ring.skipped).toBe(0)
    const last = records[records.length - 1]!
    const before = records[records.length - 2]!
    for (const r of [before, last]) {
      const view = reader.payload(r.position, 200)
      const wraps = (r.position + HEADER_BYTES) % 1024 + 200 > 1024
      if (wraps) expect(view).toBeUndefined()
      else expect(Buffer.from(view!)).toEqual(Buffer.from(r.payload))
    }
    // At least one of the twelve records wrapped around the 1024-byte ring.
    expect(records.some(r => (r.position + HEADER_BYTES) % 1024 + 200 > 1024)).toBe(true)
  })

  it('refuses a ring too small to be useful', () => {
    expect(() => LogRing.create(10, 0)).toThrow(RangeError)
  })
})

describe('LogMirror with the log\'s ring', () => {
  it('reads records still in memory from the ring and the others from the files, the same bytes either way', async () => {
    const dir = tempDir()
    const log = await DurableLog.open({ dir })
    let floor = 0
    const ring = log.keepInMemory(4096, () => floor)
    const owner = log.cursor('d')
    const mirror = await LogMirror.open(log.snapshot(), { committed: () => {}, damaged: () => {} }, ring.share())
    log.watch({ appended: (s, r, from) => { void mirror.appended(s, r, from) }, released: () => {} })
    const cursor = mirror.cursor('d', owner.position)

    // A reader that keeps up (the floor follows it): every record comes from memory. A byte damaged
    // on disk shows it: the record read is intact, and no damage is reported.
    const early = Array.from({ length: 8 }, (_, k) => bytes(300, k))
    for (const p of early) { await log.append([p]); floor = log.head }
    const seg = join(dir, readdirSync(dir).find(f => f.endsWith('.seg'))!)
    const fd = openSync(seg, 'r+')
    const one = Buffer.alloc(1)
    readSync(fd, one, 0, 1, HEADER_BYTES + 10)
    writeSync(fd, Buffer.from([one[0]! ^ 0xff]), 0, 1, HEADER_BYTES + 10)
    closeSync(fd)
    const fromMemory = []
    for (let k = 0; k < early.length; k++) {
      const [r] = await cursor.read(1, 1 << 20)
      expect(r!.payload.buffer).toBe(ring.buffer)
      fromMemory.push(Buffer.from(r!.payload))
    }
    expect(fromMemory).toEqual(early.map(p => Buffer.from(p)))
    expect(ring.skipped).toBe(0)

    // A reader that falls behind (the floor stays): the ring fills, then leaves records to the files.
    const late = Array.from({ length: 30 }, (_, k) => bytes(300, 100 + k))
    for (const p of late) await log.append([p])
    expect(ring.skipped).toBeGreaterThan(0)
    const got = await readAll(cursor, 1, 1 << 20)
    expect(got.map(r => r.payload)).toEqual(late.map(p => Buffer.from(p)))
    await mirror.close()
    await log.close()
  })
})
