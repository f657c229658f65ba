/**
 * The process logger: structured JSON lines on stdout (pino), one level setting. Tests read the
 * `{"msg":"listening","port":N}` line to find the port.
 */
import { pino, type Logger } from 'pino'
import type { LogLevel } from './config/schema.js'

export type { Logger }

export function createLogger (level: LogLevel): Logger {
  return pino({
    level,
    base: { service: 'prom-ingest', pid: process.pid },
    // Numeric levels are for machines; names read better in `kubectl logs`.
    formatters: { level: label => ({ level: label }) }
  })
}
