/**
 * The cardinality figures computed in the status worker (a real worker thread on the shared series
 * index): answers reused within the cache time, recomputed after it, one computation shared by
 * callers of the same query, and a dead worker answered 503 then replaced.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { getPriority } from 'node:os'
import type { Worker } from 'node:worker_threads'
import { afterEach, describe, expect, it } from 'vitest'
import { encodeLabels } from '../../src/series/labels.js'
import { SeriesIndex } from '../../src/series/series-index.js'
import type { TsdbQuery } from '../../src/status/cardinality.js'
import { CardinalityService } from '../../src/status/cardinality-service.js'
import { ensureDistBuilt } from '../helpers/dist-build.js'
import { statusSeries } from '../helpers/status-series.js'

ensureDistBuilt('dist/workers/status-worker.js', ['src', 'workers'])

const Q: TsdbQuery = { topN: 10, focusLabel: '', match: [], date: '' }
let services: CardinalityService[] = []
afterEach(async () => {
  await Promise.all(services.map(s => s.close()))
  services = []
})

function setUp (cacheMs: number): { index: SeriesIndex, service: CardinalityService } {
  const index = SeriesIndex.create({ maxSeries: 1000 })
  statusSeries().slice(0, 10).forEach((l, i) => { index.insertWithId(encodeLabels(l), i + 1) })
  const service = new CardinalityService({ index: index.shared, marks: () => ({ times: [], lastIds: [] }), headTimes: () => ({ minTime: 0, maxTime: 0 }) }, cacheMs)
  services.push(service)
  return { index, service }
}

describe('CardinalityService', () => {
  it('reuses an answer within the cache time, so a page load does not walk the index again', async () => {
    const { index, service } = setUp(3_600_000)
    const a = await service.status(Q)
    expect(a.status.headStats.numSeries).toBe(10)
    index.insertWithId(encodeLabels(statusSeries()[20]!), 11)
    const b = await service.status(Q)
    expect(b.computedAt).toBe(a.computedAt)
    expect(b.status.headStats.numSeries).toBe(10)
    // Another query is computed: it sees the new series.
    expect((await service.status({ ...Q, topN: 11 })).status.headStats.numSeries).toBe(11)
  })

  it('computes again once the cache time is over, and shares one computation among callers of one query', async () => {
    const { index, service } = setUp(0)
    expect((await service.status(Q)).status.headStats.numSeries).toBe(10)
    index.insertWithId(encodeLabels(statusSeries()[20]!), 11)
    const [x, y] = await Promise.all([service.status(Q), service.status(Q)])
    expect(x.status.headStats.numSeries).toBe(11)
    expect(y.status).toBe(x.status)
  })

  it('answers 503 status_unavailable when the worker dies, and starts another on the next request', async () => {
    const { service } = setUp(0)
    await service.status(Q)
    const worker = (service as unknown as { worker: Worker }).worker
    // Stopped before the request is posted to it: the request is never answered by that worker.
    const stopped = worker.terminate()
    const pending = service.status({ ...Q, topN: 2 })
    await stopped
    await expect(pending).rejects.toMatchObject({ code: 'status_unavailable' })
    expect((await service.status(Q)).status.headStats.numSeries).toBe(10)
  })

  it.runIf(process.platform === 'linux')('runs the worker at the lowest CPU priority, the rest of the process at its own', async () => {
    const own = getPriority()
    const { service } = setUp(0)
    await service.status(Q)
    // /proc/self/task/<tid>/stat: field 19 is the thread's nice value.
    const nice = readdirSync('/proc/self/task').map(t => Number(readFileSync(`/proc/self/task/${t}/stat`, 'utf8').split(') ')[1]!.split(' ')[16]))
    expect(nice).toContain(19)
    expect(getPriority()).toBe(own)
  })
})
