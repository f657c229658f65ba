/**
 * Crash safety of the DuckDB store, against the real service process (dist/, built by `npm test`):
 * senders keep writing requests, each with its own request-id label, while the test kills the
 * service with SIGKILL at a random point of the load (right after a random number of requests were
 * acknowledged, with the other senders' requests in flight); several rounds on the same data
 * directory, each killed at another point. After each kill the database file is opened (the write-ahead log replayed) and:
 * - every request that got a 204 is in the store in full;
 * - no sample is stored twice;
 * - a request that got no answer is there in full or not at all (never in part).
 * Each next round restarts on the same file, so series loading after a crash is exercised too.
 *
 * Both acknowledgements (duckdb-ack): at DuckDB's commit, and at the store's log. With the log, a
 * request may have its 204 while DuckDB does not hold it yet: the check runs after a restart has
 * stored the log again (and stopped), and a row stored twice in `sample_rows` (committed, the log's
 * cursor not yet past it) is allowed, the `samples` views showing it once.
 */
import { join } from 'node:path'
import { DuckDBInstance } from '@duckdb/node-api'
import { afterAll, describe, expect, it } from 'vitest'
import { databaseFile } from '../../src/sinks/duckdb/open-database.js'
import { encode1, compressBody, mulberry32, type LabelPair } from '../fixtures/encode.js'
import { startServiceProcess, type ServiceProcess } from '../helpers/service-process.js'
import { postWrite } from '../helpers/remote-write.js'
import { sendUntilKilled } from '../helpers/kill-under-load.js'
import { ensureWorkerBuilt, removeTempDirs, tempDir } from '../sinks/duckdb/helpers.js'

const ROUNDS = 4
const SENDERS = 4
const SERIES_PER_REQUEST = 100
const SAMPLES_PER_SERIES = 2
const BASE = Date.UTC(2025, 6, 1)

interface Sent { readonly id: string, readonly ts: number, status: number | 'no answer' }

/** Request `k` of sender `s` in round `r`: its own series (request_id label) and one sample on the sender's shared series. */
function request (r: number, s: number, k: number): { id: string, ts: number, body: Uint8Array } {
  const id = `r${r}-s${s}-k${k}`
  const ts = BASE + r * 1_000_000 + k * 10 // unique per sender and request; the shared series gets one sample per request
  const own = Array.from({ length: SERIES_PER_REQUEST }, (_, i) => ({
    labels: [['__name__', 'crash_test'], ['request_id', id], ['series', String(i)]] as LabelPair[],
    samples: Array.from({ length: SAMPLES_PER_SERIES }, (_, j) => ({ value: k * 1000 + i + j / 10, timestamp: ts + j }))
  }))
  const shared = { labels: [['__name__', 'crash_shared'], ['sender', `s${s}`]] as LabelPair[], samples: [{ value: k, timestamp: ts }] }
  return { id, ts, body: compressBody(encode1({ timeseries: [...own, shared] }).body) }
}

