/**
 * `prom-ingest check-config FILE...`: the command as a real process on real files (JSON and YAML),
 * every problem printed with the rule's index and field, and the exit status; then its verdict on
 * single rules against Debian's `promtool check config` (Prometheus 2.42), in compat 2.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { checkConfigFile } from '../../src/cli/check-config.js'
import { parseRelabelConfigs } from '../../src/relabel/index.js'
import { CLI_PATH } from '../helpers/service-process.js'

const dir = mkdtempSync(join(tmpdir(), 'prom-ingest-check-config-test-'))
afterAll(() => { rmSync(dir, { recursive: true, force: true }) })

function file (name: string, text: string): string {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

function cli (...args: string[]): { status: number | null, stdout: string, stderr: string } {
  const r = spawnSync(process.execPath, [CLI_PATH, 'check-config', ...args], { encoding: 'utf8' })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

const GOOD_YAML = `# a gateway
listen: 127.0.0.1:9201
sink: discard
relabel-compat: 2
relabel_configs:
  - source_labels: [__name__]
    regex: 'go_gc_.*|process_.*'
    action: drop
  - regex: 'pod_template_hash|controller_revision_hash'
    action: labeldrop
  - source_labels: [instance]
    target_label: shard
    modulus: 18446744073709551615
    action: hashmod
`

describe('prom-ingest check-config', () => {
  it('passes a valid YAML file and a valid JSON file (exit 0)', () => {
    const r = cli(file('good.yaml', GOOD_YAML), file('good.json', JSON.stringify({ 'max-series': 2048, relabel_configs: [{ source_labels: ['job'], target_label: 'team', replacement: 'a' }] })))
    expect(r.stderr).toBe('')
    expect(r.stdout).toMatch(/SUCCESS: .*good\.yaml is a valid prom-ingest config file/)
    expect(r.stdout).toMatch(/SUCCESS: .*good\.json/)
    expect(r.status).toBe(0)
  })

  it('prints every problem, settings and rules, and exits 1', () => {
    const path = file('bad.yml', `listen: nope
no-such-setting: 1
relabel-compat: 3
relabel_configs:
  - source_labels: [a]
    regex: 'a(?=b)'
    action: drop
  - action: hashmod
    target_label: shard
  - regex: x
    action: labeldrop
    separator: ','
  - action: uppercase
    replacement: x
forward-destinations:
  - url: http://127.0.0.1:9/api/v1/write
    relabel_configs:
      - action: keepequal
        source_labels: [a]
`)
    const r = cli(path)
    expect(r.status).toBe(1)
    const problems = r.stderr.split('\n').filter(l => l.startsWith('    - ')).map(l => l.slice(6))
    expect(problems).toEqual(expect.arrayContaining([
      expect.stringMatching(/^listen: "nope" is not host:port .*\(from config file .*bad\.yml\)$/),
      expect.stringMatching(/unknown setting "no-such-setting"/),
      expect.stringMatching(/^relabel_configs\[0\]\.regex: "a\(\?=b\)" is not a valid RE2 regular expression .*`\(\?=`/),
      'relabel_configs[1].modulus: relabel configuration for hashmod requires non-zero modulus',
      "relabel_configs[2].separator: labeldrop action requires only 'regex', and no other fields",
      "relabel_configs[3].target_label: relabel configuration for uppercase action requires 'target_label' value",
      "relabel_configs[3].replacement: 'replacement' can not be set for uppercase action",
      "forward-destinations[0].relabel_configs[0].target_label: relabel configuration for keepequal action requires 'target_label' value"
    ]))
    expect(r.stderr).not.toContain('settings.json') // the temporary file's name never shows
  })

  it('says where YAML and JSON do not parse', () => {
    expect(checkConfigFile(file('broken.yaml', 'relabel_configs:\n  - action: drop\n   regex: x\n'))[0]).toMatch(/cannot read .*broken\.yaml as YAML: .*line 3/)
    expect(checkConfigFile(file('broken.json', '{"listen": }'))[0]).toMatch(/cannot read .*broken\.json as JSON/)
    expect(checkConfigFile(file('list.yaml', '- a\n- b\n'))[0]).toMatch(/must hold a mapping of settings/)
    expect(checkConfigFile(join(dir, 'missing.yaml'))[0]).toMatch(/cannot read .*missing\.yaml: ENOENT/)
    expect(checkConfigFile(file('compat.yaml', 'relabel-compat: 4\n'))).toEqual(['relabel-compat: 4 is not 2 or 3 (the Prometheus major version whose relabeling is followed)'])
  })

  it('usage errors exit 2; --help exits 0', () => {
    expect(cli().status).toBe(2)
    expect(cli('--bogus', 'x').status).toBe(2)
    const help = cli('--help')
    expect(help.status).toBe(0)
    expect(help.stdout).toMatch(/^Usage: prom-ingest check-config FILE/)
  })
})

const hasPromtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' }).status === 0
if (!hasPromtool) console.warn('check-config: no `promtool` binary on PATH, so the comparison with Prometheus 2.42 is skipped (apt-get install prometheus)')

/** Single rules, each given to promtool inside a scrape config and to our parser (compat 2). */
const RULES: Array<Record<string, unknown>> = [
  { source_labels: ['a'], regex: '(?i)x', action: 'drop' },
  { source_labels: ['a'], regex: 'a\\1', action: 'drop' },
  { source_labels: ['a'], regex: '(?<n>x)', target_label: 'b' },
  { source_labels: ['a'], regex: '(?P<n>x)(?P<n>y)', target_label: 'b' },
  { source_labels: ['a'], regex: 'x{1001}', action: 'keep' },
  { source_labels: ['a'], regex: '\\C', action: 'keep' },
  { source_labels: ['a'], regex: '\\Qa.b\\E|\\pL|[[:alpha:]]|a{,3}|\\_', action: 'keep' },
  { source_labels: ['a'], regex: 'a(?!b)', action: 'keep' },
  { action: 'hashmod', source_labels: ['a'], target_label: 'b' },
  { action: 'hashmod', source_labels: ['a'], target_label: '$1', modulus: 2 },
  { action: 'replace', source_labels: ['a'] },
  { action: 'replace', source_labels: ['a'], target_label: '0${1}' },
  { action: 'replace', source_labels: ['a'], target_label: 'x.y' },
  { action: 'lowercase', source_labels: ['a'], target_label: '${1}' },
  { action: 'uppercase', source_labels: ['a'], target_label: 'b', replacement: 'c' },
  { action: 'keepequal', source_labels: ['a'], target_label: 'b', regex: '(.*)' },
  { action: 'dropequal', source_labels: ['a'], target_label: 'b', separator: ';' },
  { action: 'labeldrop', regex: 'x', source_labels: ['a'] },
  { action: 'labelkeep', regex: 'x', replacement: '$1' },
  { action: 'labelmap', regex: 'x(.*)', replacement: 'a.$1' },
  { action: 'labelmap', regex: 'x(.*)', replacement: 'y_${1}' },
  { action: 'Drop', source_labels: ['a'], regex: 'x' },
  { action: 'rename', source_labels: ['a'] },
  { action: '', source_labels: ['a'] },
  { source_labels: ['a-b'], action: 'drop' },
  { source_labels: ['a'], regexp: 'x', action: 'drop' },
  { source_labels: ['a'], action: 'hashmod', target_label: 'b', modulus: -1 }
]

describe.skipIf(!hasPromtool)('check-config agrees with promtool check config (Prometheus 2.42) on single rules', () => {
  for (const rule of RULES) {
    it(JSON.stringify(rule), () => {
      const path = file('prometheus.yml', `scrape_configs:\n  - job_name: x\n    static_configs: [{ targets: ['127.0.0.1:9'] }]\n    metric_relabel_configs: [${JSON.stringify(rule)}]\n`)
      const promtool = spawnSync('promtool', ['check', 'config', path], { encoding: 'utf8' })
      const ours = parseRelabelConfigs([rule], 'relabel_configs', { compat: 2 }).errors
      expect({ refused: ours.length > 0, ours }).toMatchObject({ refused: promtool.status !== 0 })
    })
  }
})
