/**
 * Offline validation of Kubernetes objects against the API schemas, in two passes:
 *
 * 1. kubernetes-models (Kubernetes 1.34 API) and @kubernetes-models/prometheus-operator (the
 *    operator's CRDs): their ajv validators catch wrong types, bad enum values and missing required
 *    fields, but let unknown fields through.
 * 2. An unknown-field walk: the same packages ship TypeScript declarations generated from those
 *    schemas; the TypeScript compiler loads them once, and the walk follows each object's keys down
 *    the declared property types. A key that the type does not declare (a misspelled `minAvailabel`)
 *    is an error, reported with its path and the nearest declared name. Maps (labels, ConfigMap
 *    data) are index signatures and take any key; `any`-typed fields (free-form JSON) end the walk.
 */
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

export interface K8sObject {
  apiVersion: string
  kind: string
  metadata?: { name?: string, namespace?: string, labels?: Record<string, string>, [key: string]: unknown }
  [key: string]: unknown
}

/** Kinds the deploy/ manifests (and tests) may use, by `apiVersion/kind`. */
const MODELS: Record<string, string> = {
  'v1/ConfigMap': 'kubernetes-models/v1/ConfigMap',
  'v1/Namespace': 'kubernetes-models/v1/Namespace',
  'v1/Secret': 'kubernetes-models/v1/Secret',
  'v1/Service': 'kubernetes-models/v1/Service',
  'v1/ServiceAccount': 'kubernetes-models/v1/ServiceAccount',
  'apps/v1/StatefulSet': 'kubernetes-models/apps/v1/StatefulSet',
  'autoscaling/v2/HorizontalPodAutoscaler': 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler',
  'policy/v1/PodDisruptionBudget': 'kubernetes-models/policy/v1/PodDisruptionBudget',
  'networking.k8s.io/v1/NetworkPolicy': 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy',
  'monitoring.coreos.com/v1/ServiceMonitor': '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor',
  'monitoring.coreos.com/v1/PodMonitor': '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor',
  'monitoring.coreos.com/v1/PrometheusRule': '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule'
}

export function objectId (o: K8sObject): string {
  const ns = o.metadata?.namespace
  return `${o.apiVersion}/${o.kind}/${ns === undefined ? '' : ns + '/'}${o.metadata?.name ?? '?'}`
}

/** All problems found in one object: schema errors, then unknown fields. Empty when it is valid. */
export async function validateObject (o: K8sObject): Promise<string[]> {
  const key = `${o.apiVersion}/${o.kind}`
  const modulePath = MODELS[key]
  if (modulePath === undefined) return [`${key}: no schema known for this kind (add it to MODELS in test/deploy/schema-check.ts)`]
  const problems: string[] = []
  const mod = await import(modulePath) as Record<string, new (data: unknown) => { validate(): void }>
  const Model = mod[o.kind]
  if (Model === undefined) return [`${key}: ${modulePath} exports no ${o.kind}`]
  try {
    new Model(o).validate()
  } catch (err) {
    problems.push(`schema: ${(err as Error).message}`)
  }
  for (const p of unknownFields(o, key)) problems.push(p)
  return problems
}

// ---- the unknown-field walk over the declared types ----

interface TypeIndex {
  checker: ts.TypeChecker
  roots: Map<string, ts.Type>
}

let typeIndex: TypeIndex | undefined

