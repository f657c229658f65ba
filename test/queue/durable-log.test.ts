/**
 * The forward queue against real files: round trip, group fsync, reopen, torn tail, a flipped byte in
 * the middle, cursors persisted and falling back, segments deleted once every cursor is past them,
 * drop-oldest, large records and read limits.
 */
import { closeSync, openSync, readFileSync, statSync, truncateSync, unlinkSync, writeFileSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { DurableLog } from '../../src/queue/durable-log.js'
import { HEADER_BYTES } from '../../src/queue/record.js'
import { captureLogger, payload, readAll, removeTempDirs, segmentFiles, tempDir } from './helpers.js'

afterAll(removeTempDirs)

const SEG0 = '00000000000000000000.seg'

/** Appends records 0..n-1 of the given sizes; returns their positions. */
async function fill (log: DurableLog, sizes: readonly number[], first = 0): Promise<number[]> {
  return await Promise.all(sizes.map(async (n, k) => await log.append([payload(first + k, n)])))
}

describe('DurableLog', () => {
  it('gives back every record as appended: positions, payload parts joined, append times', async () => {
    const dir = tempDir()
    const log = await DurableLog.open({ dir })
    const before = Date.now()
    const a = await log.append([Uint8Array.of(1, 2), new Uint8Array(0), Uint8Array.of(3)])
    const b = await log.append([])
    const c = await log.append([payload(7, 10_000)])
    expect([a, b, c]).toEqual([0, HEADER_BYTES + 3, 2 * HEADER_BYTES + 3])
    expect(log.head).toBe(3 * HEADER_BYTES + 3 + 10_000)
    const records = await readAll(log.cursor('d1'))
    expect(records.map(r => [r.position, r.next])).toEqual([[a, b], [b, c], [c, log.head]])
    expect(records.map(r => [...r.payload].length)).toEqual([3, 0, 10_000])
    expect([...records[0]!.payload]).toEqual([1, 2, 3])
    expect(records[2]!.payload.equals(payload(7, 10_000))).toBe(true)
    for (const r of records) expect(r.appendedAtMs).toBeGreaterThanOrEqual(before)
    expect(log.stats()).toMatchObject({ segments: 1, records: 3, damagedRecords: 0, tornTailBytes: 0 })
    await log.close()
  })

  it('appends a payload that lives in a SharedArrayBuffer slot, as the receiver holds a body', async () => {
    const log = await DurableLog.open({ dir: tempDir() })
    const slot = new Uint8Array(new SharedArrayBuffer(4096))
    slot.set(payload(3, 1000), 17)
    const p = await log.append([slot.subarray(17, 517), slot.subarray(517, 1017)])
    const [r] = await readAll(log.cursor('d'))
    expect(r!.position).toBe(p)
    expect(r!.payload.equals(payload(3, 1000))).toBe(true)
    await log.close()
  })

  it('appends made together share one vectored write and one fdatasync', async () => {
    const log = await DurableLog.open({ dir: tempDir() })
    const before = log.stats()
    const positions = await fill(log, Array.from({ length: 50 }, (_, k) => 100 + k))
    const after = log.stats()
    expect(after.fsyncs - before.fsyncs).toBe(1)
    expect(after.appendGroups - before.appendGroups).toBe(1)
    expect(new Set(positions).size).toBe(50)
    // One after the other: one fsync each.
    for (let k = 0; k < 3; k++) await log.append([payload(k, 10)])
    expect(log.stats().fsyncs - after.fsyncs).toBe(3)
    await log.close()
  })

  it('reopens with the same records and head, and appends after them', async () => {
    const dir = tempDir()
    const log = await DurableLog.open({ dir, segmentBytes: 4096 })
    await fill(log, [1000, 2000, 3000, 500, 10])
    const head = log.head
    await log.close()
    const again = await DurableLog.open({ dir, segmentBytes: 4096 })
    expect(again.head).toBe(head)
    expect(again.stats()).toMatchObject({ records: 5, damagedRecords: 0, tornTailBytes: 0 })
    expect(await again.append([payload(5, 7)])).toBe(head)
    const records = await readAll(again.cursor('d'))
    expect(records.map(r => r.payload.length)).toEqual([1000, 2000, 3000, 500, 10, 7])
    records.forEach((r, k) => expect(r.payload.equals(payload(k, r.payload.length))).toBe(true))
    await again.close()
  })

  it('truncates a torn tail (a record cut short at the end of the last segment) and keeps the rest', async () => {
    const dir = tempDir()
    const log = await DurableLog.open({ dir })
    await fill(log, [300, 400, 500])
    const end = log.head
    await log.close()
    // A fourth record whose write was cut short: a whole header and half of its payload.
    const full = new Uint8Array(HEADER_BYTES + 600)
    const fd = openSync(join(dir, SEG0), 'r+')
    writeSync(fd, full.subarray(0, HEADER_BYTES + 300), 0, HEADER_BYTES + 300, end)
    closeSync(fd)
    const { logger, lines } = captureLogger()
    const again = await DurableLog.open({ dir, logger })
    expect(again.stats()).toMatchObject({ records: 3, tornTailBytes: HEADER_BYTES + 300, damagedRecords: 0 })
    expect(statSync(join(dir, SEG0)).size).toBe(end)
    expect(lines.some(l => /torn tail/.test(String(l.msg)) && l.bytes === HEADER_BYTES + 300)).toBe(true)
    expect(await again.append([payload(9, 5)])).toBe(end)
    expect((await readAll(again.cursor('d'))).map(r => r.payload.length)).toEqual([300, 400, 500, 5])
    await again.close()
  })

  it('treats a torn record before an empty last segment as the torn tail (a crash in a group that started a new segment)', async () => {
    const dir = tempDir()
    const log = await DurableLog.open({ dir, segmentBytes: 2048 })
    const positions = await fill(log, [600, 600]) // segment 0
    await log.close()
    // The crash: the next group had opened segment 1 (empty) and written only part of a record to segment 0.
    const end = positions[1]! + HEADER_BYTES + 600
    const fd = openSync(join(dir, SEG0), 'r+')
    writeSync(fd, new Uint8Array(100).fill(7), 0, 100, end)
    closeSync(fd)
    writeFileSync(join(dir, '00000000000000002000.seg'), new Uint8Array(0))
    const { logger, lines } = captureLogger()
    const again = await DurableLog.open({ dir, segmentBytes: 2048, logger })
    expect(again.stats()).toMatchObject({ records: 2, tornTailBytes: 100, damagedRecords: 0, segments: 2 })
    expect(statSync(join(dir, SEG0)).size).toBe(end)
    expect(lines.filter(l => l.level === 50)).toEqual([])
    expect(await again.append([payload(3, 10)])).toBe(2000)
    expect((await readAll(again.cursor('d'))).map(r => r.position)).toEqual([...positions, 2000])
    await again.close()
  })

  it('loses only the last record when it is cut short by truncating the file', async () => {
    const dir = tempDir()
    const log = await DurableLog.open({ dir })
    const positions = await fill(log, [300, 400, 500])
    await log.close()
    truncateSync(join(dir, SEG0), positions[2]! + HEADER_BYTES + 100)
    const again = await DurableLog.open({ dir })
    expect(again.head).toBe(positions[2])
    expect((await readAll(again.cursor('d'))).map(r => r.payload.length)).toEqual([300, 400])
    await again.close()
  })

  it('skips a record with a flipped byte in the middle, counts and logs it, and keeps every other record', async () => {
    for (const where of ['payload', 'length field'] as const) {
      const dir = tempDir()
      const log = await DurableLog.open({ dir })
      const positions = await fill(log, [200, 300, 400, 500, 600])
      await log.close()
      const bytes = readFileSync(join(dir, SEG0))
      const at = where === 'payload' ? positions[2]! + HEADER_BYTES + 123 : positions[2]! + 5
      bytes[at]! ^= 0x40
      writeFileSync(join(dir, SEG0), bytes)
      const { logger, lines } = captureLogger()
      const again = await DurableLog.open({ dir, logger })
      expect(again.stats()).toMatchObject({ records: 4, damagedRecords: 1, damagedBytes: HEADER_BYTES + 400, tornTailBytes: 0 })
      const records = await readAll(again.cursor('d'))
      expect(records.map(r => r.position)).toEqual([positions[0], positions[1], positions[3], positions[4]])
      for (const r of records) {
        const k = positions.indexOf(r.position)
        expect(r.payload.equals(payload(k, [200, 300, 400, 500, 600][k]!))).toBe(true)
      }
      const logged = lines.filter(l => /damaged record skipped/.test(String(l.msg)))
      expect(logged).toHaveLength(1)
      expect(logged[0]).toMatchObject({ level: 50, position: positions[2], bytes: HEADER_BYTES + 400 })
      await again.close()
    }
  })

  it('skips a record damaged on disk after open when it is read, and counts it', async () => {
    const dir = tempDir()
    const log = await DurableLog.open({ dir })
    const positions = await fill(log, [100, 100, 100])
    const fd = openSync(join(dir, SEG0), 'r+')
    writeSync(fd, Uint8Array.of(0xff, 0xfe), 0, 2, positions[1]! + HEADER_BYTES + 10)
    closeSync(fd)
    const records = await readAll(log.cursor('d'))
    expect(records.map(r => r.position)).toEqual([positions[0], positions[2]])
    expect(log.stats().damagedRecords).toBe(1)
    await log.close()
  })

  it('persists each cursor\'s committed position across reopen; reads continue after it', async () => {
    const dir = tempDir()
    const log = await DurableLog.open({ dir })
    await fill(log, [10, 20, 30, 40])
    const a = log.cursor('http://a.example/api/v1/write') // any name: it is encoded into a file name
    const b = log.cursor('b')
    const first = await a.read(2, 1e9)
    expect(first).toHaveLength(2)
    await a.commit(first[1]!.next)
    expect(a.position).toBe(first[1]!.next)
    expect(a.pendingRecords).toBe(2)
    expect(b.pendingRecords).toBe(4)
    // Read but not committed: after reopen it comes again (at least once).
    const more = await a.read(1, 1e9)
    expect(more[0]!.payload.length).toBe(30)
    await log.close()

    const again = await DurableLog.open({ dir })
    expect(again.cursorNames().sort()).toEqual(['b', 'http://a.example/api/v1/write'])
    const a2 = again.cursor('http://a.example/api/v1/write')
    expect(a2.position).toBe(first[1]!.next)
    expect((await readAll(a2)).map(r => r.payload.length)).toEqual([30, 40])
    expect((await readAll(again.cursor('b'))).map(r => r.payload.length)).toEqual([10, 20, 30, 40])
    await again.close()
  })

  it('falls back to the oldest record when a cursor file is damaged or missing, and logs it', async () => {
    const dir = tempDir()
    const log = await DurableLog.open({ dir })
    await fill(log, [10, 20, 30])
    const c = log.cursor('d')
    await c.commit(log.head)
    const n = log.cursor('new', { start: 'head' })
    expect(n.pendingRecords).toBe(0)
    await log.close()
    writeFileSync(join(dir, 'cursors', 'd'), Buffer.alloc(64, 0x55)) // both slots damaged
    unlinkSync(join(dir, 'cursors', 'new'))
    const { logger, lines } = captureLogger()
    const again = await DurableLog.open({ dir, logger })
    expect(lines.some(l => /cursor file damaged/.test(String(l.msg)) && l.destination === 'd')).toBe(true)
    expect(again.cursor('d').position).toBe(again.tail)
    expect(again.cursor('d').pendingRecords).toBe(3)
    expect(again.cursorNames()).toEqual(['d'])
    expect(again.cursor('new').pendingRecords).toBe(3) // a missing file starts at the oldest record
    await again.close()
  })

  it('keeps the previous position when the newer cursor slot is torn', async () => {
    const dir = tempDir()
    const log = await DurableLog.open({ dir })
    const positions = await fill(log, [10, 20, 30])
    const c = log.cursor('d')
    await c.commit(positions[1]!)
    await c.commit(positions[2]!) // the newer slot
    await log.close()
    const file = join(dir, 'cursors', 'd')
    const bytes = readFileSync(file)
    // Sequence 1 at creation, then 2 and 3: the newest (3) is in slot 1.
    bytes[32 + 17]! ^= 1
    writeFileSync(file, bytes)
    const again = await DurableLog.open({ dir })
    expect(again.cursor('d').position).toBe(positions[1])
    await again.close()
  })

  it('deletes a segment once every cursor is past it, never the one being written', async () => {
    const dir = tempDir()
    const log = await DurableLog.open({ dir, segmentBytes: 2048 })
    const a = log.cursor('a')
    const b = log.cursor('b')
    const positions = await fill(log, Array.from({ length: 12 }, () => 600)) // 3 records a segment
    expect(segmentFiles(dir)).toHaveLength(4)
    expect(log.stats().segments).toBe(4)
    await a.commit(log.head)
    expect(segmentFiles(dir)).toHaveLength(4) // b still needs them all
    await b.commit(positions[7]!) // past segments 0 and 1, inside segment 2 (624 bytes a record, 3 a segment)
    expect(segmentFiles(dir)).toEqual(['00000000000000003744.seg', '00000000000000005616.seg'])
    expect(log.tail).toBe(positions[6])
    expect((await readAll(b)).map(r => r.position)).toEqual(positions.slice(7))
    await b.commit(log.head)
    expect(segmentFiles(dir)).toEqual(['00000000000000005616.seg'])
    // A removed destination no longer holds the log back.
    await log.deleteCursor('a')
    expect(log.cursorNames()).toEqual(['b'])
    await log.close()
    const again = await DurableLog.open({ dir, segmentBytes: 2048 })
    expect(again.head).toBe(positions[11]! + HEADER_BYTES + 600)
    expect(again.cursor('b').pendingRecords).toBe(0)
    await again.close()
  })

  it('drop-oldest moves the cursor past the oldest records until at most the target is pending', async () => {
    const log = await DurableLog.open({ dir: tempDir() })
    const a = log.cursor('a')
    const positions = await fill(log, Array.from({ length: 10 }, () => 100 - HEADER_BYTES)) // 100 bytes each on disk
    expect(a.pendingBytes).toBe(1000)
    expect(await a.dropOldest(1000)).toEqual({ records: 0, bytes: 0 })
    expect(await a.dropOldest(350)).toEqual({ records: 7, bytes: 700 })
    expect(a.pendingBytes).toBe(300)
    expect(a.pendingRecords).toBe(3)
    expect((await readAll(a)).map(r => r.position)).toEqual(positions.slice(7))
    expect(await a.dropOldest(0)).toEqual({ records: 3, bytes: 300 })
    expect(a.pendingRecords).toBe(0)
    await log.close()
  })

  it('gives a record larger than a segment a segment of its own, and reads it whatever maxBytes says', async () => {
    const dir = tempDir()
    const log = await DurableLog.open({ dir, segmentBytes: 4096 })
    await fill(log, [100, 50_000, 100])
    expect(segmentFiles(dir)).toHaveLength(3)
    const c = log.cursor('c')
    expect((await c.read(10, 1000)).map(r => r.payload.length)).toEqual([100])
    const big = await c.read(10, 1000)
    expect(big.map(r => r.payload.length)).toEqual([50_000])
    expect(Buffer.from(big[0]!.payload).equals(payload(1, 50_000))).toBe(true)
    expect((await c.read(10, 1000)).map(r => r.payload.length)).toEqual([100])
    expect(await c.read(10, 1000)).toEqual([])
    await log.close()
    const again = await DurableLog.open({ dir, segmentBytes: 4096 })
    expect(again.stats()).toMatchObject({ records: 3, segments: 3, damagedRecords: 0 })
    await again.close()
  })

  it('reads at most maxRecords and maxBytes, across segments; rewind() reads again from the committed position', async () => {
    const log = await DurableLog.open({ dir: tempDir(), segmentBytes: 1024 })
    await fill(log, Array.from({ length: 20 }, () => 100))
    const c = log.cursor('c')
    expect(await c.read(5, 1e9)).toHaveLength(5)
    expect(await c.read(100, 350)).toHaveLength(3)
    expect(c.nextRead).toBe(8 * (HEADER_BYTES + 100))
    c.rewind()
    const again = await c.read(100, 1e9)
    expect(again).toHaveLength(20)
    expect(again.map(r => r.position)).toEqual(Array.from({ length: 20 }, (_, k) => k * (HEADER_BYTES + 100)))
    await log.close()
  })

  it('reports the oldest pending record\'s age and wakes a waiting reader on append and on close', async () => {
    const log = await DurableLog.open({ dir: tempDir() })
    const c = log.cursor('c')
    expect(c.oldestPendingAppendedAtMs()).toBeUndefined()
    let woke = false
    const waiting = c.waitForData().then(() => { woke = true })
    await new Promise(resolve => setImmediate(resolve))
    expect(woke).toBe(false)
    const t0 = Date.now()
    await log.append([payload(1, 10)])
    await waiting
    expect(c.oldestPendingAppendedAtMs()).toBeGreaterThanOrEqual(t0)
    await c.read(10, 1e9)
    const onClose = c.waitForData()
    await log.close()
    await onClose
    await expect(log.append([payload(2, 1)])).rejects.toMatchObject({ code: 'sink_failed' })
  })

  it('refuses a queue directory another process or another open holds, and takes over one left by a dead process', async () => {
    const dir = tempDir()
    const log = await DurableLog.open({ dir })
    await expect(DurableLog.open({ dir })).rejects.toMatchObject({ code: 'config_invalid', message: expect.stringMatching(/already open in this process/) })
    await log.close()
    // The parent of this test process is alive: its pid in the lock means the queue is in use.
    writeFileSync(join(dir, 'lock'), `${process.ppid}\n`)
    await expect(DurableLog.open({ dir })).rejects.toMatchObject({ code: 'config_invalid', message: expect.stringMatching(new RegExp(`in use by process ${process.ppid}`)) })
    // A pid that cannot be running (above the kernel's pid_max): a lock left by a crash.
    writeFileSync(join(dir, 'lock'), '99999999\n')
    const again = await DurableLog.open({ dir })
    expect(readFileSync(join(dir, 'lock'), 'utf8')).toBe(`${process.pid}\n`)
    await again.close()
  })

  it('readers that keep up with concurrent appends get every record once, in order, while segments roll over and are deleted', async () => {
    const dir = tempDir()
    const log = await DurableLog.open({ dir, segmentBytes: 4096 })
    const N = 400
    const sizeOf = (k: number): number => (k * 37) % 900
    const readers = ['a', 'b'].map(name => (async () => {
      const c = log.cursor(name)
      let seen = 0
      // Bounded: every pass either reads records or waits for the head to move.
      for (let pass = 0; seen < N && pass < 100_000; pass++) {
        const batch = await c.read(name === 'a' ? 3 : 50, 2000)
        if (batch.length === 0) { await c.waitForData(); continue }
        for (const r of batch) {
          // Record k is the k-th read: in order, none twice, none missed.
          expect(Buffer.from(r.payload).equals(Buffer.from(payload(seen, sizeOf(seen))))).toBe(true)
          seen++
        }
        await c.commit(batch[batch.length - 1]!.next)
      }
      return seen
    })())
    // Four writers in turn, each waiting for its append, as requests do.
    let next = 0
    const order: number[] = []
    await Promise.all(Array.from({ length: 4 }, async () => {
      while (next < N) {
        const k = next++
        order.push(k)
        await log.append([payload(k, sizeOf(k))])
      }
    }))
    expect(await Promise.all(readers)).toEqual([N, N])
    expect(order).toEqual(Array.from({ length: N }, (_, k) => k)) // appended in call order
    expect(log.stats().segments).toBe(1) // every full segment was deleted once both readers passed it
    expect(segmentFiles(dir)).toHaveLength(1)
    await log.close()
  })
})
