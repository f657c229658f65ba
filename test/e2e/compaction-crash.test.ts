/**
 * Crash safety of compaction, against the real service process (dist/): senders write requests
 * (each with its own request_id label) with timestamps in 1-second block windows that are all
 * closed, so a compaction pass starts every 50 ms and compacts what arrived since the last one:
 * compaction runs all the time beside the writes. Once the service has written blocks, the test
 * kills it with SIGKILL right after a random number of further acknowledgements (a random point
 * of some compaction: while a block is written, renamed, listed, or its head rows deleted).
 * Several rounds on the same data directory. After each kill the service is started again (it
 * reconciles the blocks directory with the manifest) and, through its query route:
 * - every request that got a 204 is read in full, exactly once, through the views;
 * - no (series, timestamp) is stored twice anywhere: head rows and block rows together;
 * - a request that got no answer is there in full or not at all;
 * - the blocks directory holds exactly the files the manifest lists, and no temp file.
 */
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { encode1, compressBody, mulberry32, type LabelPair } from '../fixtures/encode.js'
import { jsonLogs, startServiceProcess, type ServiceProcess } from '../helpers/service-process.js'
import { sendUntilKilled, type SentRequest } from '../helpers/kill-under-load.js'
import { queryRows } from '../helpers/store-query.js'
import { ensureWorkerBuilt, removeTempDirs, tempDir } from '../sinks/duckdb/helpers.js'

const ROUNDS = 4
const SENDERS = 3
const SERIES_PER_REQUEST = 50
const BASE = Date.UTC(2025, 6, 1)
const ARGS = ['--sink', 'duckdb', '--log-level', 'info', '--block-window', '1s', '--compaction-interval', '50ms']

/** Request `k` of sender `s` in round `r`: its own series, one sample each, in window (r, s, k / 20). */
function request (r: number, s: number, k: number): { id: string, body: Uint8Array } {
  const id = `r${r}-s${s}-k${k}`
  const ts = BASE + r * 10_000_000 + s * 1_000_000 + k * 50 // 20 requests per window and sender
  const timeseries = Array.from({ length: SERIES_PER_REQUEST }, (_, i) => ({
    labels: [['__name__', 'compaction_crash'], ['request_id', id], ['series', String(i % 5)]] as LabelPair[],
    samples: [{ value: k + i / 100, timestamp: ts + Math.floor(i / 5) }]
  }))
  return { id, body: compressBody(encode1({ timeseries }).body) }
}

async function check (service: ServiceProcess, dataDir: string, sent: SentRequest[]): Promise<{ acked: number, blocks: number }> {
  const perRequest = new Map((await queryRows(service.url, "SELECT labels['request_id'] AS id, count(*) AS n FROM samples_with_labels WHERE metric = 'compaction_crash' GROUP BY 1"))
    .map(r => [String(r.id), Number(r.n)]))
  let acked = 0
  for (const x of sent) {
    const n = perRequest.get(x.id) ?? 0
    if (x.status === 204) {
      acked++
      expect({ id: x.id, n }).toEqual({ id: x.id, n: SERIES_PER_REQUEST })
    } else {
      expect([0, SERIES_PER_REQUEST]).toContain(n)
    }
  }
  const listed = (await queryRows(service.url, "SELECT file FROM blocks WHERE kind = 'samples' ORDER BY file")).map(r => String(r.file))
  const files = readdirSync(join(dataDir, 'blocks')).sort()
  expect(files).toEqual(listed) // no temp file, no file left unlisted, no listed block without its file
  const raw = listed.length === 0
    ? 'SELECT series_id, ts FROM sample_rows'
    : `SELECT series_id, ts FROM read_parquet([${listed.map(f => `'${join(dataDir, 'blocks', f)}'`).join(', ')}]) UNION ALL SELECT series_id, ts FROM sample_rows`
  expect(await queryRows(service.url, `SELECT series_id, ts, count(*) AS n FROM (${raw}) GROUP BY ALL HAVING count(*) > 1 LIMIT 5`)).toEqual([])
  expect(await queryRows(service.url, `SELECT count(*) AS n FROM (${raw})`)).toEqual([{ n: [...perRequest.values()].reduce((a, b) => a + b, 0) }])
  return { acked, blocks: listed.length }
}

afterAll(removeTempDirs)

describe('compaction crash safety (SIGKILL while compacting)', () => {
  it(`keeps every sample exactly once, head and blocks together, over ${ROUNDS} kills at random moments of compaction`, async () => {
    ensureWorkerBuilt()
    const dataDir = join(tempDir('prom-ingest-compaction-crash-'), 'data')
    const random = mulberry32(0xb10c)
    const sent: SentRequest[] = []
    let compactionsSeen = 0
    for (let round = 0; round < ROUNDS; round++) {
      const service = await startServiceProcess([...ARGS, '--data-dir', dataDir])
      let compacted = false
      let ackedAfter = 0
      const killAfter = 1 + Math.floor(random() * 40) // acknowledgements after the first blocks of this round
      void service.waitForLog('compaction wrote blocks', 120_000).then(() => { compacted = true }, () => {})
      await sendUntilKilled(service, {
        senders: SENDERS,
        perSender: 20_000,
        next: (s, k) => { const req = request(round, s, k); return { sent: { id: req.id, status: 'no answer' }, body: req.body } },
        sent,
        killNow: () => compacted && ++ackedAfter === killAfter,
        round: `round ${round}`
      })
      compactionsSeen += jsonLogs(service.logs).filter(l => l.msg === 'compaction wrote blocks').length
      expect(compacted, `round ${round}: compaction ran before the kill`).toBe(true)

      const again = await startServiceProcess([...ARGS, '--compaction-interval', '0', '--data-dir', dataDir])
      try {
        const r = await check(again, dataDir, sent)
        expect(r.blocks).toBeGreaterThan(0)
      } finally {
        await again.stop('SIGTERM')
      }
    }
    expect(compactionsSeen).toBeGreaterThanOrEqual(ROUNDS)
  }, 300_000) // eight service starts and four loads: about 20 s alone, several times that beside the rest of the suite
})
