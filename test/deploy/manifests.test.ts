/**
 * deploy/kubernetes/, validated offline: every object of the base files and of each rendered
 * kustomization (base, overlays) against the Kubernetes 1.34 and Prometheus Operator schemas, with
 * unknown fields rejected; broken copies that must fail; the offline renderer against
 * `kubectl kustomize` where kubectl is installed; and what issue 6 asks of the objects (volume,
 * probes, securityContext, grace period, token Secret, resources, selectors that match).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseDuration } from '../../src/config/duration.js'
import { SETTING_KEYS, envName } from '../../src/config/schema.js'
import { processEnv } from '../../bench/lib/deploy-env.js'
import { baseFiles, clone, findKubectl, kubectlKustomize, kustomizations, one, render } from './deploy-files.js'
import { renderKustomization, strategicMerge } from './kustomize-render.js'
import { objectId, validateObject, type K8sObject } from './schema-check.js'

// The shapes these tests read (the schema pass has checked them already).
interface Container {
  name: string
  args?: string[]
  env?: Array<{ name: string, value?: string, valueFrom?: { resourceFieldRef?: { resource: string, divisor?: string } } }>
  envFrom?: Array<{ configMapRef?: { name: string } }>
  ports: Array<{ name: string, containerPort: number }>
  livenessProbe: { httpGet: { path: string, port: string | number } }
  readinessProbe: { httpGet: { path: string, port: string | number } }
  startupProbe?: { httpGet: { path: string, port: string | number } }
  lifecycle?: { preStop?: { exec?: { command: string[] } } }
  resources: { requests: Record<string, string>, limits: Record<string, string> }
  securityContext: { runAsNonRoot?: boolean, allowPrivilegeEscalation: boolean, readOnlyRootFilesystem: boolean, capabilities: { drop: string[] } }
  volumeMounts: Array<{ name: string, mountPath: string, readOnly?: boolean }>
}
interface StatefulSet extends K8sObject {
  spec: {
    serviceName: string
    replicas: number
    selector: { matchLabels: Record<string, string> }
    template: {
      metadata: { labels: Record<string, string> }
      spec: {
        terminationGracePeriodSeconds: number
        securityContext: { runAsNonRoot: boolean, runAsUser: number, fsGroup: number, seccompProfile: { type: string } }
        containers: Container[]
        volumes: Array<{ name: string, emptyDir?: object, secret?: { secretName: string, items?: Array<{ key: string, path: string }> } }>
      }
    }
    volumeClaimTemplates: Array<{ metadata: { name: string }, spec: { accessModes: string[], resources: { requests: { storage: string } } } }>
  }
}
interface Service extends K8sObject { metadata: { name: string, labels: Record<string, string> }, spec: { clusterIP?: string, selector: Record<string, string>, ports: Array<{ name: string, port: number, targetPort: string | number }> } }

const rendered = kustomizations().map(k => ({ ...k, objects: render(k.dir) }))

/** The StatefulSet and its ConfigMap-provided settings, per rendered kustomization. */
function workload (objects: readonly K8sObject[]): { sts: StatefulSet, container: Container, settings: Record<string, string> } {
  const sts = one<StatefulSet>(objects, 'StatefulSet')
  const c = sts.spec.template.spec.containers.find(x => x.name === 'prom-ingest')
  if (c === undefined) throw new Error('no prom-ingest container')
  const cmName = c.envFrom?.[0]?.configMapRef?.name
  const cm = one<{ data: Record<string, string> }>(objects, 'ConfigMap', cmName)
  return { sts, container: c, settings: cm.data }
}

/** Kubernetes quantities as numbers (cores, bytes): the forms used here. */
function quantity (q: string): number {
  const m = /^(\d+(?:\.\d+)?)(m|Ki|Mi|Gi|Ti)?$/.exec(q)
  if (m === null) throw new Error(`unexpected quantity ${q}`)
  const unit = { m: 1e-3, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 }[m[2] ?? ''] ?? 1
  return Number(m[1]) * unit
}

