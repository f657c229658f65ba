/**
 * The query gate: at most `concurrency` queries run, at most `queue` wait (in arrival order), one
 * more is refused at once with query_queue_full, a waiting query gives up after `waitMs`, and one
 * whose client went away leaves the queue.
 */
import { describe, expect, it } from 'vitest'
import { IngestError } from '../../../src/errors.js'
import { QueryGate, type Leave } from '../../../src/sinks/duckdb/query-gate.js'

const refusal = async (p: Promise<unknown>): Promise<string | undefined> => await p.then(() => undefined, (e: unknown) => (e as IngestError).code)

describe('query gate', () => {
  it('lets `concurrency` run, queues `queue` in order, and refuses the next one at once', async () => {
    const gate = new QueryGate({ concurrency: 2, queue: 2, waitMs: 60_000 })
    const a = await gate.enter()
    const b = await gate.enter()
    const order: string[] = []
    const c = gate.enter().then(leave => { order.push('c'); return leave })
    const d = gate.enter().then(leave => { order.push('d'); return leave })
    expect([gate.running, gate.waiting]).toEqual([2, 2])
    const e = await refusal(gate.enter())
    expect(e).toBe('query_queue_full')
    expect(new IngestError('query_queue_full', '').status).toBe(503)
    a()
    a() // leaving twice frees one turn only
    const leaveC = await c
    expect(order).toEqual(['c'])
    expect([gate.running, gate.waiting]).toEqual([2, 1])
    b()
    const leaveD = await d
    expect(order).toEqual(['c', 'd'])
    for (const leave of [leaveC, leaveD] as Leave[]) leave()
    expect([gate.running, gate.waiting]).toEqual([0, 0])
  })

  it('a waiting query gives up after waitMs (this test depends on time: waitMs is a time limit)', async () => {
    const gate = new QueryGate({ concurrency: 1, queue: 4, waitMs: 50 })
    const leave = await gate.enter()
    expect(await refusal(gate.enter())).toBe('query_queue_full')
    expect(gate.waiting).toBe(0)
    leave()
    expect(gate.running).toBe(0)
  })

  it('a query whose client went away leaves the queue, and one already given up does not enter', async () => {
    const gate = new QueryGate({ concurrency: 1, queue: 4, waitMs: 60_000 })
    const leave = await gate.enter()
    const gone = new AbortController()
    const waiting = refusal(gate.enter(gone.signal))
    expect(gate.waiting).toBe(1)
    gone.abort()
    expect(await waiting).toBe('query_failed')
    expect(gate.waiting).toBe(0)
    expect(await refusal(gate.enter(gone.signal))).toBe('query_failed')
    leave()
    expect(gate.running).toBe(0)
  })
})
