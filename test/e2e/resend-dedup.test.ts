/**
 * Issue 10, item 9: a resent request does not store its samples twice, as seen by every read (the
 * `samples`, `samples_with_labels`, `histograms` views, the query route and export read through them).
 * Against the real service (dist/): the same body sent twice; a resend that carries other values (the
 * first stored value is kept, docs/store-dedup.md); and a SIGKILL while senders write, after which
 * every request is sent again, as a sender does with requests whose answer it never got. On 4720ce7
 * the same body sent twice stored every sample twice.
 */
import { join } from 'node:path'
import { Agent } from 'undici'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { compressBody, encode1, type TimeSeries1 } from '../fixtures/encode.js'
import { postWrite } from '../helpers/remote-write.js'
import { startServiceProcess, type ServiceProcess } from '../helpers/service-process.js'
import { ensureWorkerBuilt, removeTempDirs, tempDir } from '../sinks/duckdb/helpers.js'

const T = Date.UTC(2025, 11, 1)

let running: ServiceProcess[] = []
afterEach(async () => { await Promise.all(running.map(p => p.stop('SIGKILL'))); running = [] })
afterAll(removeTempDirs)

async function serve (dataDir: string): Promise<ServiceProcess> {
  const p = await startServiceProcess(['--sink', 'duckdb', '--data-dir', dataDir, '--log-level', 'warn'])
  running.push(p)
  return p
}

async function sql (url: string, query: string): Promise<string> {
  const res = await fetch(`${url}/api/v1/query?format=csv`, { method: 'POST', body: query })
  const text = await res.text()
  if (res.status !== 200) throw new Error(`query answered ${res.status}: ${text}`)
  return text.trim().split('\n').slice(1).join('\n')
}

/** Request `id`: 100 series of its own with two samples each, and a histogram on the first. */
function request (id: string, value: number): Uint8Array {
  const timeseries: TimeSeries1[] = Array.from({ length: 100 }, (_, i) => ({
    labels: [['__name__', 'resend_test'], ['request_id', id], ['i', String(i)]],
    samples: [{ value: value + i, timestamp: T }, { value: value + i + 0.5, timestamp: T + 1 }],
    ...(i === 0 ? { histograms: [{ kind: 'float', count: value, sum: value, schema: 0, zeroThreshold: 0, zeroCount: 0, negativeSpans: [], negativeBuckets: [], positiveSpans: [], positiveBuckets: [], resetHint: 0, timestamp: T, customValues: [] }] } : {})
  }))
  return compressBody(encode1({ timeseries }).body)
}

describe('resent requests', () => {
  it('keep each (series, timestamp) once, with the value stored first', async () => {
    ensureWorkerBuilt()
    const service = await serve(join(tempDir('prom-ingest-resend-'), 'data'))
    for (let k = 0; k < 2; k++) expect((await postWrite(service.url, request('a', 1000))).status).toBe(204)
    expect((await postWrite(service.url, request('a', 5000))).status).toBe(204) // same series and timestamps, other values
    const where = "labels['request_id'] = 'a'"
    expect(await sql(service.url, `SELECT count(*), count(DISTINCT (series_id, ts)), sum(value) FROM samples_with_labels WHERE ${where}`))
      .toBe(`200,200,${100 * 1000 * 2 + 2 * (99 * 100 / 2) + 100 * 0.5}`)
    expect(await sql(service.url, `SELECT count(*) FROM samples WHERE series_id IN (SELECT id FROM series WHERE ${where})`)).toBe('200')
    expect(await sql(service.url, `SELECT count(*), min(sum) FROM histograms_with_labels WHERE ${where}`)).toBe('1,1000')
    // The rows as appended are all there (compaction will drop them): the views hide the resends.
    expect(await sql(service.url, 'SELECT count(*) FROM sample_rows')).toBe('600')
  })

  it('keep each (series, timestamp) once when every request is sent again after a SIGKILL', async () => {
    ensureWorkerBuilt()
    const dataDir = join(tempDir('prom-ingest-resend-kill-'), 'data')
    const first = await serve(dataDir)
    const dispatcher = new Agent({ connections: 4 })
    const sent: string[] = []
    let killed = false
    const senders = Array.from({ length: 4 }, async (_, s) => {
      for (let k = 0; !killed && k < 10_000; k++) {
        const id = `s${s}-k${k}`
        sent.push(id)
        try { await postWrite(first.url, request(id, k), { dispatcher }) } catch { return } // the service is gone
      }
    })
    // The kill: once some requests were answered, while others are in flight.
    for (let i = 0; i < 1000 && sent.length < 40; i++) await new Promise(resolve => setTimeout(resolve, 10))
    first.child.kill('SIGKILL')
    killed = true
    await first.exited
    await Promise.allSettled(senders)
    await dispatcher.destroy()

    const second = await serve(dataDir)
    for (const id of sent) expect((await postWrite(second.url, request(id, 0))).status).toBe(204)
    const perRequest = await sql(second.url, "SELECT count(*), count(DISTINCT labels['request_id']), count(DISTINCT (series_id, ts)) FROM samples_with_labels WHERE metric = 'resend_test'")
    expect(perRequest).toBe(`${sent.length * 200},${sent.length},${sent.length * 200}`)
    // Requests stored before the kill were stored again by the resend.
    expect(Number(await sql(second.url, 'SELECT count(*) FROM sample_rows'))).toBeGreaterThan(sent.length * 200)
    expect(await second.stop('SIGTERM')).toBe(0)
  }, 120_000)
})
