#!/usr/bin/env node
// Rewrites the rows of docs/errors.md and docs/configuration.md that are built from the code
// (src/docs/reference-tables.ts), after `npm run build`. The error table is written whole, in the
// order of the code table. Settings rows are updated in place; a setting with no row yet goes right
// after the row of the setting before it in the schema (move it if another group fits better).
import { readFileSync, writeFileSync } from 'node:fs'

const { errorRow, settingRow } = await import('../dist/src/docs/reference-tables.js')
const { CODES } = await import('../dist/src/errors.js')
const { SETTING_KEYS, flagName } = await import('../dist/src/config/schema.js')

const errorsPath = new URL('../docs/errors.md', import.meta.url)
const errors = readFileSync(errorsPath, 'utf8').split('\n')
const first = errors.findIndex(l => /^\| `[a-z0-9_]+` \|/.test(l))
let last = first
while (last + 1 < errors.length && /^\| `[a-z0-9_]+` \|/.test(errors[last + 1])) last++
errors.splice(first, last - first + 1, ...Object.keys(CODES).map(errorRow))
writeFileSync(errorsPath, errors.join('\n'))

const configPath = new URL('../docs/configuration.md', import.meta.url)
const lines = readFileSync(configPath, 'utf8').split('\n')
const wanted = new Map(SETTING_KEYS.map(k => [flagName(k), settingRow(k)]))
const out = []
for (const line of lines) {
  const m = /^\| `--([a-z0-9-]+)` \|/.exec(line)
  if (m === null) { out.push(line); continue }
  if (!wanted.has(m[1])) { console.log(`removed --${m[1]}: no such setting`); continue }
  out.push(wanted.get(m[1]))
  wanted.delete(m[1])
}
const flags = SETTING_KEYS.map(flagName)
for (const [flag, row] of wanted) {
  let at = -1
  for (let i = flags.indexOf(flag) - 1; i >= 0 && at < 0; i--) at = out.findIndex(l => l.startsWith(`| \`--${flags[i]}\` |`))
  if (at < 0) { console.log(`no place for --${flag}; add it to its group:\n${row}`); continue }
  out.splice(at + 1, 0, row)
  console.log(`added --${flag} after --${/^\| `--([a-z0-9-]+)`/.exec(out[at])[1]}`)
}
writeFileSync(configPath, out.join('\n'))
