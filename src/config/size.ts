/**
 * Byte sizes: a whole number of bytes, optionally with a unit: `B`, decimal `KB` `MB` `GB` `TB`
 * (powers of 1000) or binary `KiB` `MiB` `GiB` `TiB` (powers of 1024); `1.5MiB` works when it is a
 * whole number of bytes. Units are matched without regard to case.
 */

const UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40
}

const PATTERN = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/

/** Bytes of a size text, or undefined when the text is not a size. */
export function parseSize (text: string): number | undefined {
  const m = PATTERN.exec(text.trim())
  if (m === null) return undefined
  const unit = m[2] === '' ? 1 : UNITS[m[2]!.toLowerCase()]
  if (unit === undefined) return undefined
  const bytes = Number(m[1]) * unit
  return Number.isSafeInteger(bytes) ? bytes : undefined
}

/** The shortest exact text for a byte count: `32MiB`, `1KiB`, `1000`. */
export function formatSize (bytes: number): string {
  for (const [unit, size] of [['TiB', 2 ** 40], ['GiB', 2 ** 30], ['MiB', 2 ** 20], ['KiB', 2 ** 10]] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`
  }
  return String(bytes)
}
