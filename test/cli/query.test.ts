/**
 * `prom-ingest query` as a real process: it follows the data directory's service.json only to a
 * loopback address (a planted file must not make it send the read token elsewhere), and goes where
 * --url says when told.
 */
import { spawn } from 'node:child_process'
import { createServer, type Server } from 'node:http'
import { networkInterfaces } from 'node:os'
import { afterAll, describe, expect, it } from 'vitest'
import { isLoopback } from '../../src/cli/query.js'
import { writeServiceInfo } from '../../src/sinks/duckdb/service-info.js'
import { CLI_PATH } from '../helpers/service-process.js'
import { removeTempDirs, tempDir } from '../sinks/duckdb/helpers.js'

afterAll(removeTempDirs)

async function cli (args: string[], env: Record<string, string> = {}): Promise<{ code: number | null, stdout: string, stderr: string }> {
  return await new Promise(resolve => {
    const child = spawn(process.execPath, [CLI_PATH, 'query', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', b => { stdout += String(b) })
    child.stderr.on('data', b => { stderr += String(b) })
    child.on('exit', code => resolve({ code, stdout, stderr }))
  })
}

/** A server on every address that records the requests it gets (and their Authorization headers). */
async function recorder (): Promise<{ server: Server, port: number, seen: string[] }> {
  const seen: string[] = []
  const server = createServer((req, res) => { seen.push(String(req.headers.authorization)); res.end('n\n1\n') })
  await new Promise<void>(resolve => server.listen(0, '0.0.0.0', resolve))
  return { server, port: (server.address() as { port: number }).port, seen }
}

/** This machine's first non-loopback IPv4 address, if it has one. */
function outsideAddress (): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address
  }
  return undefined
}

describe('prom-ingest query and service.json', () => {
  it('knows loopback addresses', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1']) expect(isLoopback(h), h).toBe(true)
    for (const h of ['10.0.0.1', '192.0.2.10', 'example.com', '::2', '0.0.0.0', '128.0.0.1']) expect(isLoopback(h), h).toBe(false)
  })

  it('does not follow a service.json to an address that is not loopback, and sends no token there', async () => {
    const r = await recorder()
    try {
      // Where the machine has an outside address, the planted file names it, and the recorder listens on it.
      const host = outsideAddress() ?? '192.0.2.10'
      const dir = tempDir()
      writeServiceInfo(dir, { port: r.port, pid: process.pid, host })
      const out = await cli(['SELECT 1', '--data-dir', dir, '--format', 'csv'], { PROM_INGEST_AUTH_READ_BEARER_TOKEN: 'reader-secret' })
      expect(out.code).toBe(1)
      expect(out.stderr).toMatch(/not a loopback address; nothing was sent/)
      expect(out.stderr).toContain(`--url http://${host}:${r.port}`)
      expect(r.seen).toEqual([])

      // On loopback it goes, with the read token.
      writeServiceInfo(dir, { port: r.port, pid: process.pid, host: '127.0.0.1' })
      const local = await cli(['SELECT 1', '--data-dir', dir, '--format', 'csv'], { PROM_INGEST_AUTH_READ_BEARER_TOKEN: 'reader-secret' })
      expect(local).toMatchObject({ code: 0, stdout: 'n\n1\n' })
      expect(r.seen).toEqual(['Bearer reader-secret'])

      // --url is the user's own choice: it is followed.
      const told = await cli(['SELECT 1', '--url', `http://127.0.0.1:${r.port}`, '--bearer-token', 'given'])
      expect(told.code).toBe(0)
      expect(r.seen).toEqual(['Bearer reader-secret', 'Bearer given'])
    } finally {
      await new Promise(resolve => r.server.close(resolve))
    }
  })
})
