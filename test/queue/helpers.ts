
import { mkdtempSync, readdirSync, rmSync, } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ensureDistBuilt } from '../helpers/dist-build.js'
import { pino } from 'pino'
import type { Logger } from '../../src/logger.js'
import type { LogCursor } from '../../src/queue/durable-log.js'

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

const dirs: string[] = []

export function tempDir (prefix = 'prom-ingest-queue-test-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix))
  dirs.push(d)
  return d
}

export function removeTempDirs (): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
}

/** A logger that keeps its lines as objects. */
export function captureLogger (): { logger: Logger, lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = []
  const logger = pino({ level: 'debug' }, { write (s: string) { lines.push(JSON.parse(s) as Record<string, unknown>) } })
  return { logger, lines }
}

/** Every record from the cursor's read position to the head, payloads copied. */
export async function readAll (cursor: LogCursor, maxRecords = 7, maxBytes = 5000): Promise<Array<{ position: number, next: number, payload: Buffer, appendedAtMs: number }>> {
  const out: Array<{ position: number, next: number, payload: Buffer, appendedAtMs: number }> = []
  for (let round = 0; round < 100_000; round++) {
    const batch = await cursor.read(maxRecords, maxBytes)
    if (batch.length === 0) return out
    for (const r of batch) out.push({ position: r.position, next: r.next, payload: Buffer.from(r.payload), appendedAtMs: r.appendedAtMs })
  }
  throw new Error('readAll: more than 100,000 reads')
}

/** Segment file names in a queue directory, oldest first. */
export function segmentFiles (dir: string): string[] {
  return readdirSync(dir).filter(f => f.endsWith('.seg')).sort()
}

/** A payload of `n` bytes that says which record it is (the bytes depend on `k`). */
export function payload (k: number, n: number): Uint8Array {
  const out = new Uint8Array(n)
  let x = (k * 2654435761 + 1) >>> 0
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5
    out[i] = x & 0xff
  }
  return out
}

/**
 * The crash test's child runs compiled JavaScript from dist/ (a child process cannot load TypeScript
 * sources); a test file run alone builds it here when dist/ is older than src/queue.
 */
export function ensureQueueBuilt (): string {
  return ensureDistBuilt(join('dist', 'src', 'queue', 'durable-log.js'), ['src/queue', 'src/errors.ts'])
}
