/**
 * A config file's document: JSON or YAML, by its extension (`.json`, `.yaml`, `.yml`), and otherwise
 * by its first character (`{` is JSON). Read by `serve --config` (load-config.ts) and `check-config`.
 * YAML integers too large for a double (a hashmod modulus up to 2^64-1) stay exact as bigints.
 */
import { extname } from 'node:path'
import { parseDocument } from 'yaml'

/** The file's document, or the reasons it cannot be read. */
export function readConfigDocument (path: string, text: string): { doc?: Record<string, unknown>, errors: string[] } {
  const ext = extname(path).toLowerCase()
  const json = ext === '.json' || (ext !== '.yaml' && ext !== '.yml' && text.trimStart().startsWith('{'))
  let value: unknown
  if (json) {
    try {
      value = JSON.parse(text)
    } catch (err) {
      return { errors: [`cannot read ${path} as JSON: ${(err as Error).message}`] }
    }
  } else {
    // Large integers (a hashmod modulus up to 2^64-1) stay exact as bigints.
    const doc = parseDocument(text, { intAsBigInt: true, uniqueKeys: true, prettyErrors: true })
    if (doc.errors.length > 0) return { errors: doc.errors.map(e => `cannot read ${path} as YAML: ${e.message}`) }
    value = doc.toJS({ maxAliasCount: 100 })
    value = smallIntsAsNumbers(value)
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { errors: [`${path} must hold a mapping of settings (${json ? 'a JSON object' : 'YAML keys'})`] }
  }
  return { doc: value as Record<string, unknown>, errors: [] }
}

/** YAML integers were read as bigints: those that fit a double exactly become numbers again. */
function smallIntsAsNumbers (v: unknown): unknown {
  if (typeof v === 'bigint') return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v
  if (Array.isArray(v)) return v.map(smallIntsAsNumbers)
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, smallIntsAsNumbers(x)]))
  return v
}
