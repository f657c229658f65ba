/**
 * Issue 10, item 1: no valid write can break a restart. The real service (dist/) takes series as
 * large as its label limits allow (set here explicitly, so the test does not depend on defaults),
 * far more label bytes in all than DuckDB's memory limit (the default, 96 MB), and must then start
 * again on the same data directory: after a SIGKILL (the write-ahead log replayed) and after a clean
 * stop. The started service knows every stored series under its id (a resend stores no series row
 * twice). On 4720ce7 the start failed: `Out of Memory Error: failed to pin block`.
 */
import { join } from 'node:path'
import { Agent } from 'undici'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { compressBody, encode1, type LabelPair } from '../fixtures/encode.js'
import { postWrite } from '../helpers/remote-write.js'
import { startServiceProcess, type ServiceProcess } from '../helpers/service-process.js'
import { ensureWorkerBuilt, removeTempDirs, tempDir } from '../sinks/duckdb/helpers.js'

const MAX_LABELS = 8
const MAX_NAME_BYTES = 64
const MAX_VALUE_BYTES = 65536
// The key bound lets the largest series through: each label is its name and value with two tags and
// two 3-byte lengths in the key, plus a little room for the tenant.
const MAX_KEY_BYTES = MAX_LABELS * (MAX_NAME_BYTES + MAX_VALUE_BYTES + 8) + 1024
const LIMITS = ['--max-labels-per-series', String(MAX_LABELS), '--max-label-name-bytes', String(MAX_NAME_BYTES), '--max-label-value-bytes', String(MAX_VALUE_BYTES), '--max-series-key-bytes', String(MAX_KEY_BYTES)]
const SERIES_PER_REQUEST = 8
const REQUESTS = 28
const SENDERS = 4
const T = Date.UTC(2025, 8, 1)

/** Series `i`: every label at the limits (the largest series allowed), told apart by the last bytes of each value. */
function largestSeries (i: number): LabelPair[] {
  const tag = String(i).padStart(8, '0')
  const labels: LabelPair[] = [['__name__', `large_series_${'x'.repeat(MAX_VALUE_BYTES - 21)}${tag}`]]
  for (let k = 1; k < MAX_LABELS; k++) {
    const name = `l${k}_${'n'.repeat(MAX_NAME_BYTES - 3 - String(k).length)}`
    labels.push([name, String.fromCharCode(96 + k).repeat(MAX_VALUE_BYTES - 8) + tag])
  }
  return labels
}

function body (request: number, ts: number): Uint8Array {
  const timeseries = Array.from({ length: SERIES_PER_REQUEST }, (_, j) => ({
    labels: largestSeries(request * SERIES_PER_REQUEST + j),
    samples: [{ value: request, timestamp: ts }]
  }))
  return compressBody(encode1({ timeseries }).body)
}

async function sql (url: string, query: string): Promise<string> {
  const res = await fetch(`${url}/api/v1/query?format=csv`, { method: 'POST', body: query })
  const text = await res.text()
  if (res.status !== 200) throw new Error(`query answered ${res.status}: ${text}`)
  return text.trim().split('\n').slice(1).join('\n')
}

let running: ServiceProcess[] = []
afterEach(async () => { await Promise.all(running.map(p => p.stop('SIGKILL'))); running = [] })
afterAll(removeTempDirs)

async function serve (dataDir: string): Promise<ServiceProcess> {
  const p = await startServiceProcess(['--sink', 'duckdb', '--data-dir', dataDir, '--log-level', 'warn', ...LIMITS], {}, { startTimeoutMs: 120_000 })
  running.push(p)
  return p
}

describe('a restart after the largest series the limits allow', () => {
  it('starts again, after a SIGKILL and after a clean stop, with every series under its id', async () => {
    ensureWorkerBuilt()
    const dataDir = join(tempDir('prom-ingest-large-series-'), 'data')
    const first = await serve(dataDir)
    const dispatcher = new Agent({ connections: SENDERS })
    const statuses: number[] = []
    await Promise.all(Array.from({ length: SENDERS }, async (_, s) => {
      for (let r = s; r < REQUESTS; r += SENDERS) {
        const answer = await postWrite(first.url, body(r, T), { dispatcher })
        statuses.push(answer.status)
        if (answer.status !== 204) throw new Error(`request ${r} answered ${answer.status}: ${answer.body}`)
      }
    }))
    await dispatcher.close()
    expect(statuses).toEqual(Array(REQUESTS).fill(204))
    const series = REQUESTS * SERIES_PER_REQUEST
    const labelBytes = series * largestSeries(0).reduce((n, [name, value]) => n + String(name).length + String(value).length, 0)
    expect(labelBytes).toBeGreaterThan(96e6) // beyond DuckDB's memory limit, stored twice (labels and key)
    // A crash: the next start replays the write-ahead log.
    first.child.kill('SIGKILL')
    await first.exited

    const second = await serve(dataDir)
    expect(await sql(second.url, 'SELECT count(*), count(DISTINCT id) FROM series')).toBe(`${series},${series}`)
    expect(await second.stop('SIGTERM')).toBe(0)

    // A clean stop, then a start that takes every series back under its id: a resend adds samples, not series.
    const third = await serve(dataDir)
    for (const r of [0, REQUESTS - 1]) expect((await postWrite(third.url, body(r, T + 1000))).status).toBe(204)
    expect(await sql(third.url, 'SELECT count(*), count(DISTINCT id) FROM series')).toBe(`${series},${series}`)
    expect(await sql(third.url, `SELECT count(*) FROM samples_with_labels WHERE epoch_ms(ts) = ${T + 1000}`)).toBe(String(2 * SERIES_PER_REQUEST))
    expect(await third.stop('SIGTERM')).toBe(0)
  }, 300_000)
})
