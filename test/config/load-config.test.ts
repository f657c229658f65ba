import { mkdtempSync, writeFileSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { formatDuration, parseDuration } from '../../src/config/duration.js'
import { serveHelp } from '../../src/config/help.js'
import { loadConfig } from '../../src/config/load-config.js'
import { envName, flagName, SETTING_KEYS } from '../../src/config/schema.js'
import { formatSize, parseSize } from '../../src/config/size.js'
import { IngestError } from '../../src/errors.js'

function tempDir (): string {
  return mkdtempSync(join(tmpdir(), 'prom-ingest-config-'))
}

function configError (fn: () => unknown): IngestError {
  try {
    fn()
  } catch (err) {
    if (err instanceof IngestError) return err
    throw err
  }
  throw new Error('expected a config_invalid error')
}

describe('durations and sizes', () => {
  it('reads Prometheus-style durations', () => {
    expect(parseDuration('500ms')).toBe(500)
    expect(parseDuration('5s')).toBe(5000)
    expect(parseDuration('1h30m')).toBe(5_400_000)
    expect(parseDuration('15d')).toBe(15 * 86_400_000)
    expect(parseDuration('0')).toBe(0)
    expect(parseDuration('5')).toBeUndefined()
    expect(parseDuration('1.5s')).toBeUndefined()
    expect(parseDuration('30m1h')).toBeUndefined()
    expect(formatDuration(25_000)).toBe('25s')
    expect(formatDuration(15 * 86_400_000)).toBe('15d')
    expect(formatDuration(14 * 86_400_000)).toBe('2w')
    for (const ms of [1, 50, 2000, 90_061_001]) expect(parseDuration(formatDuration(ms))).toBe(ms)
  })

  it('reads sizes with decimal and binary units', () => {
    expect(parseSize('32MiB')).toBe(32 * 2 ** 20)
    expect(parseSize('1KB')).toBe(1000)
    expect(parseSize('1.5KiB')).toBe(1536)
    expect(parseSize('4096')).toBe(4096)
    expect(parseSize('1mib')).toBe(2 ** 20)
    expect(parseSize('1.3B')).toBeUndefined()
    expect(parseSize('12 parsecs')).toBeUndefined()
    expect(formatSize(32 * 2 ** 20)).toBe('32MiB')
    expect(formatSize(1000)).toBe('1000')
  })
})

describe('loadConfig', () => {
  it('leaves the DuckDB writer a core: decode threads default to cores - 1 with the store, cores with discard', () => {
    const cores = availableParallelism()
    expect(loadConfig({ argv: [], env: {} }).threads).toBe(Math.max(1, cores - 1))
    expect(loadConfig({ argv: ['--sink', 'discard'], env: {} }).threads).toBe(cores)
    expect(loadConfig({ argv: ['--threads', '3'], env: {} }).threads).toBe(3)
  })

  it('gives the documented defaults', () => {
    const c = loadConfig({ argv: [], env: {} })
    expect(c.listen).toEqual({ host: '0.0.0.0', port: 9201 })
    expect(c.slotBytes).toBe(2 ** 20)
    expect(c.slotCount).toBe(4 * c.threads + 4)
    expect(c.largeSlotCount).toBe(2)
    expect(c.maxInFlight).toBe(4 * (c.slotCount + c.largeSlotCount))
    expect(c.maxBodyBytes).toBe(32 * 2 ** 20)
    expect(c.slotWait).toBe(2000)
    expect(c.saturationStatus).toBe(503)
    expect(c.retryAfter).toBe(1)
    expect(c.tenantHeader).toBe('X-Scope-OrgID')
    expect(c.sink).toEqual(['duckdb'])
    expect(c.dataDir).toBe('./data')
    expect(c.commitInterval).toBe(50)
    expect(c.retention).toBe(0)
    expect(c.shutdownGrace).toBe(25_000)
    expect(c.logLevel).toBe('info')
    // What one series may take (Mimir's label limits), and the series index's budgets (docs/series-index.md).
    expect([c.maxLabelsPerSeries, c.maxLabelNameBytes, c.maxLabelValueBytes, c.maxSeriesKeyBytes]).toEqual([30, 1024, 2048, 8192])
    expect(c.maxSeries).toBe(1_048_576)
    expect(c.seriesArenaBytes).toBe(256 * 2 ** 20)
    expect(loadConfig({ argv: ['--max-series', '4096'], env: {} }).seriesArenaBytes).toBe(4096 * 256)
    expect(loadConfig({ argv: ['--series-arena-bytes', '1GiB'], env: { PROM_INGEST_MAX_SERIES_KEY_BYTES: '1024' } })).toMatchObject({ seriesArenaBytes: 2 ** 30, maxSeriesKeyBytes: 1024 })
    expect(() => loadConfig({ argv: ['--series-arena-bytes', '3GiB'], env: {} })).toThrow(/series-arena-bytes/)
  })

  it('takes flag over environment over file over default', () => {
    const dir = tempDir()
    const file = join(dir, 'settings.json')
    writeFileSync(file, JSON.stringify({ 'slot-bytes': '2MiB', threads: 3, 'slot-wait': '3s', retryAfter: 7 }))
    const c = loadConfig({
      argv: ['--config', file, '--slot-bytes', '4MiB'],
      env: { PROM_INGEST_SLOT_BYTES: '3MiB', PROM_INGEST_THREADS: '5' }
    })
    expect(c.slotBytes).toBe(4 * 2 ** 20) // flag
    expect(c.threads).toBe(5) // environment over file
    expect(c.slotWait).toBe(3000) // file
    expect(c.retryAfter).toBe(7) // file, camelCase key
    expect(c.slotCount).toBe(4 * 5 + 4) // computed from the chosen threads
    expect(c.shutdownGrace).toBe(25_000) // default
  })

  it('reads the config file named by the environment, relative to cwd', () => {
    const dir = tempDir()
    writeFileSync(join(dir, 'c.json'), JSON.stringify({ sink: 'discard', 'saturation-status': 429 }))
    const c = loadConfig({ argv: [], env: { PROM_INGEST_CONFIG: 'c.json' }, cwd: dir })
    expect(c.sink).toEqual(['discard'])
    expect(c.saturationStatus).toBe(429)
  })

  it('parses every flag form: --name value, --name=value, bare booleans', () => {
    const c = loadConfig({ argv: ['--listen=127.0.0.1:0', '--lax-utf8', '--legacy-label-names', 'false', '--tenant-header='], env: {} })
    expect(c.listen).toEqual({ host: '127.0.0.1', port: 0 })
    expect(c.laxUtf8).toBe(true)
    expect(c.legacyLabelNames).toBe(false)
    expect(c.tenantHeader).toBe('')
    expect(loadConfig({ argv: ['--listen', '[::1]:9300'], env: {} }).listen).toEqual({ host: '::1', port: 9300 })
    expect(loadConfig({ argv: ['--listen', ':9300'], env: {} }).listen).toEqual({ host: '0.0.0.0', port: 9300 })
  })

  it('names every bad setting, its source and why', () => {
    const err = configError(() => loadConfig({
      argv: ['--slot-bytes', 'lots', '--threads', '0', '--frobnicate', '1'],
      env: { PROM_INGEST_SLOT_WAIT: '5', PROM_INGEST_SINK: 'kafka', PROM_INGEST_SATURATION_STATUS: '500' }
    }))
    expect(err.code).toBe('config_invalid')
    expect(err.message).toContain('slot-bytes: "lots" is not a size')
    expect(err.message).toContain('from flag --slot-bytes')
    expect(err.message).toContain('threads: "0" is below the minimum 1')
    expect(err.message).toContain('unknown flag --frobnicate')
    expect(err.message).toContain('slot-wait: "5" is not a duration')
    expect(err.message).toContain('from environment PROM_INGEST_SLOT_WAIT')
    expect(err.message).toContain('sink: "kafka" is not one of duckdb, discard')
    expect(err.message).toContain('saturation-status: "500" is not one of 503, 429')
    expect(err.message).not.toContain('\n')
  })

  it('refuses unknown keys in the file and a file that is not JSON', () => {
    const dir = tempDir()
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ 'slot-byte': '1MiB' }))
    expect(configError(() => loadConfig({ argv: ['--config', join(dir, 'bad.json')], env: {} })).message).toContain('unknown setting "slot-byte"')
    writeFileSync(join(dir, 'broken.json'), '{ slot-bytes: ')
    expect(configError(() => loadConfig({ argv: ['--config', join(dir, 'broken.json')], env: {} })).message).toContain('as JSON')
    expect(configError(() => loadConfig({ argv: ['--config', join(dir, 'missing.json')], env: {} })).message).toContain('cannot read')
  })

  it('reads secrets from files, without the trailing newline, and never echoes them', () => {
    const dir = tempDir()
    writeFileSync(join(dir, 'token'), 's3cret-token\n')
    writeFileSync(join(dir, 'password'), 'pa:ss\r\n')
    const c = loadConfig({ argv: ['--auth-bearer-token-file', 'token', '--auth-basic-user', 'prom', '--auth-basic-password-file', 'password'], env: {}, cwd: dir })
    expect(c.authBearerToken).toBe('s3cret-token')
    expect(c.authBasicPassword).toBe('pa:ss')
    const missing = configError(() => loadConfig({ argv: ['--auth-bearer-token-file', join(dir, 'nope')], env: {} }))
    expect(missing.message).toContain('auth-bearer-token-file: cannot read')
    const both = configError(() => loadConfig({ argv: ['--auth-bearer-token', 'x', '--auth-bearer-token-file', join(dir, 'token')], env: {} }))
    expect(both.message).toContain('set only one of them')
    const noPassword = configError(() => loadConfig({ argv: ['--auth-basic-user', 'prom'], env: {} }))
    expect(noPassword.message).toContain('auth-basic-user: needs auth-basic-password')
  })

  it('refuses a tenant header that is not a header name', () => {
    expect(configError(() => loadConfig({ argv: ['--tenant-header', 'X Tenant'], env: {} })).message).toContain('tenant-header')
  })
})

