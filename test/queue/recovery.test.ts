/**
 * Recovery as a property: random record sizes across several segments, then random damage (flipped
 * bytes anywhere in any segment, and a cut at the end of the last one). After reopen, exactly the
 * records no damage touched are there, each intact; a damaged one was counted (damaged stretch or
 * torn tail); the log takes appends again, and a second open finds the same records and nothing new
 * to repair.
 */
import { fc, test } from '@fast-check/vitest'
import { readFileSync, truncateSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, expect } from 'vitest'
import { DurableLog } from '../../src/queue/durable-log.js'
import { HEADER_BYTES } from '../../src/queue/record.js'
import { segmentBase } from '../../src/queue/segment.js'
import { payload, readAll, removeTempDirs, segmentFiles, tempDir } from './helpers.js'

afterAll(removeTempDirs)

const scenario = fc.record({
  sizes: fc.array(fc.integer({ min: 0, max: 3000 }), { minLength: 1, maxLength: 30 }),
  segmentBytes: fc.integer({ min: 1024, max: 8192 }),
  /** Flips: where (a fraction of the log's bytes) and which bits. */
  flips: fc.array(fc.record({ at: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), bits: fc.integer({ min: 1, max: 255 }) }), { maxLength: 4 }),
  /** Bytes cut from the end of the last segment (0: none). */
  cut: fc.nat({ max: 400 })
})

test.prop([scenario], { numRuns: 40 })('only the records that damage touched are lost, and the damage is counted', async ({ sizes, segmentBytes, flips, cut }) => {
  const dir = tempDir()
  const log = await DurableLog.open({ dir, segmentBytes })
  const positions: number[] = []
  for (let k = 0; k < sizes.length; k += 5) positions.push(...await Promise.all(sizes.slice(k, k + 5).map(async (n, j) => await log.append([payload(k + j, n)]))))
  const head = log.head
  await log.close()

  const records = sizes.map((n, k) => ({ k, from: positions[k]!, to: positions[k]! + HEADER_BYTES + n, size: n }))
  const files = segmentFiles(dir).map(f => ({ f, base: segmentBase(f)! }))
  const touched = new Set<number>()
  const flipped = new Set<number>()
  // Flip bytes: log position -> segment file and offset (segments are contiguous in log positions).
  // Two flips of the same bits at one byte cancel out, so the net change per byte decides.
  const net = new Map<number, number>()
  for (const { at, bits } of flips) {
    const position = Math.floor(at * head)
    net.set(position, (net.get(position) ?? 0) ^ bits)
  }
  for (const [position, bits] of net) {
    if (bits === 0) continue
    const file = [...files].reverse().find(s => s.base <= position)!
    const bytes = readFileSync(join(dir, file.f))
    if (position - file.base >= bytes.length) continue
    bytes[position - file.base]! ^= bits
    writeFileSync(join(dir, file.f), bytes)
    for (const r of records) if (position >= r.from && position < r.to) { touched.add(r.k); flipped.add(r.k) }
  }
  const last = files[files.length - 1]!
  const lastSize = head - last.base
  const cutTo = Math.max(0, lastSize - cut)
  if (cut > 0) {
    truncateSync(join(dir, last.f), cutTo)
    for (const r of records) if (r.to > last.base + cutTo) touched.add(r.k)
  }

  // A flipped record whose start the cut left in place must be counted (the cut may remove it whole).
  const mustCount = [...flipped].some(k => records[k]!.from < last.base + cutTo)

  const again = await DurableLog.open({ dir, segmentBytes })
  try {
    const found = await readAll(again.cursor('c'), 50, 1 << 20)
    const expected = records.filter(r => !touched.has(r.k))
    expect(found.map(r => r.position)).toEqual(expected.map(r => r.from))
    for (const r of found) {
      const k = positions.indexOf(r.position)
      expect(r.payload.equals(payload(k, sizes[k]!))).toBe(true)
    }
    const stats = again.stats()
    if (mustCount) expect(stats.damagedRecords + (stats.tornTailBytes > 0 ? 1 : 0)).toBeGreaterThan(0)
    if (touched.size === 0) expect(stats).toMatchObject({ damagedRecords: 0, tornTailBytes: 0 })

    // The log works on: an append lands at the head and reads back.
    const p = await again.append([payload(999, 77)])
    expect(p).toBe(again.head - HEADER_BYTES - 77)
    const tail = await readAll(again.cursor('c'))
    expect(tail.map(r => r.position)).toEqual([p])
  } finally {
    await again.close()
  }
  const damagedBefore = again.stats().damagedRecords

  // A second open repairs nothing more and finds the same records.
  const third = await DurableLog.open({ dir, segmentBytes })
  try {
    expect(third.stats().tornTailBytes).toBe(0)
    expect(third.stats().damagedRecords).toBe(damagedBefore)
    const all = await readAll(third.cursor('d'), 50, 1 << 20)
    expect(all.map(r => r.position)).toEqual([...records.filter(r => !touched.has(r.k)).map(r => r.from), again.head - HEADER_BYTES - 77])
  } finally {
    await third.close()
  }
})
