/**
 * Shared benchmark helpers: interleaved rounds, medians with spread, a table for people and a JSON
 * line for machines. Every benchmark in bench/ reports through these.
 */

export interface Summary {
  readonly name: string
  readonly samples: number
  readonly median: number
  readonly p10: number
  readonly p90: number
  readonly unit: string
}

export function quantile (sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN
  const pos = (sorted.length - 1) * q
  const lo = Math.floor(pos)
  const hi = Math.ceil(pos)
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo)
}

export function summarize (name: string, values: readonly number[], unit = 'ms'): Summary {
  const sorted = [...values].sort((a, b) => a - b)
  return { name, samples: sorted.length, median: quantile(sorted, 0.5), p10: quantile(sorted, 0.1), p90: quantile(sorted, 0.9), unit }
}

export type Case = { readonly name: string, readonly run: () => unknown }

/**
 * Runs the cases round-robin (case A, B, C, A, B, C, ...) so that machine noise hits every case alike;
 * `warmup` rounds are run first and not counted. Returns milliseconds per run, per case.
 */
export function interleave (cases: readonly Case[], rounds: number, warmup = Math.ceil(rounds / 5), alternateFirstTwo = false): Map<string, number[]> {
  const times = new Map<string, number[]>(cases.map(c => [c.name, []]))
  // alternateFirstTwo: the first two cases swap places every other round (for a ratio of pairs, so
  // neither always runs on the other's warm caches).
  const swapped = [cases[1]!, cases[0]!, ...cases.slice(2)]
  let sink = 0
  for (let r = 0; r < warmup + rounds; r++) {
    for (const c of alternateFirstTwo && r % 2 === 1 && cases.length > 1 ? swapped : cases) {
      const t0 = process.hrtime.bigint()
      const out = c.run()
      const t1 = process.hrtime.bigint()
      if (out !== undefined && out !== null) sink++ // keep the result alive so the work cannot be optimised away
      if (r >= warmup) times.get(c.name)!.push(Number(t1 - t0) / 1e6)
    }
  }
  if (sink < 0) console.log(sink)
  return times
}

export function fmt (n: number, digits = 3): string {
  if (!Number.isFinite(n)) return String(n)
  return n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(digits)
}

/** Prints an aligned table: header row, then rows. */
export function printTable (header: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map(r => (r[i] ?? '').length)))
  const line = (cells: readonly string[]): string => cells.map((c, i) => i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)).join('  ')
  console.log(line(header))
  console.log(widths.map(w => '-'.repeat(w)).join('  '))
  for (const r of rows) console.log(line(r))
}

/** One JSON line a machine can compare between runs. */
export function printJson (bench: string, data: unknown): void {
  console.log(JSON.stringify({ bench, node: process.version, date: new Date().toISOString(), ...(data as object) }))
}
