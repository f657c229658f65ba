/**
 * The forward worker's progress: commits and the figures of every relay leave in one message per turn
 * of the event loop, the newest commit of each destination only, and nothing when nothing is new.
 */
import { describe, expect, it } from 'vitest'
import { FiguresRelay } from '../../src/forward/figures-relay.js'
import { WorkerProgress } from '../../src/forward/worker-progress.js'
import type { FromWorker } from '../../src/forward/worker-protocol.js'

const nextTurn = async (): Promise<void> => { await new Promise<void>(resolve => setImmediate(resolve)) }

function setup (): { progress: WorkerProgress, posted: FromWorker[], a: FiguresRelay, b: FiguresRelay } {
  const posted: FromWorker[] = []
  const progress = new WorkerProgress(m => posted.push(m))
  const a = progress.relay(new FiguresRelay('a', () => progress.changed()))
  const b = progress.relay(new FiguresRelay('b', () => progress.changed()))
  return { progress, posted, a, b }
}

describe('WorkerProgress', () => {
  it('sends a commit and the figures counted in the same turn as one message', async () => {
    const { progress, posted, a } = setup()
    progress.commit('a', 100)
    a.request('sent', '204').inc()
    a.samplesSent.inc(10_000)
    a.sendDuration.observe(0.002)
    progress.commit('a', 250) // the newer commit replaces the older one
    await nextTurn()
    expect(posted).toHaveLength(1)
    const m = posted[0]!
    if (m.t !== 'progress') throw new Error(`expected a progress message, got ${m.t}`)
    expect(m.commits).toEqual([['a', 250]])
    expect(m.figures).toHaveLength(1)
    expect(m.figures[0]).toMatchObject({ destination: 'a', requests: [['sent', '204', 1]], samplesSent: 10_000, durations: [0.002] })
  })

  it('takes figures from every relay that counted something, and only those', async () => {
    const { posted, a, b } = setup()
    b.samplesDropped.inc(5)
    await nextTurn()
    expect(posted).toHaveLength(1)
    const m = posted[0]!
    if (m.t !== 'progress') throw new Error(`expected a progress message, got ${m.t}`)
    expect(m.commits).toEqual([])
    expect(m.figures.map(f => f.destination)).toEqual(['b'])
    a.samplesSent.inc(1)
    b.samplesSent.inc(2)
    await nextTurn()
    expect(posted).toHaveLength(2)
    const n = posted[1]!
    if (n.t !== 'progress') throw new Error(`expected a progress message, got ${n.t}`)
    expect(n.figures.map(f => [f.destination, f.samplesSent, f.samplesDropped])).toEqual([['a', 1, 0], ['b', 2, 0]])
  })

  it('posts nothing when nothing is new, and flush sends what is pending at once', async () => {
    const { progress, posted, a } = setup()
    progress.flush()
    await nextTurn()
    expect(posted).toHaveLength(0)
    a.stuck.set(1)
    progress.flush()
    expect(posted).toHaveLength(1)
    await nextTurn() // the scheduled flush finds nothing left
    expect(posted).toHaveLength(1)
  })
})
