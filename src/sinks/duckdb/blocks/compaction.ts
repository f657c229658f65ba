/**
 * Compaction: head rows of closed time windows become Parquet blocks.
 *
 * Time is cut into windows of `block-window` (2 h) from the epoch. A window is closed once its end
 * is a quarter of a window in the past (30 min at 2 h; late samples that arrive within it stay in
 * the same block). Each pass (`planCompaction`) counts the head's rows of closed windows per
 * sixtieth of a window, and cuts each window into ranges of at most `maxRows` rows (a window that
 * fits is one range); each range is compacted on its own (`compactRange`), one transaction each:
 *
 * 1. BEGIN (the snapshot: rows committed later are neither copied nor deleted).
 * 2. COPY the range's head rows, each (series_id, ts) once and without those an earlier block of
 *    the range already holds, sorted by series and time, to `blocks/.tmp-<name>`.
 * 3. Sync the file, rename it to `<name>`, sync the directory.
 * 4. List it in the manifest, delete the range's head rows, rebuild the views over the new list.
 * 5. COMMIT: the block, the deletes and the views become visible at once.
 *
 * A crash before 5 leaves the head as it was and at most a file the manifest does not list (removed
 * at start, block-reconcile.ts); after 5 the block is complete and its rows are only in it. So a
 * crash loses nothing and doubles nothing.
 *
 * Late samples (older than a window that already has blocks) land in the head like any sample and
 * are read from there (the views leave out those a block already holds); the next pass compacts
 * them into one more block of the same window.
 *
 * Memory: a range is grouped and sorted by DuckDB within its memory limit (spilling to the temp
 * directory when it must); `maxRows` keeps a range to a size that sorts quickly, so that the
 * transaction (and the WAL, which cannot be checkpointed while it is open) stays short.
 */
import { statSync } from 'node:fs'
import { join } from 'node:path'
import type { DuckDBConnection } from '@duckdb/node-api'
import { TABLES } from '../schema.js'
import { BLOCK_KINDS, blockFileName, ensureBlocksDir, publishFile, removeFile, TEMP_PREFIX, type BlockKind } from './block-files.js'
import { insertBlock, listBlocks, nextBlockId, type BlockEntry } from './block-manifest.js'
import { groupedHead, parquetOf, timestampLiteral, viewStatements } from './block-views.js'

export const HEAD_TABLE: Readonly<Record<BlockKind, string>> = { samples: 'sample_rows', histograms: 'histogram_rows', exemplars: 'exemplar_rows' }

/**
 * How a block is written, measured on a real Prometheus stream (728k samples of 1,428 series,
 * bench/compaction.ts; docs/store.md has the table): timestamps as milliseconds (remote write's
 * unit: the head's microseconds are always whole milliseconds), no dictionaries (PLAIN pages,
 * which ZSTD compresses far better here: sorted by series, each series' timestamps repeat the
 * scrape times of its target, and ZSTD finds them again: 0.30 byte per sample against 0.55 with
 * dictionaries), ZSTD level 9 (level 3: 0.37, level 19: 0.32 at three times the time), row
 * groups of 1M rows for samples (122,880: 0.37); histograms and exemplars carry lists and maps,
 * so their row groups stay DuckDB's default size, which bounds the memory a row group takes.
 */
export function blockCopyOptions (kind: BlockKind): string {
  return `FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 9, DICTIONARY_SIZE_LIMIT 1${kind === 'samples' ? ', ROW_GROUP_SIZE 1048576' : ''}`
}

/** Parts of a window that planning counts rows in: ranges are cut at these boundaries. */
const SLICES_PER_WINDOW = 60

/** When the window holding `ms` ended long enough ago to be compacted: windows before the returned time are closed. */
export function closedBefore (nowMs: number, windowMs: number): number {
  return Math.floor((nowMs - windowMs / 4) / windowMs) * windowMs
}

/** Head rows of a kind with ts in [startMs, endMs), all in the window that starts at windowStartMs. */
export interface CompactionRange {
  readonly kind: BlockKind
  readonly windowStartMs: number
  readonly startMs: number
  readonly endMs: number
  /** Head rows counted when planned (more may have arrived since). */
  readonly rows: number
}

/**
 * The ranges to compact: every window with head rows before `beforeMs` (undefined: every head row),
 * cut into ranges of at most maxRows rows at sixtieths of the window.
 */
export async function planCompaction (c: DuckDBConnection, windowMs: number, maxRows: number, beforeMs?: number): Promise<CompactionRange[]> {
  const slice = Math.max(1, Math.floor(windowMs / SLICES_PER_WINDOW))
  const out: CompactionRange[] = []
  for (const kind of BLOCK_KINDS) {
    const where = beforeMs === undefined ? '' : `WHERE ts < ${timestampLiteral(beforeMs)}`
    const r = await c.runAndReadAll(`SELECT w, (t - w) // ${slice} AS k, count(*) FROM (
        SELECT floor(epoch_ms(ts) / ${windowMs})::BIGINT * ${windowMs} AS w, epoch_ms(ts) AS t FROM ${HEAD_TABLE[kind]} ${where}
      ) GROUP BY ALL ORDER BY w, k`)
    let window: number | undefined
    let start = 0
    let rows = 0
    const close = (end: number): void => {
      if (window !== undefined && rows > 0) out.push({ kind, windowStartMs: window, startMs: start, endMs: end, rows })
    }
    for (const row of r.getRows()) {
      const w = Number(row[0])
      const k = Number(row[1])
      const n = Number(row[2])
      if (w !== window) {
        if (window !== undefined) close(window + windowMs)
        window = w
        start = w
        rows = 0
      } else if (rows > 0 && rows + n > maxRows) {
        close(w + k * slice)
        start = w + k * slice
        rows = 0
      }
      rows += n
    }
    if (window !== undefined) close(window + windowMs)
  }
  return out
}

