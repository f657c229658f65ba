/**
 * Read and write credentials on the real service process: the query route (SQL over every tenant)
 * takes only the read token; a sender's write credentials cannot read, and the read token cannot
 * write. With write auth on and no read token the query route is closed; with no auth at all,
 * everything is open.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/load-config.js'
import { postWrite } from '../helpers/remote-write.js'
import { startServiceProcess, type ServiceProcess } from '../helpers/service-process.js'
import { removeTempDirs, tempDir } from '../sinks/duckdb/helpers.js'
import { body1 } from './bodies.js'

let running: ServiceProcess[] = []
afterEach(async () => {
  await Promise.all(running.map(p => p.stop('SIGKILL')))
  running = []
})
afterAll(removeTempDirs)

/** Settings as environment variables (a build without them ignores them, so main runs these tests too). */
async function serve (env: Record<string, string>): Promise<ServiceProcess> {
  const p = await startServiceProcess(['--sink', 'duckdb', '--data-dir', tempDir(), '--threads', '1'], env)
  running.push(p)
  return p
}

async function read (p: ServiceProcess, token?: string): Promise<{ status: number, code: string | null, text: string }> {
  const headers: Record<string, string> = { 'content-type': 'text/plain' }
  if (token !== undefined) headers.authorization = `Bearer ${token}`
  const res = await fetch(`${p.url}/api/v1/query?format=csv`, { method: 'POST', headers, body: 'SELECT count(*) AS n FROM samples' })
  return { status: res.status, code: res.headers.get('x-prom-ingest-error'), text: await res.text() }
}

describe('read credentials', () => {
  it('the read token reads; the write token cannot read, and the read token cannot write', async () => {
    const p = await serve({ PROM_INGEST_AUTH_BEARER_TOKEN: 'sender-token', PROM_INGEST_AUTH_READ_BEARER_TOKEN: 'reader-token' })
    expect((await postWrite(p.url, body1(3), { headers: { authorization: 'Bearer sender-token' } })).status).toBe(204)

    const byWriter = await read(p, 'sender-token')
    expect(byWriter).toMatchObject({ status: 403, code: 'forbidden' })
    expect(byWriter.text).toMatch(/write credentials, which cannot read/)
    expect(await read(p)).toMatchObject({ status: 401, code: 'unauthorized' })
    expect(await read(p, 'wrong')).toMatchObject({ status: 401, code: 'unauthorized' })
    expect(await read(p, 'reader-token')).toEqual({ status: 200, code: null, text: 'n\r\n3\r\n' })

    expect((await postWrite(p.url, body1(3), { headers: { authorization: 'Bearer reader-token' } })).status).toBe(401)
    expect((await fetch(`${p.url}/metrics`, { headers: { authorization: 'Bearer reader-token' } })).status).toBe(401)
    expect((await fetch(`${p.url}/metrics`, { headers: { authorization: 'Bearer sender-token' } })).status).toBe(200)
  })

  it('with write auth on and no read token, the query route is closed and says which setting opens it', async () => {
    const p = await serve({ PROM_INGEST_AUTH_BEARER_TOKEN: 'sender-token' })
    const byWriter = await read(p, 'sender-token')
    expect(byWriter).toMatchObject({ status: 403, code: 'forbidden' })
    expect(byWriter.text).toMatch(/auth-read-bearer-token/)
    expect(await read(p)).toMatchObject({ status: 403, code: 'forbidden' })
    expect((await postWrite(p.url, body1(1), { headers: { authorization: 'Bearer sender-token' } })).status).toBe(204)
  })

  it('with no auth at all, reads are open like everything else', async () => {
    const p = await serve({})
    expect(await read(p)).toEqual({ status: 200, code: null, text: 'n\r\n0\r\n' })
  })

  it('takes the read token from a file, and refuses one equal to the write token', () => {
    const dir = tempDir()
    const file = join(dir, 'read-token')
    writeFileSync(file, 'from-file\n')
    expect(loadConfig({ argv: ['--auth-read-bearer-token-file', file], env: {} }).authReadBearerToken).toBe('from-file')
    expect(() => loadConfig({ argv: ['--auth-bearer-token', 'same', '--auth-read-bearer-token', 'same'], env: {} })).toThrow(/must differ from auth-bearer-token/)
  })
})
