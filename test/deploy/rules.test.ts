/**
 * The alert rules: deploy/prometheus/rules.yml equals the PrometheusRule's groups, passes
 * `promtool check rules`, and behaves as test/deploy/alerts.promtool.yml says (`promtool test rules`).
 * promtool comes with Debian's prometheus package (.ci/run installs it); where it is missing the
 * promtool tests say so and are skipped. Which metrics the expressions read is checked against a
 * running service in service.test.ts.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { parse, stringify } from 'yaml'
import { BASE_DIR, DEPLOY, ROOT, kustomizations, one, render } from './deploy-files.js'
import { loadYamlFile } from './kustomize-render.js'
import { metricNames } from './promql-names.js'
import type { K8sObject } from './schema-check.js'

const RULES_FILE = join(DEPLOY, 'prometheus', 'rules.yml')
const UNIT_TESTS = join(ROOT, 'test', 'deploy', 'alerts.promtool.yml')

interface Rule { alert?: string, record?: string, expr: string, for?: string, labels?: Record<string, string>, annotations?: Record<string, string> }
interface Group { name: string, rules: Rule[] }

const plain = parse(readFileSync(RULES_FILE, 'utf8'), { version: '1.1' }) as { groups: Group[] }
const operatorRule = (loadYamlFile(join(BASE_DIR, 'prometheusrule.yaml')) as Array<K8sObject & { spec: { groups: Group[] } }>)[0]!
const alerts = plain.groups.flatMap(g => g.rules).filter(r => r.alert !== undefined)

const promtool = ((): string | undefined => {
  const r = spawnSync('promtool', ['--version'], { stdio: 'ignore', timeout: 20_000 })
  return r.status === 0 ? 'promtool' : undefined
})()

const scratch = mkdtempSync(join(tmpdir(), 'prom-ingest-rules-'))
afterAll(() => { rmSync(scratch, { recursive: true, force: true }) })

function requirePromtool (ctx: { skip: () => void }): string {
  if (promtool === undefined) {
    console.warn('promtool is not installed (Debian package prometheus): the rules are not checked by promtool here')
    ctx.skip()
  }
  return promtool!
}

/** Runs promtool; returns its exit status and output. */
function runPromtool (tool: string, args: string[]): { status: number | null, output: string } {
  const r = spawnSync(tool, args, { encoding: 'utf8', timeout: 60_000 })
  return { status: r.status, output: `${r.stdout}${r.stderr}` }
}