function matches (selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v)
}

describe('schema validation', () => {
  for (const { file, objects } of baseFiles()) {
    it(`base/${file}: every object is valid, with no unknown fields`, async () => {
      expect(objects.length).toBeGreaterThan(0)
      for (const o of objects) expect(await validateObject(o), objectId(o)).toEqual([])
    })
  }

  for (const { name, objects } of rendered) {
    it(`rendered ${name}: every object is valid, with no unknown fields`, async () => {
      const kinds = objects.map(o => o.kind).sort()
      expect(kinds).toEqual(expect.arrayContaining(['ConfigMap', 'NetworkPolicy', 'PodDisruptionBudget', 'PrometheusRule', 'Service', 'ServiceAccount', 'ServiceMonitor', 'StatefulSet']))
      for (const o of objects) expect(await validateObject(o), objectId(o)).toEqual([])
    })
  }
})

describe('broken copies fail the validation', () => {
  const small = rendered.find(r => r.name === 'small')!.objects
  const sts = (): StatefulSet => clone(one<StatefulSet>(small, 'StatefulSet'))
  const pdb = (): K8sObject & { spec: Record<string, unknown> } => clone(one(small, 'PodDisruptionBudget'))
  const monitor = (): K8sObject & { spec: { endpoints: Array<Record<string, unknown>> } } => clone(one(small, 'ServiceMonitor'))

  const cases: Array<{ what: string, object: () => K8sObject, expected: RegExp }> = [
    {
      what: 'a misspelled field (minAvailabel)',
      object: () => { const p = pdb(); delete p.spec.maxUnavailable; p.spec.minAvailabel = 1; return p },
      expected: /spec\.minAvailabel: unknown field "minAvailabel" \(did you mean "minAvailable"\?\)/
    },
    {
      what: 'a misspelled field deep in the pod template',
      object: () => { const s = sts(); (s.spec.template.spec.containers[0] as unknown as Record<string, unknown>).readinesProbe = s.spec.template.spec.containers[0]!.readinessProbe; return s },
      expected: /spec\.template\.spec\.containers\[0\]\.readinesProbe: unknown field/
    },
    {
      what: 'a misspelled field in a volume claim template',
      object: () => { const s = sts(); (s.spec.volumeClaimTemplates[0]!.spec as unknown as Record<string, unknown>).acessModes = ['ReadWriteOnce']; return s },
      expected: /volumeClaimTemplates\[0\]\.spec\.acessModes: unknown field/
    },
    {
      what: 'a misspelled field in a Prometheus Operator object',
      object: () => { const m = monitor(); m.spec.endpoints[0]!.intervall = '30s'; return m },
      expected: /spec\.endpoints\[0\]\.intervall: unknown field "intervall" \(did you mean "interval"\?\)/
    },
    {
      what: 'a wrong type (replicas as a string)',
      object: () => { const s = sts(); (s.spec as unknown as Record<string, unknown>).replicas = 'one'; return s },
      expected: /spec\/replicas must be integer/
    },
    {
      what: 'a wrong type (containerPort as a string)',
      object: () => { const s = sts(); (s.spec.template.spec.containers[0]!.ports[0] as unknown as Record<string, unknown>).containerPort = '9201'; return s },
      expected: /containerPort must be integer/
    },
    {
      what: 'a bad enum value (unhealthyPodEvictionPolicy)',
      object: () => { const p = pdb(); p.spec.unhealthyPodEvictionPolicy = 'Sometimes'; return p },
      expected: /unhealthyPodEvictionPolicy must be equal to one of the allowed values/
    },
    {
      what: 'a bad enum value in a Prometheus Operator object (scheme)',
      object: () => { const m = monitor(); m.spec.endpoints[0]!.scheme = 'ftp'; return m },
      expected: /scheme must be equal to one of the allowed values/
    },
    {
      what: 'a missing required field (container name)',
      object: () => { const s = sts(); delete (s.spec.template.spec.containers[0] as unknown as Record<string, unknown>).name; return s },
      expected: /containers\/0 must have required property name/
    },
    {
      what: 'a kind no schema is known for',
      object: () => ({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } }),
      expected: /no schema known/
    }
  ]
  for (const c of cases) {
    it(c.what, async () => {
      const problems = await validateObject(c.object())
      expect(problems.join('\n')).toMatch(c.expected)
    })
  }
})

