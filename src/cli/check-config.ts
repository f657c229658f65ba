/**
 * `prom-ingest check-config FILE...`: checks config files without starting anything, like
 * `promtool check config`. A file is JSON or YAML (by its extension, `.json`, `.yaml` or `.yml`, and
 * otherwise by its first character: `{` is JSON). Its settings are checked through the one settings
 * schema, as `serve --config FILE` checks them (the file alone: no flags or environment), and its
 * relabeling rules (src/relabel/relabel-settings.ts) as Prometheus checks them at config load. Every
 * problem is printed, each rule named by its index and field. Exit status: 0 when every file is
 * valid, 1 when one is not, 2 for a usage error.
 *
 * `serve --config FILE` reads the same formats (src/config/config-document.ts).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { readConfigDocument } from '../config/config-document.js'
import { loadConfig } from '../config/load-config.js'
import { IngestError } from '../errors.js'
import { readRelabelSettings } from '../relabel/relabel-settings.js'

export interface CheckConfigIo {
  out (text: string): void
  err (text: string): void
}

const processIo: CheckConfigIo = {
  out: text => { process.stdout.write(text) },
  err: text => { process.stderr.write(text) }
}

const USAGE = `Usage: prom-ingest check-config FILE...

Checks config files of prom-ingest serve (JSON or YAML) without starting anything: every setting
through the settings schema, and the relabeling rules (relabel_configs, relabel-compat, and
forward-destinations[i].relabel_configs) as Prometheus checks them. Prints every problem.
Exit status 0 when all files are valid, 1 when one is not, 2 on a usage error.
`

/**
 * The settings of the document, checked by load-config (which reads settings from a file path): the
 * settings are written as JSON to a private temporary file, and its path is replaced by the real one
 * in the messages.
 */
function checkSettings (path: string, settings: Record<string, unknown>, cwd: string): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'prom-ingest-check-config-'))
  const tmp = join(dir, 'settings.json')
  try {
    writeFileSync(tmp, JSON.stringify(settings, (_k, v: unknown) => typeof v === 'bigint' ? String(v) : v))
    loadConfig({ argv: ['--config', tmp], env: {}, cwd })
    return []
  } catch (err) {
    if (!(err instanceof IngestError) || err.code !== 'config_invalid') throw err
    const list = Array.isArray(err.detail?.errors) ? err.detail.errors as string[] : [err.message]
    return list.map(e => e.split(tmp).join(path))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Every problem of one file; [] when it is valid. */
export function checkConfigFile (path: string, cwd = process.cwd()): string[] {
  let text: string
  try {
    text = readFileSync(resolve(cwd, path), 'utf8')
  } catch (err) {
    return [`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`]
  }
  const { doc, errors } = readConfigDocument(path, text)
  if (doc === undefined) return errors
  const legacy = doc['legacy-label-names'] ?? doc.legacyLabelNames
  const relabel = readRelabelSettings(doc, legacy === true || legacy === 'true' ? 'legacy' : 'utf8')
  return [...checkSettings(path, relabel.rest, cwd), ...relabel.errors]
}

export async function runCheckConfig (argv: string[], io: CheckConfigIo = processIo): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) { io.out(USAGE); return 0 }
  const bad = argv.find(a => a.startsWith('-'))
  if (bad !== undefined || argv.length === 0) {
    io.err(`${bad !== undefined ? `prom-ingest check-config: unknown option ${bad}\n` : ''}${USAGE}`)
    return 2
  }
  let failed = false
  for (const file of argv) {
    io.out(`Checking ${file}\n`)
    const problems = checkConfigFile(file)
    if (problems.length === 0) {
      io.out(`  SUCCESS: ${file} is a valid prom-ingest config file\n`)
    } else {
      failed = true
      io.err(`  FAILED: ${problems.length} problem${problems.length === 1 ? '' : 's'} in ${file}:\n${problems.map(p => `    - ${p}\n`).join('')}`)
    }
  }
  return failed ? 1 : 0
}