async function check (dataDir: string, sent: Sent[], ack: 'commit' | 'log'): Promise<{ acked: number, unanswered: number, unansweredStored: number }> {
  const instance = await DuckDBInstance.create(databaseFile(dataDir), { access_mode: 'READ_ONLY' })
  try {
    const c = await instance.connect()
    const one = async (sql: string): Promise<unknown[][]> => (await c.runAndReadAll(sql)).getRowsJS() as unknown[][]
    // No sample twice, anywhere (with the log: in what the views show).
    expect(await one(`SELECT series_id, ts, count(*) FROM ${ack === 'commit' ? 'sample_rows' : 'samples'} GROUP BY ALL HAVING count(*) > 1 LIMIT 5`)).toEqual([])
    expect(await one('SELECT count(*) - count(DISTINCT (tenant, label_key)) FROM series')).toEqual([[0n]])
    // Rows per request id (own series) and the shared series' samples by timestamp.
    const perRequest = new Map((await one("SELECT labels['request_id'], count(*) FROM samples_with_labels WHERE metric = 'crash_test' GROUP BY 1"))
      .map(([id, n]) => [String(id), Number(n)]))
    const shared = new Map((await one("SELECT labels['sender'], epoch_ms(ts), count(*) FROM samples_with_labels WHERE metric = 'crash_shared' GROUP BY ALL"))
      .map(([s, ts, n]) => [`${String(s)}@${String(ts)}`, Number(n)]))
    c.closeSync()
    const full = SERIES_PER_REQUEST * SAMPLES_PER_SERIES
    let acked = 0
    let unanswered = 0
    let unansweredStored = 0
    for (const x of sent) {
      const own = perRequest.get(x.id) ?? 0
      const sender = x.id.split('-')[1]!
      const sharedHere = shared.get(`${sender}@${x.ts}`) ?? 0
      if (x.status === 204) {
        acked++
        expect({ id: x.id, own, shared: sharedHere }).toEqual({ id: x.id, own: full, shared: 1 })
      } else {
        // Not acknowledged: all of it or nothing, never a part.
        expect([0, full]).toContain(own)
        expect(sharedHere).toBe(own === 0 ? 0 : 1)
        unanswered++
        if (own > 0) unansweredStored++
      }
    }
    return { acked, unanswered, unansweredStored }
  } finally {
    instance.closeSync()
  }
}

afterAll(removeTempDirs)

describe.each(['commit', 'log'] as const)('crash safety (SIGKILL under load), duckdb-ack %s', ack => {
  const serve = (dataDir: string): string[] => ['--sink', 'duckdb', '--data-dir', dataDir, '--log-level', 'warn', '--duckdb-ack', ack]
  it(`keeps every acknowledged request exactly once over ${ROUNDS} kills at random moments`, async () => {
    ensureWorkerBuilt()
    const dataDir = join(tempDir('prom-ingest-crash-'), 'data')
    const random = mulberry32(0xc0ffee)
    const sent: Sent[] = []
    let totalAcked = 0
    for (let round = 0; round < ROUNDS; round++) {
      const service: ServiceProcess = await startServiceProcess(serve(dataDir))
      // The kill: right after the killAfter-th acknowledgement of this round (1 to 60), while the
      // other senders' requests are in flight.
      const killAfter = 1 + Math.floor(random() * 60)
      let ackedThisRound = 0
      await sendUntilKilled(service, {
        senders: SENDERS,
        perSender: 100_000,
        next: (s, k) => { const req = request(round, s, k); return { sent: { id: req.id, ts: req.ts, status: 'no answer' }, body: req.body } },
        sent,
        killNow: () => ++ackedThisRound === killAfter,
        round: `round ${round}`
      })
      if (ack === 'log') {
        // What got its 204 may be in the log alone: a start stores it again before it listens.
        const restarted = await startServiceProcess(serve(dataDir))
        await restarted.stop('SIGTERM')
      }
      const result = await check(dataDir, sent, ack)
      expect(result.acked - totalAcked, `round ${round}: acknowledged before the kill`).toBeGreaterThanOrEqual(killAfter)
      totalAcked = result.acked
    }
    expect(totalAcked).toBeGreaterThan(ROUNDS)

    // A clean start after the last crash serves the stored data, series ids intact.
    const service = await startServiceProcess(serve(dataDir))
    try {
      const again = request(0, 0, 0) // the very first request, sent again: same series, same sample timestamps
      expect((await postWrite(service.url, again.body)).status).toBe(204)
    } finally {
      await service.stop('SIGTERM')
    }
    const instance = await DuckDBInstance.create(databaseFile(dataDir), { access_mode: 'READ_ONLY' })
    try {
      const c = await instance.connect()
      // Its series were not stored twice: the restarted service knew their ids.
      const rows = (await c.runAndReadAll("SELECT count(*), count(DISTINCT id) FROM series WHERE labels['request_id'] = 'r0-s0-k0'")).getRowsJS()
      expect(rows).toEqual([[BigInt(SERIES_PER_REQUEST), BigInt(SERIES_PER_REQUEST)]])
      c.closeSync()
    } finally {
      instance.closeSync()
    }
  })
})
