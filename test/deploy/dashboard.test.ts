/**
 * deploy/grafana/prom-ingest-dashboard.json: a dashboard Grafana imports (ids, layout, data source
 * variable), with a panel for each figure issue 6 asks for, and every query valid PromQL (promtool
 * checks them as recording rules once Grafana's variables are replaced). Which metrics the queries
 * read is checked against a running service in service.test.ts.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { dashboardQueries, loadDashboard } from './deploy-files.js'

const dashboard = loadDashboard()

/** A query with Grafana's variables replaced, as Prometheus would receive it. */
function asPromql (expr: string): string {
  return expr.replace(/\$__rate_interval|\$__interval|\$__range/g, '5m').replace(/\$\{?(\w+)\}?/g, '.*')
}

describe('Grafana dashboard', () => {
  it('is an importable dashboard: uid, title, schema version, a Prometheus data source variable', () => {
    expect(dashboard.uid).toBe('prom-ingest')
    expect(dashboard.title).toBeTruthy()
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36)
    const vars = dashboard.templating.list
    expect(vars.find(v => v.name === 'datasource')).toMatchObject({ type: 'datasource', query: 'prometheus' })
    // Every variable a query uses is defined.
    const defined = new Set(vars.map(v => v.name))
    for (const { panel, expr } of dashboardQueries()) {
      for (const m of expr.matchAll(/\$\{?(\w+)\}?/g)) {
        if (!m[1]!.startsWith('__')) expect(defined.has(m[1]!), `${panel}: $${m[1]!}`).toBe(true)
      }
    }
  })

  it('has unique panel ids, panels inside the 24-column grid that do not overlap, queries on the data source variable', () => {
    const ids = dashboard.panels.map(p => p.id)
    expect(new Set(ids).size).toBe(ids.length)
    const cells = new Set<string>()
    for (const p of dashboard.panels) {
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24)
      for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++) {
        for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
          const cell = `${x},${y}`
          expect(cells.has(cell), `${p.title} overlaps at ${cell}`).toBe(false)
          cells.add(cell)
        }
      }
      if (p.type === 'row') continue
      expect(p.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' })
      expect(p.targets?.length, p.title).toBeGreaterThan(0)
      const refIds = p.targets!.map(t => t.refId)
      expect(new Set(refIds).size, p.title).toBe(refIds.length)
    }
  })

  it('shows what issue 6 lists: ingest rate, latency quantiles, rejections, sink latency, pool, slots, event-loop lag, memory', () => {
    const all = dashboardQueries().map(q => q.expr).join('\n')
    expect(all).toMatch(/rate\(prom_ingest_received_samples_total/)
    expect(all).toMatch(/histogram_quantile\(0\.99, sum by \(le\) \(rate\(prom_ingest_http_request_duration_seconds_bucket/)
    expect(all).toMatch(/histogram_quantile\(0\.5, sum by \(le\) \(rate\(prom_ingest_http_request_duration_seconds_bucket/)
    expect(all).toMatch(/sum by \(reason\) \(rate\(prom_ingest_rejected_requests_total/)
    expect(all).toMatch(/histogram_quantile\(0\.99, sum by \(le, sink\) \(rate\(prom_ingest_sink_write_duration_seconds_bucket/)
    expect(all).toMatch(/prom_ingest_pool_utilization_ratio/)
    expect(all).toMatch(/prom_ingest_slots_in_use/)
    expect(all).toMatch(/prom_ingest_slot_waiting_requests/)
    expect(all).toMatch(/nodejs_eventloop_lag_p99_seconds/)
    expect(all).toMatch(/process_resident_memory_bytes/)
  })

  it('every query is valid PromQL (promtool)', ctx => {
    const r0 = spawnSync('promtool', ['--version'], { stdio: 'ignore' })
    if (r0.status !== 0) {
      console.warn('promtool is not installed (Debian package prometheus): the dashboard queries are not parsed here')
      ctx.skip()
      return
    }
    const dir = mkdtempSync(join(tmpdir(), 'prom-ingest-dashboard-'))
    try {
      const rules = dashboardQueries().map((q, i) => ({ record: `dashboard:query_${i}`, expr: asPromql(q.expr) }))
      const file = join(dir, 'queries.yml')
      writeFileSync(file, stringify({ groups: [{ name: 'dashboard', rules }] }))
      const r = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8', timeout: 60_000 })
      expect(`${r.stdout}${r.stderr}`).toMatch(new RegExp(`SUCCESS: ${rules.length} rules found`))
      // And a broken query is caught the same way.
      writeFileSync(file, stringify({ groups: [{ name: 'dashboard', rules: [{ record: 'dashboard:broken', expr: asPromql('sum by (le (rate(x[$__rate_interval]))') }] }] }))
      expect(spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8' }).status).not.toBe(0)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