/** What one compaction step did. */
export interface CompactedRange {
  readonly range: CompactionRange
  /** The block written; undefined when every head row of the range was already in a block. */
  readonly block: BlockEntry | undefined
  /** Head rows deleted (resent duplicates included). */
  readonly headRows: number
  readonly durationMs: number
}

function rangeFilter (r: CompactionRange): string {
  return `ts >= ${timestampLiteral(r.startMs)} AND ts < ${timestampLiteral(r.endMs)}`
}

/** The rows of a range as a block holds them: deduplicated, minus earlier blocks, sorted, timestamps in ms. */
function blockSelect (r: CompactionRange, dir: string, earlier: readonly BlockEntry[]): string {
  const cols = TABLES[r.kind]
  const out = cols.map(([c, type]) => {
    const name = c === 'count' || c === 'sum' || c === 'schema' ? `"${c}"` : c
    return type.startsWith('TIMESTAMP') ? `h.${name}::TIMESTAMP_MS AS ${name}` : `h.${name}`
  }).join(', ')
  const head = r.kind === 'exemplars'
    ? `SELECT * FROM exemplar_rows WHERE ${rangeFilter(r)}`
    : groupedHead(r.kind === 'samples' ? 'sample_rows' : 'histogram_rows', cols, rangeFilter(r))
  // Exemplars are not deduplicated (docs/store-dedup.md), so earlier blocks do not matter to them.
  const anti = r.kind !== 'exemplars' && earlier.length > 0
    ? ` ANTI JOIN ${parquetOf(dir, earlier)} e ON e.series_id = h.series_id AND e.ts = h.ts`
    : ''
  return `SELECT ${out} FROM (${head}) h${anti} ORDER BY h.series_id, h.ts`
}

/** Rebuilds every view over the blocks the manifest lists (inside the caller's transaction). */
export async function rebuildViews (c: DuckDBConnection, dataDir: string, temp = false): Promise<readonly BlockEntry[]> {
  const blocks = await listBlocks(c)
  for (const sql of viewStatements(ensureBlocksDir(dataDir), blocks, temp)) await c.run(sql)
  return blocks
}

/** Compacts one range in one transaction (see the top of this file). */
export async function compactRange (c: DuckDBConnection, dataDir: string, r: CompactionRange): Promise<CompactedRange> {
  const started = performance.now()
  const dir = ensureBlocksDir(dataDir)
  let temp: string | undefined
  await c.run('BEGIN TRANSACTION')
  try {
    const earlier = (await listBlocks(c)).filter(b => b.kind === r.kind && b.rangeStartMs < r.endMs && b.rangeEndMs > r.startMs)
    const id = await nextBlockId(c)
    const name = blockFileName(r.kind, r.startMs, id)
    temp = `${TEMP_PREFIX}${name}`
    const copied = await c.run(`COPY (${blockSelect(r, dir, earlier)}) TO '${join(dir, temp).replace(/'/g, "''")}' (${blockCopyOptions(r.kind)})`)
    const rows = copied.rowsChanged
    let block: BlockEntry | undefined
    if (rows > 0) {
      publishFile(dir, temp, name)
      temp = undefined
      block = { id, kind: r.kind, file: name, windowStartMs: r.windowStartMs, rangeStartMs: r.startMs, rangeEndMs: r.endMs, rows, bytes: statSync(join(dir, name)).size }
      await insertBlock(c, block)
    } else {
      removeFile(join(dir, temp))
      temp = undefined
    }
    const deleted = await c.run(`DELETE FROM ${HEAD_TABLE[r.kind]} WHERE ${rangeFilter(r)}`)
    await rebuildViews(c, dataDir)
    await c.run('COMMIT')
    return { range: r, block, headRows: deleted.rowsChanged, durationMs: performance.now() - started }
  } catch (err) {
    try { await c.run('ROLLBACK') } catch { /* already rolled back */ }
    // A published file stays: had the COMMIT gone through after all, the manifest lists it. If
    // not, it is an orphan, removed at the next start (block-reconcile.ts) or replaced by the
    // next block of the same id.
    if (temp !== undefined) removeFile(join(dir, temp))
    throw err
  }
}

/** What a compaction pass did. */
export interface CompactionResult {
  readonly ranges: number
  readonly blocks: number
  /** Rows written to blocks. */
  readonly rows: number
  /** Head rows deleted (rows + resent duplicates). */
  readonly headRows: number
  /** Bytes of the blocks written. */
  readonly bytes: number
  readonly durationMs: number
}

export interface CompactionPass {
  readonly windowMs: number
  readonly maxRows: number
  /** Compact head rows before this time (undefined: every head row, the open window too). */
  readonly beforeMs: number | undefined
  /** Called after each range; false stops the pass (the store is closing). */
  readonly onRange?: (done: CompactedRange) => boolean
}

/** Plans and compacts, one range (one transaction) at a time. */
export async function runCompaction (c: DuckDBConnection, dataDir: string, p: CompactionPass): Promise<CompactionResult> {
  const started = performance.now()
  const ranges = await planCompaction(c, p.windowMs, p.maxRows, p.beforeMs)
  let blocks = 0
  let rows = 0
  let headRows = 0
  let bytes = 0
  let done = 0
  for (const r of ranges) {
    const d = await compactRange(c, dataDir, r)
    done++
    headRows += d.headRows
    if (d.block !== undefined) {
      blocks++
      rows += d.block.rows
      bytes += d.block.bytes
    }
    if (p.onRange?.(d) === false) break
  }
  return { ranges: done, blocks, rows, headRows, bytes, durationMs: performance.now() - started }
}
