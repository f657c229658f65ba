/**
 * Retention: deletes samples, histograms and exemplars older than the cutoff (head rows one by one,
 * blocks as a whole once their range is past it: blocks/block-retention.ts), metadata not seen
 * since then, and series that have no rows left (and were first seen before the cutoff, so that a
 * series stored a moment ago and not yet sampled again is kept).
 *
 * It runs on the writer's connection between group commits (GroupCommitter.exclusive), so no
 * transaction can add a row for a series while its row is being deleted; the deleted ids are handed
 * back so the writer forgets them (a later sample of such a series stores its row again, same id).
 */
import type { DuckDBConnection } from '@duckdb/node-api'
import { blockSeriesIds, dropExpiredBlocks } from './blocks/block-retention.js'
import type { BlockEntry } from './blocks/block-manifest.js'

export interface RetentionResult {
  readonly cutoffMs: number
  /** Head rows deleted (rows in dropped blocks are counted in blockRows). */
  readonly samples: number
  readonly histograms: number
  readonly exemplars: number
  readonly metadata: number
  /** Ids of the deleted series. */
  readonly seriesIds: number[]
  /** Blocks unlisted: their files are removed once no query may read them. */
  readonly droppedBlocks: BlockEntry[]
  /** Rows in the dropped blocks. */
  readonly blockRows: number
  readonly durationMs: number
}

/** How often retention runs for a given retention period: a tenth of it, from 1 s to 10 min. */
export function retentionInterval (retentionMs: number): number {
  return Math.min(600_000, Math.max(1_000, Math.floor(retentionMs / 10)))
}

async function changed (connection: DuckDBConnection, sql: string, cutoffMs: number): Promise<number> {
  const result = await connection.run(sql, [BigInt(Math.trunc(cutoffMs))])
  return result.rowsChanged
}

/** Deletes what is older than `cutoffMs` (ms since epoch) in one transaction. */
export async function applyRetention (connection: DuckDBConnection, cutoffMs: number, dataDir: string): Promise<RetentionResult> {
  const started = performance.now()
  await connection.run('BEGIN TRANSACTION')
  try {
    const { dropped, kept } = await dropExpiredBlocks(connection, dataDir, cutoffMs)
    const samples = await changed(connection, 'DELETE FROM sample_rows WHERE ts < epoch_ms($1::BIGINT)', cutoffMs)
    const histograms = await changed(connection, 'DELETE FROM histogram_rows WHERE ts < epoch_ms($1::BIGINT)', cutoffMs)
    const exemplars = await changed(connection, 'DELETE FROM exemplar_rows WHERE ts < epoch_ms($1::BIGINT)', cutoffMs)
    const metadata = await changed(connection, 'DELETE FROM metadata WHERE last_seen < epoch_ms($1::BIGINT)', cutoffMs)
    const inBlocks = blockSeriesIds(dataDir, kept)
    const reader = await connection.runAndReadAll(`DELETE FROM series s
      WHERE s.first_seen < epoch_ms($1::BIGINT)
        AND NOT EXISTS (SELECT 1 FROM sample_rows x WHERE x.series_id = s.id)
        AND NOT EXISTS (SELECT 1 FROM histogram_rows h WHERE h.series_id = s.id)
        AND NOT EXISTS (SELECT 1 FROM exemplar_rows e WHERE e.series_id = s.id)
        ${inBlocks === undefined ? '' : `AND s.id NOT IN (${inBlocks})`}
      RETURNING id`, [BigInt(Math.trunc(cutoffMs))])
    const seriesIds = reader.getColumns()[0]?.map(Number) ?? []
    await connection.run('COMMIT')
    return { cutoffMs, samples, histograms, exemplars, metadata, seriesIds, droppedBlocks: dropped, blockRows: dropped.reduce((n, b) => n + b.rows, 0), durationMs: performance.now() - started }
  } catch (err) {
    try { await connection.run('ROLLBACK') } catch { /* already rolled back */ }
    throw err
  }
}
