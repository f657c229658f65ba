/**
 * Where the deploy/ files are, and the objects they hold: the base files one by one, and the
 * kustomizations rendered by the offline renderer (or by kubectl, where it is installed).
 */
import { execFileSync } from 'node:child_process'
import { readFileSync, readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseAllDocuments } from 'yaml'
import { loadYamlFile, renderKustomization } from './kustomize-render.js'
import type { K8sObject } from './schema-check.js'

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const DEPLOY = join(ROOT, 'deploy')
export const BASE_DIR = join(DEPLOY, 'kubernetes', 'base')
export const OVERLAYS_DIR = join(DEPLOY, 'kubernetes', 'overlays')

/** The kustomizations to render: the base and every overlay, by a short name. */
export function kustomizations (): Array<{ name: string, dir: string }> {
  const overlays = readdirSync(OVERLAYS_DIR, { withFileTypes: true }).filter(d => d.isDirectory()).map(d => d.name).sort()
  return [{ name: 'base', dir: BASE_DIR }, ...overlays.map(name => ({ name, dir: join(OVERLAYS_DIR, name) }))]
}

/** Every YAML file of the base except kustomization.yaml, with its documents. */
export function baseFiles (): Array<{ file: string, objects: K8sObject[] }> {
  return readdirSync(BASE_DIR)
    .filter(f => f.endsWith('.yaml') && f !== 'kustomization.yaml')
    .sort()
    .map(f => ({ file: f, objects: loadYamlFile(join(BASE_DIR, f)) as K8sObject[] }))
}

export function render (dir: string): K8sObject[] {
  return renderKustomization(dir)
}

export const DASHBOARD_FILE = join(DEPLOY, 'grafana', 'prom-ingest-dashboard.json')

export interface Panel {
  id: number
  type: string
  title: string
  gridPos: { h: number, w: number, x: number, y: number }
  datasource?: { type: string, uid: string }
  targets?: Array<{ refId: string, expr: string, datasource?: { type: string, uid: string } }>
}
export interface Dashboard {
  uid: string
  title: string
  schemaVersion: number
  panels: Panel[]
  templating: { list: Array<{ name: string, type: string, query: unknown }> }
}

export function loadDashboard (): Dashboard {
  return JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as Dashboard
}

/** Every query of the dashboard with the title of its panel. */
export function dashboardQueries (): Array<{ panel: string, expr: string }> {
  return loadDashboard().panels.flatMap(p => (p.targets ?? []).map(t => ({ panel: p.title, expr: t.expr })))
}

/** The path of kubectl, or undefined when it is not installed (CI machines do not have it). */
export function findKubectl (): string | undefined {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore', timeout: 20_000 })
    return 'kubectl'
  } catch {
    return undefined
  }
}

export function kubectlKustomize (kubectl: string, dir: string): K8sObject[] {
  const text = execFileSync(kubectl, ['kustomize', dir], { encoding: 'utf8', timeout: 60_000 })
  return parseAllDocuments(text, { version: '1.1' }).map(d => d.toJS() as K8sObject).filter(o => o !== null)
}

/** The one object of a kind (and name, when given); throws when there is none or several. */
export function one<T = K8sObject> (objects: readonly K8sObject[], kind: string, name?: string): T {
  const found = objects.filter(o => o.kind === kind && (name === undefined || o.metadata?.name === name))
  if (found.length !== 1) throw new Error(`expected one ${kind}${name === undefined ? '' : ' ' + name}, found ${found.length}`)
  return found[0] as T
}

/** A deep copy to break on purpose. */
export function clone<T> (v: T): T {
  return structuredClone(v)
}
