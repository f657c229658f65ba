/**
 * HA-pair deduplication per tenant (tenant-limits' ha-dedup, ha-cluster-label, ha-replica-label, as
 * Mimir's accept_ha_samples, ha_cluster_label, ha_replica_label), against the real process with its
 * DuckDB store. With ha-dedup off for the service and on for one tenant, under its own label names,
 * that tenant's second replica gets 202 and its replica label is not stored, while another tenant
 * sending the same labels has both replicas written as they are. And the other way round: with
 * ha-dedup on for the service, a tenant that turns it off has both replicas written.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { compressBody, encodeWriteRequest1 } from '../fixtures/encode.js'
import { scrapeMetrics, sumOf } from '../helpers/exposition.js'
import { postWrite } from '../helpers/remote-write.js'
import { startServiceProcess, type ServiceProcess } from '../helpers/service-process.js'
import { queryRows } from '../helpers/store-query.js'
import { ensureWorkerBuilt, removeTempDirs, tempDir } from '../sinks/duckdb/helpers.js'

let running: ServiceProcess[] = []
afterEach(async () => {
  await Promise.all(running.map(p => p.stop('SIGKILL')))
  running = []
})
afterAll(removeTempDirs)

const T0 = 1_700_000_000_000

/** One scrape of a replica, labelled with the given cluster and replica label names. */
function scrape (clusterLabel: string, replicaLabel: string, replica: string, ts: number): Uint8Array {
  return compressBody(encodeWriteRequest1({
    timeseries: [{ labels: [['__name__', 'up'], [clusterLabel, 'eu-1'], [replicaLabel, replica], ['instance', 'x']].sort((a, b) => a[0]! < b[0]! ? -1 : 1) as Array<[string, string]>, samples: [{ value: 1, timestamp: ts }] }]
  }))
}

async function serve (args: string[], limits: unknown): Promise<ServiceProcess> {
  ensureWorkerBuilt()
  const p = await startServiceProcess(['--threads', '1', '--commit-interval', '5ms', '--data-dir', tempDir(), ...args], { PROM_INGEST_TENANT_LIMITS: JSON.stringify(limits) })
  running.push(p)
  return p
}

async function storedLabels (p: ServiceProcess, tenant: string): Promise<string[]> {
  const rows = await queryRows(p.url, `SELECT to_json(map_entries(labels))::VARCHAR AS l FROM series WHERE tenant = '${tenant}' ORDER BY l`)
  return rows.map(r => String(r.l))
}

describe('HA deduplication per tenant', () => {
  it('is on for the tenant that asks for it, with its own label names, and off for the others', { timeout: 60_000 }, async () => {
    const p = await serve([], { ha: { 'ha-dedup': true, 'ha-cluster-label': 'prom_cluster', 'ha-replica-label': 'prom_replica' } })
    const send = async (tenant: string, replica: string, ts: number): Promise<number> =>
      (await postWrite(p.url, scrape('prom_cluster', 'prom_replica', replica, ts), { headers: { 'X-Scope-OrgID': tenant } })).status
    for (let k = 0; k < 3; k++) {
      expect(await send('ha', 'a', T0 + 1000 * k)).toBe(204)
      expect(await send('ha', 'b', T0 + 1000 * k + 10)).toBe(202)
      expect(await send('plain', 'a', T0 + 1000 * k)).toBe(204)
      expect(await send('plain', 'b', T0 + 1000 * k + 10)).toBe(204)
    }
    // ha: one series, without its replica label; plain: both replicas' series, as sent.
    expect(await storedLabels(p, 'ha')).toEqual(['[{"key":"__name__","value":"up"},{"key":"instance","value":"x"},{"key":"prom_cluster","value":"eu-1"}]'])
    expect((await storedLabels(p, 'plain')).map(l => JSON.parse(l).find((e: { key: string }) => e.key === 'prom_replica')?.value)).toEqual(['a', 'b'])
    const m = await scrapeMetrics(p.url)
    expect(sumOf(m, 'prom_ingest_ha_dedup_requests_total', { decision: 'deduplicated' })).toBe(3)
    // Requests of tenants without HA are not HA decisions at all.
    expect(sumOf(m, 'prom_ingest_ha_dedup_requests_total', { decision: 'no_ha_labels' })).toBe(0)
  })

  it('can be turned off for one tenant when it is on for the service', { timeout: 60_000 }, async () => {
    const p = await serve(['--ha-dedup'], { raw: { 'ha-dedup': false } })
    const send = async (tenant: string, replica: string, ts: number): Promise<number> =>
      (await postWrite(p.url, scrape('cluster', '__replica__', replica, ts), { headers: { 'X-Scope-OrgID': tenant } })).status
    expect(await send('team', 'a', T0)).toBe(204)
    expect(await send('team', 'b', T0 + 10)).toBe(202)
    expect(await send('raw', 'a', T0)).toBe(204)
    expect(await send('raw', 'b', T0 + 10)).toBe(204)
    expect(await storedLabels(p, 'team')).toHaveLength(1)
    expect((await storedLabels(p, 'raw')).map(l => JSON.parse(l).find((e: { key: string }) => e.key === '__replica__')?.value)).toEqual(['a', 'b'])
  })

  it('refuses tenant HA settings that cannot work, naming the tenant and field', async () => {
    ensureWorkerBuilt()
    const bad = await startServiceProcess(['--sink', 'discard'], { PROM_INGEST_TENANT_LIMITS: JSON.stringify({ t: { 'ha-dedup': 'yes' } }) }).then(p => { running.push(p); return 'started' }, (e: Error) => e.message)
    expect(bad).toContain('tenant-limits["t"].ha-dedup: must be true or false')
    const same = await startServiceProcess(['--sink', 'discard'], { PROM_INGEST_TENANT_LIMITS: JSON.stringify({ t: { 'ha-replica-label': 'cluster' } }) }).then(p => { running.push(p); return 'started' }, (e: Error) => e.message)
    expect(same).toContain('tenant-limits["t"].ha-cluster-label / ha-replica-label: must differ')
  })
})
