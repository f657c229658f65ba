/**
 * Reads the settings of `prom-ingest serve` from flags, environment variables and an optional JSON
 * config file, through the one schema (schema.ts). Precedence: flag > environment > file > default.
 *
 * Everything is validated here, once, at start-up: a bad value throws IngestError('config_invalid')
 * whose message names every bad setting, where its value came from and why it is refused. Secrets in
 * files (auth-bearer-token-file, auth-basic-password-file) are read here too, so that a missing file
 * is a start-up error and not a 401 storm.
 */
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { IngestError } from '../errors.js'
import { formatDuration, parseDuration } from './duration.js'
import { envName, flagName, SETTING_KEYS, SETTINGS, type Config, type ListenAddress, type SettingSpec } from './schema.js'
import { formatSize, parseSize } from './size.js'
import { tenantLimitTable } from '../limits/tenant-limits.js'
import { readRelabelSettings } from '../relabel/relabel-settings.js'
import { readConfigDocument } from './config-document.js'

export interface ConfigSources {
  /** Arguments after the subcommand (`serve`), for example ['--listen', '127.0.0.1:0']. */
  argv?: readonly string[]
  /** Environment (default process.env). Pass {} in tests to keep the caller's environment out. */
  env?: Readonly<Record<string, string | undefined>>
  /** Directory that relative config and secret file paths are resolved against (default process.cwd()). */
  cwd?: string
}

type Raw = string | number | boolean | readonly unknown[] | Record<string, unknown>
interface Given { value: Raw, from: string }

const KEY_BY_FLAG = new Map<string, keyof Config>(SETTING_KEYS.map(k => [flagName(k), k]))

/** HTTP header name characters (RFC 9110 token). */
const HEADER_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/

export function loadConfig (sources: ConfigSources = {}): Config {
  const env = sources.env ?? process.env
  const cwd = sources.cwd ?? process.cwd()
  const errors: string[] = []

  const flags = parseFlags(sources.argv ?? [], errors)
  const fromEnv = new Map<keyof Config, Given>()
  for (const key of SETTING_KEYS) {
    const name = envName(key)
    const v = env[name]
    if (v !== undefined) fromEnv.set(key, { value: v, from: `environment ${name}` })
  }

  const configGiven = flags.get('config') ?? fromEnv.get('config')
  const fromFile = configGiven === undefined ? new Map<keyof Config, Given>() : readConfigFile(resolve(cwd, String(configGiven.value)), errors)

  const out: Partial<Config> = {}
  for (const key of SETTING_KEYS) {
    const spec = SETTINGS[key] as SettingSpec
    const given = flags.get(key) ?? fromEnv.get(key) ?? fromFile.get(key)
    let value: unknown
    if (given === undefined) {
      value = typeof spec.default === 'function' ? spec.default(out) : spec.default
    } else {
      const converted = convert(given.value, spec)
      if (typeof converted === 'object' && converted !== null && 'error' in converted) {
        const shown = spec.secret === true ? '(secret)' : JSON.stringify(given.value)
        errors.push(`${flagName(key)}: ${shown} ${converted.error} (from ${given.from})`)
        value = typeof spec.default === 'function' ? spec.default(out) : spec.default
      } else {
        value = converted
      }
    }
    ;(out as Record<string, unknown>)[key] = value
  }
  const config = out as Config

  crossCheck(config, cwd, errors)
  if (errors.length > 0) {
    throw new IngestError('config_invalid', `invalid configuration: ${errors.join('; ')}`, { errors })
  }
  return config
}

/** The settings as they may be logged: secrets replaced. */
export function publicConfig (config: Config): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const key of SETTING_KEYS) {
    const spec = SETTINGS[key] as SettingSpec
    const v = config[key]
    out[flagName(key)] = spec.secret === true && v !== '' ? '(secret)' : key === 'listen' ? formatListen(config.listen) : v
  }
  return out
}

