/**
 * The group fsync on its own, with a writer whose fsyncs the test finishes by hand: appends that
 * arrive while a group is being made durable wait together and become the next group; none resolves
 * before its group's fsync ended; a failed group rejects every append in it and the next one works;
 * the delay window gathers appends, and drain() cuts it short.
 */
import { describe, expect, it } from 'vitest'
import { IngestError } from '../../src/errors.js'
import { GroupFsync, type GroupWriter, type PendingAppend } from '../../src/queue/group-fsync.js'

/** A record stand-in: its first part's first byte names it. */
const item = (k: number): PendingAppend => ({ parts: [Uint8Array.of(k)], payloadBytes: 1, appendedAtMs: 0 })

class HandWriter implements GroupWriter {
  /** The groups handed to persist(), as record names. */
  readonly groups: number[][] = []
  private readonly finishers: Array<{ ok: () => void, fail: (e: Error) => void }> = []
  private position = 0

  async persist (group: readonly PendingAppend[]): Promise<number[]> {
    this.groups.push(group.map(g => g.parts[0]![0]!))
    await new Promise<void>((resolve, reject) => this.finishers.push({ ok: resolve, fail: reject }))
    return group.map(() => this.position++)
  }

  /** Groups whose fsync has not finished. */
  get syncing (): number { return this.finishers.length }
  finish (error?: Error): void {
    const f = this.finishers.shift()!
    if (error === undefined) f.ok()
    else f.fail(error)
  }
}

const tick = async (): Promise<void> => await new Promise(resolve => setImmediate(resolve))

function track (g: GroupFsync, k: number, outcome: Map<number, string>): Promise<void> {
  return g.append(item(k)).then(p => { outcome.set(k, `at ${p}`) }, (e: Error) => { outcome.set(k, e.message) })
}

describe('GroupFsync', () => {
  it('appends that arrive while a group is fsync\'d become the next group, and resolve only after its fsync', async () => {
    const w = new HandWriter()
    const g = new GroupFsync(w)
    const outcome = new Map<number, string>()
    track(g, 1, outcome)
    await tick()
    expect(w.groups).toEqual([[1]])
    // Arrive while group 1 is being made durable.
    for (const k of [2, 3, 4]) track(g, k, outcome)
    await tick()
    expect(w.groups).toEqual([[1]]) // nothing written until group 1 is durable
    expect(outcome.size).toBe(0)
    expect(g.waiting).toBe(4)
    w.finish()
    await tick()
    expect([...outcome]).toEqual([[1, 'at 0']])
    expect(w.groups).toEqual([[1], [2, 3, 4]]) // one group, one fsync for all three
    expect(w.syncing).toBe(1)
    w.finish()
    await tick()
    expect([...outcome]).toEqual([[1, 'at 0'], [2, 'at 1'], [3, 'at 2'], [4, 'at 3']])
    expect(g.groups).toBe(2)
    expect(g.waiting).toBe(0)
  })

  it('appends made in the same tick share the first group', async () => {
    const w = new HandWriter()
    const g = new GroupFsync(w)
    const outcome = new Map<number, string>()
    for (let k = 0; k < 10; k++) track(g, k, outcome)
    await tick()
    expect(w.groups).toEqual([[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]])
    w.finish()
    await g.drain()
    expect(outcome.size).toBe(10)
  })

  it('a failed group rejects every append in it with a retryable sink_failed, and the next group works', async () => {
    const w = new HandWriter()
    const g = new GroupFsync(w)
    const errors: unknown[] = []
    const first = [1, 2].map(k => g.append(item(k)).catch((e: unknown) => { errors.push(e) }))
    await tick()
    const outcome = new Map<number, string>()
    track(g, 3, outcome)
    w.finish(new Error('EIO: i/o error, fdatasync'))
    await Promise.all(first)
    expect(errors).toHaveLength(2)
    for (const e of errors) {
      expect(e).toBeInstanceOf(IngestError)
      expect((e as IngestError).code).toBe('sink_failed')
      expect((e as IngestError).retryable).toBe(true)
      expect((e as IngestError).message).toMatch(/forward queue could not store the request: EIO/)
    }
    await tick()
    expect(w.groups).toEqual([[1, 2], [3]])
    w.finish()
    await g.drain()
    expect(outcome.get(3)).toBe('at 0')
  })

  it('with a delay, a group waits for more appends; drain() takes them at once', async () => {
    const w = new HandWriter()
    const g = new GroupFsync(w, { delayMs: 3_600_000 }) // an hour: only drain() can end the window
    const outcome = new Map<number, string>()
    track(g, 1, outcome)
    await tick()
    track(g, 2, outcome)
    await tick()
    expect(w.groups).toEqual([]) // both wait inside the window
    const drained = g.drain()
    await tick()
    expect(w.groups).toEqual([[1, 2]])
    w.finish()
    await drained
    expect(outcome.size).toBe(2)
  })
})