/** Builds one TypeScript program that declares a value of each model's interface (a few seconds, once). */
function loadTypes (): TypeIndex {
  if (typeIndex !== undefined) return typeIndex
  // A file beside this one, so that module resolution finds the project's node_modules.
  const entry = join(dirname(fileURLToPath(import.meta.url)), '__k8s_models__.mts')
  const keys = Object.keys(MODELS)
  let source = ''
  keys.forEach((key, i) => {
    const kind = key.slice(key.lastIndexOf('/') + 1)
    source += `import type { I${kind} as T${i} } from '${MODELS[key]!}'\nexport declare const v${i}: T${i}\n`
  })
  const options: ts.CompilerOptions = {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: []
  }
  const host = ts.createCompilerHost(options)
  const readFile = host.readFile.bind(host)
  const fileExists = host.fileExists.bind(host)
  const getSourceFile = host.getSourceFile.bind(host)
  host.readFile = f => f === entry ? source : readFile(f)
  host.fileExists = f => f === entry || fileExists(f)
  host.getSourceFile = (f, lang, onError, create) =>
    f === entry ? ts.createSourceFile(f, source, lang, true) : getSourceFile(f, lang, onError, create)
  const program = ts.createProgram([entry], options, host)
  const file = program.getSourceFile(entry)
  if (file === undefined) throw new Error('the model declarations did not load')
  const resolveErrors = program.getSemanticDiagnostics(file)
  if (resolveErrors.length > 0) {
    throw new Error('the model declarations did not type-check: ' +
      resolveErrors.map(d => ts.flattenDiagnosticMessageText(d.messageText, '\n')).join('; '))
  }
  const checker = program.getTypeChecker()
  const roots = new Map<string, ts.Type>()
  for (const stmt of file.statements) {
    if (!ts.isVariableStatement(stmt)) continue
    const decl = stmt.declarationList.declarations[0]!
    const i = Number((decl.name as ts.Identifier).text.slice(1))
    roots.set(keys[i]!, checker.getTypeAtLocation(decl.name))
  }
  typeIndex = { checker, roots }
  return typeIndex
}

/** Paths of keys that the declared type of `kindKey` (`apiVersion/kind`) does not have. */
export function unknownFields (value: unknown, kindKey: string): string[] {
  const { checker, roots } = loadTypes()
  const root = roots.get(kindKey)
  if (root === undefined) return [`${kindKey}: no declared type`]
  const out: string[] = []
  walk(checker, value, [root], '', out)
  return out
}

/**
 * Checks the keys of `value` against the declared types (several when a list's element or a property
 * is declared as a union of object types: a key is known when any of them declares it).
 */
function walk (checker: ts.TypeChecker, value: unknown, declared: readonly ts.Type[], path: string, out: string[]): void {
  if (value === null || typeof value !== 'object') return // primitives: the schema pass checks them
  const members: ts.Type[] = []
  for (const d of declared) {
    const t = checker.getNonNullableType(d)
    if ((t.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) !== 0) return // free-form JSON
    members.push(...(t.isUnion() ? t.types : [t]))
  }

  if (Array.isArray(value)) {
    const elements = members.filter(t => checker.isArrayType(t)).map(t => checker.getTypeArguments(t as ts.TypeReference)[0]!)
    if (elements.length === 0) return // not a list here: the schema pass reports the wrong type
    value.forEach((item, i) => { walk(checker, item, elements, `${path}[${i}]`, out) })
    return
  }

  const objects = members.filter(t => (t.flags & ts.TypeFlags.Object) !== 0 && !checker.isArrayType(t))
  if (objects.length === 0) return
  for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
    const childPath = `${path}.${key}`
    const declaredChild = propertyTypes(checker, objects, key)
    if (declaredChild.length === 0) {
      const names = objects.flatMap(t => checker.getPropertiesOfType(t).map(p => p.name))
      const near = nearest(key, names)
      out.push(`${childPath.slice(1)}: unknown field "${key}"${near === undefined ? '' : ` (did you mean "${near}"?)`}`)
      continue
    }
    walk(checker, child, declaredChild, childPath, out)
  }
}

/** The declared types of `key` on the object types (a property, else a string index signature). */
function propertyTypes (checker: ts.TypeChecker, objects: readonly ts.Type[], key: string): ts.Type[] {
  const found: ts.Type[] = []
  for (const t of objects) {
    const prop = checker.getPropertyOfType(t, key)
    if (prop !== undefined) found.push(checker.getTypeOfSymbol(prop))
    else {
      const index = checker.getIndexTypeOfType(t, ts.IndexKind.String)
      if (index !== undefined) found.push(index)
    }
  }
  return found
}

/** The declared name closest to a misspelled one (edit distance at most 3), for the error message. */
function nearest (key: string, names: readonly string[]): string | undefined {
  let best: string | undefined
  let bestDistance = 4
  for (const name of names) {
    const d = editDistance(key.toLowerCase(), name.toLowerCase())
    if (d < bestDistance) { best = name; bestDistance = d }
  }
  return best
}

function editDistance (a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) {
      row.push(Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)))
    }
    prev = row
  }
  return prev[b.length]!
}