export function formatListen (a: ListenAddress): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`
}

/** A default or value as --help shows it. */
export function formatValue (key: keyof Config, value: unknown): string {
  const spec = SETTINGS[key] as SettingSpec
  if (spec.kind === 'size' && typeof value === 'number') return formatSize(value)
  if (spec.kind === 'duration' && typeof value === 'number') return formatDuration(value)
  if (spec.kind === 'address') return formatListen(value as ListenAddress)
  if (Array.isArray(value)) return value.length === 0 ? '(none)' : spec.kind === 'json' ? JSON.stringify(value) : value.join(',')
  if (value === '') return '(none)'
  return String(value)
}

function parseFlags (argv: readonly string[], errors: string[]): Map<keyof Config, Given> {
  const out = new Map<keyof Config, Given>()
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (!arg.startsWith('--')) {
      errors.push(`unexpected argument ${JSON.stringify(arg)} (settings are given as --name value)`)
      continue
    }
    const eq = arg.indexOf('=')
    const name = arg.slice(2, eq < 0 ? undefined : eq)
    const key = KEY_BY_FLAG.get(name)
    if (key === undefined) {
      errors.push(`unknown flag --${name} (prom-ingest serve --help lists every setting)`)
      if (eq < 0 && i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) i++
      continue
    }
    let value: Raw
    if (eq >= 0) {
      value = arg.slice(eq + 1)
    } else if (SETTINGS[key].kind === 'bool') {
      // A bare boolean flag means true; `--flag false` also works.
      const next = argv[i + 1]
      if (next !== undefined && /^(true|false)$/i.test(next)) { value = next; i++ } else value = true
    } else {
      const next = argv[i + 1]
      if (next === undefined) { errors.push(`--${name} needs a value`); continue }
      value = next
      i++
    }
    const before = out.get(key)
    // A repeated list flag of free values adds to the list (--forward-url A --forward-url B); a later
    // --sink replaces an earlier one.
    if (SETTINGS[key].kind === 'list' && SETTINGS[key].values === undefined && before !== undefined) value = `${String(before.value)},${String(value)}`
    out.set(key, { value, from: `flag --${name}` })
  }
  return out
}

function readConfigFile (path: string, errors: string[]): Map<keyof Config, Given> {
  const out = new Map<keyof Config, Given>()
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    errors.push(`config: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
    return out
  }
  // JSON or YAML (config-document.ts): relabel_configs can be pasted from a Prometheus config.
  const { doc: parsed, errors: problems } = readConfigDocument(path, text)
  if (parsed === undefined) {
    for (const p of problems) errors.push(`config: ${p}`)
    return out
  }
  for (const [name, value] of Object.entries(parsed as Record<string, unknown>)) {
    // Prometheus' own spelling of the relabeling key is taken too.
    const key = name === 'relabel_configs' ? 'relabelConfigs' : KEY_BY_FLAG.get(name) ?? (SETTING_KEYS.includes(name as keyof Config) ? name as keyof Config : undefined)
    if (key === undefined) { errors.push(`config file ${path}: unknown setting ${JSON.stringify(name)}`); continue }
    if (SETTINGS[key].notInFile === true) { errors.push(`config file ${path}: ${name} cannot be set in the file itself`); continue }
    const kind = SETTINGS[key].kind
    if (kind === 'json' || (kind === 'list' && Array.isArray(value))) { out.set(key, { value: value as Raw, from: `config file ${path}` }); continue }
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      errors.push(`${flagName(key)}: must be a string, number or boolean (from config file ${path})`)
      continue
    }
    out.set(key, { value, from: `config file ${path}` })
  }
  return out
}