describe('kustomize rendering', () => {
  it('the offline renderer refuses kustomization fields it does not implement', () => {
    expect(() => renderKustomizationFrom({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', commonLabels: { a: 'b' } })).toThrow(/commonLabels.*not supported/)
    expect(() => renderKustomizationFrom({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resource: ['x.yaml'] })).toThrow(/"resource" is not supported/)
  })

  it('strategic merge: maps merge, containers merge by name, other lists are replaced, null deletes', () => {
    const base = { spec: { a: 1, b: { c: 2, d: 3 }, containers: [{ name: 'x', image: 'i', args: ['1', '2'] }, { name: 'y' }], accessModes: ['A', 'B'] } }
    const patch = { spec: { b: { d: null, e: 4 }, containers: [{ name: 'x', args: ['3'] }, { name: 'z' }], accessModes: ['C'] } }
    expect(strategicMerge(base, patch, '')).toEqual({
      spec: { a: 1, b: { c: 2, e: 4 }, containers: [{ name: 'x', image: 'i', args: ['3'] }, { name: 'y' }, { name: 'z' }], accessModes: ['C'] }
    })
  })

  it('overlays set the namespace on every namespaced object and keep the base labels', () => {
    for (const { name, objects } of rendered.filter(r => r.name !== 'base')) {
      const ns = one(objects, 'Namespace').metadata!.name
      for (const o of objects.filter(x => x.kind !== 'Namespace')) {
        expect(o.metadata?.namespace, `${name} ${objectId(o)}`).toBe(ns)
        expect(o.metadata?.labels?.['app.kubernetes.io/part-of'], `${name} ${objectId(o)}`).toBe('prom-ingest')
      }
    }
  })

  const kubectl = findKubectl()
  for (const { name, dir, objects } of rendered) {
    it(`kubectl kustomize renders ${name} exactly as the offline renderer`, ctx => {
      if (kubectl === undefined) {
        console.warn('kubectl is not installed: the rendered output is checked with the offline renderer only')
        ctx.skip()
        return
      }
      const byId = (list: readonly K8sObject[]): Map<string, K8sObject> => new Map(list.map(o => [objectId(o), o]))
      const ours = byId(objects)
      const theirs = byId(kubectlKustomize(kubectl, dir))
      expect([...theirs.keys()].sort()).toEqual([...ours.keys()].sort())
      for (const [id, o] of theirs) expect(ours.get(id), id).toEqual(o)
    })
  }
})

describe('what the objects must do (issue 6)', () => {
  for (const { name, objects } of rendered) {
    describe(name, () => {
      const { sts, container, settings } = workload(objects)
      const pod = sts.spec.template.spec
      const podLabels = sts.spec.template.metadata.labels

      it('is a StatefulSet whose own volume (volumeClaimTemplates) holds the data directory', () => {
        expect(sts.spec.volumeClaimTemplates.map(v => v.metadata.name)).toEqual(['data'])
        expect(sts.spec.volumeClaimTemplates[0]!.spec.accessModes).toEqual(['ReadWriteOnce'])
        expect(quantity(sts.spec.volumeClaimTemplates[0]!.spec.resources.requests.storage)).toBeGreaterThanOrEqual(2 ** 30)
        // The gateway overlay forwards instead of storing; its volume holds the forward queue.
        expect(settings.PROM_INGEST_SINK).toBe(name === 'gateway' ? 'forward' : 'duckdb')
        expect(container.volumeMounts.find(m => m.name === 'data')?.mountPath).toBe(settings.PROM_INGEST_DATA_DIR)
        // One writer per volume: the base runs one replica.
        expect(sts.spec.replicas).toBe(1)
      })

      it('probes /healthz (liveness, startup) and /readyz (readiness) on the service port', () => {
        const port = container.ports.find(p => p.name === 'http')!
        expect(port.containerPort).toBe(Number(settings.PROM_INGEST_LISTEN!.split(':').pop()))
        expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' })
        expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' })
        if (container.startupProbe !== undefined) expect(container.startupProbe.httpGet).toEqual({ path: '/healthz', port: 'http' })
      })

      it('runs non-root with a read-only root filesystem, no privilege escalation, no capabilities, RuntimeDefault seccomp', () => {
        expect(pod.securityContext.runAsNonRoot).toBe(true)
        expect(pod.securityContext.runAsUser).toBeGreaterThan(0)
        expect(pod.securityContext.seccompProfile.type).toBe('RuntimeDefault')
        expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } })
        // Writable: the data volume and /tmp (an emptyDir); everything else mounted is read-only.
        const tmp = container.volumeMounts.find(m => m.mountPath === '/tmp')
        expect(pod.volumes.find(v => v.name === tmp?.name)?.emptyDir).toBeDefined()
        for (const m of container.volumeMounts) {
          if (m.name !== 'data' && m.mountPath !== '/tmp') expect(m.readOnly, m.mountPath).toBe(true)
        }
        // Volume types that the restricted Pod Security Standard allows (the overlays enforce it).
        for (const v of pod.volumes) {
          expect(Object.keys(v).filter(k => k !== 'name').every(k => ['emptyDir', 'secret', 'configMap', 'persistentVolumeClaim', 'projected', 'downwardAPI'].includes(k)), v.name).toBe(true)
        }
      })

      it('gives SIGTERM more time than the preStop sleep plus the shutdown grace', () => {
        const grace = parseDuration(settings.PROM_INGEST_SHUTDOWN_GRACE ?? '25s')!
        const preStop = container.lifecycle?.preStop?.exec?.command
        const sleep = preStop !== undefined && preStop[0] === 'sleep' ? Number(preStop[1]) : 0
        expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(grace + sleep * 1000)
      })

      it('takes the write token from a Secret (mounted file) and scrapes with the same Secret', () => {
        const tokenFile = container.env?.find(e => e.name === 'PROM_INGEST_AUTH_BEARER_TOKEN_FILE')?.value
        expect(tokenFile).toBeDefined()
        expect(settings.PROM_INGEST_AUTH_BEARER_TOKEN).toBeUndefined()
        const mount = container.volumeMounts.find(m => tokenFile!.startsWith(m.mountPath + '/'))!
        const secret = pod.volumes.find(v => v.name === mount.name)?.secret
        expect(secret).toBeDefined()
        const key = secret!.items!.find(i => `${mount.mountPath}/${i.path}` === tokenFile)!.key
        const monitor = one<{ spec: { endpoints: Array<{ port: string, path: string, authorization: { type: string, credentials: { name: string, key: string } } }> } }>(objects, 'ServiceMonitor')
        for (const e of monitor.spec.endpoints) {
          expect(e.path).toBe('/metrics')
          expect(e.authorization).toEqual({ type: 'Bearer', credentials: { name: secret!.secretName, key } })
        }
      })

      it('sets requests and limits, requests not above limits, and threads from the CPU limit', () => {
        for (const r of ['cpu', 'memory']) {
          expect(container.resources.requests[r], r).toBeDefined()
          expect(quantity(container.resources.requests[r]!)).toBeLessThanOrEqual(quantity(container.resources.limits[r]!))
        }
        // Enough for the slots and the store: bench/README.md measured well under 500 MB RSS.
        expect(quantity(container.resources.limits.memory!)).toBeGreaterThanOrEqual(512 * 2 ** 20)
        // The overlays size a node for prom-ingest: Guaranteed QoS (requests equal limits).
        if (name !== 'base') expect(container.resources.requests).toEqual(container.resources.limits)
        const threads = container.env?.find(e => e.name === 'PROM_INGEST_THREADS')?.valueFrom?.resourceFieldRef
        expect(threads).toEqual({ resource: 'limits.cpu', divisor: '1' })
      })

      it('selects its pods consistently: Services, PDB, NetworkPolicy, ServiceMonitor', () => {
        expect(matches(sts.spec.selector.matchLabels, podLabels)).toBe(true)
        const services = objects.filter((o): o is Service => o.kind === 'Service')
        for (const s of services) {
          expect(matches(s.spec.selector, podLabels), s.metadata.name).toBe(true)
          expect(s.spec.ports.map(p => [p.port, p.targetPort])).toEqual([[9201, 'http']])
        }
        expect(services.find(s => s.metadata.name === sts.spec.serviceName)?.spec.clusterIP).toBe('None')

        const pdb = one<{ spec: { selector: { matchLabels: Record<string, string> }, minAvailable?: unknown, maxUnavailable?: unknown } }>(objects, 'PodDisruptionBudget')
        expect(matches(pdb.spec.selector.matchLabels, podLabels)).toBe(true)
        // With one replica, minAvailable: 1 would block every node drain.
        expect(pdb.spec.minAvailable).toBeUndefined()
        expect(pdb.spec.maxUnavailable).toBe(1)

        const np = one<{ spec: { podSelector: { matchLabels: Record<string, string> }, policyTypes: string[], ingress: Array<{ ports: Array<{ port: string | number, protocol: string }> }> } }>(objects, 'NetworkPolicy')
        expect(matches(np.spec.podSelector.matchLabels, podLabels)).toBe(true)
        expect(np.spec.policyTypes).toContain('Ingress')
        const admitted = np.spec.ingress.flatMap(r => r.ports).map(p => p.port === 'http' ? 9201 : p.port)
        expect(admitted).toEqual([9201])

        // The ServiceMonitor selects one Service (not the headless one too: pods would be scraped twice).
        const monitor = one<{ spec: { selector: { matchLabels: Record<string, string> }, endpoints: Array<{ port: string }> } }>(objects, 'ServiceMonitor')
        const scraped = services.filter(s => matches(monitor.spec.selector.matchLabels, s.metadata.labels))
        expect(scraped.map(s => s.metadata.name)).toEqual(['prom-ingest'])
        for (const e of monitor.spec.endpoints) expect(scraped[0]!.spec.ports.map(p => p.name)).toContain(e.port)
      })

      it('runs `serve` with settings from the ConfigMap, each the variable of a real setting', () => {
        expect(container.args).toEqual(['serve'])
        // The service ignores unknown PROM_INGEST_ variables, so a misspelled key would be lost silently.
        const variables = new Set(SETTING_KEYS.map(envName))
        for (const key of Object.keys(settings)) expect(variables.has(key), key).toBe(true)
        // Beside the settings, only the process variables that the image sets too (deploy/Dockerfile), with the same values.
        const image = processEnv()
        expect(Object.keys(image).sort()).toEqual(['DUCKDB_JE_MALLOC_CONF', 'MALLOC_ARENA_MAX', 'MALLOC_MMAP_THRESHOLD_', 'MALLOC_TRIM_THRESHOLD_', 'NODE_OPTIONS'])
        for (const e of container.env ?? []) expect(variables.has(e.name) || e.name in image, e.name).toBe(true)
        for (const [name, value] of Object.entries(image)) expect(container.env?.find(e => e.name === name)?.value, name).toBe(value)
      })
    })
  }
})

/** Renders a kustomization given as an object, from a temporary directory. */
function renderKustomizationFrom (k: Record<string, unknown>): K8sObject[] {
  const dir = mkdtempSync(join(tmpdir(), 'kustomize-'))
  try {
    writeFileSync(join(dir, 'kustomization.yaml'), JSON.stringify(k))
    return renderKustomization(dir)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
