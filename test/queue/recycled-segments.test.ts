/**
 * Recycled segments (docs/forward-queue.md, "Recycled segments"): a segment every cursor is past is
 * kept as the spare file and renamed to be a later segment, whose appends then overwrite the old
 * records instead of growing a file. What a crash leaves past the head of such a file is the older
 * segment's records: recovery cuts them off without counting them, and still counts a torn record
 * and a damaged one as it does in a file that was never recycled.
 *
 * A crash is taken as a copy of the queue directory while the log is open: what SIGKILL leaves (the
 * page cache survives; the close that would cut the stale bytes never runs). crash.test.ts does the
 * same with a real SIGKILL.
 */
import { closeSync, cpSync, existsSync, openSync, readFileSync, renameSync, statSync, writeFileSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { DurableLog, SPARE_FILE } from '../../src/queue/durable-log.js'
import { HEADER_BYTES } from '../../src/queue/record.js'
import { segmentFileName } from '../../src/queue/segment.js'
import { captureLogger, payload, readAll, removeTempDirs, segmentFiles, tempDir } from './helpers.js'

afterAll(removeTempDirs)

const SEGMENT = 4096
/** Four 1000-byte records fill a segment exactly (4 x 1024 bytes). */
const RECORD = 1000
const STEP = HEADER_BYTES + RECORD

/** Appends records first..first+n-1, one after the other; returns their positions. */
async function fill (log: DurableLog, first: number, n: number, size = RECORD): Promise<number[]> {
  const out: number[] = []
  for (let k = first; k < first + n; k++) out.push(await log.append([payload(k, size)]))
  return out
}

/**
 * A log whose segment at 8192 is segment 0's file, recycled: segment 0 (records 0-3) and 1 (4-7)
 * filled, a cursor past segment 0, then `more` records (from 8) appended into the recycled file.
 */
async function recycledLog (dir: string, more: number, size = RECORD): Promise<{ log: DurableLog, positions: number[], inode: number }> {
  const log = await DurableLog.open({ dir, segmentBytes: SEGMENT })
  const inode = statSync(join(dir, segmentFileName(0))).ino
  const positions = await fill(log, 0, 8)
  await log.cursor('d').commit(2 * SEGMENT - STEP) // past segment 0, not past segment 1
  positions.push(...await fill(log, 8, more, size))
  return { log, positions, inode }
}

describe('recycled segments', () => {
  it('keeps a segment every cursor is past as the spare, and overwrites it as a later segment instead of growing a file', async () => {
    const dir = tempDir()
    const log = await DurableLog.open({ dir, segmentBytes: SEGMENT })
    const inode = statSync(join(dir, segmentFileName(0))).ino
    await fill(log, 0, 8)
    const cursor = log.cursor('d')
    await cursor.commit(SEGMENT)
    expect(segmentFiles(dir)).toEqual([segmentFileName(SEGMENT)])
    expect(statSync(join(dir, SPARE_FILE)).ino).toBe(inode)
    const positions = await fill(log, 8, 2)
    expect(positions).toEqual([2 * SEGMENT, 2 * SEGMENT + STEP])
    // The new segment is segment 0's file, still its old length: the appends did not grow it.
    const file = join(dir, segmentFileName(2 * SEGMENT))
    expect(statSync(file).ino).toBe(inode)
    expect(statSync(file).size).toBe(SEGMENT)
    expect(existsSync(join(dir, SPARE_FILE))).toBe(false)
    expect(log.stats()).toMatchObject({ recycledSegments: 1, segments: 2, bytes: SEGMENT + 2 * STEP })
    const records = await readAll(cursor)
    expect(records.map(r => r.position)).toEqual([SEGMENT, SEGMENT + STEP, SEGMENT + 2 * STEP, SEGMENT + 3 * STEP, ...positions])
    records.forEach((r, k) => { expect(r.payload.equals(payload(k + 4, RECORD))).toBe(true) })
    await log.close()
    // A clean close cuts the old bytes off.
    expect(statSync(file).size).toBe(2 * STEP)
    const again = await DurableLog.open({ dir, segmentBytes: SEGMENT })
    expect(again.stats()).toMatchObject({ records: 6, damagedRecords: 0, tornTailBytes: 0 })
    await again.close()
  })

  it('cuts a recycled file to its records when its segment is complete, so that no stale bytes lie between segments', async () => {
    const dir = tempDir()
    const { log } = await recycledLog(dir, 3, 1500) // segment 2: two 1500-byte records fill 3048 of segment 0's 4096 bytes
    const recycledFile = join(dir, segmentFileName(2 * SEGMENT))
    // The third record did not fit: segment 3 started, and segment 2 was cut to its two records.
    expect(segmentFiles(dir)).toEqual([segmentFileName(SEGMENT), segmentFileName(2 * SEGMENT), segmentFileName(2 * SEGMENT + 2 * (HEADER_BYTES + 1500))])
    expect(statSync(recycledFile).size).toBe(2 * (HEADER_BYTES + 1500))
    const crashed = tempDir()
    cpSync(dir, crashed, { recursive: true })
    await log.close()
    const { logger, lines } = captureLogger()
    const again = await DurableLog.open({ dir: crashed, segmentBytes: SEGMENT, logger })
    expect(again.stats()).toMatchObject({ records: 7, damagedRecords: 0, tornTailBytes: 0, segments: 3 })
    expect(lines.filter(l => Number(l.level) >= 40)).toEqual([])
    await again.close()
  })

  it('cuts the stale records past the head off after a crash without counting them, and loses nothing acknowledged', async () => {
    const dir = tempDir()
    const { log, positions, inode } = await recycledLog(dir, 2)
    expect(statSync(join(dir, segmentFileName(2 * SEGMENT))).ino).toBe(inode)
    const crashed = tempDir()
    cpSync(dir, crashed, { recursive: true })
    await log.close()
    const file = join(crashed, segmentFileName(2 * SEGMENT))
    expect(statSync(file).size).toBe(SEGMENT) // stale records of segment 0 past the head
    const { logger, lines } = captureLogger()
    const again = await DurableLog.open({ dir: crashed, segmentBytes: SEGMENT, logger })
    expect(again.stats()).toMatchObject({ records: 6, damagedRecords: 0, damagedBytes: 0, tornTailBytes: 0 })
    expect(lines.filter(l => Number(l.level) >= 40)).toEqual([])
    expect(statSync(file).size).toBe(2 * STEP)
    expect(again.head).toBe(2 * SEGMENT + 2 * STEP)
    const records = await readAll(again.cursor('d'))
    expect(records.map(r => r.position)).toEqual(positions.slice(7))
    records.forEach((r, k) => { expect(r.payload.equals(payload(k + 7, RECORD))).toBe(true) })
    // Appends carry on at the head.
    expect(await again.append([payload(99, 10)])).toBe(2 * SEGMENT + 2 * STEP)
    await again.close()
  })

  it('after a crash in a group that started a recycled segment, the segment is empty and nothing is counted', async () => {
    const dir = tempDir()
    const log = await DurableLog.open({ dir, segmentBytes: SEGMENT })
    await fill(log, 0, 8)
    await log.cursor('d').commit(2 * SEGMENT - STEP)
    await log.close()
    // The crash: the next group had renamed the spare to segment 2 and written nothing yet.
    const crashed = tempDir()
    cpSync(dir, crashed, { recursive: true })
    renameSync(join(crashed, SPARE_FILE), join(crashed, segmentFileName(2 * SEGMENT)))
    const again = await DurableLog.open({ dir: crashed, segmentBytes: SEGMENT })
    expect(again.stats()).toMatchObject({ records: 4, damagedRecords: 0, tornTailBytes: 0, segments: 2 })
    expect(statSync(join(crashed, segmentFileName(2 * SEGMENT))).size).toBe(0)
    expect(await again.append([payload(8, 10)])).toBe(2 * SEGMENT)
    expect((await readAll(again.cursor('d'))).map(r => r.position)).toEqual([SEGMENT + 3 * STEP, 2 * SEGMENT])
    await again.close()
  })

  it('counts a torn record over stale bytes as torn, to the end its header declares, and keeps the rest', async () => {
    const dir = tempDir()
    const { log, positions } = await recycledLog(dir, 1)
    const crashed = tempDir()
    cpSync(dir, crashed, { recursive: true })
    await log.close()
    // A second record whose write was cut short: its header (600 bytes declared) and 100 bytes of it.
    const head = 2 * SEGMENT + STEP
    const torn = new Uint8Array(HEADER_BYTES + 100)
    const view = new DataView(torn.buffer)
    view.setUint32(4, 600, true)
    view.setUint32(8, head, true)
    const fd = openSync(join(crashed, segmentFileName(2 * SEGMENT)), 'r+')
    writeSync(fd, torn, 0, torn.length, STEP)
    closeSync(fd)
    const again = await DurableLog.open({ dir: crashed, segmentBytes: SEGMENT })
    expect(again.stats()).toMatchObject({ records: 5, damagedRecords: 0, tornTailBytes: HEADER_BYTES + 600 })
    expect(again.head).toBe(head)
    expect((await readAll(again.cursor('d'))).map(r => r.position)).toEqual(positions.slice(7))
    await again.close()
  })

  it('still skips, counts and logs a damaged record in a recycled segment, and keeps the records after it', async () => {
    const dir = tempDir()
    const { log, positions } = await recycledLog(dir, 3)
    const crashed = tempDir()
    cpSync(dir, crashed, { recursive: true })
    await log.close()
    const file = join(crashed, segmentFileName(2 * SEGMENT))
    const bytes = readFileSync(file)
    bytes[STEP + HEADER_BYTES + 123]! ^= 0x40 // the payload of the recycled segment's second record
    writeFileSync(file, bytes)
    const { logger, lines } = captureLogger()
    const again = await DurableLog.open({ dir: crashed, segmentBytes: SEGMENT, logger })
    expect(again.stats()).toMatchObject({ records: 6, damagedRecords: 1, damagedBytes: STEP, tornTailBytes: 0 })
    expect(lines.filter(l => /damaged record skipped/.test(String(l.msg)))).toHaveLength(1)
    const records = await readAll(again.cursor('d'))
    expect(records.map(r => r.position)).toEqual([...positions.slice(7, 9), ...positions.slice(10)])
    await again.close()
  })

  it('does not recycle a segment a watcher may still read (its floor): that one is deleted', async () => {
    const dir = tempDir()
    const log = await DurableLog.open({ dir, segmentBytes: SEGMENT })
    let floor = 0
    const stop = log.watch({ appended: () => {}, released: () => {}, floor: () => floor })
    await fill(log, 0, 8)
    await log.cursor('d').commit(SEGMENT)
    expect(existsSync(join(dir, SPARE_FILE))).toBe(false)
    await fill(log, 8, 1)
    expect(log.stats().recycledSegments).toBe(0)
    // Once the watcher is past a released segment, that one is recycled.
    floor = Infinity
    await log.cursor('d').commit(2 * SEGMENT)
    expect(existsSync(join(dir, SPARE_FILE))).toBe(true)
    stop()
    await log.close()
  })
})
