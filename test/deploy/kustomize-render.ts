/**
 * An offline renderer for the subset of kustomize that deploy/kubernetes/ uses, so that the rendered
 * overlays are tested on machines without kubectl or kustomize (no npm package runs kustomize
 * offline). Where kubectl is installed, the tests also compare this output with `kubectl kustomize`.
 *
 * Supported, and nothing else (any other kustomization field is an error, so a new feature in an
 * overlay cannot be silently ignored here):
 * - `resources`: YAML files (several documents each) and directories holding a kustomization.yaml;
 * - `patches` with a `path`: a strategic merge patch of our own simple kind, matched to a resource by
 *   apiVersion, kind and name; maps merge key by key, `null` deletes a key, the lists named in
 *   MERGE_BY_NAME merge item by item on `name` (as Kubernetes' patch merge keys do for them), every
 *   other list is replaced whole (as kustomize does for lists without a merge key);
 * - `namespace`: set on every namespaced object (Namespace objects keep theirs);
 * - `labels` with `pairs` only (no includeSelectors, no includeTemplates): added to metadata.labels.
 * Order as kustomize: the resources, then patches, namespace, labels.
 */
import { readFileSync, statSync, existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseAllDocuments } from 'yaml'
import type { K8sObject } from './schema-check.js'

const SUPPORTED_FIELDS = new Set(['apiVersion', 'kind', 'resources', 'patches', 'namespace', 'labels'])

/** Lists whose items carry a patch merge key `name` in the Kubernetes API. */
const MERGE_BY_NAME = new Set(['containers', 'initContainers', 'env', 'volumes', 'volumeMounts'])

/** Kinds without a namespace, among those a kustomization here may hold. */
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'PersistentVolume', 'StorageClass'])

/**
 * Reads every YAML document of a file. YAML 1.1, as Kubernetes' Go YAML parser reads manifests
 * (`0440` is octal there, `on` is true); empty documents are dropped.
 */
export function loadYamlFile (path: string): unknown[] {
  const docs = parseAllDocuments(readFileSync(path, 'utf8'), { version: '1.1' })
  const out: unknown[] = []
  for (const doc of docs) {
    if (doc.errors.length > 0) throw new Error(`${path}: ${doc.errors.map(e => e.message).join('; ')}`)
    const value: unknown = doc.toJS()
    if (value !== null && value !== undefined) out.push(value)
  }
  return out
}

export function renderKustomization (dir: string): K8sObject[] {
  const file = join(dir, 'kustomization.yaml')
  if (!existsSync(file)) throw new Error(`${dir}: no kustomization.yaml`)
  const [k] = loadYamlFile(file) as [Record<string, unknown>]
  for (const field of Object.keys(k)) {
    if (!SUPPORTED_FIELDS.has(field)) throw new Error(`${file}: field "${field}" is not supported by the offline renderer`)
  }
  if (k.apiVersion !== 'kustomize.config.k8s.io/v1beta1' || k.kind !== 'Kustomization') {
    throw new Error(`${file}: not a kustomize.config.k8s.io/v1beta1 Kustomization`)
  }

  let objects: K8sObject[] = []
  for (const entry of asStrings(k.resources, file, 'resources')) {
    const path = resolve(dir, entry)
    if (statSync(path).isDirectory()) objects.push(...renderKustomization(path))
    else objects.push(...loadYamlFile(path).map(o => asObject(o, path)))
  }
  assertUniqueIds(objects, file)

  for (const p of asList(k.patches, file, 'patches')) {
    const entry = p as Record<string, unknown>
    const keys = Object.keys(entry)
    if (keys.length !== 1 || typeof entry.path !== 'string') throw new Error(`${file}: a patch must have a path and nothing else`)
    for (const patch of loadYamlFile(resolve(dir, entry.path)).map(o => asObject(o, entry.path as string))) {
      const i = objects.findIndex(o => o.apiVersion === patch.apiVersion && o.kind === patch.kind && o.metadata?.name === patch.metadata?.name)
      if (i < 0) throw new Error(`${file}: patch ${entry.path} matches no resource (${patch.kind} ${String(patch.metadata?.name)})`)
      objects[i] = strategicMerge(objects[i], patch, '') as K8sObject
    }
  }

  if (k.namespace !== undefined) {
    if (typeof k.namespace !== 'string') throw new Error(`${file}: namespace must be a string`)
    const ns = k.namespace
    objects = objects.map(o => CLUSTER_SCOPED.has(o.kind) ? o : { ...o, metadata: { ...o.metadata, namespace: ns } })
  }

  for (const l of asList(k.labels, file, 'labels')) {
    const entry = l as Record<string, unknown>
    for (const key of Object.keys(entry)) {
      if (key !== 'pairs') throw new Error(`${file}: labels.${key} is not supported by the offline renderer`)
    }
    const pairs = entry.pairs as Record<string, string>
    objects = objects.map(o => ({ ...o, metadata: { ...o.metadata, labels: { ...o.metadata?.labels, ...pairs } } }))
  }
  return objects
}

/** Merges `patch` into `base` (neither is changed): see the rules in the header. */
export function strategicMerge (base: unknown, patch: unknown, key: string): unknown {
  if (isMap(base) && isMap(patch)) {
    const out: Record<string, unknown> = { ...base }
    for (const [k, v] of Object.entries(patch)) {
      if (v === null) delete out[k]
      else out[k] = k in base ? strategicMerge(base[k], v, k) : v
    }
    return out
  }
  if (Array.isArray(base) && Array.isArray(patch) && MERGE_BY_NAME.has(key)) {
    const out = [...base]
    for (const item of patch) {
      const name = isMap(item) ? item.name : undefined
      const i = out.findIndex(b => isMap(b) && b.name === name)
      if (name === undefined || i < 0) out.push(item)
      else out[i] = strategicMerge(out[i], item, '')
    }
    return out
  }
  return patch
}

function isMap (v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

function asObject (v: unknown, path: string): K8sObject {
  if (!isMap(v) || typeof v.apiVersion !== 'string' || typeof v.kind !== 'string') {
    throw new Error(`${path}: a document without apiVersion and kind`)
  }
  return v as K8sObject
}

function asList (v: unknown, file: string, field: string): unknown[] {
  if (v === undefined) return []
  if (!Array.isArray(v)) throw new Error(`${file}: ${field} must be a list`)
  return v
}

function asStrings (v: unknown, file: string, field: string): string[] {
  const list = asList(v, file, field)
  if (!list.every(s => typeof s === 'string')) throw new Error(`${file}: ${field} must be a list of paths`)
  return list as string[]
}

function assertUniqueIds (objects: readonly K8sObject[], file: string): void {
  const seen = new Set<string>()
  for (const o of objects) {
    const id = `${o.apiVersion}/${o.kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`
    if (seen.has(id)) throw new Error(`${file}: ${id} occurs twice`)
    seen.add(id)
  }
}
