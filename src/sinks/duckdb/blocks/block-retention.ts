/**
 * Retention over blocks: a block goes as a whole once its whole range is older than the cutoff
 * (so samples older than the retention stay at most one block window longer). Its manifest row
 * and the views change inside retention's transaction; the file is removed after the commit
 * (by the store, once no query that may still read it runs). A crash in between leaves a file
 * the manifest does not list, removed at the next start.
 */
import type { DuckDBConnection } from '@duckdb/node-api'
import { listBlocks, type BlockEntry } from './block-manifest.js'
import { parquetOf } from './block-views.js'
import { rebuildViews } from './compaction.js'
import { blocksDir } from './block-files.js'
import { timestampLiteral } from './block-views.js'

export interface DroppedBlocks {
  /** Blocks unlisted: remove their files after the commit. */
  readonly dropped: BlockEntry[]
  /** Blocks still listed. */
  readonly kept: readonly BlockEntry[]
}

/** Unlists the blocks whose range ends at or before the cutoff and rebuilds the views (inside the caller's transaction). */
export async function dropExpiredBlocks (c: DuckDBConnection, dataDir: string, cutoffMs: number): Promise<DroppedBlocks> {
  const dropped = (await listBlocks(c)).filter(b => b.rangeEndMs <= cutoffMs)
  if (dropped.length > 0) await c.run(`DELETE FROM main.blocks WHERE range_end <= ${timestampLiteral(cutoffMs)}`)
  const kept = dropped.length > 0 ? await rebuildViews(c, dataDir) : await listBlocks(c)
  return { dropped, kept }
}

/** SQL for the series ids that some block still holds (for the deletion of series with nothing left). */
export function blockSeriesIds (dataDir: string, blocks: readonly BlockEntry[]): string | undefined {
  if (blocks.length === 0) return undefined
  return `SELECT DISTINCT series_id FROM ${parquetOf(blocksDir(dataDir), blocks)}`
}
