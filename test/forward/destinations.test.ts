/**
 * Destinations from the settings: --forward-url (repeatable), PROM_INGEST_FORWARD_URL (a list), the
 * config file's forward-destinations with their own headers, credentials from files, limits; and the
 * start-up errors for what cannot work.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/load-config.js'
import { destinationsOf } from '../../src/forward/destinations.js'

describe('forward destinations', () => {
  it('takes repeated --forward-url flags and a comma-separated variable, and the sink list', () => {
    const c = loadConfig({ argv: ['--sink', 'duckdb,forward', '--forward-url', 'http://a:1/api/v1/write', '--forward-url', 'http://b:2/push'], env: {} })
    expect(c.sink).toEqual(['duckdb', 'forward'])
    expect(destinationsOf(c).map(d => [d.name, d.origin, d.path])).toEqual([['a_1_api_v1_write', 'http://a:1', '/api/v1/write'], ['b_2_push', 'http://b:2', '/push']])
    const e = loadConfig({ argv: [], env: { PROM_INGEST_SINK: 'forward', PROM_INGEST_FORWARD_URL: 'http://a:1/w, http://b:2/w' } })
    expect(e.forwardUrl).toEqual(['http://a:1/w', 'http://b:2/w'])
    expect(destinationsOf(e).every(d => d.queueLimitBytes === 2 ** 30 && d.maxInFlight === 1 && d.timeoutMs === 30_000)).toBe(true)
  })

  it('reads per-destination settings and secrets from the config file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'prom-ingest-dest-'))
    writeFileSync(join(dir, 'token'), 'tok\n')
    writeFileSync(join(dir, 'pw'), 'secret')
    writeFileSync(join(dir, 'c.json'), JSON.stringify({
      sink: 'forward',
      'forward-destinations': [
        { url: 'https://mimir/api/v1/push', name: 'mimir', headers: { 'X-Scope-OrgID': 'team' }, bearerTokenFile: 'token', timeout: '5s', maxInFlight: 2, queueLimit: '2GiB', protocol: '1.0' },
        { url: 'http://thanos/receive', basicAuth: { username: 'gw', passwordFile: 'pw' } }
      ]
    }))
    const c = loadConfig({ argv: ['--config', 'c.json'], env: {}, cwd: dir })
    const [m, t] = destinationsOf(c, dir)
    expect(m).toMatchObject({ name: 'mimir', protocol: '1.0', timeoutMs: 5000, maxInFlight: 2, queueLimitBytes: 2 * 2 ** 30 })
    expect(m!.headers).toEqual({ 'x-scope-orgid': 'team', authorization: 'Bearer tok' })
    expect(t!.headers.authorization).toBe('Basic ' + Buffer.from('gw:secret').toString('base64'))
  })

  it('takes protocol "2.0" (1.0 bodies are converted for that destination)', () => {
    const c = loadConfig({ argv: ['--sink', 'forward', '--forward-destinations', '[{"url":"http://a/w","protocol":"2.0"}]'], env: {} })
    expect(destinationsOf(c).map(d => d.protocol)).toEqual(['2.0'])
  })

  it('refuses what cannot work, naming it', () => {
    expect(() => loadConfig({ argv: ['--sink', 'forward'], env: {} })).toThrow(/sink forward: needs at least one destination/)
    expect(() => loadConfig({ argv: ['--forward-url', 'http://a/w'], env: {} })).toThrow(/sink does not list forward/)
    expect(() => loadConfig({ argv: ['--sink', 'forward', '--forward-url', 'ftp://a/w'], env: {} })).toThrow(/not an http/)
    expect(() => loadConfig({ argv: ['--sink', 'discard,forward', '--forward-url', 'http://a/w'], env: {} })).toThrow(/discard cannot be combined/)
    const c = loadConfig({ argv: ['--sink', 'forward', '--forward-url', 'http://a/w', '--forward-destinations', '[{"url":"http://b/x","name":"a_w"}]'], env: {} })
    expect(() => destinationsOf(c)).toThrow(/two are named/)
    const d = loadConfig({ argv: ['--sink', 'forward', '--forward-destinations', '[{"url":"http://a/w","bearerTokenFile":"/nonexistent","protocol":"3.0","colour":1}]'], env: {} })
    expect(() => destinationsOf(d)).toThrow(/unknown key "colour".*cannot read "\/nonexistent".*protocol "3.0" is not "1.0" or "2.0"/)
  })
})
