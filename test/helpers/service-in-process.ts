/**
 * Runs the service in the test's own process on a loopback port (startService), with a fresh metrics
 * registry and no logs unless PROM_INGEST_TEST_LOGS is set. Settings are given as serve flags.
 */
import { pino } from 'pino'
import { Registry } from 'prom-client'
import { loadConfig } from '../../src/config/load-config.js'
import { startService, type Service, type ServiceOptions } from '../../src/main.js'

export async function startInProcess (flags: string[] = [], options: ServiceOptions = {}): Promise<Service> {
  const config = loadConfig({
    argv: ['--listen', '127.0.0.1:0', '--sink', 'discard', '--threads', '1', ...flags],
    env: {}
  })
  return startService(config, {
    logger: pino({ level: process.env.PROM_INGEST_TEST_LOGS !== undefined ? 'debug' : 'silent' }),
    registry: new Registry(),
    ...options
  })
}
