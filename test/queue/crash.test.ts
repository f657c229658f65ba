/**
 * A real crash: a child process (test/queue/append-child.mjs) appends records in a loop from 4
 * concurrent writers and prints each acknowledged position; the test SIGKILLs it after a random
 * number of acknowledgements, reopens the queue and checks that every acknowledged record is there,
 * intact, at the position it was acknowledged at. Three rounds on the same directory, so recovery of
 * a killed queue (a possibly torn tail) is followed by appends and another kill.
 *
 * SIGKILL ends the process, not the machine: the page cache survives, so this checks the process-
 * crash path (nothing acknowledged before its write, truncation and reopen right). Power loss is what
 * the fdatasync before each acknowledgement is for; a test cannot pull the plug.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DurableLog } from '../../src/queue/durable-log.js'
import { ensureQueueBuilt, removeTempDirs, ROOT, segmentFiles, tempDir } from './helpers.js'

// `npm test` builds dist/ first; run alone after an edit, this builds it (slow on a busy machine).
beforeAll(() => { ensureQueueBuilt() }, 300_000)

const children: ChildProcess[] = []
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
  removeTempDirs()
})

const SEGMENT_BYTES = 64 * 1024

/** Whether `payload` is what the child wrote for record `id` (same rule as append-child.mjs). */
function intact (id: number, payload: Uint8Array): boolean {
  if (payload.length < 4 || new DataView(payload.buffer, payload.byteOffset, 4).getUint32(0, true) !== id) return false
  for (let i = 4; i < payload.length; i++) if (payload[i] !== ((id * 31 + i * 7) & 0xff)) return false
  return true
}

interface Ack { readonly id: number, readonly position: number, readonly size: number }

/** Runs the child until `kills` acknowledgements, SIGKILLs it, and returns what it acknowledged. */
async function runAndKill (dir: string, firstId: number, killAfter: number, consume = false): Promise<{ acks: Ack[], recycled: number }> {
  const args = [join(ROOT, 'test', 'queue', 'append-child.mjs'), dir, String(SEGMENT_BYTES), String(firstId), consume ? 'consume' : 'append']
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  children.push(child)
  const acks: Ack[] = []
  let recycled = 0
  let rest = ''
  let err = ''
  child.stderr!.on('data', (b: Buffer) => { err += b.toString() })
  const exited = new Promise<NodeJS.Signals | null>(resolve => child.on('exit', (_code, signal) => resolve(signal)))
  child.stdout!.on('data', (b: Buffer) => {
    rest += b.toString()
    const lines = rest.split('\n')
    rest = lines.pop()!
    for (const line of lines) {
      const r = /^recycled (\d+)$/.exec(line)
      if (r !== null) recycled = Number(r[1])
      const m = /^ack (\d+) (\d+) (\d+)$/.exec(line)
      if (m === null) continue
      acks.push({ id: Number(m[1]), position: Number(m[2]), size: Number(m[3]) })
      if (acks.length === killAfter) child.kill('SIGKILL')
    }
  })
  // Bounded: the child acknowledges hundreds of records a second; if it dies or hangs, say so.
  const timer = setTimeout(() => child.kill('SIGKILL'), 50_000)
  const signal = await exited
  clearTimeout(timer)
  expect(err).toBe('')
  expect(signal).toBe('SIGKILL')
  expect(acks.length).toBeGreaterThanOrEqual(killAfter)
  return { acks, recycled }
}

describe('forward queue crash safety', () => {
  it('after SIGKILL, every acknowledged record is in the queue, intact, where it was acknowledged', async () => {
    const dir = tempDir()
    const acked: Ack[] = []
    for (let round = 0; round < 3; round++) {
      const killAfter = 50 + Math.floor(Math.random() * 300)
      acked.push(...(await runAndKill(dir, round * 1_000_000, killAfter)).acks)

      const log = await DurableLog.open({ dir, segmentBytes: SEGMENT_BYTES })
      const cursor = log.cursor(`check-${round}`)
      const found = new Map<number, { id: number, ok: boolean, next: number }>()
      for (let reads = 0; reads < 100_000; reads++) {
        const batch = await cursor.read(64, 1 << 20)
        if (batch.length === 0) break
        for (const r of batch) {
          const id = new DataView(r.payload.buffer, r.payload.byteOffset, Math.min(4, r.payload.length)).getUint32(0, true)
          found.set(r.position, { id, ok: intact(id, r.payload), next: r.next })
        }
      }
      // Every record on disk is intact (torn bytes were cut, not read back as a record) ...
      expect([...found.values()].filter(f => !f.ok)).toEqual([])
      // ... and every acknowledged one is there.
      const missing = acked.filter(a => found.get(a.position)?.id !== a.id || found.get(a.position)!.next !== a.position + 24 + a.size)
      expect(missing).toEqual([])
      expect(log.stats().damagedRecords).toBe(0)
      expect(segmentFiles(dir).length).toBeGreaterThan(1)
      await log.deleteCursor(`check-${round}`)
      await log.close()
    }
  })

  it('with a destination that keeps up (segments recycled), every acknowledged record it had not committed is there after SIGKILL', async () => {
    const dir = tempDir()
    let recycledSeen = 0
    for (let round = 0; round < 3; round++) {
      // Enough acknowledgements for segments to be released and recycled before the kill.
      const killAfter = 300 + Math.floor(Math.random() * 300)
      const { acks, recycled } = await runAndKill(dir, round * 1_000_000, killAfter, true)
      recycledSeen += recycled
      const log = await DurableLog.open({ dir, segmentBytes: SEGMENT_BYTES })
      // The consumer's committed position: what it had not committed must all be there.
      const committed = log.cursor('consumer').position
      const check = log.cursor(`check-${round}`)
      const found = new Map<number, { id: number, ok: boolean, next: number }>()
      for (let reads = 0; reads < 100_000; reads++) {
        const batch = await check.read(64, 1 << 20)
        if (batch.length === 0) break
        for (const r of batch) {
          const id = new DataView(r.payload.buffer, r.payload.byteOffset, Math.min(4, r.payload.length)).getUint32(0, true)
          found.set(r.position, { id, ok: intact(id, r.payload), next: r.next })
        }
      }
      expect([...found.values()].filter(f => !f.ok)).toEqual([])
      const missing = acks.filter(a => a.position >= committed && (found.get(a.position)?.id !== a.id || found.get(a.position)!.next !== a.position + 24 + a.size))
      expect(missing).toEqual([])
      // Stale records of recycled files past the head are not damage.
      expect(log.stats().damagedRecords).toBe(0)
      await log.deleteCursor(`check-${round}`)
      await log.close()
    }
    expect(recycledSeen).toBeGreaterThan(0)
  })
})
