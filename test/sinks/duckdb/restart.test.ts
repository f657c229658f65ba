/**
 * Series ids survive a restart: a new process (a fresh series index) opening the same data directory
 * gets every stored series back under its id, decodes known series to those ids, gives new series
 * ids above them, and never stores a series twice.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { encode1, type LabelPair } from '../../fixtures/encode.js'
import { openSink, removeTempDirs, rows, tempDir, TestDecoder } from './helpers.js'

afterAll(removeTempDirs)

const T = Date.UTC(2025, 3, 1)

function series (n: number, first = 0): LabelPair[][] {
  return Array.from({ length: n }, (_, k) => [['__name__', 'restart_test'], ['i', String(first + k)], ['job', 'r']] as LabelPair[])
}

function body (labels: LabelPair[][], ts: number): Uint8Array {
  return encode1({ timeseries: labels.map(l => ({ labels: l, samples: [{ value: 1, timestamp: ts }] })) }).body
}

describe('restart', () => {
  it('keeps series ids, loads them into the new index, and stores no series twice', async () => {
    const dir = tempDir()
    const first = new TestDecoder()
    const a = await openSink(dir, { index: first.index })
    const plain = first.batch(body(series(100), T))
    const tenanted = first.batch(body(series(5), T), { tenant: 'team-b' }) // same labels, another tenant: other series
    const plainIds = Array.from(plain.seriesRefs)
    const tenantIds = Array.from(tenanted.seriesRefs)
    expect(new Set([...plainIds, ...tenantIds]).size).toBe(105)
    await Promise.all([a.write(plain), a.write(tenanted)])
    await a.close()

    // A new process: a fresh series index, empty until the sink loads it.
    const second = new TestDecoder()
    expect(second.index.size).toBe(0)
    const b = await openSink(dir, { index: second.index })
    expect(b.loaded).toEqual({ count: 105, maxId: Math.max(...plainIds, ...tenantIds), conflicts: 0 })
    expect(second.index.size).toBe(105)
    for (const id of plainIds) expect(second.index.labelsOf(id)).toEqual(first.index.labelsOf(id))
    for (const id of tenantIds) expect(second.index.tenantOf(id)).toBe('team-b')

    // Known series decode to their stored ids; new ones get ids above every stored id.
    const again = second.batch(body(series(110), T + 1000))
    expect(Array.from(again.seriesRefs).slice(0, 100)).toEqual(plainIds)
    expect(again.newSeriesCount).toBe(10)
    const newIds = Array.from(again.seriesRefs).slice(100)
    expect(Math.min(...newIds)).toBeGreaterThan(Math.max(...plainIds, ...tenantIds))
    const againTenant = second.batch(body(series(5), T + 1000), { tenant: 'team-b' })
    expect(Array.from(againTenant.seriesRefs)).toEqual(tenantIds)
    await Promise.all([b.write(again), b.write(againTenant)])

    expect(await rows(b, 'SELECT count(*) AS n, count(DISTINCT id) AS ids, count(DISTINCT (tenant, label_key)) AS keys FROM series')).toEqual([{ n: 115, ids: 115, keys: 115 }])
    expect(await rows(b, "SELECT tenant, count(*) AS n FROM samples_with_labels GROUP BY tenant ORDER BY tenant")).toEqual([{ tenant: '', n: 210 }, { tenant: 'team-b', n: 10 }])
    // Each series' samples from before and after the restart are under the same id.
    expect(await rows(b, "SELECT count(*) AS n FROM (SELECT series_id FROM samples GROUP BY series_id HAVING count(*) = 2)")).toEqual([{ n: 105 }])
    await b.close()

    // A third start, without a series index (tools): still loads the stored set, stores nothing twice.
    const third = new TestDecoder(second.index)
    const c = await openSink(dir, {})
    expect(c.loaded?.count).toBe(115)
    await c.write(third.batch(body(series(110), T + 2000)))
    expect(await rows(c, 'SELECT count(*) AS n FROM series')).toEqual([{ n: 115 }])
    await c.close()
  })
})
