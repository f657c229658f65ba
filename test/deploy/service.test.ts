/**
 * The manifests against the real service: for the base and each overlay, `prom-ingest serve` is
 * started with the container's args and environment (the ConfigMap's settings through envFrom, the
 * env entries, the CPU limit where the manifest takes a value from it), with the two paths that only
 * exist in a pod moved to temporary ones (data directory, token file). The service must start with
 * them, report each setting as given, answer its probes, take a write with the token and refuse one
 * without. Then every metric that an alert or a dashboard query reads must be declared on /metrics.
 *
 * Needs dist/ (`npm test` builds it; alone: `npm run build` first).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import { afterAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { parseDuration } from '../../src/config/duration.js'
import { SETTINGS, SETTING_KEYS, envName, flagName } from '../../src/config/schema.js'
import { parseSize } from '../../src/config/size.js'
import { compressBody, encodeWriteRequest1 } from '../fixtures/encode.js'
import { postWrite } from '../helpers/remote-write.js'
import { jsonLogs, startServiceProcess, type ServiceProcess } from '../helpers/service-process.js'
import { DEPLOY, dashboardQueries, kustomizations, one, render } from './deploy-files.js'
import { declaredFamilies, isExposed, metricNames } from './promql-names.js'

/** Metrics an alert may read that the service does not expose, and who writes them. */
const WRITTEN_ELSEWHERE: Record<string, string> = {
  up: 'Prometheus, for every scrape target',
  kubelet_volume_stats_available_bytes: 'the kubelet, for every mounted PersistentVolumeClaim',
  kubelet_volume_stats_capacity_bytes: 'the kubelet, for every mounted PersistentVolumeClaim'
}

interface EnvVar { name: string, value?: string, valueFrom?: { resourceFieldRef?: { resource: string, divisor?: string } } }
interface PodContainer {
  name: string
  args: string[]
  env: EnvVar[]
  envFrom: Array<{ configMapRef: { name: string } }>
  resources: { limits: Record<string, string> }
  volumeMounts: Array<{ name: string, mountPath: string }>
}
interface StatefulSet { spec: { template: { spec: { containers: PodContainer[], volumes: Array<{ name: string, secret?: object }> } } } }

const TOKEN = 'deploy-test-token-' + Math.random().toString(36).slice(2)
const scratch = mkdtempSync(join(tmpdir(), 'prom-ingest-deploy-'))
const started: ServiceProcess[] = []

afterAll(async () => {
  for (const s of started) await s.stop('SIGKILL', 5_000)
  rmSync(scratch, { recursive: true, force: true })
})

/** CPU quantities as whole cores, rounded up as the kubelet does for a resourceFieldRef with divisor 1. */
function cores (q: string): number {
  const m = /^(\d+)(m?)$/.exec(q)
  if (m === null) throw new Error(`unexpected CPU quantity ${q}`)
  return m[2] === 'm' ? Math.ceil(Number(m[1]) / 1000) : Number(m[1])
}

/**
 * The environment the kubelet would give the container, with in-pod paths replaced by temporary ones.
 * Returns it with the args after `serve`.
 */
function containerEnvironment (name: string, objects: ReturnType<typeof render>): { args: string[], env: Record<string, string> } {
  const sts = one<StatefulSet>(objects, 'StatefulSet')
  const c = sts.spec.template.spec.containers.find(x => x.name === 'prom-ingest')!
  expect(c.args[0]).toBe('serve')
  const env: Record<string, string> = {}
  for (const from of c.envFrom) Object.assign(env, one<{ data: Record<string, string> }>(objects, 'ConfigMap', from.configMapRef.name).data)
  for (const e of c.env) {
    if (e.value !== undefined) env[e.name] = e.value
    else if (e.valueFrom?.resourceFieldRef?.resource === 'limits.cpu' && (e.valueFrom.resourceFieldRef.divisor ?? '1') === '1') env[e.name] = String(cores(c.resources.limits.cpu!))
    else throw new Error(`${e.name}: this test does not know how the kubelet fills it in`)
  }

  const dir = mkdtempSync(join(scratch, `${name}-`))
  // The data directory is the data volume's mount.
  const dataMount = c.volumeMounts.find(m => m.name === 'data')!.mountPath
  expect(env.PROM_INGEST_DATA_DIR).toBe(dataMount)
  env.PROM_INGEST_DATA_DIR = join(dir, 'data')
  // The token file is in the Secret's mount.
  const tokenFile = env.PROM_INGEST_AUTH_BEARER_TOKEN_FILE!
  const secretMount = c.volumeMounts.find(m => tokenFile.startsWith(m.mountPath + '/'))!
  expect(sts.spec.template.spec.volumes.find(v => v.name === secretMount.name)?.secret).toBeDefined()
  env.PROM_INGEST_AUTH_BEARER_TOKEN_FILE = join(dir, 'token')
  writeFileSync(env.PROM_INGEST_AUTH_BEARER_TOKEN_FILE, TOKEN + '\n') // as `kubectl create secret --from-file` would keep a newline
  return { args: c.args.slice(1), env }
}

