/**
 * Shared by the forward-queue tests: temp directories, a logger whose lines the test can read, the
 * records of a cursor read out in full, and a dist/ build for the crash test's child process.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
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

function newestMtime (path: string): number {
  if (!statSync(path).isDirectory()) return statSync(path).mtimeMs
  let newest = 0
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const p = join(path, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : entry.name.endsWith('.ts') ? statSync(p).mtimeMs : 0)
  }
  return newest
}

/**
 * The crash test's child runs compiled JavaScript from dist/ (a child process cannot load TypeScript
 * sources). `npm test` builds first; a test file run alone builds here when dist/ is older than
 * src/queue. The lock directory is the one the DuckDB tests use, so two builds never overlap.
 */
export function ensureQueueBuilt (): string {
  const built = join(ROOT, 'dist', 'src', 'queue', 'durable-log.js')
  const lock = join(ROOT, 'dist', '.duckdb-test-build.lock')
  const stale = (): boolean => !existsSync(built) || statSync(built).mtimeMs < Math.max(newestMtime(join(ROOT, 'src', 'queue')), statSync(join(ROOT, 'src', 'errors.ts')).mtimeMs)
  if (!stale()) return built
  mkdirSync(join(ROOT, 'dist'), { recursive: true })
  for (let waited = 0; ; waited += 200) {
    try { mkdirSync(lock); break } catch { /* another test file is building */ }
    if (waited > 120_000) throw new Error('waited 2 min for another build of dist/')
    execFileSync('sleep', ['0.2'])
  }
  try {
    // Emits even when some other part of the tree does not type-check (tsc exits non-zero then).
    if (stale()) { try { execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'tsconfig.json')], { stdio: 'ignore' }) } catch { /* checked below */ } }
  } finally {
    rmSync(lock, { recursive: true, force: true })
  }
  if (!existsSync(built)) throw new Error(`building dist/ did not produce ${built}`)
  return built
}
