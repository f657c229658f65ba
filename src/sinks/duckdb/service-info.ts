/**
 * `service.json` in the data directory: how the `query` CLI finds a running service that has the
 * database open (DuckDB lets only one process open the file). The service writes it once it listens
 * and removes it on shutdown; a stale file (its pid gone) is ignored.
 */
import { readFileSync, rmSync, writeFileSync, renameSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'

export const SERVICE_INFO_FILE = 'service.json'

export interface ServiceInfo {
  readonly port: number
  readonly pid: number
  /** Host to connect to (default 127.0.0.1). */
  readonly host?: string
  /** 'http' or 'https' (default http). */
  readonly protocol?: string
  readonly startedAt?: string
}

/** Writes the file atomically (write, then rename). */
export function writeServiceInfo (dataDir: string, info: { port: number, pid: number, host?: string, protocol?: string }): void {
  mkdirSync(dataDir, { recursive: true })
  const file = join(dataDir, SERVICE_INFO_FILE)
  const tmp = `${file}.${process.pid}.tmp`
  writeFileSync(tmp, JSON.stringify({ ...info, startedAt: new Date().toISOString() }, null, 2) + '\n')
  renameSync(tmp, file)
}

/** Removes the file if it is this process' (pid matches). */
export function removeServiceInfo (dataDir: string, pid = process.pid): void {
  const info = readServiceInfoFile(dataDir)
  if (info !== undefined && info.pid === pid) rmSync(join(dataDir, SERVICE_INFO_FILE), { force: true })
}

function readServiceInfoFile (dataDir: string): ServiceInfo | undefined {
  try {
    const info = JSON.parse(readFileSync(join(dataDir, SERVICE_INFO_FILE), 'utf8')) as ServiceInfo
    if (!Number.isInteger(info.port) || !Number.isInteger(info.pid)) return undefined
    return info
  } catch {
    return undefined
  }
}

function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM' // exists, owned by someone else
  }
}

/** The running service of `dataDir`, or undefined when none (no file, or its process is gone). */
export function readServiceInfo (dataDir: string): ServiceInfo | undefined {
  const info = readServiceInfoFile(dataDir)
  return info !== undefined && alive(info.pid) ? info : undefined
}

export function serviceUrl (info: ServiceInfo): string {
  const host = info.host === undefined || info.host === '' || info.host === '0.0.0.0' || info.host === '::' ? '127.0.0.1' : info.host
  return `${info.protocol ?? 'http'}://${host.includes(':') ? `[${host}]` : host}:${info.port}`
}
