/**
 * The forward destinations from the settings: `forward-url` (every one with the forward-* defaults) and
 * the config file's `forward-destinations` (each with its own settings). Checked once at start-up: a bad
 * URL, a missing secret file or two destinations with the same name stop the service with config_invalid.
 */
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { parseDuration } from '../config/duration.js'
import type { Config, ForwardDestinationSetting } from '../config/schema.js'
import { parseSize } from '../config/size.js'
import { IngestError } from '../errors.js'

export interface Destination {
  /** Name in metrics, logs and the queue cursor ([A-Za-z0-9._-]). */
  readonly name: string
  /** scheme://host:port */
  readonly origin: string
  /** Path and query of the remote-write endpoint. */
  readonly path: string
  /** Headers sent with every request (configured headers and authorization). */
  readonly headers: Readonly<Record<string, string>>
  /** Protocol version to send; undefined forwards each body in the version it was received in. */
  readonly protocol: '1.0' | '2.0' | undefined
  readonly timeoutMs: number
  readonly maxInFlight: number
  readonly queueLimitBytes: number
}

// relabel_configs (any spelling) is read by src/relabel/relabel-settings.ts.
const KNOWN_KEYS = new Set(['url', 'name', 'headers', 'bearerTokenFile', 'basicAuth', 'protocol', 'timeout', 'maxInFlight', 'queueLimit', 'relabel_configs', 'relabel-configs', 'relabelConfigs'])

export function destinationsOf (config: Config, cwd = process.cwd()): Destination[] {
  const errors: string[] = []
  const out: Destination[] = []
  const settings: ForwardDestinationSetting[] = [...config.forwardUrl.map(url => ({ url })), ...config.forwardDestinations]
  settings.forEach((s, i) => {
    const where = i < config.forwardUrl.length ? `forward-url ${JSON.stringify(s.url)}` : `forward-destinations[${i - config.forwardUrl.length}]`
    const d = destinationOf(s, config, cwd, m => errors.push(`${where}: ${m}`))
    if (d !== undefined) out.push(d)
  })
  const seen = new Set<string>()
  for (const d of out) {
    if (seen.has(d.name)) errors.push(`forward destinations: two are named ${JSON.stringify(d.name)} (give one a "name")`)
    seen.add(d.name)
  }
  if (errors.length > 0) throw new IngestError('config_invalid', `invalid configuration: ${errors.join('; ')}`, { errors })
  return out
}

function destinationOf (s: ForwardDestinationSetting, c: Config, cwd: string, error: (m: string) => void): Destination | undefined {
  if (s === null || typeof s !== 'object') { error('must be an object with at least "url"'); return undefined }
  for (const k of Object.keys(s)) if (!KNOWN_KEYS.has(k)) error(`unknown key ${JSON.stringify(k)}`)
  let url: URL
  try {
    url = new URL(String(s.url))
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http')
  } catch {
    error(`url ${JSON.stringify(s.url)} is not an http:// or https:// URL`)
    return undefined
  }
  const name = s.name ?? `${url.host}${url.pathname}`.replace(/[^A-Za-z0-9._-]+/g, '_')
  if (!/^[A-Za-z0-9._-]{1,100}$/.test(name)) error(`name ${JSON.stringify(name)} must be 1 to 100 of A-Z a-z 0-9 . _ -`)
  const headers: Record<string, string> = {}
  if (s.headers !== undefined) {
    if (typeof s.headers !== 'object' || s.headers === null) error('headers must be an object of strings')
    else for (const [k, v] of Object.entries(s.headers)) headers[k.toLowerCase()] = String(v)
  }
  if (url.username !== '') {
    headers.authorization = 'Basic ' + Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')
    url.username = ''
    url.password = ''
  }
  if (s.bearerTokenFile !== undefined) {
    const token = secret(s.bearerTokenFile, cwd, error)
    if (token !== undefined) headers.authorization = `Bearer ${token}`
  }
  if (s.basicAuth !== undefined) {
    if (typeof s.basicAuth?.username !== 'string' || typeof s.basicAuth.passwordFile !== 'string') error('basicAuth needs "username" and "passwordFile"')
    else {
      const password = secret(s.basicAuth.passwordFile, cwd, error)
      if (password !== undefined) headers.authorization = 'Basic ' + Buffer.from(`${s.basicAuth.username}:${password}`).toString('base64')
    }
  }
  if (s.bearerTokenFile !== undefined && s.basicAuth !== undefined) error('set bearerTokenFile or basicAuth, not both')
  if (s.protocol !== undefined && s.protocol !== '1.0' && s.protocol !== '2.0') error(`protocol ${JSON.stringify(s.protocol)} is not "1.0" or "2.0"`)
  const timeoutMs = s.timeout === undefined ? c.forwardTimeout : typeof s.timeout === 'number' ? s.timeout : parseDuration(s.timeout)
  if (timeoutMs === undefined || timeoutMs < 100) error(`timeout ${JSON.stringify(s.timeout)} is not a duration of at least 100ms`)
  const maxInFlight = s.maxInFlight ?? c.forwardMaxInFlight
  if (!Number.isInteger(maxInFlight) || maxInFlight < 1 || maxInFlight > 64) error(`maxInFlight ${JSON.stringify(s.maxInFlight)} is not a whole number from 1 to 64`)
  const queueLimitBytes = s.queueLimit === undefined ? c.forwardQueueLimit : typeof s.queueLimit === 'number' ? s.queueLimit : parseSize(s.queueLimit)
  if (queueLimitBytes === undefined || queueLimitBytes < 1 << 16) error(`queueLimit ${JSON.stringify(s.queueLimit)} is not a size of at least 64KiB`)
  return {
    name,
    origin: url.origin,
    path: url.pathname + url.search,
    headers,
    protocol: s.protocol,
    timeoutMs: timeoutMs ?? c.forwardTimeout,
    maxInFlight,
    queueLimitBytes: queueLimitBytes ?? c.forwardQueueLimit
  }
}

function secret (path: string, cwd: string, error: (m: string) => void): string | undefined {
  try {
    const text = readFileSync(resolve(cwd, path), 'utf8').replace(/\r?\n$/, '')
    if (text === '') { error(`${JSON.stringify(path)} is empty`); return undefined }
    return text
  } catch (err) {
    error(`cannot read ${JSON.stringify(path)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
    return undefined
  }
}