/** The value the service reports for a setting given as text, in the units of its start-up log. */
function expectedValue (key: (typeof SETTING_KEYS)[number], text: string): unknown {
  switch (SETTINGS[key].kind) {
    case 'duration': return parseDuration(text)
    case 'size': return parseSize(text)
    case 'int': return Number(text)
    case 'bool': return text === 'true' || text === '1'
    case 'list': return text.split(',').map(t => t.trim()).filter(t => t !== '')
    default: return text
  }
}

async function get (url: string, headers: Record<string, string> = {}): Promise<{ status: number, text: string }> {
  const res = await request(url, { headers })
  return { status: res.statusCode, text: await res.body.text() }
}


function oneSampleBody (): Uint8Array {
  return compressBody(encodeWriteRequest1({
    timeseries: [{ labels: [['__name__', 'deploy_test_up'], ['job', 'deploy-test']], samples: [{ value: 1, timestamp: Date.now() }] }]
  }))
}

const exposition: Record<string, string> = {}

/** The metric families declared by the service under every kustomization that ran. */
function allFamilies (): ReturnType<typeof declaredFamilies> {
  return declaredFamilies(Object.values(exposition).join('\n'))
}

describe('the manifests run the real service', () => {
  for (const { name, dir } of kustomizations()) {
    it(`${name}: serve accepts the container's args and environment, answers probes, takes an authenticated write`, async () => {
      const { args, env } = containerEnvironment(name, render(dir))
      const service = await startServiceProcess(args, env)
      started.push(service)
      try {
        // Every PROM_INGEST_ variable is a setting, and the service reports the value given.
        const startLog = jsonLogs(service.logs).find(l => l.msg === 'starting') as { config: Record<string, unknown> } | undefined
        expect(startLog, 'a "starting" log line with the settings').toBeDefined()
        for (const [variable, text] of Object.entries(env)) {
          if (!variable.startsWith('PROM_INGEST_')) continue
          const key = SETTING_KEYS.find(k => envName(k) === variable)
          expect(key, `${variable} is a setting of serve`).toBeDefined()
          if (key === 'listen') continue // the test's --listen 127.0.0.1:0 flag wins, as flags do
          expect(startLog!.config[flagName(key!)], variable).toEqual(expectedValue(key!, text))
        }

        expect((await get(`${service.url}/healthz`)).status).toBe(200)
        // Ready once listening: the store started before the port was opened.
        expect((await get(`${service.url}/readyz`)).status).toBe(200)

        const auth = { authorization: `Bearer ${TOKEN}` }
        expect((await get(`${service.url}/metrics`)).status).toBe(401)
        expect((await postWrite(service.url, oneSampleBody())).status).toBe(401)
        const write = await postWrite(service.url, oneSampleBody(), { headers: auth })
        expect(write.status, write.body).toBe(204)

        const metrics = await get(`${service.url}/metrics`, auth)
        expect(metrics.status).toBe(200)
        expect(metrics.text).toMatch(/^prom_ingest_received_samples_total 1$/m)
        exposition[name] = metrics.text
      } catch (err) {
        // Show what the service said: a failure here is often explained in its log.
        throw new Error(`${(err as Error).message}\n--- service output ---\n${service.logs.join('\n')}`, { cause: err })
      } finally {
        // SIGTERM: the grace period the manifests allow is enough for a clean exit.
        expect(await service.stop('SIGTERM', 30_000)).toBe(0)
      }
    })
  }

  it('every metric an alert reads is exposed by the service (or written by Prometheus or the kubelet)', () => {
    expect(exposition.base, 'the base service ran').toBeDefined()
    // A metric counts as exposed when the service as some kustomization runs it declares it: the
    // forward metrics exist where a forward sink is configured (the gateway overlay).
    const families = allFamilies()
    const rules = parse(readFileSync(join(DEPLOY, 'prometheus', 'rules.yml'), 'utf8'), { version: '1.1' }) as { groups: Array<{ rules: Array<{ alert?: string, expr: string }> }> }
    const missing: string[] = []
    let checked = 0
    for (const rule of rules.groups.flatMap(g => g.rules)) {
      for (const metric of metricNames(rule.expr)) {
        checked++
        if (!isExposed(metric, families) && WRITTEN_ELSEWHERE[metric] === undefined) missing.push(`${rule.alert ?? '?'}: ${metric}`)
      }
    }
    expect(checked).toBeGreaterThan(10)
    expect(missing).toEqual([])
    // The check can fail: a name the service does not have is caught.
    expect(isExposed('prom_ingest_samples_recieved_total', families)).toBe(false)
    expect(isExposed('prom_ingest_sink_write_duration_seconds_bucket', families)).toBe(true)
  })

  it('every metric a dashboard query reads is exposed by the service', () => {
    const families = allFamilies()
    const missing: string[] = []
    for (const q of dashboardQueries()) {
      for (const metric of metricNames(q.expr)) if (!isExposed(metric, families)) missing.push(`${q.panel}: ${metric}`)
    }
    expect(missing).toEqual([])
  })
})
