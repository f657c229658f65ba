#!/usr/bin/env node
/**
 * `prom-ingest <command>`: serve (the ingest service), inspect (a body, offline), query and export
 * (the embedded store). Commands are imported only when run, so that `query` does not start workers
 * and a command whose module is not in this build says so instead of failing at start-up.
 */
import { readFileSync } from 'node:fs'
import { SETTINGS_INTRO, settingsHelp } from './config/help.js'

type Runner = (argv: string[]) => Promise<number>

interface Command {
  readonly summary: string
  /** Module path relative to this file, and the function it exports. */
  readonly module: string
  readonly run: string
}

const COMMANDS: Record<string, Command> = {
  serve: { summary: 'run the ingest service (remote write in, sink out, /metrics, /healthz, /readyz)', module: './cli/serve.js', run: 'runServe' },
  inspect: { summary: 'decode a remote-write body from a file and print what it holds', module: './cli/inspect.js', run: 'runInspect' },
  query: { summary: 'run a read-only SQL query on the store (through the running service, or on the file)', module: './cli/query.js', run: 'runQuery' },
  export: { summary: 'export stored samples with their labels (Parquet)', module: './cli/export.js', run: 'runExport' },
  compact: { summary: 'move closed time windows of the store into Parquet blocks now (through the running service, or on the file)', module: './cli/compact.js', run: 'runCompact' },
  'check-config': { summary: 'check config files (JSON or YAML: settings and relabeling rules) without starting anything', module: './cli/check-config.js', run: 'runCheckConfig' }
}

function version (): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string }
    return pkg.version ?? 'unknown'
  } catch {
    return 'unknown'
  }
}

function usage (): string {
  const width = Math.max(...Object.keys(COMMANDS).map(n => n.length))
  const commands = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`).join('\n')
  return `Usage: prom-ingest <command> [options]

Prometheus remote-write (1.0 and 2.0) ingest service.

Commands:
${commands}

  prom-ingest <command> --help   options of one command
  prom-ingest --version          the version

Settings of \`prom-ingest serve\`:
${SETTINGS_INTRO}

${settingsHelp()}
`
}

async function loadRunner (name: string, command: Command): Promise<Runner | undefined> {
  // A specifier in a variable: the module may not exist in this build, and that is a runtime answer.
  const specifier: string = command.module
  let mod: Record<string, unknown>
  try {
    mod = await import(specifier) as Record<string, unknown>
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    if (e.code === 'ERR_MODULE_NOT_FOUND' && String(e.message).includes(specifier.replace('./', '').replace(/\.js$/, ''))) {
      process.stderr.write(`prom-ingest: the ${name} command is not part of this build (${specifier} is missing)\n`)
      return undefined
    }
    throw err
  }
  const run = mod[command.run]
  if (typeof run !== 'function') {
    process.stderr.write(`prom-ingest: ${specifier} does not export ${command.run}()\n`)
    return undefined
  }
  return run as Runner
}

export async function main (argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    if (name === 'help' && rest[0] !== undefined && rest[0] in COMMANDS) return main([rest[0], '--help'])
    process.stdout.write(usage())
    return name === undefined ? 2 : 0
  }
  if (name === '--version' || name === '-v' || name === 'version') {
    process.stdout.write(`prom-ingest ${version()}\n`)
    return 0
  }
  const command = Object.prototype.hasOwnProperty.call(COMMANDS, name) ? COMMANDS[name] : undefined
  if (command === undefined) {
    process.stderr.write(`prom-ingest: unknown command ${JSON.stringify(name)}; commands: ${Object.keys(COMMANDS).join(', ')} (prom-ingest --help)\n`)
    return 2
  }
  const run = await loadRunner(name, command)
  if (run === undefined) return 1
  return run(rest)
}

main(process.argv.slice(2)).then(
  code => { process.exitCode = code },
  (err: unknown) => {
    process.stderr.write(`prom-ingest: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
    process.exitCode = 1
  }
)
