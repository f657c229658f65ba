/**
 * What a DuckDB transaction costs per row, by its size: the reason the store's log (duckdb-ack log)
 * lets DuckDB commit large transactions behind the acknowledgement. Rows like `sample_rows` (series
 * id, timestamp, value, a NULL start timestamp) are inserted into a file database, one INSERT and one
 * COMMIT per transaction, the store's settings (one thread, 48MB), until the total is reached; sizes
 * interleaved by round, each on a fresh file. Reports rows/s, the process' CPU per row (DuckDB's
 * threads are in it) and the average COMMIT.
 *
 *   node dist/bench/duckdb-transaction-size.js [--rounds 2] [--rows 2000000] [--sizes 13000,40000,125000,500000]
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { DuckDBInstance } from '@duckdb/node-api'
import { fmt, printJson, printTable, summarize } from './lib/stats.js'

interface Run { rowsPerSecond: number, cpuMicrosPerRow: number, commitMs: number }

async function run (txnRows: number, total: number): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'prom-ingest-txn-size-'))
  try {
    const instance = await DuckDBInstance.create(join(dir, 'bench.duckdb'), { threads: '1', memory_limit: '48MB' })
    const c = await instance.connect()
    await c.run('CREATE TABLE sample_rows (series_id UINTEGER NOT NULL, ts TIMESTAMP NOT NULL, value DOUBLE NOT NULL, start_ts TIMESTAMP)')
    const cpu0 = process.cpuUsage()
    const t0 = performance.now()
    let commitMs = 0
    let commits = 0
    for (let done = 0; done < total; done += txnRows) {
      await c.run('BEGIN TRANSACTION')
      // 160,000 series, one sample each every 15 s, as the e2e load sends them.
      await c.run(`INSERT INTO sample_rows SELECT (i % 160000)::UINTEGER, TIMESTAMP '2026-01-01' + to_milliseconds(((i // 160000) * 15000)::BIGINT), (i * 0.37) % 1000, NULL FROM range(${done}, ${done + txnRows}) r(i)`)
      const c0 = performance.now()
      await c.run('COMMIT')
      commitMs += performance.now() - c0
      commits++
    }
    const wallMs = performance.now() - t0
    const cpu = process.cpuUsage(cpu0)
    c.closeSync()
    instance.closeSync()
    return { rowsPerSecond: total / wallMs * 1000, cpuMicrosPerRow: (cpu.user + cpu.system) / total, commitMs: commitMs / commits }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

async function main (): Promise<void> {
  const { values } = parseArgs({ options: { rounds: { type: 'string', default: '2' }, rows: { type: 'string', default: '2000000' }, sizes: { type: 'string', default: '13000,40000,125000,500000' } } })
  const rounds = Number(values.rounds)
  const total = Number(values.rows)
  const sizes = values.sizes.split(',').map(Number)
  const results = new Map<number, Run[]>(sizes.map(s => [s, []]))
  for (let r = 0; r < rounds; r++) {
    // Interleaved, the order turned every other round.
    const order = r % 2 === 0 ? sizes : [...sizes].reverse()
    for (const size of order) results.get(size)!.push(await run(size, total))
  }
  const median = (xs: number[]): number => summarize('', xs).median
  printTable(['rows per transaction', 'rows/s median', 'range', 'CPU µs per row', 'COMMIT ms'], sizes.map(s => {
    const rs = results.get(s)!
    const rps = rs.map(x => x.rowsPerSecond)
    return [String(s), fmt(median(rps)), `${fmt(Math.min(...rps))}-${fmt(Math.max(...rps))}`, median(rs.map(x => x.cpuMicrosPerRow)).toFixed(3), median(rs.map(x => x.commitMs)).toFixed(1)]
  }))
  printJson('duckdb-transaction-size', { rounds, rows: total, results: Object.fromEntries(results) })
}

await main()
