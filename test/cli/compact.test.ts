/**
 * `prom-ingest compact`, as a real process: through the running service (found through
 * service.json, behind the write bearer token), and on the database file once the service is
 * stopped; `query` and `export` on the file then read head and blocks together.
 */
import { execFile } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { DuckDBInstance } from '@duckdb/node-api'
import { afterAll, describe, expect, it } from 'vitest'
import { compressBody, encode1, type LabelPair } from '../fixtures/encode.js'
import { postWrite } from '../helpers/remote-write.js'
import { CLI_PATH, startServiceProcess } from '../helpers/service-process.js'
import { ensureWorkerBuilt, removeTempDirs, tempDir } from '../sinks/duckdb/helpers.js'

afterAll(removeTempDirs)

const TOKEN = 'compact-test-token'
const T0 = Date.UTC(2025, 9, 1) // two hours apart: two closed windows of the default 2 h

interface Run { code: number, out: string, err: string }

async function cli (...args: string[]): Promise<Run> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI_PATH, ...args], { env: { ...process.env, PROM_INGEST_AUTH_BEARER_TOKEN: '' } })
    return { code: 0, out: stdout, err: stderr }
  } catch (err) {
    const e = err as { code: number, stdout: string, stderr: string }
    return { code: e.code, out: e.stdout, err: e.stderr }
  }
}

function body (job: string, t: number, n: number): Uint8Array {
  return compressBody(encode1({
    timeseries: Array.from({ length: 10 }, (_, i) => ({
      labels: [['__name__', 'compact_cli'], ['job', job], ['i', String(i)]] as LabelPair[],
      samples: Array.from({ length: n }, (_, k) => ({ value: i + k, timestamp: t + k * 1000 }))
    }))
  }).body)
}

const parquetFiles = (dir: string): string[] => existsSync(join(dir, 'blocks')) ? readdirSync(join(dir, 'blocks')).filter(f => f.endsWith('.parquet')) : []

describe('prom-ingest compact', () => {
  it('compacts through the running service (write token), then on the file; query and export read head and blocks', async () => {
    ensureWorkerBuilt()
    const dir = join(tempDir('prom-ingest-compact-cli-'), 'data')
    const headers = { authorization: `Bearer ${TOKEN}` }
    const service = await startServiceProcess(['--data-dir', dir, '--auth-bearer-token', TOKEN, '--compaction-interval', '0', '--log-level', 'warn'])
    try {
      expect((await postWrite(service.url, body('a', T0, 30), { headers })).status).toBe(204)
      // Three samples a second apart, all in the window of now (windows of 2 h from the epoch): a few
      // seconds back, but never before the window's start, so that they never straddle two windows.
      const now = Date.now()
      expect((await postWrite(service.url, body('now', Math.max(now - 5_000, now - (now % 7_200_000)), 3), { headers })).status).toBe(204)

      const refused = await cli('compact', '--data-dir', dir)
      expect(refused.code).toBe(1)
      expect(refused.err).toMatch(/401/)
      expect(parquetFiles(dir)).toEqual([])

      const viaService = await cli('compact', '--data-dir', dir, '--bearer-token', TOKEN)
      expect(viaService.code, viaService.err).toBe(0)
      expect(JSON.parse(viaService.out)).toMatchObject({ ranges: 1, blocks: 1, rows: 300, headRows: 300 }) // the window of now is open
      expect(parquetFiles(dir)).toHaveLength(1)
      const metrics = await (await fetch(`${service.url}/metrics`, { headers })).text()
      expect(Number(/^prom_ingest_duckdb_block_bytes (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThan(0)
      // The compaction counters come from the store's thread: one range of 300 rows so far.
      const counter = (name: string): number => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(metrics)?.[1])
      expect(counter('prom_ingest_duckdb_compacted_ranges_total')).toBe(1)
      expect(counter('prom_ingest_duckdb_compacted_rows_total')).toBe(300)
      expect(counter('prom_ingest_duckdb_compaction_failures_total')).toBe(0)
      expect(counter('prom_ingest_duckdb_compaction_interrupts_total')).toBe(0)

      const all = await cli('compact', '--all', '--data-dir', dir, '--bearer-token', TOKEN)
      expect(JSON.parse(all.out)).toMatchObject({ blocks: 1, rows: 30 })
      expect((await postWrite(service.url, body('b', T0 + 7_200_000, 20), { headers })).status).toBe(204)
    } finally {
      expect(await service.stop('SIGTERM')).toBe(0)
    }

    const onFile = await cli('compact', '--data-dir', dir)
    expect(onFile.code, onFile.err).toBe(0)
    expect(JSON.parse(onFile.out)).toMatchObject({ blocks: 1, rows: 200, headRows: 200 })
    expect(parquetFiles(dir)).toHaveLength(3)

    const q = await cli('query', "SELECT labels['job'] AS job, count(*) AS n, count(DISTINCT (series_id, ts)) AS keys FROM samples_with_labels GROUP BY 1 ORDER BY 1", '--data-dir', dir, '--format', 'csv')
    expect(q.code, q.err).toBe(0)
    expect(q.out.trim().split(/\r?\n/)).toEqual(['job,n,keys', 'a,300,300', 'b,200,200', 'now,30,30'])
    expect((await cli('query', 'SELECT count(*) AS n FROM sample_rows', '--data-dir', dir, '--format', 'csv')).out.trim().split(/\r?\n/)).toEqual(['n', '0'])

    const out = join(dir, '..', 'export')
    const exported = await cli('export', '--format', 'parquet', '--out', out, '--data-dir', dir)
    expect(exported.code, exported.err).toBe(0)
    const instance = await DuckDBInstance.create(':memory:')
    try {
      const c = await instance.connect()
      const r = await c.runAndReadAll(`SELECT count(*)::INTEGER, count(DISTINCT (series_id, ts))::INTEGER FROM read_parquet('${join(out, 'samples.parquet')}')`)
      expect(r.getRowsJS()).toEqual([[530, 530]])
      c.closeSync()
    } finally {
      instance.closeSync()
    }

    const bad = await cli('compact', '--data-dir', dir, '--block-window', 'soon')
    expect(bad.code).toBe(2)
    expect(bad.err).toMatch(/--block-window/)
  })
})
