/**
 * Where blocks live and how a block file becomes durable.
 *
 * A block is one Parquet file under `<data-dir>/blocks/`, named for its kind, the start of its time
 * range and its id: `samples-20261203T080000Z-000012.parquet`. It is first written as
 * `.tmp-<name>`, synced, renamed to its name and the directory synced; only then is it entered in
 * the manifest (block-manifest.ts). A `.tmp-` file, or a named file the manifest does not list, is
 * what a crash or a retention left behind: `reconcileBlocks` removes both at start.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, unlinkSync } from 'node:fs'
import { join, resolve } from 'node:path'

export const BLOCKS_DIR = 'blocks'
export const TEMP_PREFIX = '.tmp-'

/** The kinds of rows that go to blocks, each with its own files and view. */
export const BLOCK_KINDS = ['samples', 'histograms', 'exemplars'] as const
export type BlockKind = (typeof BLOCK_KINDS)[number]

/** The absolute blocks directory of a data directory (DuckDB's allowed_directories wants it absolute). */
export function blocksDir (dataDir: string): string {
  return join(resolve(dataDir), BLOCKS_DIR)
}

/** `20261203T080000Z`: a time as it appears in a block's name. */
function stamp (ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')
}

export function blockFileName (kind: BlockKind, startMs: number, id: number): string {
  return `${kind}-${stamp(startMs)}-${String(id).padStart(6, '0')}.parquet`
}

/** Syncs a file or directory to disk. */
export function syncPath (path: string): void {
  const fd = openSync(path, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

/** Makes a written temp file durable under its final name: sync it, rename it, sync the directory. */
export function publishFile (dir: string, temp: string, name: string): void {
  syncPath(join(dir, temp))
  renameSync(join(dir, temp), join(dir, name))
  syncPath(dir)
}

export function ensureBlocksDir (dataDir: string): string {
  const dir = blocksDir(dataDir)
  mkdirSync(dir, { recursive: true })
  return dir
}

/** The files in the blocks directory (none when it does not exist). */
export function listBlockDir (dir: string): string[] {
  try {
    return readdirSync(dir)
  } catch {
    return []
  }
}

/** Removes a file; a file already gone is fine. */
export function removeFile (path: string): void {
  try {
    unlinkSync(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
}