describe('alert rules', () => {
  it('rules.yml holds exactly the groups of the PrometheusRule (base and every rendered overlay)', () => {
    expect(plain.groups).toEqual(operatorRule.spec.groups)
    for (const k of kustomizations()) {
      expect(one<{ spec: { groups: Group[] } }>(render(k.dir), 'PrometheusRule').spec.groups, k.name).toEqual(plain.groups)
    }
  })

  it('cover what issue 6 asks for, each with a severity, a summary and a description', () => {
    const exprOf = (name: string): string => alerts.find(a => a.alert === name)?.expr ?? ''
    // Rejections by reason, sink failures, commit latency, slots exhausted or waiting, worker restarts,
    // no samples, disk filling.
    expect(exprOf('PromIngestRequestsRejected')).toMatch(/prom_ingest_rejected_requests_total/)
    expect(exprOf('PromIngestSinkWriteFailures')).toMatch(/prom_ingest_sink_write_failures_total/)
    expect(exprOf('PromIngestCommitLatencyHigh')).toMatch(/histogram_quantile\(0\.99, rate\(prom_ingest_sink_write_duration_seconds_bucket/)
    expect(exprOf('PromIngestSaturated')).toMatch(/reason="saturated"/)
    expect(exprOf('PromIngestSlotsExhausted')).toMatch(/prom_ingest_slots_in_use[\s\S]*prom_ingest_slot_waiting_requests/)
    expect(exprOf('PromIngestWorkerRestarts')).toMatch(/prom_ingest_pool_worker_restarts_total/)
    expect(exprOf('PromIngestNoSamplesReceived')).toMatch(/prom_ingest_received_samples_total/)
    expect(exprOf('PromIngestDiskFillingUp')).toMatch(/predict_linear\(kubelet_volume_stats_available_bytes/)
    expect(exprOf('PromIngestDiskAlmostFull')).toMatch(/kubelet_volume_stats_available_bytes/)
    for (const a of alerts) {
      expect(['warning', 'critical'], a.alert).toContain(a.labels?.severity)
      expect(a.annotations?.summary, a.alert).toBeTruthy()
      expect(a.annotations?.description, a.alert).toBeTruthy()
    }
    expect(new Set(alerts.map(a => a.alert)).size).toBe(alerts.length)
  })

  it('name only prom_ingest_ metrics and the few that other components write', () => {
    // `up` is written by Prometheus for every target; the disk alerts read the kubelet's volume
    // figures (the service exposes no disk metric). The nodejs_ metric is prom-client's default.
    const external = new Set(['up', 'kubelet_volume_stats_available_bytes', 'kubelet_volume_stats_capacity_bytes'])
    for (const a of alerts) {
      for (const name of metricNames(a.expr)) {
        expect(name.startsWith('prom_ingest_') || name.startsWith('nodejs_') || external.has(name), `${a.alert}: ${name}`).toBe(true)
      }
    }
  })

  it('pass `promtool check rules`', ctx => {
    const tool = requirePromtool(ctx)
    const r = runPromtool(tool, ['check', 'rules', RULES_FILE])
    expect(r.output).toMatch(new RegExp(`SUCCESS: ${plain.groups.flatMap(g => g.rules).length} rules found`))
    expect(r.status).toBe(0)
  })

  it('`promtool check rules` does fail on a broken copy', ctx => {
    const tool = requirePromtool(ctx)
    const broken = structuredClone(plain)
    broken.groups[0]!.rules[0]!.expr = 'rate(prom_ingest_received_samples_total[5m] > 0'
    const file = join(scratch, 'broken-rules.yml')
    writeFileSync(file, stringify(broken))
    const r = runPromtool(tool, ['check', 'rules', file])
    expect(r.status).not.toBe(0)
    expect(r.output).toMatch(/FAILED|error/i)
  })

  it('fire as the unit tests in alerts.promtool.yml expect (`promtool test rules`)', ctx => {
    const tool = requirePromtool(ctx)
    const r = runPromtool(tool, ['test', 'rules', UNIT_TESTS])
    expect(r.output).toMatch(/SUCCESS/)
    expect(r.status).toBe(0)
  })

  it('`promtool test rules` does fail when an alert is changed', ctx => {
    const tool = requirePromtool(ctx)
    // The same unit tests against rules whose rejection threshold is too high to fire.
    const changed = structuredClone(plain)
    const rule = changed.groups[0]!.rules.find(x => x.alert === 'PromIngestRequestsRejected')!
    const threshold = rule.expr
    rule.expr = rule.expr.replace('> 0.05', '> 0.5')
    expect(rule.expr, 'the threshold was found and changed').not.toBe(threshold)
    const rulesCopy = join(scratch, 'rules.yml')
    writeFileSync(rulesCopy, stringify(changed))
    const tests = readFileSync(UNIT_TESTS, 'utf8').replace('../../deploy/prometheus/rules.yml', rulesCopy)
    expect(tests, 'the unit tests now read the changed copy').toContain(rulesCopy)
    const testsCopy = join(scratch, 'alerts.promtool.yml')
    writeFileSync(testsCopy, tests)
    const r = runPromtool(tool, ['test', 'rules', testsCopy])
    expect(r.status).not.toBe(0)
    expect(r.output).toMatch(/PromIngestRequestsRejected/)
  })
})