/** The typed value, or { error } saying why the raw value is refused (the sentence follows the value). */
function convert (raw: Raw, spec: SettingSpec): unknown {
  switch (spec.kind) {
    case 'bool': {
      if (typeof raw === 'boolean') return raw
      const t = String(raw).trim().toLowerCase()
      if (t === 'true' || t === '1' || t === 'yes') return true
      if (t === 'false' || t === '0' || t === 'no') return false
      return { error: 'is not a boolean (true or false)' }
    }
    case 'int': {
      const n = typeof raw === 'number' ? raw : /^\s*-?\d+\s*$/.test(String(raw)) ? Number(raw) : NaN
      if (!Number.isSafeInteger(n)) return { error: 'is not a whole number' }
      return checkRange(n, spec, String)
    }
    case 'size': {
      const n = typeof raw === 'number' ? (Number.isSafeInteger(raw) ? raw : undefined) : typeof raw === 'string' ? parseSize(raw) : undefined
      if (n === undefined) return { error: 'is not a size (bytes, or with a unit: 64KiB, 1MiB, 32MiB, 1GB)' }
      return checkRange(n, spec, formatSize)
    }
    case 'duration': {
      const n = raw === 0 ? 0 : typeof raw === 'string' ? parseDuration(raw) : undefined
      if (n === undefined) return { error: 'is not a duration (a number with a unit: 500ms, 5s, 1m, 15d)' }
      return checkRange(n, spec, formatDuration)
    }
    case 'enum': {
      const t = String(raw).trim()
      if (spec.values?.includes(t) !== true) return { error: `is not one of ${spec.values?.join(', ')}` }
      return t
    }
    case 'address': return parseListen(String(raw))
    case 'list': {
      const items = (Array.isArray(raw) ? raw.map(String) : String(raw).split(',')).map(t => t.trim()).filter(t => t !== '')
      const bad = spec.values === undefined ? undefined : items.find(t => !spec.values!.includes(t))
      if (bad !== undefined) return { error: items.length === 1 ? `is not one of ${spec.values!.join(', ')}` : `names ${JSON.stringify(bad)}, which is not one of ${spec.values!.join(', ')}` }
      if (spec.values !== undefined && items.length === 0) return { error: `is empty (one or more of ${spec.values.join(', ')})` }
      return [...new Set(items)]
    }
    case 'json': {
      if (typeof raw !== 'string') return raw
      try { return JSON.parse(raw) as unknown } catch (err) { return { error: `is not JSON: ${(err as Error).message}` } }
    }
    case 'string':
    case 'path':
      if (typeof raw !== 'string') return { error: 'must be a string' }
      return raw
  }
}

function checkRange (n: number, spec: SettingSpec, show: (n: number) => string): unknown {
  if (spec.values !== undefined && !spec.values.includes(n)) return { error: `is not one of ${spec.values.join(', ')}` }
  if (spec.min !== undefined && n < spec.min) return { error: `is below the minimum ${show(spec.min)}` }
  if (spec.max !== undefined && n > spec.max) return { error: `is above the maximum ${show(spec.max)}` }
  return n
}

/** `host:port`, `[v6]:port` or `:port` (all interfaces). */
export function parseListen (text: string): ListenAddress | { error: string } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text.trim())
  if (m === null) return { error: 'is not host:port (for example 0.0.0.0:9201, [::]:9201 or :9201)' }
  const port = Number(m[3])
  if (port > 65535) return { error: 'has a port above 65535' }
  const host = m[1] ?? (m[2] === '' ? '0.0.0.0' : m[2]!)
  return { host, port }
}

