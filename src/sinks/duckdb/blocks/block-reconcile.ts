/**
 * Bringing the blocks directory and the manifest into agreement when the store opens.
 *
 * Compaction and retention change the manifest, the head and the views in one transaction, and
 * touch files only before it (a block is written and renamed first) or after it (a dropped block
 * is removed last). So after a crash the only things out of place are files: a `.tmp-` file (a
 * block being written) and a named file the manifest does not list (written but not committed, or
 * dropped but not yet removed). Both are removed. A listed block whose file is gone (removed by
 * hand) cannot be read: it is unlisted, with an error that says how many rows were lost.
 *
 * The views are rebuilt every time: their paths are absolute, and the data directory may have moved.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type { DuckDBConnection } from '@duckdb/node-api'
import { blocksDir, ensureBlocksDir, listBlockDir, removeFile, TEMP_PREFIX } from './block-files.js'
import { hasManifest, listBlocks, type BlockEntry } from './block-manifest.js'
import { viewStatements } from './block-views.js'
import { rebuildViews } from './compaction.js'

export interface ReconcileResult {
  /** Files removed: temp files and files the manifest does not list. */
  readonly removed: string[]
  /** Listed blocks whose file was missing (unlisted). */
  readonly missing: BlockEntry[]
  readonly blocks: number
}

export type ReconcileLog = (level: 'info' | 'error', msg: string, obj: Record<string, unknown>) => void

/** On the writer's connection, at open (nothing else runs yet). */
export async function reconcileBlocks (c: DuckDBConnection, dataDir: string, log?: ReconcileLog): Promise<ReconcileResult> {
  const dir = ensureBlocksDir(dataDir)
  await c.run('BEGIN TRANSACTION')
  let listed: readonly BlockEntry[]
  const missing: BlockEntry[] = []
  try {
    for (const b of await listBlocks(c)) {
      if (existsSync(join(dir, b.file))) continue
      missing.push(b)
      await c.run('DELETE FROM main.blocks WHERE id = $1', [b.id])
    }
    listed = await rebuildViews(c, dataDir)
    await c.run('COMMIT')
  } catch (err) {
    try { await c.run('ROLLBACK') } catch { /* already rolled back */ }
    throw err
  }
  for (const b of missing) log?.('error', 'a block listed in the manifest has no file: its rows are lost', { file: b.file, kind: b.kind, rows: b.rows })
  const keep = new Set(listed.map(b => b.file))
  const removed: string[] = []
  for (const name of listBlockDir(dir)) {
    if (name.startsWith(TEMP_PREFIX) || (name.endsWith('.parquet') && !keep.has(name))) {
      removeFile(join(dir, name))
      removed.push(name)
    }
  }
  if (removed.length > 0) log?.('info', 'removed block files left by an interrupted compaction or retention', { files: removed.length })
  return { removed, missing, blocks: listed.length }
}

/**
 * For a read-only open (`prom-ingest query` on the file, `export`): TEMP views over the blocks
 * of this data directory, as it is now (see block-views.ts). Blocks whose file is missing are left
 * out. A file without a manifest (written before blocks) keeps its stored views.
 */
export async function useBlocks (c: DuckDBConnection, dataDir: string): Promise<void> {
  if (!await hasManifest(c)) return
  const dir = blocksDir(dataDir) // not created: a read-only open changes nothing
  const blocks = (await listBlocks(c)).filter(b => existsSync(join(dir, b.file)))
  for (const sql of viewStatements(dir, blocks, true)) await c.run(sql)
}
