/**
 * docs/configuration.md lists every setting of the schema (src/config/schema.ts) as `--help` does
 * (src/config/help.ts): its flag, its environment variable, its default and its help line. A new
 * setting fails this test until its row is added; the failure message gives the row, and
 * `npm run docs:tables` writes it (src/docs/reference-tables.ts builds the rows).
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { flagName, SETTING_KEYS } from '../../src/config/schema.js'
import { settingRow as expectedRow } from '../../src/docs/reference-tables.js'

const DOC = new URL('../../docs/configuration.md', import.meta.url)

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