/** The secret in a file without its trailing newline; an unreadable or empty file is an error. */
function readSecret (key: keyof Config, path: string, cwd: string, errors: string[]): string {
  let text: string
  try {
    text = readFileSync(resolve(cwd, path), 'utf8').replace(/\r?\n$/, '')
  } catch (err) {
    errors.push(`${flagName(key)}: cannot read ${JSON.stringify(path)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
    return ''
  }
  if (text === '') errors.push(`${flagName(key)}: ${JSON.stringify(path)} is empty`)
  return text
}

function crossCheck (c: Config, cwd: string, errors: string[]): void {
  if (c.authBearerTokenFile !== '') {
    if (c.authBearerToken !== '') errors.push('auth-bearer-token and auth-bearer-token-file: set only one of them')
    else c.authBearerToken = readSecret('authBearerTokenFile', c.authBearerTokenFile, cwd, errors)
  }
  if (c.authReadBearerTokenFile !== '') {
    if (c.authReadBearerToken !== '') errors.push('auth-read-bearer-token and auth-read-bearer-token-file: set only one of them')
    else c.authReadBearerToken = readSecret('authReadBearerTokenFile', c.authReadBearerTokenFile, cwd, errors)
  }
  if (c.authReadBearerToken !== '' && c.authReadBearerToken === c.authBearerToken) {
    errors.push('auth-read-bearer-token: must differ from auth-bearer-token (a sender\'s write token must not read)')
  }
  if (c.authBasicPasswordFile !== '') {
    if (c.authBasicPassword !== '') errors.push('auth-basic-password and auth-basic-password-file: set only one of them')
    else c.authBasicPassword = readSecret('authBasicPasswordFile', c.authBasicPasswordFile, cwd, errors)
  }
  if (c.authBasicUser !== '' && c.authBasicPassword === '' && c.authBasicPasswordFile === '') {
    errors.push('auth-basic-user: needs auth-basic-password or auth-basic-password-file')
  }
  if (c.authBasicUser === '' && (c.authBasicPassword !== '' || c.authBasicPasswordFile !== '')) {
    errors.push('auth-basic-password: needs auth-basic-user')
  }
  if (c.authBasicUser.includes(':')) errors.push('auth-basic-user: must not contain ":" (basic auth separates user and password with it)')
  checkForward(c, errors)
  // Relabeling rules, as Prometheus checks them at config load: each problem names the rule by index and the field.
  errors.push(...readRelabelSettings({ relabel_configs: c.relabelConfigs, 'relabel-compat': c.relabelCompat, 'forward-destinations': c.forwardDestinations }, c.legacyLabelNames ? 'legacy' : 'utf8').errors)
  checkClickHouse(c, cwd, errors)
  if (c.haDedup && (c.haClusterLabel === '' || c.haReplicaLabel === '' || c.haClusterLabel === c.haReplicaLabel)) errors.push('ha-cluster-label / ha-replica-label: with ha-dedup both must be set, and differ')
  try { tenantLimitTable(c.tenantIngestionRate, c.tenantIngestionBurst, c.tenantLimits, c.tenantMaxSeries, { dedup: c.haDedup, clusterLabel: c.haClusterLabel, replicaLabel: c.haReplicaLabel }) } catch (err) { errors.push((err as Error).message) }
  if (c.tenantHeader !== '' && !HEADER_TOKEN.test(c.tenantHeader)) {
    errors.push(`tenant-header: ${JSON.stringify(c.tenantHeader)} is not a valid HTTP header name`)
  }
}

/** Sink clickhouse needs a URL; its password comes from a file. */
function checkClickHouse (c: Config, cwd: string, errors: string[]): void {
  const on = c.sink.includes('clickhouse')
  if (on && c.clickhouseUrl.length === 0) errors.push('sink clickhouse: needs clickhouse-url')
  if (!on && c.clickhouseUrl.length > 0) errors.push('clickhouse-url: set, but sink does not list clickhouse')
  for (const u of c.clickhouseUrl) {
    if (!/^https?:\/\/[^\s/]+/.test(u)) errors.push(`clickhouse-url: ${JSON.stringify(u)} is not an http:// or https:// URL`)
  }
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(c.clickhouseDatabase)) errors.push(`clickhouse-database: ${JSON.stringify(c.clickhouseDatabase)} is not a plain identifier ([A-Za-z_][A-Za-z0-9_]*)`)
  if (!/^[A-Za-z0-9_.-]*$/.test(c.clickhouseCluster)) errors.push(`clickhouse-cluster: ${JSON.stringify(c.clickhouseCluster)} may hold only A-Z a-z 0-9 _ . -`)
  if (!/^[A-Za-z0-9_]*$/.test(c.clickhouseTablePrefix)) errors.push(`clickhouse-table-prefix: ${JSON.stringify(c.clickhouseTablePrefix)} may hold only A-Z a-z 0-9 _`)
  if (c.clickhousePasswordFile !== '') {
    if (c.clickhousePassword !== '') errors.push('clickhouse-password and clickhouse-password-file: set only one of them')
    else c.clickhousePassword = readSecret('clickhousePasswordFile', c.clickhousePasswordFile, cwd, errors)
  }
}

/** The forward settings agree with each other: forward needs destinations, destinations need forward. */
function checkForward (c: Config, errors: string[]): void {
  const forwarding = c.sink.includes('forward')
  const count = c.forwardUrl.length + (Array.isArray(c.forwardDestinations) ? c.forwardDestinations.length : 0)
  if (!Array.isArray(c.forwardDestinations)) errors.push('forward-destinations: must be an array of destinations ({"url": ...})')
  if (forwarding && count === 0) errors.push('sink forward: needs at least one destination (forward-url or forward-destinations)')
  if (!forwarding && count > 0) errors.push('forward-url / forward-destinations: set, but sink does not list forward')
  for (const u of c.forwardUrl) {
    if (!/^https?:\/\/[^\s/]+/.test(u)) errors.push(`forward-url: ${JSON.stringify(u)} is not an http:// or https:// URL`)
  }
  if (c.forwardRetryMinBackoff > c.forwardRetryMaxBackoff) errors.push('forward-retry-min-backoff: is above forward-retry-max-backoff')
  if (c.sink.includes('discard') && c.sink.length > 1) errors.push('sink: discard cannot be combined with other sinks')
}