describe('help', () => {
  it('lists every setting with its flag, environment variable and default', () => {
    const help = serveHelp()
    for (const key of SETTING_KEYS) {
      expect(help).toContain(`--${flagName(key)}`)
      expect(help).toContain(`env ${envName(key)}, default `)
    }
    expect(help).toContain('env PROM_INGEST_MAX_BODY_BYTES, default 32MiB')
    expect(help).toContain('env PROM_INGEST_SHUTDOWN_GRACE, default 25s')
    expect(help).toContain('env PROM_INGEST_LISTEN, default 0.0.0.0:9201')
    expect(help).toContain('env PROM_INGEST_LAX_UTF8, default false')
  })
})

describe('ClickHouse settings', () => {
  it('sink clickhouse needs a URL, and a URL needs the sink', () => {
    expect(() => loadConfig({ argv: ['--sink', 'clickhouse'], env: {} })).toThrow(/sink clickhouse: needs clickhouse-url/)
    expect(() => loadConfig({ argv: ['--clickhouse-url', 'http://127.0.0.1:8123'], env: {} })).toThrow(/clickhouse-url: set, but sink does not list clickhouse/)
    expect(() => loadConfig({ argv: ['--sink', 'clickhouse', '--clickhouse-url', 'ch:8123'], env: {} })).toThrow(/is not an http/)
  })

  it('takes several URLs, a password file, and checks names', () => {
    const dir = mkdtempSync(join(tmpdir(), 'prom-ingest-ch-config-'))
    writeFileSync(join(dir, 'pw'), 'secret\n')
    const c = loadConfig({ argv: ['--sink', 'duckdb,clickhouse', '--clickhouse-url', 'http://a:8123,http://b:8123', '--clickhouse-password-file', join(dir, 'pw')], env: {} })
    expect(c.clickhouseUrl).toEqual(['http://a:8123', 'http://b:8123'])
    expect(c.clickhousePassword).toBe('secret')
    expect(c.clickhouseFlushRows).toBe(100_000)
    expect(c.clickhouseFlushInterval).toBe(1000)
    expect(c.clickhouseCreateTables).toBe(true)
    expect(() => loadConfig({ argv: ['--sink', 'clickhouse', '--clickhouse-url', 'http://a:8123', '--clickhouse-database', 'x; DROP'], env: {} })).toThrow(/clickhouse-database/)
    expect(() => loadConfig({ argv: ['--sink', 'clickhouse', '--clickhouse-url', 'http://a:8123', '--clickhouse-table-prefix', 'a-b'], env: {} })).toThrow(/clickhouse-table-prefix/)
  })
})
