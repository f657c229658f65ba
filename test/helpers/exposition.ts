/**
 * Reads the Prometheus text exposition format that /metrics serves, for tests that check counters:
 * samples as { name, labels, value }, and sums over the series of one metric.
 */
import { request } from 'undici'

export interface ExpositionSample {
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

/** Parses `name{label="value",...} value [timestamp]` lines; comments and blank lines are skipped. */
export function parseExposition (text: string): ExpositionSample[] {
  const out: ExpositionSample[] = []
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const brace = line.indexOf('{')
    const space = line.indexOf(' ')
    let name: string
    let labels: Record<string, string> = {}
    let rest: string
    if (brace >= 0 && (space < 0 || brace < space)) {
      name = line.slice(0, brace)
      const close = findClosingBrace(line, brace)
      labels = parseLabels(line.slice(brace + 1, close))
      rest = line.slice(close + 1).trim()
    } else {
      name = line.slice(0, space)
      rest = line.slice(space + 1).trim()
    }
    const valueText = rest.split(' ')[0] ?? ''
    out.push({ name, labels, value: parseValue(valueText) })
  }
  return out
}

function findClosingBrace (line: string, open: number): number {
  let inQuotes = false
  for (let i = open + 1; i < line.length; i++) {
    const c = line[i]
    if (inQuotes) {
      if (c === '\\') i++
      else if (c === '"') inQuotes = false
    } else if (c === '"') inQuotes = true
    else if (c === '}') return i
  }
  throw new Error(`unterminated label set: ${line}`)
}

function parseLabels (s: string): Record<string, string> {
  const labels: Record<string, string> = {}
  const re = /\s*([^=\s,]+)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?/gy
  for (let m = re.exec(s); m !== null; m = re.exec(s)) {
    labels[m[1]!] = m[2]!.replace(/\\(.)/g, (_, c: string) => c === 'n' ? '\n' : c)
  }
  return labels
}

function parseValue (v: string): number {
  if (v === '+Inf') return Infinity
  if (v === '-Inf') return -Infinity
  if (v === 'NaN') return NaN
  return Number(v)
}

/** The sum of every series of `name` whose labels include `match`. */
export function sumOf (samples: readonly ExpositionSample[], name: string, match: Readonly<Record<string, string>> = {}): number {
  let sum = 0
  for (const s of samples) {
    if (s.name !== name) continue
    if (Object.entries(match).every(([k, v]) => s.labels[k] === v)) sum += s.value
  }
  return sum
}

/** GETs `<url>/metrics` and parses it. */
export async function scrapeMetrics (url: string, headers: Record<string, string> = {}): Promise<ExpositionSample[]> {
  const res = await request(`${url}/metrics`, { headers })
  const text = await res.body.text()
  if (res.statusCode !== 200) throw new Error(`GET /metrics answered ${res.statusCode}: ${text}`)
  return parseExposition(text)
}
