/**
 * `prom-ingest serve`: loads the settings, starts the service, and shuts it down on SIGTERM or SIGINT.
 *
 * First signal: graceful shutdown (stop accepting, finish and acknowledge in-flight requests, flush
 * the sinks), exit 0 when it completed within shutdown-grace, 1 when something had to be cut off.
 * A second signal exits at once (128 + signal number, as shells report it).
 */
import { serveHelp } from '../config/help.js'
import { loadConfig } from '../config/load-config.js'
import type { Config } from '../config/schema.js'
import { IngestError } from '../errors.js'
import { createLogger } from '../logger.js'
import { startService } from '../main.js'

const SIGNAL_EXIT: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143 }

export async function runServe (argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(serveHelp())
    return 0
  }
  let config: Config
  try {
    config = loadConfig({ argv })
  } catch (err) {
    if (err instanceof IngestError && err.code === 'config_invalid') {
      process.stderr.write(`prom-ingest serve: ${err.message}\n`)
      return 2
    }
    throw err
  }
  const logger = createLogger(config.logLevel)
  // A bug that escapes every request's own handling: say so in the JSON log, then exit (the
  // orchestrator restarts the process; acknowledged data is already in the sink).
  process.on('uncaughtException', err => {
    logger.fatal({ err: err.stack ?? err.message }, 'uncaught exception: exiting')
    process.exit(1)
  })
  process.on('unhandledRejection', reason => {
    logger.fatal({ err: reason instanceof Error ? reason.stack ?? reason.message : String(reason) }, 'unhandled rejection: exiting')
    process.exit(1)
  })

  // Signals that arrive during start-up are honoured once the service is up (or make start-up end).
  let signalled: NodeJS.Signals | undefined
  const early = (signal: NodeJS.Signals): void => { signalled = signal }
  process.on('SIGTERM', early)
  process.on('SIGINT', early)

  const dropEarly = (): void => {
    process.removeListener('SIGTERM', early)
    process.removeListener('SIGINT', early)
  }
  let service
  try {
    service = await startService(config, { logger })
  } catch (err) {
    dropEarly()
    const e = err instanceof IngestError ? err : undefined
    logger.fatal({ code: e?.code ?? 'internal', err: err instanceof Error ? err.message : String(err) }, 'start-up failed')
    return e?.code === 'config_invalid' ? 2 : 1
  }
  const running = service

  return new Promise<number>(resolve => {
    let stopping = false
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) {
        logger.warn({ signal }, 'second signal: exiting at once')
        process.exit(SIGNAL_EXIT[signal] ?? 1)
      }
      stopping = true
      logger.info({ signal, graceMs: config.shutdownGrace }, 'signal received')
      // A hard stop in case closing itself hangs (a sink that never settles).
      const hard = setTimeout(() => {
        logger.error({ graceMs: config.shutdownGrace }, 'shutdown did not complete within the grace period: exiting')
        process.exit(1)
      }, config.shutdownGrace + 1000)
      hard.unref()
      running.close().then(
        clean => { clearTimeout(hard); finish(clean ? 0 : 1) },
        (err: unknown) => {
          clearTimeout(hard)
          logger.error({ err: err instanceof Error ? err.message : String(err) }, 'shutdown failed')
          finish(1)
        }
      )
    }
    // Exit explicitly: handles of libraries (a store's threads) must not keep a stopped service alive.
    const finish = (code: number): void => { resolve(code); setImmediate(() => process.exit(code)) }
    process.on('SIGTERM', onSignal)
    process.on('SIGINT', onSignal)
    // Only now: for as long as a signal has no listener, Node hands it back to the default action (or
    // drops one already on its way), and a SIGTERM sent right after "listening" killed the process at
    // once or was never seen (the service then ran on until SIGKILL).
    dropEarly()
    if (signalled !== undefined) onSignal(signalled)
  })
}
