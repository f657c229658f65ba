/**
 * Issue 10, item 11 (last bullet): /readyz turns 503 while the sink has failed every commit for
 * longer than `sink-unready-after`, and 200 again once the store commits, even with no write coming
 * in (the sink probes the store). A real fault makes the commits fail: the service process' file
 * size limit is lowered to one byte (`prlimit --fsize`), so DuckDB cannot append to its write-ahead
 * log ("File too large"), then raised again.
 *
 * Both acknowledgements (duckdb-ack): at DuckDB's commit, and at the store's log, where the log's
 * appends fail first (the same limit), and a probe file beside its segments finds when they work again.
 *
 * This feature is about time (a failure must last sink-unready-after before readiness changes): the
 * test uses 1 s and waits for the state it expects with bounded polling, never asserting a duration.
 */
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { compressBody, encode1 } from '../fixtures/encode.js'
import { postWrite } from '../helpers/remote-write.js'
import { startServiceProcess, type ServiceProcess } from '../helpers/service-process.js'
import { ensureWorkerBuilt, removeTempDirs, tempDir } from '../sinks/duckdb/helpers.js'

function hasPrlimit (): boolean {
  try { execFileSync('prlimit', ['--version'], { stdio: 'ignore' }); return true } catch { return false }
}

let running: ServiceProcess[] = []
afterEach(async () => { await Promise.all(running.map(p => p.stop('SIGKILL'))); running = [] })
afterAll(removeTempDirs)

function body (k: number): Uint8Array {
  const timeseries = Array.from({ length: 50 }, (_, i) => ({ labels: [['__name__', 'readiness'], ['i', String(i)]] as Array<[string, string]>, samples: [{ value: k, timestamp: Date.UTC(2025, 10, 1) + k }] }))
  return compressBody(encode1({ timeseries }).body)
}

async function readyz (url: string): Promise<{ status: number, body: string }> {
  const res = await fetch(`${url}/readyz`)
  return { status: res.status, body: await res.text() }
}

describe.each(['commit', 'log'] as const)('/readyz and a sink whose commits fail, duckdb-ack %s', ack => {
  it('turns not ready after sink-unready-after of failed commits, and ready again when commits work', async (ctx) => {
    if (!hasPrlimit()) { ctx.skip('prlimit (util-linux) is not installed: the test cannot limit the service\'s file size'); return }
    ensureWorkerBuilt()
    const dataDir = join(tempDir('prom-ingest-readiness-'), 'data')
    // With the log, a minute between DuckDB's commits: no commit runs during the fault, so it is the log's own failure that turns readiness.
    const service = await startServiceProcess(['--sink', 'duckdb', '--data-dir', dataDir, '--log-level', 'warn', '--sink-unready-after', '1s', '--duckdb-ack', ack, ...(ack === 'log' ? ['--commit-interval', '1m'] : [])])
    running.push(service)
    expect((await postWrite(service.url, body(0))).status).toBe(204)
    expect((await readyz(service.url)).status).toBe(200)

    // The fault: no file of the process may grow any more (soft limit 1 byte; the hard limit stays, to raise it again).
    execFileSync('prlimit', ['--pid', String(service.child.pid), '--fsize=1:unlimited'])
    const failed: string[] = []
    let notReady: { status: number, body: string } | undefined
    for (let k = 1; k <= 200 && notReady === undefined; k++) {
      const answer = await postWrite(service.url, body(k))
      expect(answer.status).toBe(503) // retryable: nothing of it was stored
      failed.push(answer.body)
      const r = await readyz(service.url)
      if (r.status !== 200) notReady = r
      else await new Promise(resolve => setTimeout(resolve, 50))
    }
    expect(failed[0]).toMatch(/file too large/i)
    expect(notReady?.status).toBe(503)

    // The fault is gone: with no write sent, the sink's probe finds that commits work again.
    execFileSync('prlimit', ['--pid', String(service.child.pid), '--fsize=unlimited:unlimited'])
    let ready = false
    for (let i = 0; i < 200 && !ready; i++) {
      ready = (await readyz(service.url)).status === 200
      if (!ready) await new Promise(resolve => setTimeout(resolve, 50))
    }
    expect(ready).toBe(true)
    expect((await postWrite(service.url, body(1000))).status).toBe(204)
    expect(await service.stop('SIGTERM')).toBe(0)
  }, 120_000)
})
