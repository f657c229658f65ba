/**
 * The service wired to the DuckDB store (the default sink): writes are acknowledged after commit,
 * the store's query route is served behind the read credential, service.json tells the query CLI
 * where the service is, and shutdown removes it. The store itself is tested in test/sinks/duckdb/.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import { describe, expect, it } from 'vitest'
import { postWrite } from '../helpers/remote-write.js'
import { startInProcess } from '../helpers/service-in-process.js'
import { body1 } from './bodies.js'

describe('service with the DuckDB sink', () => {
  it('stores writes, serves queries behind the read credential, and keeps service.json while it runs', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'prom-ingest-wiring-'))
    const s = await startInProcess(['--sink', 'duckdb', '--data-dir', dataDir, '--auth-bearer-token', 'tok', '--auth-read-bearer-token', 'read-tok'])
    try {
      const auth = { authorization: 'Bearer tok' }
      expect((await postWrite(s.url, body1(25, 2), { headers: auth })).status).toBe(204)
      const info = JSON.parse(readFileSync(join(dataDir, 'service.json'), 'utf8')) as { port: number, pid: number }
      expect(info).toMatchObject({ port: s.port, pid: process.pid })

      const sql = encodeURIComponent('SELECT count(*) AS n FROM samples')
      const refused = await request(`${s.url}/api/v1/query?query=${sql}`)
      expect(refused.statusCode).toBe(401)
      await refused.body.text()
      const byWriter = await request(`${s.url}/api/v1/query?query=${sql}`, { headers: auth })
      expect(byWriter.statusCode).toBe(403)
      await byWriter.body.text()
      const res = await request(`${s.url}/api/v1/query?query=${sql}&format=csv`, { headers: { authorization: 'Bearer read-tok' } })
      const text = await res.body.text()
      expect(res.statusCode).toBe(200)
      expect(text).toMatch(/\b50\b/)
    } finally {
      expect(await s.close(10_000)).toBe(true)
    }
    expect(existsSync(join(dataDir, 'service.json'))).toBe(false)
  })
})
