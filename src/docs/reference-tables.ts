/**
 * The rows of the reference tables in docs/ that are built from the code: the error table
 * (docs/errors.md, from CODES) and the settings table (docs/configuration.md, from the settings
 * schema, as `--help` prints them). The tests check the docs against these rows
 * (test/errors.test.ts, test/docs/configuration.test.ts); `npm run docs:tables` writes them.
 */
import { formatValue } from '../config/load-config.js'
import { envName, flagName, SETTINGS, type Config, type SettingSpec } from '../config/schema.js'
import { CODES, type ErrorCode } from '../errors.js'

/** The row of an error code in docs/errors.md. */
export function errorRow (code: ErrorCode): string {
  const info = CODES[code]
  return `| \`${code}\` | ${info.status} | ${info.retryable ? 'yes' : 'no'} | ${info.description} |`
}

/** The default as the doc shows it: as --help prints it, without what --help adds about this machine. */
export function documentedDefault (key: keyof Config): string {
  const spec = SETTINGS[key] as SettingSpec
  const text = spec.defaultText ?? (typeof spec.default === 'function' ? '(computed)' : formatValue(key, spec.default))
  // `threads` adds "(1 here with duckdb, 2 with discard)": true of the machine that runs --help only.
  const general = text.replace(/\s*\([^()]*\bhere\b[^()]*\)$/, '')
  return general === '(none)' ? '(none)' : '`' + general + '`'
}

/** The row of a setting in docs/configuration.md. */
export function settingRow (key: keyof Config): string {
  const spec = SETTINGS[key] as SettingSpec
  return `| \`--${flagName(key)}\` | \`${envName(key)}\` | ${documentedDefault(key)} | ${spec.help.replace(/\|/g, '\\|')} |`
}
