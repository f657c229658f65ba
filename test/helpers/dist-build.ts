/**
 * Builds dist/ once for tests that run compiled code in another thread or process (the DuckDB sink's
 * worker, the queue's crash child), when `target` is older than its sources. `npm test` builds first,
 * so this only runs for a single test file run by hand. Test files build under one lock directory.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

/** Newest modification time of the .ts files under `path` (or of `path` itself). */
function newestMtime (path: string): number {
  const stat = statSync(path)
  if (!stat.isDirectory()) return stat.mtimeMs
  let newest = 0
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const p = join(path, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : entry.name.endsWith('.ts') ? statSync(p).mtimeMs : 0)
  }
  return newest
}

/** Builds dist/ when `target` (a path under the repository) is missing or older than `sources`; returns its full path. */
export function ensureDistBuilt (target: string, sources: readonly string[]): string {
  const built = join(ROOT, target)
  const lock = join(ROOT, 'dist', '.test-build.lock')
  const stale = (): boolean => !existsSync(built) || statSync(built).mtimeMs < Math.max(...sources.map(p => newestMtime(join(ROOT, p))))
  if (!stale()) return built
  mkdirSync(join(ROOT, 'dist'), { recursive: true })
  for (let waited = 0; ; waited += 200) {
    // A lock between test processes: another file's build holds it. There is no event across
    // processes to wait on, so this polls (bounded, 2 min); it only runs when dist/ is stale.
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
