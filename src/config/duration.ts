/**
 * Durations as Prometheus writes them: `500ms`, `5s`, `1m`, `1h30m`, `15d`, `2w`, `1y`, or `0`.
 * Units from the largest down, each at most once, integers only (as Prometheus' model.ParseDuration).
 */

const UNITS = [
  ['y', 365 * 24 * 3600_000],
  ['w', 7 * 24 * 3600_000],
  ['d', 24 * 3600_000],
  ['h', 3600_000],
  ['m', 60_000],
  ['s', 1000],
  ['ms', 1]
] as const

const PATTERN = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/

/** Milliseconds of a duration text, or undefined when the text is not a duration. */
export function parseDuration (text: string): number | undefined {
  const t = text.trim()
  if (t === '0') return 0
  if (t === '') return undefined
  const m = PATTERN.exec(t)
  if (m === null) return undefined
  let ms = 0
  for (let i = 0; i < UNITS.length; i++) {
    const part = m[i + 1]
    if (part !== undefined) ms += Number(part) * UNITS[i]![1]
  }
  return Number.isSafeInteger(ms) ? ms : undefined
}

/** The shortest text for a whole number of milliseconds, in the form parseDuration reads. */
export function formatDuration (ms: number): string {
  if (ms === 0) return '0'
  let rest = ms
  let out = ''
  for (const [unit, size] of UNITS) {
    // Years and weeks only when exact: `15d` reads better than `2w1d`.
    if ((unit === 'y' || unit === 'w') && rest % size !== 0) continue
    const n = Math.floor(rest / size)
    if (n > 0) { out += `${n}${unit}`; rest -= n * size }
  }
  return out
}
