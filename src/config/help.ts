/**
 * --help text, generated from the schema so that it always lists every setting with its flag,
 * environment variable and default.
 */
import { formatValue } from './load-config.js'
import { envName, flagName, SETTING_KEYS, SETTINGS, type SettingKind, type SettingSpec } from './schema.js'

const PLACEHOLDER: Record<SettingKind, string> = {
  address: 'HOST:PORT',
  int: 'N',
  bool: '[=BOOL]',
  duration: 'DURATION',
  size: 'SIZE',
  enum: '',
  string: 'TEXT',
  path: 'FILE',
  list: 'A,B,...',
  json: 'JSON'
}

/** One block per setting: flag line, help line, environment and default line. */
export function settingsHelp (): string {
  const lines: string[] = []
  for (const key of SETTING_KEYS) {
    const spec = SETTINGS[key] as SettingSpec
    const arg = spec.kind === 'enum' || (spec.kind === 'list' && spec.values !== undefined) ? (spec.values ?? []).join('|') : spec.kind === 'int' && spec.values !== undefined ? spec.values.join('|') : PLACEHOLDER[spec.kind]
    const defaultText = spec.defaultText ?? (typeof spec.default === 'function' ? '(computed)' : formatValue(key, spec.default))
    lines.push(`  --${flagName(key)}${arg === '' ? '' : arg.startsWith('[') ? arg : ' ' + arg}`)
    lines.push(`      ${spec.help}`)
    lines.push(`      env ${envName(key)}, default ${defaultText}`)
  }
  return lines.join('\n')
}

export const SETTINGS_INTRO = `Settings come from flags, environment variables and an optional JSON file (--config), in that
order of precedence. Sizes take B, KB, MB, GB or KiB, MiB, GiB (32MiB); durations take ms, s, m, h, d,
w, y (500ms, 5s, 15d).`

export function serveHelp (): string {
  return `Usage: prom-ingest serve [settings]

Receives Prometheus remote-write 1.0 and 2.0 on POST /api/v1/write, decodes it in a worker pool and
stores it in the sink. Also serves /metrics, /healthz and /readyz.

${SETTINGS_INTRO}

${settingsHelp()}
`
}
