/**
 * docs/configuration.md lists every setting of the schema (src/config/schema.ts) as `--help` does
 * (src/config/help.ts): its flag, its environment variable, its default and its help line. A new
 * setting fails this test until its row is added; the failure message gives the row.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { formatValue } from '../../src/config/load-config.js'
import { envName, flagName, SETTING_KEYS, SETTINGS, type Config, type SettingSpec } from '../../src/config/schema.js'

const DOC = new URL('../../docs/configuration.md', import.meta.url)

/** The default as the doc shows it: as --help prints it, without what --help adds about this machine. */
function documentedDefault (key: keyof Config): string {
  const spec = SETTINGS[key] as SettingSpec
  const text = spec.defaultText ?? (typeof spec.default === 'function' ? '(computed)' : formatValue(key, spec.default))
  // `threads` adds "(1 here with duckdb, 2 with discard)": true of the machine that runs --help only.
  const general = text.replace(/\s*\([^()]*\bhere\b[^()]*\)$/, '')
  return general === '(none)' ? '(none)' : '`' + general + '`'
}

/** The table row of a setting, as docs/configuration.md must hold it. */
function expectedRow (key: keyof Config): string {
  const spec = SETTINGS[key] as SettingSpec
  return `| \`--${flagName(key)}\` | \`${envName(key)}\` | ${documentedDefault(key)} | ${spec.help.replace(/\|/g, '\\|')} |`
}

/** Rows of the doc's settings table, by flag. */
function documentedRows (): Map<string, string> {
  const rows = new Map<string, string>()
  for (const line of readFileSync(DOC, 'utf8').split('\n')) {
    const m = /^\| `--([a-z0-9-]+)` \|/.exec(line)
    if (m === null) continue
    expect(rows.has(m[1]!), `docs/configuration.md lists --${m[1]} twice`).toBe(false)
    rows.set(m[1]!, line.trimEnd())
  }
  return rows
}

describe('docs/configuration.md', () => {
  it('has a row for every setting with its flag, environment variable, default and help line', () => {
    const rows = documentedRows()
    for (const key of SETTING_KEYS) {
      const row = expectedRow(key)
      expect(rows.get(flagName(key)), `docs/configuration.md needs the row:\n${row}`).toBe(row)
    }
  })

  it('lists no setting the schema does not have', () => {
    expect([...documentedRows().keys()].sort()).toEqual(SETTING_KEYS.map(flagName).sort())
  })

  it('README.md names only real settings in its table of the common ones', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
    const flags = [...readme.matchAll(/^\| `--([a-z0-9-]+)` \|/gm)].map(m => m[1]!)
    expect(flags.length, 'README.md has a table of common settings').toBeGreaterThan(0)
    expect(flags.filter(f => !SETTING_KEYS.map(flagName).includes(f))).toEqual([])
  })

  it('shows defaults independent of the machine, and the ones --help prints', () => {
    expect(expectedRow('threads')).not.toMatch(/here/)
    expect(expectedRow('maxBodyBytes')).toContain('| `PROM_INGEST_MAX_BODY_BYTES` | `32MiB` |')
    expect(expectedRow('authBearerToken')).toContain('| `PROM_INGEST_AUTH_BEARER_TOKEN` | (none) |')
    expect(expectedRow('listen')).toContain('| `0.0.0.0:9201` |')
  })
})
